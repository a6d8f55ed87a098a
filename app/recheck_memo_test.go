package app

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// memoTwin drives two nodes of one chain through the same txs and blocks:
// memo reuses the last checks on recheck (recheck.go), full rechecks
// every tx in full. Every CheckTx answer, proposal, block result, app
// hash and pending sequence must be the same on both.
type memoTwin struct {
	t          *testing.T
	memo, full *testChain
	// keys are the issuers' signing keys for new txs (a rotation that
	// CheckTx accepted switches them)
	keys    []ed25519.PrivateKey
	next    []uint64
	mempool [][]byte
	// rotations counts the keys made, for fresh ones
	rotations int
}

func newMemoTwin(t *testing.T, issuers int) *memoTwin {
	tw := &memoTwin{t: t, memo: newTestChain(t, nil, issuers), full: newTestChain(t, nil, issuers)}
	tw.full.app.noRecheckMemo = true
	for _, is := range tw.memo.issuers {
		tw.keys = append(tw.keys, is.key)
	}
	tw.next = make([]uint64, issuers)
	tw.memo.finalize()
	tw.full.finalize()
	return tw
}

// sign signs msg for issuer i at sequence seq with key.
func (tw *memoTwin) sign(i int, seq uint64, key ed25519.PrivateKey, msg any) []byte {
	is := tw.memo.issuers[i]
	return tw.memo.sign(&testIssuer{id: is.id, key: key}, tw.memo.body(&testIssuer{id: is.id, seq: seq}, msg))
}

// check runs CheckTx (new or recheck) on both nodes and returns the
// memo node's answer, which must equal the other's.
func (tw *memoTwin) check(tx []byte, typ abci.CheckTxType) *abci.ResponseCheckTx {
	req := &abci.RequestCheckTx{Tx: tx, Type: typ}
	a, err := tw.memo.app.CheckTx(tw.t.Context(), req)
	require.NoError(tw.t, err)
	b, err := tw.full.app.CheckTx(tw.t.Context(), req)
	require.NoError(tw.t, err)
	require.Equal(tw.t, b, a, "CheckTx (%s) differs from a full check", typ)
	return a
}

// block commits txs on both nodes, then removes them from the mempool,
// drops the txs listed in expire without a recheck (a mempool TTL) and
// rechecks the rest in order, dropping those that fail.
func (tw *memoTwin) block(txs [][]byte, expire map[int]bool) {
	resA, hashA := tw.memo.finalize(txs...)
	resB, hashB := tw.full.finalize(txs...)
	require.Equal(tw.t, resB, resA)
	require.Equal(tw.t, hashB, hashA)
	var left [][]byte
	for i, tx := range tw.mempool {
		if !expire[i] && !slices.ContainsFunc(txs, func(b []byte) bool { return string(b) == string(tx) }) {
			left = append(left, tx)
		}
	}
	tw.mempool = tw.mempool[:0]
	for _, tx := range left {
		if tw.check(tx, abci.CheckTxType_Recheck).Code == 0 {
			tw.mempool = append(tw.mempool, tx)
		}
	}
	for i, is := range tw.memo.issuers {
		a := tw.memo.query(query.PathPendingSequence, []byte(is.id), 0)
		b := tw.full.query(query.PathPendingSequence, []byte(is.id), 0)
		require.Equal(tw.t, b.Value, a.Value, "pending sequence of %s", is.id)
		seq, err := types.DecodeSequence(a.Value)
		require.NoError(tw.t, err)
		tw.next[i] = seq
	}
}

// TestRecheckMemoMatchesFullRecheck plays random mempools and blocks on a
// node that reuses its checks and one that rechecks in full: anchors and
// status changes on a small set of hashes (so that txs conflict), txs
// ahead of their sequence, blocks from another node that commit a
// different tx at a pending one's sequence, key rotations, and txs that
// leave the mempool without a recheck. Both must answer alike throughout;
// the run must also have reused checks and redone some.
func TestRecheckMemoMatchesFullRecheck(t *testing.T) {
	var reused, redone int
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 77))
			tw := newMemoTwin(t, 3)
			hashes := testHashes(500, 10)
			pick := func() [][]byte {
				n := 1 + rng.IntN(3)
				perm := rng.Perm(len(hashes))[:n]
				out := make([][]byte, n)
				for i, p := range perm {
					out[i] = hashes[p]
				}
				return out
			}
			msg := func() any {
				switch r := rng.IntN(10); {
				case r < 5:
					return anchorMsg(pick()...)
				case r < 7:
					return revokeMsg("r", pick()...)
				case r < 8:
					return suspendMsg("s", pick()...)
				default:
					return &types.TxBody_Reinstate{Reinstate: &types.MsgSetStatus{Hashes: pick(), Reason: "ok"}}
				}
			}
			for range 250 {
				i := rng.IntN(3)
				switch r := rng.IntN(20); {
				case r < 12: // a new tx, now and then ahead of its sequence
					seq := tw.next[i]
					if rng.IntN(10) == 0 {
						seq++
					}
					tx := tw.sign(i, seq, tw.keys[i], msg())
					if tw.check(tx, abci.CheckTxType_New).Code == 0 {
						tw.mempool = append(tw.mempool, tx)
						if seq == tw.next[i] {
							tw.next[i]++
						}
					}
				case r == 12: // a key rotation
					tw.rotations++
					key := deterministicKey(fmt.Sprint("rotated-", seed, "-", tw.rotations))
					tx := tw.sign(i, tw.next[i], tw.keys[i], &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: key.Public().(ed25519.PublicKey)}})
					if tw.check(tx, abci.CheckTxType_New).Code == 0 {
						tw.mempool = append(tw.mempool, tx)
						tw.next[i]++
						tw.keys[i] = key
					}
				case r < 18: // this node's proposal
					kept := tw.memo.prepare(1<<20, slices.Clone(tw.mempool)...)
					require.Equal(t, tw.full.prepare(1<<20, slices.Clone(tw.mempool)...), kept)
					expire := map[int]bool{}
					if len(tw.mempool) > 0 && rng.IntN(4) == 0 {
						expire[rng.IntN(len(tw.mempool))] = true
					}
					tw.block(kept, expire)
				default: // another node's block: a different tx at the sequence of i's next pending one
					seq := committedSeqOf(t, tw.memo, i)
					foreign := tw.sign(i, seq, tw.keys[i], msg())
					if tw.memo.prepare(1<<20, foreign) == nil {
						foreign = nil // invalid on the committed state (e.g. key rotated meanwhile)
					}
					var txs [][]byte
					if foreign != nil {
						txs = append(txs, foreign)
					}
					tw.block(txs, nil)
				}
			}
			reused += tw.memo.app.recheckReused
			redone += tw.memo.app.recheckRedone
		})
	}
	t.Logf("recheck steps reused %d, redone in full %d", reused, redone)
	require.Positive(t, reused, "no recheck reused a check: the run does not test the memo")
	require.Positive(t, redone, "no recheck redid a step: the run does not test the conditions")
}

// committedSeqOf is the committed next sequence of issuer i.
func committedSeqOf(t *testing.T, c *testChain, i int) uint64 {
	t.Helper()
	return c.committedSeq(c.issuers[i].id)
}

// TestRecheckMemoVanishedPredecessor: issuer b's pending anchor of h was
// checked on the record issuer a's pending anchor staged. When a's tx
// leaves the mempool without a recheck (a TTL), b's recheck must not
// stage that record again: a re-sent anchor of h by a must be accepted,
// not refused as "already anchored" on the strength of a tx that is gone.
func TestRecheckMemoVanishedPredecessor(t *testing.T) {
	tw := newMemoTwin(t, 2)
	h := testHash(900)
	byA := tw.sign(0, 0, tw.keys[0], anchorMsg(h))
	byB := tw.sign(1, 0, tw.keys[1], anchorMsg(h))
	require.Zero(t, tw.check(byA, abci.CheckTxType_New).Code)
	require.Zero(t, tw.check(byB, abci.CheckTxType_New).Code)
	tw.mempool = [][]byte{byA, byB}
	tw.block(nil, map[int]bool{0: true}) // a's tx expires
	require.Equal(t, [][]byte{byB}, tw.mempool)
	again := tw.sign(0, 0, tw.keys[0], anchorMsg(h, testHash(901)))
	res := tw.check(again, abci.CheckTxType_New)
	require.Zero(t, res.Code, res.Log)
	require.Zero(t, tw.memo.app.recheckReused, "b's step read a's staged record, which is gone: it must be redone")
}

// TestRecheckMemoReusesUntouched: a recheck after a block that touched
// none of a pending tx's hashes reuses every step of it, and one after a
// block that wrote one of its hashes redoes that step only.
func TestRecheckMemoReusesUntouched(t *testing.T) {
	tw := newMemoTwin(t, 2)
	hs := testHashes(950, 4)
	pending := tw.sign(0, 0, tw.keys[0], anchorMsg(hs...))
	require.Zero(t, tw.check(pending, abci.CheckTxType_New).Code)
	tw.mempool = [][]byte{pending}
	tw.block([][]byte{tw.sign(1, 0, tw.keys[1], anchorMsg(testHash(999)))}, nil)
	require.Equal(t, 4, tw.memo.app.recheckReused)
	require.Zero(t, tw.memo.app.recheckRedone)
	// b anchors hs[2]: a's record of it is redone (both entries now)
	tw.block([][]byte{tw.sign(1, 1, tw.keys[1], anchorMsg(hs[2]))}, nil)
	require.Equal(t, 7, tw.memo.app.recheckReused)
	require.Equal(t, 1, tw.memo.app.recheckRedone)
	tw.block([][]byte{pending}, nil)
	require.Equal(t, types.VerdictValid, tw.memo.verdictOf(hs[2], tw.memo.issuers[0].id).Verdict)
	require.Equal(t, types.VerdictValid, tw.memo.verdictOf(hs[2], tw.memo.issuers[1].id).Verdict)
}

// TestRecheckMemoIssuerVoided: a pending suspension by issuer3 of a hash
// it anchored was valid; then the consortium voids issuer3's records from
// before that anchor. The suspension's step reads an unchanged record, but
// the issuer record it is judged by changed: the recheck must redo it and
// refuse the suspension (the anchor no longer counts), as a full recheck
// does.
func TestRecheckMemoIssuerVoided(t *testing.T) {
	tw := newMemoTwin(t, 4)
	h := testHash(960)
	from := tw.memo.height + 1
	tw.block([][]byte{tw.sign(3, 0, tw.keys[3], anchorMsg(h))}, nil)
	suspend := tw.sign(3, 1, tw.keys[3], suspendMsg("audit", h))
	require.Zero(t, tw.check(suspend, abci.CheckTxType_New).Code)
	tw.mempool = [][]byte{suspend}
	tw.block([][]byte{tw.sign(0, 0, tw.keys[0], proposeVoidOf(tw.memo.issuers[3].id, from))}, nil)
	require.Equal(t, [][]byte{suspend}, tw.mempool, "still valid while the void is open")
	tw.block([][]byte{tw.sign(1, 0, tw.keys[1], voteOn(1, true)), tw.sign(2, 0, tw.keys[2], voteOn(1, true))}, nil)
	require.Empty(t, tw.mempool, "the void passed: issuer3's anchor no longer counts, so its suspension fails")
	require.Equal(t, types.VerdictVoided, tw.memo.report(h, tw.memo.issuers[3].id).Verdict)
}

// TestRecheckMemoVoidPassesInMempool: the void of issuer3's records passes
// only in the CheckTx state (a pending vote that now has enough votes
// beside a committed one), so the last block did not write issuer3's
// record: the pending suspension after that vote must still be redone.
func TestRecheckMemoVoidPassesInMempool(t *testing.T) {
	tw := newMemoTwin(t, 4)
	h := testHash(970)
	from := tw.memo.height + 1
	tw.block([][]byte{tw.sign(3, 0, tw.keys[3], anchorMsg(h))}, nil)
	tw.block([][]byte{tw.sign(0, 0, tw.keys[0], proposeVoidOf(tw.memo.issuers[3].id, from))}, nil)
	vote := tw.sign(1, 0, tw.keys[1], voteOn(1, true))
	suspend := tw.sign(3, 1, tw.keys[3], suspendMsg("audit", h))
	for _, tx := range [][]byte{vote, suspend} {
		res := tw.check(tx, abci.CheckTxType_New)
		require.Zero(t, res.Code, res.Log)
		tw.mempool = append(tw.mempool, tx)
	}
	// another node commits issuer2's vote: the pending one now passes it
	tw.block([][]byte{tw.sign(2, 0, tw.keys[2], voteOn(1, true))}, nil)
	require.Equal(t, [][]byte{vote}, tw.mempool, "the suspension fails once the void passes ahead of it")
}

// TestRecheckMemoHeldTxStagesFirst: issuer a's anchor of k was held (its
// sequence ahead) when issuer b's anchor of k read the committed record.
// Once a's missing tx commits, the held one executes on recheck and
// stages k ahead of b's: b's step must be redone on a's staged record, so
// that the CheckTx state still knows a's pending anchor.
func TestRecheckMemoHeldTxStagesFirst(t *testing.T) {
	tw := newMemoTwin(t, 2)
	k := testHash(980)
	held := tw.sign(0, 1, tw.keys[0], anchorMsg(k))
	byB := tw.sign(1, 0, tw.keys[1], anchorMsg(k))
	for _, tx := range [][]byte{held, byB} {
		res := tw.check(tx, abci.CheckTxType_New)
		require.Zero(t, res.Code, res.Log)
		tw.mempool = append(tw.mempool, tx)
	}
	tw.block([][]byte{tw.sign(0, 0, tw.keys[0], anchorMsg(testHash(981)))}, nil)
	require.Equal(t, [][]byte{held, byB}, tw.mempool)
	res := tw.check(tw.sign(0, 2, tw.keys[0], anchorMsg(k)), abci.CheckTxType_New)
	require.Equal(t, uint32(types.CodeAlreadyAnchored), res.Code, "a's pending anchor of k must be known: %s", res.Log)
}

// TestRecheckMemoStagedValueChanged: issuer b's pending anchor of k read
// the record issuer a's pending anchor staged. Another node's block
// commits issuer c's anchor of k, so a's staged record changes (it now
// holds c's entry): b's step must be redone on it, or the CheckTx state
// would lose c's committed anchor.
func TestRecheckMemoStagedValueChanged(t *testing.T) {
	tw := newMemoTwin(t, 3)
	k := testHash(990)
	for _, tx := range [][]byte{tw.sign(0, 0, tw.keys[0], anchorMsg(k)), tw.sign(1, 0, tw.keys[1], anchorMsg(k))} {
		res := tw.check(tx, abci.CheckTxType_New)
		require.Zero(t, res.Code, res.Log)
		tw.mempool = append(tw.mempool, tx)
	}
	tw.block([][]byte{tw.sign(2, 0, tw.keys[2], anchorMsg(k))}, nil)
	require.Len(t, tw.mempool, 2)
	res := tw.check(tw.sign(2, 1, tw.keys[2], anchorMsg(k)), abci.CheckTxType_New)
	require.Equal(t, uint32(types.CodeAlreadyAnchored), res.Code, "c's committed anchor of k must count: %s", res.Log)
}
