package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// the golden bundle of node/bundle: sha256("revoked") is revoked by
// issuer0
const (
	goldenBundle  = "../../bundle/testdata/revoked.json"
	goldenGenesis = "../../bundle/testdata/genesis.json"
)

func golden(t *testing.T) (bundleJSON, genesisJSON []byte) {
	t.Helper()
	b, err := os.ReadFile(goldenBundle)
	require.NoError(t, err)
	g, err := os.ReadFile(goldenGenesis)
	require.NoError(t, err)
	return b, g
}

func revokedHash() string {
	h := sha256.Sum256([]byte("revoked"))
	return hex.EncodeToString(h[:])
}

func TestVerifyBundle(t *testing.T) {
	b, g := golden(t)
	for _, tc := range []struct {
		name     string
		target   Target
		malleate func(b, g []byte) ([]byte, []byte)
		verdict  string // "" with wantErr
		wantErr  string
	}{
		{name: "credential file", target: Target{Credential: []byte("revoked")}, verdict: "revoked"},
		{name: "hash", target: Target{Hash: revokedHash()}, verdict: "revoked"},
		{name: "the bundle's own hash", verdict: "revoked"},
		{name: "named member", target: Target{Hash: revokedHash(), Issuer: "issuer0"}, verdict: "revoked"},
		{name: "other issuer named", target: Target{Hash: revokedHash(), Issuer: "did:web:elsewhere.example"}, verdict: "issuer_mismatch"},
		{name: "another credential", target: Target{Credential: []byte("valid")}, wantErr: "the bundle is about credential " + revokedHash()},
		{name: "bad hash", target: Target{Hash: "nothex"}, wantErr: "hash: want 64 hex digits"},
		{name: "credential and hash", target: Target{Credential: []byte("revoked"), Hash: revokedHash()}, wantErr: "not both"},
		{name: "issuer against the credential's", target: Target{Credential: []byte(`{"issuer":"did:web:a.example"}`), Issuer: "issuer0"}, wantErr: `the credential names issuer "did:web:a.example"`},
		{name: "tampered bundle", malleate: func(b, g []byte) ([]byte, []byte) {
			return bytes.Replace(b, []byte(`"height": 11`), []byte(`"height": 10`), 1), g
		}, wantErr: "malformed"},
		{name: "tampered light block", malleate: func(b, g []byte) ([]byte, []byte) {
			return flipInLightBlock(t, b), g
		}, wantErr: "light block"},
		{name: "another chain's genesis", malleate: func(b, g []byte) ([]byte, []byte) {
			return b, bytes.Replace(g, []byte(`"chain_id": "`), []byte(`"chain_id": "x`), 1)
		}, wantErr: "trust root"},
		{name: "not a bundle", malleate: func(_, g []byte) ([]byte, []byte) { return []byte("<html>"), g }, wantErr: "malformed proof bundle"},
		{name: "not a genesis", malleate: func(b, _ []byte) ([]byte, []byte) { return b, []byte("{}") }, wantErr: "genesis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb, gg := bytes.Clone(b), bytes.Clone(g)
			if tc.malleate != nil {
				bb, gg = tc.malleate(bb, gg)
			}
			out, err := verifyBundle(bb, gg, tc.target, time.Now())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var j VerdictJSON
			require.NoError(t, json.Unmarshal(out, &j))
			require.Equal(t, tc.verdict, j.Verdict)
			require.Equal(t, revokedHash(), j.Hash)
			require.Equal(t, []string{"issuer0"}, j.Issuers)
			require.Equal(t, Source, j.Source)
			require.True(t, j.Verified)
			require.Equal(t, int64(11), j.Height)
			require.Equal(t, int64(12), j.HeaderHeight)
			if tc.verdict == "revoked" {
				require.Equal(t, "issuer0", j.Issuer)
				require.Positive(t, j.AnchoredHeight)
				require.NotEmpty(t, j.AnchoredTime)
				require.Positive(t, j.StatusHeight)
			}
		})
	}
}

// flipInLightBlock changes one bit in the middle of the last light block
// of the bundle JSON.
func flipInLightBlock(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	lbs := m["light_blocks"].([]any)
	s := lbs[len(lbs)-1].(string)
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	lbs[len(lbs)-1] = s[:i] + string(c) + s[i+1:]
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestHashJSON(t *testing.T) {
	for _, tc := range []struct {
		name, credential string
		want             HashJSON
		wantErr          string
	}{
		{name: "raw bytes", credential: "revoked", want: HashJSON{Hash: revokedHash()}},
		{name: "w3c vc", credential: `{"issuer":{"id":"did:web:uni.example","name":"Uni"},"validFrom":"2026-01-01T00:00:00Z","validUntil":"2030-01-01T00:00:00Z"}`,
			want: HashJSON{Hash: "", CanonicalJSON: true, Issuer: "did:web:uni.example", ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2030-01-01T00:00:00Z"}},
		{name: "bad json", credential: `{"issuer":`, wantErr: "not valid JSON at line 1"},
		{name: "bad date", credential: `{"validUntil":"soon"}`, wantErr: "validUntil"},
		{name: "empty", credential: " \n", wantErr: "nothing to hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := hashJSON([]byte(tc.credential))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var got HashJSON
			require.NoError(t, json.Unmarshal(out, &got))
			require.Len(t, got.Hash, 64)
			if tc.want.Hash == "" {
				tc.want.Hash = got.Hash
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestImports checks the rule of the checker's main package: node/bundle,
// the types packages and the standard library (syscall/js for the glue),
// nothing else of ours, so that the page checks bundles with exactly the
// code of "credledger verify --bundle".
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list: skipped in -short mode")
	}
	cmd := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	const module = "github.com/credledger/credledger/"
	for _, imp := range strings.Fields(string(out)) {
		own, ours := strings.CutPrefix(imp, module)
		switch {
		case ours:
			require.True(t, own == "node/bundle" || own == "types" || strings.HasPrefix(own, "types/"), "the wasm checker imports %s", imp)
		default:
			require.NotContains(t, imp, ".", "the wasm checker imports %s, outside the standard library", imp)
		}
	}
}
