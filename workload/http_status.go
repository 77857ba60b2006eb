package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Response classes.
const (
	classNone uint8 = iota
	classOK
	classFail
	classUnknown
)

var classNames = map[string]uint8{"ok": classOK, "fail": classFail, "unknown": classUnknown}

// statusTable classifies response codes 100…599; any other code is none (unknown).
type statusTable [600]uint8

func (t *statusTable) class(code int) uint8 {
	if code < 0 || code >= len(t) {
		return classNone
	}
	return t[code]
}

// codeRange is one range of codes of a class, with where it is written.
type codeRange struct {
	lo, hi int
	class  uint8
	path   string // ".fail[1]"; "" for a default
	text   string
}

// defaultStatus is the classification a status: mapping starts from.
var defaultStatus = map[string]string{"ok": "200-299", "fail": "400-499", "unknown": "500-599"}

func (s *httpSpec) compileStatus(raw json.RawMessage, errs *httpErrs) {
	const param = "status"
	given := map[string]json.RawMessage{}
	if raw != nil {
		if err := json.Unmarshal(raw, &given); err != nil || given == nil {
			errs.at(param, "", "expected a mapping (ok:, fail:, unknown:), got %s", jsonKind(raw))
			return
		}
	}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if !slices.Contains(httpStatusKeys, k) {
			errs.unknownKey(param, "."+k, k, "status", httpStatusKeys)
		}
	}
	// The classes the mapping gives decide their codes; a class it leaves out keeps its
	// default for the codes no given class names (ok: "200-499" makes 404 ok, whatever
	// fail's default says).
	var ranges, defaults []codeRange
	n := len(*errs)
	for _, cls := range httpStatusKeys {
		v, ok := given[cls]
		if !ok {
			lo, hi, _ := parseCodes(defaultStatus[cls])
			defaults = append(defaults, codeRange{lo: lo, hi: hi, class: classNames[cls], text: defaultStatus[cls]})
			continue
		}
		got := statusRanges(param, "."+cls, classNames[cls], v, errs)
		if len(got) == 0 && len(*errs) == n && cls == "ok" {
			errs.at(param, ".ok", "ok needs at least one code: nothing could succeed")
		}
		ranges = append(ranges, got...)
	}
	if len(*errs) > n {
		return
	}
	// A code in ranges of two classes takes the class of the narrowest range; two ranges
	// of one width would leave it undecided.
	for i, a := range ranges {
		for _, b := range ranges[:i] {
			if a.class != b.class && a.lo <= b.hi && b.lo <= a.hi && a.hi-a.lo == b.hi-b.lo {
				at, other := a, b
				if at.path == "" {
					at, other = b, a
				}
				errs.at(param, at.path, "%s is both %s (%s) and %s (%s): a code in two ranges of one width is ambiguous",
					overlap(a, b), className(at.class), at.text, className(other.class), other.text)
			}
		}
	}
	if len(*errs) > n {
		return
	}
	// 503 says "not now": fail (and retried) unless the mapping names it on its own.
	if !slices.ContainsFunc(ranges, func(r codeRange) bool { return r.lo == 503 && r.hi == 503 }) {
		ranges = append(ranges, codeRange{lo: 503, hi: 503, class: classFail})
	}
	var width [600]int
	for _, r := range ranges {
		for c := r.lo; c <= r.hi; c++ {
			if s.status[c] == classNone || r.hi-r.lo < width[c] {
				s.status[c], width[c] = r.class, r.hi-r.lo
			}
		}
	}
	for _, r := range defaults {
		for c := r.lo; c <= r.hi; c++ {
			if s.status[c] == classNone {
				s.status[c] = r.class
			}
		}
	}
}

func className(c uint8) string {
	for k, v := range classNames {
		if v == c {
			return k
		}
	}
	return "none"
}

func overlap(a, b codeRange) string {
	lo, hi := max(a.lo, b.lo), min(a.hi, b.hi)
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// statusRanges reads one class: a code (404), a string of codes and ranges ("400-499,
// 503"), or a list of those.
func statusRanges(param, p string, class uint8, raw json.RawMessage, errs *httpErrs) []codeRange {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && list != nil {
		var out []codeRange
		for i, it := range list {
			out = append(out, statusRanges(param, fmt.Sprintf("%s[%d]", p, i), class, it, errs)...)
		}
		return out
	}
	var text string
	if n, isInt := jsonInt(raw); isInt {
		text = strconv.FormatInt(n, 10)
	} else if json.Unmarshal(raw, &text) != nil {
		errs.at(param, p, "%s: expected codes (200-299, \"400-499, 503\", or a list), got %s", p[strings.LastIndex(p, ".")+1:], jsonKind(raw))
		return nil
	}
	var out []codeRange
	for _, part := range strings.Split(text, ",") {
		lo, hi, err := parseCodes(part)
		if err != nil {
			errs.at(param, p, "invalid status codes %q: %v", text, err)
			return nil
		}
		out = append(out, codeRange{lo: lo, hi: hi, class: class, path: p, text: strings.TrimSpace(part)})
	}
	return out
}

// parseCodes reads "404" or "400-499": HTTP status codes, 100 to 599.
func parseCodes(s string) (int, int, error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	lo, err := strconv.Atoi(strings.TrimSpace(a))
	hi := lo
	if err == nil && isRange {
		hi, err = strconv.Atoi(strings.TrimSpace(b))
	}
	switch {
	case err != nil:
		return 0, 0, errors.New("want a code or a range lo-hi, e.g. 500-599")
	case lo < 100 || hi > 599:
		return 0, 0, errors.New("status codes are from 100 to 599")
	case hi < lo:
		return 0, 0, fmt.Errorf("%d-%d is empty: write the lower code first", lo, hi)
	}
	return lo, hi, nil
}
