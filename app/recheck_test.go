package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// A pending tx whose hash a committed block wrote is checked in full on
// recheck. Another issuer's writes to the same hashes no longer make it
// invalid: the one-record layout evicted a's anchor of x when b anchored x
// first (and a's anchor and suspension of z when b revoked z); each issuer
// now writes only its own record of a hash, so all three stay valid and
// commit. The block's writes that do invalidate a pending tx are the
// same issuer's (TestRecheckConflictWithOwnCommittedTx).
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

	for _, tx := range [][]byte{pendingAnchorX, pendingAnchorZ, pendingSuspendZ} {
		r := c.recheckTx(tx)
		require.Zero(t, r.Code, r.Log)
	}
	c.commitOK(pendingAnchorX, pendingAnchorZ, pendingSuspendZ)
	require.Equal(t, types.VerdictValid, c.verdictOf(x, a.id).Verdict)
	require.Equal(t, types.VerdictValid, c.verdictOf(x, b.id).Verdict)
	require.Equal(t, types.VerdictSuspended, c.verdictOf(z, a.id).Verdict)
	require.Equal(t, types.VerdictRevoked, c.verdictOf(z, b.id).Verdict)
}

// A pending tx that a committed tx of its own issuer (sent through another
// node, with the same sequence) made invalid by its content is evicted on
// recheck, and the issuer's later pending txs with it.
func TestRecheckConflictWithOwnCommittedTx(t *testing.T) {
	c := newTestChain(t, nil, 2)
	c.finalize()
	a := c.issuers[0]
	x, z := testHash(1), testHash(2)
	seq := a.seq
	pendingAnchorX := c.tx(a, anchorMsg(x))
	pendingAnchorZ := c.tx(a, anchorMsg(z))
	pendingSuspendZ := c.tx(a, suspendMsg("audit", z))
	for _, tx := range [][]byte{pendingAnchorX, pendingAnchorZ, pendingSuspendZ} {
		require.Zero(t, c.checkTx(tx).Code)
	}

	// another node's block: a's tx with the first pending sequence revokes
	// z off-ledger
	next := a.seq
	a.seq = seq
	res, _ := c.finalize(c.tx(a, revokeMsg("off-ledger", z)))
	require.Zero(t, res[0].Code, res[0].Log)
	a.seq = next

	r := c.recheckTx(pendingAnchorX)
	require.Equal(t, uint32(types.CodeSequenceReplayed), r.Code, r.Log)
	r = c.recheckTx(pendingAnchorZ)
	require.Equal(t, uint32(types.CodeHasStatus), r.Code, "a revoked z before anchoring it: %s", r.Log)
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

// A pending tx that depends on an earlier pending tx of its issuer is
// evicted with it: issuer X's A (sequence s, anchors h1) and A2 (sequence
// s+1, suspends h1) pass CheckTx here; X's other tx B with sequence s
// (anchoring h9) commits through another node. A is now a replay; A2's
// sequence is X's next one, but h1 is not anchored, so A2 must fail too,
// or it stays in the mempool, is left out of every proposal, and blocks
// X's real next tx on this node (the trust issue's lock-out).
func TestRecheckEvictsTxDependingOnReplacedTx(t *testing.T) {
	c := newTestChain(t, nil, 2)
	c.finalize()
	x := c.issuers[0]
	h1, h9 := testHash(1), testHash(9)
	seq := x.seq
	a := c.tx(x, anchorMsg(h1))
	a2 := c.tx(x, suspendMsg("audit", h1))
	require.Zero(t, c.checkTx(a).Code)
	require.Zero(t, c.checkTx(a2).Code)

	x.seq = seq // B takes sequence s through another node
	res, _ := c.finalize(c.tx(x, anchorMsg(h9)))
	require.Zero(t, res[0].Code, res[0].Log)

	r := c.recheckTx(a)
	require.Equal(t, uint32(types.CodeSequenceReplayed), r.Code, r.Log)
	r = c.recheckTx(a2)
	require.Equal(t, uint32(types.CodeNotAnchored), r.Code, "A2 suspends a hash that will not be anchored: %s", r.Log)
	// X's next tx with sequence s+1 is accepted on this node
	require.Zero(t, c.checkTx(c.tx(x, anchorMsg(testHash(10)))).Code)
}
