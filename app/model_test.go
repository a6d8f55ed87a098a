package app

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// modelCred is the model's view of one credential hash.
type modelCred struct {
	anchorIssuer string // "" if not anchored
	anchorHeight int64
	status       types.CredentialStatus // UNSPECIFIED if there is no status entry
	statusIssuer string
	statusHeight int64
}

// ledgerModel is a plain-Go model of the ledger's rules, written from the
// rules rather than from the app's code:
//
//   - anchor: rejected if the hash is anchored or has any status entry;
//   - revoke: an unanchored hash may be revoked by any issuer, an anchored one
//     only by its anchoring issuer; revocation is final;
//   - suspend and reinstate: the hash must be anchored, by the signer; a
//     suspended hash cannot be suspended again, and only a suspended hash can
//     be reinstated;
//   - a tx applies to all its hashes or to none, and consumes the signer's
//     sequence only when it succeeds.
//
// When several rules reject a hash, the code is the first in this order:
// not anchored, not owner, already revoked, already suspended / not
// suspended.
type ledgerModel struct {
	creds map[string]*modelCred
	next  map[string]uint64
}

func newLedgerModel() *ledgerModel {
	return &ledgerModel{creds: make(map[string]*modelCred), next: make(map[string]uint64)}
}

func (m *ledgerModel) cred(h []byte) modelCred {
	if c, ok := m.creds[string(h)]; ok {
		return *c
	}
	return modelCred{}
}

// modelAction is the message of a modelTx.
type modelAction int

const (
	modelAnchor modelAction = iota
	modelRevoke
	modelSuspend
	modelReinstate
)

// msg returns the tx body message of the action.
func (a modelAction) msg(reason string, hashes [][]byte) any {
	switch a {
	case modelRevoke:
		return revokeMsg(reason, hashes...)
	case modelSuspend:
		return suspendMsg(reason, hashes...)
	case modelReinstate:
		return reinstateMsg(reason, hashes...)
	}
	return anchorMsg(hashes...)
}

// modelTx is a tx as the generator sees it: well-formed, but possibly with a
// repeated hash, a wrong sequence or a wrong signature.
type modelTx struct {
	signer string
	seq    uint64
	sigOK  bool // signed with the signer's own key
	action modelAction
	hashes [][]byte
	reason string
	height int64
}

// apply returns the code the ledger must return for tx, and applies tx if
// the code is CodeOK.
func (m *ledgerModel) apply(tx *modelTx) types.Code {
	seen := make(map[string]bool)
	for _, h := range tx.hashes {
		if seen[string(h)] {
			return types.CodeDuplicateHash
		}
		seen[string(h)] = true
	}
	switch {
	case !tx.sigOK:
		return types.CodeBadSignature
	case tx.seq < m.next[tx.signer]:
		return types.CodeSequenceReplayed
	case tx.seq > m.next[tx.signer]:
		return types.CodeSequenceGap
	}
	for _, h := range tx.hashes {
		if code := m.check(tx.signer, tx.action, m.cred(h)); code != types.CodeOK {
			return code
		}
	}
	for _, h := range tx.hashes {
		c := m.cred(h)
		switch tx.action {
		case modelAnchor:
			c.anchorIssuer, c.anchorHeight = tx.signer, tx.height
		case modelRevoke:
			c.status = types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
		case modelSuspend:
			c.status = types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
		case modelReinstate:
			c.status = types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED
		}
		if tx.action != modelAnchor {
			c.statusIssuer, c.statusHeight = tx.signer, tx.height
		}
		m.creds[string(h)] = &c
	}
	m.next[tx.signer]++
	return types.CodeOK
}

// check applies the rules of one action to one hash.
func (m *ledgerModel) check(signer string, action modelAction, c modelCred) types.Code {
	anchored := c.anchorIssuer != ""
	revoked := c.status == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
	suspended := c.status == types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	if action == modelAnchor {
		switch {
		case anchored:
			return types.CodeAlreadyAnchored
		case c.status != types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED:
			return types.CodeHasStatus
		}
		return types.CodeOK
	}
	switch {
	case !anchored && action != modelRevoke:
		return types.CodeNotAnchored
	case anchored && c.anchorIssuer != signer:
		return types.CodeNotOwner
	case revoked:
		return types.CodeAlreadyRevoked
	case action == modelSuspend && suspended:
		return types.CodeAlreadySuspended
	case action == modelReinstate && !suspended:
		return types.CodeNotSuspended
	}
	return types.CodeOK
}

// verdict returns what a verifier must conclude about h, and the issuer the
// verdict is about.
func (m *ledgerModel) verdict(h []byte) (types.Verdict, string) {
	c := m.cred(h)
	switch {
	case c.status == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED && c.anchorIssuer == "":
		return types.VerdictRevoked, c.statusIssuer
	case c.status == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED:
		return types.VerdictRevoked, c.anchorIssuer
	case c.status == types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED:
		return types.VerdictSuspended, c.anchorIssuer
	case c.anchorIssuer != "":
		return types.VerdictValid, c.anchorIssuer
	}
	return types.VerdictNotAnchored, ""
}

// txGen generates random blocks of txs from a small pool of hashes, so that
// collisions, non-owner attempts and forbidden transitions are frequent, and
// predicts every tx's code with a ledgerModel.
type txGen struct {
	t       testing.TB
	rng     *rand.Rand
	issuers []*testIssuer
	pool    [][]byte // hashes txs draw from
	retired [][]byte // revoked hashes replaced in the pool by fresh ones
	fresh   int      // testHash number of the next fresh hash
	model   *ledgerModel
	codes   map[types.Code]int // how often each code was predicted
}

// newTxGen returns a generator seeded with seed that signs with issuers' keys
// and draws hashes from a pool of poolSize.
func newTxGen(t testing.TB, seed int64, issuers []*testIssuer, poolSize int) *txGen {
	return &txGen{
		t: t, rng: rand.New(rand.NewSource(seed)), issuers: issuers,
		pool: testHashes(7000, poolSize), fresh: 7000 + poolSize, model: newLedgerModel(), codes: make(map[types.Code]int),
	}
}

// block returns the txs of a block at height and the code each must get.
// Before drawing them it retires some revoked hashes of the pool (revocation
// is final) and puts fresh hashes in their place.
func (g *txGen) block(height int64) ([][]byte, []types.Code) {
	for i, h := range g.pool {
		if g.model.cred(h).status == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED && g.rng.Intn(6) == 0 {
			g.retired = append(g.retired, h)
			g.pool[i] = testHash(g.fresh)
			g.fresh++
		}
	}
	n := g.rng.Intn(7)
	txs := make([][]byte, 0, n)
	want := make([]types.Code, 0, n)
	for range n {
		mt := g.next(height)
		code := g.model.apply(mt)
		g.codes[code]++
		txs = append(txs, g.encode(mt))
		want = append(want, code)
	}
	return txs, want
}

// next draws a random tx. Hashes come from the pool, the first one usually
// chosen among those the action can succeed on, and status changes are
// usually signed by the anchoring issuer, so that credentials get deep into
// their lifecycle while collisions and forbidden transitions stay frequent.
func (g *txGen) next(height int64) *modelTx {
	r := g.rng
	actions := []modelAction{modelAnchor, modelAnchor, modelAnchor, modelRevoke, modelSuspend, modelSuspend, modelReinstate, modelReinstate}
	mt := &modelTx{action: actions[r.Intn(len(actions))], sigOK: true, height: height, reason: fmt.Sprintf("reason %d", r.Intn(100))}
	k := 1
	switch p := r.Intn(10); {
	case p == 0:
		k = 3
	case p < 3:
		k = 2
	}
	perm := r.Perm(len(g.pool))
	prefer := g.preferences(mt.action)
	if fit := g.matching(prefer[r.Intn(len(prefer))]); len(fit) > 0 {
		first := fit[r.Intn(len(fit))]
		perm = append([]int{first}, slices.DeleteFunc(perm, func(i int) bool { return i == first })...)
	}
	for _, i := range perm[:k] {
		mt.hashes = append(mt.hashes, g.pool[i])
	}
	signer := g.issuers[r.Intn(len(g.issuers))]
	if owner := g.model.cred(mt.hashes[0]).anchorIssuer; owner != "" && mt.action != modelAnchor && r.Intn(4) > 0 {
		for _, is := range g.issuers {
			if is.id == owner {
				signer = is
			}
		}
	}
	mt.signer = signer.id
	mt.seq = g.model.next[signer.id]
	switch p := r.Intn(100); {
	case p < 3 && mt.seq > 0:
		mt.seq--
	case p < 6:
		mt.seq++
	case p < 9:
		mt.sigOK = false
	case p < 12:
		mt.hashes = append(mt.hashes, mt.hashes[0])
	}
	return mt
}

// credPredicate selects credentials by their state.
type credPredicate func(c modelCred) bool

// preferences returns, for action, the states the generator draws the first
// hash from, each equally likely; a nil predicate means any hash. Most are
// states the action can succeed on; some are states it is forbidden on
// that a uniform draw would rarely hit.
func (g *txGen) preferences(action modelAction) []credPredicate {
	const (
		none    = types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED
		revoked = types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
		susp    = types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	)
	switch action {
	case modelAnchor:
		clean := func(c modelCred) bool { return c.anchorIssuer == "" && c.status == none }
		offLedger := func(c modelCred) bool { return c.anchorIssuer == "" && c.status != none }
		return []credPredicate{clean, clean, offLedger, nil}
	case modelRevoke:
		unanchored := func(c modelCred) bool { return c.anchorIssuer == "" && c.status != revoked }
		anchored := func(c modelCred) bool { return c.anchorIssuer != "" && c.status != revoked }
		return []credPredicate{unanchored, anchored, nil}
	case modelSuspend:
		active := func(c modelCred) bool { return c.anchorIssuer != "" && c.status != revoked && c.status != susp }
		return []credPredicate{active, active, nil}
	}
	suspended := func(c modelCred) bool { return c.status == susp }
	return []credPredicate{suspended, suspended, nil}
}

// matching returns the pool indexes of the hashes that match p (nil: none,
// so the draw stays uniform).
func (g *txGen) matching(p credPredicate) []int {
	if p == nil {
		return nil
	}
	var out []int
	for i, h := range g.pool {
		if p(g.model.cred(h)) {
			out = append(out, i)
		}
	}
	return out
}

// encode signs mt (with another issuer's key unless mt.sigOK).
func (g *txGen) encode(mt *modelTx) []byte {
	g.t.Helper()
	c := &testChain{t: g.t} // body needs no app
	body := c.body(&testIssuer{id: mt.signer, seq: mt.seq}, mt.action.msg(mt.reason, mt.hashes))
	key := g.issuers[0].key
	for i, is := range g.issuers {
		if is.id == mt.signer {
			key = is.key
			if !mt.sigOK {
				key = g.issuers[(i+1)%len(g.issuers)].key
			}
		}
	}
	tx, err := types.SignTx(body, key)
	require.NoError(g.t, err)
	return tx
}

// TestModel runs random txs on the app and on ledgerModel and compares them
// after every block: each tx's code, through CheckTx and FinalizeBlock, and
// for every hash of the pool the proven verdict, its issuer and heights.
func TestModel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seed    int64
		issuers int
		pool    int
		blocks  int
	}{
		{name: "2 issuers, tiny pool", seed: 1, issuers: 2, pool: 4, blocks: 60},
		{name: "3 issuers", seed: 2, issuers: 3, pool: 8, blocks: 100},
		{name: "4 issuers", seed: 3, issuers: 4, pool: 10, blocks: 100},
		{name: "5 issuers, larger pool", seed: 4, issuers: 5, pool: 16, blocks: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, nil, tc.issuers)
			g := newTxGen(t, tc.seed, c.issuers, tc.pool)
			for range tc.blocks {
				height := c.height + 1
				txs, want := g.block(height)
				for i, tx := range txs {
					resp := c.checkTx(tx)
					require.Equalf(t, want[i], types.Code(resp.Code), "CheckTx of tx %d at height %d: %s", i, height, resp.Log)
				}
				res, _ := c.finalize(txs...)
				require.Len(t, res, len(txs))
				for i, r := range res {
					require.Equalf(t, want[i], types.Code(r.Code), "tx %d at height %d: %s", i, height, r.Log)
					if r.Code != 0 {
						require.Equal(t, types.Codespace, r.Codespace)
					}
				}
				requireMatchesModel(t, c, g, g.pool)
			}
			t.Logf("codes: %v", g.codes)
			requireMatchesModel(t, c, g, g.retired)
			for _, code := range []types.Code{
				types.CodeOK, types.CodeBadSignature, types.CodeSequenceReplayed, types.CodeSequenceGap,
				types.CodeDuplicateHash, types.CodeAlreadyAnchored, types.CodeHasStatus, types.CodeNotOwner,
				types.CodeAlreadyRevoked, types.CodeAlreadySuspended, types.CodeNotSuspended, types.CodeNotAnchored,
			} {
				require.Positivef(t, g.codes[code], "the run never produced code %q: change the generator", code)
			}
		})
	}
}

// requireMatchesModel checks the proven verdicts of hashes and every
// issuer's sequence against the model.
func requireMatchesModel(t *testing.T, c *testChain, g *txGen, hashes [][]byte) {
	t.Helper()
	for _, h := range hashes {
		got := c.verdict(h)
		want, issuer := g.model.verdict(h)
		mc := g.model.cred(h)
		require.Equalf(t, want, got.Verdict, "verdict of %x at height %d", h, c.height)
		require.Equalf(t, issuer, got.Issuer(), "issuer of %x at height %d", h, c.height)
		if mc.anchorIssuer != "" {
			require.NotNil(t, got.Anchor)
			require.Equal(t, mc.anchorHeight, got.Anchor.Height)
			require.Equal(t, c.blockTime(mc.anchorHeight).UnixNano(), got.Anchor.TimeUnixNano)
		} else {
			require.Nil(t, got.Anchor)
		}
		if mc.status != types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED {
			require.NotNil(t, got.Status)
			require.Equal(t, mc.status, got.Status.Status)
			require.Equal(t, mc.statusIssuer, got.Status.IssuerId)
			require.Equal(t, mc.statusHeight, got.Status.Height)
		} else {
			require.Nil(t, got.Status)
		}
	}
	for _, is := range c.issuers {
		require.Equalf(t, g.model.next[is.id], c.committedSeq(is.id), "sequence of %s at height %d", is.id, c.height)
	}
}
