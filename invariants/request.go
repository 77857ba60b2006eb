package invariants

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/mscli/mscli/history"
)

// debits are the operation names (`f`) whose amount is taken away: the effect an
// operation asks for is its value's amount, negative for these and positive for
// every other name.
var debits = map[string]bool{"withdraw": true, "withdrawal": true, "debit": true}

// requested is the effect an operation line asks for: the key it names and the signed
// amount of its value ({"amount": n}). ok is false when the line carries no amount.
func requested(o *history.Op) (key string, amount int64, ok bool) {
	amount, ok = amountOf(o.Value)
	if ok && debits[o.F] {
		amount = -amount
	}
	return o.Key, amount, ok
}

var amountField = []byte(`"amount":`)

// amountOf reads the amount of an operation's value. The workload writes it as
// {"amount":n}, which is read without encoding/json (a million of them per check);
// anything else goes through encoding/json.
func amountOf(v json.RawMessage) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	if i := bytes.Index(v, amountField); i >= 0 && bytes.Count(v, []byte(":")) == 1 {
		rest := bytes.TrimSpace(v[i+len(amountField):])
		end := bytes.IndexAny(rest, ",} ")
		if end > 0 {
			if n, err := strconv.ParseInt(string(rest[:end]), 10, 64); err == nil {
				return n, true
			}
		}
	}
	var body struct {
		Amount *int64 `json:"amount"`
	}
	if json.Unmarshal(v, &body) != nil || body.Amount == nil {
		return 0, false
	}
	return *body.Amount, true
}
