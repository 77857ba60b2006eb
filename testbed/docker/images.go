package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/plan"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/mscli/mscli/fixtures/images"
)

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// Image is what the engine holds under a reference.
type Image struct {
	Ref     string
	Present bool
	ID      string
	Tags    []string
	Size    int64
	Created time.Time
	Labels  map[string]string
	// Exposed are the ports the image declares (EXPOSE), "8080/tcp".
	Exposed []string
}

// InspectImage looks an image up on the engine; a missing image is Present false, not
// an error.
func InspectImage(ctx context.Context, ref string) (Image, error) {
	e, err := connect(ctx)
	if err != nil {
		return Image{Ref: ref}, err
	}
	defer e.Close()
	return e.inspectImage(ctx, ref)
}

func (e *engine) inspectImage(ctx context.Context, ref string) (Image, error) {
	res, err := e.ImageInspect(ctx, ref)
	if isNotFound(err) {
		return Image{Ref: ref}, nil
	}
	if err != nil {
		return Image{Ref: ref}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	img := Image{Ref: ref, Present: true, ID: res.ID, Tags: res.RepoTags, Size: res.Size}
	img.Created, _ = time.Parse(time.RFC3339Nano, res.Created)
	if res.Config != nil {
		img.Labels = res.Config.Labels
		for p := range res.Config.ExposedPorts {
			img.Exposed = append(img.Exposed, p)
		}
		sort.Strings(img.Exposed)
	}
	return img, nil
}

// imageOfBinary finds the newest image labelled with the binary's digest.
func (e *engine) imageOfBinary(ctx context.Context, sha string) (Image, error) {
	res, err := e.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", images.LabelBinary+"="+sha)})
	if err != nil {
		return Image{}, fmt.Errorf("list images: %w", err)
	}
	if len(res.Items) == 0 {
		return Image{}, nil
	}
	// The newest tagged one: two builds of one binary at once (two runs of a suite, two
	// CI jobs) leave the first without its tag ("<none>:<none>" on older engines), and
	// the second may remove it.
	tags := func(i int) []string {
		var out []string
		for _, t := range res.Items[i].RepoTags {
			if t != "<none>:<none>" {
				out = append(out, t)
			}
		}
		return out
	}
	sort.Slice(res.Items, func(i, j int) bool {
		if ti, tj := len(tags(i)) > 0, len(tags(j)) > 0; ti != tj {
			return ti
		}
		return res.Items[i].Created > res.Items[j].Created
	})
	s, t := res.Items[0], tags(0)
	ref := s.ID
	if len(t) > 0 {
		ref = t[0]
	}
	return Image{Ref: ref, Present: true, ID: s.ID, Tags: t, Size: s.Size, Created: time.Unix(s.Created, 0), Labels: s.Labels}, nil
}

// BuildMscliImage builds mscli's image, tagged ref (images.MscliImage(version)), from
// the static binary at path, and labels it with the binary's digest: that label is how
// a run finds the image of the binary it runs. progress, if set, receives the build's
// steps. An image the tag pointed to before, left without a tag, is removed.
func BuildMscliImage(ctx context.Context, binary, ref, version string, progress func(string)) (Image, error) {
	bin, err := images.ReadBinary(binary)
	if err != nil {
		return Image{}, err
	}
	e, err := connect(ctx)
	if err != nil {
		return Image{}, err
	}
	defer e.Close()
	return e.buildMscli(ctx, bin, ref, version, progress)
}

func (e *engine) buildMscli(ctx context.Context, bin images.Binary, ref, version string, progress func(string)) (Image, error) {
	binary := bin.Path
	v, err := e.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return Image{}, fmt.Errorf("docker: engine version: %w", err)
	}
	if v.Arch != "" && v.Arch != bin.Arch {
		return Image{}, fmt.Errorf("mscli binary %s is for %s, the Docker engine runs %s: build it with GOARCH=%s CGO_ENABLED=0", binary, bin.Arch, v.Arch, v.Arch)
	}
	old, err := e.inspectImage(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	say(progress, "building %s from %s (%d MiB, sha256 %.12s)", ref, binary, bin.Size>>20, bin.SHA256)
	began := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(images.WriteMscliContext(pw, bin)) }()
	if err := e.build(ctx, pr, ref, images.MscliLabels(bin, version), progress); err != nil {
		return Image{}, err
	}
	img, err := e.inspectImage(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	say(progress, "built %s (%s) in %s", ref, shortID(img.ID), time.Since(began).Round(time.Millisecond))
	if old.Present && old.ID != img.ID {
		e.removeIfUntagged(ctx, old.ID)
	}
	return img, nil
}

// removeIfUntagged removes an image nothing names any more (a previous build of the
// same tag), so rebuilding the image of every new binary does not pile them up. An
// image a container still uses stays.
func (e *engine) removeIfUntagged(ctx context.Context, id string) {
	img, err := e.inspectImage(ctx, id)
	if err != nil || !img.Present || len(img.Tags) > 0 {
		return
	}
	e.ImageRemove(ctx, id, client.ImageRemoveOptions{PruneChildren: true})
}

// build runs a classic-builder build (BuildKit needs a session the engine of an
// offline CI may not offer, and the images here need nothing it adds) and turns the
// JSON stream into progress lines and an error.
func (e *engine) build(ctx context.Context, buildContext io.Reader, ref string, labels map[string]string, progress func(string)) error {
	res, err := e.ImageBuild(ctx, buildContext, client.ImageBuildOptions{
		Tags: []string{ref}, Labels: labels, Remove: true, ForceRemove: true,
		Version: build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", ref, err)
	}
	defer res.Body.Close()
	if err := readStream(res.Body, progress); err != nil {
		return fmt.Errorf("build %s: %w", ref, err)
	}
	return nil
}

// readStream reads the engine's JSON message stream (build, import, pull) and returns
// the error it reports, if any.
func readStream(r io.Reader, progress func(string)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the engine's answer: %w", err)
		}
		if m.Error != nil {
			return errors.New(strings.TrimSpace(m.Error.Message))
		}
		if line := strings.TrimSpace(m.Stream); line != "" && !strings.HasPrefix(line, "---> ") {
			say(progress, "  %s", line)
		}
	}
}

// pull pulls ref, for the images mscli does not build itself (the official Postgres
// image where a registry is reachable).
func (e *engine) pull(ctx context.Context, ref string, progress func(string)) error {
	say(progress, "pulling %s", ref)
	res, err := e.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer res.Close()
	return res.Wait(ctx)
}

func say(progress func(string), format string, args ...any) {
	if progress != nil {
		progress(fmt.Sprintf(format, args...))
	}
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// PostgresEnv names the variable that chooses the Postgres image when Options do not.
const PostgresEnv = "MSCLI_POSTGRES_IMAGE"

// resolvePostgres picks the Postgres image of a run: the one asked for (Options, then
// $MSCLI_POSTGRES_IMAGE), else the official image if the engine has it, else the
// offline one if it was built, else the official one pulled. The error of an image
// that is neither here nor pullable names the command that builds one.
func (e *engine) resolvePostgres(ctx context.Context, asked string, pull bool, progress func(string)) (string, error) {
	if asked == "" {
		asked = os.Getenv(PostgresEnv)
	}
	candidates := []string{asked}
	if asked == "" {
		candidates = []string{images.OfficialPostgres, images.OfflinePostgres}
	}
	for _, ref := range candidates {
		img, err := e.inspectImage(ctx, ref)
		if err != nil {
			return "", err
		}
		if img.Present {
			return ref, nil
		}
	}
	want := candidates[0]
	if !pull {
		return want, missingPostgres(want, asked, nil)
	}
	if err := e.pull(ctx, want, progress); err != nil {
		return want, missingPostgres(want, asked, err)
	}
	return want, nil
}

// MissingImageError is a needed image that is neither on the engine nor obtainable; it
// names the command that builds one.
type MissingImageError struct {
	Ref   string
	Build string // the command that builds it
	Why   string
	Err   error // the pull's error, if one was tried
}

func (e *MissingImageError) Error() string {
	msg := fmt.Sprintf("image %s is missing: %s; build it with '%s'", e.Ref, e.Why, e.Build)
	if e.Err != nil {
		msg += fmt.Sprintf(" (pull: %v)", e.Err)
	}
	return msg
}

func (e *MissingImageError) Unwrap() error { return e.Err }

func missingPostgres(ref, asked string, pullErr error) error {
	why := "the engine does not have it"
	build := images.BuildPostgresCommand
	if asked == "" {
		why = fmt.Sprintf("no PostgreSQL image here (neither %s nor the offline %s)", images.OfficialPostgres, images.OfflinePostgres)
		ref = images.OfflinePostgres
	} else if asked != images.OfflinePostgres {
		build += " (it makes " + images.OfflinePostgres + "; then pass that image)"
	}
	return &MissingImageError{Ref: ref, Build: build, Why: why, Err: pullErr}
}

// resolveMscli picks the image the Go roles run from: the one asked for, else the
// image built from the binary (found by its digest label).
var buildMu sync.Mutex

func (e *engine) resolveMscli(ctx context.Context, asked string, bin images.Binary, progress func(string)) (string, error) {
	if asked != "" {
		img, err := e.inspectImage(ctx, asked)
		if err != nil {
			return "", err
		}
		if !img.Present {
			return "", &MissingImageError{Ref: asked, Build: images.BuildMscliCommand, Why: "the engine does not have it"}
		}
		if d := img.Labels[images.LabelBinary]; d != bin.SHA256 {
			say(progress, "warning: %s was not built from %s (image binary sha256 %.12s, this one %.12s): rebuild it with '%s'", asked, bin.Path, d, bin.SHA256, images.BuildMscliCommand)
		}
		return asked, nil
	}
	// One build at a time in this process: the runs of a suite that start together
	// would each build the same image, and each build untags the one before.
	buildMu.Lock()
	defer buildMu.Unlock()
	img, err := e.imageOfBinary(ctx, bin.SHA256)
	if err != nil {
		return "", err
	}
	if img.Present {
		return img.Ref, nil
	}
	// None yet: built here from the running binary, as 'mscli images build' would (FROM
	// scratch, offline, a few seconds), tagged by the binary's digest.
	tag := "sha256-" + bin.SHA256[:12]
	say(progress, "no image was built from %s yet: building it", bin.Path)
	built, err := e.buildMscli(ctx, bin, images.MscliImage(tag), tag, progress)
	if err != nil {
		return "", fmt.Errorf("building the image of %s (or run '%s'): %w", bin.Path, images.BuildMscliCommand, err)
	}
	return built.Ref, nil
}

// Need is one image a scenario needs on this engine.
type Need struct {
	Ref     string
	Role    string // what runs from it
	Present bool
	ID      string
	Size    int64
	Build   string // the command that builds it
	Note    string // why it is not what it should be, if so
}

// NeedsOptions say which images Needs checks.
type NeedsOptions struct {
	// Mscli is mscli's image for this version (images.MscliImage(version)).
	Mscli string
	// Binary, if set, is the mscli binary the image should hold: an image built from
	// another one is flagged.
	Binary string
	// PostgresImage is the Postgres image asked for; "" resolves as a run does, without
	// pulling.
	PostgresImage string
}

// Needs lists the images a plan needs on this engine — mscli's image always, the image
// of each service of the user's, a Postgres image when a service declares `database:
// postgres` — and whether the engine has them. With a nil plan it lists both.
func Needs(ctx context.Context, pl *plan.Plan, o NeedsOptions) ([]Need, error) {
	e, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	img, err := e.inspectImage(ctx, o.Mscli)
	if err != nil {
		return nil, err
	}
	m := Need{Ref: o.Mscli, Role: "broker, toxiproxy and the fixtures", Present: img.Present, ID: shortID(img.ID), Size: img.Size, Build: images.BuildMscliCommand}
	if img.Present && o.Binary != "" {
		if bin, err := images.ReadBinary(o.Binary); err != nil {
			m.Note = err.Error()
		} else if d := img.Labels[images.LabelBinary]; d != bin.SHA256 {
			m.Note = fmt.Sprintf("built from another binary than %s: rebuild it", o.Binary)
		}
	}
	out := []Need{m}
	if pl != nil {
		for _, s := range pl.Topology.Services {
			if !s.User() || s.Image == "" || slices.ContainsFunc(out, func(n Need) bool { return n.Ref == s.Image }) {
				continue
			}
			ui, err := e.inspectImage(ctx, s.Image)
			if err != nil {
				return out, err
			}
			n := Need{Ref: s.Image, Role: "service " + s.Name, Present: ui.Present, ID: shortID(ui.ID), Size: ui.Size,
				Build: "docker build -t " + s.Image + " ."}
			switch {
			case s.Container != nil && s.Container.Build != nil:
				n.Build, n.Note = "mscli run builds it", "built from "+s.Container.Build.Context+" at the start of every run"
			case s.Image == images.OfflinePostgres:
				n.Build = images.BuildPostgresCommand
			case !ui.Present:
				n.Note = "never pulled: build it, or pull it yourself"
			}
			out = append(out, n)
		}
	}
	role := "PostgreSQL, for services with database: postgres"
	if pl != nil {
		var dbs []string
		for _, s := range pl.Topology.Services {
			if s.Database == "postgres" {
				dbs = append(dbs, plan.DatabaseNode(s.Name))
			}
		}
		if len(dbs) == 0 {
			return out, nil
		}
		role = "PostgreSQL: " + strings.Join(dbs, ", ")
	}
	ref, rerr := e.resolvePostgres(ctx, o.PostgresImage, false, nil)
	var missing *MissingImageError
	if rerr != nil && !errors.As(rerr, &missing) {
		return out, rerr
	}
	p := Need{Ref: ref, Role: role, Build: images.BuildPostgresCommand}
	if missing != nil {
		p.Ref, p.Note = missing.Ref, missing.Why
	} else {
		pi, err := e.inspectImage(ctx, ref)
		if err != nil {
			return out, err
		}
		p.Present, p.ID, p.Size = pi.Present, shortID(pi.ID), pi.Size
	}
	return append(out, p), nil
}
