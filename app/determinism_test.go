package app

import (
	"encoding/hex"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// newDiskApp opens a persistent Application in dir and closes it when the
// test ends.
func newDiskApp(t *testing.T, dir string) *Application {
	t.Helper()
	app, err := NewPersistentApplication(dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, app.Close()) })
	return app
}

// TestDeterminism feeds the same random blocks (anchors, revokes, suspends
// and reinstates over several issuers, failing txs included) to independent
// app instances: in memory, on disk, and in memory with every block first
// checked by ProcessProposal (so FinalizeBlock reuses that execution). They
// must agree on every tx result and on the app hash at every height.
func TestDeterminism(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seed    int64
		issuers int
		pool    int
		blocks  int
	}{
		{name: "4 issuers", seed: 42, issuers: 4, pool: 12, blocks: 30},
		{name: "2 issuers, tiny pool", seed: 7, issuers: 2, pool: 5, blocks: 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newTestChain(t, nil, tc.issuers)
			disk := newTestChain(t, newDiskApp(t, t.TempDir()), tc.issuers)
			proc := newTestChain(t, nil, tc.issuers)
			g := newTxGen(t, tc.seed, mem.issuers, tc.pool)
			var ok, failed int
			for range tc.blocks {
				txs, _ := g.block(mem.height + 1)
				proc.process(txs...)
				resMem, hashMem := mem.finalize(txs...)
				resDisk, hashDisk := disk.finalize(txs...)
				resProc, hashProc := proc.finalize(txs...)
				require.Equalf(t, hashMem, hashDisk, "app hash at height %d: in memory vs on disk", mem.height)
				require.Equalf(t, hashMem, hashProc, "app hash at height %d: direct vs after ProcessProposal", mem.height)
				require.Equal(t, hashMem, mem.app.Store().Hash())
				require.Equal(t, hashMem, disk.app.Store().Hash())
				require.Equal(t, resMem, resDisk)
				require.Equal(t, resMem, resProc)
				for _, r := range resMem {
					if r.Code == 0 {
						ok++
					} else {
						failed++
					}
				}
			}
			require.Positive(t, ok)
			require.Positive(t, failed)
			require.Equal(t, mem.records(0, g.pool...), disk.records(0, g.pool...))
		})
	}
}

// goldenAppHash is the app hash after goldenScenario. It pins the key
// layout, the record encodings, the execution rules and the IAVL version:
// if it changes, existing chains can no longer be replayed, so never update
// it without a migration plan. (It changed with the move from one record
// per hash, keys 0x01 and 0x02, to every issuer's own record, key 0x0B.)
const goldenAppHash = "674fb4b12637bbe315858935ef47ab68ada3b30875c3674831cc3a240894d9ee"

// goldenScenario runs a fixed sequence of blocks on c (three issuers).
func goldenScenario(c *testChain) {
	a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
	h := testHashes(1, 8)
	c.commitOK(c.tx(a, anchorMsg(h[0], h[1], h[2])), c.tx(b, anchorMsg(h[3])))
	res, _ := c.finalize(
		c.tx(a, revokeMsg("fraud", h[0])),
		c.tx(a, suspendMsg("audit", h[1])),
		c.tx(d, revokeMsg("issued off-ledger", h[4])),
		// b's own record of a hash a anchored: accepted (the one-record
		// layout rejected it, CodeAlreadyAnchored)
		c.tx(b, anchorMsg(h[2])),
		c.tx(a, anchorMsg(h[2])), // rejected: a anchored it already
	)
	require.Zero(c.t, res[3].Code, res[3].Log)
	require.Equal(c.t, uint32(types.CodeAlreadyAnchored), res[4].Code, res[4].Log)
	a.seq--
	c.commitOK()
	c.commitOK(
		c.tx(a, reinstateMsg("cleared", h[1])),
		c.tx(b, suspendMsg("review", h[3])),
		c.tx(a, anchorMsg(h[5], h[6])),
		c.tx(d, anchorMsg(h[7])),
	)
	c.commitOK(
		c.tx(b, reinstateMsg("ok", h[3])),
		c.tx(d, revokeMsg("superseded", h[7])),
		c.tx(a, anchorMsg(h[4])), // a's record next to d's off-ledger revocation
	)
}

// TestGoldenAppHash checks the app hash of a fixed scenario against a
// pinned value, on disk and in memory.
func TestGoldenAppHash(t *testing.T) {
	for _, tc := range []struct {
		name string
		app  func(t *testing.T) *Application
	}{
		{name: "in memory", app: func(*testing.T) *Application { return NewInMemoryApplication() }},
		{name: "on disk", app: func(t *testing.T) *Application { return newDiskApp(t, t.TempDir()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, tc.app(t), 3)
			goldenScenario(c)
			require.Equal(t, goldenAppHash, hex.EncodeToString(c.app.Store().Hash()))
			info, err := c.app.Info(t.Context(), &abci.RequestInfo{})
			require.NoError(t, err)
			require.Equal(t, int64(5), info.LastBlockHeight)
			require.Equal(t, goldenAppHash, hex.EncodeToString(info.LastBlockAppHash))
			// what the pinned state holds, issuer by issuer
			h := testHashes(1, 8)
			for _, want := range []struct {
				hash    []byte
				issuer  string
				verdict types.Verdict
				history int
			}{
				{h[0], "issuer0", types.VerdictRevoked, 0},
				{h[1], "issuer0", types.VerdictValid, 1},
				{h[2], "issuer0", types.VerdictValid, 0},
				{h[2], "issuer1", types.VerdictValid, 0},
				{h[3], "issuer1", types.VerdictValid, 1},
				{h[4], "issuer0", types.VerdictValid, 0},
				{h[4], "issuer2", types.VerdictRevoked, 0},
				{h[7], "issuer2", types.VerdictRevoked, 0},
			} {
				res := c.verdictOf(want.hash, want.issuer)
				require.Equalf(t, want.verdict, res.Verdict, "%s's record of %x", want.issuer, want.hash)
				require.Len(t, c.entry(want.hash, want.issuer).History, want.history)
			}
		})
	}
}

// TestRestart commits blocks on disk, closes the app and reopens it from
// the same directory: Info must report the same height and app hash, queries
// (latest and historical) the same records, and the reopened app must go on
// exactly like a twin that never restarted.
func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		blocks int
	}{
		{name: "after 1 block", blocks: 1},
		{name: "after 12 blocks", blocks: 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			app1, err := NewPersistentApplication(dir, nil)
			require.NoError(t, err)
			c := newTestChain(t, app1, 3)
			twin := newTestChain(t, nil, 3)
			g := newTxGen(t, 99, c.issuers, 10)
			for range tc.blocks {
				txs, _ := g.block(c.height + 1)
				c.finalize(txs...)
				twin.finalize(txs...)
			}
			info1, err := app1.Info(t.Context(), &abci.RequestInfo{})
			require.NoError(t, err)
			require.Equal(t, int64(tc.blocks), info1.LastBlockHeight)
			latest := c.records(0, g.pool...)
			first := c.records(1, g.pool...)
			require.NoError(t, app1.Close())

			app2 := newDiskApp(t, dir)
			info2, err := app2.Info(t.Context(), &abci.RequestInfo{})
			require.NoError(t, err)
			require.Equal(t, info1.LastBlockHeight, info2.LastBlockHeight)
			require.Equal(t, info1.LastBlockAppHash, info2.LastBlockAppHash)
			require.Equal(t, twin.app.Store().Hash(), info2.LastBlockAppHash)

			c2 := &testChain{t: t, app: app2, issuers: c.issuers, height: c.height, genesis: c.genesis}
			require.Equal(t, latest, c2.records(0, g.pool...))
			require.Equal(t, first, c2.records(1, g.pool...))
			for _, h := range g.pool {
				require.Equal(t, twin.verdict(h), c2.verdict(h))
			}

			// the reopened app checks and executes the next blocks exactly
			// like the twin
			for range 3 {
				txs, want := g.block(c2.height + 1)
				for i, tx := range txs {
					resp := c2.checkTx(tx)
					require.Equalf(t, want[i], types.Code(resp.Code), "CheckTx of tx %d: %s", i, resp.Log)
				}
				res, hash := c2.finalize(txs...)
				twinRes, twinHash := twin.finalize(txs...)
				require.Equal(t, twinHash, hash)
				require.Equal(t, twinRes, res)
			}
		})
	}
}
