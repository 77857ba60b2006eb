package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/mscli/mscli/invariants"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr,omitempty"`
	Time     string      `xml:"time,attr"`
	Props    []junitProp `xml:"properties>property,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// FaultsCase is the name of the JUnit test case that says whether the planned faults
// were applied and healed.
const FaultsCase = "faults applied"

// CompleteCase is the JUnit test case that says a run's records are partial.
const CompleteCase = "run complete"

// WriteJUnit writes one test suite per run with one test case per invariant: a failed
// invariant is a failure carrying its witnesses, an unknown one an error. When the plan
// has faults, a first test case, "faults applied", passes when every planned fault was
// applied and healed and is an error (inconclusive) naming each one that was not, so a
// CI's test view shows a run without its chaos. A run whose records are partial
// (Run.Partial: it could not complete, or was cut short) has a first test case,
// "run complete", that is an error saying why.
func WriteJUnit(w io.Writer, r *Run) error {
	s := junitSuiteOf(r)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitSuiteOf is one run's test suite (WriteJUnit).
func junitSuiteOf(r *Run) junitSuite {
	s := junitSuite{
		Name:  "mscli." + r.Scenario,
		Tests: len(r.Results),
		Time:  fmt.Sprintf("%.3f", r.Wall.Seconds()),
		Props: []junitProp{{"seed", fmt.Sprint(r.Seed)}, {"testbed", r.Testbed}, {"dir", r.Dir}},
	}
	if len(r.Bugs) > 0 {
		s.Props = append(s.Props, junitProp{"bugs", strings.Join(r.Bugs, ",")})
	}
	if why := r.Partial(); why != "" {
		s.Tests++
		s.Errors++
		s.Cases = append(s.Cases, junitCase{Name: CompleteCase, ClassName: "mscli." + r.Scenario, Time: "0.000",
			Error: &junitMessage{Message: why, Type: "inconclusive"}})
	}
	if r.Faults.Planned > 0 || len(r.FaultFailures) > 0 {
		c := junitCase{Name: FaultsCase, ClassName: "mscli." + r.Scenario, Time: "0.000"}
		if len(r.FaultFailures) == 0 {
			c.SystemOut = fmt.Sprintf("%s applied and healed", plural(r.Faults.Planned, "planned fault"))
		} else {
			s.Errors++
			var body strings.Builder
			for _, f := range r.FaultFailures {
				fmt.Fprintf(&body, "- %s\n", f.Line())
			}
			c.Error = &junitMessage{Message: FaultsReason(r.FaultFailures, r.Faults.Planned), Type: "inconclusive", Body: body.String()}
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	for _, res := range r.Results {
		c := junitCase{Name: res.Name, ClassName: "mscli." + r.Scenario, Time: fmt.Sprintf("%.3f", res.Elapsed.Seconds()), SystemOut: res.Summary}
		switch res.Verdict {
		case invariants.Fail:
			s.Failures++
			c.Failure = &junitMessage{Message: res.Summary, Type: "violation", Body: witnessText(res)}
		case invariants.Unknown:
			s.Errors++
			c.Error = &junitMessage{Message: res.Summary, Type: "inconclusive"}
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

func witnessText(res invariants.Result) string {
	var b strings.Builder
	for _, wt := range res.Witnesses {
		fmt.Fprintf(&b, "- %s\n", wt.Note)
		for _, op := range wt.Ops {
			fmt.Fprintf(&b, "    %s\n", opLine(op))
		}
		if len(wt.Faults) > 0 {
			fmt.Fprintf(&b, "    faults active: %s\n", faultList(wt.Faults))
		}
	}
	return b.String()
}
