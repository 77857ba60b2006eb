// Package httptoxic holds a toxiproxy toxic that speaks HTTP/1.1: "http_error" answers
// a share of the responses crossing a link with an error status, as a dependency that
// fails does, after the request reached it.
//
// Importing the package registers the toxic with toxiproxy. Both of mscli's toxiproxy
// servers import it — the local testbed's in-process proxies (testbed.Proxies) and the
// docker testbed's `mscli fixture toxiproxy` — so the type is known on both, and the
// chaos faults add it through toxiproxy's API like any built-in toxic.
package httptoxic

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// Type is the toxic's type name in toxiproxy's API.
const Type = "http_error"

// ErrorToxic rewrites the status line of a share of the HTTP/1.1 responses on the
// downstream stream (from the dependency back to the caller) to Status, keeping headers
// and body as they are. The request reached the dependency, was counted there and, for
// a write, applied: the caller only hears an error. 1xx responses pass as they are, and
// so does whatever the toxic cannot frame (see Rewriter). On the upstream stream it sees
// requests, which are not responses, and passes them raw.
//
// Its toxicity should be 1: Ratio is the share, drawn per response.
type ErrorToxic struct {
	// Ratio is the share of responses rewritten, 0 to 1: 0 rewrites none.
	Ratio float64 `json:"ratio"`
	// Status is the status they answer; 0, or anything but a three-digit code, is 503.
	Status int `json:"status"`
	// Seed seeds the draws, so that a run is reproducible. Every connection of the link
	// draws from the one sequence, in the order their responses come.
	Seed int64 `json:"seed"`

	mu  sync.Mutex
	rng *rand.Rand
}

func init() {
	toxics.Register(Type, new(ErrorToxic))
}

// NewState gives each connection its own Rewriter, which toxiproxy keeps while the
// toxic is on the link: when the chain changes, the toxic starts again where it was.
func (t *ErrorToxic) NewState() any { return new(Rewriter) }

// Pipe passes the stream through the connection's Rewriter. Interrupted (the toxic
// removed or the chain changed), it first passes on what the Rewriter holds back, so
// no byte is lost; at the end of the input it does the same and closes its output.
func (t *ErrorToxic) Pipe(stub *toxics.ToxicStub) {
	r, ok := stub.State.(*Rewriter)
	if !ok {
		r = new(Rewriter)
		stub.State = r
	}
	flush := func() {
		if held := r.Flush(); len(held) > 0 {
			stub.Output <- &stream.StreamChunk{Data: held, Timestamp: time.Now()}
		}
	}
	for {
		select {
		case <-stub.Interrupt:
			flush()
			return
		case c := <-stub.Input:
			if c == nil {
				flush()
				stub.Close()
				return
			}
			if out := r.Feed(c.Data, t.pick); len(out) > 0 {
				stub.Output <- &stream.StreamChunk{Data: out, Timestamp: c.Timestamp}
			}
		}
	}
}

// pick draws whether the next response is rewritten, and returns its status if so.
func (t *ErrorToxic) pick() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rng == nil {
		t.rng = rand.New(rand.NewPCG(uint64(t.Seed), 0))
	}
	if t.rng.Float64() >= t.Ratio {
		return 0
	}
	if t.Status < 100 || t.Status > 999 {
		return http.StatusServiceUnavailable
	}
	return t.Status
}
