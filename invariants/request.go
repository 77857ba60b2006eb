package invariants

import (
	"bytes"
	"encoding/json"

	"github.com/mscli/mscli/history"
)

// debits are the operation names (`f`) whose amount is taken away: the effect an
// operation asks for is its value's amount, negative for these and positive for
// every other name.
var debits = map[string]bool{"withdraw": true, "withdrawal": true, "debit": true}

// requested is the effect an operation line asks for: the key it names and the signed
// amount of its value ({"amount": n}). ok is false when the line carries no amount.
func requested(o *history.Op) (key string, amount int64, ok bool) {
	amount, ok = signed(o.F, o.Value)
	return o.Key, amount, ok
}

// requestedAt is requested for history line i, read from its columns: the check of
// every operation's effects reads a million of them, and building each line whole
// (Records.Op) was most of that check's time.
func requestedAt(recs *history.Records, i int) (key string, amount int64, ok bool) {
	amount, ok = signed(recs.OpF(i), recs.OpValue(i))
	return recs.OpKey(i), amount, ok
}

// signed is value's amount, negative when f is a debit.
func signed(f string, value json.RawMessage) (amount int64, ok bool) {
	amount, ok = amountOf(value)
	if ok && debits[f] {
		amount = -amount
	}
	return amount, ok
}

// amountObject is how plainAmount's value starts, built once (it was put together
// at each call, a million times a check).
var amountObject = []byte(`{"amount":`)

// amountOf reads the amount of an operation's value. The workload writes it as
// {"amount":n}, which is read without encoding/json (a million of them per check);
// anything else goes through encoding/json.
func amountOf(v json.RawMessage) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	if n, ok := plainAmount(v); ok {
		return n, true
	}
	var body struct {
		Amount *int64 `json:"amount"`
	}
	if json.Unmarshal(v, &body) != nil || body.Amount == nil {
		return 0, false
	}
	return *body.Amount, true
}

// plainAmount reads exactly {"amount":n} with n a plain integer, allocating nothing.
func plainAmount(v []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(v, amountObject)
	if !ok || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return 0, false
	}
	digits := rest[:len(rest)-1]
	neg := false
	if digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
