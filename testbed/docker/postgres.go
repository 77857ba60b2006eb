package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/mscli/mscli/fixtures/images"
)

// PostgresBuild configures BuildPostgresImage.
type PostgresBuild struct {
	// Ref is the tag to build; "" means images.OfflinePostgres.
	Ref string
	// Version is the mscli version recorded in the image's labels.
	Version string
	// Mirror is the Debian mirror; "" means the recipe's (deb.debian.org).
	Mirror string
	// WorkDir is where the root filesystem is assembled (about 700 MB while packages
	// are unpacked); "" means the system's temporary directory.
	WorkDir string
	// Progress receives one line per step, with its duration.
	Progress func(string)
	// Output, if set, receives everything debootstrap and apt-get print. Without it
	// only the last lines of a failing command are kept, for its error.
	Output io.Writer
	// Force builds even when the engine has an image of the same recipe.
	Force bool
}

// importRootfs sends a root filesystem tar stream to the engine as an untagged image
// (`docker import`) and returns its id.
func (e *engine) importRootfs(ctx context.Context, rootfs io.Reader, message string) (string, error) {
	res, err := e.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, "", client.ImageImportOptions{Message: message})
	if err != nil {
		return "", fmt.Errorf("import the root filesystem: %w", err)
	}
	defer res.Close()
	dec := json.NewDecoder(res)
	var id string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("import the root filesystem: read the engine's answer: %w", err)
		}
		if m.Error != nil {
			return "", fmt.Errorf("import the root filesystem: %s", m.Error.Message)
		}
		if s := strings.TrimSpace(m.Status); strings.HasPrefix(s, "sha256:") {
			id = s
		}
	}
	if id == "" {
		return "", errors.New("import the root filesystem: the engine did not say which image it made")
	}
	return id, nil
}

// finishPostgres builds the final image FROM the imported root filesystem and removes
// what an earlier build of the same tag leaves untagged.
func (e *engine) finishPostgres(ctx context.Context, b PostgresBuild, base string) (Image, error) {
	old, err := e.inspectImage(ctx, b.Ref)
	if err != nil {
		return Image{}, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(images.Postgres.WritePostgresContext(pw, base)) }()
	if err := e.build(ctx, pr, b.Ref, images.Postgres.PostgresLabels(b.Version), nil); err != nil {
		return Image{}, err
	}
	img, err := e.inspectImage(ctx, b.Ref)
	if err != nil {
		return Image{}, err
	}
	if old.Present && old.ID != img.ID {
		e.removeIfUntagged(ctx, old.ID)
	}
	return img, nil
}

// step times one step of a long build for its progress line.
func step(progress func(string), what string, fn func() error) error {
	say(progress, "%s …", what)
	began := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	say(progress, "%s: done in %s", what, time.Since(began).Round(100*time.Millisecond))
	return nil
}

// tailBuffer keeps the last lines written to it: a failing apt-get's reason is at the
// end of thousands of lines.
type tailBuffer struct {
	mu    sync.Mutex
	lines [][]byte
	part  []byte
	max   int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	data := append(t.part, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, append([]byte(nil), data[:i]...))
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
		data = data[i+1:]
	}
	t.part = append([]byte(nil), data...)
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := bytes.Join(t.lines, []byte("\n"))
	if len(t.part) > 0 {
		out = append(append(out, '\n'), t.part...)
	}
	return string(out)
}

// BuildPostgresImage builds the offline PostgreSQL image with no registry at all:
// debootstrap a minimal Debian root filesystem from the Debian mirror, install
// Debian's postgresql package into it, prune what a test database never reads,
// `docker import` it and add on top the entrypoint and a template cluster made by
// initdb (the entrypoint's first start copies it, honouring POSTGRES_USER/PASSWORD/DB
// as the official image does). It needs root (chroot) and debootstrap (`apt-get
// install debootstrap`). An image of the same recipe already there is kept unless
// b.Force.
func BuildPostgresImage(ctx context.Context, b PostgresBuild) (Image, error) {
	r := images.Postgres
	if b.Ref == "" {
		b.Ref = images.OfflinePostgres
	}
	if b.Mirror == "" {
		b.Mirror = r.Mirror
	}
	if !b.Force {
		img, err := InspectImage(ctx, b.Ref)
		switch {
		case err == nil && img.Present && img.Labels[images.LabelRecipe] == r.RecipeID():
			say(b.Progress, "%s is up to date (recipe %s): not rebuilt", b.Ref, r.RecipeID())
			return img, nil
		case err == nil && img.Present && os.Geteuid() != 0:
			// It works, only slower to start than this recipe's: keep it rather than fail.
			say(b.Progress, "%s was built by another recipe (it starts slower); rebuilding needs root: sudo mscli images build --postgres", b.Ref)
			return img, nil
		}
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return Image{}, errors.New("building the PostgreSQL image needs debootstrap: apt-get install debootstrap (make deps installs it)")
	}
	if os.Geteuid() != 0 {
		return Image{}, errors.New("building the PostgreSQL image needs root (debootstrap and chroot): run it with sudo")
	}
	e, err := connect(ctx)
	if err != nil {
		return Image{}, err
	}
	defer e.Close()
	work, err := os.MkdirTemp(b.WorkDir, "mscli-postgres-rootfs-")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "rootfs")
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
		tail := &tailBuffer{max: 40}
		var w io.Writer = tail
		if b.Output != nil {
			w = io.MultiWriter(tail, b.Output)
		}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail.String())
		}
		return nil
	}
	chroot := func(args ...string) error { return run("chroot", append([]string{root}, args...)...) }
	began := time.Now()
	steps := []struct {
		what string
		fn   func() error
	}{
		{"debootstrap " + r.Suite + " (minbase) from " + b.Mirror, func() error {
			return run("debootstrap", "--variant=minbase", r.Suite, root, b.Mirror)
		}},
		{"install " + r.Common + " and " + r.Server, func() error {
			// No service may start inside the chroot.
			if err := os.WriteFile(filepath.Join(root, "usr/sbin/policy-rc.d"), []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
				return err
			}
			if resolv, err := os.ReadFile("/etc/resolv.conf"); err == nil {
				_ = os.WriteFile(filepath.Join(root, "etc/resolv.conf"), resolv, 0o644)
			}
			if err := chroot("apt-get", "install", "-y", "-qq", "--no-install-recommends", r.Common); err != nil {
				return err
			}
			conf := filepath.Join(root, "etc/postgresql-common/createcluster.conf")
			data, err := os.ReadFile(conf)
			if err != nil {
				return err
			}
			lines := strings.Split(string(data), "\n")
			for i, l := range lines {
				if strings.Contains(l, "create_main_cluster") {
					lines[i] = "create_main_cluster = false"
				}
			}
			if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				return err
			}
			if err := chroot("apt-get", "install", "-y", "-qq", "--no-install-recommends", r.Server); err != nil {
				return err
			}
			return os.Remove(filepath.Join(root, "usr/sbin/policy-rc.d"))
		}},
		{"prune caches and documentation", func() error {
			for _, p := range r.Prune {
				dir := filepath.Join(root, p)
				entries, _ := os.ReadDir(dir)
				for _, en := range entries {
					if err := os.RemoveAll(filepath.Join(dir, en.Name())); err != nil {
						return err
					}
				}
			}
			return nil
		}},
	}
	for _, s := range steps {
		if err := step(b.Progress, s.what, s.fn); err != nil {
			return Image{}, err
		}
	}
	var base string
	if err := step(b.Progress, "docker import of the root filesystem", func() error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(tarDir(pw, root)) }()
		var err error
		base, err = e.importRootfs(ctx, pr, "mscli images build --postgres: debian "+r.Suite+" "+r.Server)
		return err
	}); err != nil {
		return Image{}, err
	}
	var img Image
	if err := step(b.Progress, "build "+b.Ref, func() error {
		var err error
		img, err = e.finishPostgres(ctx, b, base)
		return err
	}); err != nil {
		return Image{}, err
	}
	e.removeIfUntagged(ctx, base)
	say(b.Progress, "built %s (%s, %d MiB) in %s", b.Ref, shortID(img.ID), img.Size>>20, time.Since(began).Round(time.Second))
	return img, nil
}

// tarDir writes a directory tree as a tar stream, keeping owners, modes and links.
func tarDir(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() && fi.Mode()&os.ModeSymlink == 0 {
			return nil // devices, sockets, fifos: an image gets its own /dev
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
