package types_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	ics23 "github.com/cosmos/ics23/go"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// credHash returns a deterministic credential hash for n.
func credHash(n int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "verify-test-credential-%d", n))
	return h[:]
}

// Credential hashes of the proof tree, by what happens to them.
var (
	hashValid       = credHash(0)  // anchored at v1
	hashRevoked     = credHash(1)  // anchored at v1, revoked at v2
	hashSuspended   = credHash(2)  // anchored at v1, suspended at v2
	hashReinstated  = credHash(3)  // anchored at v1, suspended at v2, reinstated at v3
	hashOffLedger   = credHash(4)  // revoked at v2 without an anchor
	hashLate        = credHash(5)  // anchored at v3
	hashUnknown     = credHash(6)  // never written
	hashBadSuspend  = credHash(7)  // corrupt state (v3): suspended without an anchor
	hashBadStatus   = credHash(8)  // corrupt state (v3): anchored, status entry with an unknown status
	hashBadAnchor   = credHash(9)  // corrupt state (v3): anchor value is not an AnchorRecord
	hashBadStatusPB = credHash(10) // corrupt state (v3): status value is not a StatusEntry
)

// proofTree is an IAVL tree laid out like credledger state, with three
// saved versions. It is the trusted model the verifier tests and fuzz
// targets compare against: roots[v] is the app hash of version v.
type proofTree struct {
	tree  *iavl.MutableTree
	roots map[int64][]byte
	vers  []int64
}

func mustMarshal(tb testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	tb.Helper()
	bz, err := m.Marshal()
	require.NoError(tb, err)
	return bz
}

func anchorValue(tb testing.TB, issuer string, height int64) []byte {
	tb.Helper()
	return mustMarshal(tb, &types.AnchorRecord{IssuerId: issuer, Height: height, TimeUnixNano: 1_700_000_000_000_000_000 + height})
}

func statusValue(tb testing.TB, s types.CredentialStatus, issuer string, height int64, reason string) []byte {
	tb.Helper()
	return mustMarshal(tb, &types.StatusEntry{Status: s, IssuerId: issuer, Height: height, TimeUnixNano: 1_700_000_000_000_000_000 + height, Reason: reason})
}

func issuerValue(tb testing.TB, id string) []byte {
	tb.Helper()
	return mustMarshal(tb, &types.Issuer{
		Id: id, Name: "Issuer " + id, SigningPubkey: bytes.Repeat([]byte{1}, 32), ValidatorPubkey: bytes.Repeat([]byte{2}, 32),
		Power: 10, Status: types.IssuerStatus_ISSUER_STATUS_ACTIVE,
	})
}

// newProofTree builds the tree. Filler anchors make the proofs realistic
// (several inner nodes) without slowing the fuzz targets down.
func newProofTree(tb testing.TB) *proofTree {
	tb.Helper()
	pt := &proofTree{tree: iavl.NewMutableTree(idb.NewMemDB(), 1000, true, iavl.NewNopLogger()), roots: map[int64][]byte{}}
	params := types.DefaultParams()
	revoked := types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
	suspended := types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	reinstated := types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED
	blocks := [][][2][]byte{
		1: {
			{types.ChainIDKey(), []byte("credledger-test")},
			{types.ParamsKey(), mustMarshal(tb, &params)},
			{types.IssuerKey("issuer0"), issuerValue(tb, "issuer0")},
			{types.IssuerKey("issuer1"), issuerValue(tb, "issuer1")},
			{types.SequenceKey("issuer0"), types.EncodeSequence(1)},
			{types.AnchorKey(hashValid), anchorValue(tb, "issuer0", 1)},
			{types.AnchorKey(hashRevoked), anchorValue(tb, "issuer0", 1)},
			{types.AnchorKey(hashSuspended), anchorValue(tb, "issuer0", 1)},
			{types.AnchorKey(hashReinstated), anchorValue(tb, "issuer0", 1)},
		},
		2: {
			{types.StatusKey(hashRevoked), statusValue(tb, revoked, "issuer0", 2, "fraud")},
			{types.StatusKey(hashSuspended), statusValue(tb, suspended, "issuer0", 2, "audit")},
			{types.StatusKey(hashReinstated), statusValue(tb, suspended, "issuer0", 2, "audit")},
			{types.StatusKey(hashOffLedger), statusValue(tb, revoked, "issuer1", 2, "off-ledger")},
			{types.SequenceKey("issuer0"), types.EncodeSequence(2)},
			{types.SequenceKey("issuer1"), types.EncodeSequence(1)},
		},
		3: {
			{types.StatusKey(hashReinstated), statusValue(tb, reinstated, "issuer0", 3, "cleared")},
			{types.AnchorKey(hashLate), anchorValue(tb, "issuer1", 3)},
			{types.StatusKey(hashBadSuspend), statusValue(tb, suspended, "issuer0", 3, "")},
			{types.AnchorKey(hashBadStatus), anchorValue(tb, "issuer0", 3)},
			{types.StatusKey(hashBadStatus), statusValue(tb, types.CredentialStatus(7), "issuer0", 3, "")},
			{types.AnchorKey(hashBadAnchor), []byte{0xff, 0xff, 0xff}},
			{types.AnchorKey(hashBadStatusPB), anchorValue(tb, "issuer0", 3)},
			{types.StatusKey(hashBadStatusPB), []byte{0x0a, 0x05, 'x'}},
		},
	}
	for v := 1; v < len(blocks); v++ {
		for _, kv := range blocks[v] {
			_, err := pt.tree.Set(kv[0], kv[1])
			require.NoError(tb, err)
		}
		for i := 0; i < 16; i++ { // filler, spread over both credential prefixes
			h := credHash(1000*v + i)
			_, err := pt.tree.Set(types.AnchorKey(h), anchorValue(tb, "issuer0", int64(v)))
			require.NoError(tb, err)
			if i%4 == 0 {
				_, err = pt.tree.Set(types.StatusKey(h), statusValue(tb, revoked, "issuer0", int64(v), "filler"))
				require.NoError(tb, err)
			}
		}
		root, ver, err := pt.tree.SaveVersion()
		require.NoError(tb, err)
		require.Equal(tb, int64(v), ver)
		pt.roots[ver] = root
		pt.vers = append(pt.vers, ver)
	}
	return pt
}

// version returns the immutable tree of version v.
func (pt *proofTree) version(tb testing.TB, v int64) *iavl.ImmutableTree {
	tb.Helper()
	it, err := pt.tree.GetImmutable(v)
	require.NoError(tb, err)
	return it
}

// prove returns the value of key at version v and its encoded proof.
func (pt *proofTree) prove(tb testing.TB, v int64, key []byte) (value, proof []byte) {
	tb.Helper()
	it := pt.version(tb, v)
	value, err := it.Get(key)
	require.NoError(tb, err)
	cp, err := it.GetProof(key)
	require.NoError(tb, err)
	return value, mustMarshal(tb, cp)
}

// credential is a /credential answer with its two proofs and app hash.
type credential struct {
	hash        []byte
	ans         *types.CredentialAnswer
	anchorProof []byte
	statusProof []byte
	appHash     []byte
}

// answer returns what an honest full node would answer for hash at v.
func (pt *proofTree) answer(tb testing.TB, v int64, hash []byte) credential {
	tb.Helper()
	a, ap := pt.prove(tb, v, types.AnchorKey(hash))
	s, sp := pt.prove(tb, v, types.StatusKey(hash))
	return credential{
		hash: hash, ans: &types.CredentialAnswer{Hash: hash, Anchor: a, Status: s},
		anchorProof: ap, statusProof: sp, appHash: pt.roots[v],
	}
}

func (c credential) verify() (*types.CredentialResult, error) {
	return types.VerifyCredential(c.hash, c.ans, c.anchorProof, c.statusProof, c.appHash)
}

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
	}{
		{"anchored", hashValid, 3, types.VerdictValid, "issuer0", "", true},
		{"revoked", hashRevoked, 3, types.VerdictRevoked, "issuer0", "fraud", true},
		{"revoked before revocation", hashRevoked, 1, types.VerdictValid, "issuer0", "", true},
		{"suspended", hashSuspended, 2, types.VerdictSuspended, "issuer0", "audit", true},
		{"reinstated", hashReinstated, 3, types.VerdictValid, "issuer0", "cleared", true},
		{"reinstated while suspended", hashReinstated, 2, types.VerdictSuspended, "issuer0", "audit", true},
		{"revoked without anchor", hashOffLedger, 3, types.VerdictRevoked, "issuer1", "off-ledger", false},
		{"revoked without anchor before", hashOffLedger, 1, types.VerdictNotAnchored, "", "", false},
		{"anchored late", hashLate, 3, types.VerdictValid, "issuer1", "", true},
		{"anchored late before", hashLate, 2, types.VerdictNotAnchored, "", "", false},
		{"unknown", hashUnknown, 3, types.VerdictNotAnchored, "", "", false},
		{"all-zero hash", make([]byte, 32), 3, types.VerdictNotAnchored, "", "", false},
		{"all-ones hash", bytes.Repeat([]byte{0xff}, 32), 3, types.VerdictNotAnchored, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := pt.answer(t, tc.version, tc.hash).verify()
			require.NoError(t, err)
			require.Equal(t, tc.verdict, res.Verdict)
			require.Equal(t, tc.hash, res.Hash)
			require.Equal(t, tc.issuer, res.Issuer())
			require.Equal(t, tc.anchored, res.Anchor != nil)
			if tc.reason != "" {
				require.NotNil(t, res.Status)
				require.Equal(t, tc.reason, res.Status.Reason)
			}
		})
	}
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
		{"unknown status", hashBadStatus},
		{"anchor not a record", hashBadAnchor},
		{"status not a record", hashBadStatusPB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := pt.answer(t, 3, tc.hash).verify()
			require.ErrorIs(t, err, types.ErrMalformedAnswer)
			require.NotErrorIs(t, err, types.ErrProofInvalid)
			require.Nil(t, res)
		})
	}
}

func TestVerifyCredentialRejects(t *testing.T) {
	pt := newProofTree(t)
	otherStatus := pt.answer(t, 3, hashSuspended).ans.Status
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
		{"hidden revocation", hashRevoked, func(c *credential) { c.ans.Status = nil }, types.ErrProofInvalid, false},
		{"hidden anchor", hashValid, func(c *credential) { c.ans.Anchor = nil }, types.ErrProofInvalid, false},
		{"invented anchor", hashUnknown, func(c *credential) { c.ans.Anchor = anchorValue(t, "issuer0", 1) }, types.ErrProofInvalid, false},
		{"invented revocation", hashValid, func(c *credential) {
			c.ans.Status = statusValue(t, types.CredentialStatus_CREDENTIAL_STATUS_REVOKED, "issuer0", 3, "x")
		}, types.ErrProofInvalid, false},
		{"status of another hash", hashRevoked, func(c *credential) { c.ans.Status = otherStatus }, types.ErrProofInvalid, false},
		{"anchor issuer changed", hashValid, func(c *credential) { c.ans.Anchor = anchorValue(t, "issuer1", 1) }, types.ErrProofInvalid, false},
		{"proofs swapped", hashRevoked, func(c *credential) { c.anchorProof, c.statusProof = c.statusProof, c.anchorProof }, types.ErrProofInvalid, false},
		{"proofs swapped, anchored only", hashValid, func(c *credential) { c.anchorProof, c.statusProof = c.statusProof, c.anchorProof }, types.ErrProofInvalid, false},
		{"anchor proof of another hash", hashValid, func(c *credential) { c.anchorProof = pt.answer(t, 3, hashLate).anchorProof }, types.ErrProofInvalid, false},
		{"status proof of another hash", hashUnknown, func(c *credential) { c.statusProof = pt.answer(t, 3, hashRevoked).statusProof }, types.ErrProofInvalid, false},
		{"proofs of an older version", hashValid, func(c *credential) {
			old := pt.answer(t, 1, hashValid)
			c.anchorProof, c.statusProof = old.anchorProof, old.statusProof
		}, types.ErrProofInvalid, true},
		{"app hash of an older version", hashValid, func(c *credential) { c.appHash = pt.roots[2] }, types.ErrProofInvalid, true},
		{"app hash flipped", hashValid, func(c *credential) { c.appHash = flip(c.appHash, 0) }, types.ErrProofInvalid, true},
		{"app hash empty", hashValid, func(c *credential) { c.appHash = nil }, types.ErrProofInvalid, true},
		{"anchor proof empty", hashValid, func(c *credential) { c.anchorProof = nil }, types.ErrProofInvalid, false},
		{"status proof empty", hashValid, func(c *credential) { c.statusProof = nil }, types.ErrProofInvalid, false},
		{"anchor proof garbage", hashValid, func(c *credential) { c.anchorProof = []byte("not a proof") }, types.ErrProofInvalid, false},
		{"status proof truncated", hashRevoked, func(c *credential) { c.statusProof = c.statusProof[:len(c.statusProof)/2] }, types.ErrProofInvalid, false},
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
		{"member", types.AnchorKey(hashValid), nil, func(g []byte) []byte { return g }, false},
		{"non-member", types.AnchorKey(hashUnknown), nil, func(g []byte) []byte { return g }, false},
		{"non-member below every key", []byte{0x00, 0x00}, nil, func(g []byte) []byte { return g }, false},
		{"non-member above every key", []byte{0xff}, nil, func(g []byte) []byte { return g }, false},
		{"member with another value", types.AnchorKey(hashValid), nil, func(g []byte) []byte { return append(bytes.Clone(g), 0) }, true},
		{"member claimed absent", types.AnchorKey(hashValid), nil, func([]byte) []byte { return nil }, true},
		{"non-member claimed present", types.AnchorKey(hashUnknown), nil, func([]byte) []byte { return []byte("x") }, true},
		{"member proof for another key", types.AnchorKey(hashValid), types.AnchorKey(hashRevoked), func(g []byte) []byte { return g }, true},
		{"non-member proof for a present key", types.AnchorKey(hashUnknown), types.AnchorKey(hashValid), func([]byte) []byte { return nil }, true},
		{"member proof as non-member proof for the same key", types.StatusKey(hashRevoked), nil, func([]byte) []byte { return nil }, true},
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
	key := types.AnchorKey(hashValid)
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
	key := types.AnchorKey(hashValid)
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
		{"", 1},
		{"VALID", 1},
		{"unknown", 1},
	} {
		t.Run(string(tc.verdict), func(t *testing.T) {
			require.Equal(t, tc.want, tc.verdict.ExitCode())
		})
	}
}

func TestCredentialResultIssuer(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  types.CredentialResult
		want string
	}{
		{"none", types.CredentialResult{}, ""},
		{"anchor only", types.CredentialResult{Anchor: &types.AnchorRecord{IssuerId: "a"}}, "a"},
		{"status only", types.CredentialResult{Status: &types.StatusEntry{IssuerId: "s"}}, "s"},
		{"anchor wins", types.CredentialResult{Anchor: &types.AnchorRecord{IssuerId: "a"}, Status: &types.StatusEntry{IssuerId: "s"}}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.res.Issuer())
		})
	}
}
