package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
)

// Operation names in the history (the `f` field).
const (
	FDeposit  = "deposit"
	FWithdraw = "withdraw"
	// FRead reads an account's balance through the public API (history.FRead).
	FRead = history.FRead
)

// ReadShare is the share of a client's operations that read an account through the
// public API instead of changing it: the checkers then judge what clients see, not
// only what the service says of itself.
const ReadShare = 0.1

// Planned is one operation a client will send: which, on which account, how much,
// under which id (a read has neither id nor amount).
type Planned struct {
	ID     string
	F      string
	Key    string
	Amount int64
}

// AccountKey names account i ("acct-7").
func AccountKey(i int) string { return fmt.Sprintf("acct-%d", i) }

// opID names operation number n: "d-000043" for a deposit, "w-000042" for a withdrawal.
func opID(f string, n int64) string {
	p := "d"
	if f == FWithdraw {
		p = "w"
	}
	return fmt.Sprintf("%s-%06d", p, n)
}

// MaxAmount is the largest amount of a random operation: a tenth of the opening
// balance, so withdrawals usually succeed yet an account can run dry under a burst of
// them (100 without an opening balance).
func MaxAmount(w plan.Workload) int64 {
	if opening := bankOf(w).opening; opening > 0 {
		return max(1, opening/10)
	}
	return 100
}

// Openings are the deposits that open every account with the opening balance, numbered
// first (d-000000 … ).
func Openings(w plan.Workload) []Planned {
	b := bankOf(w)
	out := make([]Planned, b.accounts)
	for i := range out {
		out[i] = Planned{ID: opID(FDeposit, int64(i)), F: FDeposit, Key: AccountKey(i), Amount: b.opening}
	}
	return out
}

// Generator draws one client's operations. The sequence — kinds, accounts, amounts and
// ids — depends only on the workload (its seed, mix, accounts, clients) and the
// client's process number, never on timing: the same plan sends the same operations.
type Generator struct {
	rng       *rand.Rand
	mix       float64
	accounts  int
	maxAmount int64
	next      int64 // id number of the next operation
	stride    int64
}

// NewGenerator returns the generator of client proc (0 ≤ proc < w.Clients): a PCG
// whose state is hashed from (w.Seed, "ops", proc), so that no client replays another
// client's, another seed's, its own retry jitter's or the planner's random numbers.
// Ids are interleaved across clients after the openings (accounts + k·clients + proc
// for the client's k-th operation), so they are unique per run without any
// coordination.
func NewGenerator(w plan.Workload, proc int) *Generator {
	clients := max(1, w.Clients)
	b := bankOf(w)
	return &Generator{
		rng:       newStream(w.Seed, streamOps, proc),
		mix:       b.mix,
		accounts:  max(1, b.accounts),
		maxAmount: MaxAmount(w),
		next:      int64(max(0, b.accounts)) + int64(proc),
		stride:    int64(clients),
	}
}

// Next draws the next operation.
func (g *Generator) Next() Planned {
	if g.rng.Float64() < ReadShare {
		return Planned{F: FRead, Key: AccountKey(g.rng.IntN(g.accounts))}
	}
	f := FDeposit
	if g.rng.Float64() < g.mix {
		f = FWithdraw
	}
	key := AccountKey(g.rng.IntN(g.accounts))
	amount := 1 + g.rng.Int64N(g.maxAmount)
	p := Planned{ID: opID(f, g.next), F: f, Key: key, Amount: amount}
	g.next += g.stride
	return p
}
