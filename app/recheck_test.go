package app

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// A pending tx whose hash a committed block wrote is checked in full on
// recheck, and evicted when the block made it invalid.
func TestRecheckConflictWithCommittedBlock(t *testing.T) {
	c := newTestChain(t, nil, 2)
	c.finalize()
	a, b := c.issuers[0], c.issuers[1]
	x, z := testHash(1), testHash(2)

	pendingAnchorX := c.tx(a, anchorMsg(x))
	require.Zero(t, c.checkTx(pendingAnchorX).Code)
	pendingAnchorZ := c.tx(a, anchorMsg(z))
	require.Zero(t, c.checkTx(pendingAnchorZ).Code)
	pendingSuspendZ := c.tx(a, suspendMsg("audit", z))
	require.Zero(t, c.checkTx(pendingSuspendZ).Code)

	// another node's block: b anchors x and revokes the unanchored z
	res, _ := c.finalize(c.tx(b, anchorMsg(x)), c.tx(b, revokeMsg("off-ledger", z)))
	require.Zero(t, res[0].Code, res[0].Log)
	require.Zero(t, res[1].Code, res[1].Log)

	r := c.recheckTx(pendingAnchorX)
	require.Equal(t, uint32(types.CodeAlreadyAnchored), r.Code, r.Log)
	// a's sequence 0 was never committed, so its later txs now fail: the
	// anchor of z at sequence 1 is a gap, and so is the suspend
	r = c.recheckTx(pendingAnchorZ)
	require.Equal(t, uint32(types.CodeSequenceGap), r.Code, r.Log)
	r = c.recheckTx(pendingSuspendZ)
	require.Equal(t, uint32(types.CodeSequenceGap), r.Code, r.Log)
}

// Pending txs the committed block did not touch stay valid on recheck and
// keep their staged writes for the txs after them.
func TestRecheckUntouchedKeepsStagedWrites(t *testing.T) {
	c := newTestChain(t, nil, 2)
	c.finalize()
	a := c.issuers[0]
	y := testHash(3)
	anchorY := c.tx(a, anchorMsg(y))
	suspendY := c.tx(a, suspendMsg("audit", y))
	require.Zero(t, c.checkTx(anchorY).Code)
	require.Zero(t, c.checkTx(suspendY).Code)

	c.finalize(c.tx(c.issuers[1], anchorMsg(testHash(4)))) // touches other keys only
	require.Zero(t, c.recheckTx(anchorY).Code)
	require.Zero(t, c.recheckTx(suspendY).Code)

	again := c.checkTx(c.sign(a, c.body(a, anchorMsg(y))))
	require.Equal(t, uint32(types.CodeAlreadyAnchored), again.Code, "the rechecked anchor is staged: %s", again.Log)
	require.Zero(t, c.checkTx(c.tx(a, reinstateMsg("ok", y))).Code, "the rechecked suspension is staged")
}

// Randomised: rechecking with the skip gives exactly the codes a full
// recheck (no knowledge of the block's writes) gives.
func TestRecheckSkipMatchesFullRecheck(t *testing.T) {
	kept, evicted := 0, 0
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			fast, full := newTestChain(t, nil, 3), newTestChain(t, nil, 3)
			fast.finalize()
			full.finalize()
			pool := make([][]byte, 8)
			for i := range pool {
				pool[i] = testHash(1000 + i)
			}
			randomMsg := func() any {
				h := pool[rng.IntN(len(pool))]
				switch rng.IntN(4) {
				case 0:
					return anchorMsg(h)
				case 1:
					return revokeMsg("r", h)
				case 2:
					return suspendMsg("s", h)
				}
				return reinstateMsg("i", h)
			}
			for round := range 6 {
				// issuer 0 queues pending txs on this node
				var pending [][]byte
				for range 1 + rng.IntN(5) {
					is := fast.issuers[0]
					tx := fast.sign(is, fast.body(is, randomMsg()))
					rf, rl := fast.checkTx(tx), full.checkTx(tx)
					require.Equal(t, rl.Code, rf.Code)
					if rf.Code == 0 {
						fast.issuers[0].seq++
						pending = append(pending, tx)
					}
				}
				// another node commits a block from issuers 1 and 2 (and,
				// sometimes, the first of the pending txs)
				var block [][]byte
				if len(pending) > 0 && rng.IntN(2) == 0 {
					block = append(block, pending[0])
				}
				for range rng.IntN(4) {
					is := fast.issuers[1+rng.IntN(2)]
					block = append(block, fast.tx(is, randomMsg()))
				}
				_, hf := fast.finalize(block...)
				_, hl := full.finalize(block...)
				require.Equal(t, hl, hf)
				full.app.lastBlockWrites = nil // forget the block: full recheck
				require.NoError(t, full.app.resetCheckState())
				// the next pending txs continue from the rechecked state
				fast.issuers[0].seq = fast.committedSeq("issuer0")
				for _, tx := range pending {
					rf, rl := fast.recheckTx(tx), full.recheckTx(tx)
					require.Equal(t, rl.Code, rf.Code, "round %d: %s / %s", round, rf.Log, rl.Log)
					if rf.Code == 0 {
						fast.issuers[0].seq++
						kept++
					} else {
						evicted++
					}
				}
			}
		})
	}
	// both outcomes must have occurred, or the comparison proves little
	require.Positive(t, kept)
	require.Positive(t, evicted)
}
