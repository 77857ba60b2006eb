package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/mscli/mscli/plan"
)

// system.compose: a user's docker-compose file, read with the compose specification's
// own library (interpolation, env_file, extends, profiles as `docker compose` does
// them). Each compose service becomes a service of the plan (composeService) that
// reaches its dependencies by their own names (plan.Service.Hostnames); the
// scenario's system.services may add to a compose service what compose cannot say —
// ready, replicas, observe, bugs — and services of its own beside them.

// overlayKeys are what system.services may give a service of the compose file.
var overlayKeys = []string{"ready", "replicas", "observe", "bugs", "secrets"}

// composeFile is a compose file being mapped: where it is, as errors name it, and its
// syntax tree, for the positions of what it says.
type composeFile struct {
	name string   // the path errors print: relative to where the scenario's is
	tree *decoder // decodes the file's tree (for positions only)
	body ast.Node
}

// pos is where services.<svc>.<keys…> is written, or the nearest thing above it that
// the file writes.
func (c *composeFile) pos(svc string, keys ...string) position {
	p := position{1, 1}
	n := c.body
	for _, k := range append([]string{"services", svc}, keys...) {
		if n == nil {
			break
		}
		if seq, isSeq := n.(*ast.SequenceNode); isSeq {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(seq.Values) {
				break
			}
			p, n = posOf(seq.Values[i]), seq.Values[i]
			continue
		}
		es, ok := c.tree.mapping("", n, "")
		if !ok {
			break
		}
		i := slices.IndexFunc(es, func(e entry) bool { return e.key == k })
		if i < 0 {
			break
		}
		p, n = posOf(es[i].keyNode), es[i].val
	}
	return p
}

// composeSystem reads the compose file that system.compose names and merges its
// services with the scenario's own.
func (d *decoder) composeSystem(s *Scenario, raw ast.Node) {
	const p = "system.compose"
	rel, ok := d.str(p, raw)
	if !ok || d.bad["dir"] {
		// With a bad dir:, where the file is is unknown: that error is reported.
		d.bad["system.services"] = true
		return
	}
	name, abs := rel, rel
	if !filepath.IsAbs(rel) {
		name = filepath.Join(d.folder(), rel)
		if d.dir != "" {
			abs = filepath.Join(d.dir, rel)
		}
	}
	fail := func(format string, args ...any) {
		d.errorf(raw, p, format, args...)
		// The services it would have brought are unknown: nothing that names them can
		// be checked.
		d.bad["system.services"] = true
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fail("compose file %s: %v", name, err)
		return
	}
	proj, err := loadCompose(abs, data)
	if err != nil {
		fail("compose file %s: %v", name, err)
		return
	}
	c := &composeFile{name: name, tree: &decoder{file: name, pos: map[string]position{}, bad: map[string]bool{}, anchors: map[string][]anchorDef{}}}
	if f, err := parser.ParseBytes(data, 0); err == nil && len(f.Docs) > 0 && f.Docs[0] != nil {
		c.body = f.Docs[0].Body
		c.tree.collectAnchors(c.body, 0)
	}
	services, problems := composeServices(proj)
	for _, pr := range problems {
		at := c.pos(pr.service, pr.keys...)
		path := child("system.services", pr.service)
		d.errs = append(d.errs, &Error{File: c.name, Line: at.line, Col: at.col, Path: path,
			Msg: fmt.Sprintf("compose service %s: %s", pr.service, pr.msg), named: true})
		// Reported once, here: the checks of the merged service stay silent about it.
		d.bad[path] = true
	}
	d.mergeCompose(s, raw, services)
}

// loadCompose loads a compose file as `docker compose` does in its folder, with one
// difference: only the folder's .env interpolates it, never mscli's own environment —
// the plan must not depend on the shell that made it, nor carry its secrets into the
// system under test. A variable the file uses with no default and .env does not
// define is an error. env_file is resolved, paths are absolute; include is refused.
func loadCompose(path string, data []byte) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)), cli.WithDotEnv)
	if err != nil {
		return nil, err
	}
	if missing := undefinedVars(data, opts.Environment); len(missing) > 0 {
		return nil, fmt.Errorf("it uses %s, which the .env beside it does not define: mscli interpolates a compose file from that .env only, never from its own environment (give each a value there, or a default: ${NAME:-value})", strings.Join(missing, ", "))
	}
	if includeRE.Match(data) {
		return nil, errors.New("include: not supported yet: mscli reads one compose file")
	}
	return opts.LoadProject(context.Background())
}

// includeRE finds a top-level include: key.
var includeRE = regexp.MustCompile(`(?m)^include[ \t]*:`)

// composeVarRE finds the variables a compose file interpolates: ${NAME}, ${NAME:-x},
// $NAME; $$ is a literal dollar.
var composeVarRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+=])?|\$([A-Za-z_][A-Za-z0-9_]*)`)

// undefinedVars lists, sorted, the variables data uses without a default that env
// does not define.
func undefinedVars(data []byte, env map[string]string) []string {
	seen := map[string]bool{}
	for _, m := range composeVarRE.FindAllSubmatch(data, -1) {
		name := string(m[1])
		if name == "" {
			name = string(m[3])
		}
		if name == "" || seen[name] {
			continue // $$
		}
		if op := string(m[2]); strings.Contains(op, "-") || strings.Contains(op, "=") {
			continue // a default
		}
		if _, ok := env[name]; !ok {
			seen[name] = true
		}
	}
	return sortedKeys(seen)
}

// mergeCompose adds the compose file's services to the scenario's: a service the
// scenario lists too takes its overlay keys from the scenario (and may give nothing
// else), a service the scenario alone lists stays its own.
func (d *decoder) mergeCompose(s *Scenario, raw ast.Node, services []plan.Service) {
	at := posOf(raw)
	for _, c := range services {
		p := child("system.services", c.Name)
		i := slices.IndexFunc(s.System.Services, func(o plan.Service) bool { return o.Name == c.Name })
		if i < 0 {
			// What the checks say about it points at system.compose.
			d.pos[p] = at
			d.pos[p+"#key"] = at
			s.System.Services = append(s.System.Services, c)
			continue
		}
		own := s.System.Services[i]
		for _, k := range serviceKeys {
			kp := child(p, k)
			if _, given := d.pos[kp+"#key"]; !given || slices.Contains(overlayKeys, k) {
				continue
			}
			d.errorAt(d.pos[kp+"#key"], kp, "%s: service %s comes from the compose file, which says how it runs; here give only %s", k, c.Name, joinList(overlayKeys, "and"))
		}
		given := func(k string) bool { _, ok := d.pos[child(p, k)+"#key"]; return ok }
		if given("ready") {
			c.Ready = own.Ready
		}
		if given("replicas") {
			c.Replicas = own.Replicas
		}
		if given("observe") {
			c.Observe = own.Observe
		}
		if given("bugs") {
			c.Bugs = own.Bugs
		}
		if given("secrets") {
			c.Secrets = own.Secrets
		}
		s.System.Services[i] = c
	}
	slices.SortStableFunc(s.System.Services, func(a, b plan.Service) int { return strings.Compare(a.Name, b.Name) })
}
