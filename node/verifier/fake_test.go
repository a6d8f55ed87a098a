package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/node/verifier"
	"github.com/credledger/credledger/types"
)

// fakeClient answers like a light client with no records: a verdict of
// not_anchored from a header of age, or err; verifyFn, if set, runs first.
type fakeClient struct {
	mu       sync.Mutex
	err      error
	age      time.Duration
	verifyFn func(ctx context.Context) error
	calls    int
	inUse    bool // set while a call runs, to catch concurrent calls
}

func (f *fakeClient) Verify(ctx context.Context, hash []byte, atHeight int64) (*types.Report, error) {
	f.mu.Lock()
	if f.inUse {
		f.mu.Unlock()
		panic("concurrent call")
	}
	f.inUse = true
	f.calls++
	fn, err, age := f.verifyFn, f.err, f.age
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inUse = false
		f.mu.Unlock()
	}()
	if fn != nil && err == nil {
		err = fn(ctx)
	}
	if err != nil {
		return nil, err
	}
	height := atHeight
	if height == 0 {
		height = 41
	}
	return &types.Report{
		CredentialResult: &types.CredentialResult{Hash: hash, Verdict: types.VerdictNotAnchored},
		ChainID:          "fake-chain", Height: height, HeaderHeight: height + 1, HeaderTime: time.Now().Add(-age),
		HeaderHash: make([]byte, 32), AppHash: make([]byte, 32),
	}, nil
}

func (f *fakeClient) Prove(ctx context.Context, hash []byte, atHeight int64) (*bundle.Bundle, *types.Report, error) {
	rep, err := f.Verify(ctx, hash, atHeight)
	if err != nil {
		return nil, nil, err
	}
	return &bundle.Bundle{Format: bundle.Format, ChainID: rep.ChainID, Hash: hash, Height: rep.Height}, rep, nil
}

// HeightAt maps a time to a height the way tests can predict: the
// number of whole hours since 2026-01-01, and a height-unavailable error
// before then.
func (f *fakeClient) HeightAt(_ context.Context, t time.Time) (int64, error) {
	h := int64(t.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Hour)
	if h <= 0 {
		return 0, types.Errorf(types.CodeHeightUnavailable, "%s is before the chain's first state", t)
	}
	return h, nil
}

// callCount returns how many calls were made.
func (f *fakeClient) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeClient) set(fn func(f *fakeClient)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func newFakeServer(t *testing.T, f *fakeClient, opts ...verifier.Option) (*verifier.Server, string) {
	t.Helper()
	srv, err := verifier.New(f, opts...)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

const someHash = "5f0c000000000000000000000000000000000000000000000000000000000000"

func TestNewOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []verifier.Option
		msg  string
	}{
		{"defaults", nil, ""},
		{"zero max body", []verifier.Option{verifier.WithMaxBody(0)}, "max body 0"},
		{"max body above the JSON limit", []verifier.Option{verifier.WithMaxBody(1 << 40)}, "max body"},
		{"zero timeout", []verifier.Option{verifier.WithTimeout(0)}, "timeout"},
		{"negative max age", []verifier.Option{verifier.WithMaxAge(-time.Second)}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.New(&fakeClient{}, tc.opts...)
			if tc.msg == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.msg)
		})
	}
	_, err := verifier.New(nil)
	require.Error(t, err)
}

func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"stale primary", &light.StalePrimaryError{Primary: "p", Witness: "w"}, http.StatusBadGateway},
		{"divergence", fmt.Errorf("header 5: %w", light.ErrDivergence), http.StatusBadGateway},
		{"invalid light block", &light.ProviderFaultError{Role: "primary", Err: errors.New("bad")}, http.StatusBadGateway},
		{"faulty witness", &light.ProviderFaultError{Role: "witness", Err: errors.New("bad")}, http.StatusBadGateway},
		{"bad proof", fmt.Errorf("credential answer: %w", types.ErrProofInvalid), http.StatusBadGateway},
		{"malformed answer", fmt.Errorf("x: %w", types.ErrMalformedAnswer), http.StatusBadGateway},
		{"header not verified", fmt.Errorf("x: %w", bundle.ErrHeaderNotVerified), http.StatusBadGateway},
		{"other chain", fmt.Errorf("x: %w", bundle.ErrTrustRoot), http.StatusBadGateway},
		{"unreachable", fmt.Errorf("%w: cannot reach primary", light.ErrUnreachable), http.StatusBadGateway},
		{"anything else", errors.New("header 9 did not appear within 10s"), http.StatusBadGateway},
		{"a lie found after the deadline", fmt.Errorf("%w (light client: %w)", light.ErrDivergence, context.DeadlineExceeded), http.StatusBadGateway},
		{"timeout", fmt.Errorf("query primary: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"unreachable in time", fmt.Errorf("%w: %w", light.ErrUnreachable, context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"no witness", fmt.Errorf("%w: none answered", light.ErrNoWitness), http.StatusServiceUnavailable},
		{"stale", verifier.ErrStale, http.StatusServiceUnavailable},
		{"stopped", verifier.ErrStopped, http.StatusServiceUnavailable},
		{"latest height not stored in time", fmt.Errorf("query: %w", types.Errorf(types.CodeHeightUnavailable, "no")), http.StatusBadGateway},
		{"several issuers", &types.AmbiguousIssuerError{Issuers: []string{"a", "b"}}, http.StatusConflict},
		{"request", &verifier.RequestError{Code: http.StatusTeapot, Err: errors.New("x")}, http.StatusTeapot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.code, verifier.StatusCode(tc.err))
		})
	}
}

func TestUpstreamErrors(t *testing.T) {
	f := &fakeClient{}
	_, url := newFakeServer(t, f)
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"lying primary", fmt.Errorf("credential answer of primary: %w", types.ErrProofInvalid), http.StatusBadGateway},
		{"no witness", fmt.Errorf("%w: none of the 1 witness(es) answered", light.ErrNoWitness), http.StatusServiceUnavailable},
		{"timeout", fmt.Errorf("query primary: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.set(func(f *fakeClient) { f.err = tc.err })
			for _, a := range []answer{
				get(t, url+"/v1/credentials/"+someHash),
				get(t, url+"/v1/credentials/"+someHash+"/bundle"),
				do(t, http.MethodPost, url+"/v1/verify", []byte(`{"a":1}`), ""),
			} {
				requireError(t, a, tc.code, tc.err.Error())
			}
			h := get(t, url+"/healthz")
			require.Equal(t, http.StatusServiceUnavailable, h.code)
			require.Equal(t, "unavailable", h.json["status"])
			require.Equal(t, tc.err.Error(), h.json["error"])
		})
	}
}

func TestHealthz(t *testing.T) {
	f := &fakeClient{err: errors.New("node unreachable")}
	_, url := newFakeServer(t, f, verifier.WithHealthInterval(time.Hour))
	t.Run("before a header is verified", func(t *testing.T) {
		a := get(t, url+"/healthz")
		require.Equal(t, http.StatusServiceUnavailable, a.code)
		require.Equal(t, map[string]any{"status": "unavailable", "error": "node unreachable"}, a.json)
		m := get(t, url+"/metrics")
		require.NotContains(t, string(m.raw), "credledger_verifier_verified_height")
	})
	f.set(func(f *fakeClient) { f.err = nil })
	t.Run("ready", func(t *testing.T) {
		a := get(t, url+"/healthz")
		require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
		require.Equal(t, "ok", a.json["status"])
		require.Equal(t, float64(41), a.json["height"])
		require.Equal(t, float64(42), a.json["header_height"])
		require.Equal(t, "fake-chain", a.json["chain_id"])
		m := get(t, url+"/metrics")
		require.Contains(t, string(m.raw), "credledger_verifier_verified_height 42\n")
	})
	t.Run("readiness is cached", func(t *testing.T) {
		f.set(func(f *fakeClient) { f.err, f.calls = errors.New("down"), 0 })
		require.Equal(t, http.StatusOK, get(t, url+"/healthz").code)
		require.Zero(t, f.callCount())
	})
}

func TestHealthzRefreshes(t *testing.T) {
	f := &fakeClient{}
	_, url := newFakeServer(t, f, verifier.WithHealthInterval(0))
	require.Equal(t, http.StatusOK, get(t, url+"/healthz").code)
	f.set(func(f *fakeClient) { f.err = errors.New("down") })
	a := get(t, url+"/healthz")
	require.Equal(t, http.StatusServiceUnavailable, a.code)
	require.Equal(t, "down", a.json["error"])
	require.Equal(t, float64(42), a.json["header_height"], "the last verified header is still shown")
}

func TestStaleHeader(t *testing.T) {
	f := &fakeClient{age: time.Hour}
	_, url := newFakeServer(t, f, verifier.WithMaxAge(time.Minute))
	requireError(t, get(t, url+"/v1/credentials/"+someHash), http.StatusServiceUnavailable, "older than the 1m0s limit")
	h := get(t, url+"/healthz")
	require.Equal(t, http.StatusServiceUnavailable, h.code)
	require.Contains(t, h.json["error"], "is the chain producing blocks?")
	// a verdict about a past state is proven from the latest state's
	// records: a stale proving header is refused as well
	requireError(t, get(t, url+"/v1/credentials/"+someHash+"?at_height=7"), http.StatusServiceUnavailable, "older than the 1m0s limit")
	requireError(t, get(t, url+"/v1/credentials/"+someHash+"?at_time=2026-01-01T07:00:00Z"), http.StatusServiceUnavailable, "older than the 1m0s limit")

	_, url = newFakeServer(t, f, verifier.WithMaxAge(0))
	requireFakeVerdict(t, get(t, url+"/v1/credentials/"+someHash))
}

func TestGenesisSHA256(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		opts []verifier.Option
		want any
	}{
		{"given", []verifier.Option{verifier.WithGenesisSHA256(digest)}, digest},
		{"not given", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := newFakeServer(t, &fakeClient{}, tc.opts...)
			require.Equal(t, tc.want, requireFakeVerdict(t, get(t, url+"/v1/credentials/"+someHash))["genesis_sha256"])
			require.Equal(t, tc.want, requireFakeVerdict(t, do(t, http.MethodPost, url+"/v1/verify", []byte(`{}`), ""))["genesis_sha256"])
			require.Equal(t, tc.want, get(t, url+"/healthz").json["genesis_sha256"])
		})
	}
}

func requireFakeVerdict(t *testing.T, a answer) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
	require.Equal(t, string(types.VerdictNotAnchored), a.json["verdict"])
	return a.json
}

func TestPanicIsA500(t *testing.T) {
	f := &fakeClient{}
	_, url := newFakeServer(t, f)
	f.set(func(f *fakeClient) { f.verifyFn = func(context.Context) error { panic("boom") } })
	a := get(t, url+"/v1/credentials/"+someHash)
	requireError(t, a, http.StatusInternalServerError, "internal error (a bug in the verifier, logged): boom")
	f.set(func(f *fakeClient) { f.verifyFn = nil })
	requireFakeVerdict(t, get(t, url+"/v1/credentials/"+someHash))
	require.Contains(t, string(get(t, url+"/metrics").raw), `credledger_verifier_requests_total{code="500",route="/v1/credentials/{hash}",verdict=""} 1`)
}

func TestCallsAreSerialized(t *testing.T) {
	f := &fakeClient{verifyFn: func(context.Context) error {
		time.Sleep(2 * time.Millisecond)
		return nil
	}}
	_, url := newFakeServer(t, f)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/v1/credentials/" + someHash
			if i%3 == 0 {
				path += "/bundle"
			}
			a, err := send(t.Context(), http.MethodGet, url+path, nil, "")
			if err != nil || a.code != http.StatusOK {
				t.Errorf("%s: %d %s %v", path, a.code, a.raw, err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 20, f.callCount())
}

func TestTimeoutWaitingForTheClient(t *testing.T) {
	release := make(chan struct{})
	f := &fakeClient{verifyFn: func(ctx context.Context) error {
		<-release // holds the client past its own deadline
		return ctx.Err()
	}}
	_, url := newFakeServer(t, f, verifier.WithTimeout(200*time.Millisecond))
	first := make(chan answer, 1)
	go func() {
		a, _ := send(t.Context(), http.MethodGet, url+"/v1/credentials/"+someHash, nil, "")
		first <- a
	}()
	require.Eventually(t, func() bool { return f.callCount() == 1 }, 5*time.Second, 5*time.Millisecond)
	requireError(t, get(t, url+"/v1/credentials/"+someHash), http.StatusGatewayTimeout, "busy with other requests")
	close(release)
	a := <-first
	require.Equal(t, http.StatusGatewayTimeout, a.code)
}

func TestStop(t *testing.T) {
	f := &fakeClient{}
	srv, url := newFakeServer(t, f)
	requireFakeVerdict(t, get(t, url+"/v1/credentials/"+someHash))
	require.NoError(t, srv.Stop(t.Context()))
	requireError(t, get(t, url+"/v1/credentials/"+someHash), http.StatusServiceUnavailable, "shutting down")
	require.Equal(t, http.StatusServiceUnavailable, get(t, url+"/healthz").code)
	require.Equal(t, 1, f.callCount())
}

func TestHeadAndErrorsAreJSON(t *testing.T) {
	f := &fakeClient{}
	_, url := newFakeServer(t, f)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, url+"/v1/credentials/"+someHash, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, path := range []string{"/nope", "/v1/credentials/" + strings.Repeat("g", 64), "/v1/credentials/%00"} {
		a := get(t, url+path)
		require.Equal(t, "application/json", a.ct, path)
		require.NotEmpty(t, a.json["error"], path)
		require.Less(t, a.code, 500, path)
	}
}
