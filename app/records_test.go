package app

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// The tests of this file play a member of the consortium that tries to
// block, overwrite or forge another member's records of a credential hash.
// Every issuer has its own record of a hash (types.CredentialRecord): a
// tx changes only its signer's, and another issuer's record neither blocks
// it nor is touched by it. Each test fails on the one-record layout, where
// the first issuer to anchor or revoke a hash owned it.

// Statuses, short.
const (
	stRevoked    = types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
	stSuspended  = types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	stReinstated = types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED
)

// TestPreRevocation: issuer1 revokes a hash nobody anchored (a credential
// it says it issued off-ledger, or one it wants to discredit); issuer0 then
// anchors the hash, its own credential. The one-record layout refused the
// anchor (CodeHasStatus), so one member could keep another's credential
// off the ledger for good. Now the anchor is accepted, issuer0's record is
// valid and issuer1's revocation stays in issuer1's record.
func TestPreRevocation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameBlock bool // the revocation is earlier in the anchor's block
	}{
		{name: "revocation committed first"},
		{name: "revocation earlier in the same block", sameBlock: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, nil, 2)
			a, b := c.issuers[0], c.issuers[1]
			h := testHash(1)
			revoke := c.tx(b, revokeMsg("pre-empted", h))
			anchor := c.tx(a, anchorMsg(h))
			if tc.sameBlock {
				require.Zero(t, c.checkTx(revoke).Code)
				r := c.checkTx(anchor)
				require.Zero(t, r.Code, r.Log)
				c.commitOK(revoke, anchor)
			} else {
				c.commitOK(revoke)
				r := c.checkTx(anchor)
				require.Zero(t, r.Code, r.Log)
				c.commitOK(anchor)
			}

			res := c.verdict(h)
			require.Equal(t, []string{a.id, b.id}, res.Issuers())
			require.True(t, res.Undecided(), "two issuers' records: the hash alone names no subject")
			ea, eb := c.entry(h, a.id), c.entry(h, b.id)
			require.NotNil(t, ea.Anchor)
			require.Equal(t, a.id, ea.Anchor.IssuerId)
			require.Equal(t, c.height, ea.Anchor.Height)
			require.Nil(t, ea.Status)
			require.Nil(t, eb.Anchor)
			require.Equal(t, stRevoked, eb.Status.Status)
			require.Equal(t, b.id, eb.Status.IssuerId)
			require.Equal(t, "pre-empted", eb.Status.Reason)

			about := c.verdictOf(h, a.id)
			require.Equal(t, types.VerdictValid, about.Verdict)
			require.Equal(t, ea.Anchor, about.Anchor)
			require.Nil(t, about.Status)
			about = c.verdictOf(h, b.id)
			require.Equal(t, types.VerdictRevoked, about.Verdict)
			require.Nil(t, about.Anchor)
		})
	}
}

// TestFrontRunning: issuer0's anchor of h is pending in the mempool; issuer1
// sees it and gets its own anchor (or a revocation) of h committed first,
// through another node's block or first in the same block. The one-record
// layout then evicted issuer0's anchor on recheck (or failed it in the
// block): whoever saw a credential in the mempool could take it. Now
// issuer0's anchor stays in the mempool, commits, and its record is valid.
func TestFrontRunning(t *testing.T) {
	for _, tc := range []struct {
		name      string
		front     func(h []byte) any // issuer1's message
		sameBlock bool               // the front-runner's tx is first in issuer0's block
		frontWant types.Verdict      // issuer1's verdict after both
	}{
		{name: "anchor in an earlier block", front: func(h []byte) any { return anchorMsg(h) }, frontWant: types.VerdictValid},
		{name: "revocation in an earlier block", front: func(h []byte) any { return revokeMsg("mine", h) }, frontWant: types.VerdictRevoked},
		{name: "anchor first in the same block", front: func(h []byte) any { return anchorMsg(h) }, sameBlock: true, frontWant: types.VerdictValid},
		{name: "revocation first in the same block", front: func(h []byte) any { return revokeMsg("mine", h) }, sameBlock: true, frontWant: types.VerdictRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, nil, 2)
			c.finalize()
			a, b := c.issuers[0], c.issuers[1]
			h := testHash(1)
			pending := c.tx(a, anchorMsg(h))
			r := c.checkTx(pending)
			require.Zero(t, r.Code, r.Log)

			front := c.tx(b, tc.front(h))
			frontHeight := c.height + 1
			if tc.sameBlock {
				c.commitOK(front, pending)
			} else {
				c.commitOK(front)
				r = c.recheckTx(pending)
				require.Zero(t, r.Code, "recheck keeps the pending anchor: %s", r.Log)
				c.commitOK(pending)
			}

			about := c.verdictOf(h, a.id)
			require.Equal(t, types.VerdictValid, about.Verdict)
			require.Equal(t, c.height, about.Anchor.Height)
			require.Equal(t, c.blockTime(c.height).UnixNano(), about.Anchor.TimeUnixNano)
			require.Nil(t, about.Status)
			aboutB := c.verdictOf(h, b.id)
			require.Equal(t, tc.frontWant, aboutB.Verdict)
			if aboutB.Anchor != nil {
				require.Equal(t, frontHeight, aboutB.Anchor.Height)
			} else {
				require.Equal(t, frontHeight, aboutB.Status.Height)
			}
			require.Equal(t, []string{a.id, b.id}, c.verdict(h).Issuers())
		})
	}
}

// TestNoMemberChangesAnothersRecord starts from newRejectChain (issuer0
// anchored rjValid, rjSuspended and rjRevoked; issuer1 anchored rjOther and
// revoked rjOffLedger) and has another member write the same hashes. Every
// issuer's record but the signer's must come out exactly as without the
// tx; a rejected tx must change nothing at all (app hash included); an
// accepted one must give the signer's own record the verdict want. The
// accepted cases were rejections in the one-record layout (the code it
// gave is in the name); the rejected ones are refused because the signer
// has no anchor of its own, no longer because another issuer owns the hash.
func TestNoMemberChangesAnothersRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signer int
		build  rejectBuildFn
		target []byte
		code   types.Code
		want   types.Verdict // the signer's verdict about target, if accepted
	}{
		{
			name: "revoke of another issuer's valid credential (was not owner)", signer: 1,
			build: signedBy(1, revokeMsg("not mine", rjValid), nil), target: rjValid, want: types.VerdictRevoked,
		},
		{
			name: "revoke of another issuer's suspended credential (was not owner)", signer: 1,
			build: signedBy(1, revokeMsg("not mine", rjSuspended), nil), target: rjSuspended, want: types.VerdictRevoked,
		},
		{
			name: "revoke of another issuer's revoked credential (was not owner)", signer: 1,
			build: signedBy(1, revokeMsg("not mine", rjRevoked), nil), target: rjRevoked, want: types.VerdictRevoked,
		},
		{
			name: "revoke of another issuer's off-ledger revocation (was already revoked)", signer: 2,
			build: signedBy(2, revokeMsg("again", rjOffLedger), nil), target: rjOffLedger, want: types.VerdictRevoked,
		},
		{
			name: "revoke of a hash another issuer revoked earlier in the block (was already revoked)", signer: 1,
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[0], revokeMsg("first", rjFresh))}, c.tx(c.issuers[1], revokeMsg("second", rjFresh))
			},
			target: rjFresh, want: types.VerdictRevoked,
		},
		{
			name: "anchor of another issuer's valid credential (was already anchored)", signer: 1,
			build: signedBy(1, anchorMsg(rjValid), nil), target: rjValid, want: types.VerdictValid,
		},
		{
			name: "anchor of another issuer's revoked credential (was already anchored)", signer: 2,
			build: signedBy(2, anchorMsg(rjRevoked), nil), target: rjRevoked, want: types.VerdictValid,
		},
		{
			name: "anchor of a hash another issuer anchored earlier in the block (was already anchored)", signer: 1,
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[0], anchorMsg(rjFresh))}, c.tx(c.issuers[1], anchorMsg(rjFresh))
			},
			target: rjFresh, want: types.VerdictValid,
		},
		{
			name: "anchor of a hash another issuer revoked off-ledger (was has status)", signer: 0,
			build: signedBy(0, anchorMsg(rjOffLedger), nil), target: rjOffLedger, want: types.VerdictValid,
		},
		{
			name: "anchor of a hash another issuer revoked earlier in the block (was has status)", signer: 0,
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[1], revokeMsg("pre-empted", rjFresh))}, c.tx(c.issuers[0], anchorMsg(rjFresh))
			},
			target: rjFresh, want: types.VerdictValid,
		},
		{
			name: "suspension of another issuer's credential after anchoring it (was already anchored)", signer: 1,
			build: func(c *testChain) ([][]byte, []byte) {
				b := c.issuers[1]
				return [][]byte{c.tx(b, anchorMsg(rjValid))}, c.tx(b, suspendMsg("mine too", rjValid))
			},
			target: rjValid, want: types.VerdictSuspended,
		},
		{
			name: "suspension of another issuer's credential", signer: 1,
			build: signedBy(1, suspendMsg("not mine", rjValid), nil), code: types.CodeNotAnchored,
		},
		{
			name: "reinstatement of another issuer's suspended credential", signer: 1,
			build: signedBy(1, reinstateMsg("lift it", rjSuspended), nil), code: types.CodeNotAnchored,
		},
		{
			name: "reinstatement of another issuer's suspended credential after anchoring it", signer: 1,
			build: func(c *testChain) ([][]byte, []byte) {
				b := c.issuers[1]
				return [][]byte{c.tx(b, anchorMsg(rjSuspended))}, c.tx(b, reinstateMsg("lift it", rjSuspended))
			},
			code: types.CodeNotSuspended,
		},
		{
			name: "suspension of another issuer's revoked credential", signer: 2,
			build: signedBy(2, suspendMsg("not mine", rjRevoked), nil), code: types.CodeNotAnchored,
		},
		{
			name: "revoke batch of another issuer's credentials ending in one the signer revoked", signer: 1,
			build: signedBy(1, revokeMsg("x", rjValid, rjSuspended, rjOffLedger), nil), code: types.CodeAlreadyRevoked,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newRejectChain(t)
			prior, tx := tc.build(c)
			signer := c.issuers[tc.signer].id
			ref := newRejectChain(t) // the same chain without tx
			refPrior, _ := tc.build(ref)
			_, refHash := ref.finalize(refPrior...)

			for i, p := range prior {
				r := c.checkTx(p)
				require.Zerof(t, r.Code, "prior tx %d: %s", i, r.Log)
			}
			r := c.checkTx(tx)
			require.Equalf(t, tc.code, types.Code(r.Code), "CheckTx: %s", r.Log)

			res, appHash := c.finalize(slices.Concat(prior, [][]byte{tx})...)
			for i, p := range res[:len(prior)] {
				require.Zerof(t, p.Code, "prior tx %d: %s", i, p.Log)
			}
			last := res[len(prior)]
			require.Equalf(t, tc.code, types.Code(last.Code), "FinalizeBlock: %s", last.Log)

			for _, h := range rjPool {
				for _, is := range c.issuers {
					if is.id == signer && tc.code == types.CodeOK && string(h) == string(tc.target) {
						continue
					}
					require.Equalf(t, ref.entry(h, is.id), c.entry(h, is.id), "%s's record of %x", is.id, h)
				}
			}
			if tc.code != types.CodeOK {
				require.Equal(t, refHash, appHash, "a rejected tx changed the app hash")
				require.Equal(t, ref.records(0, rjPool...), c.records(0, rjPool...))
				return
			}
			require.NotEqual(t, refHash, appHash)
			about := c.verdictOf(tc.target, signer)
			require.Equal(t, tc.want, about.Verdict)
			require.Equal(t, signer, about.Issuer())
			if about.Status != nil {
				require.Equal(t, signer, about.Status.IssuerId)
			}
			if about.Anchor != nil {
				require.Equal(t, signer, about.Anchor.IssuerId)
			}
		})
	}
}

// TestOwnRulesHold checks that an issuer's own record still follows every
// rule when another issuer has a record of the same hash: h is anchored
// by issuer0 and issuer1, g only by issuer1. Each rejected tx of issuer0
// must leave the app hash and every record unchanged.
func TestOwnRulesHold(t *testing.T) {
	h, g := testHash(1), testHash(2)
	for _, tc := range []struct {
		name  string
		setup []any // issuer0's messages, one committed block each
		bad   any   // issuer0's rejected message
		code  types.Code
	}{
		{name: "anchor twice", bad: anchorMsg(h), code: types.CodeAlreadyAnchored},
		{name: "anchor after revoking", setup: []any{revokeMsg("fraud", h)}, bad: anchorMsg(h), code: types.CodeAlreadyAnchored},
		{name: "revoke twice", setup: []any{revokeMsg("fraud", h)}, bad: revokeMsg("again", h), code: types.CodeAlreadyRevoked},
		{name: "revoke twice off-ledger", setup: []any{revokeMsg("fraud", g)}, bad: revokeMsg("again", g), code: types.CodeAlreadyRevoked},
		{name: "suspend twice", setup: []any{suspendMsg("audit", h)}, bad: suspendMsg("again", h), code: types.CodeAlreadySuspended},
		{name: "suspend after revoking", setup: []any{revokeMsg("fraud", h)}, bad: suspendMsg("audit", h), code: types.CodeAlreadyRevoked},
		{name: "reinstate when not suspended", bad: reinstateMsg("ok", h), code: types.CodeNotSuspended},
		{name: "reinstate twice", setup: []any{suspendMsg("audit", h), reinstateMsg("ok", h)}, bad: reinstateMsg("ok", h), code: types.CodeNotSuspended},
		{name: "reinstate after revoking", setup: []any{suspendMsg("audit", h), revokeMsg("fraud", h)}, bad: reinstateMsg("ok", h), code: types.CodeAlreadyRevoked},
		{name: "anchor after own off-ledger revocation", setup: []any{revokeMsg("fraud", g)}, bad: anchorMsg(g), code: types.CodeHasStatus},
		{name: "suspend of a hash only another issuer anchored", bad: suspendMsg("audit", g), code: types.CodeNotAnchored},
		{name: "reinstate of a hash only another issuer anchored", bad: reinstateMsg("ok", g), code: types.CodeNotAnchored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, nil, 2)
			a, b := c.issuers[0], c.issuers[1]
			c.commitOK(c.tx(a, anchorMsg(h)), c.tx(b, anchorMsg(h, g)))
			for _, m := range tc.setup {
				c.commitOK(c.tx(a, m))
			}
			hash := c.app.Store().Hash()
			before := c.records(0, h, g)
			bad := c.tx(a, tc.bad)

			r := c.checkTx(bad)
			require.Equalf(t, tc.code, types.Code(r.Code), "CheckTx: %s", r.Log)
			res, appHash := c.finalize(bad)
			require.Equalf(t, tc.code, types.Code(res[0].Code), "FinalizeBlock: %s", res[0].Log)
			require.Equal(t, types.Codespace, res[0].Codespace)
			require.Equal(t, hash, appHash, "a rejected tx changed the app hash")
			require.Equal(t, before, c.records(0, h, g))
			require.Equal(t, types.VerdictValid, c.verdictOf(h, b.id).Verdict)
			require.Equal(t, types.VerdictValid, c.verdictOf(g, b.id).Verdict)
		})
	}
}

// TestStatusHistory: every status change an issuer makes is kept in its own
// record, the latest as Status and the earlier ones as History, oldest
// first; another issuer's record of the hash is untouched.
func TestStatusHistory(t *testing.T) {
	c := newTestChain(t, nil, 2)
	a, b := c.issuers[0], c.issuers[1]
	h := testHash(1)
	c.commitOK(c.tx(a, anchorMsg(h)), c.tx(b, anchorMsg(h)))
	anchorHeight := c.height
	bRecord := c.entry(h, b.id)

	type change struct {
		status types.CredentialStatus
		height int64
		reason string
	}
	var done []change
	for _, step := range []struct {
		msg     func(reason string) any
		status  types.CredentialStatus
		reason  string
		verdict types.Verdict
	}{
		{func(r string) any { return suspendMsg(r, h) }, stSuspended, "audit", types.VerdictSuspended},
		{func(r string) any { return reinstateMsg(r, h) }, stReinstated, "cleared", types.VerdictValid},
		{func(r string) any { return revokeMsg(r, h) }, stRevoked, "fraud", types.VerdictRevoked},
	} {
		c.commitOK(c.tx(a, step.msg(step.reason)))
		done = append(done, change{step.status, c.height, step.reason})

		about := c.verdictOf(h, a.id)
		require.Equal(t, step.verdict, about.Verdict)
		e := c.entry(h, a.id)
		require.Equal(t, anchorHeight, e.Anchor.Height)
		var got []change
		for _, s := range append(slices.Clone(e.History), e.Status) {
			require.Equal(t, a.id, s.IssuerId)
			require.Equal(t, c.blockTime(s.Height).UnixNano(), s.TimeUnixNano)
			got = append(got, change{s.Status, s.Height, s.Reason})
		}
		require.Equal(t, done, got, "history then latest status, oldest first")
		require.Equal(t, e.Status, about.Status)
		require.Equal(t, bRecord, c.entry(h, b.id), "issuer1's record changed")
		require.Equal(t, types.VerdictValid, c.verdictOf(h, b.id).Verdict)
	}
	e := c.entry(h, a.id)
	require.Equal(t, stRevoked, e.Status.Status)
	require.Len(t, e.History, 2)
	require.Equal(t, stSuspended, e.History[0].Status)
	require.Equal(t, stReinstated, e.History[1].Status)
}

// TestSharedRecordProof: the proof of a record that holds two issuers'
// entries verifies, and no change to the record (dropping an issuer's
// entry, moving or rewriting one, replaying an older record) does.
func TestSharedRecordProof(t *testing.T) {
	c := newTestChain(t, nil, 2)
	a, b := c.issuers[0], c.issuers[1]
	h := testHash(1)
	c.commitOK(c.tx(a, anchorMsg(h)))
	c.commitOK(c.tx(b, revokeMsg("disputed", h)), c.tx(a, suspendMsg("audit", h)))
	c.commitOK(c.tx(a, reinstateMsg("cleared", h)))
	appHash := c.app.Store().Hash()

	genuine := c.credential(h, 0)
	res, err := types.VerifyCredential(h, &genuine.Answer, genuine.Proof, appHash)
	require.NoError(t, err)
	require.Equal(t, []string{a.id, b.id}, res.Issuers())
	require.True(t, res.Undecided())
	require.True(t, res.Choose(a.id))
	require.Equal(t, types.VerdictValid, res.Verdict)
	require.Equal(t, int64(1), res.Anchor.Height)
	require.Len(t, res.Entries[0].History, 1)
	require.True(t, res.Choose(b.id))
	require.Equal(t, types.VerdictRevoked, res.Verdict)

	first := c.credential(h, 1) // only issuer0's anchor
	other := testHash(2)
	c.commitOK(c.tx(a, anchorMsg(other)))
	appHash = c.app.Store().Hash()
	latest := c.credential(h, 0)
	otherProof := c.credential(other, 0).Proof
	for _, tc := range []struct {
		name     string
		malleate func(r *types.CredentialRecord)
		answer   func() ([]byte, []byte) // record and proof, if not the latest genuine ones
	}{
		{name: "issuer1's entry removed", malleate: func(r *types.CredentialRecord) { r.Entries = r.Entries[:1] }},
		{name: "issuer0's entry removed", malleate: func(r *types.CredentialRecord) { r.Entries = r.Entries[1:] }},
		{name: "issuer0's anchor height changed", malleate: func(r *types.CredentialRecord) { r.Entries[0].Anchor.Height++ }},
		{name: "issuer0's anchor time changed", malleate: func(r *types.CredentialRecord) { r.Entries[0].Anchor.TimeUnixNano-- }},
		{name: "issuer0's history dropped", malleate: func(r *types.CredentialRecord) { r.Entries[0].History = nil }},
		{name: "issuer0's status changed to revoked", malleate: func(r *types.CredentialRecord) { r.Entries[0].Status.Status = stRevoked }},
		{name: "issuer1's revocation dropped", malleate: func(r *types.CredentialRecord) { r.Entries[1].Status = nil }},
		{name: "issuer1's revocation reason changed", malleate: func(r *types.CredentialRecord) { r.Entries[1].Status.Reason = "fraud" }},
		{name: "issuer1's revocation given to issuer0", malleate: func(r *types.CredentialRecord) {
			s := *r.Entries[1].Status
			s.IssuerId = a.id
			r.Entries[0].Status, r.Entries = &s, r.Entries[:1]
		}},
		{name: "issuer0's anchor given to issuer1", malleate: func(r *types.CredentialRecord) {
			an := *r.Entries[0].Anchor
			an.IssuerId = b.id
			r.Entries[1].Anchor, r.Entries = &an, r.Entries[1:]
		}},
		{name: "entries swapped", malleate: func(r *types.CredentialRecord) { r.Entries[0], r.Entries[1] = r.Entries[1], r.Entries[0] }},
		{name: "older record, latest proof", answer: func() ([]byte, []byte) { return first.Answer.Record, latest.Proof }},
		{name: "older record with its proof", answer: func() ([]byte, []byte) { return first.Answer.Record, first.Proof }},
		{name: "no record, latest proof", answer: func() ([]byte, []byte) { return nil, latest.Proof }},
		{name: "latest record, another hash's proof", answer: func() ([]byte, []byte) { return latest.Answer.Record, otherProof }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			record, proof := latest.Answer.Record, latest.Proof
			if tc.answer != nil {
				record, proof = tc.answer()
			} else {
				record = mutateRecord(t, record, tc.malleate)
				require.NotEqual(t, latest.Answer.Record, record)
			}
			ans := &types.CredentialAnswer{Hash: h, Record: record}
			res, err := types.VerifyCredential(h, ans, proof, appHash)
			require.ErrorIs(t, err, types.ErrProofInvalid)
			require.Nil(t, res)
		})
	}
	// the genuine latest answer still verifies
	_, err = types.VerifyCredential(h, &latest.Answer, latest.Proof, appHash)
	require.NoError(t, err)
}

// An issuer's earlier status changes are kept up to MaxStatusHistory, the
// oldest dropped first, so no member can grow the record of a hash that
// every verifier downloads.
func TestStatusHistoryIsBounded(t *testing.T) {
	c := newTestChain(t, nil, 1)
	a := c.issuers[0]
	h := testHash(1)
	c.commitOK(c.tx(a, anchorMsg(h)))
	var heights []int64
	for i := range types.MaxStatusHistory + 3 {
		if i%2 == 0 {
			c.commitOK(c.tx(a, suspendMsg(fmt.Sprint("s", i), h)))
		} else {
			c.commitOK(c.tx(a, reinstateMsg(fmt.Sprint("r", i), h)))
		}
		heights = append(heights, c.height)
	}
	e := c.entry(h, a.id)
	require.Len(t, e.History, types.MaxStatusHistory)
	require.Equal(t, heights[len(heights)-1], e.Status.Height, "the latest change is the status")
	for i, st := range e.History {
		require.Equal(t, heights[len(heights)-1-types.MaxStatusHistory+i], st.Height, "history %d: the oldest are dropped", i)
	}
}
