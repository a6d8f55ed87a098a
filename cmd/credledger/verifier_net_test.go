package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifierOnTestnet drives the verifier service against a 4-validator
// testnet, primary node0 with witnesses node1..3: every verdict (valid,
// revoked, suspended, not_anchored, issuer_mismatch, voided, expired,
// not_yet_valid) through GET and POST, bad inputs, and concurrent requests.
func TestVerifierOnTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node testnet: skipped in -short mode")
	}
	ln := startLocalNet(t, netOptions{validators: 4})
	n0, n1, n2, n3 := ln.nodes[0], ln.nodes[1], ln.nodes[2], ln.nodes[3]
	valid, revoked, suspended, forged, missing := netRandomHex(t), netRandomHex(t), netRandomHex(t), netRandomHex(t), netRandomHex(t)
	for _, h := range []string{valid, revoked, suspended} {
		ln.anchor(t, n0.home, "issuer0", h)
	}
	netCLIOK(t, ln.bin, "revoke", "--hash", revoked, "--reason", "issued in error", "--from", "issuer0", "--home", n0.home)
	netCLIOK(t, ln.bin, "suspend", "--hash", suspended, "--reason", "under review", "--from", "issuer0", "--home", n0.home)
	// issuer3's key is "stolen": a forged anchor, then the others void its
	// records from that height on (issuer3's power is left out)
	theft := ln.anchor(t, n3.home, "issuer3", forged)
	prop := ln.gov(t, "issuer", "propose-void", "--id", "issuer3", "--from-height", fmt.Sprint(theft), "--from", "issuer0", "--home", n0.home, "--output", "json")
	id := fmt.Sprint(prop.Proposal.ID)
	ln.gov(t, "issuer", "vote", "--proposal", id, "--yes", "--from", "issuer1", "--home", n1.home, "--output", "json")
	passed := ln.gov(t, "issuer", "vote", "--proposal", id, "--yes", "--from", "issuer2", "--home", n2.home, "--output", "json")
	require.Equal(t, "passed", passed.Proposal.Status)
	ln.settle(t, passed.Height+1)

	genesis := filepath.Join(n0.home, "config", "genesis.json")
	v := startVerifier(t, ln.bin, "--node", n0.url, "--witness", n1.url+","+n2.url+","+n3.url, "--genesis", genesis,
		"--light-home", filepath.Join(t.TempDir(), "light"))
	for _, tc := range []struct {
		name, path, verdict string
	}{
		{"valid", "/v1/credentials/" + valid, "valid"},
		{"revoked", "/v1/credentials/" + revoked, "revoked"},
		{"suspended", "/v1/credentials/" + suspended, "suspended"},
		{"not anchored", "/v1/credentials/" + missing, "not_anchored"},
		{"another issuer named", "/v1/credentials/" + valid + "?issuer=did:web:issuer1.test", "issuer_mismatch"},
		{"its issuer named by identifier", "/v1/credentials/" + valid + "?issuer=did:web:issuer0.test", "valid"},
		{"voided", "/v1/credentials/" + forged, "voided"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := v.callJSON(t, http.StatusOK, "GET", tc.path, nil)
			require.Equal(t, tc.verdict, j["verdict"], "%v", j)
			require.Equal(t, true, j["verified"])
		})
	}
	t.Run("dates through POST", func(t *testing.T) {
		for body, verdict := range map[string]string{
			`{"issuer":"did:web:issuer0.test","name":"old","validUntil":"2000-01-01T00:00:00Z"}`:  "expired",
			`{"issuer":"did:web:issuer0.test","name":"early","validFrom":"2999-01-01T00:00:00Z"}`: "not_yet_valid",
		} {
			hash := runCLIHash(t, ln.bin, body)
			ln.anchor(t, n0.home, "issuer0", hash)
			j := v.callJSON(t, http.StatusOK, "POST", "/v1/verify", []byte(body))
			require.Equal(t, verdict, j["verdict"], "%v", j)
			require.Len(t, j["checks"], 6)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			method, path, body string
			code               int
		}{
			{"GET", "/v1/credentials/zz", "", http.StatusBadRequest},
			{"GET", "/v1/credentials/" + valid[:62], "", http.StatusBadRequest},
			{"GET", "/v1/credentials/" + valid + "?at_height=-1", "", http.StatusBadRequest},
			{"GET", "/v1/credentials/" + valid + "?what=1", "", http.StatusBadRequest},
			{"POST", "/v1/verify", `{"issuer":`, http.StatusBadRequest},
			{"POST", "/v1/verify", "", http.StatusBadRequest},
		} {
			var body []byte
			if tc.body != "" || tc.method == "POST" {
				body = []byte(tc.body)
			}
			j := v.callJSON(t, tc.code, tc.method, tc.path, body)
			require.NotEmpty(t, j["error"], "%s %s", tc.method, tc.path)
		}
	})
	t.Run("concurrent requests", func(t *testing.T) {
		var wg sync.WaitGroup
		paths := []string{"/v1/credentials/" + valid, "/v1/credentials/" + revoked, "/healthz", "/v1/credentials/" + valid + "/bundle"}
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// plain net/http and assert: this is not the test's goroutine
				resp, err := http.Get(v.url + paths[i%len(paths)]) //nolint:noctx // bounded by the server's timeout
				if !assert.NoError(t, err) {
					return
				}
				_ = resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, paths[i%len(paths)])
			}()
		}
		wg.Wait()
	})
}

// runCLIHash returns the credential hash credledger hash gives body.
func runCLIHash(t *testing.T, bin, body string) string {
	t.Helper()
	p := writeFile(t, t.TempDir(), "cred.json", body)
	res := runCLI(t, bin, "hash", p)
	require.Equal(t, 0, res.code, "%s", res)
	return res.stdout[:64]
}
