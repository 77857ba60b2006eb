package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/mscli/mscli/testbed"
)

// ---- links ----

type proxyLink struct {
	name string
	port string // inside the toxiproxy container ("" for a sidecar's: compose.go)
	mu   sync.Mutex
	// proxies carry the link: one, or a sidecar's, one per port of the dependency.
	proxies []*toxiclient.Proxy
}

func (l *proxyLink) Name() string { return l.name }

// The toxiproxy client takes no context: each call is bounded by the fault's, so a
// wedged toxiproxy fails the fault instead of hanging the run.

func (l *proxyLink) AddToxic(ctx context.Context, name, typ, stream string, toxicity float32, attrs map[string]any) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, p := range l.proxies {
			if _, err := p.AddToxic(name, typ, stream, toxicity, toxiclient.Attributes(attrs)); err != nil {
				// All or nothing: a fault that failed to apply opens no window, so what
				// it put on the link's other proxies comes off again.
				for _, done := range l.proxies[:i] {
					_ = done.RemoveToxic(name)
				}
				return fmt.Errorf("proxy %s: add toxic %q (%s %s): %w", p.Name, name, typ, stream, err)
			}
		}
		return nil
	})
}

func (l *proxyLink) RemoveToxic(ctx context.Context, name string) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		var errs []error
		for _, p := range l.proxies {
			if err := p.RemoveToxic(name); err != nil {
				errs = append(errs, fmt.Errorf("proxy %s: remove toxic %q: %w", p.Name, name, err))
			}
		}
		return errors.Join(errs...)
	})
}

func (l *proxyLink) SetEnabled(ctx context.Context, enabled bool) error {
	return testbed.Bounded(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		var errs []error
		for _, p := range l.proxies {
			var err error
			if enabled {
				err = p.Enable()
			} else {
				err = p.Disable()
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("proxy %s: enabled=%v: %w", p.Name, enabled, err))
			}
		}
		if !enabled && len(errs) > 0 {
			// All or nothing, as for toxics: a cut that failed leaves the link whole.
			for _, p := range l.proxies {
				_ = p.Enable()
			}
		}
		return errors.Join(errs...)
	})
}
