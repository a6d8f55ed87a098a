package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/generic"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// labeledCounter is a go-kit Counter that keeps one generic.Counter per
// set of label values (generic.Counter.With returns a detached copy), so
// that tests can read each series.
type labeledCounter struct {
	mu     sync.Mutex
	series map[string]*generic.Counter
}

func newLabeledCounter() *labeledCounter {
	return &labeledCounter{series: make(map[string]*generic.Counter)}
}

func (c *labeledCounter) With(labelValues ...string) metrics.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.Join(labelValues, "\x00")
	s, ok := c.series[key]
	if !ok {
		s = generic.NewCounter(key)
		c.series[key] = s
	}
	return s
}

func (c *labeledCounter) Add(delta float64) { c.With().Add(delta) }

// value returns the series of labelValues (0 if it was never touched).
func (c *labeledCounter) value(labelValues ...string) float64 {
	return c.With(labelValues...).(*generic.Counter).Value()
}

// values returns every series touched, keyed by "label=value".
func (c *labeledCounter) values() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]float64, len(c.series))
	for k, s := range c.series {
		out[strings.ReplaceAll(k, "\x00", "=")] = s.Value()
	}
	return out
}

// labeledGauge is labeledCounter's Gauge.
type labeledGauge struct {
	mu     sync.Mutex
	series map[string]*generic.Gauge
}

func newLabeledGauge() *labeledGauge {
	return &labeledGauge{series: make(map[string]*generic.Gauge)}
}

func (g *labeledGauge) With(labelValues ...string) metrics.Gauge {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := strings.Join(labelValues, "\x00")
	s, ok := g.series[key]
	if !ok {
		s = generic.NewGauge(key)
		g.series[key] = s
	}
	return s
}

func (g *labeledGauge) Set(value float64) { g.With().Set(value) }
func (g *labeledGauge) Add(delta float64) { g.With().Add(delta) }

func (g *labeledGauge) value(labelValues ...string) float64 {
	return g.With(labelValues...).(*generic.Gauge).Value()
}

// testMetrics are readable Metrics.
type testMetrics struct {
	anchored, statusChanges, rejected *labeledCounter
	issuers, openProposals            *labeledGauge
}

func newTestMetrics() *testMetrics {
	return &testMetrics{
		anchored: newLabeledCounter(), statusChanges: newLabeledCounter(), rejected: newLabeledCounter(),
		issuers: newLabeledGauge(), openProposals: newLabeledGauge(),
	}
}

func (m *testMetrics) metrics() *Metrics {
	return &Metrics{
		AnchoredCredentials: m.anchored, StatusChanges: m.statusChanges, RejectedTxs: m.rejected,
		Issuers: m.issuers, OpenProposals: m.openProposals,
	}
}

// newMetricsChain starts a chain of n issuers whose proposals expire after
// expiry blocks, on an app with metrics m.
func newMetricsChain(t *testing.T, m *Metrics, n int, expiry int64) *testChain {
	t.Helper()
	params := types.DefaultParams()
	params.ProposalExpiryBlocks = expiry
	app := NewInMemoryApplication(WithMetrics(m))
	appState, issuers := testGenesis(t, n, params)
	_, err := app.InitChain(t.Context(), &abci.RequestInitChain{ChainId: testChainID, AppStateBytes: appState, InitialHeight: 1})
	require.NoError(t, err)
	return &testChain{t: t, app: app, issuers: issuers, genesis: time.Unix(1_700_000_000, 0).UTC()}
}

// TestMetricsCountCommittedBlocks runs blocks of anchors, status changes
// and failing txs and checks the counters after each Commit (and that
// FinalizeBlock alone counts nothing).
func TestMetricsCountCommittedBlocks(t *testing.T) {
	m := newTestMetrics()
	c := newMetricsChain(t, m.metrics(), 2, 100)
	i0, i1 := c.issuers[0], c.issuers[1]
	h := testHashes(1, 5)
	// failing builds a tx that the block rejects, which does not use up
	// the issuer's sequence
	failing := func(is *testIssuer, msg any) []byte {
		tx := c.tx(is, msg)
		is.seq--
		return tx
	}
	for _, tc := range []struct {
		name string
		txs  func() [][]byte
		// the counters after the block's Commit (cumulative)
		anchored      float64
		statusChanges map[string]float64
		rejected      map[string]float64
	}{
		{
			name:     "empty block",
			txs:      func() [][]byte { return nil },
			anchored: 0, statusChanges: map[string]float64{}, rejected: map[string]float64{},
		},
		{
			name: "anchors of two issuers",
			txs: func() [][]byte {
				return [][]byte{c.tx(i0, anchorMsg(h[0], h[1], h[2])), c.tx(i1, anchorMsg(h[0], h[3]))}
			},
			anchored: 5, statusChanges: map[string]float64{}, rejected: map[string]float64{},
		},
		{
			name: "revoke, suspend and a failing anchor",
			txs: func() [][]byte {
				return [][]byte{
					c.tx(i0, revokeMsg("fraud", h[0])),
					c.tx(i0, suspendMsg("audit", h[1], h[2])),
					failing(i1, anchorMsg(h[3])), // already anchored: code 13
				}
			},
			anchored:      5,
			statusChanges: map[string]float64{"status=revoked": 1, "status=suspended": 2},
			rejected:      map[string]float64{"code=13": 1},
		},
		{
			name: "reinstate, a revocation of an unanchored hash and two failing txs",
			txs: func() [][]byte {
				return [][]byte{
					c.tx(i0, reinstateMsg("cleared", h[1])),
					c.tx(i1, revokeMsg("off-ledger", h[4])),
					c.tx(i0, reinstateMsg("again", h[1])),            // not suspended: code 18
					c.tx(i1, suspendMsg("unanchored", testHash(99))), // code 19
				}
			},
			anchored:      5,
			statusChanges: map[string]float64{"status=revoked": 2, "status=suspended": 2, "status=reinstated": 1},
			rejected:      map[string]float64{"code=13": 1, "code=18": 1, "code=19": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := m.anchored.value()
			c.height++
			_, err := c.app.FinalizeBlock(t.Context(), &abci.RequestFinalizeBlock{Height: c.height, Time: c.blockTime(c.height), Txs: tc.txs()})
			require.NoError(t, err)
			require.Equal(t, before, m.anchored.value(), "nothing is counted before Commit")
			_, err = c.app.Commit(t.Context(), &abci.RequestCommit{})
			require.NoError(t, err)

			require.Equal(t, tc.anchored, m.anchored.value())
			require.Equal(t, tc.statusChanges, m.statusChanges.values())
			require.Equal(t, tc.rejected, m.rejected.values())
		})
	}
}

// TestMetricsCheckTxRejections checks that CheckTx counts the rejections of
// new txs by code, and neither accepted txs nor rechecks.
func TestMetricsCheckTxRejections(t *testing.T) {
	m := newTestMetrics()
	c := newMetricsChain(t, m.metrics(), 1, 100)
	is := c.issuers[0]
	c.commitOK(c.tx(is, anchorMsg(testHash(1))))
	require.Empty(t, m.rejected.values())

	ok := c.tx(is, anchorMsg(testHash(2)))
	require.Zero(t, c.checkTx(ok).Code)
	dup := c.tx(is, anchorMsg(testHash(1)))
	require.Equal(t, uint32(types.CodeAlreadyAnchored), c.checkTx(dup).Code)
	skip := c.body(is, anchorMsg(testHash(3)))
	skip.Sequence += MaxSequenceLead + 1
	gap := c.sign(is, skip)
	require.Equal(t, uint32(types.CodeSequenceGap), c.checkTx(gap).Code)
	require.Equal(t, uint32(types.CodeSequenceGap), c.checkTx(gap).Code)
	aheadBody := c.body(is, anchorMsg(testHash(4)))
	aheadBody.Sequence += 5
	ahead := c.sign(is, aheadBody)
	require.Zero(t, c.checkTx(ahead).Code, "held, not rejected")
	require.Equal(t, map[string]float64{"code=13": 1, "code=7": 2}, m.rejected.values())

	// after a block, the mempool rechecks its txs: failing or not, they
	// are not counted
	c.commitOK()
	require.Zero(t, c.recheckTx(ok).Code)
	require.Equal(t, uint32(types.CodeAlreadyAnchored), c.recheckTx(dup).Code)
	require.Equal(t, uint32(types.CodeSequenceGap), c.recheckTx(gap).Code)
	require.Equal(t, map[string]float64{"code=13": 1, "code=7": 2}, m.rejected.values())
	require.Equal(t, 1.0, m.anchored.value(), "CheckTx does not count anchors")
}

// TestMetricsGauges checks the issuer and open-proposal gauges after
// admissions, removals, votes and expiries.
func TestMetricsGauges(t *testing.T) {
	m := newTestMetrics()
	c := newMetricsChain(t, m.metrics(), 4, 3)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	adm, _, _ := admissionOf("newcomer")
	lone, _, _ := admissionOf("lone")
	for _, tc := range []struct {
		name                  string
		txs                   func() [][]byte
		active, removed, open float64
	}{
		{"genesis", func() [][]byte { return nil }, 4, 0, 0},
		{"admission proposed", func() [][]byte { return [][]byte{c.govTx(i0, proposeAdd(adm))} }, 4, 0, 1},
		{"a second proposal", func() [][]byte { return [][]byte{c.govTx(i1, proposeAdd(lone))} }, 4, 0, 2},
		{"admission passes", func() [][]byte {
			return [][]byte{c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true))}
		}, 5, 0, 1},
		{"removal proposed", func() [][]byte { return [][]byte{c.govTx(i0, proposeRemove("newcomer"))} }, 5, 0, 2},
		{"removal passes", func() [][]byte {
			return [][]byte{c.govTx(i1, voteOn(3, true)), c.govTx(i2, voteOn(3, true))}
		}, 4, 1, 1},
		{"the second proposal expires", func() [][]byte { return nil }, 4, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.commitOK(tc.txs()...)
			require.Equal(t, tc.active, m.issuers.value(LabelState, "active"), "active issuers")
			require.Equal(t, tc.removed, m.issuers.value(LabelState, "removed"), "removed issuers")
			require.Equal(t, tc.open, m.openProposals.value(), "open proposals")
		})
	}
}

// TestMetricsLeaveAppHash checks that an app with metrics computes the
// same app hashes as one without.
func TestMetricsLeaveAppHash(t *testing.T) {
	m := newTestMetrics()
	with, without := newMetricsChain(t, m.metrics(), 1, 100), newMetricsChain(t, NopMetrics(), 1, 100)
	for i := range 3 {
		var hashes [2][]byte
		for j, c := range []*testChain{with, without} {
			is := c.issuers[0]
			ok := c.tx(is, anchorMsg(testHash(i)))
			dup := c.tx(is, anchorMsg(testHash(i)))
			is.seq-- // the duplicate fails and does not use up its sequence
			_, hashes[j] = c.finalize(ok, dup)
		}
		require.Equal(t, hashes[1], hashes[0], "block %d", i+1)
	}
	require.Equal(t, 3.0, m.anchored.value())
	require.Equal(t, map[string]float64{"code=13": 3}, m.rejected.values())
}
