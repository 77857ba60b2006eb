package scenarios

import (
	"slices"
	"testing"
)

// A fixture's options: checked against what the fixture declares, at their line and
// column, and planned with every option given its value.
func TestFixtureOptions(t *testing.T) {
	const head = "name: t\nduration: 10s\nsystem:\n  services:\n"
	const tail = "    inventory: {fixture: saga-inventory}\n    payments: {fixture: saga-payments}\nworkload: {kind: saga}\ninvariants: [saga-atomic]\n"
	for _, tt := range []struct {
		name, orders string
		want         []string
	}{
		{"unknown option", "    orders: {fixture: saga-orders, options: {stlye: choreographed}}\n",
			[]string{`5:46: fixture saga-orders has no parameter "stlye"; did you mean "style"?`}},
		{"bad value", "    orders: {fixture: saga-orders, options: {style: chaotic}}\n",
			[]string{`5:53: invalid style "chaotic"`}},
		{"a fixture without options", "    orders: {fixture: saga-orders}\n    bank: {fixture: bank, options: {style: x}}\n",
			[]string{`6:37: fixture bank has no parameter "style" (it takes none)`}},
		{"options of a service of your own", "    orders: {fixture: saga-orders}\n    mine: {command: ./mine, options: {a: b}}\n",
			[]string{`6:29: options: are a fixture's; give your own service env: instead`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+tt.orders+tail))
			if err == nil {
				t.Fatal("no error")
			}
			wantErrors(t, err, tt.want)
		})
	}
	s, err := Parse("t.yaml", []byte(head+"    orders: {fixture: saga-orders}\n"+tail))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range s.Topology().Services {
		if svc.Name == "orders" && !slices.Equal(svc.OptionArgs(), []string{"--style", "orchestrated"}) {
			t.Errorf("orders' options %v: want the declared default, --style orchestrated", svc.OptionArgs())
		}
	}
}
