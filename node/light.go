package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/app"
	"github.com/credledger/credledger/types"
)

// Light-client defaults.
const (
	// DefaultTrustingPeriod is how long a verified header stays a valid
	// starting point for verifying later ones. Proof-of-stake chains use
	// their unbonding period; a consortium has none, so the default is long
	// enough to verify from genesis for the life of a chain (10 years). The
	// price: issuers removed less than this long ago are still trusted not to
	// sign a fork from old headers. Use a shorter period (or a recent
	// --trust-height/--trust-hash) if that matters more.
	DefaultTrustingPeriod = 10 * 365 * 24 * time.Hour
	// DefaultMaxClockDrift is how far into the future a header's time may be.
	DefaultMaxClockDrift = 10 * time.Second
	// DefaultHeaderWait bounds the wait for the header that proves the
	// latest state (blocks follow a state change at once).
	DefaultHeaderWait = 10 * time.Second
	// LightHomeDirName is the default light home under the user's home
	// directory: ~/.credledger-light/CHAIN_ID.
	LightHomeDirName = ".credledger-light"
	// trustRecordFile, in a light home, names the trust root the trusted
	// store was started from.
	trustRecordFile = "trust_root.json"
)

// Light-client failures. Match them with errors.Is; the message says which
// node, height or proof failed.
var (
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
	// ErrHeaderNotVerified means a header could not be verified from the
	// trusted ones (bad signatures, too little voting power, expired trust).
	ErrHeaderNotVerified = errors.New("header failed light client verification")
	// ErrTrustRoot means the trust root (genesis or trusted header) does not
	// match the header it is checked against.
	ErrTrustRoot = errors.New("trust root check failed")
)

// DefaultLightHome returns ~/.credledger-light/CHAIN_ID.
func DefaultLightHome(chainID string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory for the light client store: %w", err)
	}
	return filepath.Join(home, LightHomeDirName, chainID), nil
}

// LightReport is a credential verdict whose proofs were checked against a
// header that the light client verified (or that a bundle proves).
type LightReport struct {
	StatusReport
	// HeaderHash is the hash of header HeaderHeight.
	HeaderHash []byte
	// IssuerRecord is the record of the issuer the verdict names, proven
	// against the same header; nil if the verdict names no issuer or the
	// proof shows there is no such issuer.
	IssuerRecord *types.Issuer
}

// IssuerStatus returns "active" or "removed" and the height since which
// (joined or left), or "" if there is no issuer record.
func (r *LightReport) IssuerStatus() (string, int64) {
	is := r.IssuerRecord
	if is == nil {
		return "", 0
	}
	if is.Status == types.IssuerStatus_ISSUER_STATUS_REMOVED {
		return is.Status.StatusWord(), is.LeftHeight
	}
	return is.Status.StatusWord(), is.JoinedHeight
}

// lightConfig holds the optional settings of a LightClient.
type lightConfig struct {
	home           string
	inMemory       bool
	trustingPeriod time.Duration
	maxClockDrift  time.Duration
	headerWait     time.Duration
	logger         log.Logger
}

// LightOption sets an optional setting of a LightClient.
type LightOption func(*lightConfig)

// WithLightHome keeps the trusted headers in dir (default
// DefaultLightHome(chain id)).
func WithLightHome(dir string) LightOption { return func(c *lightConfig) { c.home = dir } }

// WithInMemoryStore keeps the trusted headers in memory only: each new
// LightClient starts from the trust root (cold) and forgets on Close.
func WithInMemoryStore() LightOption { return func(c *lightConfig) { c.inMemory = true } }

// WithTrustingPeriod sets the trusting period (default DefaultTrustingPeriod).
func WithTrustingPeriod(d time.Duration) LightOption {
	return func(c *lightConfig) { c.trustingPeriod = d }
}

// WithHeaderWait bounds the wait for a header that is not out yet
// (default DefaultHeaderWait).
func WithHeaderWait(d time.Duration) LightOption { return func(c *lightConfig) { c.headerWait = d } }

// WithLightLogger sets the logger of CometBFT's light client (default none).
func WithLightLogger(l log.Logger) LightOption { return func(c *lightConfig) { c.logger = l } }

// LightClient verifies credential answers without trusting any node: it
// verifies headers with CometBFT's light client (skipping verification,
// trust level 1/3) from its trust root, from the primary, cross-checked
// against the witnesses, and checks the answers' ICS23 proofs against the
// verified app hash with types.VerifyCredential and types.VerifyIssuer.
// A LightClient is not safe for concurrent use.
type LightClient struct {
	chainID   string
	root      TrustRoot
	primary   *Client
	witnesses []string
	wclients  []*Client // RPC clients of the witnesses, to wait for them
	cfg       lightConfig
	sess      *lightSession // the trusted-store session, opened by the first Verify
}

// NewLightClient returns a client verifying against primaryURL, cross-checked
// against witnessURLs (at least one; it may repeat the primary on a one-node
// network, which disables the cross-check), starting from root. It asks the
// primary for the chain id, which must match a genesis root's.
func NewLightClient(ctx context.Context, primaryURL string, witnessURLs []string, root TrustRoot, opts ...LightOption) (*LightClient, error) {
	cfg := lightConfig{trustingPeriod: DefaultTrustingPeriod, maxClockDrift: DefaultMaxClockDrift, headerWait: DefaultHeaderWait, logger: log.NewNopLogger()}
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
		return nil, fmt.Errorf("%w: give a genesis file or a trusted height and hash", ErrTrustRoot)
	}
	primary, err := NewClient(primaryURL)
	if err != nil {
		return nil, err
	}
	wclients := make([]*Client, len(witnessURLs))
	for i, w := range witnessURLs {
		if wclients[i], err = NewClient(w); err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
	}
	info, err := primary.Status(ctx)
	if err != nil {
		return nil, err
	}
	if root.Genesis != nil && info.ChainID != root.Genesis.ChainID {
		return nil, fmt.Errorf("%w: node %s is on chain %q, the genesis is for %q", ErrTrustRoot, primaryURL, info.ChainID, root.Genesis.ChainID)
	}
	return &LightClient{chainID: info.ChainID, root: root, primary: primary, witnesses: witnessURLs, wclients: wclients, cfg: cfg}, nil
}

// ChainID returns the chain the client verifies.
func (c *LightClient) ChainID() string { return c.chainID }

// Close closes the trusted store.
func (c *LightClient) Close() error {
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
// ErrInvalidLightBlock, ErrHeaderNotVerified, ErrTrustRoot and
// types.ErrProofInvalid.
func (c *LightClient) Verify(ctx context.Context, hash []byte, atHeight int64) (*LightReport, error) {
	if c.sess == nil {
		s, err := c.openSession(ctx)
		if err != nil {
			return nil, err
		}
		c.sess = s
	}
	v, err := c.verifyWith(ctx, c.sess, hash, atHeight)
	if err != nil {
		return nil, err
	}
	return v.report, nil
}

// Prove verifies like Verify, but from the trust root with a fresh
// in-memory store (it neither reads nor updates the light home), and
// returns a bundle holding the answer, its proofs and the chain of light
// blocks from the root to the proving header, already checked with
// VerifyBundle. Requires the proving header to be at or above the root.
func (c *LightClient) Prove(ctx context.Context, hash []byte, atHeight int64) (*Bundle, *LightReport, error) {
	s, err := c.newSession(ctx, dbm.NewMemDB(), false)
	if err != nil {
		return nil, nil, err
	}
	defer s.db.Close() //nolint:errcheck // memdb
	v, err := c.verifyWith(ctx, s, hash, atHeight)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	path, err := buildPath(s.rec.candidates(), s.rootHeight, v.target.Height, func(trusted, untrusted *cmttypes.LightBlock) error {
		return verifyStep(trusted, untrusted, c.cfg.trustingPeriod, now)
	})
	if err != nil {
		return nil, nil, err
	}
	b := &Bundle{
		Format: BundleFormat, ChainID: c.chainID, Hash: hash, Height: v.target.Height - 1,
		Anchor: v.proof.Answer.Anchor, AnchorProof: v.proof.AnchorProof, Status: v.proof.Answer.Status, StatusProof: v.proof.StatusProof,
		LightBlocks: path,
	}
	if v.issuer != nil {
		b.Issuer = &BundleIssuer{ID: v.issuer.id, Record: v.issuer.value, Proof: v.issuer.proof}
	}
	rep, err := VerifyBundle(b, c.root, now, c.cfg.trustingPeriod)
	if err != nil {
		return nil, nil, fmt.Errorf("the bundle built does not verify: %w", err)
	}
	return b, rep, nil
}

// lightSession is one CometBFT light client with its store and the record
// of every light block its providers served.
type lightSession struct {
	lc         *light.Client
	primary    provider.Provider
	rec        *recorder
	db         dbm.DB
	rootHeight int64
}

// openSession opens the client's trusted store: in memory, or in the light
// home, warm if it already holds headers from the same trust root.
func (c *LightClient) openSession(ctx context.Context) (*lightSession, error) {
	if c.cfg.inMemory {
		return c.newSession(ctx, dbm.NewMemDB(), false)
	}
	home := c.cfg.home
	if home == "" {
		var err error
		if home, err = DefaultLightHome(c.chainID); err != nil {
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
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s, err := c.newSession(ctx, db, rec != nil)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if rec == nil {
		if err := c.saveTrustRecord(home, s); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// newSession starts a light client on db: from the trusted store if warm,
// otherwise from the trust root.
func (c *LightClient) newSession(ctx context.Context, db dbm.DB, warm bool) (*lightSession, error) {
	rec := newRecorder()
	primary, err := rec.watch("primary", c.primary.URL(), c.chainID)
	if err != nil {
		return nil, err
	}
	witnesses := make([]provider.Provider, len(c.witnesses))
	for i, w := range c.witnesses {
		if witnesses[i], err = rec.watch("witness", w, c.chainID); err != nil {
			return nil, err
		}
	}
	store := lightdb.New(db, "credledger")
	s := &lightSession{primary: primary, rec: rec, db: db, rootHeight: c.root.height()}
	lopts := []light.Option{
		light.SkippingVerification(light.DefaultTrustLevel), light.MaxClockDrift(c.cfg.maxClockDrift),
		light.Logger(c.cfg.logger), light.PruningSize(0),
	}
	if last, err := store.LastLightBlockHeight(); err == nil && last > 0 && warm {
		s.lc, err = light.NewClientFromTrustedStore(c.chainID, c.cfg.trustingPeriod, primary, witnesses, store, lopts...)
		if err != nil {
			return nil, fmt.Errorf("restore light client: %w", err)
		}
		return s, nil
	}
	opts, err := c.trustOptions(ctx, primary)
	if err == nil {
		s.lc, err = light.NewClient(ctx, c.chainID, opts, primary, witnesses, store, lopts...)
	}
	if err := s.check(err, c.root.height()); err != nil {
		return nil, fmt.Errorf("start light client from %s: %w", c.root, err)
	}
	return s, nil
}

// trustOptions turns the root into CometBFT trust options: it fetches the
// root block from the primary and checks it with TrustRoot.Check.
func (c *LightClient) trustOptions(ctx context.Context, primary provider.Provider) (light.TrustOptions, error) {
	lb, err := primary.LightBlock(ctx, c.root.height())
	if err != nil {
		return light.TrustOptions{}, fmt.Errorf("fetch root header %d: %w", c.root.height(), err)
	}
	if err := c.root.Check(lb, c.chainID); err != nil {
		return light.TrustOptions{}, err
	}
	return light.TrustOptions{Period: c.cfg.trustingPeriod, Height: lb.Height, Hash: lb.Hash()}, nil
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
	if s.lc != nil && s.lc.Primary() != s.primary {
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
	var conflict light.ErrConflictingHeaders
	var priorities light.ErrProposerPrioritiesDiverge
	var failed light.ErrVerificationFailed
	var invalid light.ErrInvalidHeader
	var expired light.ErrOldHeaderExpired
	switch {
	case errors.Is(err, ErrTrustRoot):
		return err
	case errors.Is(err, light.ErrLightClientAttack), errors.As(err, &conflict), errors.As(err, &priorities):
		return fmt.Errorf("%w: header %d: %w", ErrDivergence, h, err)
	case errors.As(err, &expired):
		return fmt.Errorf("%w: header %d: the trusted header it would start from is older than the trusting period (raise --trusting-period, or start a fresh light home from a newer trust root): %w", ErrHeaderNotVerified, h, err)
	case errors.As(err, &failed), errors.As(err, &invalid):
		return fmt.Errorf("%w: header %d: %w", ErrHeaderNotVerified, h, err)
	case errors.Is(err, light.ErrNoWitnesses), errors.Is(err, light.ErrFailedHeaderCrossReferencing):
		return fmt.Errorf("no witness confirmed header %d (are the witnesses up and on this chain?): %w", h, err)
	case errors.Is(err, provider.ErrHeightTooHigh), errors.Is(err, provider.ErrLightBlockNotFound):
		return fmt.Errorf("header %d is not available from the primary or the witnesses: %w", h, err)
	}
	return fmt.Errorf("verify header %d: %w", h, err)
}

// verification is what one verify run established.
type verification struct {
	report *LightReport
	proof  *CredentialProof
	issuer *issuerProof
	target *cmttypes.LightBlock
}

// issuerProof is an /issuer answer with its proof.
type issuerProof struct {
	id           string
	value, proof []byte
}

// verifyWith runs the verify flow on session s. With atHeight 0 it takes the
// latest state H; if header H+1 is not out, it tries header H (which proves
// state H-1, the same state when block H changed none) and otherwise waits
// for header H+1, like Client.VerifiedStatus.
func (c *LightClient) verifyWith(ctx context.Context, s *lightSession, hash []byte, atHeight int64) (*verification, error) {
	if len(hash) != types.HashSize {
		return nil, fmt.Errorf("%w: hash is %d bytes", types.ErrBadHash, len(hash))
	}
	if atHeight < 0 {
		return nil, fmt.Errorf("height %d is negative", atHeight)
	}
	p, err := c.primary.QueryCredential(ctx, hash, atHeight)
	if err != nil {
		return nil, fmt.Errorf("query primary %s: %w", c.primary.URL(), err)
	}
	if atHeight != 0 && p.Height != atHeight {
		return nil, fmt.Errorf("%w: primary answered for height %d, not %d", types.ErrMalformedAnswer, p.Height, atHeight)
	}
	if atHeight == 0 {
		info, err := c.primary.Status(ctx)
		if err != nil {
			return nil, err
		}
		if info.LatestHeight <= p.Height {
			if err := c.waitForHeader(ctx, p.Height); err != nil {
				return nil, err
			}
			v, err := c.checkAt(ctx, s, hash, p, p.Height)
			var mismatch *types.RootMismatchError
			if !errors.As(err, &mismatch) {
				return v, err
			}
			// block H changed the state, or the proof is false: header
			// H+1 decides, and follows a state change at once
			if werr := c.waitForHeader(ctx, p.Height+1); werr != nil {
				return nil, fmt.Errorf("%w; header %d, which would prove state %d, is not out: %w", err, p.Height+1, p.Height, werr)
			}
		}
	}
	if err := c.waitForHeader(ctx, p.Height+1); err != nil {
		return nil, err
	}
	return c.checkAt(ctx, s, hash, p, p.Height+1)
}

// checkAt light-verifies header h and checks the answer p about hash and the
// issuer's record against its app hash.
func (c *LightClient) checkAt(ctx context.Context, s *lightSession, hash []byte, p *CredentialProof, h int64) (*verification, error) {
	lb, err := s.verifyHeader(ctx, h)
	if err != nil {
		return nil, err
	}
	res, err := types.VerifyCredential(hash, &p.Answer, p.AnchorProof, p.StatusProof, lb.AppHash)
	if err != nil {
		return nil, fmt.Errorf("credential answer of primary %s for state %d does not verify against verified header %d: %w", c.primary.URL(), p.Height, h, err)
	}
	v := &verification{proof: p, target: lb, report: newLightReport(c.chainID, res, lb)}
	if id := res.Issuer(); id != "" {
		value, proof, err := c.primary.issuerProof(ctx, id, p.Height)
		if err != nil {
			return nil, fmt.Errorf("query primary %s: %w", c.primary.URL(), err)
		}
		if v.report.IssuerRecord, err = types.VerifyIssuer(id, value, proof, lb.AppHash); err != nil {
			return nil, fmt.Errorf("issuer answer of primary %s for state %d does not verify against verified header %d: %w", c.primary.URL(), p.Height, h, err)
		}
		v.issuer = &issuerProof{id: id, value: value, proof: proof}
	}
	return v, nil
}

func newLightReport(chainID string, res *types.CredentialResult, lb *cmttypes.LightBlock) *LightReport {
	return &LightReport{
		StatusReport: StatusReport{
			CredentialResult: res, ChainID: chainID, Height: lb.Height - 1, HeaderHeight: lb.Height,
			HeaderTime: lb.Time, AppHash: lb.AppHash,
		},
		HeaderHash: lb.Hash(),
	}
}

// waitForHeader waits (up to the header wait) until the primary has block
// h, and also the witnesses that answer: the light client's detector sleeps
// 2*MaxClockDrift+MaxBlockLag (30 s) for a witness that lacks the header.
// It fails only if the primary does not have the block in time.
func (c *LightClient) waitForHeader(ctx context.Context, h int64) error {
	deadline := time.Now().Add(c.cfg.headerWait)
	pending := append([]*Client{c.primary}, c.wclients...)
	for {
		var latest int64
		for len(pending) > 0 {
			info, err := pending[0].Status(ctx)
			if pending[0] == c.primary && err != nil {
				return err
			}
			if err == nil && info.LatestHeight < h {
				latest = info.LatestHeight
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

// issuerProof fetches the /issuer answer for id at state height with its
// proof (unverified).
func (c *Client) issuerProof(ctx context.Context, id string, height int64) (value, proof []byte, err error) {
	res, err := c.query(ctx, app.PathIssuer, []byte(id), height)
	if err != nil {
		return nil, nil, err
	}
	r := res.Response
	if r.Height != height {
		return nil, nil, fmt.Errorf("%w: issuer answer is for height %d, not %d", types.ErrMalformedAnswer, r.Height, height)
	}
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 1 || r.ProofOps.Ops[0].Type != types.ProofOpType ||
		!bytes.Equal(r.ProofOps.Ops[0].Key, types.IssuerKey(id)) {
		return nil, nil, fmt.Errorf("%w: want 1 proof op for issuer %q", types.ErrMalformedAnswer, id)
	}
	return r.Value, r.ProofOps.Ops[0].Data, nil
}
