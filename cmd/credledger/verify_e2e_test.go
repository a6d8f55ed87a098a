package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/types"
)

// TestCLIVerifyAndBundle drives verify and prove through the binary: the
// light-client verdicts and exit codes, JSON fields, an offline bundle, a
// tampered bundle and a bundle checked against the wrong genesis.
func TestCLIVerifyAndBundle(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	genesis := filepath.Join(n.home, "config", "genesis.json")
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	valid, revoked, unknown := randomHex(t), randomHex(t), randomHex(t)
	runTxOK(t, bin, append([]string{"anchor", "--hash", valid, "--hash", revoked}, from...)...)
	runTxOK(t, bin, append([]string{"revoke", "--hash", revoked, "--reason", "void"}, from...)...)

	lightHome := filepath.Join(dir, "light")
	verify := func(t *testing.T, wantCode int, args ...string) map[string]any {
		t.Helper()
		args = append(append([]string{"verify"}, args...), "--output", "json")
		res := runCLI(t, bin, args...)
		require.Equal(t, wantCode, res.code, "%s", res)
		if wantCode == 1 {
			require.Empty(t, res.stdout)
			return nil
		}
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), "%s", res)
		require.Equal(t, true, out["verified"])
		require.NotEmpty(t, out["as_of"])
		if out["verdict"] != "not_anchored" {
			require.Equal(t, "active", out["issuer_status"])
		}
		return out
	}
	online := []string{"--node", n.url, "--witness", n.url, "--genesis", genesis, "--light-home", lightHome}
	t.Run("a witness that does not answer is named on stderr", func(t *testing.T) {
		dead := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
		for _, home := range []string{lightHome + "-w", lightHome + "-w"} { // cold, then warm
			res := runCLI(t, bin, "verify", "--hash", valid, "--node", n.url, "--witness", dead, "--witness", n.url,
				"--genesis", genesis, "--light-home", home)
			require.Equal(t, 0, res.code, "%s", res)
			require.Len(t, res.stderrLines(), 1, "one warning line: %s", res)
			require.True(t, strings.HasPrefix(res.stderr, "credledger: warning: witness "+dead+" does not answer: "), "%s", res)
			require.Contains(t, res.stderr, "continuing without it")
		}
		res := runCLI(t, bin, "verify", "--hash", valid, "--node", n.url, "--witness", dead, "--genesis", genesis, "--light-home", lightHome+"-w")
		require.Equal(t, 1, res.code, "%s", res)
		last := res.stderrLines()[len(res.stderrLines())-1]
		require.Contains(t, last, "none of the 1 witness(es) answered")
		require.Contains(t, last, dead)
		require.Contains(t, last, "pass other --witness nodes")
		require.NotContains(t, res.stderr, "reset")
	})
	for _, tc := range []struct {
		hash    string
		code    int
		verdict string
	}{
		{valid, 0, "valid"},
		{revoked, 2, "revoked"},
		{unknown, 4, "not_anchored"},
	} {
		t.Run(tc.verdict, func(t *testing.T) {
			out := verify(t, tc.code, append([]string{"--hash", tc.hash}, online...)...)
			require.Equal(t, tc.verdict, out["verdict"])
			require.Equal(t, tc.hash, out["hash"])
		})
	}

	bundlePath := filepath.Join(dir, "revoked.bundle.json")
	res := runCLI(t, bin, append([]string{"prove", "--hash", revoked, "-o", bundlePath}, online[:6]...)...)
	require.Equal(t, 0, res.code, "%s", res)
	out := verify(t, 2, "--bundle", bundlePath, "--genesis", genesis)
	require.Equal(t, "revoked", out["verdict"])
	require.Equal(t, "void", out["reason"])

	t.Run("genesis fingerprint", func(t *testing.T) {
		bz, err := os.ReadFile(genesis)
		require.NoError(t, err)
		sum := sha256.Sum256(bz)
		want := hex.EncodeToString(sum[:])
		res := runCLI(t, bin, "genesis-hash", genesis)
		require.Equal(t, 0, res.code, "%s", res)
		require.Equal(t, want+"  "+genesis+"\n", res.stdout)
		require.Equal(t, want, out["genesis_sha256"], "verify --output json prints the fingerprint of the genesis it trusts")
		res = runCLI(t, bin, "genesis-hash", filepath.Join(dir, "missing.json"))
		require.Equal(t, 1, res.code)
		require.Len(t, res.stderrLines(), 1)
	})
	t.Run("bundle age and what it is about", func(t *testing.T) {
		require.GreaterOrEqual(t, out["age_seconds"], float64(0))
		res := runCLI(t, bin, "verify", "--bundle", bundlePath, "--genesis", genesis)
		require.Equal(t, 2, res.code, "%s", res)
		first := res.stdoutLines()[0]
		require.True(t, strings.HasPrefix(first, revoked+"  (the credential bundle "+bundlePath+" is about"), "first line %q", first)
		require.Regexp(t, `as of: +state \d+, \S+ \(\d+\S* ago\)`, res.stdout)
		// a bundle is a snapshot: any age by default, --max-age if asked
		res = runCLI(t, bin, "verify", "--bundle", bundlePath, "--genesis", genesis, "--max-age", "1ns")
		require.Equal(t, 1, res.code, "%s", res)
		require.Contains(t, res.stderr, "older than --max-age 1ns")
		res = runCLI(t, bin, "verify", "--bundle", bundlePath, "--genesis", genesis, "--hash", revoked)
		require.Equal(t, 2, res.code, "%s", res)
		require.Equal(t, revoked, res.stdoutLines()[0], "with --hash the first line is the hash")
	})
	t.Run("online answers older than --max-age fail", func(t *testing.T) {
		res := runCLI(t, bin, append([]string{"verify", "--hash", valid, "--max-age", "1ns"}, online...)...)
		require.Equal(t, 1, res.code, "%s", res)
		require.Contains(t, res.stderr, "older than --max-age 1ns")
		out := verify(t, 0, append([]string{"--hash", valid}, online...)...)
		require.Less(t, out["age_seconds"], float64(120), "the default --max-age is 2m")
	})
	t.Run("tampered bundle", func(t *testing.T) {
		var b map[string]any
		bz, err := os.ReadFile(bundlePath)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(bz, &b))
		cred := b["credential"].(map[string]any)
		raw, err := base64.StdEncoding.DecodeString(cred["record"].(string))
		require.NoError(t, err)
		var rec types.CredentialRecord
		require.NoError(t, rec.Unmarshal(raw))
		require.NotNil(t, rec.Entries[0].Status)
		rec.Entries[0].Status = nil // hide the revocation
		raw, err = rec.Marshal()
		require.NoError(t, err)
		cred["record"] = base64.StdEncoding.EncodeToString(raw)
		bz, err = json.Marshal(b)
		require.NoError(t, err)
		tampered := filepath.Join(dir, "tampered.json")
		require.NoError(t, os.WriteFile(tampered, bz, 0o644))
		verify(t, 1, "--bundle", tampered, "--genesis", genesis)
	})
	t.Run("wrong genesis", func(t *testing.T) {
		other := filepath.Join(dir, "other")
		require.Equal(t, 0, runCLI(t, bin, "init", "--home", other, "--base-port", "1").code)
		verify(t, 1, "--bundle", bundlePath, "--genesis", filepath.Join(other, "config", "genesis.json"))
	})
}
