package types_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// credHash returns a deterministic credential hash for n.
func credHash(n int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "verify-test-credential-%d", n))
	return h[:]
}

// Credential hashes of the proof tree, by what happens to them. Unless
// said otherwise, the record is issuer0's alone.
var (
	hashValid        = credHash(0)  // anchored at v1
	hashRevoked      = credHash(1)  // anchored at v1, revoked at v2
	hashSuspended    = credHash(2)  // anchored at v1, suspended at v2
	hashReinstated   = credHash(3)  // anchored at v1, suspended at v2, reinstated at v3
	hashOffLedger    = credHash(4)  // issuer1 revoked it at v2 without an anchor
	hashLate         = credHash(5)  // issuer1 anchored it at v3
	hashUnknown      = credHash(6)  // never written
	hashBadSuspend   = credHash(7)  // corrupt state (v3): suspended without an anchor
	hashBadStatus    = credHash(8)  // corrupt state (v3): anchored, status entry with an unknown status
	hashBadRecord    = credHash(9)  // corrupt state (v3): the value is not a CredentialRecord
	hashBadIssuer    = credHash(10) // corrupt state (v3): issuer0's entry holds issuer1's anchor
	hashShared       = credHash(11) // issuer0 anchored it at v1; issuer1 revoked it (off-ledger) at v2
	hashBadOrder     = credHash(12) // corrupt state (v3): entries of issuer1 and issuer0, in that order
	hashBadReinstate = credHash(13) // corrupt state (v3): reinstated without an anchor
	hashNoEntries    = credHash(14) // corrupt state (v3): a record that decodes to no entries
	hashUnknown2     = credHash(15) // never written
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

func anchorRec(issuer string, height int64) *types.AnchorRecord {
	return &types.AnchorRecord{IssuerId: issuer, Height: height, TimeUnixNano: 1_700_000_000_000_000_000 + height}
}

func statusRec(s types.CredentialStatus, issuer string, height int64, reason string) *types.StatusEntry {
	return &types.StatusEntry{Status: s, IssuerId: issuer, Height: height, TimeUnixNano: 1_700_000_000_000_000_000 + height, Reason: reason}
}

const (
	revoked    = types.CredentialStatus_CREDENTIAL_STATUS_REVOKED
	suspended  = types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED
	reinstated = types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED
)

// anchored is issuer's entry for a hash it anchored at height.
func anchored(issuer string, height int64) *types.CredentialEntry {
	return &types.CredentialEntry{IssuerId: issuer, Anchor: anchorRec(issuer, height)}
}

// withStatus returns a copy of e whose latest status is s, the previous
// one moved to the history.
func withStatus(e *types.CredentialEntry, s *types.StatusEntry) *types.CredentialEntry {
	c := *e
	if c.Status != nil {
		c.History = append(append([]*types.StatusEntry(nil), c.History...), c.Status)
	}
	c.Status = s
	return &c
}

// offLedger is issuer's entry for a hash it revoked without anchoring it.
func offLedger(issuer string, height int64, reason string) *types.CredentialEntry {
	return &types.CredentialEntry{IssuerId: issuer, Status: statusRec(revoked, issuer, height, reason)}
}

// recordValue encodes a CredentialRecord of entries, as given (unchecked).
func recordValue(tb testing.TB, entries ...*types.CredentialEntry) []byte {
	tb.Helper()
	return mustMarshal(tb, &types.CredentialRecord{Entries: entries})
}

func issuerValue(tb testing.TB, id string) []byte {
	tb.Helper()
	return mustMarshal(tb, issuerRecord(id))
}

// issuerRecord is the record of issuer id, with the identifiers
// did:web:<id>.test and https://<id>.test.
func issuerRecord(id string) *types.Issuer {
	return &types.Issuer{
		Id: id, Name: "Issuer " + id, SigningPubkey: bytes.Repeat([]byte{1}, 32), ValidatorPubkey: bytes.Repeat([]byte{2}, 32),
		Power: 10, Status: types.IssuerStatus_ISSUER_STATUS_ACTIVE, Identifiers: []string{"did:web:" + id + ".test", "https://" + id + ".test"},
	}
}

// newProofTree builds the tree. Filler records make the proofs realistic
// (several inner nodes) without slowing the fuzz targets down.
func newProofTree(tb testing.TB) *proofTree {
	tb.Helper()
	pt := &proofTree{tree: iavl.NewMutableTree(idb.NewMemDB(), 1000, true, iavl.NewNopLogger()), roots: map[int64][]byte{}}
	params := types.DefaultParams()
	rec := func(entries ...*types.CredentialEntry) []byte { return recordValue(tb, entries...) }
	cred := types.CredentialKey
	a0 := anchored("issuer0", 1)
	blocks := [][][2][]byte{
		1: {
			{types.ChainIDKey(), []byte("credledger-test")},
			{types.ParamsKey(), mustMarshal(tb, &params)},
			{types.IssuerKey("issuer0"), issuerValue(tb, "issuer0")},
			{types.IssuerKey("issuer1"), issuerValue(tb, "issuer1")},
			{types.SequenceKey("issuer0"), types.EncodeSequence(1)},
			{cred(hashValid), rec(a0)},
			{cred(hashRevoked), rec(a0)},
			{cred(hashSuspended), rec(a0)},
			{cred(hashReinstated), rec(a0)},
			{cred(hashShared), rec(a0)},
		},
		2: {
			{cred(hashRevoked), rec(withStatus(a0, statusRec(revoked, "issuer0", 2, "fraud")))},
			{cred(hashSuspended), rec(withStatus(a0, statusRec(suspended, "issuer0", 2, "audit")))},
			{cred(hashReinstated), rec(withStatus(a0, statusRec(suspended, "issuer0", 2, "audit")))},
			{cred(hashOffLedger), rec(offLedger("issuer1", 2, "off-ledger"))},
			{cred(hashShared), rec(a0, offLedger("issuer1", 2, "off-ledger"))},
			{types.SequenceKey("issuer0"), types.EncodeSequence(2)},
			{types.SequenceKey("issuer1"), types.EncodeSequence(1)},
		},
		3: {
			{cred(hashReinstated), rec(withStatus(withStatus(a0, statusRec(suspended, "issuer0", 2, "audit")), statusRec(reinstated, "issuer0", 3, "cleared")))},
			{cred(hashLate), rec(anchored("issuer1", 3))},
			{cred(hashBadSuspend), rec(&types.CredentialEntry{IssuerId: "issuer0", Status: statusRec(suspended, "issuer0", 3, "")})},
			{cred(hashBadReinstate), rec(&types.CredentialEntry{IssuerId: "issuer0", Status: statusRec(reinstated, "issuer0", 3, "")})},
			{cred(hashBadStatus), rec(withStatus(anchored("issuer0", 3), statusRec(types.CredentialStatus(7), "issuer0", 3, "")))},
			{cred(hashBadRecord), []byte{0xff, 0xff, 0xff}},
			{cred(hashBadIssuer), rec(&types.CredentialEntry{IssuerId: "issuer0", Anchor: anchorRec("issuer1", 3)})},
			{cred(hashBadOrder), rec(anchored("issuer1", 3), anchored("issuer0", 3))},
			{cred(hashNoEntries), varintField(2, 1)}, // an unknown field only
		},
	}
	for v := 1; v < len(blocks); v++ {
		for _, kv := range blocks[v] {
			_, err := pt.tree.Set(kv[0], kv[1])
			require.NoError(tb, err)
		}
		for i := 0; i < 16; i++ { // filler: valid and revoked records, some shared
			h := credHash(1000*v + i)
			entries := []*types.CredentialEntry{anchored("issuer0", int64(v))}
			if i%4 == 0 {
				entries[0] = withStatus(entries[0], statusRec(revoked, "issuer0", int64(v), "filler"))
			}
			if i%5 == 0 {
				entries = append(entries, anchored("issuer1", int64(v)))
			}
			_, err := pt.tree.Set(cred(h), rec(entries...))
			require.NoError(tb, err)
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

// credential is a /credential answer with its proof and app hash.
type credential struct {
	hash    []byte
	ans     *types.CredentialAnswer
	proof   []byte
	appHash []byte
}

// answer returns what an honest full node would answer for hash at v.
func (pt *proofTree) answer(tb testing.TB, v int64, hash []byte) credential {
	tb.Helper()
	rec, proof := pt.prove(tb, v, types.CredentialKey(hash))
	return credential{hash: hash, ans: &types.CredentialAnswer{Hash: hash, Record: rec}, proof: proof, appHash: pt.roots[v]}
}

func (c credential) verify() (*types.CredentialResult, error) {
	return types.VerifyCredential(c.hash, c.ans, c.proof, c.appHash)
}

// verifiedResult stores a record of entries (none: no record) for a hash in
// a tree of its own and returns what VerifyCredential makes of the honest
// answer, so tests get results exactly as verifiers do.
func verifiedResult(tb testing.TB, entries ...*types.CredentialEntry) *types.CredentialResult {
	tb.Helper()
	hash := credHash(500)
	tree := iavl.NewMutableTree(idb.NewMemDB(), 100, true, iavl.NewNopLogger())
	_, err := tree.Set(types.ChainIDKey(), []byte("credledger-test"))
	require.NoError(tb, err)
	if len(entries) > 0 {
		_, err = tree.Set(types.CredentialKey(hash), recordValue(tb, entries...))
		require.NoError(tb, err)
	}
	root, v, err := tree.SaveVersion()
	require.NoError(tb, err)
	it, err := tree.GetImmutable(v)
	require.NoError(tb, err)
	rec, err := it.Get(types.CredentialKey(hash))
	require.NoError(tb, err)
	cp, err := it.GetProof(types.CredentialKey(hash))
	require.NoError(tb, err)
	res, err := types.VerifyCredential(hash, &types.CredentialAnswer{Hash: hash, Record: rec}, mustMarshal(tb, cp), root)
	require.NoError(tb, err)
	return res
}
