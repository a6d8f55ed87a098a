package app

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// report is the verdict about issuer's record of hash with the issuers'
// records applied (their voids), as a verifier computes it.
func (c *testChain) report(hash []byte, issuer string) *types.Report {
	c.t.Helper()
	res := c.verdict(hash)
	var records []*types.Issuer
	for _, id := range res.Issuers() {
		records = append(records, c.issuer(id))
	}
	rep := &types.Report{CredentialResult: res, HeaderHeight: c.height + 1}
	rep.SetIssuerRecords(records)
	require.NoError(c.t, rep.ApplyClaims(types.Claims{Issuer: issuer}))
	return rep
}

func proposeVoidOf(id string, from int64) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeVoid{ProposeVoid: &types.MsgProposeVoid{IssuerId: id, FromHeight: from}}
	}
}

func proposeStatusOf(id string, hash []byte, status, reason string) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeStatus{ProposeStatus: &types.MsgProposeStatus{IssuerId: id, Hash: hash, Status: status, Reason: reason}}
	}
}

// A thief with issuer3's key forges an anchor, revokes a real credential,
// lifts a real suspension and rotates the key. The other members void
// issuer3's records from the theft on and give the owner a new key, both
// without the target's vote: the forgery is voided, the real credentials'
// verdicts are what the owner made them, and the owner signs again.
func TestStolenKeyVoidAndReplace(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1, i2, owner := c.issuers[0], c.issuers[1], c.issuers[2], c.issuers[3]
	real, suspended, forged := testHash(1), testHash(2), testHash(3)
	c.commitOK(c.tx(owner, anchorMsg(real)), c.tx(owner, anchorMsg(suspended)))
	c.commitOK(c.tx(owner, suspendMsg("audit", suspended)))
	c.finalize()
	theft := c.height + 1

	thief := &testIssuer{id: owner.id, key: owner.key, seq: owner.seq}
	c.commitOK(c.tx(thief, anchorMsg(forged)), c.tx(thief, revokeMsg("gone", real)), c.tx(thief, reinstateMsg("fine", suspended)))
	thiefKey := deterministicKey("thief-key")
	c.finalizeFull(c.govTx(thief, func(b *types.TxBody) {
		b.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: thiefKey.Public().(ed25519.PublicKey)}}
	}))
	thief.key = thiefKey
	require.Equal(t, types.VerdictValid, c.report(forged, owner.id).Verdict, "before the void the forgery passes")
	require.Equal(t, types.VerdictRevoked, c.report(real, owner.id).Verdict)

	// first the key, then the void (records after a void passed count
	// again): both without the thief's vote, whose power is left out
	ownerKey := deterministicKey("owner-after-theft")
	c.finalizeFull(c.govTx(i0, proposeKeyReplacement(owner.id, ownerKey.Public().(ed25519.PublicKey))))
	c.finalizeFull(c.govTx(thief, voteOn(1, false)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(1).Status, "the thief's no does not count")
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(1).Status)
	owner.key, owner.seq = ownerKey, thief.seq
	res := c.checkTx(c.tx(thief, anchorMsg(testHash(4))))
	require.Equal(t, uint32(types.CodeKeyReplaced), res.Code, res.Log)
	thief.seq--

	c.finalizeFull(c.govTx(i0, proposeVoidOf(owner.id, theft)))
	c.finalizeFull(c.govTx(i1, voteOn(2, true)), c.govTx(i2, voteOn(2, true)))
	p := c.proposal(2)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, p.Status)
	require.Equal(t, int64(30), p.FinalTotalPower, "the target's power is left out")
	require.Equal(t, []*types.Void{{FromHeight: theft, ProposalId: 2, Height: p.DecidedHeight}}, c.issuer(owner.id).Voids)

	rep := c.report(forged, owner.id)
	require.Equal(t, types.VerdictVoided, rep.Verdict)
	require.Equal(t, uint64(2), rep.Void.ProposalId)
	require.Equal(t, 6, rep.Verdict.ExitCode())
	rep = c.report(real, owner.id)
	require.Equal(t, types.VerdictValid, rep.Verdict, "the thief's revocation no longer counts")
	require.Nil(t, rep.Status)
	rep = c.report(suspended, owner.id)
	require.Equal(t, types.VerdictSuspended, rep.Verdict, "the owner's suspension counts again")
	require.Equal(t, "audit", rep.Status.Reason)

	// the owner's later changes count: it can revoke what the thief's void
	// revocation had "revoked", and anchor what the thief had anchored
	c.commitOK(c.tx(owner, revokeMsg("revoked by the owner", real)), c.tx(owner, anchorMsg(forged)))
	rep = c.report(real, owner.id)
	require.Equal(t, types.VerdictRevoked, rep.Verdict)
	require.Equal(t, "revoked by the owner", rep.Status.Reason)
	require.Equal(t, types.VerdictValid, c.report(forged, owner.id).Verdict, "re-anchored by the owner after the void")
}

// The consortium revokes a credential of a removed issuer by proposal.
func TestConsortiumStatusChange(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1, i2, gone := c.issuers[0], c.issuers[1], c.issuers[2], c.issuers[3]
	h := testHash(1)
	c.commitOK(c.tx(gone, anchorMsg(h)))
	c.finalizeFull(c.govTx(i0, proposeRemove(gone.id)))
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_REMOVED, c.issuer(gone.id).Status)

	for _, tc := range []struct {
		name string
		set  func(*types.TxBody)
		code types.Code
	}{
		{"of an active issuer", proposeStatusOf("issuer1", h, "revoked", "x"), types.CodeInvalidProposal},
		{"not anchored by it", proposeStatusOf(gone.id, testHash(9), "revoked", "x"), types.CodeNotAnchored},
		{"reinstate what is not suspended", proposeStatusOf(gone.id, h, "reinstated", "x"), types.CodeNotSuspended},
		{"unknown status word", proposeStatusOf(gone.id, h, "erased", "x"), types.CodeInvalidProposal},
		{"no reason", proposeStatusOf(gone.id, h, "revoked", ""), types.CodeInvalidProposal},
		{"unknown issuer", proposeStatusOf("nobody", h, "revoked", "x"), types.CodeUnknownIssuer},
		{"void from the future", proposeVoidOf(gone.id, 1000), types.CodeInvalidProposal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.app.Store().Hash()
			res := c.checkTx(c.govTx(i0, tc.set))
			i0.seq--
			require.Equal(t, uint32(tc.code), res.Code, res.Log)
			require.Equal(t, before, c.app.Store().Hash())
		})
	}

	c.finalizeFull(c.govTx(i0, proposeStatusOf(gone.id, h, "revoked", "degree rescinded by the consortium")))
	c.finalizeFull(c.govTx(i1, voteOn(2, true)), c.govTx(i2, voteOn(2, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(2).Status)
	rep := c.report(h, gone.id)
	require.Equal(t, types.VerdictRevoked, rep.Verdict)
	require.Equal(t, uint64(2), rep.Status.ProposalId, "the consortium made the change")
	require.Equal(t, gone.id, rep.Status.IssuerId)
}
