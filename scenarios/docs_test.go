package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

// docs/scenarios.md documents every key, fault kind, parameter and invariant the loader
// knows; this keeps the two from drifting apart.
func TestDocsCoverFormat(t *testing.T) {
	data, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var want []string
	for _, keys := range [][]string{rootKeys, systemKeys, serviceKeys, workloadKeys, retryKeys, nemesisKeys, faultKeys, plan.InvariantKindNames(), plan.FixtureNames(), KnownDatabases} {
		want = append(want, keys...)
	}
	for _, name := range plan.FaultKindNames() {
		k := kindOf(name)
		want = append(want, name)
		for p := range k.Params {
			want = append(want, p)
		}
	}
	for _, name := range plan.WorkloadKindNames() {
		k, _ := plan.LookupWorkloadKind(name)
		want = append(want, name)
		for p := range k.Params {
			want = append(want, p)
		}
	}
	for _, w := range want {
		if !strings.Contains(doc, "`"+w+"`") && !strings.Contains(doc, "`"+w+":") && !strings.Contains(doc, "`retry."+w+"`") {
			t.Errorf("docs/scenarios.md does not mention `%s`", w)
		}
	}
	// The complete example is the catalog's scenario, and its plan the real one.
	_, example, _ := strings.Cut(doc, "## A complete example")
	_, example, _ = strings.Cut(example, "```yaml\n")
	example, _, _ = strings.Cut(example, "```")
	fromDoc, err := Parse("docs/scenarios.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	fromCatalog, err := Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustPlan(t, fromDoc, 7), mustPlan(t, fromCatalog, 7); string(a) != string(b) {
		t.Errorf("the example in docs/scenarios.md plans differently from catalog/bank-idempotency.yaml:\n%s\n---\n%s", a, b)
	}
	golden, err := os.ReadFile("testdata/bank-idempotency-seed7.timeline")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, string(golden)) {
		t.Error("the seed 7 timeline in docs/scenarios.md differs from testdata/bank-idempotency-seed7.timeline")
	}
}
