package history

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// readChunk is how much of a record file is read at a time: a million operations'
// files are half a gigabyte, read through a buffer that stays in the processor's
// cache.
//
// The files are read, not mapped. Mapped, the pages of the page cache come through
// page-table entries made for the mapping, and what the first touch of each costs
// depends on the machine: on one virtual machine here counting the lines of a
// mapped 240 MB history took 100–120 ms where read(2) into this buffer took 17–25
// ms, and decoding a million operations' history 0.83–1.17 s mapped against
// 0.76–0.90 s read (effects: 0.75–1.14 against 0.68–0.77 s). Reading costs a copy
// into the buffer wherever it runs, at the memory's speed.
const readChunk = 1 << 20

// fileLines is an open record file and the count of its lines (an upper bound of its
// records), counted by a first read of the file, which saves growing the records by
// copies (that for a moment doubled the memory of a large load).
type fileLines struct {
	f     *os.File
	buf   []byte // readChunk bytes, for the count and then the lines
	lines int
}

func openLines(path string) (*fileLines, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fl := &fileLines{f: f, buf: make([]byte, readChunk)}
	if fl.lines, err = countLines(f, fl.buf); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fl, nil
}

func (fl *fileLines) each(each func([]byte) error) error { return eachLineBuf(fl.f, fl.buf, each) }

func (fl *fileLines) close() { fl.f.Close() }

// countLines is the number of lines of r, the last one counted whether a newline
// ends it or not, read into buf.
func countLines(r io.Reader, buf []byte) (int, error) {
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n + 1, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// eachLine hands every line of r but blank ones to each, in order, and stops at the
// first error: a *TornLine when that line is the last and has no newline, else an
// error naming the line.
func eachLine(r io.Reader, each func([]byte) error) error {
	return eachLineBuf(r, make([]byte, 64<<10), each)
}

// eachLineBuf is eachLine reading into buf, which it grows (to maxLine at most) to
// hold a line longer than it. The lines are handed out of buf: each must not keep
// one past its call. A read that fails is an error naming the line it stopped in,
// even when part of that line was read (a partial line is no torn line: the file may
// go on); a reader that returns nothing many times in a row is io.ErrNoProgress, as
// for bufio.Scanner.
func eachLineBuf(r io.Reader, buf []byte, each func([]byte) error) error {
	if len(buf) == 0 {
		buf = make([]byte, 4<<10)
	}
	line, have, empty := 0, 0, 0
	for {
		k, err := r.Read(buf[have:])
		have += k
		// What was kept of the last read holds no newline: only what this one read can.
		if end := bytes.LastIndexByte(buf[have-k:have], '\n'); end >= 0 {
			end += have - k
			if err := eachLineIn(buf[:end+1], &line, each); err != nil {
				return err
			}
			have = copy(buf, buf[end+1:have])
		}
		if k > 0 {
			empty = 0
		} else if empty++; empty == maxEmptyReads && err == nil {
			err = io.ErrNoProgress
		}
		switch {
		case err == io.EOF:
			return eachLineIn(buf[:have], &line, each) // the last line, if no newline ends it
		case err != nil:
			return fmt.Errorf("line %d: %w", line+1, err)
		case have == len(buf) && have >= maxLine:
			// A buffer of maxLine holds a line shorter than it, and its newline.
			return tooLong(line + 1)
		case have == len(buf):
			buf = append(buf, make([]byte, min(len(buf), maxLine-len(buf)))...)
		}
	}
}

// maxEmptyReads is how many reads in a row may return no bytes and no error before
// eachLineBuf gives up on the reader (bufio.Scanner's bound).
const maxEmptyReads = 100

// eachLineIn hands every line of data but blank ones to each, numbering them on
// from *line: a trailing carriage return dropped, a *TornLine for a last line that has
// no newline and does not decode, an error for a line of maxLine or more.
func eachLineIn(data []byte, line *int, each func([]byte) error) error {
	for len(data) > 0 {
		*line++
		var b []byte
		n := bytes.IndexByte(data, '\n')
		unterminated := n < 0
		if unterminated {
			b, data = data, nil
		} else {
			b, data = data[:n], data[n+1:]
		}
		if len(b) >= maxLine {
			return tooLong(*line)
		}
		if k := len(b); k > 0 && b[k-1] == '\r' {
			b = b[:k-1]
		}
		if err := handOut(each, b, *line, unterminated); err != nil {
			return err
		}
	}
	return nil
}

// handOut hands line number line, b, to each unless it is blank; its error names the
// line, a *TornLine when the line is the last and has no newline.
func handOut(each func([]byte) error, b []byte, line int, unterminated bool) error {
	if len(b) == 0 {
		return nil
	}
	if err := each(b); err != nil {
		if unterminated {
			return &TornLine{Line: line, Err: err}
		}
		return fmt.Errorf("line %d: %w", line, err)
	}
	return nil
}

// maxLine bounds a line Read reads: its buffer grows to it, never more.
const maxLine = 16 << 20

// tooLong is the error for line number line, of maxLine bytes or more.
func tooLong(line int) error {
	return fmt.Errorf("line %d: longer than %d MiB, the most a record may be", line, maxLine>>20)
}
