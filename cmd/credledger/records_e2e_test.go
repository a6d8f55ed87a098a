package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// Each issuer has its own record of a hash: a member that revokes a hash
// first (pre-revocation) or anchors it first (front-running) blocks
// nobody, and the verdict is about the record of the issuer the credential
// names; with several records and no name, verify and status say so.
func TestCLIRecordsPerIssuer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	home := n.home

	// admit a second issuer, uni2, with a small validator power (1 of 11),
	// so the one running validator keeps more than 2/3
	var signing, validator netKeyOut
	netCLIJSON(t, bin, &signing, "keys", "add", "uni2", "--home", home)
	netCLIJSON(t, bin, &validator, "keys", "add", "uni2-validator", "--home", home)
	res := runCLI(t, bin, "issuer", "propose-add", "--id", "uni2", "--name", "Uni Two", "--power", "1",
		"--issuer-pubkey", signing.PubKey, "--validator-pubkey", validator.PubKey, "--from", node.DefaultIssuerID, "--home", home)
	require.Equal(t, 0, res.code, "%s", res)
	require.Contains(t, res.stdout, "passed")

	i0 := []string{"--from", node.DefaultIssuerID, "--home", home}
	u2 := []string{"--from", "uni2", "--home", home}
	preRevoked, frontRun := randomHex(t), randomHex(t)
	// pre-revocation: uni2 revokes a hash issuer0 has not anchored yet
	runTxOK(t, bin, append([]string{"revoke", "--hash", preRevoked, "--reason", "squatting"}, u2...)...)
	runTxOK(t, bin, append([]string{"anchor", "--hash", preRevoked}, i0...)...)
	// front-running: uni2 anchors a hash before issuer0 does
	runTxOK(t, bin, append([]string{"anchor", "--hash", frontRun}, u2...)...)
	runTxOK(t, bin, append([]string{"anchor", "--hash", frontRun}, i0...)...)
	// and neither can change the other's record
	runTxOK(t, bin, append([]string{"revoke", "--hash", frontRun, "--reason", "mine now"}, u2...)...)

	genesis := filepath.Join(home, "config", "genesis.json")
	online := []string{"--node", n.url, "--witness", n.url, "--genesis", genesis, "--light-home", filepath.Join(dir, "light")}
	for _, tc := range []struct {
		name    string
		hash    string
		issuer  string
		code    int
		verdict string
	}{
		{"issuer0's record after a pre-revocation by uni2", preRevoked, "issuer0", 0, "valid"},
		{"uni2's own pre-revocation", preRevoked, "uni2", 2, "revoked"},
		{"issuer0's record after front-running by uni2", frontRun, "issuer0", 0, "valid"},
		{"uni2's record, revoked by uni2 only", frontRun, "uni2", 2, "revoked"},
		{"an issuer with no record", frontRun, "did:web:nobody.test", 5, "issuer_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := status(t, bin, home, tc.code, "--hash", tc.hash, "--issuer", tc.issuer)
			require.Equal(t, tc.verdict, j.Verdict)
			require.Equal(t, []string{"issuer0", "uni2"}, j.Issuers)
			res := runCLI(t, bin, append([]string{"verify", "--hash", tc.hash, "--issuer", tc.issuer}, online...)...)
			require.Equal(t, tc.code, res.code, "verify: %s", res)
		})
	}
	t.Run("several records and no issuer named", func(t *testing.T) {
		for _, args := range [][]string{
			{"status", "--hash", frontRun, "--home", home},
			append([]string{"verify", "--hash", frontRun}, online...),
		} {
			res := runCLI(t, bin, args...)
			require.Equal(t, 1, res.code, "%s", res)
			require.Contains(t, res.stderr, "has records of several issuers (issuer0, uni2)")
			require.Contains(t, res.stderr, "--issuer")
		}
	})
	t.Run("a credential file names its issuer", func(t *testing.T) {
		cred := filepath.Join(dir, "cred.json")
		require.NoError(t, os.WriteFile(cred, []byte(`{"issuer":"uni2","name":"Zed"}`), 0o600))
		runTxOK(t, bin, append([]string{"anchor", cred}, u2...)...)
		runTxOK(t, bin, append([]string{"anchor", cred}, i0...)...) // issuer0 anchors the same bytes too
		j := status(t, bin, home, 0, cred)
		require.Equal(t, "uni2", j.Issuer, "the verdict is about the issuer the file names")
	})
	t.Run("bundle with both records", func(t *testing.T) {
		out := filepath.Join(dir, "front.bundle.json")
		res := runCLI(t, bin, append([]string{"prove", "--hash", frontRun, "-o", out}, online[:6]...)...)
		require.Equal(t, 0, res.code, "%s", res)
		require.Contains(t, res.stderr, "several issuers")
		for issuer, code := range map[string]int{"issuer0": 0, "uni2": 2} {
			res := runCLI(t, bin, "verify", "--bundle", out, "--genesis", genesis, "--issuer", issuer)
			require.Equal(t, code, res.code, "%s: %s", issuer, res)
		}
	})
}

// status runs status with --output json against home's node.
func status(t *testing.T, bin, home string, wantCode int, args ...string) statusJSON {
	t.Helper()
	res := runCLI(t, bin, append(append([]string{"status"}, args...), "--home", home, "--output", "json")...)
	require.Equal(t, wantCode, res.code, "%s", res)
	var j statusJSON
	require.NoError(t, jsonUnmarshal(res.stdout, &j), "%s", res)
	return j
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// A stolen key, through the CLI: the consortium replaces uni2's key and
// voids uni2's records from the theft on, without uni2's vote; a forged
// anchor then verifies as voided (exit 6). Once uni2 is removed, the
// consortium revokes one of its credentials by proposal.
func TestCLIStolenKeyAndConsortiumStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	home := n.home
	var signing, validator netKeyOut
	netCLIJSON(t, bin, &signing, "keys", "add", "uni2", "--home", home)
	netCLIJSON(t, bin, &validator, "keys", "add", "uni2-validator", "--home", home)
	res := runCLI(t, bin, "issuer", "propose-add", "--id", "uni2", "--name", "Uni Two", "--power", "1",
		"--issuer-pubkey", signing.PubKey, "--validator-pubkey", validator.PubKey, "--from", node.DefaultIssuerID, "--home", home)
	require.Equal(t, 0, res.code, "%s", res)

	u2 := []string{"--from", "uni2", "--home", home}
	real := randomHex(t)
	runTxOK(t, bin, append([]string{"anchor", "--hash", real}, u2...)...)
	// the key is stolen: a forged anchor
	forged := randomHex(t)
	theft := runTxOK(t, bin, append([]string{"anchor", "--hash", forged}, u2...)...)[0].height
	require.Equal(t, "valid", status(t, bin, home, 0, "--hash", forged).Verdict, "before the void the forgery passes")

	gov := func(args ...string) string {
		t.Helper()
		res := runCLI(t, bin, append(append([]string{"issuer"}, args...), "--from", node.DefaultIssuerID, "--home", home)...)
		require.Equal(t, 0, res.code, "%s", res)
		require.Contains(t, res.stdout, "passed", "issuer0 decides alone: uni2's power is left out")
		return res.stdout
	}
	var fresh netKeyOut
	netCLIJSON(t, bin, &fresh, "keys", "add", "uni2-new", "--issuer", "uni2", "--home", home)
	gov("propose-replace-key", "--id", "uni2", "--issuer-pubkey", fresh.PubKey)
	gov("propose-void", "--id", "uni2", "--from-height", fmt.Sprint(theft))

	j := status(t, bin, home, 6, "--hash", forged)
	require.Equal(t, "voided", j.Verdict)
	require.Positive(t, j.VoidedByProposal)
	require.Equal(t, theft, j.VoidedFromHeight)
	require.Equal(t, "valid", status(t, bin, home, 0, "--hash", real).Verdict, "anchored before the theft")
	res = runCLI(t, bin, "status", "--hash", forged, "--home", home)
	require.Equal(t, 6, res.code)
	require.Contains(t, res.stdout, "voided:   the consortium voided uni2's records from height")

	// removed, uni2 signs nothing; the consortium revokes its credential
	gov("propose-remove", "--id", "uni2")
	gov("propose-status", "--id", "uni2", "--hash", real, "--status", "revoked", "--reason", "rescinded by the consortium")
	j = status(t, bin, home, 2, "--hash", real)
	require.Equal(t, "revoked", j.Verdict)
	require.Positive(t, j.StatusByProposal)
	require.Equal(t, "rescinded by the consortium", j.Reason)
}
