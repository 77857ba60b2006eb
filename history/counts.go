package history

// Counts is the one fold of operation records by type: how many operations were
// invoked and how many completed ok, fail or info. The workload, the live dashboard,
// the timeline and the result (result.json's "ops") all count with it.
type Counts struct {
	Invoked int `json:"invoked"`
	Ok      int `json:"ok"`
	Fail    int `json:"fail"`
	Info    int `json:"info"`
}

// Add counts one record of type t. It reports whether t is a completion (ok, fail or
// info); an invoke is counted too, any other type is not.
func (c *Counts) Add(t OpType) (completion bool) {
	switch t {
	case Invoke:
		c.Invoked++
		return false
	case Ok:
		c.Ok++
	case Fail:
		c.Fail++
	case Info:
		c.Info++
	default:
		return false
	}
	return true
}

// Plus returns the sum of c and o.
func (c Counts) Plus(o Counts) Counts {
	return Counts{Invoked: c.Invoked + o.Invoked, Ok: c.Ok + o.Ok, Fail: c.Fail + o.Fail, Info: c.Info + o.Info}
}

// Completed is the number of completions (ok, fail and info).
func (c Counts) Completed() int { return c.Ok + c.Fail + c.Info }

// Errors is the number of completions that were not acknowledged (fail and info).
func (c Counts) Errors() int { return c.Fail + c.Info }

// InFlight is the number of operations invoked and not completed.
func (c Counts) InFlight() int { return c.Invoked - c.Completed() }
