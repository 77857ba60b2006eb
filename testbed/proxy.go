package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	_ "github.com/mscli/mscli/testbed/httptoxic" // the http_error toxic, which http-errors adds
)

// Proxies is an in-process toxiproxy server (the library, not its HTTP API): one
// proxy per link end to end, every one listening on 127.0.0.1.
type Proxies struct {
	srv   *toxiproxy.ApiServer
	mu    sync.Mutex
	links map[string]*ProxyLink
}

// NewProxies returns an empty proxy server. Its logs are discarded: toxiproxy logs every
// connection, and faults are recorded by the scheduler instead.
func NewProxies() *Proxies {
	return &Proxies{
		srv:   toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()),
		links: map[string]*ProxyLink{},
	}
}

// Add starts a proxy named name on a free 127.0.0.1 port, forwarding to upstream.
func (p *Proxies) Add(name, upstream string) (*ProxyLink, error) {
	proxy := toxiproxy.NewProxy(p.srv, name, "127.0.0.1:0", upstream)
	if err := p.srv.Collection.Add(proxy, true); err != nil {
		return nil, fmt.Errorf("start proxy %q: %w", name, err)
	}
	l := &ProxyLink{name: name, proxy: proxy}
	p.mu.Lock()
	p.links[name] = l
	p.mu.Unlock()
	return l, nil
}

// Get returns the proxy named name, or nil.
func (p *Proxies) Get(name string) *ProxyLink {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.links[name]
}

// All returns every proxy, by name.
func (p *Proxies) All() []*ProxyLink {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*ProxyLink, 0, len(p.links))
	for _, l := range p.links {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Close stops every proxy, closing its listener and connections. It may be called
// more than once.
func (p *Proxies) Close() error {
	p.mu.Lock()
	p.links = map[string]*ProxyLink{}
	p.mu.Unlock()
	return p.srv.Collection.Clear()
}

// ProxyLink is one toxiproxy proxy seen as a link (it satisfies Link and chaos.Link).
type ProxyLink struct {
	name  string
	proxy *toxiproxy.Proxy
}

// NewProxyLink wraps an existing proxy.
func NewProxyLink(name string, p *toxiproxy.Proxy) *ProxyLink {
	return &ProxyLink{name: name, proxy: p}
}

// Name is the link's name ("client->bank/0").
func (l *ProxyLink) Name() string { return l.name }

// Proxy is the underlying toxiproxy proxy.
func (l *ProxyLink) Proxy() *toxiproxy.Proxy { return l.proxy }

// Listen is the proxy's address: connect here to cross the link. It stays the same
// when the proxy is disabled and enabled again.
func (l *ProxyLink) Listen() string {
	l.proxy.Lock()
	defer l.proxy.Unlock()
	return l.proxy.Listen
}

// Upstream is where the proxy forwards to.
func (l *ProxyLink) Upstream() string {
	l.proxy.Lock()
	defer l.proxy.Unlock()
	return l.proxy.Upstream
}

// AddToxic adds a toxic as toxiproxy's API does: a type ("latency", "timeout", …), a
// stream ("upstream" or "downstream"), a toxicity in [0,1] and the type's attributes.
func (l *ProxyLink) AddToxic(ctx context.Context, name, typ, stream string, toxicity float32, attrs map[string]any) error {
	// The library adds toxics only from their JSON form, which also validates them.
	body, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": stream, "toxicity": toxicity, "attributes": attrs,
	})
	if err != nil {
		return err
	}
	return Bounded(ctx, func() error {
		if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("proxy %s: add toxic %q (%s %s): %w", l.name, name, typ, stream, err)
		}
		return nil
	})
}

// RemoveToxic removes a toxic by name.
func (l *ProxyLink) RemoveToxic(ctx context.Context, name string) error {
	return Bounded(ctx, func() error {
		if err := l.proxy.Toxics.RemoveToxic(ctx, name); err != nil {
			return fmt.Errorf("proxy %s: remove toxic %q: %w", l.name, name, err)
		}
		return nil
	})
}

// Bounded runs a call that takes no context (toxiproxy's) and gives up when ctx ends:
// a wedged proxy then fails the fault's apply or heal, which the run reports, instead
// of hanging the run. The call itself may go on in the background.
func Bounded(ctx context.Context, call func() error) error {
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("toxiproxy did not answer: %w", context.Cause(ctx))
	}
}

// SetEnabled enables or disables the proxy. Disabled, it closes its listener (new
// connections are refused) and every open connection; enabled again, it listens on
// the same address.
func (l *ProxyLink) SetEnabled(_ context.Context, enabled bool) error {
	if !enabled {
		l.proxy.Stop()
		return nil
	}
	if err := l.proxy.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
		return fmt.Errorf("proxy %s: enable: %w", l.name, err)
	}
	return nil
}
