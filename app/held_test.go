package app

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// A node that is one block behind receives, from a peer, the issuer's tx
// whose predecessor that block commits (CometBFT gossips txs to a peer up
// to two blocks behind). The lagging node holds it instead of refusing it
// for good; once it has caught up, the recheck executes it and its own
// proposal carries it.
func TestCheckTxHoldsTxAhead(t *testing.T) {
	up := newTestChain(t, nil, 2)
	lag := newTestChain(t, nil, 2)
	up.commitOK()
	lag.commitOK()
	a := up.issuers[0]
	tx0 := up.tx(a, anchorMsg(testHash(1)))
	tx1 := up.tx(a, anchorMsg(testHash(2)))
	upHash := up.commitOK(tx0)

	r := lag.checkTx(tx1)
	require.Zero(t, r.Code, r.Log)
	require.Contains(t, r.Log, "held: sequence 1 of issuer \"issuer0\" is ahead of this node's state (next is 0)")
	require.Equal(t, uint64(0), lag.committedSeq(a.id), "holding executes nothing")

	// the lagging node applies the block and rechecks its mempool
	lagHash := lag.commitOK(tx0)
	require.Equal(t, upHash, lagHash)
	r = lag.recheckTx(tx1)
	require.Zero(t, r.Code, r.Log)
	require.NotContains(t, r.Log, "held", "executed in full now")
	require.Equal(t, [][]byte{tx1}, lag.prepare(1<<20, tx1))
	lag.commitOK(tx1)
	require.Equal(t, types.VerdictValid, lag.verdictOf(testHash(2), a.id).Verdict)
	require.Empty(t, lag.app.held, "an executed tx is no longer held")

	// replays are refused as before, held or not
	r = lag.checkTx(tx1)
	require.Equal(t, uint32(types.CodeSequenceReplayed), r.Code, r.Log)
}

// Only a tx that would be valid at its sequence is held: a forged or
// otherwise bad tx ahead of its sequence is refused for what is wrong with
// it, and so is one further ahead than MaxSequenceLead.
func TestCheckTxHoldsOnlyAuthenticTxs(t *testing.T) {
	c := newTestChain(t, nil, 2)
	c.commitOK()
	a, b := c.issuers[0], c.issuers[1]
	ahead := func(is *testIssuer, lead uint64, mutate func(*types.TxBody)) []byte {
		body := c.body(is, anchorMsg(testHash(int(lead))))
		body.Sequence += lead
		if mutate != nil {
			mutate(body)
		}
		return c.sign(is, body)
	}
	forged := ahead(a, 3, nil)
	forged = mutateEnvelope(t, forged, func(env *types.Tx) { env.Signature[0] ^= 0xff })
	signedByOther := c.sign(b, c.body(a, anchorMsg(testHash(9))))
	otherBody := c.body(a, anchorMsg(testHash(9)))
	otherBody.Sequence += 2
	signedByOtherAhead := c.sign(b, otherBody)
	for _, tc := range []struct {
		name string
		tx   []byte
		code types.Code
	}{
		{name: "bad signature", tx: forged, code: types.CodeBadSignature},
		{name: "signed with another issuer's key", tx: signedByOther, code: types.CodeBadSignature},
		{name: "signed with another issuer's key, ahead", tx: signedByOtherAhead, code: types.CodeBadSignature},
		{name: "unknown issuer", tx: ahead(a, 3, func(b *types.TxBody) { b.IssuerId = "issuer9" }), code: types.CodeUnknownIssuer},
		{name: "wrong chain", tx: ahead(a, 3, func(b *types.TxBody) { b.ChainId = "other" }), code: types.CodeWrongChainID},
		{name: "too far ahead", tx: ahead(a, MaxSequenceLead+1, nil), code: types.CodeSequenceGap},
		{name: "just within the lead", tx: ahead(a, MaxSequenceLead, nil), code: types.CodeOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.checkTx(tc.tx)
			require.Equalf(t, tc.code, types.Code(r.Code), "%s", r.Log)
		})
	}
}

// A held tx whose predecessors never come is dropped after HeldTxBlocks
// commits; until then every recheck keeps it.
func TestHeldTxExpires(t *testing.T) {
	c := newTestChain(t, nil, 1)
	c.commitOK()
	a := c.issuers[0]
	body := c.body(a, anchorMsg(testHash(1)))
	body.Sequence += 2
	tx := c.sign(a, body)
	require.Zero(t, c.checkTx(tx).Code)
	for i := 1; i < HeldTxBlocks; i++ {
		c.commitOK()
		r := c.recheckTx(tx)
		require.Zerof(t, r.Code, "after %d commits: %s", i, r.Log)
	}
	c.commitOK()
	r := c.recheckTx(tx)
	require.Equal(t, uint32(types.CodeSequenceGap), r.Code, r.Log)
	require.Empty(t, c.app.held)
	// sent anew, it is held anew
	require.Zero(t, c.checkTx(tx).Code)
}

// Holding is a mempool policy: a block that carries a tx ahead of its
// sequence is still invalid. ProcessProposal rejects it and FinalizeBlock
// fails the tx without changing the state, so no tx commits out of order.
func TestBlockWithTxAheadRejected(t *testing.T) {
	c := newTestChain(t, nil, 1)
	c.commitOK()
	a := c.issuers[0]
	first, second := c.tx(a, anchorMsg(testHash(1))), c.tx(a, anchorMsg(testHash(2)))
	require.Zero(t, c.checkTx(second).Code, "held")
	require.Equal(t, abci.ResponseProcessProposal_REJECT, c.process(second, first))

	empty := newTestChain(t, nil, 1)
	empty.commitOK()
	_, wantHash := empty.finalize()
	res, hash := c.finalize(second)
	require.Equal(t, uint32(types.CodeSequenceGap), res[0].Code, res[0].Log)
	require.Equal(t, wantHash, hash, "the failed tx changed the state")
	require.Equal(t, uint64(0), c.committedSeq(a.id))
	c.commitOK(first, second)
}
