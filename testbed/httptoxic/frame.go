package httptoxic

import (
	"bytes"
	"net/http"
	"strconv"
)

// phase is where a Rewriter is in the stream of responses.
type phase uint8

const (
	phaseStatus    phase = iota // a status line: held back until it is complete
	phaseHeaders                // header lines, passed on as they come
	phaseBody                   // the rest of a Content-Length body
	phaseChunkSize              // a chunk-size line
	phaseChunkData              // the rest of a chunk's data
	phaseChunkEnd               // the line break after a chunk's data
	phaseTrailer                // the trailer lines after the last chunk
	phaseRaw                    // everything passes as it is until the connection ends
)

// Bounds on the lines a Rewriter keeps to parse: a longer line is not HTTP as any
// server sends it, and the rest of the stream passes raw.
const (
	maxStatusLine = 4 << 10
	maxChunkLine  = 4 << 10
	maxHeaderLine = 64 << 10
)

// Rewriter follows the HTTP/1.1 responses of one connection through its byte stream and
// rewrites the status line of those its caller picks. Everything else passes unchanged,
// so the framing (Content-Length, chunked, the trailer) stays valid and a keep-alive
// connection goes on. A response it cannot frame — no Content-Length and not chunked —
// passes raw until the connection ends, as does anything that is not HTTP, and what
// follows a 101 (another protocol). It sees only the responses, so it takes a response
// to a HEAD request for one with a body: its framing is then lost, and the stream passes
// raw as soon as that shows.
type Rewriter struct {
	phase  phase
	line   []byte // the line being read, a copy kept to parse it
	sent   int    // how much of the status line in line has been passed on (Flush)
	remain int64  // bytes of body or chunk data still to pass

	// The response whose head is being read.
	interim bool  // 1xx: the final response follows
	noBody  bool  // 204 and 304 have no body, whatever the headers say
	length  int64 // Content-Length, -1 when none
	coded   bool  // a Transfer-Encoding was given
	chunked bool  // and its last coding is chunked
}

// Feed takes the next bytes of the stream and returns what to pass on now: the same
// bytes, except that a status line is held back until it is complete. pick is called
// once per final response but a 304 (1xx and 304 responses pass as they are), when its
// status line is complete; it returns the status to answer instead, or 0 to leave the
// response alone. A 204 answered with another status gets a "Content-Length: 0".
func (r *Rewriter) Feed(p []byte, pick func() int) []byte {
	out := make([]byte, 0, len(p)+64)
	for len(p) > 0 {
		switch r.phase {
		case phaseRaw:
			out, p = append(out, p...), nil
		case phaseBody, phaseChunkData:
			n := int(min(int64(len(p)), r.remain))
			out, p = append(out, p[:n]...), p[n:]
			if r.remain -= int64(n); r.remain > 0 {
				continue
			}
			if r.phase == phaseBody {
				r.phase = phaseStatus
			} else {
				r.phase = phaseChunkEnd
			}
		case phaseStatus:
			var complete bool
			p, complete = r.scan(p)
			if !statusPrefix(r.line) || len(r.line) > maxStatusLine {
				out = r.raw(out)
				continue
			}
			if !complete {
				// After a Flush this response passes unchanged: hold nothing back.
				if r.sent > 0 {
					out = append(out, r.line[r.sent:]...)
					r.sent = len(r.line)
				}
				continue
			}
			out = r.status(out, pick)
		default:
			// Lines of the head, the chunks and the trailer pass on as they come.
			rest, _ := r.scan(p)
			out, p = append(out, p[:len(p)-len(rest)]...), rest
			r.frameLine()
		}
	}
	return out
}

// Flush returns, unchanged, the bytes Feed holds back (part of a status line), for a
// toxic that must stop with nothing lost; that response then passes as it is.
func (r *Rewriter) Flush() []byte {
	if r.phase != phaseStatus || r.sent == len(r.line) {
		return nil
	}
	held := bytes.Clone(r.line[r.sent:])
	r.sent = len(r.line)
	return held
}

// scan appends p to the line being read, up to and including the first '\n', and
// returns the rest of p and whether the line is complete.
func (r *Rewriter) scan(p []byte) ([]byte, bool) {
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		r.line = append(r.line, p[:i+1]...)
		return p[i+1:], true
	}
	r.line = append(r.line, p...)
	return nil, false
}

// frameLine deals with the line of the head, the chunks or the trailer that scan is
// reading: a complete one moves the framing on; one that does not parse, or is too
// long, sends the stream raw.
func (r *Rewriter) frameLine() {
	limit := maxHeaderLine
	switch r.phase {
	case phaseChunkSize:
		limit = maxChunkLine
	case phaseChunkEnd:
		limit = 2
	}
	if len(r.line) > limit {
		r.phase, r.line = phaseRaw, nil
		return
	}
	if r.line[len(r.line)-1] != '\n' {
		return
	}
	line := trimEOL(r.line)
	ok := true
	switch r.phase {
	case phaseHeaders:
		if len(line) == 0 {
			r.endOfHead()
		} else {
			ok = r.header(line)
		}
	case phaseChunkSize:
		var size int64
		if size, ok = chunkSize(line); ok {
			r.phase, r.remain = phaseChunkData, size
			if size == 0 {
				r.phase = phaseTrailer
			}
		}
	case phaseChunkEnd:
		ok = len(line) == 0
		r.phase = phaseChunkSize
	case phaseTrailer:
		if len(line) == 0 {
			r.phase = phaseStatus
		}
	}
	r.line = r.line[:0]
	if !ok {
		r.phase, r.line = phaseRaw, nil
	}
}

// status deals with a complete status line: it passes it on, rewritten if pick says
// so, and starts reading the response's head.
func (r *Rewriter) status(out []byte, pick func() int) []byte {
	code, ok := statusCode(r.line)
	if !ok {
		return r.raw(out)
	}
	r.interim, r.noBody = code < 200, code == http.StatusNoContent || code == http.StatusNotModified
	r.length, r.coded, r.chunked = -1, false, false
	line := r.line[r.sent:]
	// A 304 passes as it is: it may carry the Content-Length of what it stands for,
	// which under another status would frame a body that is not there.
	if code >= 200 && code != http.StatusNotModified && r.sent == 0 {
		if s := pick(); s != 0 {
			line = statusLine(r.line[:len("HTTP/1.x")], s)
			if code == http.StatusNoContent {
				// A 204 has no Content-Length (a server must not send one) and no
				// body; under another status the caller would read one to the end of
				// the connection, so it gets an empty one.
				line = append(line, "Content-Length: 0\r\n"...)
			}
		}
	}
	out = append(out, line...)
	r.line, r.sent, r.phase = r.line[:0], 0, phaseHeaders
	if code == http.StatusSwitchingProtocols {
		r.phase, r.line = phaseRaw, nil
	}
	return out
}

// raw passes on what is held back and everything after it unchanged.
func (r *Rewriter) raw(out []byte) []byte {
	if r.phase == phaseStatus {
		out = append(out, r.line[r.sent:]...)
	}
	r.phase, r.line, r.sent = phaseRaw, nil, 0
	return out
}

// header reads one header line of a response's head; false when it does not parse.
func (r *Rewriter) header(line []byte) bool {
	if line[0] == ' ' || line[0] == '\t' {
		return true // an obsolete folded continuation: neither framing header uses one
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return false
	}
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		// A list of equal values is one length; different ones frame nothing.
		for v := range bytes.SplitSeq(value, []byte(",")) {
			n, ok := digits(bytes.Trim(v, " \t"))
			if !ok || (r.length >= 0 && r.length != n) {
				return false
			}
			r.length = n
		}
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		// The last coding decides: chunked last frames the body, anything else leaves
		// it to the end of the connection.
		for v := range bytes.SplitSeq(value, []byte(",")) {
			if c := bytes.Trim(v, " \t"); len(c) > 0 {
				r.coded, r.chunked = true, bytes.EqualFold(c, []byte("chunked"))
			}
		}
	}
	return true
}

// endOfHead frames the body once the head's empty line is read.
func (r *Rewriter) endOfHead() {
	switch {
	case r.interim, r.noBody:
		r.phase = phaseStatus
	case r.coded && r.chunked:
		r.phase = phaseChunkSize
	case r.coded:
		r.phase = phaseRaw // a body that ends with the connection
	case r.length > 0:
		r.phase, r.remain = phaseBody, r.length
	case r.length == 0:
		r.phase = phaseStatus
	default:
		r.phase = phaseRaw // no length: the body ends with the connection
	}
}

// statusPrefix says whether line can be the start of an HTTP/1 status line.
func statusPrefix(line []byte) bool {
	const p = "HTTP/1."
	n := min(len(line), len(p))
	return string(line[:n]) == p[:n]
}

// statusCode reads "HTTP/1.x NNN[ reason]" and its line break.
func statusCode(line []byte) (int, bool) {
	l := trimEOL(line)
	if len(l) < 12 || l[7] < '0' || l[7] > '9' || l[8] != ' ' || (len(l) > 12 && l[12] != ' ') {
		return 0, false
	}
	code, ok := digits(l[9:12])
	return int(code), ok && code >= 100
}

// statusLine is the status line that answers status, in the given HTTP version.
func statusLine(version []byte, status int) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	return []byte(string(version) + " " + strconv.Itoa(status) + " " + text + "\r\n")
}

// chunkSize reads a chunk-size line: hexadecimal digits, then extensions after ';'.
func chunkSize(line []byte) (int64, bool) {
	size, _, _ := bytes.Cut(line, []byte(";"))
	size = bytes.Trim(size, " \t")
	if len(size) == 0 || len(size) > 15 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(size), 16, 64)
	return int64(n), err == nil
}

// digits reads a non-negative decimal number of at most 18 digits.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// trimEOL drops a line's '\n' and the '\r' before it.
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
