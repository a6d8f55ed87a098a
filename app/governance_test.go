package app

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// newGovChain starts a chain of n issuers (power 10 each) whose proposals
// expire after expiry blocks, and commits one empty block.
func newGovChain(t *testing.T, n int, expiry int64) *testChain {
	t.Helper()
	params := types.DefaultParams()
	params.ProposalExpiryBlocks = expiry
	app := NewInMemoryApplication()
	appState, issuers := testGenesis(t, n, params)
	_, err := app.InitChain(t.Context(), &abci.RequestInitChain{ChainId: testChainID, AppStateBytes: appState, InitialHeight: 1})
	require.NoError(t, err)
	c := &testChain{t: t, app: app, issuers: issuers, genesis: time.Unix(1_700_000_000, 0).UTC()}
	c.finalize()
	return c
}

// govTx signs a body for is with its next sequence, with msg set by set.
func (c *testChain) govTx(is *testIssuer, set func(*types.TxBody)) []byte {
	b := &types.TxBody{ChainId: testChainID, IssuerId: is.id, Sequence: is.seq}
	set(b)
	tx := c.sign(is, b)
	is.seq++
	return tx
}

func admissionOf(id string) (*types.MsgProposeAdmission, *testIssuer, ed25519.PrivateKey) {
	key, val := deterministicKey(id), deterministicKey("validator-"+id)
	m := &types.MsgProposeAdmission{
		IssuerId: id, Name: "Issuer " + id, Power: 10,
		SigningPubkey: key.Public().(ed25519.PublicKey), ValidatorPubkey: val.Public().(ed25519.PublicKey),
	}
	return m, &testIssuer{id: id, key: key}, val
}

func proposeAdd(m *types.MsgProposeAdmission) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: m} }
}

func proposeRemove(id string) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: id}}
	}
}

func voteOn(id uint64, yes bool) func(*types.TxBody) {
	return func(b *types.TxBody) { b.Msg = &types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: id, Yes: yes}} }
}

func (c *testChain) proposal(id uint64) *types.Proposal {
	c.t.Helper()
	resp := c.query(query.PathProposal, types.EncodeProposalID(id), 0)
	require.Zero(c.t, resp.Code, resp.Log)
	var p types.Proposal
	require.NoError(c.t, p.Unmarshal(resp.Value))
	return &p
}

func (c *testChain) issuer(id string) *types.Issuer {
	c.t.Helper()
	resp := c.query(query.PathIssuer, []byte(id), 0)
	require.Zero(c.t, resp.Code, resp.Log)
	is, err := types.VerifyIssuer(id, resp.Value, resp.ProofOps.Ops[0].Data, c.app.Store().Hash())
	require.NoError(c.t, err)
	return is
}

// finalizeFull runs a block and returns the whole FinalizeBlock response.
func (c *testChain) finalizeFull(txs ...[]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	c.height++
	resp, err := c.app.FinalizeBlock(c.t.Context(), &abci.RequestFinalizeBlock{Height: c.height, Time: c.blockTime(c.height), Txs: txs})
	require.NoError(c.t, err)
	_, err = c.app.Commit(c.t.Context(), &abci.RequestCommit{})
	require.NoError(c.t, err)
	for _, r := range resp.TxResults {
		require.Zero(c.t, r.Code, r.Log)
	}
	return resp
}

func TestAdmissionAndRemovalByVote(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	m, newcomer, val := admissionOf("newcomer")

	resp := c.finalizeFull(c.govTx(i0, proposeAdd(m)))
	require.Empty(t, resp.ValidatorUpdates, "10 of 40 is not enough")
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(1).Status)

	resp = c.finalizeFull(c.govTx(i1, voteOn(1, true)))
	require.Empty(t, resp.ValidatorUpdates, "20 of 40 is not more than 2/3")

	resp = c.finalizeFull(c.govTx(i2, voteOn(1, true)))
	require.Equal(t, []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(val.Public().(ed25519.PublicKey), 10)}, resp.ValidatorUpdates)
	p := c.proposal(1)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, p.Status)
	require.Equal(t, c.height, p.DecidedHeight)
	is := c.issuer("newcomer")
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_ACTIVE, is.Status)
	require.Equal(t, c.height, is.JoinedHeight)

	// the newcomer writes
	h := testHash(500)
	c.finalizeFull(c.tx(newcomer, anchorMsg(h)))
	require.Equal(t, "newcomer", c.verdict(h).Issuer())

	// removal: the newcomer's power is left out, 4 others x 10; needs
	// > 26.7 yes: proposer + 2 votes
	c.finalizeFull(c.govTx(i0, proposeRemove("newcomer")))
	c.finalizeFull(c.govTx(i1, voteOn(2, true)), c.govTx(newcomer, voteOn(2, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(2).Status, "20 of the others' 40 is not more than 2/3; the target's yes does not count")
	resp = c.finalizeFull(c.govTx(i2, voteOn(2, true)))
	require.Equal(t, []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(val.Public().(ed25519.PublicKey), 0)}, resp.ValidatorUpdates)
	is = c.issuer("newcomer")
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_REMOVED, is.Status)
	require.Equal(t, c.height, is.LeftHeight)

	// its writes are rejected, its anchors still verify
	res := c.checkTx(c.tx(newcomer, anchorMsg(testHash(501))))
	require.Equal(t, uint32(types.CodeIssuerInactive), res.Code, res.Log)
	require.Equal(t, types.VerdictValid, c.verdict(h).Verdict)
	require.Equal(t, "newcomer", c.verdict(h).Issuer())
}

func TestProposalRejectedWhenTwoThirdsUnreachable(t *testing.T) {
	c := newGovChain(t, 4, 100)
	m, _, _ := admissionOf("newcomer")
	c.finalizeFull(c.govTx(c.issuers[0], proposeAdd(m)), c.govTx(c.issuers[1], voteOn(1, false)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(1).Status, "10 of 40 said no: the other 30 could still pass it")
	resp := c.finalizeFull(c.govTx(c.issuers[2], voteOn(1, false)))
	require.Empty(t, resp.ValidatorUpdates)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_REJECTED, c.proposal(1).Status)
	require.Nil(t, c.issuer("newcomer"))
}

func TestProposalExpires(t *testing.T) {
	c := newGovChain(t, 4, 2)
	m, _, _ := admissionOf("newcomer")
	c.finalizeFull(c.govTx(c.issuers[0], proposeAdd(m)))
	created := c.height
	c.finalize()
	c.finalize()
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(1).Status)
	c.finalize() // height created+3 > expires_height created+2
	p := c.proposal(1)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_EXPIRED, p.Status)
	require.Equal(t, created+2, p.ExpiresHeight)
	res := c.checkTx(c.govTx(c.issuers[1], voteOn(1, true)))
	require.Equal(t, uint32(types.CodeProposalExpired), res.Code, res.Log)
}

func TestSingleIssuerDecidesAlone(t *testing.T) {
	c := newGovChain(t, 1, 10)
	m, _, _ := admissionOf("second")
	resp := c.finalizeFull(c.govTx(c.issuers[0], proposeAdd(m)))
	require.Len(t, resp.ValidatorUpdates, 1)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(1).Status)
}

func TestGovernanceRejections(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1 := c.issuers[0], c.issuers[1]
	m, _, _ := admissionOf("newcomer")
	c.finalizeFull(c.govTx(i0, proposeAdd(m)))            // proposal 1, open
	c.finalizeFull(c.govTx(i0, proposeRemove("issuer3"))) // proposal 2
	c.finalizeFull(c.govTx(i1, voteOn(2, false)))         // 10 no of the others' 30: yes can reach only 20
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_REJECTED, c.proposal(2).Status)
	dupKey, _, _ := admissionOf("other")
	dupKey.SigningPubkey = c.issuers[2].key.Public().(ed25519.PublicKey)
	dupVal, _, _ := admissionOf("other2")
	dupVal.ValidatorPubkey = deterministicKey("validator-issuer1").Public().(ed25519.PublicKey)
	shortKey, _, _ := admissionOf("other3")
	shortKey.SigningPubkey = shortKey.SigningPubkey[:31]
	zeroPower, _, _ := admissionOf("other4")
	zeroPower.Power = 0
	stranger := &testIssuer{id: "stranger", key: deterministicKey("stranger")}

	for _, tc := range []struct {
		name string
		tx   func() []byte
		code types.Code
		log  string
	}{
		{"vote twice", func() []byte { return c.govTx(i0, voteOn(1, true)) }, types.CodeAlreadyVoted, "already voted"},
		{"unknown proposal", func() []byte { return c.govTx(i1, voteOn(99, true)) }, types.CodeUnknownProposal, "no proposal 99"},
		{"decided proposal", func() []byte { return c.govTx(c.issuers[3], voteOn(2, true)) }, types.CodeProposalDecided, "already decided"},
		{"existing id", func() []byte {
			return c.govTx(i1, proposeAdd(&types.MsgProposeAdmission{IssuerId: "issuer2", Name: "x", Power: 1, SigningPubkey: m.SigningPubkey, ValidatorPubkey: m.ValidatorPubkey}))
		}, types.CodeIssuerExists, "already taken"},
		{"signing key in use", func() []byte { return c.govTx(i1, proposeAdd(dupKey)) }, types.CodeKeyInUse, "issuer2"},
		{"validator key in use", func() []byte { return c.govTx(i1, proposeAdd(dupVal)) }, types.CodeKeyInUse, "issuer1"},
		{"bad key length", func() []byte { return c.govTx(i1, proposeAdd(shortKey)) }, types.CodeInvalidProposal, "31 bytes"},
		{"zero power", func() []byte { return c.govTx(i1, proposeAdd(zeroPower)) }, types.CodeInvalidProposal, "power 0"},
		{"non-member proposes", func() []byte { return c.govTx(stranger, proposeAdd(zeroPower)) }, types.CodeInvalidProposal, "power"},
		{"non-member proposes valid", func() []byte {
			ok, _, _ := admissionOf("other5")
			return c.govTx(stranger, proposeAdd(ok))
		}, types.CodeUnknownIssuer, "stranger"},
		{"remove unknown", func() []byte { return c.govTx(i1, proposeRemove("nobody")) }, types.CodeUnknownIssuer, "nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.app.Store().Hash()
			tx := tc.tx()
			res := c.checkTx(tx)
			require.Equal(t, uint32(tc.code), res.Code, res.Log)
			require.Contains(t, res.Log, tc.log)
			results, hash := c.finalize(tx)
			require.Equal(t, uint32(tc.code), results[0].Code)
			require.Equal(t, before, hash, "a rejected tx changes nothing")
			for _, is := range c.issuers {
				is.seq = c.committedSeq(is.id)
			}
			stranger.seq = 0
		})
	}
}

func TestRemovingLastIssuerIsRejected(t *testing.T) {
	c := newGovChain(t, 1, 10)
	res := c.checkTx(c.govTx(c.issuers[0], proposeRemove("issuer0")))
	require.Equal(t, uint32(types.CodeLastIssuer), res.Code, res.Log)
	require.Contains(t, res.Log, "no validator")
}

func TestRotateKey(t *testing.T) {
	c := newGovChain(t, 2, 10)
	i0 := c.issuers[0]
	h := testHash(1)
	c.finalizeFull(c.tx(i0, anchorMsg(h)))
	newKey := deterministicKey("issuer0-rotated")
	rotate := func(pub []byte) func(*types.TxBody) {
		return func(b *types.TxBody) {
			b.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: pub}}
		}
	}
	// a key another issuer uses is refused
	res := c.checkTx(c.govTx(i0, rotate(c.issuers[1].key.Public().(ed25519.PublicKey))))
	require.Equal(t, uint32(types.CodeKeyInUse), res.Code, res.Log)
	i0.seq--

	c.finalizeFull(c.govTx(i0, rotate(newKey.Public().(ed25519.PublicKey))))
	rotatedAt := c.height
	is := c.issuer("issuer0")
	require.Equal(t, []byte(newKey.Public().(ed25519.PublicKey)), is.SigningPubkey)
	require.Len(t, is.PreviousKeys, 1)
	require.Equal(t, []byte(i0.key.Public().(ed25519.PublicKey)), is.PreviousKeys[0].Pubkey)
	require.Equal(t, rotatedAt, is.PreviousKeys[0].UntilHeight)

	// the old key no longer signs, and the rejection names the rotation
	res = c.checkTx(c.tx(i0, anchorMsg(testHash(2))))
	require.Equal(t, uint32(types.CodeKeyReplaced), res.Code, res.Log)
	require.Contains(t, res.Log, fmt.Sprintf("replaced at height %d by key %s", rotatedAt, types.KeyID(newKey.Public().(ed25519.PublicKey))))
	i0.seq--
	// a key the issuer never had is still a bad signature
	other := deterministicKey("stranger")
	stranger := &testIssuer{id: i0.id, key: other, seq: i0.seq}
	res = c.checkTx(c.tx(stranger, anchorMsg(testHash(2))))
	require.Equal(t, uint32(types.CodeBadSignature), res.Code, res.Log)
	// rotating back to the old key is refused: keys are never reused
	i0.key = newKey
	res = c.checkTx(c.govTx(i0, rotate(is.PreviousKeys[0].Pubkey)))
	require.Equal(t, uint32(types.CodeKeyInUse), res.Code, res.Log)
	i0.seq--
	// the new key does, and the old anchor still attributes to issuer0
	c.finalizeFull(c.tx(i0, anchorMsg(testHash(2))))
	require.Equal(t, "issuer0", c.verdict(h).Issuer())
	require.Equal(t, types.VerdictValid, c.verdict(testHash(2)).Verdict)
}

// Two open admissions of the same id (or key): the first to pass admits the
// issuer; the second, passing later, is rejected instead of overwriting it.
func TestCompetingAdmissions(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	first, _, val1 := admissionOf("newcomer")
	second, _, _ := admissionOf("newcomer-2")
	second.IssuerId = "newcomer" // same id, other keys
	sameKey, _, _ := admissionOf("other")
	sameKey.ValidatorPubkey = first.ValidatorPubkey // other id, same validator key
	c.finalizeFull(c.govTx(i0, proposeAdd(first)), c.govTx(i0, proposeAdd(second)), c.govTx(i0, proposeAdd(sameKey)))
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i1, voteOn(2, true)), c.govTx(i1, voteOn(3, true)))
	resp := c.finalizeFull(c.govTx(i2, voteOn(1, true)))
	require.Equal(t, []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(val1.Public().(ed25519.PublicKey), 10)}, resp.ValidatorUpdates)
	before := c.issuer("newcomer")

	resp = c.finalizeFull(c.govTx(i2, voteOn(2, true)), c.govTx(c.issuers[3], voteOn(2, true)), c.govTx(i2, voteOn(3, true)), c.govTx(c.issuers[3], voteOn(3, true)))
	require.Empty(t, resp.ValidatorUpdates)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_REJECTED, c.proposal(2).Status)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_REJECTED, c.proposal(3).Status)
	require.Equal(t, before, c.issuer("newcomer"), "the admitted issuer is not overwritten")
	require.Nil(t, c.issuer("other"))
}

// A member holding more than a third of the power cannot block its own
// removal: its power is left out of the tally and the others decide.
func TestRemovalWithoutTheTargetsVote(t *testing.T) {
	c := newGovChain(t, 3, 100)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	big, bigIssuer, _ := admissionOf("big")
	big.Power = 30 // 30 of 60: half the power
	c.finalizeFull(c.govTx(i0, proposeAdd(big)))
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(1).Status)

	c.finalizeFull(c.govTx(i0, proposeRemove("big")))
	c.finalizeFull(c.govTx(bigIssuer, voteOn(2, false))) // the target votes no: not counted
	p := c.proposal(2)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, p.Status)
	require.Equal(t, "big", p.Target())
	resp := c.finalizeFull(c.govTx(i1, voteOn(2, true)), c.govTx(i2, voteOn(2, true)))
	p = c.proposal(2)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, p.Status, "10+10+10 of the others' 30 passes it")
	require.Equal(t, int64(30), p.FinalTotalPower, "the target's 30 is left out")
	require.Equal(t, int64(30), p.FinalYesPower)
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_REMOVED, c.issuer("big").Status)
	require.Len(t, resp.ValidatorUpdates, 1, "its validator leaves")
	require.Zero(t, resp.ValidatorUpdates[0].Power)
}

// The others' no votes reject a removal as soon as it can no longer pass,
// whatever the target's power.
func TestRemovalRejectedByTheOthers(t *testing.T) {
	c := newGovChain(t, 4, 100)
	c.finalizeFull(c.govTx(c.issuers[0], proposeRemove("issuer3")))
	c.finalizeFull(c.govTx(c.issuers[1], voteOn(1, false)))
	p := c.proposal(1)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_REJECTED, p.Status, "no holds 10 of the others' 30: yes can reach 20, not more than 20")
	require.Equal(t, int64(30), p.FinalTotalPower)
}

func proposeKeyReplacement(id string, key []byte) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeReplaceKey{ProposeReplaceKey: &types.MsgProposeReplaceKey{IssuerId: id, NewSigningPubkey: key}}
	}
}

// A thief with issuer X's key rotates it and locks the owner out; the
// other members replace X's key without X's vote (the thief's no does not
// count), the owner signs again and the thief's key is refused.
func TestReplaceKeyAfterTheft(t *testing.T) {
	c := newGovChain(t, 4, 100)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	owner := c.issuers[3]
	thief := &testIssuer{id: owner.id, key: owner.key, seq: owner.seq} // the stolen key
	thiefKey := deterministicKey("thief")
	c.finalizeFull(c.govTx(thief, func(b *types.TxBody) {
		b.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: thiefKey.Public().(ed25519.PublicKey)}}
	}))
	thief.key, owner.seq = thiefKey, thief.seq
	res := c.checkTx(c.tx(owner, anchorMsg(testHash(1))))
	require.Equal(t, uint32(types.CodeKeyReplaced), res.Code, "the owner is locked out: %s", res.Log)
	owner.seq--

	ownerKey := deterministicKey("owner-new")
	ownerPub := ownerKey.Public().(ed25519.PublicKey)
	c.finalizeFull(c.govTx(i0, proposeKeyReplacement(owner.id, ownerPub)))
	c.finalizeFull(c.govTx(thief, voteOn(1, false)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_OPEN, c.proposal(1).Status, "the target's no does not count")
	owner.seq = thief.seq
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	p := c.proposal(1)
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, p.Status)
	require.Equal(t, int64(30), p.FinalTotalPower, "the target's power is left out")
	require.Equal(t, owner.id, p.Target())
	is := c.issuer(owner.id)
	require.Equal(t, []byte(ownerPub), is.SigningPubkey)
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_ACTIVE, is.Status, "a key replacement does not remove")

	thief.seq = owner.seq
	res = c.checkTx(c.tx(thief, anchorMsg(testHash(2))))
	require.Equal(t, uint32(types.CodeKeyReplaced), res.Code, res.Log)
	owner.key = ownerKey
	c.finalizeFull(c.tx(owner, anchorMsg(testHash(2))))
	require.Equal(t, owner.id, c.verdict(testHash(2)).Issuer())
}

func TestReplaceKeyRejections(t *testing.T) {
	c := newGovChain(t, 3, 100)
	i0 := c.issuers[0]
	fresh := deterministicKey("fresh").Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		name string
		msg  *types.MsgProposeReplaceKey
		code types.Code
	}{
		{"unknown issuer", &types.MsgProposeReplaceKey{IssuerId: "nobody", NewSigningPubkey: fresh}, types.CodeUnknownIssuer},
		{"key in use", &types.MsgProposeReplaceKey{IssuerId: "issuer1", NewSigningPubkey: c.issuers[2].key.Public().(ed25519.PublicKey)}, types.CodeKeyInUse},
		{"short key", &types.MsgProposeReplaceKey{IssuerId: "issuer1", NewSigningPubkey: fresh[:31]}, types.CodeInvalidProposal},
		{"bad id", &types.MsgProposeReplaceKey{IssuerId: "bad id", NewSigningPubkey: fresh}, types.CodeInvalidIssuerID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.app.Store().Hash()
			res := c.checkTx(c.govTx(i0, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeReplaceKey{ProposeReplaceKey: tc.msg} }))
			i0.seq--
			require.Equal(t, uint32(tc.code), res.Code, res.Log)
			require.Equal(t, before, c.app.Store().Hash())
		})
	}
}

func proposeIdents(id string, idents ...string) func(*types.TxBody) {
	return func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeIdentifiers{ProposeIdentifiers: &types.MsgProposeIdentifiers{IssuerId: id, Identifiers: idents}}
	}
}

// Identifiers are set at admission and changed only by a proposal; each is
// unique across members and stays reserved to its issuer.
func TestIdentifiers(t *testing.T) {
	c := newGovChain(t, 3, 100)
	i0, i1, i2 := c.issuers[0], c.issuers[1], c.issuers[2]
	m, _, _ := admissionOf("uni")
	m.Identifiers = []string{"https://uni.example", "did:web:uni.example"}
	c.finalizeFull(c.govTx(i0, proposeAdd(m)))
	c.finalizeFull(c.govTx(i1, voteOn(1, true)), c.govTx(i2, voteOn(1, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(1).Status)
	require.Equal(t, []string{"did:web:uni.example", "https://uni.example"}, c.issuer("uni").Identifiers, "kept sorted")

	// another admission naming one of them is refused, on entry and at pass
	taken, _, _ := admissionOf("copycat")
	taken.Identifiers = []string{"did:web:uni.example"}
	res := c.checkTx(c.govTx(i0, proposeAdd(taken)))
	require.Equal(t, uint32(types.CodeIdentifierInUse), res.Code, res.Log)
	i0.seq--

	// a change by proposal; the dropped identifier stays reserved to uni
	c.finalizeFull(c.govTx(i2, proposeIdents("uni", "did:web:uni.example", "did:web:new.uni.example")))
	c.finalizeFull(c.govTx(i0, voteOn(2, true)), c.govTx(i1, voteOn(2, true)))
	require.Equal(t, types.ProposalStatus_PROPOSAL_STATUS_PASSED, c.proposal(2).Status)
	require.Equal(t, []string{"did:web:new.uni.example", "did:web:uni.example"}, c.issuer("uni").Identifiers)
	res = c.checkTx(c.govTx(i0, proposeIdents("issuer1", "https://uni.example")))
	require.Equal(t, uint32(types.CodeIdentifierInUse), res.Code, "a dropped identifier is not free: %s", res.Log)
	i0.seq--

	for _, tc := range []struct {
		name   string
		idents []string
		code   types.Code
	}{
		{"not a DID or URL", []string{"uni"}, types.CodeBadIdentifier},
		{"repeated", []string{"did:web:a", "did:web:a"}, types.CodeBadIdentifier},
		{"with a space", []string{"did:web:a b"}, types.CodeBadIdentifier},
		{"empty DID method id", []string{"did:web:"}, types.CodeBadIdentifier},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.app.Store().Hash()
			res := c.checkTx(c.govTx(i0, proposeIdents("issuer1", tc.idents...)))
			i0.seq--
			require.Equal(t, uint32(tc.code), res.Code, res.Log)
			require.Equal(t, before, c.app.Store().Hash())
		})
	}
}

// A member that floods the consortium with proposals is stopped at
// types.MaxOpenProposalsPerIssuer open ones, so the open list every block
// reads stays bounded; the others' proposals are not affected, and once one
// of the flooder's proposals expires it may propose again.
func TestOpenProposalsBoundedPerIssuer(t *testing.T) {
	c := newGovChain(t, 4, 20)
	flooder, other := c.issuers[0], c.issuers[1]
	for i := range types.MaxOpenProposalsPerIssuer {
		m, _, _ := admissionOf(fmt.Sprintf("flood%d", i))
		c.commitOK(c.govTx(flooder, proposeAdd(m)))
	}
	m, _, _ := admissionOf("flood-extra")
	extra := c.govTx(flooder, proposeAdd(m))
	r := c.checkTx(extra)
	require.Equal(t, uint32(types.CodeTooManyProposals), r.Code, r.Log)
	require.Contains(t, r.Log, fmt.Sprintf("has %d proposals open", types.MaxOpenProposalsPerIssuer))
	res, _ := c.finalize(extra)
	require.Equal(t, uint32(types.CodeTooManyProposals), res[0].Code)
	flooder.seq-- // the rejected tx used no sequence

	// another member still proposes
	m, _, _ = admissionOf("honest")
	c.commitOK(c.govTx(other, proposeAdd(m)))

	// after the flooder's proposals expire, it may propose again
	for range 20 {
		c.finalize()
	}
	m, _, _ = admissionOf("flood-later")
	c.commitOK(c.govTx(flooder, proposeAdd(m)))
}

// /issuers and /proposals answer one page at a time, in id order, with the
// id the next page starts after; bad page requests are refused.
func TestListQueriesPaginate(t *testing.T) {
	c := newGovChain(t, 5, 100)
	for i := range 5 {
		m, _, _ := admissionOf(fmt.Sprintf("cand%d", i))
		c.commitOK(c.govTx(c.issuers[i%2], proposeAdd(m)))
	}
	for _, tc := range []struct {
		path string
		want []string
		ids  func(r *abci.ResponseQuery) ([]string, []byte)
	}{
		{query.PathIssuers, []string{"issuer0", "issuer1", "issuer2", "issuer3", "issuer4"}, func(r *abci.ResponseQuery) ([]string, []byte) {
			page, next, err := query.DecodeIssuerPage(r)
			require.NoError(t, err)
			var ids []string
			for _, is := range page {
				ids = append(ids, is.Id)
			}
			return ids, next
		}},
		{query.PathProposals, []string{"1", "2", "3", "4", "5"}, func(r *abci.ResponseQuery) ([]string, []byte) {
			page, next, err := query.DecodeProposalPage(r)
			require.NoError(t, err)
			var ids []string
			for _, p := range page {
				ids = append(ids, fmt.Sprint(p.Id))
			}
			return ids, next
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var got []string
			var after []byte
			pages := 0
			for {
				r := c.query(tc.path, query.Page(after, 2), 0)
				require.Zero(t, r.Code, r.Log)
				ids, next := tc.ids(r)
				require.LessOrEqual(t, len(ids), 2)
				got = append(got, ids...)
				pages++
				if len(next) == 0 {
					break
				}
				after = next
			}
			require.Equal(t, tc.want, got)
			require.Equal(t, 3, pages)
			// the default page holds them all
			ids, next := tc.ids(c.query(tc.path, nil, 0))
			require.Equal(t, tc.want, ids)
			require.Empty(t, next)

			r := c.query(tc.path, []byte{0xff, 0xff}, 0)
			require.Equal(t, uint32(types.CodeBadQuery), r.Code, r.Log)
			r = c.query(tc.path, query.Page(nil, query.MaxPageSize+1), 0)
			require.Equal(t, uint32(types.CodeBadQuery), r.Code, r.Log)
			require.Contains(t, r.Log, "page limit")
		})
	}
}
