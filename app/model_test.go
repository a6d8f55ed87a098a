package app

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// modelStatus is one status change an issuer made to its own record.
type modelStatus struct {
	status types.CredentialStatus
	height int64
	reason string
}

// modelEntry is the model's view of one issuer's own record of a hash.
type modelEntry struct {
	anchored     bool
	anchorHeight int64
	changes      []modelStatus // every status change, oldest first
}

// latest returns the entry's latest status (UNSPECIFIED if none).
func (e *modelEntry) latest() types.CredentialStatus {
	if e == nil || len(e.changes) == 0 {
		return types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED
	}
	return e.changes[len(e.changes)-1].status
}

// modelCred is the model's view of one credential hash: every issuer's own
// record of it, by issuer id (an issuer with no record has no key).
type modelCred map[string]*modelEntry

// others reports whether an issuer other than signer has a record, and
// whether one of those is anchored.
func (c modelCred) others(signer string) (record, anchored bool) {
	for id, e := range c {
		if id != signer {
			record = true
			anchored = anchored || e.anchored
		}
	}
	return record, anchored
}

// ids returns the issuers with a record, sorted.
func (c modelCred) ids() []string {
	ids := make([]string, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ledgerModel is a plain-Go model of the ledger's rules, written from the
// rules rather than from the app's code. Every issuer has its own record
// of a hash, and a tx changes only its signer's: another issuer's record
// never blocks it and is never touched.
//
//   - anchor: rejected if the signer anchored the hash already, or revoked
//     it (off-ledger) before anchoring it;
//   - revoke: any hash, anchored by the signer or not; revocation is final;
//   - suspend and reinstate: the hash must be anchored by the signer; a
//     suspended hash cannot be suspended again, and only a suspended hash can
//     be reinstated;
//   - a status change keeps the earlier ones (the record's history);
//   - a tx applies to all its hashes or to none, and consumes the signer's
//     sequence only when it succeeds.
//
// When several rules reject a hash, the code is the first in this order:
// not anchored, already revoked, already suspended / not suspended.
//
// (The one-record layout's model had one record per hash: any anchor or
// status blocked an anchor, and only the anchoring issuer could change an
// anchored hash, CodeNotOwner.)
type ledgerModel struct {
	creds map[string]modelCred
	next  map[string]uint64
	// cross counts what the per-issuer rules make different: anchors and
	// revokes accepted on hashes another issuer has a record of, and
	// suspends and reinstates of another issuer's anchored hash refused
	cross map[string]int
}

func newLedgerModel() *ledgerModel {
	return &ledgerModel{creds: make(map[string]modelCred), next: make(map[string]uint64), cross: make(map[string]int)}
}

// cred returns the records of h (nil map if there are none; read only).
func (m *ledgerModel) cred(h []byte) modelCred { return m.creds[string(h)] }

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
		if record, _ := m.cred(h).others(tx.signer); record && (tx.action == modelAnchor || tx.action == modelRevoke) {
			m.cross["accepted"]++
		}
		c := m.creds[string(h)]
		if c == nil {
			c = make(modelCred)
			m.creds[string(h)] = c
		}
		e := c[tx.signer]
		if e == nil {
			e = &modelEntry{}
			c[tx.signer] = e
		}
		switch tx.action {
		case modelAnchor:
			e.anchored, e.anchorHeight = true, tx.height
		case modelRevoke:
			e.changes = append(e.changes, modelStatus{types.CredentialStatus_CREDENTIAL_STATUS_REVOKED, tx.height, tx.reason})
		case modelSuspend:
			e.changes = append(e.changes, modelStatus{types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED, tx.height, tx.reason})
		case modelReinstate:
			e.changes = append(e.changes, modelStatus{types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED, tx.height, tx.reason})
		}
	}
	m.next[tx.signer]++
	return types.CodeOK
}

// check applies the rules of one action by signer to one hash: only the
// signer's own record counts.
func (m *ledgerModel) check(signer string, action modelAction, c modelCred) types.Code {
	own := c[signer]
	anchored := own != nil && own.anchored
	cur := own.latest()
	revoked := cur == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
	suspended := cur == types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	if action == modelAnchor {
		switch {
		case anchored:
			return types.CodeAlreadyAnchored
		case cur != types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED:
			return types.CodeHasStatus
		}
		return types.CodeOK
	}
	switch {
	case !anchored && action != modelRevoke:
		if _, othersAnchored := c.others(signer); othersAnchored {
			m.cross["refused"]++
		}
		return types.CodeNotAnchored
	case revoked:
		return types.CodeAlreadyRevoked
	case action == modelSuspend && suspended:
		return types.CodeAlreadySuspended
	case action == modelReinstate && !suspended:
		return types.CodeNotSuspended
	}
	return types.CodeOK
}

// verdict returns what a verifier must conclude about issuer's own record
// of h (which must exist).
func (m *ledgerModel) verdict(h []byte, issuer string) types.Verdict {
	e := m.cred(h)[issuer]
	switch e.latest() {
	case types.CredentialStatus_CREDENTIAL_STATUS_REVOKED:
		return types.VerdictRevoked
	case types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED:
		return types.VerdictSuspended
	}
	if e.anchored {
		return types.VerdictValid
	}
	return types.VerdictNotAnchored
}

// entries returns the records of h the ledger must prove, in the stored
// form: sorted by issuer id, with block times from c.
func (m *ledgerModel) entries(c *testChain, h []byte) []*types.CredentialEntry {
	mc := m.cred(h)
	var out []*types.CredentialEntry
	for _, id := range mc.ids() {
		me := mc[id]
		e := &types.CredentialEntry{IssuerId: id}
		if me.anchored {
			e.Anchor = &types.AnchorRecord{IssuerId: id, Height: me.anchorHeight, TimeUnixNano: c.blockTime(me.anchorHeight).UnixNano()}
		}
		for i, ch := range me.changes {
			s := &types.StatusEntry{Status: ch.status, IssuerId: id, Height: ch.height, TimeUnixNano: c.blockTime(ch.height).UnixNano(), Reason: ch.reason}
			if i == len(me.changes)-1 {
				e.Status = s
			} else {
				e.History = append(e.History, s)
			}
		}
		out = append(out, e)
	}
	return out
}

// txGen generates random blocks of txs from a small pool of hashes, so that
// several issuers' records of one hash, attempts on another issuer's
// credential and forbidden transitions are frequent, and predicts every
// tx's code with a ledgerModel.
type txGen struct {
	t       testing.TB
	rng     *rand.Rand
	issuers []*testIssuer
	pool    [][]byte // hashes txs draw from
	retired [][]byte // hashes with a revoked record, replaced in the pool by fresh ones
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
// Before drawing them it retires some hashes of the pool that an issuer
// revoked (revocation is final) and puts fresh hashes in their place.
func (g *txGen) block(height int64) ([][]byte, []types.Code) {
	for i, h := range g.pool {
		if g.anyRevoked(h) && g.rng.Intn(6) == 0 {
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

// anyRevoked reports whether some issuer revoked h.
func (g *txGen) anyRevoked(h []byte) bool {
	for _, e := range g.model.cred(h) {
		if e.latest() == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED {
			return true
		}
	}
	return false
}

// next draws a random tx. The signer is drawn first; hashes come from the
// pool, the first one usually chosen, by the state of the signer's own
// record and of the others', among those the action can succeed on or
// that another issuer has a record of, so that credentials get deep into
// their lifecycle while collisions, attempts on another issuer's
// credential and forbidden transitions stay frequent.
func (g *txGen) next(height int64) *modelTx {
	r := g.rng
	actions := []modelAction{modelAnchor, modelAnchor, modelAnchor, modelRevoke, modelSuspend, modelSuspend, modelReinstate, modelReinstate}
	mt := &modelTx{action: actions[r.Intn(len(actions))], sigOK: true, height: height, reason: fmt.Sprintf("reason %d", r.Intn(100))}
	signer := g.issuers[r.Intn(len(g.issuers))]
	mt.signer = signer.id
	k := 1
	switch p := r.Intn(10); {
	case p == 0:
		k = 3
	case p < 3:
		k = 2
	}
	perm := r.Perm(len(g.pool))
	prefer := g.preferences(mt.action)
	if fit := g.matching(prefer[r.Intn(len(prefer))], signer.id); len(fit) > 0 {
		first := fit[r.Intn(len(fit))]
		perm = append([]int{first}, slices.DeleteFunc(perm, func(i int) bool { return i == first })...)
	}
	for _, i := range perm[:k] {
		mt.hashes = append(mt.hashes, g.pool[i])
	}
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

// credPredicate selects credentials by the state of the signer's own
// record (own, nil if none) and of the other issuers' (others: some other
// issuer has a record; othersAnchored: one of those is anchored).
type credPredicate func(own *modelEntry, others, othersAnchored bool) bool

// preferences returns, for action, the states the generator draws the first
// hash from, each equally likely; a nil predicate means any hash. Most are
// states the action can succeed on; some are states it is forbidden on
// that a uniform draw would rarely hit, and some put the signer's tx on a
// hash another issuer has a record of.
func (g *txGen) preferences(action modelAction) []credPredicate {
	const (
		none    = types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED
		revoked = types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
		susp    = types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	)
	anchored := func(e *modelEntry) bool { return e != nil && e.anchored }
	switch action {
	case modelAnchor:
		clean := func(own *modelEntry, others, _ bool) bool { return own == nil && !others }
		othersOnly := func(own *modelEntry, others, _ bool) bool { return own == nil && others }
		offLedger := func(own *modelEntry, _, _ bool) bool { return own != nil && !own.anchored }
		return []credPredicate{clean, clean, othersOnly, offLedger, nil}
	case modelRevoke:
		unanchored := func(own *modelEntry, _, _ bool) bool { return !anchored(own) && own.latest() != revoked }
		ownAnchored := func(own *modelEntry, _, _ bool) bool { return anchored(own) && own.latest() != revoked }
		othersAnchored := func(own *modelEntry, _, oa bool) bool { return own == nil && oa }
		return []credPredicate{unanchored, ownAnchored, othersAnchored, nil}
	case modelSuspend:
		active := func(own *modelEntry, _, _ bool) bool {
			return anchored(own) && own.latest() != revoked && own.latest() != susp
		}
		othersAnchored := func(own *modelEntry, _, oa bool) bool { return !anchored(own) && oa }
		return []credPredicate{active, active, othersAnchored, nil}
	}
	suspended := func(own *modelEntry, _, _ bool) bool { return own.latest() == susp }
	notSuspended := func(own *modelEntry, _, _ bool) bool { return anchored(own) && own.latest() == none }
	othersAnchored := func(own *modelEntry, _, oa bool) bool { return !anchored(own) && oa }
	return []credPredicate{suspended, suspended, notSuspended, othersAnchored, nil}
}

// matching returns the pool indexes of the hashes that match p for signer
// (nil: none, so the draw stays uniform).
func (g *txGen) matching(p credPredicate, signer string) []int {
	if p == nil {
		return nil
	}
	var out []int
	for i, h := range g.pool {
		c := g.model.cred(h)
		others, othersAnchored := c.others(signer)
		if p(c[signer], others, othersAnchored) {
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
// for every hash of the pool every issuer's proven record (anchor, status,
// history, heights, times, reasons) and the verdict about each.
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
					wantCheck := want[i]
					if wantCheck == types.CodeSequenceGap {
						// CheckTx holds a tx ahead of its sequence (the
						// generator's gaps are within MaxSequenceLead)
						wantCheck = types.CodeOK
						require.Containsf(t, resp.Log, "held:", "CheckTx of tx %d at height %d", i, height)
					}
					require.Equalf(t, wantCheck, types.Code(resp.Code), "CheckTx of tx %d at height %d: %s", i, height, resp.Log)
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
			t.Logf("codes: %v, cross-issuer: %v", g.codes, g.model.cross)
			requireMatchesModel(t, c, g, g.retired)
			// CodeNotOwner is no longer returned: a status change applies to
			// the signer's own record
			for _, code := range []types.Code{
				types.CodeOK, types.CodeBadSignature, types.CodeSequenceReplayed, types.CodeSequenceGap,
				types.CodeDuplicateHash, types.CodeAlreadyAnchored, types.CodeHasStatus,
				types.CodeAlreadyRevoked, types.CodeAlreadySuspended, types.CodeNotSuspended, types.CodeNotAnchored,
			} {
				require.Positivef(t, g.codes[code], "the run never produced code %q: change the generator", code)
			}
			require.NotContains(t, g.codes, types.CodeNotOwner)
			for _, what := range []string{"accepted", "refused"} {
				require.Positivef(t, g.model.cross[what], "the run never had a cross-issuer tx %s: change the generator", what)
			}
			// and the records it checked were the new layout's hard cases
			var shared, history int
			for _, h := range slices.Concat(g.pool, g.retired) {
				mc := g.model.cred(h)
				if len(mc) > 1 {
					shared++
				}
				for _, e := range mc {
					if len(e.changes) > 1 {
						history++
					}
				}
			}
			require.Positive(t, shared, "no hash with several issuers' records: change the generator")
			require.Positive(t, history, "no record with a status history: change the generator")
		})
	}
}

// requireMatchesModel checks, for each of hashes, every issuer's proven
// record and the verdict about each, and every issuer's sequence, against
// the model.
func requireMatchesModel(t *testing.T, c *testChain, g *txGen, hashes [][]byte) {
	t.Helper()
	for _, h := range hashes {
		got := c.verdict(h)
		mc := g.model.cred(h)
		ids := mc.ids()
		require.Equalf(t, ids, got.Issuers(), "issuers with a record of %x at height %d", h, c.height)
		require.Equalf(t, g.model.entries(c, h), got.Entries, "records of %x at height %d", h, c.height)
		// the subject: the single issuer with a record, or none
		switch len(ids) {
		case 0:
			require.Equal(t, types.VerdictNotAnchored, got.Verdict)
			require.Empty(t, got.Issuer())
		case 1:
			require.Equal(t, ids[0], got.Issuer())
			require.Equal(t, g.model.verdict(h, ids[0]), got.Verdict)
		default:
			require.Truef(t, got.Undecided(), "verdict of %x with %d issuers' records at height %d", h, len(ids), c.height)
			require.Empty(t, got.Issuer())
			require.Nil(t, got.Anchor)
			require.Nil(t, got.Status)
		}
		for _, is := range c.issuers {
			me, ok := mc[is.id]
			require.Equal(t, ok, got.Choose(is.id))
			if !ok {
				continue
			}
			require.Equalf(t, g.model.verdict(h, is.id), got.Verdict, "verdict about %s's record of %x at height %d", is.id, h, c.height)
			require.Equal(t, is.id, got.Issuer())
			require.Equal(t, me.anchored, got.Anchor != nil)
			require.Equal(t, len(me.changes) > 0, got.Status != nil)
		}
	}
	for _, is := range c.issuers {
		require.Equalf(t, g.model.next[is.id], c.committedSeq(is.id), "sequence of %s at height %d", is.id, c.height)
	}
}
