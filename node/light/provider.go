package light

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cometbft/cometbft/light/provider"
	httpprovider "github.com/cometbft/cometbft/light/provider/http"
	cmttypes "github.com/cometbft/cometbft/types"
)

// ProviderFaultError means a node served something wrong while the light
// client fetched headers. It matches ErrInvalidLightBlock (a primary's
// fault) or ErrDivergence (a witness's) with errors.Is.
type ProviderFaultError struct {
	Role   string // "primary" or "witness"
	URL    string
	Height int64
	Err    error
}

// Error names the node, the height and what was wrong.
func (e *ProviderFaultError) Error() string {
	kind := ErrInvalidLightBlock
	if e.Role != "primary" {
		kind = ErrDivergence
	}
	return fmt.Sprintf("%s: %s %s at height %d: %s", kind, e.Role, e.URL, e.Height, e.Err)
}

// Unwrap returns the kind sentinel and the provider's error.
func (e *ProviderFaultError) Unwrap() []error {
	if e.Role == "primary" {
		return []error{ErrInvalidLightBlock, e.Err}
	}
	return []error{ErrDivergence, e.Err}
}

// DivergenceError means two nodes served different headers for one height.
// It matches ErrDivergence.
type DivergenceError struct {
	Height       int64
	First, Other string // "primary URL" / "witness URL"
	FirstHash    []byte
	OtherHash    []byte
}

// Error names both nodes and both header hashes.
func (e *DivergenceError) Error() string {
	return fmt.Sprintf("%s: at height %d %s served header %X but %s served %X", ErrDivergence, e.Height, e.First, e.FirstHash, e.Other, e.OtherHash)
}

// Unwrap makes errors.Is(err, ErrDivergence) true.
func (e *DivergenceError) Unwrap() error { return ErrDivergence }

// recorder sees every light block the providers of one session serve: it
// keeps the first of each height (the candidates for a bundle's path),
// notes when two providers serve different headers for a height, and notes
// faults the light client would otherwise silently work around.
type recorder struct {
	warnFn func(msg string)
	warned map[string]bool // witnesses already warned about
	mu     sync.Mutex
	blocks map[int64]*cmttypes.LightBlock
	source map[int64]string
	urls   map[provider.Provider]string
	faults []error
}

func newRecorder(warnFn func(msg string)) *recorder {
	return &recorder{warnFn: warnFn, warned: map[string]bool{}, blocks: map[int64]*cmttypes.LightBlock{}, source: map[int64]string{}, urls: map[provider.Provider]string{}}
}

// watch returns an HTTP provider for url that reports to r.
func (r *recorder) watch(role, url, chainID string) (provider.Provider, error) {
	p, err := httpprovider.New(chainID, url)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", role, url, err)
	}
	w := &watchedProvider{Provider: p, role: role, url: url, rec: r}
	r.mu.Lock()
	r.urls[w] = url
	r.mu.Unlock()
	return w, nil
}

func (r *recorder) urlOf(p provider.Provider) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.urls[p]
}

func (r *recorder) observe(w *watchedProvider, height int64, lb *cmttypes.LightBlock, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		var bad provider.ErrBadLightBlock
		benign := errors.Is(err, provider.ErrLightBlockNotFound) || errors.Is(err, provider.ErrHeightTooHigh) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
		switch {
		case errors.As(err, &bad) || (w.role == "primary" && !benign):
			r.faults = append(r.faults, &ProviderFaultError{Role: w.role, URL: w.url, Height: height, Err: err})
		case w.role == "witness" && !benign && !r.warned[w.url]:
			// the light client drops a witness that stops answering;
			// say so once
			r.warned[w.url] = true
			r.warnFn(fmt.Sprintf("witness %s stopped answering at header %d (%s); the light client continues without it", w.url, height, err))
		}
		return
	}
	who := w.role + " " + w.url
	prev, ok := r.blocks[lb.Height]
	switch {
	case !ok:
		r.blocks[lb.Height], r.source[lb.Height] = lb, who
	case !bytes.Equal(prev.Hash(), lb.Hash()):
		r.faults = append(r.faults, &DivergenceError{Height: lb.Height, First: r.source[lb.Height], FirstHash: prev.Hash(), Other: who, OtherHash: lb.Hash()})
	}
}

// fault returns the most telling fault seen (a divergence first), or nil.
func (r *recorder) fault() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.faults {
		var d *DivergenceError
		if errors.As(f, &d) {
			return f
		}
	}
	if len(r.faults) > 0 {
		return r.faults[0]
	}
	return nil
}

// candidates returns the blocks seen, by height.
func (r *recorder) candidates() []*cmttypes.LightBlock {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*cmttypes.LightBlock, 0, len(r.blocks))
	for _, lb := range r.blocks {
		out = append(out, lb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Height < out[j].Height })
	return out
}

// watchedProvider is a provider whose answers a recorder sees.
type watchedProvider struct {
	provider.Provider
	role, url string
	rec       *recorder
}

// LightBlock fetches from the underlying provider and reports to the recorder.
func (w *watchedProvider) LightBlock(ctx context.Context, height int64) (*cmttypes.LightBlock, error) {
	lb, err := w.Provider.LightBlock(ctx, height)
	w.rec.observe(w, height, lb, err)
	return lb, err
}

// String names the provider in the light client's logs.
func (w *watchedProvider) String() string { return w.role + " " + w.url }
