package types_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	ics23 "github.com/cosmos/ics23/go"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

func TestVerifyCredentialVerdicts(t *testing.T) {
	pt := newProofTree(t)
	for _, tc := range []struct {
		name     string
		hash     []byte
		version  int64
		verdict  types.Verdict
		issuer   string
		reason   string
		anchored bool
		issuers  []string // every issuer with a record
	}{
		{"anchored", hashValid, 3, types.VerdictValid, "issuer0", "", true, []string{"issuer0"}},
		{"revoked", hashRevoked, 3, types.VerdictRevoked, "issuer0", "fraud", true, []string{"issuer0"}},
		{"revoked before revocation", hashRevoked, 1, types.VerdictValid, "issuer0", "", true, []string{"issuer0"}},
		{"suspended", hashSuspended, 2, types.VerdictSuspended, "issuer0", "audit", true, []string{"issuer0"}},
		{"reinstated", hashReinstated, 3, types.VerdictValid, "issuer0", "cleared", true, []string{"issuer0"}},
		{"reinstated while suspended", hashReinstated, 2, types.VerdictSuspended, "issuer0", "audit", true, []string{"issuer0"}},
		{"revoked without anchor", hashOffLedger, 3, types.VerdictRevoked, "issuer1", "off-ledger", false, []string{"issuer1"}},
		{"revoked without anchor before", hashOffLedger, 1, types.VerdictNotAnchored, "", "", false, []string{}},
		{"anchored late", hashLate, 3, types.VerdictValid, "issuer1", "", true, []string{"issuer1"}},
		{"anchored late before", hashLate, 2, types.VerdictNotAnchored, "", "", false, []string{}},
		{"one issuer of a later shared record", hashShared, 1, types.VerdictValid, "issuer0", "", true, []string{"issuer0"}},
		{"shared: undecided", hashShared, 3, "", "", "", false, []string{"issuer0", "issuer1"}},
		{"unknown", hashUnknown, 3, types.VerdictNotAnchored, "", "", false, []string{}},
		{"all-zero hash", make([]byte, 32), 3, types.VerdictNotAnchored, "", "", false, []string{}},
		{"all-ones hash", bytes.Repeat([]byte{0xff}, 32), 3, types.VerdictNotAnchored, "", "", false, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := pt.answer(t, tc.version, tc.hash).verify()
			require.NoError(t, err)
			require.Equal(t, tc.verdict, res.Verdict)
			require.Equal(t, tc.hash, res.Hash)
			require.Equal(t, tc.issuer, res.Issuer())
			require.Equal(t, tc.issuers, res.Issuers())
			require.Equal(t, tc.anchored, res.Anchor != nil)
			require.Equal(t, tc.reason != "", res.Status != nil)
			if tc.reason != "" {
				require.Equal(t, tc.reason, res.Status.Reason)
			}
		})
	}
}

// TestVerifyCredentialHistory checks that earlier status changes come
// through with the record.
func TestVerifyCredentialHistory(t *testing.T) {
	pt := newProofTree(t)
	res, err := pt.answer(t, 3, hashReinstated).verify()
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	require.Len(t, res.Entries[0].History, 1)
	require.Equal(t, suspended, res.Entries[0].History[0].Status)
	require.Equal(t, int64(2), res.Entries[0].History[0].Height)
	require.Equal(t, reinstated, res.Status.Status)
}

// TestVerifyCredentialCorruptState checks that records which verify but
// make no sense are reported as malformed, not given a verdict.
func TestVerifyCredentialCorruptState(t *testing.T) {
	pt := newProofTree(t)
	for _, tc := range []struct {
		name string
		hash []byte
	}{
		{"suspended without anchor", hashBadSuspend},
		{"reinstated without anchor", hashBadReinstate},
		{"unknown status", hashBadStatus},
		{"not a record", hashBadRecord},
		{"anchor of another issuer", hashBadIssuer},
		{"entries out of order", hashBadOrder},
		{"no entries", hashNoEntries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pt.answer(t, 3, tc.hash)
			require.NotEmpty(t, c.ans.Record)
			require.NoError(t, types.VerifyValue(c.appHash, types.CredentialKey(tc.hash), c.ans.Record, c.proof), "the proof itself is genuine")
			res, err := c.verify()
			require.ErrorIs(t, err, types.ErrMalformedAnswer)
			require.NotErrorIs(t, err, types.ErrProofInvalid)
			require.Nil(t, res)
		})
	}
}

func TestVerifyCredentialRejects(t *testing.T) {
	pt := newProofTree(t)
	otherRecord := pt.answer(t, 3, hashSuspended).ans.Record
	v1Revoked := pt.answer(t, 1, hashRevoked).ans.Record
	v1Valid := pt.answer(t, 1, hashValid)
	late := pt.answer(t, 3, hashLate)
	absent, absent2 := pt.answer(t, 3, hashUnknown), pt.answer(t, 3, hashUnknown2)
	badOrder := pt.answer(t, 3, hashBadOrder)
	for _, tc := range []struct {
		name     string
		hash     []byte // the hash whose genuine v3 answer is tampered with
		malleate func(c *credential)
		wantErr  error // sentinel the error must wrap
		mismatch bool  // the error must be a *RootMismatchError
	}{
		{"hash too short", hashValid, func(c *credential) { c.hash = c.hash[:31] }, types.ErrBadHash, false},
		{"hash empty", hashValid, func(c *credential) { c.hash = nil }, types.ErrBadHash, false},
		{"nil answer", hashValid, func(c *credential) { c.ans = nil }, types.ErrMalformedAnswer, false},
		{"answer about another hash", hashValid, func(c *credential) { c.ans.Hash = hashRevoked }, types.ErrMalformedAnswer, false},
		{"answer without hash", hashValid, func(c *credential) { c.ans.Hash = nil }, types.ErrMalformedAnswer, false},
		{"hidden revocation", hashRevoked, func(c *credential) { c.ans.Record = v1Revoked }, types.ErrProofInvalid, false},
		{"hidden record", hashValid, func(c *credential) { c.ans.Record = nil }, types.ErrProofInvalid, false},
		{"hidden record of a revoker", hashOffLedger, func(c *credential) { c.ans.Record = nil }, types.ErrProofInvalid, false},
		{"hidden issuer", hashShared, func(c *credential) { c.ans.Record = recordValue(t, anchored("issuer0", 1)) }, types.ErrProofInvalid, false},
		{"entries swapped", hashShared, func(c *credential) {
			c.ans.Record = recordValue(t, offLedger("issuer1", 2, "off-ledger"), anchored("issuer0", 1))
		}, types.ErrProofInvalid, false},
		{"invented record", hashUnknown, func(c *credential) { c.ans.Record = recordValue(t, anchored("issuer0", 1)) }, types.ErrProofInvalid, false},
		{"invented revocation", hashValid, func(c *credential) {
			c.ans.Record = recordValue(t, withStatus(anchored("issuer0", 1), statusRec(revoked, "issuer0", 3, "x")))
		}, types.ErrProofInvalid, false},
		{"invented second issuer", hashValid, func(c *credential) {
			c.ans.Record = recordValue(t, anchored("issuer0", 1), offLedger("issuer1", 3, "x"))
		}, types.ErrProofInvalid, false},
		{"record of another hash", hashRevoked, func(c *credential) { c.ans.Record = otherRecord }, types.ErrProofInvalid, false},
		{"anchor issuer changed", hashValid, func(c *credential) { c.ans.Record = recordValue(t, anchored("issuer1", 1)) }, types.ErrProofInvalid, false},
		{"record with a byte flipped", hashShared, func(c *credential) { c.ans.Record = flip(c.ans.Record, len(c.ans.Record)/2) }, types.ErrProofInvalid, false},
		{"record with a trailing byte", hashValid, func(c *credential) { c.ans.Record = append(bytes.Clone(c.ans.Record), 0) }, types.ErrProofInvalid, false},
		{"record truncated", hashValid, func(c *credential) { c.ans.Record = c.ans.Record[:len(c.ans.Record)-1] }, types.ErrProofInvalid, false},
		{"proof of another hash", hashValid, func(c *credential) { c.proof = late.proof }, types.ErrProofInvalid, false},
		{"answer of another hash", hashValid, func(c *credential) {
			c.ans.Record, c.proof = late.ans.Record, late.proof
		}, types.ErrProofInvalid, false},
		{"absence proof of another hash", hashUnknown, func(c *credential) { c.proof = absent2.proof }, types.ErrProofInvalid, false},
		{"absence proof with the genuine record", hashValid, func(c *credential) { c.proof = absent.proof }, types.ErrProofInvalid, false},
		{"absence proof for the hash with a record", hashUnknown, func(c *credential) { c.ans.Record = otherRecord }, types.ErrProofInvalid, false},
		{"proof of an older version", hashValid, func(c *credential) { c.proof = v1Valid.proof }, types.ErrProofInvalid, true},
		{"app hash of an older version", hashValid, func(c *credential) { c.appHash = pt.roots[2] }, types.ErrProofInvalid, true},
		{"app hash flipped", hashValid, func(c *credential) { c.appHash = flip(c.appHash, 0) }, types.ErrProofInvalid, true},
		{"app hash empty", hashValid, func(c *credential) { c.appHash = nil }, types.ErrProofInvalid, true},
		{"proof empty", hashValid, func(c *credential) { c.proof = nil }, types.ErrProofInvalid, false},
		{"proof garbage", hashValid, func(c *credential) { c.proof = []byte("not a proof") }, types.ErrProofInvalid, false},
		{"proof truncated", hashRevoked, func(c *credential) { c.proof = c.proof[:len(c.proof)/2] }, types.ErrProofInvalid, false},
		{"proof of a corrupt record", hashValid, func(c *credential) {
			c.ans.Record, c.proof = badOrder.ans.Record, badOrder.proof
		}, types.ErrProofInvalid, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pt.answer(t, 3, tc.hash)
			_, err := c.verify()
			require.NoError(t, err, "the untampered answer must verify")
			tc.malleate(&c)
			res, err := c.verify()
			require.Error(t, err)
			require.Nil(t, res)
			require.ErrorIs(t, err, tc.wantErr)
			var rm *types.RootMismatchError
			require.Equal(t, tc.mismatch, errors.As(err, &rm), "RootMismatchError: %v", err)
		})
	}
}

// TestVerifyCredentialFlippedBytes flips every byte of the record and of
// the proof of genuine answers in turn: no tampered answer may verify.
func TestVerifyCredentialFlippedBytes(t *testing.T) {
	pt := newProofTree(t)
	for _, h := range []struct {
		name string
		hash []byte
	}{{"shared", hashShared}, {"reinstated", hashReinstated}, {"unknown", hashUnknown}} {
		t.Run(h.name, func(t *testing.T) {
			genuine := pt.answer(t, 3, h.hash)
			check := func(what string, i int, c credential) {
				t.Helper()
				res, err := c.verify()
				require.Error(t, err, "%s byte %d flipped", what, i)
				require.Nil(t, res)
				require.True(t, errors.Is(err, types.ErrProofInvalid) || errors.Is(err, types.ErrMalformedAnswer), "%s byte %d: %v", what, i, err)
			}
			for i := range genuine.ans.Record {
				c := genuine
				c.ans = &types.CredentialAnswer{Hash: c.hash, Record: flip(c.ans.Record, i)}
				check("record", i, c)
			}
			for i := range genuine.proof {
				c := genuine
				c.proof = flip(c.proof, i)
				check("proof", i, c)
			}
		})
	}
}

// flip returns a copy of b with the byte at i inverted.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

func TestVerifyValue(t *testing.T) {
	pt := newProofTree(t)
	root := pt.roots[3]
	for _, tc := range []struct {
		name    string
		key     []byte // key to prove at v3
		check   []byte // key to check the proof for (nil: key)
		value   func(genuine []byte) []byte
		wantErr bool
	}{
		{"member", types.CredentialKey(hashValid), nil, func(g []byte) []byte { return g }, false},
		{"non-member", types.CredentialKey(hashUnknown), nil, func(g []byte) []byte { return g }, false},
		{"non-member below every key", []byte{0x00, 0x00}, nil, func(g []byte) []byte { return g }, false},
		{"non-member above every key", []byte{0xff}, nil, func(g []byte) []byte { return g }, false},
		{"non-member under a retired prefix", append([]byte{types.PrefixAnchor}, hashValid...), nil, func(g []byte) []byte { return g }, false},
		{"member with another value", types.CredentialKey(hashValid), nil, func(g []byte) []byte { return append(bytes.Clone(g), 0) }, true},
		{"member claimed absent", types.CredentialKey(hashValid), nil, func([]byte) []byte { return nil }, true},
		{"non-member claimed present", types.CredentialKey(hashUnknown), nil, func([]byte) []byte { return []byte("x") }, true},
		{"member proof for another key", types.CredentialKey(hashValid), types.CredentialKey(hashRevoked), func(g []byte) []byte { return g }, true},
		{"member proof under a retired prefix", types.CredentialKey(hashValid), append([]byte{types.PrefixAnchor}, hashValid...), func(g []byte) []byte { return g }, true},
		{"non-member proof for a present key", types.CredentialKey(hashUnknown), types.CredentialKey(hashValid), func([]byte) []byte { return nil }, true},
		{"member proof as non-member proof for the same key", types.CredentialKey(hashRevoked), nil, func([]byte) []byte { return nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			genuine, proof := pt.prove(t, 3, tc.key)
			key := tc.key
			if tc.check != nil {
				key = tc.check
			}
			err := types.VerifyValue(root, key, tc.value(genuine), proof)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrProofInvalid)
		})
	}
}

// TestVerifyValueOnlyIAVLProofShapes feeds the checker ICS23 proof kinds
// that IAVL never produces. A compressed batch whose lookup index is out of
// range made ics23.Decompress panic inside VerifyValue.
func TestVerifyValueOnlyIAVLProofShapes(t *testing.T) {
	pt := newProofTree(t)
	root := pt.roots[3]
	key := types.CredentialKey(hashValid)
	value, proofBytes := pt.prove(t, 3, key)
	var exist ics23.CommitmentProof
	require.NoError(t, exist.Unmarshal(proofBytes))
	batch := &ics23.CommitmentProof{Proof: &ics23.CommitmentProof_Batch{Batch: &ics23.BatchProof{
		Entries: []*ics23.BatchEntry{{Proof: &ics23.BatchEntry_Exist{Exist: exist.GetExist()}}},
	}}}
	compressed := ics23.Compress(batch)
	badIndex := ics23.Compress(batch)
	badIndex.GetCompressed().Entries[0].GetExist().Path[0] = 1 << 20
	noEntry := &ics23.CommitmentProof{Proof: &ics23.CommitmentProof_Compressed{Compressed: &ics23.CompressedBatchProof{
		Entries: []*ics23.CompressedBatchEntry{{}},
	}}}
	for _, tc := range []struct {
		name  string
		proof *ics23.CommitmentProof
	}{
		{"batch", batch},
		{"compressed batch", compressed},
		{"compressed batch with lookup index out of range", badIndex},
		{"compressed batch with an empty entry", noEntry},
		{"no proof", &ics23.CommitmentProof{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bz := mustMarshal(t, tc.proof)
			require.NotPanics(t, func() {
				err := types.VerifyValue(root, key, value, bz)
				require.ErrorIs(t, err, types.ErrProofInvalid)
			})
		})
	}
}

func TestRootMismatchError(t *testing.T) {
	pt := newProofTree(t)
	key := types.CredentialKey(hashValid)
	value, proof := pt.prove(t, 1, key)
	require.NoError(t, types.VerifyValue(pt.roots[1], key, value, proof))
	err := types.VerifyValue(pt.roots[3], key, value, proof)
	var rm *types.RootMismatchError
	require.ErrorAs(t, err, &rm)
	require.ErrorIs(t, err, types.ErrProofInvalid)
	require.Equal(t, key, rm.Key)
	require.Equal(t, pt.roots[3], rm.ExpectedRoot)
	require.Equal(t, pt.roots[1], rm.CalculatedRoot)
	require.Contains(t, err.Error(), fmt.Sprintf("%X", pt.roots[3]))
	require.Contains(t, err.Error(), fmt.Sprintf("%X", pt.roots[1]))

	// through VerifyCredential, the mismatch is still reachable with errors.As
	c := pt.answer(t, 1, hashValid)
	c.appHash = pt.roots[2]
	_, err = c.verify()
	require.ErrorAs(t, err, &rm)
	require.Equal(t, types.CredentialKey(hashValid), rm.Key)
}

func TestVerifyIssuer(t *testing.T) {
	pt := newProofTree(t)
	root := pt.roots[3]
	for _, tc := range []struct {
		name     string
		id       string // id to prove
		checkID  string // id to check as ("": id)
		malleate func(value []byte) []byte
		want     string // issuer id of the result ("": nil result)
		wantErr  error
	}{
		{name: "existing", id: "issuer0", want: "issuer0"},
		{name: "unknown", id: "nobody"},
		{name: "unknown claimed present", id: "nobody", malleate: func([]byte) []byte { return issuerValue(t, "nobody") }, wantErr: types.ErrProofInvalid},
		{name: "existing claimed absent", id: "issuer1", malleate: func([]byte) []byte { return nil }, wantErr: types.ErrProofInvalid},
		{name: "record changed", id: "issuer1", malleate: func(v []byte) []byte { return flip(v, len(v)-1) }, wantErr: types.ErrProofInvalid},
		{name: "proof of another issuer", id: "issuer0", checkID: "issuer1", wantErr: types.ErrProofInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value, proof := pt.prove(t, 3, types.IssuerKey(tc.id))
			if tc.malleate != nil {
				value = tc.malleate(value)
			}
			id := tc.id
			if tc.checkID != "" {
				id = tc.checkID
			}
			is, err := types.VerifyIssuer(id, value, proof, root)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, is)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				require.Nil(t, is)
				return
			}
			require.NotNil(t, is)
			require.Equal(t, tc.want, is.Id)
			require.Equal(t, types.IssuerStatus_ISSUER_STATUS_ACTIVE, is.Status)
			require.True(t, is.HasIdentifier("did:web:"+tc.want+".test"))
		})
	}
}

// TestVerifyIssuerRecordMismatch stores an issuer record under another
// issuer's key: the proof verifies, but the answer must be refused.
func TestVerifyIssuerRecordMismatch(t *testing.T) {
	tree := iavl.NewMutableTree(idb.NewMemDB(), 100, true, iavl.NewNopLogger())
	_, err := tree.Set(types.IssuerKey("alice"), issuerValue(t, "mallory"))
	require.NoError(t, err)
	_, err = tree.Set(types.IssuerKey("bob"), []byte{0xff})
	require.NoError(t, err)
	root, v, err := tree.SaveVersion()
	require.NoError(t, err)
	it, err := tree.GetImmutable(v)
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob"} {
		t.Run(id, func(t *testing.T) {
			value, err := it.Get(types.IssuerKey(id))
			require.NoError(t, err)
			cp, err := it.GetProof(types.IssuerKey(id))
			require.NoError(t, err)
			is, err := types.VerifyIssuer(id, value, mustMarshal(t, cp), root)
			require.ErrorIs(t, err, types.ErrMalformedAnswer)
			require.Nil(t, is)
		})
	}
}

func TestVerdictExitCode(t *testing.T) {
	for _, tc := range []struct {
		verdict types.Verdict
		want    int
	}{
		{types.VerdictValid, 0},
		{types.VerdictRevoked, 2},
		{types.VerdictSuspended, 3},
		{types.VerdictNotAnchored, 4},
		{types.VerdictIssuerMismatch, 5},
		{types.VerdictVoided, 6},
		{types.VerdictExpired, 7},
		{types.VerdictNotYetValid, 7},
		{"", 1},
		{"VALID", 1},
		{"unknown", 1},
	} {
		t.Run(string(tc.verdict), func(t *testing.T) {
			require.Equal(t, tc.want, tc.verdict.ExitCode())
		})
	}
}
