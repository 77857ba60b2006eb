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
	// Op names the declared operation, for a kind that declares several (http); ""
	// otherwise, and for the final reads.
	Op string
	// NoAmount marks an operation that asks for no amount (an http operation whose
	// request does not carry one): its records carry no value, so no checker compares
	// its effects with an amount it never asked for.
	NoAmount bool
	// Value, when set, is the request body the history records instead of
	// {"amount": n} (a saga's order: the amount and what it buys); it must still carry
	// the amount. A string, so that Planned stays comparable.
	Value string
}

// AccountKey names account i ("acct-7").
func AccountKey(i int) string { return fmt.Sprintf("acct-%d", i) }

// opID names operation number n: "d-000043" for a deposit, "w-000042" for a withdrawal.
func opID(f string, n int64) string {
	p := "d"
	if f == FWithdraw {
		p = "w"
	}
	return numberedID(p, n)
}

// numberedID is the id of operation number n: its prefix and the number, "d-000043".
func numberedID(prefix string, n int64) string { return fmt.Sprintf("%s-%06d", prefix, n) }

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

// draws is what every kind's generator shares: client proc's random stream and the
// numbers of its operations. The stream is a PCG whose state is hashed from (w.Seed,
// "ops", proc), so that no client replays another client's, another seed's, its own
// retry jitter's or the planner's random numbers. Numbers are interleaved across clients
// after the openings (first + k·clients + proc for the client's k-th operation), so ids
// are unique per run without any coordination.
type draws struct {
	rng    *rand.Rand
	next   int64 // number of the next operation
	stride int64
}

func newDraws(w plan.Workload, proc int, first int64) draws {
	return draws{rng: newStream(w.Seed, streamOps, proc), next: max(0, first) + int64(proc), stride: int64(max(1, w.Clients))}
}

// number takes the next operation number.
func (d *draws) number() int64 {
	n := d.next
	d.next += d.stride
	return n
}

// index draws one of n keys, uniformly.
func (d *draws) index(n int) int { return d.rng.IntN(max(1, n)) }

// amount draws an amount in [lo, hi], uniformly.
func (d *draws) amount(lo, hi int64) int64 { return lo + d.rng.Int64N(max(1, hi-lo+1)) }

// Generator draws one client's operations. The sequence — kinds, accounts, amounts and
// ids — depends only on the workload (its seed, mix, accounts, clients) and the
// client's process number, never on timing: the same plan sends the same operations.
type Generator struct {
	draws
	mix       float64
	accounts  int
	maxAmount int64
}

// NewGenerator returns the generator of client proc (0 ≤ proc < w.Clients) (see draws:
// its ids follow the openings, one per account).
func NewGenerator(w plan.Workload, proc int) *Generator {
	b := bankOf(w)
	return &Generator{
		draws:     newDraws(w, proc, int64(b.accounts)),
		mix:       b.mix,
		accounts:  max(1, b.accounts),
		maxAmount: MaxAmount(w),
	}
}

// Next draws the next operation.
func (g *Generator) Next() Planned {
	if g.rng.Float64() < ReadShare {
		return Planned{F: FRead, Key: AccountKey(g.index(g.accounts))}
	}
	f := FDeposit
	if g.rng.Float64() < g.mix {
		f = FWithdraw
	}
	key := AccountKey(g.index(g.accounts))
	amount := g.amount(1, g.maxAmount)
	return Planned{ID: opID(f, g.number()), F: f, Key: key, Amount: amount}
}
