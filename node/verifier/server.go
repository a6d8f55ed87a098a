package verifier

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/libs/log"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credhash"
)

// Server defaults.
const (
	// DefaultMaxBody is the largest credential POST /v1/verify reads: 1 MiB.
	DefaultMaxBody = 1 << 20
	// DefaultTimeout bounds each request's use of the light client,
	// waiting for it included.
	DefaultTimeout = time.Minute
	// DefaultMaxAge is the oldest the verified header of a latest-state
	// verdict may be, as "credledger verify" online: a live chain makes a
	// block at least every 30 s.
	DefaultMaxAge = 2 * time.Minute
	// DefaultHealthInterval is how long /healthz trusts the last
	// latest-state verification before it verifies again.
	DefaultHealthInterval = 15 * time.Second
)

// LightClient is what a Server asks for verified answers; *light.Client
// is one. The Server never calls it concurrently.
type LightClient interface {
	Verify(ctx context.Context, hash []byte, atHeight int64) (*types.Report, error)
	Prove(ctx context.Context, hash []byte, atHeight int64) (*bundle.Bundle, *types.Report, error)
	// HeightAt returns the newest state height committed by time t.
	HeightAt(ctx context.Context, t time.Time) (int64, error)
}

var _ LightClient = (*light.Client)(nil)

// config holds the optional settings of a Server.
type config struct {
	maxBody        int64
	timeout        time.Duration
	maxAge         time.Duration
	healthInterval time.Duration
	genesisSHA256  string
	genesis        []byte // the genesis the web page pins (WithGenesis)
	logger         log.Logger
}

// Option sets an optional setting of a Server.
type Option func(*config)

// WithMaxBody sets the largest credential POST /v1/verify accepts
// (default DefaultMaxBody); larger bodies get 413. Requires 0 < n <=
// credhash.MaxJSONSize.
func WithMaxBody(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithTimeout bounds each request's use of the light client, waiting for
// it included (default DefaultTimeout); a request that runs out gets 504.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithMaxAge sets how old the verified header of a latest-state verdict
// (no at_height) may be before the answer is 503 instead (default
// DefaultMaxAge; 0: any age). /healthz fails past it too.
func WithMaxAge(d time.Duration) Option { return func(c *config) { c.maxAge = d } }

// WithHealthInterval sets how long /healthz trusts the last latest-state
// verification before it verifies again (default DefaultHealthInterval).
func WithHealthInterval(d time.Duration) Option { return func(c *config) { c.healthInterval = d } }

// WithGenesisSHA256 names the fingerprint of the genesis the light client
// trusts (the SHA-256 of the file, as "credledger genesis-hash" prints it),
// which every verdict and /healthz then report as genesis_sha256 (default:
// none, and the field is left out).
func WithGenesisSHA256(digest string) Option { return func(c *config) { c.genesisSHA256 = digest } }

// WithLogger logs panics (error) and failed requests (info) to logger
// (default: none).
func WithLogger(logger log.Logger) Option { return func(c *config) { c.logger = logger } }

// Server is the verifier HTTP service over one warm light client. It is
// safe for concurrent requests: they share the light client, and its calls
// are serialized (one at a time, in no set order), each bounded by the
// request's context and the timeout. Heavy use therefore queues; run
// several Servers, each with its own light client and light home, to
// answer in parallel.
type Server struct {
	cfg     config
	lc      LightClient
	busy    chan struct{} // holds a token while the light client is in use
	metrics *metrics
	handler http.Handler

	stopOnce sync.Once
	stopped  chan struct{} // closed by Stop

	mu      sync.Mutex // guards the fields below
	newest  *types.Report
	checked time.Time // when a latest-state verdict last verified a header
}

// New returns a Server answering from lc, which it never calls
// concurrently; lc stays the caller's to close, after Stop.
func New(lc LightClient, opts ...Option) (*Server, error) {
	cfg := config{maxBody: DefaultMaxBody, timeout: DefaultTimeout, maxAge: DefaultMaxAge,
		healthInterval: DefaultHealthInterval, logger: log.NewNopLogger()}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case lc == nil:
		return nil, errors.New("no light client")
	case cfg.maxBody <= 0 || cfg.maxBody > credhash.MaxJSONSize:
		return nil, fmt.Errorf("max body %d: want 1..%d bytes", cfg.maxBody, credhash.MaxJSONSize)
	case cfg.timeout <= 0:
		return nil, fmt.Errorf("timeout %s: want a positive duration", cfg.timeout)
	case cfg.maxAge < 0 || cfg.healthInterval < 0:
		return nil, errors.New("max age and health interval must not be negative")
	}
	s := &Server{cfg: cfg, lc: lc, busy: make(chan struct{}, 1), stopped: make(chan struct{})}
	m, err := newMetrics(s.newestHeader)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the service (see the package
// documentation for its routes).
func (s *Server) Handler() http.Handler { return s.handler }

// route is one route of the service.
type route struct {
	pattern string   // ServeMux pattern, without a method
	label   string   // the route label of the metrics
	method  string   // the method it answers (GET also answers HEAD)
	params  []string // the query parameters it accepts (nil: none; "*": any)
	handle  handleFn
}

// handleFn answers a request: a reply, or an error the wrapper turns into
// an ErrorJSON with StatusCode. A nil reply means the handler wrote the
// answer itself.
type handleFn func(w http.ResponseWriter, r *http.Request) (*reply, error)

// reply is an answer the handler chose.
type reply struct {
	code    int    // default 200
	body    any    // sent as JSON
	raw     []byte // sent as is, with header, instead of body
	header  http.Header
	verdict types.Verdict // the metrics' verdict label
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	for _, rt := range []route{
		{pattern: "/v1/credentials/{hash}", method: http.MethodGet, params: []string{"issuer", "at_height", "at_time"}, handle: s.credential},
		{pattern: "/v1/credentials/{hash}/bundle", method: http.MethodGet, params: []string{"at_height", "at_time"}, handle: s.bundle},
		{pattern: "/v1/verify", method: http.MethodPost, params: []string{"issuer", "at_height", "at_time"}, handle: s.verifyCredential},
		{pattern: "/healthz", method: http.MethodGet, handle: s.healthz},
		{pattern: "/metrics", method: http.MethodGet, params: []string{"*"}, handle: func(w http.ResponseWriter, r *http.Request) (*reply, error) {
			metrics.ServeHTTP(w, r)
			return nil, nil
		}},
		// GET / is the web page, with its assets (page.go); any other path
		// the routes above do not match is 404
		{pattern: "/", label: "other", params: []string{"*"}, handle: s.pageRoute()},
	} {
		if rt.label == "" {
			rt.label = rt.pattern
		}
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	return mux
}

// wrap checks the method and query parameters, runs the handler, writes
// its reply or error, counts the request, and turns a panic into a logged
// 500.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		var verdict types.Verdict
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel net/http panics with
					panic(p)
				}
				s.cfg.logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, nil, ErrorJSON{Error: fmt.Sprintf("internal error (a bug in the verifier, logged): %v", p)})
				}
			}
			s.metrics.requests.WithLabelValues(rt.label, strconv.Itoa(rec.code()), string(verdict)).Inc()
		}()
		var rep *reply
		err := admit(rt, r)
		if err == nil {
			rep, err = rt.handle(rec, r)
		}
		switch {
		case err != nil:
			code := StatusCode(err)
			if code >= 500 {
				s.cfg.logger.Info("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err.Error())
			}
			var h http.Header
			if code == http.StatusMethodNotAllowed {
				h = http.Header{"Allow": allowed(rt.method)}
			}
			writeJSON(rec, code, h, errorJSON(err))
		case rep == nil: // written by the handler
		case rep.raw != nil:
			copyHeader(rec.Header(), rep.header)
			rec.WriteHeader(cmp.Or(rep.code, http.StatusOK))
			_, _ = rec.Write(rep.raw)
		default:
			verdict = rep.verdict
			writeJSON(rec, cmp.Or(rep.code, http.StatusOK), rep.header, rep.body)
		}
	})
}

// admit checks the request's method and query parameters against the
// route.
func admit(rt route, r *http.Request) error {
	if rt.method != "" && r.Method != rt.method && (rt.method != http.MethodGet || r.Method != http.MethodHead) {
		return badRequest(http.StatusMethodNotAllowed, "method %s not allowed on %s: use %s", r.Method, r.URL.Path, rt.method)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badRequest(http.StatusBadRequest, "query string: %w", err)
	}
	if slices.Contains(rt.params, "*") {
		return nil
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(rt.params, k):
			what := "no query parameters"
			if len(rt.params) > 0 {
				what = "only " + strings.Join(rt.params, ", ")
			}
			return badRequest(http.StatusBadRequest, "unknown query parameter %q: %s %s takes %s", k, rt.method, rt.pattern, what)
		case len(vs) > 1:
			return badRequest(http.StatusBadRequest, "query parameter %q given %d times: give it once", k, len(vs))
		}
	}
	return nil
}

func allowed(method string) []string {
	if method == http.MethodGet {
		return []string{"GET, HEAD"}
	}
	return []string{method}
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}

// writeJSON writes v as the JSON answer, with code and the extra header.
func writeJSON(w http.ResponseWriter, code int, h http.Header, v any) {
	bz, err := json.Marshal(v)
	if err != nil { // our own types: cannot happen
		code, bz = http.StatusInternalServerError, []byte(`{"error":"internal error: encode answer"}`)
	}
	copyHeader(w.Header(), h)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(bz, '\n'))
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records code and passes it on.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write passes b on (the status is 200 if none was written).
func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) code() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.status
}

// useClient runs fn with the light client, once no other request uses it,
// with the context bounded by the timeout, and times it as op.
func (s *Server) useClient(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	select {
	case s.busy <- struct{}{}:
	case <-s.stopped:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("wait for the light client, busy with other requests: %w", ctx.Err())
	}
	defer func() { <-s.busy }()
	select {
	case <-s.stopped: // Stop waits for this token
		return ErrStopped
	default:
	}
	start := time.Now()
	defer func() { s.metrics.lightSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds()) }()
	return fn(ctx)
}

// verdictJSON returns the JSON of rep, with what the server knows of its
// trust root.
func (s *Server) verdictJSON(rep *types.Report) VerdictJSON {
	j := NewVerdictJSON(rep, SourceLightClient, time.Now())
	j.GenesisSHA256 = s.cfg.genesisSHA256
	return j
}

// verify asks the light client about hash as of the past point at (the
// latest state when zero) and notes the header it verified.
func (s *Server) verify(ctx context.Context, hash []byte, at pastPoint) (*types.Report, error) {
	var rep *types.Report
	err := s.useClient(ctx, "verify", func(ctx context.Context) error {
		h, err := s.heightOf(ctx, at)
		if err != nil {
			return err
		}
		rep, err = s.lc.Verify(ctx, hash, h)
		return err
	})
	if err != nil {
		return nil, heightError(err, at)
	}
	s.noteHeader(rep, true)
	if err := s.checkAge(rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// prove asks the light client for a bundle about hash as of at.
func (s *Server) prove(ctx context.Context, hash []byte, at pastPoint) (*bundle.Bundle, error) {
	var b *bundle.Bundle
	err := s.useClient(ctx, "prove", func(ctx context.Context) error {
		h, err := s.heightOf(ctx, at)
		if err != nil {
			return err
		}
		var rep *types.Report
		if b, rep, err = s.lc.Prove(ctx, hash, h); err == nil {
			s.noteHeader(rep, false)
		}
		return err
	})
	return b, heightError(err, at)
}

// pastPoint is the past state a request asks about: a height (at_height),
// or the newest state committed by a time (at_time); zero for the latest.
type pastPoint struct {
	height int64
	time   time.Time
}

func (p pastPoint) String() string {
	if !p.time.IsZero() {
		return "at_time " + p.time.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("at_height %d", p.height)
}

// heightOf returns the state height at stands for (0: the latest).
func (s *Server) heightOf(ctx context.Context, at pastPoint) (int64, error) {
	if at.time.IsZero() {
		return at.height, nil
	}
	return s.lc.HeightAt(ctx, at.time)
}

// heightError makes the failure to answer about an asked-for height that
// the primary does not have a 404.
func heightError(err error, at pastPoint) error {
	if at != (pastPoint{}) && types.CodeOf(err) == types.CodeHeightUnavailable {
		return badRequest(http.StatusNotFound, "%s: there is no such state: %w", at, err)
	}
	if errors.Is(err, types.ErrHistoryNotRetained) {
		return badRequest(http.StatusNotFound, "%s: %w", at, err)
	}
	return err
}

// noteHeader keeps rep if its header is the newest verified; latest says
// it answered about the latest state.
func (s *Server) noteHeader(rep *types.Report, latest bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.newest == nil || rep.HeaderHeight >= s.newest.HeaderHeight {
		s.newest = rep
	}
	if latest {
		s.checked = time.Now()
	}
}

// newestHeader returns the height and time of the newest verified header.
func (s *Server) newestHeader() (int64, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.newest == nil {
		return 0, time.Time{}, false
	}
	return s.newest.HeaderHeight, s.newest.HeaderTime, true
}

// checkAge fails with ErrStale if rep's header is older than the max age.
func (s *Server) checkAge(rep *types.Report) error {
	age := time.Since(rep.HeaderTime)
	if s.cfg.maxAge == 0 || age <= s.cfg.maxAge {
		return nil
	}
	return fmt.Errorf("%w: header %d, the newest the nodes show, is from %s, %s ago, older than the %s limit: is the chain producing blocks?",
		ErrStale, rep.HeaderHeight, timeString(rep.HeaderTime), age.Round(time.Second), s.cfg.maxAge)
}

// Stop waits until no request uses the light client (or ctx is done: then
// it returns ctx's error), and makes later requests that need it fail with
// ErrStopped (503). Once it returned nil the light client may be closed.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopped) })
	select {
	case s.busy <- struct{}{}: // never given back
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the light client to finish: %w", ctx.Err())
	}
}
