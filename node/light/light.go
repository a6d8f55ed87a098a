package light

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// Light-client defaults.
const (
	// DefaultHeaderWait bounds the wait for the header that proves the
	// latest state (blocks follow a state change at once).
	DefaultHeaderWait = 10 * time.Second
	// witnessProbeTimeout bounds the check that a witness answers.
	witnessProbeTimeout = 5 * time.Second
	// HomeDirName is the default light home under the user's home
	// directory: ~/.credledger-light/CHAIN_ID.
	HomeDirName = ".credledger-light"
	// trustRecordFile, in a light home, names the trust root the trusted
	// store was started from.
	trustRecordFile = "trust_root.json"
)

// Light-client failures, besides bundle.bundle.ErrHeaderNotVerified and
// bundle.bundle.ErrTrustRoot. Match them with errors.Is; the message says which
// node, height or proof failed.
var (
	// ErrStalePrimary means the primary is behind the newest block a
	// witness shows: a verdict from it could hide newer state.
	ErrStalePrimary = errors.New("primary is behind the chain")
	// ErrHeaderTimes means the primary's header times disagree with the
	// verified headers (HeightAt).
	ErrHeaderTimes = errors.New("primary's header times do not match the verified headers")
	// ErrNoWitness means no witness was given. CometBFT's light client
	// cross-checks every header it verifies against at least one witness.
	ErrNoWitness = errors.New("the light client needs at least one witness (another node of the network) to cross-check the primary")
	// ErrDivergence means the primary and a witness served different
	// headers for the same height, or a witness served an invalid one: a
	// fork or an attack on this verifier. It is never retried.
	ErrDivergence = errors.New("primary and witness disagree (possible fork or light client attack)")
	// ErrInvalidLightBlock means the primary served a header, commit or
	// validator set that is malformed, for another chain, or that failed
	// verification, or did not answer.
	ErrInvalidLightBlock = errors.New("primary served an invalid light block")
)

// DefaultHome returns ~/.credledger-light/CHAIN_ID.
func DefaultHome(chainID string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory for the light client store: %w", err)
	}
	return filepath.Join(home, HomeDirName, chainID), nil
}

// config holds the optional settings of a Client.
type config struct {
	home           string
	inMemory       bool
	trustingPeriod time.Duration
	maxClockDrift  time.Duration
	headerWait     time.Duration
	warnFn         func(msg string)
}

// Option sets an optional setting of a Client.
type Option func(*config)

// WithHome keeps the trusted headers in dir (default DefaultHome(chain
// id)).
func WithHome(dir string) Option { return func(c *config) { c.home = dir } }

// WithInMemoryStore keeps the trusted headers in memory only: each new
// Client starts from the trust root (cold) and forgets on Close.
func WithInMemoryStore() Option { return func(c *config) { c.inMemory = true } }

// WithTrustingPeriod sets the trusting period (default bundle.DefaultTrustingPeriod).
func WithTrustingPeriod(d time.Duration) Option {
	return func(c *config) { c.trustingPeriod = d }
}

// WithHeaderWait bounds the wait for a header that is not out yet
// (default DefaultHeaderWait).
func WithHeaderWait(d time.Duration) Option { return func(c *config) { c.headerWait = d } }

// WithWarnFn reports what a verifier should know but that does not stop a
// verdict, such as a witness that does not answer (default: dropped).
// Calls to fn do not overlap, but may come from the light client's own
// goroutines while Verify or Prove runs.
func WithWarnFn(fn func(msg string)) Option { return func(c *config) { c.warnFn = fn } }

// Client verifies credential answers without trusting any node: it
// verifies headers with CometBFT's light client (skipping verification,
// trust level 1/3) from its trust root, from the primary, cross-checked
// against the witnesses, and checks the answers' ICS23 proofs against the
// verified app hash with types.VerifyCredential and types.VerifyIssuer.
// A Client is not safe for concurrent use.
type Client struct {
	chainID   string
	root      bundle.TrustRoot
	primary   *rpcNode
	witnesses []*rpcNode
	cfg       config
	sess      *lightSession // the trusted-store session, opened by the first Verify
}

// New returns a client verifying against primaryURL, cross-checked
// against witnessURLs (at least one; it may repeat the primary on a one-node
// network, which disables the cross-check), starting from root. It asks the
// primary for the chain id, which must match a genesis root's.
func New(ctx context.Context, primaryURL string, witnessURLs []string, root bundle.TrustRoot, opts ...Option) (*Client, error) {
	cfg := config{trustingPeriod: bundle.DefaultTrustingPeriod, maxClockDrift: bundle.DefaultMaxClockDrift, headerWait: DefaultHeaderWait, warnFn: func(string) {}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.trustingPeriod <= 0 {
		return nil, fmt.Errorf("trusting period %s: want a positive duration", cfg.trustingPeriod)
	}
	if len(witnessURLs) == 0 {
		return nil, ErrNoWitness
	}
	if root.Genesis == nil && (root.Height <= 0 || len(root.Hash) != 32) {
		return nil, fmt.Errorf("%w: give a genesis file or a trusted height and hash", bundle.ErrTrustRoot)
	}
	primary, err := newRPCNode("primary", primaryURL)
	if err != nil {
		return nil, err
	}
	witnesses := make([]*rpcNode, len(witnessURLs))
	for i, w := range witnessURLs {
		if witnesses[i], err = newRPCNode("witness", w); err != nil {
			return nil, err
		}
	}
	chainID, _, err := primary.status(ctx)
	if err != nil {
		return nil, err
	}
	if root.Genesis != nil && chainID != root.Genesis.ChainID {
		return nil, fmt.Errorf("%w: node %s is on chain %q, the genesis is for %q", bundle.ErrTrustRoot, primaryURL, chainID, root.Genesis.ChainID)
	}
	return &Client{chainID: chainID, root: root, primary: primary, witnesses: witnesses, cfg: cfg}, nil
}

// Close closes the trusted store.
func (c *Client) Close() error {
	if c.sess == nil {
		return nil
	}
	err := c.sess.db.Close()
	c.sess = nil
	if err != nil {
		return fmt.Errorf("close light store: %w", err)
	}
	return nil
}

// Verify answers about hash as of state height atHeight (0: the latest state
// whose header is out), verifying the header and every proof. The answer is
// for state Height, checked against header HeaderHeight = Height+1. Any
// error means there is no verified answer; errors.Is matches ErrDivergence,
// ErrInvalidLightBlock, bundle.ErrHeaderNotVerified, bundle.ErrTrustRoot and
// types.ErrProofInvalid.
func (c *Client) Verify(ctx context.Context, hash []byte, atHeight int64) (*types.Report, error) {
	if c.sess == nil {
		s, err := c.openSession(ctx)
		if err != nil {
			return nil, err
		}
		c.sess = s
	}
	v, err := c.verifyWith(ctx, c.sess, hash, atHeight, false)
	if err != nil {
		return nil, err
	}
	return v.report, nil
}

// Prove verifies like Verify, but from the trust root with a fresh
// in-memory store (it neither reads nor updates the light home), and
// returns a bundle holding the answer, its proofs and the chain of light
// blocks from the root to the proving header, through the headers that
// date the records, already checked with bundle.Verify. Requires the
// proving header, and the headers that date the records, to be at or above
// the root.
func (c *Client) Prove(ctx context.Context, hash []byte, atHeight int64) (*bundle.Bundle, *types.Report, error) {
	s, err := c.newSession(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := s.start(ctx, c, dbm.NewMemDB(), false); err != nil {
		return nil, nil, err
	}
	defer s.db.Close() //nolint:errcheck // memdb
	v, err := c.verifyWith(ctx, s, hash, atHeight, true)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	stops := append(v.report.CommitHeaders(), v.target.Height)
	if v.report.AsOfHeight > 0 {
		stops = append(stops, v.report.AsOfHeight+1)
		slices.Sort(stops)
		stops = slices.Compact(stops)
	}
	path, err := buildPath(s.rec.candidates(), s.rootHeight, stops, func(trusted, untrusted *cmttypes.LightBlock) error {
		return bundle.VerifyStep(trusted, untrusted, c.cfg.trustingPeriod, now)
	})
	if err != nil {
		return nil, nil, err
	}
	b := &bundle.Bundle{
		Format: bundle.Format, ChainID: c.chainID, Hash: hash, Height: v.target.Height - 1, AsOfHeight: v.report.AsOfHeight,
		Record: v.proof.Answer.Record, RecordProof: v.proof.Proof, LightBlocks: path,
	}
	for _, ip := range v.issuers {
		b.Issuers = append(b.Issuers, &bundle.Issuer{ID: ip.ID, Record: ip.Value, Proof: ip.Proof})
	}
	rep, err := bundle.Verify(b, c.root, now, c.cfg.trustingPeriod)
	if err != nil {
		return nil, nil, fmt.Errorf("the bundle built does not verify: %w", err)
	}
	return b, rep, nil
}

// StalePrimaryError means the primary's newest block is more than
// MaxPrimaryLag below the newest block a witness shows. It matches
// ErrStalePrimary.
type StalePrimaryError struct {
	Primary       string
	PrimaryHeight int64
	Witness       string
	WitnessHeight int64
}

// Error names both nodes and both heights.
func (e *StalePrimaryError) Error() string {
	return fmt.Sprintf("%s: primary %s is at height %d, but witness %s is at height %d: the primary may be stale or hiding newer state; ask another --node",
		ErrStalePrimary, e.Primary, e.PrimaryHeight, e.Witness, e.WitnessHeight)
}

// Unwrap makes errors.Is(err, ErrStalePrimary) true.
func (e *StalePrimaryError) Unwrap() error { return ErrStalePrimary }

// lightSession is one CometBFT light client with its store and the record
// of every light block its providers served.
type lightSession struct {
	lc         *cmtlight.Client
	primary    provider.Provider
	witnesses  []provider.Provider
	rec        *recorder
	db         dbm.DB
	rootHeight int64
	root       *cmttypes.LightBlock // the root block once checked against the trust root (cold start)
}

// openSession opens the client's trusted store: in memory, or in the light
// home, warm if it already holds headers from the same trust root. A light
// home started from another root is reported as such only if the given
// root does match the chain: a genesis of another network is reported as
// that first.
func (c *Client) openSession(ctx context.Context) (*lightSession, error) {
	s, err := c.newSession(ctx)
	if err != nil {
		return nil, err
	}
	if c.cfg.inMemory {
		return s, s.start(ctx, c, dbm.NewMemDB(), false)
	}
	home := c.cfg.home
	if home == "" {
		if home, err = DefaultHome(c.chainID); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create light home: %w", err)
	}
	db, err := dbm.NewGoLevelDB("light", home)
	if err != nil {
		return nil, fmt.Errorf("open light store in %s: %w", home, err)
	}
	rec, err := c.loadTrustRecord(home)
	if errors.Is(err, errOtherRoot) {
		// a root of another network is the news, not the light home
		if rerr := s.checkRoot(ctx, c); rerr != nil {
			err = rerr
		}
	}
	if err == nil {
		err = s.start(ctx, c, db, rec != nil)
	}
	if err == nil && rec == nil {
		err = c.saveTrustRecord(home, s)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// newSession checks which witnesses answer and prepares providers that
// report to a new recorder. The light client is not started yet (see
// start).
func (c *Client) newSession(ctx context.Context) (*lightSession, error) {
	witnesses, err := c.liveWitnesses(ctx)
	if err != nil {
		return nil, err
	}
	rec := newRecorder(c.cfg.warnFn)
	s := &lightSession{rec: rec, rootHeight: c.root.RootHeight()}
	if s.primary, err = rec.watch("primary", c.primary.url, c.chainID); err != nil {
		return nil, err
	}
	for _, w := range witnesses {
		p, err := rec.watch("witness", w.url, c.chainID)
		if err != nil {
			return nil, err
		}
		s.witnesses = append(s.witnesses, p)
	}
	return s, nil
}

// checkRoot fetches the root block and checks it against the trust root
// (once per session). It asks the primary, and the witnesses if the
// primary does not have it (a node that joined by state sync, or prunes
// its blocks, starts after genesis): the block is checked against the
// trust root whoever serves it.
func (s *lightSession) checkRoot(ctx context.Context, c *Client) error {
	if s.root != nil {
		return nil
	}
	lb, err := s.primary.LightBlock(ctx, s.rootHeight)
	if err != nil && blockNotKept(err) {
		for _, w := range s.witnesses {
			if wlb, werr := w.LightBlock(ctx, s.rootHeight); werr == nil {
				lb, err = wlb, nil
				break
			}
		}
	}
	if err != nil && blockNotKept(err) {
		return fmt.Errorf("fetch root header %d: neither primary %s nor the witnesses keep it (a node that joined by state sync or prunes blocks starts later: pass a witness that keeps it, or a trust root it keeps with --trust-height and --trust-hash): %w",
			s.rootHeight, c.primary.url, err)
	}
	if err != nil {
		return fmt.Errorf("fetch root header %d from primary %s: %w", s.rootHeight, c.primary.url, err)
	}
	if err := c.root.Check(lb, c.chainID); err != nil {
		what := "the trusted header"
		if c.root.Genesis != nil {
			what = "the genesis file"
		}
		return fmt.Errorf("%s does not match chain %q served by %s (is it this network's?): %w", what, c.chainID, c.primary.url, err)
	}
	s.root = lb
	return nil
}

// liveWitnesses returns the witnesses that answer and are on the client's
// chain, warning about each one that is not; it fails if none is left.
func (c *Client) liveWitnesses(ctx context.Context) ([]*rpcNode, error) {
	var live []*rpcNode
	var dead []string
	for _, w := range c.witnesses {
		wctx, cancel := context.WithTimeout(ctx, witnessProbeTimeout)
		chainID, _, err := w.status(wctx)
		cancel()
		if err == nil && chainID != c.chainID {
			err = fmt.Errorf("it is on chain %q, not %q", chainID, c.chainID)
		}
		if err != nil {
			msg := fmt.Sprintf("witness %s does not answer: %s", w.url, err)
			dead = append(dead, msg)
			c.cfg.warnFn(msg + "; continuing without it")
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return nil, fmt.Errorf("%w: none of the %d witness(es) answered (%s): check that they are running and on chain %q, or pass other --witness nodes",
			ErrNoWitness, len(c.witnesses), strings.Join(dead, "; "), c.chainID)
	}
	return live, nil
}

// start starts the light client on db: from the trusted store if warm,
// otherwise from the root block (already checked against the trust root).
func (s *lightSession) start(ctx context.Context, c *Client, db dbm.DB, warm bool) error {
	s.db = db
	store := lightdb.New(db, "credledger")
	lopts := []cmtlight.Option{
		cmtlight.SkippingVerification(cmtlight.DefaultTrustLevel), cmtlight.MaxClockDrift(c.cfg.maxClockDrift),
		cmtlight.PruningSize(0),
	}
	var err error
	if last, lerr := store.LastLightBlockHeight(); lerr == nil && last > 0 && warm {
		if s.lc, err = cmtlight.NewClientFromTrustedStore(c.chainID, c.cfg.trustingPeriod, s.primary, s.witnesses, store, lopts...); err != nil {
			return fmt.Errorf("restore light client: %w", err)
		}
		return nil
	}
	if err := s.checkRoot(ctx, c); err != nil {
		return err
	}
	opts := cmtlight.TrustOptions{Period: c.cfg.trustingPeriod, Height: s.root.Height, Hash: s.root.Hash()}
	s.lc, err = cmtlight.NewClient(ctx, c.chainID, opts, s.primary, s.witnesses, store, lopts...)
	if err := s.check(err, s.rootHeight); err != nil {
		return fmt.Errorf("start light client from %s: %w", c.root, err)
	}
	return nil
}

// verifyHeader light-verifies header h and returns it.
func (s *lightSession) verifyHeader(ctx context.Context, h int64) (*cmttypes.LightBlock, error) {
	lb, err := s.lc.VerifyLightBlockAtHeight(ctx, h, time.Now())
	if err := s.check(err, h); err != nil {
		return nil, err
	}
	return lb, nil
}

// check turns what the light client and the providers did into one error:
// a divergence or a faulty primary first (even if the light client carried
// on with a witness), then the light client's own error, classified.
func (s *lightSession) check(err error, h int64) error {
	if fault := s.rec.fault(); fault != nil {
		if err != nil {
			return fmt.Errorf("%w (light client: %w)", fault, err)
		}
		return fault
	}
	if s.lc != nil && s.dropped(s.primary) {
		fault := &ProviderFaultError{Role: "primary", URL: s.rec.urlOf(s.primary), Height: h,
			Err: errors.New("the light client dropped it: it served a header that failed verification or stopped answering")}
		if err != nil {
			return fmt.Errorf("%w (light client: %w)", fault, err)
		}
		return fault
	}
	if err == nil {
		return nil
	}
	var conflict cmtlight.ErrConflictingHeaders
	var priorities cmtlight.ErrProposerPrioritiesDiverge
	var failed cmtlight.ErrVerificationFailed
	var invalid cmtlight.ErrInvalidHeader
	var expired cmtlight.ErrOldHeaderExpired
	switch {
	case errors.Is(err, bundle.ErrTrustRoot):
		return err
	case errors.Is(err, cmtlight.ErrLightClientAttack), errors.As(err, &conflict), errors.As(err, &priorities):
		return fmt.Errorf("%w: header %d: %w", ErrDivergence, h, err)
	case errors.As(err, &expired):
		return fmt.Errorf("%w: header %d: the trusted header it would start from is older than the trusting period (raise --trusting-period, or start a fresh light home from a newer trust root): %w", bundle.ErrHeaderNotVerified, h, err)
	case errors.As(err, &failed), errors.As(err, &invalid):
		return fmt.Errorf("%w: header %d: %w", bundle.ErrHeaderNotVerified, h, err)
	case (errors.Is(err, cmtlight.ErrNoWitnesses) || errors.Is(err, cmtlight.ErrFailedHeaderCrossReferencing)) && s.lc != nil && s.lc.Primary() != s.primary:
		return fmt.Errorf("no witness confirmed header %d: the primary does not keep it (it joined by state sync or prunes blocks), so a witness served it and another witness that keeps it must confirm it (pass one more --witness): %w", h, err)
	case errors.Is(err, cmtlight.ErrNoWitnesses), errors.Is(err, cmtlight.ErrFailedHeaderCrossReferencing):
		return fmt.Errorf("no witness confirmed header %d (are the witnesses up and on this chain?): %w", h, err)
	case errors.Is(err, provider.ErrHeightTooHigh), errors.Is(err, provider.ErrLightBlockNotFound):
		return fmt.Errorf("header %d is not available from the primary or the witnesses: %w", h, err)
	}
	return fmt.Errorf("verify header %d: %w", h, err)
}

// dropped reports whether the light client no longer uses p. It makes a
// witness its primary when the primary does not have a header (a node
// that joined by state sync starts after genesis) and keeps the old
// primary as a witness: that is not a fault. A primary that served a
// header failing verification is removed from both.
func (s *lightSession) dropped(p provider.Provider) bool {
	if s.lc.Primary() == p {
		return false
	}
	return !slices.Contains(s.lc.Witnesses(), p)
}

// blockNotKept reports whether a provider's error says it does not have
// the block (below its earliest kept height, or not out yet), which
// another node may have.
func blockNotKept(err error) bool {
	return errors.Is(err, provider.ErrLightBlockNotFound) || errors.Is(err, provider.ErrHeightTooHigh)
}

// verification is what one verify run established.
type verification struct {
	report  *types.Report
	proof   *query.CredentialProof
	issuers []*query.IssuerProof // of every issuer with a record of the hash
	target  *cmttypes.LightBlock
}

// verifyWith runs the verify flow on session s. It takes the latest state
// H; if header H+1 is not out, it tries header H (which proves state H-1,
// the same state when block H changed none) and otherwise waits for header
// H+1, like client.Client.CredentialStatus. With atHeight > 0 the verdict
// is then about that past height, from the records of the latest state
// (types.Report.SetAsOf): the state keeps every record's heights and its
// earlier status changes, so no old state version is needed (nodes prune
// them). With inOrder, the headers that date the answer's records (and
// the as-of header) are verified before the proving header, in ascending
// order, so that the light client reaches each from the one before (Prove
// builds its path through them).
func (c *Client) verifyWith(ctx context.Context, s *lightSession, hash []byte, atHeight int64, inOrder bool) (*verification, error) {
	if len(hash) != types.HashSize {
		return nil, fmt.Errorf("%w: hash is %d bytes", types.ErrBadHash, len(hash))
	}
	if atHeight < 0 {
		return nil, fmt.Errorf("height %d is negative", atHeight)
	}
	// the newest state the primary and the witnesses show, not one the
	// primary chooses: a primary that answers for an old state (hiding a
	// revocation) is caught here, or by its own answer's height
	height, err := c.freshHeight(ctx)
	if err != nil {
		return nil, err
	}
	if atHeight > height {
		return nil, types.Errorf(types.CodeHeightUnavailable, "height %d is above the latest state %d", atHeight, height)
	}
	// the primary's newest block may not be committed yet
	p, err := c.primary.credentialAt(ctx, hash, height, c.cfg.headerWait)
	if err != nil {
		return nil, fmt.Errorf("query primary %s: %w", c.primary.url, err)
	}
	if p.Height != height {
		return nil, fmt.Errorf("%w: primary answered for height %d, not %d", types.ErrMalformedAnswer, p.Height, height)
	}
	if inOrder {
		for _, h := range claimedCommitHeaders(p, atHeight) {
			if h > s.rootHeight {
				if _, err := s.verifyHeader(ctx, h); err != nil {
					return nil, err
				}
			}
		}
	}
	_, latest, err := c.primary.status(ctx)
	if err != nil {
		return nil, err
	}
	if latest <= p.Height {
		if err := c.waitForHeader(ctx, p.Height); err != nil {
			return nil, err
		}
		v, err := c.checkAt(ctx, s, hash, p, p.Height, atHeight)
		var mismatch *types.RootMismatchError
		if !errors.As(err, &mismatch) {
			return v, err
		}
		// block H changed the state, or the proof is false: header H+1
		// decides, and follows a state change at once
		if werr := c.waitForHeader(ctx, p.Height+1); werr != nil {
			return nil, fmt.Errorf("%w; header %d, which would prove state %d, is not out: %w", err, p.Height+1, p.Height, werr)
		}
	}
	if err := c.waitForHeader(ctx, p.Height+1); err != nil {
		return nil, err
	}
	return c.checkAt(ctx, s, hash, p, p.Height+1, atHeight)
}

// checkAt light-verifies header h and checks the answer p about hash, and
// the records of the issuers with a record of it, against its app hash;
// with asOf > 0 the verdict is about that past height (dated by header
// asOf+1, which it verifies too).
func (c *Client) checkAt(ctx context.Context, s *lightSession, hash []byte, p *query.CredentialProof, h, asOf int64) (*verification, error) {
	lb, err := s.verifyHeader(ctx, h)
	if err != nil {
		return nil, err
	}
	res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, lb.AppHash)
	if err != nil {
		return nil, fmt.Errorf("credential answer of primary %s for state %d does not verify against verified header %d: %w", c.primary.url, p.Height, h, err)
	}
	v := &verification{proof: p, target: lb, report: bundle.NewReport(c.chainID, res, lb)}
	if asOf > 0 && asOf < v.report.Height {
		dating, err := s.verifyHeader(ctx, asOf+1)
		if err != nil {
			return nil, fmt.Errorf("header %d, which dates state %d: %w", asOf+1, asOf, err)
		}
		if err := v.report.SetAsOf(asOf, dating.Time); err != nil {
			return nil, err
		}
	}
	records := make([]*types.Issuer, 0, len(res.Entries))
	for _, id := range res.Issuers() {
		ip, err := c.primary.issuer(ctx, id, p.Height)
		if err != nil {
			return nil, fmt.Errorf("query primary %s: %w", c.primary.url, err)
		}
		is, err := types.VerifyIssuer(id, ip.Value, ip.Proof, lb.AppHash)
		if err != nil {
			return nil, fmt.Errorf("issuer answer of primary %s for state %d does not verify against verified header %d: %w", c.primary.url, p.Height, h, err)
		}
		records = append(records, is)
		v.issuers = append(v.issuers, ip)
	}
	v.report.SetIssuerRecords(records) // before the times: voids change which records count
	err = v.report.SetCommitTimes(func(h int64) (time.Time, error) {
		dating, err := s.verifyHeader(ctx, h)
		if err != nil {
			return time.Time{}, err
		}
		return dating.Time, nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// MaxPrimaryLag is how many blocks the primary's newest block may be behind
// the newest one a witness shows before a verdict is refused: nodes that
// follow the chain are at most a block or two apart.
const MaxPrimaryLag = 2

// freshHeight returns the state height a latest-state verdict is about:
// the primary's newest block, provided no witness shows a block more than
// MaxPrimaryLag above it; otherwise the primary is behind (stale, cut off,
// or hiding newer state) and the error says so. Witnesses that do not
// answer are left out (they were warned about when the session opened).
func (c *Client) freshHeight(ctx context.Context) (int64, error) {
	_, primaryLatest, err := c.primary.status(ctx)
	if err != nil {
		return 0, err
	}
	for _, w := range c.witnesses {
		if w.url == c.primary.url {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, witnessProbeTimeout)
		_, latest, err := w.status(wctx)
		cancel()
		if err == nil && latest > primaryLatest+MaxPrimaryLag {
			return 0, &StalePrimaryError{Primary: c.primary.url, PrimaryHeight: primaryLatest, Witness: w.url, WitnessHeight: latest}
		}
	}
	return primaryLatest, nil
}

// claimedCommitHeaders returns the headers that would date the records of
// the unverified answer p, below its state height: only a hint of which
// headers to verify first; nothing is trusted from it.
func claimedCommitHeaders(p *query.CredentialProof, asOf int64) []int64 {
	entries, err := types.DecodeCredentialRecord(p.Answer.Record)
	if err != nil {
		return nil
	}
	claimed := types.CredentialResult{Hash: p.Answer.Hash, Entries: entries}
	var extra []int64
	if asOf > 0 && asOf < p.Height {
		if claimed.AsOf(asOf) != nil {
			return nil
		}
		extra = append(extra, asOf+1)
	}
	var out []int64
	for _, h := range append(claimed.CommitHeaders(), extra...) {
		if h <= p.Height {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// waitForHeader waits (up to the header wait) until the primary has block
// h, and also the witnesses that answer: the light client's detector sleeps
// 2*MaxClockDrift+MaxBlockLag (30 s) for a witness that lacks the header.
// It fails only if the primary does not have the block in time.
func (c *Client) waitForHeader(ctx context.Context, h int64) error {
	deadline := time.Now().Add(c.cfg.headerWait)
	pending := append([]*rpcNode{c.primary}, c.witnesses...)
	for {
		var latest int64
		for len(pending) > 0 {
			_, height, err := pending[0].status(ctx)
			if pending[0] == c.primary && err != nil {
				return err
			}
			if err == nil && height < h {
				latest = height
				break
			}
			pending = pending[1:] // has h, or is a witness that does not answer
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if pending[0] != c.primary {
				return nil // let the light client deal with a lagging witness
			}
			return fmt.Errorf("header %d did not appear within %s (latest is %d); is the chain producing blocks?", h, c.cfg.headerWait, latest)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
