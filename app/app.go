package app

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

// AppVersion is the application protocol version reported in Info. 2: every
// issuer's own record of a hash (key 0x0B) replaced the one-record layout
// (0x01/0x02) of version 1. 3: a record notes the height through which its
// bounded status history was dropped (history_dropped_through), so that a
// status as of a past height is proven from the latest state or refused.
// Each version is a new chain, not an upgrade (pre-release).
const AppVersion uint64 = 3

// Version is the software version reported in Info.
const Version = "0.1.0"

var _ abci.Application = (*Application)(nil)

// Application is credledger's ABCI state machine. It is safe for
// concurrent use, and meant to be driven through
// proxy.NewConnSyncLocalClientCreator (one lock per ABCI connection):
// every call that executes or changes state (InitChain, CheckTx, Prepare-
// and ProcessProposal, FinalizeBlock, Commit) holds mu, so they run one at
// a time as CometBFT expects; Query and Info hold no lock and read only
// committed, immutable versions of the state, so a verifier's query is
// answered while a block executes. Of the state sync calls (snapshot.go),
// OfferSnapshot and ApplySnapshotChunk hold mu; ListSnapshots and
// LoadSnapshotChunk read snapshot files only.
type Application struct {
	abci.BaseApplication

	// mu serialises the calls that execute or change state
	mu sync.Mutex

	store   *Store
	logger  log.Logger
	metrics *Metrics

	// check is the CheckTx state: the mempool's pending txs staged over the
	// last committed state; reset on every Commit (the mempool rechecks)
	check *overlay
	// checkCtx is the block context CheckTx and rechecks execute in
	checkCtx *blockContext
	// memos are the pending txs' last successful checks, by sha256 of the
	// tx, which a recheck reuses (recheck.go); lastBlockWrites are the
	// writes of the block committed last (nil: unknown, after a start or
	// a restore); commits counts the commits of this process
	memos           map[[sha256.Size]byte]*checkMemo
	lastBlockWrites map[string][]byte
	commits         uint64
	// noRecheckMemo makes every recheck execute in full (tests);
	// recheckReused and recheckRedone count the steps rechecks reused
	// and executed in full
	noRecheckMemo                bool
	recheckReused, recheckRedone int
	// lastExec is the execution of the last proposal seen by Prepare- or
	// ProcessProposal, reused by FinalizeBlock for the same block
	lastExec *blockExecution
	// pending is the execution FinalizeBlock applied, until Commit
	pending *blockExecution
	// held maps the sha256 of each tx CheckTx holds ahead of its sequence
	// to the committed height when it was first held (see CheckTx); a
	// mempool policy of this node, never part of the state
	held map[[sha256.Size]byte]int64
	// maxBlockCredentials bounds the credentials of a proposal this node
	// builds (0: none; WithMaxBlockCredentials)
	maxBlockCredentials int
	// maxBuildTime bounds the time PrepareProposal spends executing the
	// txs it chooses (0: none; WithMaxBuildTime); now is its clock
	maxBuildTime time.Duration
	now          func() time.Time
	// snapshots takes, serves and restores state sync snapshots (see
	// snapshot.go and WithSnapshots)
	snapshots snapshotter
}

// Option configures an Application.
type Option func(*Application)

// WithMaxBlockCredentials bounds the credential hashes of a block this
// node proposes (0, the default: only the block's byte limit bounds it):
// a smaller block executes sooner, so a tx queued behind a bulk run
// commits sooner, at some cost in throughput. Another node's proposal is
// accepted whatever it carries: this is the proposer's choice, not a rule
// of the chain.
func WithMaxBlockCredentials(n int) Option {
	return func(a *Application) { a.maxBlockCredentials = max(n, 0) }
}

// WithMaxBuildTime bounds the time this node spends building a proposal:
// once the txs it has executed for it took d, it proposes those and leaves
// the rest of the mempool for the next block (0: no bound). Each validator
// waits for a proposal only consensus.timeout_propose from the start of
// the round; a proposer that executes a big backlog for longer than that
// has its proposal missed and the round fails, and the next proposer
// builds the same big block again (measured: a 290,000-credential backlog
// on 4 validators on one 2-core machine was committed in round 6). The
// first tx is kept whatever it takes. Like the credential limit, this is
// the proposer's choice, never a rule of the chain: it decides which
// valid txs a proposal carries, and every node checks those the same way.
// A lone validator (one vote in the last commit) is not bounded: nobody
// waits for its proposals, and its big blocks spread each block's fixed
// cost (a fsync, consensus.timeout_commit) over more credentials.
func WithMaxBuildTime(d time.Duration) Option {
	return func(a *Application) { a.maxBuildTime = max(d, 0) }
}

// withClock sets the clock WithMaxBuildTime measures with (tests).
func withClock(now func() time.Time) Option { return func(a *Application) { a.now = now } }

// WithLogger sets the logger (default: no logging).
func WithLogger(l log.Logger) Option { return func(a *Application) { a.logger = l } }

// WithMetrics sets the metrics the application updates (default:
// NopMetrics). Requires m to have every field set.
func WithMetrics(m *Metrics) Option { return func(a *Application) { a.metrics = m } }

// NewApplication returns an Application on store.
func NewApplication(store *Store, opts ...Option) *Application {
	a := &Application{store: store, logger: log.NewNopLogger(), metrics: NopMetrics(), now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// NewPersistentApplication opens the store in dir and returns an
// Application on it. Close it with Close.
func NewPersistentApplication(dir string, storeOpts []StoreOption, opts ...Option) (*Application, error) {
	s, err := OpenStore(dir, storeOpts...)
	if err != nil {
		return nil, err
	}
	return NewApplication(s, opts...), nil
}

// NewInMemoryApplication returns an Application on an in-memory store.
func NewInMemoryApplication(opts ...Option) *Application {
	return NewApplication(NewMemStore(), opts...)
}

// Store returns the application's store (for queries in tests and tools).
func (app *Application) Store() *Store { return app.store }

// Close closes the store.
func (app *Application) Close() error { return app.store.Close() }

// resetCheckState starts a fresh CheckTx state on the committed state.
func (app *Application) resetCheckState() error {
	app.check = newOverlay(app.store)
	bc, err := newBlockContext(app.store, app.store.Height()+1, 0)
	if err != nil {
		return fmt.Errorf("check state: %w", err)
	}
	bc.noEvents = true
	app.checkCtx = bc
	return nil
}
