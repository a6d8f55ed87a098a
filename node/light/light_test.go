package light

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/light/provider"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// updateBundle rewrites node/bundle's golden bundle from the live network.
var updateBundle = flag.Bool("update-bundle", false, "rewrite ../bundle/testdata from a live two-node network (run TestLightProveAcrossValidatorChange)")

// The golden bundle and its genesis, kept in node/bundle's testdata.
const (
	goldenBundle  = "../bundle/testdata/revoked.json"
	goldenGenesis = "../bundle/testdata/genesis.json"
)

func genesisRoot(t *testing.T, ln *lightNet) bundle.TrustRoot {
	t.Helper()
	root, err := bundle.LoadGenesisTrustRoot(ln.genesis)
	require.NoError(t, err)
	return root
}

// newLight returns a light client closed at the end of the test.
func newLight(t *testing.T, primary string, witnesses []string, root bundle.TrustRoot, opts ...Option) *Client {
	t.Helper()
	lc, err := New(t.Context(), primary, witnesses, root, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, lc.Close()) })
	return lc
}

func TestLightVerifyVerdicts(t *testing.T) {
	ln := sharedLightNet(t)
	home := t.TempDir()
	lc := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithHome(home))
	for _, tc := range []struct {
		name         string
		hash         []byte
		verdict      types.Verdict
		issuer       string
		issuerStatus string
		since        int64
	}{
		{"valid, issuer since removed", ln.valid, types.VerdictValid, "issuer0", "removed", ln.rotation.removed},
		{"revoked", ln.revoked, types.VerdictRevoked, "issuer0", "removed", ln.rotation.removed},
		{"suspended", ln.suspended, types.VerdictSuspended, "issuer0", "removed", ln.rotation.removed},
		{"not anchored", ln.unknown, types.VerdictNotAnchored, "", "", 0},
		{"valid, issuer admitted by governance", ln.late, types.VerdictValid, "issuer1", "active", ln.rotation.admitted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := lc.Verify(t.Context(), tc.hash, 0)
			require.NoError(t, err)
			require.Equal(t, tc.verdict, rep.Verdict)
			require.Equal(t, tc.issuer, rep.Issuer())
			st, since := rep.IssuerStatus()
			require.Equal(t, tc.issuerStatus, st)
			require.Equal(t, tc.since, since)
			require.Equal(t, rep.HeaderHeight-1, rep.Height)
			require.Greater(t, rep.Height, ln.rotation.removed, "the answer is after the validator set changed")
			require.Equal(t, ln.chainID, rep.ChainID)
			require.False(t, rep.HeaderTime.IsZero())
		})
	}

	t.Run("warm restart uses the stored headers", func(t *testing.T) {
		require.NoError(t, lc.Close())
		_, err := os.Stat(filepath.Join(home, trustRecordFile))
		require.NoError(t, err)
		warm := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithHome(home))
		rep, err := warm.Verify(t.Context(), ln.valid, 0)
		require.NoError(t, err)
		require.Equal(t, types.VerdictValid, rep.Verdict)
		for _, lb := range warm.sess.rec.candidates() {
			require.NotEqual(t, int64(1), lb.Height, "a warm client must not fetch the root again")
		}
	})

	t.Run("a light home refuses another trust root", func(t *testing.T) {
		root := headerRoot(t, ln, 2)
		other, err := New(t.Context(), ln.urls[0], []string{ln.urls[1]}, root, WithHome(home))
		require.NoError(t, err)
		_, err = other.Verify(t.Context(), ln.valid, 0)
		require.ErrorIs(t, err, bundle.ErrTrustRoot)
		require.ErrorContains(t, err, "another --light-home")
		require.NoError(t, other.Close())
	})
}

// headerRoot returns the trust root "header h has the hash node 0 reports".
func headerRoot(t *testing.T, ln *lightNet, h int64) bundle.TrustRoot {
	t.Helper()
	res, err := ln.clients[0].RPC().Commit(t.Context(), &h)
	require.NoError(t, err)
	root, err := bundle.NewHeaderTrustRoot(h, hex.EncodeToString(res.Header.Hash()))
	require.NoError(t, err)
	return root
}

func TestLightVerifyAtHeight(t *testing.T) {
	ln := sharedLightNet(t)
	lc := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
	for _, tc := range []struct {
		name    string
		hash    []byte
		height  int64
		verdict types.Verdict
		issuer  string
	}{
		// a verdict about a past height is proven from the latest state:
		// the issuer's record is today's (issuer0 has left since)
		{"before the anchor", ln.valid, ln.validHeight - 1, types.VerdictNotAnchored, ""},
		{"at the anchor", ln.valid, ln.validHeight, types.VerdictValid, "removed"},
		{"after the issuer was removed", ln.valid, ln.rotation.removed, types.VerdictValid, "removed"},
		{"revoked, before the rotation", ln.revoked, ln.rotation.admitted - 1, types.VerdictRevoked, "removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			latest := ln.latestHeight(t)
			rep, err := lc.Verify(t.Context(), tc.hash, tc.height)
			require.NoError(t, err)
			require.Equal(t, tc.verdict, rep.Verdict)
			require.Equal(t, tc.height, rep.AsOfHeight)
			require.GreaterOrEqual(t, rep.Height, latest-1, "proven from the latest state")
			require.Equal(t, rep.Height+1, rep.HeaderHeight)
			require.False(t, rep.AsOfTime.IsZero())
			require.True(t, rep.AsOfTime.Before(rep.HeaderTime))
			st, _ := rep.IssuerStatus()
			require.Equal(t, tc.issuer, st)
		})
	}
	t.Run("at a time", func(t *testing.T) {
		// the time that commits state validHeight: the anchor is in it,
		// and not in the state before
		at, err := lc.Verify(t.Context(), ln.valid, ln.validHeight)
		require.NoError(t, err)
		h, err := lc.HeightAt(t.Context(), at.AsOfTime)
		require.NoError(t, err)
		require.Equal(t, ln.validHeight, h)
		h, err = lc.HeightAt(t.Context(), at.AsOfTime.Add(-time.Nanosecond))
		require.NoError(t, err)
		require.Equal(t, ln.validHeight-1, h)
		_, err = lc.HeightAt(t.Context(), at.AsOfTime.Add(-24*time.Hour))
		require.Equal(t, types.CodeHeightUnavailable, types.CodeOf(err), "before the chain: %v", err)
	})
	_, err := lc.Verify(t.Context(), ln.valid, ln.latestHeight(t)+1000)
	require.Error(t, err, "a height the chain has not reached")
}

func TestLightTrustRoots(t *testing.T) {
	ln := sharedLightNet(t)
	good := headerRoot(t, ln, 3)
	bad := good
	bad.Hash = append([]byte(nil), good.Hash...)
	bad.Hash[0] ^= 1
	for _, tc := range []struct {
		name      string
		root      bundle.TrustRoot
		witnesses []string
		wantErr   error
	}{
		{"trusted header", good, []string{ln.urls[1]}, nil},
		{"witness may repeat the primary", good, []string{ln.urls[0]}, nil},
		{"wrong trusted hash", bad, []string{ln.urls[1]}, bundle.ErrTrustRoot},
		{"no witness", good, nil, ErrNoWitness},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := New(t.Context(), ln.urls[0], tc.witnesses, tc.root, WithInMemoryStore())
			if err == nil {
				t.Cleanup(func() { _ = lc.Close() })
				_, err = lc.Verify(t.Context(), ln.late, 0)
			}
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}

	t.Run("genesis of another chain", func(t *testing.T) {
		root := genesisRoot(t, ln)
		doc := *root.Genesis
		doc.ChainID = "other-chain"
		_, err := New(t.Context(), ln.urls[0], []string{ln.urls[1]}, bundle.TrustRoot{Genesis: &doc}, WithInMemoryStore())
		require.ErrorIs(t, err, bundle.ErrTrustRoot)
	})
}

// mutateFn rewrites a JSON-RPC result (nil: leave it).
type mutateFn = func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage

// onQuery rewrites the abci_query answers for path.
func onQuery(path string, fn func(*coretypes.ResultABCIQuery) bool) mutateFn {
	return func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
		if method != "abci_query" || paramString(params, "path") != path {
			return nil
		}
		return rewrite(result, fn)
	}
}

// onCommit rewrites the signed headers of heights above 1 (the genesis
// root's block stays intact, so the attack is on later headers).
func onCommit(fn func(*coretypes.ResultCommit)) mutateFn {
	return func(method string, _ map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
		if method != "commit" {
			return nil
		}
		return rewrite(result, func(c *coretypes.ResultCommit) bool {
			if c.Header == nil || c.Header.Height < 2 {
				return false
			}
			fn(c)
			return true
		})
	}
}

// onValidators rewrites the validator sets of heights above 1.
func onValidators(fn func(*coretypes.ResultValidators)) mutateFn {
	return func(method string, _ map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
		if method != "validators" {
			return nil
		}
		return rewrite(result, func(v *coretypes.ResultValidators) bool {
			if v.BlockHeight < 2 {
				return false
			}
			fn(v)
			return true
		})
	}
}

// onRecord rewrites the credential record in the /credential answer.
func onRecord(fn func(*types.CredentialRecord)) mutateFn {
	return onAnswer(func(a *types.CredentialAnswer) {
		var rec types.CredentialRecord
		if err := rec.Unmarshal(a.Record); err != nil {
			panic(err)
		}
		fn(&rec)
		a.Record, _ = rec.Marshal()
	})
}

// onAnswer rewrites the decoded /credential answer.
func onAnswer(fn func(*types.CredentialAnswer)) mutateFn {
	return onQuery(query.PathCredential, func(r *coretypes.ResultABCIQuery) bool {
		var ans types.CredentialAnswer
		if err := ans.Unmarshal(r.Response.Value); err != nil {
			panic(err)
		}
		fn(&ans)
		bz, err := ans.Marshal()
		if err != nil {
			panic(err)
		}
		r.Response.Value = bz
		return true
	})
}

func flipProofOp(i int) func(*coretypes.ResultABCIQuery) bool {
	return func(r *coretypes.ResultABCIQuery) bool {
		data := r.Response.ProofOps.Ops[i].Data
		data[len(data)/2] ^= 1
		return true
	}
}

// forgeAppHash changes the header's app hash; with rehash it also points
// the commit at the new header hash, so only the signatures give it away.
func forgeAppHash(rehash bool) func(*coretypes.ResultCommit) {
	return func(c *coretypes.ResultCommit) {
		c.Header.AppHash = append([]byte(nil), c.Header.AppHash...)
		c.Header.AppHash[0] ^= 1
		if rehash {
			c.Commit.BlockID.Hash = c.Header.Hash()
		}
	}
}

func TestLightDetectsLyingPrimary(t *testing.T) {
	ln := sharedLightNet(t)
	for _, tc := range []struct {
		name    string
		hash    []byte
		mutate  mutateFn
		wantErr error
		msg     string // the error names what failed
	}{
		{name: "honest proxy", hash: ln.revoked},
		{"tampered credential proof", ln.revoked, onQuery(query.PathCredential, flipProofOp(0)), types.ErrProofInvalid, "credential record"},
		{"tampered anchor record", ln.valid, onRecord(func(rec *types.CredentialRecord) {
			rec.Entries[0].Anchor.Height++
		}), types.ErrProofInvalid, "credential record"},
		{"anchor credited to another issuer", ln.valid, onRecord(func(rec *types.CredentialRecord) {
			rec.Entries[0].IssuerId, rec.Entries[0].Anchor.IssuerId = "issuer1", "issuer1"
		}), types.ErrProofInvalid, "credential record"},
		{"hidden revocation", ln.revoked, onRecord(func(rec *types.CredentialRecord) {
			rec.Entries[0].Status, rec.Entries[0].History = nil, nil
		}), types.ErrProofInvalid, "credential record"},
		{"made-up anchor", ln.unknown, onAnswer(func(a *types.CredentialAnswer) {
			rec := &types.CredentialRecord{Entries: []*types.CredentialEntry{{IssuerId: "issuer1", Anchor: &types.AnchorRecord{IssuerId: "issuer1", Height: 3}}}}
			a.Record, _ = rec.Marshal()
		}), types.ErrProofInvalid, "credential record"},
		{"answer about another credential", ln.unknown, func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
			if method != "abci_query" || paramString(params, "path") != query.PathCredential {
				return nil
			}
			return rewrite(result, func(r *coretypes.ResultABCIQuery) bool {
				other, err := ln.clients[0].RPC().ABCIQueryWithOptions(context.Background(), query.PathCredential, ln.valid,
					rpcclient.ABCIQueryOptions{Height: r.Response.Height, Prove: true})
				if err != nil {
					panic(err)
				}
				// keep the proof ops' keys of the hash asked about
				for i := range other.Response.ProofOps.Ops {
					other.Response.ProofOps.Ops[i].Key = r.Response.ProofOps.Ops[i].Key
				}
				r.Response = other.Response
				return true
			})
		}, types.ErrMalformedAnswer, "another hash"},
		{"tampered issuer record", ln.valid, onQuery(query.PathIssuer, func(r *coretypes.ResultABCIQuery) bool {
			var is types.Issuer
			if err := is.Unmarshal(r.Response.Value); err != nil {
				panic(err)
			}
			is.Status, is.LeftHeight = types.IssuerStatus_ISSUER_STATUS_ACTIVE, 0
			r.Response.Value, _ = is.Marshal()
			return true
		}), types.ErrProofInvalid, `issuer "issuer0"`},
		{"header from another chain", ln.valid, onCommit(func(c *coretypes.ResultCommit) { c.Header.ChainID = "other-chain" }), ErrInvalidLightBlock, "another chain"},
		{"app hash changed in the header", ln.valid, onCommit(forgeAppHash(false)), ErrInvalidLightBlock, "commit signs block"},
		{"forged header with a matching block id", ln.valid, onCommit(forgeAppHash(true)), bundle.ErrHeaderNotVerified, "signature"},
		{"forged commit signatures", ln.valid, onCommit(func(c *coretypes.ResultCommit) {
			for i := range c.Commit.Signatures {
				if sig := c.Commit.Signatures[i].Signature; len(sig) > 0 {
					sig[0] ^= 1
				}
			}
		}), bundle.ErrHeaderNotVerified, "signature"},
		{"validator set changed", ln.valid, onValidators(func(v *coretypes.ResultValidators) { v.Validators[0].VotingPower++ }), ErrInvalidLightBlock, "validator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newRPCProxy(t, ln.urls[0], tc.mutate)
			lc := newLight(t, proxy.URL(), []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore(), WithHeaderWait(2*time.Second))
			rep, err := lc.Verify(t.Context(), tc.hash, 0)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.NotNil(t, rep)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.msg)
			require.False(t, errors.Is(err, ErrDivergence), "a lying primary with an honest witness is not reported as a fork: %v", err)
			t.Log(err)
		})
	}
}

func TestLightDetectsDivergentWitness(t *testing.T) {
	ln := sharedLightNet(t)
	for _, tc := range []struct {
		name   string
		mutate mutateFn
	}{
		{"witness changes the app hash", onCommit(forgeAppHash(false))},
		{"witness serves a conflicting header", onCommit(forgeAppHash(true))},
		{"witness serves another chain", onCommit(func(c *coretypes.ResultCommit) { c.Header.ChainID = "other-chain" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			witness := newRPCProxy(t, ln.urls[1], tc.mutate)
			lc := newLight(t, ln.urls[0], []string{witness.URL()}, genesisRoot(t, ln), WithInMemoryStore())
			_, err := lc.Verify(t.Context(), ln.valid, 0)
			require.ErrorIs(t, err, ErrDivergence)
			require.ErrorContains(t, err, witness.URL())
			t.Log(err)
		})
	}

	t.Run("the verdict is not retried with another witness", func(t *testing.T) {
		witness := newRPCProxy(t, ln.urls[1], onCommit(forgeAppHash(true)))
		lc := newLight(t, ln.urls[0], []string{witness.URL(), ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
		_, err := lc.Verify(t.Context(), ln.valid, 0)
		require.ErrorIs(t, err, ErrDivergence)
		_, err = lc.Verify(t.Context(), ln.valid, 0)
		require.ErrorIs(t, err, ErrDivergence, "a client that saw a divergence stays failed")
	})
}

func TestLightProveAcrossValidatorChange(t *testing.T) {
	ln := sharedLightNet(t)
	root := genesisRoot(t, ln)
	lc := newLight(t, ln.urls[0], []string{ln.urls[1]}, root, WithHome(t.TempDir()))
	for _, tc := range []struct {
		name    string
		hash    []byte
		verdict types.Verdict
	}{
		{"revoked", ln.revoked, types.VerdictRevoked},
		{"valid", ln.late, types.VerdictValid},
		{"not anchored", ln.unknown, types.VerdictNotAnchored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, rep, err := lc.Prove(t.Context(), tc.hash, 0)
			require.NoError(t, err)
			require.Equal(t, tc.verdict, rep.Verdict)
			// genesis {issuer0} -> {issuer0, issuer1} -> {issuer1}: the
			// target is signed by no genesis validator, so the path needs a
			// header of the intermediate set
			require.GreaterOrEqual(t, len(b.LightBlocks), 3)
			require.Equal(t, int64(1), b.LightBlocks[0].Height)
			intermediate := false
			for _, lb := range b.LightBlocks {
				intermediate = intermediate || lb.ValidatorSet.Size() == 2
			}
			require.True(t, intermediate, "the path holds a header of the intermediate set {issuer0, issuer1}")
			// the path passes through the headers that date the records,
			// and their times are the report's
			inPath := map[int64]time.Time{}
			for _, lb := range b.LightBlocks {
				inPath[lb.Height] = lb.Time
			}
			for _, h := range rep.CommitHeaders() {
				require.Contains(t, inPath, h, "header %d dates a record", h)
			}
			if rep.Anchor != nil {
				require.Equal(t, inPath[rep.Anchor.Height+1], rep.AnchorTime)
			}
			if rep.Status != nil {
				require.Equal(t, inPath[rep.Status.Height+1], rep.StatusTime)
			}

			bz, err := b.Encode()
			require.NoError(t, err)
			decoded, err := bundle.Decode(bz)
			require.NoError(t, err)
			for _, r := range []bundle.TrustRoot{root, headerRoot(t, ln, 1)} {
				got, err := bundle.Verify(decoded, r, time.Now(), bundle.DefaultTrustingPeriod)
				require.NoError(t, err)
				require.Equal(t, rep.Verdict, got.Verdict)
				require.Equal(t, rep.Height, got.Height)
				require.Equal(t, rep.HeaderTime, got.HeaderTime)
				require.Equal(t, rep.AnchorTime, got.AnchorTime)
				require.Equal(t, rep.StatusTime, got.StatusTime)
				require.Equal(t, rep.Issuer(), got.Issuer())
			}
			// the bundle's blocks match what the online verifier trusts
			online, err := lc.Verify(t.Context(), tc.hash, rep.Height)
			require.NoError(t, err)
			require.Equal(t, online.HeaderHash, rep.HeaderHash)
			require.Equal(t, online.Verdict, rep.Verdict)
		})
	}

	t.Run("at a height before the rotation", func(t *testing.T) {
		b, rep, err := lc.Prove(t.Context(), ln.revoked, ln.rotation.admitted-1)
		require.NoError(t, err)
		require.Equal(t, types.VerdictRevoked, rep.Verdict)
		require.Equal(t, ln.rotation.admitted-1, b.AsOfHeight)
		require.Greater(t, b.Height, b.AsOfHeight, "proven from the latest state")
		st, _ := rep.IssuerStatus()
		require.Equal(t, "removed", st, "the issuer record is today's")
		// offline, the bundle says the same
		again, err := bundle.Verify(b, genesisRoot(t, ln), time.Now(), bundle.DefaultTrustingPeriod)
		require.NoError(t, err)
		require.Equal(t, types.VerdictRevoked, again.Verdict)
		require.Equal(t, b.AsOfHeight, again.AsOfHeight)
		require.Equal(t, rep.AsOfTime, again.AsOfTime)
	})

	if *updateBundle {
		b, _, err := lc.Prove(t.Context(), ln.revoked, 0)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(goldenBundle), 0o755))
		require.NoError(t, b.Save(goldenBundle))
		gen, err := os.ReadFile(ln.genesis)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(goldenGenesis, gen, 0o644))
		t.Logf("wrote %s and %s", goldenBundle, goldenGenesis)
	}
}

func TestLightRejectsBadInput(t *testing.T) {
	ln := sharedLightNet(t)
	lc := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
	for _, tc := range []struct {
		name   string
		hash   []byte
		height int64
	}{
		{"short hash", []byte{1, 2, 3}, 0},
		{"negative height", ln.valid, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lc.Verify(t.Context(), tc.hash, tc.height)
			require.Error(t, err)
			require.False(t, strings.Contains(err.Error(), "not_anchored"))
		})
	}
}

// deadURL returns the address of a 127.0.0.1 port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// Every witness that does not answer gets a warning naming it, cold and
// warm, even when another witness answers; with none answering, the error
// names them and says what to do.
func TestLightWitnessWarnings(t *testing.T) {
	ln := sharedLightNet(t)
	dead := deadURL(t)
	home := t.TempDir()
	for _, run := range []string{"cold", "warm"} {
		t.Run(run, func(t *testing.T) {
			var warnings []string
			lc := newLight(t, ln.urls[0], []string{dead, ln.urls[1]}, genesisRoot(t, ln), WithHome(home),
				WithWarnFn(func(msg string) { warnings = append(warnings, msg) }))
			rep, err := lc.Verify(t.Context(), ln.valid, 0)
			require.NoError(t, err)
			require.Equal(t, types.VerdictValid, rep.Verdict)
			require.Len(t, warnings, 1, "%q", warnings)
			require.Contains(t, warnings[0], "witness "+dead+" does not answer")
		})
	}
	t.Run("none answers", func(t *testing.T) {
		other := deadURL(t)
		var warnings []string
		lc := newLight(t, ln.urls[0], []string{dead, other}, genesisRoot(t, ln), WithInMemoryStore(),
			WithWarnFn(func(msg string) { warnings = append(warnings, msg) }))
		_, err := lc.Verify(t.Context(), ln.valid, 0)
		require.ErrorIs(t, err, ErrNoWitness)
		require.ErrorContains(t, err, dead)
		require.ErrorContains(t, err, other)
		require.ErrorContains(t, err, "pass other --witness nodes")
		require.NotContains(t, err.Error(), "reset")
		require.Len(t, warnings, 2)
	})
}

// A genesis of another network with the same chain id is reported as a
// genesis that does not match the chain, before the light home (started
// from the right genesis) is looked at.
func TestLightWrongGenesisBeforeLightHome(t *testing.T) {
	ln := sharedLightNet(t)
	home := t.TempDir()
	lc := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithHome(home))
	_, err := lc.Verify(t.Context(), ln.valid, 0)
	require.NoError(t, err)
	require.NoError(t, lc.Close())

	other := t.TempDir()
	_, err = node.InitHome(node.InitOptions{Home: other, ChainID: ln.chainID, IssuerID: "stranger", BasePort: 1})
	require.NoError(t, err)
	root, err := bundle.LoadGenesisTrustRoot(filepath.Join(other, "config", "genesis.json"))
	require.NoError(t, err)
	lc2 := newLight(t, ln.urls[0], []string{ln.urls[1]}, root, WithHome(home))
	_, err = lc2.Verify(t.Context(), ln.valid, 0)
	require.ErrorIs(t, err, bundle.ErrTrustRoot)
	require.ErrorContains(t, err, "the genesis file does not match chain")
	require.NotContains(t, err.Error(), "light home")
}

// A primary that answers for an old state (hiding a revocation) while every
// proof it serves is true never gets a verdict through: the answer must be
// for the state the verifier asks, and a primary whose newest block is
// behind a witness's is refused by name.
func TestLightStalePrimary(t *testing.T) {
	ln := sharedLightNet(t)
	honest := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
	rep, err := honest.Verify(t.Context(), ln.revoked, 0)
	require.NoError(t, err)
	require.Equal(t, types.VerdictRevoked, rep.Verdict)
	stale := rep.Status.Height - 1 // the state before the revocation
	require.Greater(t, ln.latestHeight(t), stale+MaxPrimaryLag+1, "the chain is well past the revocation")
	staleParam := json.RawMessage(fmt.Sprintf("%q", fmt.Sprint(stale)))

	t.Run("answers latest-state queries with an old state", func(t *testing.T) {
		p := newRPCProxy(t, ln.urls[0], nil)
		p.request = func(method string, params map[string]json.RawMessage) {
			if method == "abci_query" {
				params["height"] = staleParam
			}
		}
		lc := newLight(t, p.URL(), []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
		rep, err := lc.Verify(t.Context(), ln.revoked, 0)
		require.Error(t, err, "verdict %v", rep)
		require.ErrorIs(t, err, types.ErrMalformedAnswer)
		require.ErrorContains(t, err, fmt.Sprintf("answered /credential for height %d", stale))
	})
	t.Run("also shows old status, commit and block", func(t *testing.T) {
		p := newRPCProxy(t, ln.urls[0], func(method string, _ map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
			if method != "status" {
				return nil
			}
			return rewrite(result, func(st *coretypes.ResultStatus) bool {
				st.SyncInfo.LatestBlockHeight = stale
				return true
			})
		})
		p.request = func(method string, params map[string]json.RawMessage) {
			switch method {
			case "abci_query", "commit", "block", "header", "validators":
				if h, ok := params["height"]; !ok || string(h) == "null" || string(h) == `"0"` {
					params["height"] = staleParam
				}
			}
		}
		lc := newLight(t, p.URL(), []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
		rep, err := lc.Verify(t.Context(), ln.revoked, 0)
		require.Error(t, err, "verdict %v", rep)
		require.ErrorIs(t, err, ErrStalePrimary)
		var se *StalePrimaryError
		require.ErrorAs(t, err, &se)
		require.Equal(t, p.URL(), se.Primary)
		require.Equal(t, stale, se.PrimaryHeight)
		require.Equal(t, ln.urls[1], se.Witness)
		require.Greater(t, se.WitnessHeight, stale+MaxPrimaryLag)
	})
	t.Run("an explicit past height is still answered", func(t *testing.T) {
		rep, err := honest.Verify(t.Context(), ln.revoked, stale)
		require.NoError(t, err)
		require.Equal(t, types.VerdictValid, rep.Verdict, "before the revocation")
	})
}

// A primary that keeps no blocks before some height (a member that joined
// by state sync, or prunes its block store) still gets verdicts about
// credentials anchored and revoked before it: the light client takes the
// headers it lacks from a witness, and every header is verified whoever
// serves it. If no node has them, the answer is an error, not a verdict.
func TestLightPrimaryWithoutOldBlocks(t *testing.T) {
	ln := sharedLightNet(t)
	honest := newLight(t, ln.urls[0], []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
	want, err := honest.Verify(t.Context(), ln.revoked, 0)
	require.NoError(t, err)
	require.Equal(t, types.VerdictRevoked, want.Verdict)
	base := want.Status.Height + 2 // after the anchor, the revocation and the headers that date them
	require.Greater(t, ln.latestHeight(t), base)
	keepsFrom := func(target string) *rpcProxy {
		p := newRPCProxy(t, target, nil)
		p.refuse = func(method string, params map[string]json.RawMessage) string {
			switch method {
			case "commit", "validators", "block", "header", "block_results":
				h, err := strconv.ParseInt(paramString(params, "height"), 10, 64)
				if err == nil && h > 0 && h < base {
					return fmt.Sprintf("height %d is not available, lowest height is %d", h, base)
				}
			}
			return ""
		}
		return p
	}

	// CometBFT's light client has a witness serve what the primary lacks
	// and another one confirm it: two witnesses keeping old blocks (here
	// node 1 directly and through a plain proxy)
	t.Run("witnesses have them", func(t *testing.T) {
		primary := keepsFrom(ln.urls[0])
		lc := newLight(t, primary.URL(), []string{ln.urls[1], newRPCProxy(t, ln.urls[1], nil).URL()}, genesisRoot(t, ln), WithInMemoryStore())
		rep, err := lc.Verify(t.Context(), ln.revoked, 0)
		require.NoError(t, err)
		require.Equal(t, types.VerdictRevoked, rep.Verdict)
		require.Equal(t, want.Anchor.Height, rep.Anchor.Height)
		require.Equal(t, want.Status.Height, rep.Status.Height)
		require.Equal(t, want.AnchorTime, rep.AnchorTime, "dated by a header the primary does not have")
		require.Equal(t, want.StatusTime, rep.StatusTime)
		require.Less(t, rep.Status.Height, base)

		// the time search reads old header times from the witness too
		at, err := lc.HeightAt(t.Context(), rep.AnchorTime)
		require.NoError(t, err)
		require.GreaterOrEqual(t, at, rep.Anchor.Height)
		require.Less(t, at, base)
	})
	t.Run("one witness has them, none to confirm", func(t *testing.T) {
		primary := keepsFrom(ln.urls[0])
		lc := newLight(t, primary.URL(), []string{ln.urls[1]}, genesisRoot(t, ln), WithInMemoryStore())
		rep, err := lc.Verify(t.Context(), ln.revoked, 0)
		require.Error(t, err, "verdict %v", rep)
		require.ErrorContains(t, err, "pass one more --witness")
	})
	t.Run("no node has them", func(t *testing.T) {
		primary, witness := keepsFrom(ln.urls[0]), keepsFrom(ln.urls[1])
		lc := newLight(t, primary.URL(), []string{witness.URL()}, genesisRoot(t, ln), WithInMemoryStore())
		rep, err := lc.Verify(t.Context(), ln.revoked, 0)
		require.Error(t, err, "verdict %v", rep)
		require.ErrorIs(t, err, provider.ErrLightBlockNotFound)
		require.ErrorContains(t, err, "neither primary")
	})
}
