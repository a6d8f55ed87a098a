package app

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// proofFixture is a chain whose credentials went through every status, with
// the app hash of each height as FinalizeBlock returned it.
type proofFixture struct {
	c        *testChain
	appHash  map[int64][]byte // app hash of the state at height h (in header h+1)
	latest   int64
	verdicts map[string][]types.Verdict // name -> verdict at heights 1..latest ("": several issuers, undecided)
	hashes   map[string][]byte
	issuer   map[string]string // name -> issuer the verdict names at latest ("" if none or undecided)
	// byIssuer is, for each name, the verdict about each issuer's own
	// record at latest (exactly the issuers with a record)
	byIssuer map[string]map[string]types.Verdict
}

// The credentials of the fixture, by name.
const (
	credValid      = "anchored"
	credRevoked    = "revoked"
	credSuspended  = "suspended"
	credReinstated = "reinstated"
	credOffLedger  = "revoked not anchored"
	credLate       = "anchored late"
	credUnknown    = "unknown"
	credShared     = "anchored by two issuers"
)

var proofCreds = []string{credValid, credRevoked, credSuspended, credReinstated, credOffLedger, credLate, credUnknown, credShared}

// newProofFixture builds 3 blocks (with 300 filler anchors, so that proofs
// have realistic depth):
//
//	height 1: issuer0 anchors valid, revoked, suspended, reinstated, shared
//	height 2: issuer0 revokes revoked, suspends suspended and reinstated;
//	          issuer1 revokes the unanchored off-ledger hash, anchors shared
//	height 3: issuer0 reinstates reinstated; issuer1 anchors late, revokes
//	          shared (its own record of it: issuer0's stays valid)
func newProofFixture(t *testing.T) *proofFixture {
	t.Helper()
	c := newTestChain(t, nil, 2)
	a, b := c.issuers[0], c.issuers[1]
	f := &proofFixture{c: c, appHash: map[int64][]byte{}, hashes: map[string][]byte{}}
	for i, name := range proofCreds {
		f.hashes[name] = testHash(9000 + i)
	}
	h := f.hashes
	V, R, S, NA := types.VerdictValid, types.VerdictRevoked, types.VerdictSuspended, types.VerdictNotAnchored
	f.verdicts = map[string][]types.Verdict{
		credValid:      {V, V, V},
		credRevoked:    {V, R, R},
		credSuspended:  {V, S, S},
		credReinstated: {V, S, V},
		credOffLedger:  {NA, R, R},
		credLate:       {NA, NA, V},
		credUnknown:    {NA, NA, NA},
		credShared:     {V, "", ""},
	}
	f.issuer = map[string]string{
		credValid: a.id, credRevoked: a.id, credSuspended: a.id, credReinstated: a.id,
		credOffLedger: b.id, credLate: b.id, credUnknown: "", credShared: "",
	}
	f.byIssuer = map[string]map[string]types.Verdict{
		credValid: {a.id: V}, credRevoked: {a.id: R}, credSuspended: {a.id: S}, credReinstated: {a.id: V},
		credOffLedger: {b.id: R}, credLate: {b.id: V}, credUnknown: {}, credShared: {a.id: V, b.id: R},
	}
	blocks := [][][]byte{
		{
			c.tx(a, anchorMsg(h[credValid], h[credRevoked], h[credSuspended], h[credReinstated], h[credShared])),
			c.tx(b, anchorMsg(testHashes(20_000, 300)...)),
		},
		{
			c.tx(a, revokeMsg("fraud", h[credRevoked])),
			c.tx(a, suspendMsg("audit", h[credSuspended], h[credReinstated])),
			c.tx(b, revokeMsg("issued off-ledger", h[credOffLedger])),
			c.tx(b, anchorMsg(h[credShared])),
		},
		{
			c.tx(a, reinstateMsg("cleared", h[credReinstated])),
			c.tx(b, anchorMsg(h[credLate])),
			c.tx(b, revokeMsg("withdrawn", h[credShared])),
		},
	}
	for _, txs := range blocks {
		res, hash := c.finalize(txs...)
		for i, r := range res {
			require.Zerof(t, r.Code, "height %d tx %d: %s", c.height, i, r.Log)
		}
		require.Equal(t, hash, c.app.Store().Hash(), "FinalizeBlock app hash must be the committed root")
		for prev, ph := range f.appHash {
			require.NotEqual(t, ph, hash, "heights %d and %d have the same app hash", prev, c.height)
		}
		f.appHash[c.height] = hash
	}
	f.latest = c.height
	info, err := c.app.Info(t.Context(), &abci.RequestInfo{})
	require.NoError(t, err)
	require.Equal(t, f.latest, info.LastBlockHeight)
	require.Equal(t, f.appHash[f.latest], info.LastBlockAppHash)
	return f
}

// credAnswer is a /credential answer as a light client receives it.
type credAnswer struct {
	hash   []byte
	ans    *types.CredentialAnswer
	proof  []byte // ICS23 proof for types.CredentialKey(hash)
	height int64  // state version; verify against the app hash of header height+1
}

// proveCredential queries hash at height (0: latest) and checks the shape
// of the response (testChain.credential).
func (f *proofFixture) proveCredential(t *testing.T, hash []byte, height int64) credAnswer {
	t.Helper()
	p := f.c.credential(hash, height)
	return credAnswer{hash: hash, ans: &p.Answer, proof: p.Proof, height: p.Height}
}

func (a credAnswer) verify(appHash []byte) (*types.CredentialResult, error) {
	return types.VerifyCredential(a.hash, a.ans, a.proof, appHash)
}

// clone returns a deep copy, so that tampering leaves a intact.
func (a credAnswer) clone() credAnswer {
	a.ans = &types.CredentialAnswer{Hash: bytes.Clone(a.ans.Hash), Record: bytes.Clone(a.ans.Record)}
	a.proof = bytes.Clone(a.proof)
	return a
}

func TestCredentialProofsLatest(t *testing.T) {
	f := newProofFixture(t)
	for _, name := range proofCreds {
		t.Run(name, func(t *testing.T) {
			a := f.proveCredential(t, f.hashes[name], 0)
			require.Equal(t, f.latest, a.height)
			// the store's committed hash is what header latest+1 carries
			res, err := a.verify(f.c.app.Store().Hash())
			require.NoError(t, err)
			want := f.verdicts[name][f.latest-1]
			require.Equal(t, want, res.Verdict)
			require.Equal(t, want == "", res.Undecided())
			require.Equal(t, f.issuer[name], res.Issuer())
			require.Equal(t, f.hashes[name], res.Hash)
			// existence and non-existence: what the answer carries is what
			// was proven (the record of a hash exists once any issuer wrote
			// one); the subject's anchor and status are shown only when
			// there is a subject
			require.Equal(t, name != credUnknown, len(a.ans.Record) > 0)
			anchored := name != credOffLedger && name != credUnknown && name != credShared
			require.Equal(t, anchored, res.Anchor != nil)
			hasStatus := name == credRevoked || name == credSuspended || name == credReinstated || name == credOffLedger
			require.Equal(t, hasStatus, res.Status != nil)
			// every issuer's own record, and the verdict about each
			byIssuer := f.byIssuer[name]
			require.Len(t, res.Issuers(), len(byIssuer))
			for id, v := range byIssuer {
				require.Truef(t, res.Choose(id), "issuer %s has no record", id)
				require.Equalf(t, v, res.Verdict, "verdict about issuer %s", id)
				require.Equal(t, id, res.Issuer())
			}
			require.False(t, res.Choose("issuer9"))
			// the testChain helper agrees
			require.Equal(t, want, f.c.verdict(f.hashes[name]).Verdict)
		})
	}
	rev := f.proveCredential(t, f.hashes[credRevoked], 0)
	res, err := rev.verify(f.appHash[f.latest])
	require.NoError(t, err)
	require.Equal(t, "fraud", res.Status.Reason)
	require.Equal(t, int64(2), res.Status.Height)
	require.Equal(t, int64(1), res.Anchor.Height)
	require.Equal(t, f.c.blockTime(2).UnixNano(), res.Status.TimeUnixNano)
}

func TestCredentialProofsAtHeight(t *testing.T) {
	f := newProofFixture(t)
	for h := int64(1); h <= f.latest; h++ {
		for _, name := range proofCreds {
			t.Run(fmt.Sprintf("height %d %s", h, name), func(t *testing.T) {
				a := f.proveCredential(t, f.hashes[name], h)
				require.Equal(t, h, a.height)
				res, err := a.verify(f.appHash[h])
				require.NoError(t, err)
				require.Equal(t, f.verdicts[name][h-1], res.Verdict)
				// a genuine proof checked against another height's app hash
				for other := int64(1); other <= f.latest; other++ {
					if other == h {
						continue
					}
					res, err := a.verify(f.appHash[other])
					require.Nil(t, res)
					var rm *types.RootMismatchError
					require.ErrorAs(t, err, &rm, "height %d proof against app hash of %d", h, other)
					require.Equal(t, f.appHash[other], rm.ExpectedRoot)
					require.Equal(t, f.appHash[h], rm.CalculatedRoot)
				}
			})
		}
	}
}

// flipMasks are the ways a byte is flipped: its lowest bit, its highest bit
// and all of it.
var flipMasks = []byte{0x01, 0x80, 0xff}

// TestCredentialProofTampering flips every byte of the proof and of the
// returned record, one at a time, and checks that no flip yields a verdict.
// (The one-record layout had two proofs and two values; the credential
// record and its proof now carry all of them.)
func TestCredentialProofTampering(t *testing.T) {
	f := newProofFixture(t)
	for _, name := range proofCreds {
		t.Run(name, func(t *testing.T) {
			genuine := f.proveCredential(t, f.hashes[name], 0)
			appHash := f.appHash[f.latest]
			want, err := genuine.verify(appHash)
			require.NoError(t, err)
			require.NotNil(t, want)
			parts := []struct {
				what string
				get  func(a *credAnswer) []byte
			}{
				{"proof", func(a *credAnswer) []byte { return a.proof }},
				{"record", func(a *credAnswer) []byte { return a.ans.Record }},
			}
			tried := 0
			for _, p := range parts {
				for i := range p.get(&genuine) {
					for _, m := range flipMasks {
						a := genuine.clone()
						p.get(&a)[i] ^= m
						res, err := a.verify(appHash)
						tried++
						require.Errorf(t, err, "%s byte %d ^ %#x gave verdict %v", p.what, i, m, res)
						require.Nil(t, res)
						if !errors.Is(err, types.ErrProofInvalid) && !errors.Is(err, types.ErrMalformedAnswer) {
							t.Fatalf("%s byte %d ^ %#x: error wraps neither sentinel: %v", p.what, i, m, err)
						}
					}
				}
			}
			require.Greater(t, tried, 500)
		})
	}
}

// TestCredentialProofSwapped checks that a genuine proof of another key
// does not verify. The one-record layout swapped the anchor and status
// proofs of one answer; with one proof per answer, each credential gets the
// proof of the next one's key (existence and non-existence proofs alike).
func TestCredentialProofSwapped(t *testing.T) {
	f := newProofFixture(t)
	for i, name := range proofCreds {
		t.Run(name, func(t *testing.T) {
			a := f.proveCredential(t, f.hashes[name], 0)
			a.proof = f.proveCredential(t, f.hashes[proofCreds[(i+1)%len(proofCreds)]], 0).proof
			res, err := a.verify(f.appHash[f.latest])
			require.ErrorIs(t, err, types.ErrProofInvalid)
			require.Nil(t, res)
		})
	}
}

func TestCredentialAnswerTampered(t *testing.T) {
	f := newProofFixture(t)
	other := f.proveCredential(t, f.hashes[credSuspended], 0)
	for _, tc := range []struct {
		name     string
		cred     string
		malleate func(a *credAnswer)
		wantErr  error
	}{
		{"answer about another hash", credValid, func(a *credAnswer) { a.ans.Hash = f.hashes[credRevoked] }, types.ErrMalformedAnswer},
		{"asked about another hash", credValid, func(a *credAnswer) { a.hash = f.hashes[credRevoked] }, types.ErrMalformedAnswer},
		{"answer without hash", credUnknown, func(a *credAnswer) { a.ans.Hash = nil }, types.ErrMalformedAnswer},
		{"revocation hidden", credRevoked, func(a *credAnswer) {
			a.ans.Record = mutateRecord(t, a.ans.Record, func(r *types.CredentialRecord) { r.Entries[0].Status = nil })
		}, types.ErrProofInvalid},
		{"revocation hidden with another record's proof", credRevoked, func(a *credAnswer) {
			valid := f.proveCredential(t, f.hashes[credValid], 0)
			a.ans.Record, a.proof = valid.ans.Record, valid.proof
		}, types.ErrProofInvalid},
		{"revocation replaced by a suspension", credRevoked, func(a *credAnswer) { a.ans.Record = other.ans.Record }, types.ErrProofInvalid},
		{"anchor hidden", credValid, func(a *credAnswer) {
			a.ans.Record = mutateRecord(t, a.ans.Record, func(r *types.CredentialRecord) { r.Entries[0].Anchor = nil })
		}, types.ErrProofInvalid},
		{"record hidden", credValid, func(a *credAnswer) { a.ans.Record = nil }, types.ErrProofInvalid},
		{"anchor invented", credUnknown, func(a *credAnswer) { a.ans.Record = other.ans.Record }, types.ErrProofInvalid},
		{"proof of another hash", credUnknown, func(a *credAnswer) { a.proof = other.proof }, types.ErrProofInvalid},
		{"old proof, new record", credReinstated, func(a *credAnswer) {
			a.proof = f.proveCredential(t, f.hashes[credReinstated], 2).proof
		}, types.ErrProofInvalid},
		{"another issuer's entry hidden", credShared, func(a *credAnswer) {
			a.ans.Record = mutateRecord(t, a.ans.Record, func(r *types.CredentialRecord) { r.Entries = r.Entries[:1] })
		}, types.ErrProofInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.proveCredential(t, f.hashes[tc.cred], 0)
			tc.malleate(&a)
			res, err := a.verify(f.appHash[f.latest])
			require.ErrorIs(t, err, tc.wantErr)
			require.Nil(t, res)
		})
	}
}

func TestIssuerProofs(t *testing.T) {
	f := newProofFixture(t)
	for _, tc := range []struct {
		name   string
		id     string
		height int64
		exists bool
	}{
		{"issuer0", "issuer0", 0, true},
		{"issuer1", "issuer1", 0, true},
		{"issuer1 at height 1", "issuer1", 1, true},
		{"unknown", "nobody", 0, false},
		{"unknown at height 2", "issuer2", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.c.query(query.PathIssuer, []byte(tc.id), tc.height)
			require.Zero(t, resp.Code, resp.Log)
			require.Len(t, resp.ProofOps.Ops, 1)
			op := resp.ProofOps.Ops[0]
			require.Equal(t, types.ProofOpType, op.Type)
			require.Equal(t, types.IssuerKey(tc.id), op.Key)
			h := resp.Height
			if tc.height != 0 {
				require.Equal(t, tc.height, h)
			}
			is, err := types.VerifyIssuer(tc.id, resp.Value, op.Data, f.appHash[h])
			require.NoError(t, err)
			if !tc.exists {
				require.Nil(t, is)
				require.Empty(t, resp.Value)
			} else {
				require.NotNil(t, is)
				require.Equal(t, tc.id, is.Id)
				require.Equal(t, types.IssuerStatus_ISSUER_STATUS_ACTIVE, is.Status)
				require.Len(t, is.SigningPubkey, 32)
				// the record cannot be changed, hidden or moved to another id
				_, err = types.VerifyIssuer(tc.id, flipByte(resp.Value, len(resp.Value)/2), op.Data, f.appHash[h])
				require.ErrorIs(t, err, types.ErrProofInvalid)
				_, err = types.VerifyIssuer(tc.id, nil, op.Data, f.appHash[h])
				require.ErrorIs(t, err, types.ErrProofInvalid)
				_, err = types.VerifyIssuer("issuer9", resp.Value, op.Data, f.appHash[h])
				require.ErrorIs(t, err, types.ErrProofInvalid)
			}
			for other, oh := range f.appHash {
				if other == h {
					continue
				}
				_, err := types.VerifyIssuer(tc.id, resp.Value, op.Data, oh)
				var rm *types.RootMismatchError
				// the issuer subtree may be unchanged, but the root is not
				require.ErrorAs(t, err, &rm)
			}
		})
	}
}

func flipByte(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

func TestQueryErrors(t *testing.T) {
	f := newProofFixture(t)
	hash := f.hashes[credValid]
	for _, tc := range []struct {
		name   string
		path   string
		data   []byte
		height int64
		want   types.Code
	}{
		{"unknown path", "/nope", hash, 0, types.CodeUnknownQuery},
		{"empty path", "", nil, 0, types.CodeUnknownQuery},
		{"path with trailing slash", query.PathCredential + "/", hash, 0, types.CodeUnknownQuery},
		{"path case", "/Credential", hash, 0, types.CodeUnknownQuery},
		{"credential without data", query.PathCredential, nil, 0, types.CodeBadQuery},
		{"credential 31 bytes", query.PathCredential, hash[:31], 0, types.CodeBadQuery},
		{"credential 33 bytes", query.PathCredential, append(bytes.Clone(hash), 0), 0, types.CodeBadQuery},
		{"credential as hex", query.PathCredential, fmt.Appendf(nil, "%x", hash), 0, types.CodeBadQuery},
		{"issuer empty id", query.PathIssuer, nil, 0, types.CodeBadQuery},
		{"issuer bad id", query.PathIssuer, []byte("bad id"), 0, types.CodeBadQuery},
		{"sequence bad id", query.PathSequence, []byte("a/b"), 0, types.CodeBadQuery},
		{"negative height", query.PathCredential, hash, -1, types.CodeBadQuery},
		{"credential above latest", query.PathCredential, hash, f.latest + 1, types.CodeHeightUnavailable},
		{"credential far above latest", query.PathCredential, hash, 1 << 40, types.CodeHeightUnavailable},
		{"issuer above latest", query.PathIssuer, []byte("issuer0"), f.latest + 1, types.CodeHeightUnavailable},
		{"issuers above latest", query.PathIssuers, nil, f.latest + 5, types.CodeHeightUnavailable},
		{"sequence above latest", query.PathSequence, []byte("issuer0"), f.latest + 1, types.CodeHeightUnavailable},
		{"params above latest", query.PathParams, nil, f.latest + 1, types.CodeHeightUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.c.app.Query(t.Context(), &abci.RequestQuery{Path: tc.path, Data: tc.data, Height: tc.height})
			require.NoError(t, err, "bad queries are codes, not errors")
			require.Equal(t, uint32(tc.want), resp.Code, resp.Log)
			require.Equal(t, types.Codespace, resp.Codespace)
			require.NotEmpty(t, resp.Log)
			require.Empty(t, resp.Value)
			require.Nil(t, resp.ProofOps)
		})
	}
}

// TestQueryBeforeFirstBlock checks that a chain with only genesis (no
// committed version) refuses proofs rather than proving the working tree.
func TestQueryBeforeFirstBlock(t *testing.T) {
	c := newTestChain(t, nil, 1)
	resp := c.query(query.PathCredential, testHash(1), 0)
	require.Equal(t, uint32(types.CodeHeightUnavailable), resp.Code, resp.Log)
	c.finalize()
	resp = c.query(query.PathCredential, testHash(1), 0)
	require.Zero(t, resp.Code, resp.Log)
	require.Equal(t, int64(1), resp.Height)
}
