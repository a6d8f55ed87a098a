package app

import (
	"bytes"
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	idb "github.com/cosmos/iavl/db"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// fuzzCacheSize is the IAVL node cache of a fuzz chain: the base state has
// a few hundred nodes, and a large cache would only cost time.
const fuzzCacheSize = 10_000

// fuzzMaxTxBytes is the MaxTxBytes of the fuzz targets' PrepareProposal:
// far above any input, so that only failing txs are left out.
const fuzzMaxTxBytes = 1 << 30

// fuzzBase is a committed chain state that every fuzz input runs on: each
// exec opens a copy of its database, so inputs do not affect each other and
// a crasher reproduces on its own.
type fuzzBase struct {
	db      *idb.MemDB
	height  int64
	genesis time.Time
	issuers []*testIssuer
	// newcomer is the issuer open proposal 2 admits, with its key
	newcomer *testIssuer
	// emptyHash is the app hash after an empty block on the base: the state
	// a block of rejected txs must leave
	emptyHash []byte
}

// newFuzzBase builds the base state: issuers issuer0..issuer4, issuer4
// removed by vote (proposal 1); hashes 1-4 anchored by issuer0 and hash 1
// also by issuer1; hash 2 suspended and hash 3 revoked by issuer0; hashes
// 6 and 7 anchored by issuer4 before its removal; proposals 2 (admit
// "newcomer") and 3 (replace issuer3's key) open.
func newFuzzBase(tb testing.TB) *fuzzBase {
	tb.Helper()
	db := idb.NewMemDB()
	store, err := NewStore(db, WithCacheSize(fuzzCacheSize))
	require.NoError(tb, err)
	c := newTestChain(tb, NewApplication(store), 5)
	i0, i1, i2, i4 := c.issuers[0], c.issuers[1], c.issuers[2], c.issuers[4]
	c.commitOK(c.tx(i0, anchorMsg(testHashes(1, 4)...)), c.tx(i1, anchorMsg(testHash(1))), c.tx(i4, anchorMsg(testHash(6), testHash(7))))
	c.commitOK(c.tx(i0, suspendMsg("audit", testHash(2))), c.tx(i0, revokeMsg("fraud", testHash(3))), c.govTx(i0, proposeRemove(i4.id)))
	c.commitOK(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	m, newcomer, _ := admissionOf("newcomer")
	c.commitOK(c.govTx(i0, proposeAdd(m)), c.govTx(i1, replaceKeyOf("issuer3", deterministicKey("fuzz-replacement"))))
	require.Equal(tb, types.IssuerStatus_ISSUER_STATUS_REMOVED, c.issuer(i4.id).Status)
	b := &fuzzBase{db: db, height: c.height, genesis: c.genesis, issuers: c.issuers, newcomer: newcomer}
	_, b.emptyHash = b.open(tb).finalize()
	require.Equal(tb, store.Hash(), b.emptyHash, "an empty block on the base changes the state")
	return b
}

// open returns a chain on a copy of the base state. Its issuers are the
// base's, whose seq is their next sequence in the base state: sign with
// signAt rather than consume them.
func (b *fuzzBase) open(tb testing.TB) *testChain {
	tb.Helper()
	db := idb.NewMemDB()
	it, err := b.db.Iterator(nil, nil)
	require.NoError(tb, err)
	for ; it.Valid(); it.Next() {
		require.NoError(tb, db.Set(bytes.Clone(it.Key()), bytes.Clone(it.Value())))
	}
	require.NoError(tb, it.Error())
	require.NoError(tb, it.Close())
	store, err := NewStore(db, WithCacheSize(fuzzCacheSize))
	require.NoError(tb, err)
	return &testChain{t: tb, app: NewApplication(store), issuers: b.issuers, height: b.height, genesis: b.genesis}
}

// signAt signs a body of is at sequence seq on chain, with its message set
// by set.
func signAt(tb testing.TB, chain string, is *testIssuer, seq uint64, set func(*types.TxBody)) []byte {
	tb.Helper()
	body := &types.TxBody{ChainId: chain, IssuerId: is.id, Sequence: seq}
	set(body)
	tx, err := types.SignTx(body, is.key)
	require.NoError(tb, err)
	return tx
}

func withAnchor(hashes ...[]byte) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = anchorMsg(hashes...) }
}

func withRevoke(reason string, hashes ...[]byte) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = revokeMsg(reason, hashes...) }
}

func withSuspend(reason string, hashes ...[]byte) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = suspendMsg(reason, hashes...) }
}

func withReinstate(reason string, hashes ...[]byte) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = reinstateMsg(reason, hashes...) }
}

func replaceKeyOf(id string, key ed25519.PrivateKey) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeReplaceKey{ProposeReplaceKey: &types.MsgProposeReplaceKey{IssuerId: id, NewSigningPubkey: key.Public().(ed25519.PublicKey)}}
	}
}

func rotateTo(key ed25519.PrivateKey) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: key.Public().(ed25519.PublicKey)}}
	}
}

func proposeIdentifiersOf(id string, idents ...string) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeIdentifiers{ProposeIdentifiers: &types.MsgProposeIdentifiers{IssuerId: id, Identifiers: idents}}
	}
}

// seeds returns txs of every kind that the base state accepts, each on its
// own (every one at its signer's next sequence), and signed txs that it
// rejects.
func (b *fuzzBase) seeds(tb testing.TB) (accepted, rejected [][]byte) {
	tb.Helper()
	i0, i1, i2, i3, i4 := b.issuers[0], b.issuers[1], b.issuers[2], b.issuers[3], b.issuers[4]
	at := func(is *testIssuer, set func(*types.TxBody)) []byte { return signAt(tb, testChainID, is, is.seq, set) }
	admission, _, _ := admissionOf("fuzzer")
	accepted = [][]byte{
		at(i0, withAnchor(testHash(5))),
		at(i2, withAnchor(testHash(1))),
		at(i3, withAnchor(testHashes(8, 3)...)),
		at(i0, withRevoke("fraud", testHash(1))),
		at(i2, withRevoke("issued off-ledger", testHash(11))),
		at(i1, withSuspend("audit", testHash(1))),
		at(i0, withReinstate("cleared", testHash(2))),
		at(i2, voteOn(2, true)),
		at(i3, voteOn(2, false)),
		at(i2, voteOn(3, true)),
		at(i2, proposeAdd(admission)),
		at(i1, proposeRemove(i3.id)),
		at(i3, rotateTo(deterministicKey("fuzz-rotated"))),
		at(i2, replaceKeyOf(i1.id, deterministicKey("fuzz-other"))),
		at(i0, proposeIdentifiersOf(i0.id, "did:web:issuer0.example")),
		at(i1, proposeVoidOf(i4.id, 1)),
		at(i2, proposeStatusOf(i4.id, testHash(6), "revoked", "key lost")),
	}
	nobody := &testIssuer{id: "nobody", key: deterministicKey("nobody")}
	rejected = [][]byte{
		at(i0, withAnchor(testHash(4))),                            // already anchored
		at(i0, withReinstate("ok", testHash(1))),                   // not suspended
		at(i0, withAnchor(testHash(3))),                            // revoked before
		at(i1, withSuspend("x", testHash(2))),                      // not anchored by issuer1
		at(i0, voteOn(2, true)),                                    // the proposer's vote counts already
		at(i2, voteOn(1, true)),                                    // decided
		at(i2, voteOn(99, true)),                                   // unknown proposal
		at(i4, withAnchor(testHash(12))),                           // removed issuer
		at(nobody, withAnchor(testHash(12))),                       // unknown issuer
		at(i1, proposeStatusOf(i1.id, testHash(1), "revoked", "")), // active issuer
		at(i2, proposeRemove(i4.id)),                               // already removed
		at(i2, proposeIdentifiersOf(i2.id, "did:web:x", "did:web:x")),
		signAt(tb, testChainID, i0, i0.seq-1, withAnchor(testHash(5))), // replay
		signAt(tb, testChainID, i0, i0.seq+1, withAnchor(testHash(5))), // gap
		signAt(tb, "other-chain", i0, i0.seq, withAnchor(testHash(5))),
		signAt(tb, testChainID, &testIssuer{id: i0.id, key: i1.key}, i0.seq, withAnchor(testHash(5))), // another's key
	}
	return accepted, rejected
}

// mutations returns malformed variants of a valid tx: a flipped signature
// bit, a truncation, an unknown field appended, and the body alone.
func mutations(tb testing.TB, tx []byte) [][]byte {
	tb.Helper()
	flipped := bytes.Clone(tx)
	flipped[len(flipped)-1] ^= 0x01
	var env types.Tx
	require.NoError(tb, env.Unmarshal(tx))
	return [][]byte{flipped, tx[:len(tx)-1], append(bytes.Clone(tx), 0x78, 0x01), env.Body}
}

// FuzzDeliverTx runs one tx of arbitrary bytes through the ABCI path a
// node takes, on a copy of the base state: CheckTx, ProcessProposal,
// FinalizeBlock and Commit. None may fail or panic; CheckTx agrees with
// the block (requireCheckAgrees) and ProcessProposal accepts the block
// exactly when the tx succeeds; a rejected tx leaves the state an empty
// block leaves, and an accepted one changes it.
func FuzzDeliverTx(f *testing.F) {
	base := newFuzzBase(f)
	accepted, rejected := base.seeds(f)
	for _, tx := range accepted {
		f.Add(tx)
		for _, m := range mutations(f, tx) {
			f.Add(m)
		}
	}
	for _, tx := range rejected {
		f.Add(tx)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	// the seeds mean what they say, so the corpus covers both outcomes
	for i, txs := range [][][]byte{accepted, rejected} {
		for _, tx := range txs {
			res, _ := base.open(f).finalize(tx)
			require.Equalf(f, i == 0, res[0].Code == 0, "seed tx: code %d: %s", res[0].Code, res[0].Log)
		}
	}

	f.Fuzz(func(t *testing.T, tx []byte) {
		c := base.open(t)
		check := c.checkTx(tx)
		status := c.process(tx)
		res, hash := c.finalize(tx)
		require.Len(t, res, 1)
		r := res[0]
		require.Equal(t, hash, c.app.Store().Hash(), "FinalizeBlock's app hash is not the committed one")
		requireCheckAgrees(t, check, r)
		if r.Code != uint32(types.CodeOK) {
			require.Equal(t, abci.ResponseProcessProposal_REJECT, status, "a proposal with a failing tx is accepted")
			require.Equal(t, types.Codespace, r.Codespace)
			require.NotEmpty(t, r.Log)
			require.Empty(t, r.Events)
			require.Equalf(t, base.emptyHash, hash, "rejected tx (code %d: %s) changed the state", r.Code, r.Log)
			return
		}
		require.Equal(t, abci.ResponseProcessProposal_ACCEPT, status)
		require.NotEqual(t, base.emptyHash, hash, "an accepted tx left the state as it was")
	})
}

// FuzzDeliverTxs runs a block of three txs of arbitrary bytes on a copy of
// the base state, after CheckTx of each in turn as the mempool does. None
// may fail or panic; CheckTx agrees with the block on each tx; the block
// leaves the state that a twin chain reaches with a block of only the
// accepted txs (so the rejected ones changed nothing); and the proposal
// PrepareProposal builds from the same txs is one that ProcessProposal
// accepts and whose every tx succeeds: when no tx is ahead of its sequence
// (PrepareProposal may move such a tx after its predecessor), it is
// exactly the accepted txs.
func FuzzDeliverTxs(f *testing.F) {
	base := newFuzzBase(f)
	accepted, rejected := base.seeds(f)
	i0, i1, i2, i3 := base.issuers[0], base.issuers[1], base.issuers[2], base.issuers[3]
	at := func(is *testIssuer, ahead uint64, set func(*types.TxBody)) []byte {
		return signAt(f, testChainID, is, is.seq+ahead, set)
	}
	for i, tx := range accepted {
		f.Add(tx, rejected[i%len(rejected)], accepted[(i+1)%len(accepted)])
	}
	anchor5, revoke5 := at(i0, 0, withAnchor(testHash(5))), at(i0, 1, withRevoke("mistake", testHash(5)))
	f.Add(anchor5, revoke5, at(i1, 0, withAnchor(testHash(12))))
	f.Add(revoke5, anchor5, at(i1, 0, withAnchor(testHash(12)))) // ahead of its sequence
	f.Add(mutations(f, anchor5)[0], anchor5, anchor5)
	// admitting the newcomer takes effect in the block, so it may write in it
	f.Add(at(i2, 0, voteOn(2, true)), at(i3, 0, voteOn(2, true)), signAt(f, testChainID, base.newcomer, 0, withAnchor(testHash(13))))
	// a rotated key signs from the next tx on
	f.Add(at(i3, 0, rotateTo(deterministicKey("fuzz-rotated"))), at(i3, 1, withAnchor(testHash(14))), []byte{})
	f.Add(at(i0, 0, withAnchor(testHash(5))), at(i0, 1, withSuspend("a", testHash(5))), at(i0, 2, withReinstate("b", testHash(5))))

	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		txs := [][]byte{a, b, c}
		chain := base.open(t)
		checks := make([]*abci.ResponseCheckTx, len(txs))
		for i, tx := range txs {
			checks[i] = chain.checkTx(tx)
		}
		res, hash := chain.finalize(txs...)
		require.Len(t, res, len(txs))
		var ok [][]byte
		ahead := false
		for i, r := range res {
			requireCheckAgrees(t, checks[i], r)
			switch r.Code {
			case uint32(types.CodeOK):
				ok = append(ok, txs[i])
			case uint32(types.CodeSequenceGap):
				ahead = true
			}
		}
		if len(ok) == 0 {
			require.Equal(t, base.emptyHash, hash, "a block of rejected txs changed the state")
		} else {
			twin := base.open(t)
			requireAllOK(t, twin, ok...)
			require.Equal(t, twin.app.Store().Hash(), hash, "the rejected txs changed the state")
		}

		proposer := base.open(t)
		kept := proposer.prepare(fuzzMaxTxBytes, txs...)
		// issuers take turns in a proposal: with one issuer's txs (or
		// undecodable ones) and none ahead, it keeps what the block in
		// mempool order accepts; always, each issuer's kept txs are in
		// mempool order
		issuerOf := func(tx []byte) string {
			if d, err := types.DecodeTx(tx); err == nil {
				return "i/" + d.Body.IssuerId
			}
			return ""
		}
		lanes := map[string]bool{}
		for _, tx := range txs {
			lanes[issuerOf(tx)] = true
		}
		if !ahead && len(lanes) == 1 {
			require.Equal(t, len(ok), len(kept), "PrepareProposal keeps other txs than the block accepts")
			for i := range ok {
				require.Equal(t, ok[i], kept[i], "PrepareProposal keeps other txs than the block accepts")
			}
		}
		if !ahead {
			pos := map[string]int{}
			for _, tx := range kept {
				i := slices.IndexFunc(txs, func(m []byte) bool { return bytes.Equal(m, tx) })
				require.GreaterOrEqual(t, i, 0, "PrepareProposal kept a tx that was not offered")
				require.GreaterOrEqual(t, i, pos[issuerOf(tx)], "PrepareProposal reordered an issuer's txs")
				pos[issuerOf(tx)] = i
			}
		}
		require.Equal(t, abci.ResponseProcessProposal_ACCEPT, proposer.process(kept...), "ProcessProposal rejects the proposal PrepareProposal built")
		requireAllOK(t, proposer, kept...)
	})
}

// requireCheckAgrees checks that CheckTx's answer on a tx is the block's:
// the same code, or the tx held ahead of its sequence (code 0, see
// CheckTx) that the block finds ahead.
func requireCheckAgrees(t *testing.T, check *abci.ResponseCheckTx, r *abci.ExecTxResult) {
	t.Helper()
	if check.Code == uint32(types.CodeOK) && r.Code == uint32(types.CodeSequenceGap) {
		return
	}
	require.Equalf(t, check.Code, r.Code, "CheckTx says %q, the block %q", check.Log, r.Log)
}

// requireAllOK finalizes and commits a block of txs on c, every one of
// which must succeed.
func requireAllOK(t *testing.T, c *testChain, txs ...[]byte) {
	t.Helper()
	res, _ := c.finalize(txs...)
	require.Len(t, res, len(txs))
	for i, r := range res {
		require.Zerof(t, r.Code, "tx %d: code %d: %s", i, r.Code, r.Log)
	}
}
