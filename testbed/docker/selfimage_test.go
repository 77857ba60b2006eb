package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mscli/mscli/testbed/docker"
)

// A binary no image was built from gets one on its first docker run, built from the
// binary itself, instead of an error that sends the user to 'mscli images build'.
func TestImageBuiltWhenMissing(t *testing.T) {
	if bin == "" {
		t.Skip("no Docker engine")
	}
	// Another binary: the same bytes and a few more, so its digest is new.
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "mscli")
	if err := os.WriteFile(other, append(data, []byte("\nanother build\n")...), 0o755); err != nil {
		t.Fatal(err)
	}
	var said []string
	ref, err := docker.ResolveMscli(context.Background(), other, func(s string) { said = append(said, s) })
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", ref).Run() })
	if !strings.HasPrefix(ref, "mscli:sha256-") || !strings.Contains(strings.Join(said, "\n"), "building it") {
		t.Errorf("image %q, progress %q: want one built and tagged by the binary's digest", ref, said)
	}
	again, err := docker.ResolveMscli(context.Background(), other, nil)
	if err != nil || again != ref {
		t.Errorf("second resolve: %q, %v; want the image built the first time, %q", again, err, ref)
	}
}
