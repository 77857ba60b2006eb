package runner

import (
	"io"
	"os"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/redact"
	"github.com/mscli/mscli/plan"
)

// Secrets are the values of the variables the plan's services name in secrets:,
// read from mscli's environment when a run starts (lookup: os.LookupEnv). A name that
// is not set, or whose value is shorter than redact.MinLen, is invalid input: the run
// stops before anything starts. The plan holds the names only.
func Secrets(pl *plan.Plan, file string, lookup func(string) (string, bool)) (*redact.Secrets, error) {
	values := map[string]string{}
	where := "the scenario"
	if file != "" {
		where = file
	}
	for _, s := range pl.Topology.Services {
		for _, name := range s.Secrets {
			v, ok := lookup(name)
			switch {
			case !ok || v == "":
				return nil, InvalidInput("%s: service %s: secret %s is not set in mscli's environment: export %s=<value> before the run (the scenario names it only; its value is given to the service and replaced by %s in every output)", where, s.Name, name, name, redact.Marker(name))
			case len(v) < redact.MinLen:
				return nil, InvalidInput("%s: service %s: secret %s is %d characters long; a secret must have at least %d, or its redaction would hide ordinary text in every output", where, s.Name, name, len(v), redact.MinLen)
			}
			values[name] = v
		}
	}
	return redact.New(values), nil
}

// redacting returns o with its live views redacted: the events (their lines, node
// errors, fault records) and the history records the dashboard sees are passed
// through sec before anyone shows them.
func (o Options) redacting(sec *redact.Secrets) Options {
	if sec.Empty() || o.Progress == nil {
		return o
	}
	progress := o.Progress
	o.Progress = func(e Event) {
		e.Msg, e.Err = sec.String(e.Msg), sec.String(e.Err)
		if e.Fault != nil {
			f := *e.Fault
			f.Error = sec.String(f.Error)
			e.Fault = &f
		}
		progress(e)
	}
	return o
}

// createRecords creates a JSON Lines file of records whose strings are redacted
// (redact.Secrets.JSONLines) on their way to w, or to the file at path when w is nil.
func createRecords(path string, w io.WriteCloser, sec *redact.Secrets) (*history.Writer, error) {
	if w == nil {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		w = f
	}
	return history.NewWriter(sec.JSONLines(w)), nil
}
