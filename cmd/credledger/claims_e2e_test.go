package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// A credential's own claims — the issuer it names, its validity period —
// are checked by status and verify after the proofs: issuer_mismatch
// (exit 5), expired and not_yet_valid (exit 7).
func TestCLICredentialClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	good := write("good.json", `{"issuer":"issuer0","name":"Ada","validUntil":"2999-01-01T00:00:00Z"}`)
	stranger := write("stranger.json", `{"issuer":"did:web:someone-else.test","name":"Bob"}`)
	expired := write("expired.json", `{"issuer":{"id":"issuer0"},"name":"Cy","expirationDate":"2000-01-01T00:00:00Z"}`)
	early := write("early.json", `{"issuer":"issuer0","name":"Di","validFrom":"2999-01-01T00:00:00Z"}`)
	badDate := write("bad-date.json", `{"issuer":"issuer0","name":"Ed","validUntil":"soon"}`)
	lines := runTxOK(t, bin, "anchor", good, stranger, expired, early, badDate, "--from", node.DefaultIssuerID, "--home", n.home)
	require.Len(t, lines, 5)

	status := func(t *testing.T, wantCode int, args ...string) statusJSON {
		t.Helper()
		res := runCLI(t, bin, append(append([]string{"status"}, args...), "--home", n.home, "--output", "json")...)
		require.Equal(t, wantCode, res.code, "%s", res)
		var j statusJSON
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &j), "%s", res)
		return j
	}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		verdict string
	}{
		{"names its issuer, valid until 2999", []string{good}, 0, "valid"},
		{"names another issuer", []string{stranger}, 5, "issuer_mismatch"},
		{"expired (VC 1.1 expirationDate)", []string{expired}, 7, "expired"},
		{"not yet valid", []string{early}, 7, "not_yet_valid"},
		{"--hash with --issuer of its issuer", []string{"--hash", lines[0].hash, "--issuer", "issuer0"}, 0, "valid"},
		{"--hash with --issuer of another", []string{"--hash", lines[0].hash, "--issuer", "did:web:x.test"}, 5, "issuer_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := status(t, tc.code, tc.args...)
			require.Equal(t, tc.verdict, j.Verdict)
			require.Equal(t, "issuer0", j.Issuer)
			require.NotNil(t, j.IssuerIdentifiers, "the issuer's record was read")
		})
	}
	t.Run("the claims are in the output", func(t *testing.T) {
		j := status(t, 5, stranger)
		require.Equal(t, "did:web:someone-else.test", j.NamedIssuer)
		j = status(t, 0, good)
		require.Equal(t, "2999-01-01T00:00:00Z", *j.ValidUntil)
		res := runCLI(t, bin, "status", stranger, "--home", n.home)
		require.Equal(t, 5, res.code)
		require.Contains(t, res.stdout, "names:    issuer did:web:someone-else.test, which is not issuer0")
	})
	t.Run("a date that is not a date-time is an error", func(t *testing.T) {
		res := runCLI(t, bin, "status", badDate, "--home", n.home)
		require.Equal(t, 1, res.code, "%s", res)
		require.Len(t, res.stderrLines(), 1)
		require.Contains(t, res.stderr, `validUntil "soon" is not a date-time`)
	})
	t.Run("a file and --issuer that disagree", func(t *testing.T) {
		res := runCLI(t, bin, "status", stranger, "--issuer", "issuer0", "--home", n.home)
		require.Equal(t, 1, res.code, "%s", res)
		require.Contains(t, res.stderr, `the credential names issuer "did:web:someone-else.test"`)
	})
	t.Run("verify with the light client", func(t *testing.T) {
		genesis := filepath.Join(n.home, "config", "genesis.json")
		for file, code := range map[string]int{good: 0, stranger: 5, expired: 7} {
			res := runCLI(t, bin, "verify", file, "--node", n.url, "--witness", n.url, "--genesis", genesis, "--light-home", filepath.Join(dir, "light"))
			require.Equal(t, code, res.code, "%s: %s", file, res)
		}
	})
}
