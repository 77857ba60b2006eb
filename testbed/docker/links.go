package docker

import (
	"context"
	"fmt"
	"sync"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/mscli/mscli/testbed"
)

// ---- links ----

type proxyLink struct {
	name  string
	port  string // inside the toxiproxy container
	mu    sync.Mutex
	proxy *toxiclient.Proxy
}

func (l *proxyLink) Name() string { return l.name }

// The toxiproxy client takes no context: each call is bounded by the fault's, so a
// wedged toxiproxy fails the fault instead of hanging the run.

func (l *proxyLink) AddToxic(ctx context.Context, name, typ, stream string, toxicity float32, attrs map[string]any) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, err := l.proxy.AddToxic(name, typ, stream, toxicity, toxiclient.Attributes(attrs)); err != nil {
			return fmt.Errorf("proxy %s: add toxic %q (%s %s): %w", l.name, name, typ, stream, err)
		}
		return nil
	})
}

func (l *proxyLink) RemoveToxic(ctx context.Context, name string) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := l.proxy.RemoveToxic(name); err != nil {
			return fmt.Errorf("proxy %s: remove toxic %q: %w", l.name, name, err)
		}
		return nil
	})
}

func (l *proxyLink) SetEnabled(ctx context.Context, enabled bool) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		var err error
		if enabled {
			err = l.proxy.Enable()
		} else {
			err = l.proxy.Disable()
		}
		if err != nil {
			return fmt.Errorf("proxy %s: enabled=%v: %w", l.name, enabled, err)
		}
		return nil
	})
}
