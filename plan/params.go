package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a duration the one way every part of mscli does: a Go duration
// ("250ms", "3s", "1m30s"; "0" alone is zero), never negative.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (write e.g. 500ms, 3s, 1m30s)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return Duration(v), nil
}

// ParamNamePattern is what a ParamName value matches.
const ParamNamePattern = `^[A-Za-z0-9_-]+$`

var paramNameRE = regexp.MustCompile(ParamNamePattern)

// Norm checks a parameter's value and writes it in one canonical way ("250ms", "0.2"),
// so that plans compare equal however a file spells a value.
func (p Param) Norm(name, val string) (string, error) {
	switch p.Type {
	case ParamDuration:
		d, err := ParseDuration(val)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	case ParamInt:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < p.Min || n < 0 {
			return "", fmt.Errorf("invalid %s %q: want a whole number, %d or more", name, val, max(p.Min, 0))
		}
		return strconv.FormatInt(n, 10), nil
	case ParamRatio:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
			return "", fmt.Errorf("invalid %s %q: want a number from 0 to 1", name, val)
		}
		return FormatRatio(f), nil
	case ParamEnum:
		if !slices.Contains(p.Enum, val) {
			return "", fmt.Errorf("invalid %s %q (one of %s)", name, val, strings.Join(p.Enum, ", "))
		}
		return val, nil
	case ParamName:
		if !paramNameRE.MatchString(val) {
			return "", fmt.Errorf("invalid %s %q: use letters, digits, '-' and '_'", name, val)
		}
		return val, nil
	case ParamRange:
		lo, hi, err := parseRange(val)
		if err != nil || lo < p.Min {
			return "", fmt.Errorf("invalid %s %q: want a whole number or a range lo-hi (e.g. 1-100), %d or more", name, val, max(p.Min, 0))
		}
		if lo == hi {
			return strconv.FormatInt(lo, 10), nil
		}
		return strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10), nil
	case ParamObject:
		c, err := normJSON(val)
		if err != nil {
			return "", fmt.Errorf("invalid %s: %v", name, err)
		}
		return c, nil
	}
	return val, nil
}

// parseRange reads "n" or "lo-hi", whole numbers with lo ≤ hi.
func parseRange(s string) (lo, hi int64, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	lo, err = strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if err != nil || lo < 0 {
		return 0, 0, errors.New("not a range")
	}
	hi = lo
	if isRange {
		hi, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err != nil || hi < lo {
			return 0, 0, errors.New("not a range")
		}
	}
	return lo, hi, nil
}

// CanonicalJSON writes a structured parameter's value the one way: compact, object keys
// sorted, no HTML escaping, numbers as written (decode with UseNumber to keep them). Equal
// values, however a file spells them, give equal bytes, so plans compare equal.
func CanonicalJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// normJSON checks that s is one JSON value and writes it canonically.
func normJSON(s string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("not JSON: more than one value")
	}
	return CanonicalJSON(v)
}

// ParamError is a problem at one item of a parameter's value: a kind's check returns
// it, alone or several joined (errors.Join), so that a scenario's validation reports
// each at the line and column of that item rather than at the parameter.
type ParamError struct {
	Param string // the parameter: "operations"
	// Path is the item inside the value, as the scenario's paths write it: "[1].path",
	// ".ok"; "" for the value as a whole.
	Path string
	// Key is true when the problem is the item's key (one the value does not take), not
	// its value; Known then lists the keys taken there, for the message to suggest one.
	Key   bool
	Known []string
	Msg   string
}

func (e *ParamError) Error() string {
	msg := "parameter " + e.Param + e.Path + ": " + e.Msg
	if len(e.Known) > 0 {
		msg += " (known: " + strings.Join(e.Known, ", ") + ")"
	}
	return msg
}

// declared checks a kind's parameter declarations as it registers (a default must be a
// valid value; it panics otherwise, as registrations happen in init) and returns them,
// an empty map for none.
func declared(kind string, params map[string]Param) map[string]Param {
	for name, p := range params {
		if p.Default != "" {
			if err := p.Check(p.Default); err != nil {
				panic(fmt.Sprintf("plan: %s: default of %s: %v", kind, name, err))
			}
		}
	}
	if params == nil {
		params = map[string]Param{}
	}
	return params
}

// Check says whether val is a valid value of the parameter.
func (p Param) Check(val string) error {
	_, err := p.Norm("value", val)
	return err
}

// FormatRatio writes a float the way a person would ("0.2", not "0.200000").
func FormatRatio(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Args are the parameter values of one use of a plug-in kind (a fault, the workload),
// read against the kind's declaration: the value the plan carries, else the declared
// default, checked and written the one way Param.Norm does. A plan carries what the
// scenario wrote and the planner fills in the defaults, so a plan written by hand reads
// the same as a planned one.
type Args struct {
	Kind   string // for messages: "latency", "workload bank"
	Decl   map[string]Param
	Values map[string]string
}

// Value returns a parameter's value as written: the plan's, or the declared default.
func (a Args) Value(name string) string {
	if v, ok := a.Values[name]; ok {
		return v
	}
	return a.Decl[name].Default
}

// typed reads a parameter as the accessor's type wants it: required unless declared
// with a default, and within the declaration's bounds.
func (a Args) typed(name string, t ParamType) (string, error) {
	v := a.Value(name)
	if v == "" {
		return "", fmt.Errorf("%s: parameter %q is required", a.Kind, name)
	}
	p := a.Decl[name]
	p.Type = t
	v, err := p.Norm(name, v)
	if err != nil {
		return "", fmt.Errorf("%s: parameter %q: %w", a.Kind, name, err)
	}
	return v, nil
}

// Enum reads an enum parameter: one of the declared values.
func (a Args) Enum(name string) (string, error) { return a.typed(name, ParamEnum) }

// Duration reads a duration parameter.
func (a Args) Duration(name string) (time.Duration, error) {
	v, err := a.typed(name, ParamDuration)
	if err != nil {
		return 0, err
	}
	d, _ := ParseDuration(v) // Norm wrote it
	return d.D(), nil
}

// Int reads a whole-number parameter (0 or more, or the declared Min).
func (a Args) Int(name string) (int64, error) {
	v, err := a.typed(name, ParamInt)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Ratio reads a parameter that is a number from 0 to 1.
func (a Args) Ratio(name string) (float64, error) {
	v, err := a.typed(name, ParamRatio)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(v, 64)
}

// Range reads a whole number or a range lo-hi of them (lo == hi for one number).
func (a Args) Range(name string) (lo, hi int64, err error) {
	v, err := a.typed(name, ParamRange)
	if err != nil {
		return 0, 0, err
	}
	return parseRange(v)
}

// Object reads a structured parameter: its canonical JSON, nil for an optional one not
// given. The kind decodes it.
func (a Args) Object(name string) (json.RawMessage, error) {
	if a.Value(name) == "" && a.Decl[name].Optional {
		return nil, nil
	}
	v, err := a.typed(name, ParamObject)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(v), nil
}

// Args reads the fault's parameters against its kind's declaration.
func (f Fault) Args() Args {
	k, _ := LookupFaultKind(f.Kind)
	return Args{Kind: f.Kind, Decl: k.Params, Values: f.Params}
}

// DurationOf reads an optional duration parameter from params (an invariant's
// "within"): def when absent.
func DurationOf(params map[string]string, name string, def time.Duration) (time.Duration, error) {
	s, ok := params[name]
	if !ok || s == "" {
		return def, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, errors.New("parameter " + name + ": " + err.Error())
	}
	return d.D(), nil
}
