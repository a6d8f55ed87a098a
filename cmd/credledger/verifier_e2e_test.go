package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// verifierProc is a running "credledger verifier serve".
type verifierProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited

	mu     sync.Mutex
	stderr []string // its stderr lines so far
}

// verifierStartTimeout bounds the wait for the listening line, and for
// /healthz to answer 200.
const verifierStartTimeout = 60 * time.Second

// startVerifier runs "credledger verifier serve" with args on a free port
// of 127.0.0.1 and waits for its listening line; the process is killed in
// t.Cleanup.
func startVerifier(t *testing.T, bin string, args ...string) *verifierProc {
	t.Helper()
	v := &verifierProc{done: make(chan struct{})}
	v.cmd = exec.Command(bin, append([]string{"verifier", "serve", "--listen", "127.0.0.1:0"}, args...)...)
	v.cmd.Stdout = io.Discard
	pipe, err := v.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, v.cmd.Start())
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			v.mu.Lock()
			v.stderr = append(v.stderr, sc.Text())
			v.mu.Unlock()
			if rest, ok := strings.CutPrefix(sc.Text(), "verifier listening on "); ok {
				select {
				case listening <- rest:
				default:
				}
			}
		}
		_ = v.cmd.Wait()
		close(v.done)
	}()
	t.Cleanup(func() {
		select {
		case <-v.done:
			return
		default:
		}
		_ = v.cmd.Process.Kill()
		select {
		case <-v.done:
		case <-time.After(nodeStopTimeout):
			t.Errorf("verifier process %d did not exit within %s of SIGKILL", v.cmd.Process.Pid, nodeStopTimeout)
		}
	})
	select {
	case line := <-listening:
		v.url, _, _ = strings.Cut(line, " ")
	case <-v.done:
		t.Fatalf("verifier exited before listening: %s\n%s", v.cmd.ProcessState, v.stderrText())
	case <-time.After(verifierStartTimeout):
		t.Fatalf("verifier did not listen within %s:\n%s", verifierStartTimeout, v.stderrText())
	}
	return v
}

func (v *verifierProc) stderrText() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return strings.Join(v.stderr, "\n")
}

// call sends one request to the verifier and returns the status code and
// body.
func (v *verifierProc) call(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, v.url+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// callJSON is call for a JSON answer with code want.
func (v *verifierProc) callJSON(t *testing.T, want int, method, path string, body []byte) map[string]any {
	t.Helper()
	code, out := v.call(t, method, path, body)
	require.Equal(t, want, code, "%s %s: %s", method, path, out)
	var j map[string]any
	require.NoError(t, json.Unmarshal(out, &j), "%s", out)
	return j
}

// sortedKeys returns m's keys, sorted, without the ones in drop.
func sortedKeys(m map[string]any, drop ...string) []string {
	return slices.DeleteFunc(slices.Sorted(maps.Keys(m)), func(k string) bool { return slices.Contains(drop, k) })
}

// TestCLIVerifierServe runs "credledger verifier serve" against a node and
// drives its routes over HTTP: the verdicts have verify --output json's
// fields, the bundle is prove's (verify --bundle accepts it), /healthz and
// /metrics answer, and SIGTERM stops it with exit 0.
func TestCLIVerifierServe(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	genesis := filepath.Join(n.home, "config", "genesis.json")
	credPath := filepath.Join(dir, "cred.json")
	cred := []byte(`{"issuer":"issuer0","credentialSubject":{"id":"urn:e2e:ada"},"validUntil":"2999-01-01T00:00:00Z"}`)
	require.NoError(t, os.WriteFile(credPath, cred, 0o600))
	revoked := randomHex(t)
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	lines := runTxOK(t, bin, append([]string{"anchor", credPath, "--hash", revoked}, from...)...)
	require.Len(t, lines, 2)
	valid := lines[0].hash
	runTxOK(t, bin, append([]string{"revoke", "--hash", revoked, "--reason", "void"}, from...)...)

	online := []string{"--node", n.url, "--witness", n.url, "--genesis", genesis}
	v := startVerifier(t, bin, append(online, "--light-home", filepath.Join(dir, "server-light"))...)
	cliVerify := func(t *testing.T, wantCode int, args ...string) map[string]any {
		t.Helper()
		args = append(append(append([]string{"verify"}, args...), online...), "--light-home", filepath.Join(dir, "cli-light"), "--output", "json")
		res := runCLI(t, bin, args...)
		require.Equal(t, wantCode, res.code, "%s", res)
		var j map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &j), "%s", res)
		return j
	}

	require.Eventually(t, func() bool {
		code, _ := v.call(t, http.MethodGet, "/healthz", nil)
		return code == http.StatusOK
	}, verifierStartTimeout, 200*time.Millisecond, "/healthz did not answer 200:\n%s", v.stderrText())
	health := v.callJSON(t, http.StatusOK, http.MethodGet, "/healthz", nil)
	require.Equal(t, "ok", health["status"])
	digest, err := genesisDigest(genesis)
	require.NoError(t, err)
	require.Equal(t, digest, health["genesis_sha256"])
	chainID := health["chain_id"]
	require.Equal(t, []string{fmt.Sprintf("verifier listening on %s (chain %s)", v.url, chainID)}, strings.Split(v.stderrText(), "\n"),
		"one line on stderr, and no warning")

	for _, tc := range []struct {
		name, hash, verdict string
		code                int
	}{
		{"valid", valid, "valid", 0},
		{"revoked", revoked, "revoked", 2},
		{"not anchored", randomHex(t), "not_anchored", 4},
	} {
		t.Run("GET "+tc.name, func(t *testing.T) {
			got := v.callJSON(t, http.StatusOK, http.MethodGet, "/v1/credentials/"+tc.hash, nil)
			want := cliVerify(t, tc.code, "--hash", tc.hash)
			require.Equal(t, tc.verdict, got["verdict"])
			require.Equal(t, sortedKeys(want), sortedKeys(got), "the fields of verify --hash --output json")
			for _, k := range []string{"hash", "verdict", "issuer", "issuers", "anchored_height", "anchored_time", "reason", "chain_id", "source", "verified", "issuer_identifiers", "genesis_sha256"} {
				require.Equal(t, want[k], got[k], k)
			}
		})
	}
	t.Run("POST the credential", func(t *testing.T) {
		got := v.callJSON(t, http.StatusOK, http.MethodPost, "/v1/verify", cred)
		want := cliVerify(t, 0, credPath)
		require.Equal(t, "valid", got["verdict"])
		require.Equal(t, sortedKeys(want, "file"), sortedKeys(got, "checks"), "the fields of verify FILE --output json")
		for _, k := range []string{"hash", "named_issuer", "valid_until", "issuer"} {
			require.Equal(t, want[k], got[k], k)
		}
		require.Len(t, got["checks"], 6)
	})
	t.Run("bundle", func(t *testing.T) {
		code, bz := v.call(t, http.MethodGet, "/v1/credentials/"+revoked+"/bundle", nil)
		require.Equal(t, http.StatusOK, code, "%s", bz)
		path := filepath.Join(dir, "revoked.bundle.json")
		require.NoError(t, os.WriteFile(path, bz, 0o600))
		res := runCLI(t, bin, "verify", "--bundle", path, "--genesis", genesis, "--hash", revoked, "--output", "json")
		require.Equal(t, 2, res.code, "%s", res)
		require.Contains(t, res.stdout, `"verdict":"revoked"`)
	})
	t.Run("errors", func(t *testing.T) {
		j := v.callJSON(t, http.StatusBadRequest, http.MethodGet, "/v1/credentials/nothex", nil)
		require.Contains(t, j["error"], "64 hex digits")
		j = v.callJSON(t, http.StatusBadRequest, http.MethodPost, "/v1/verify", []byte(`{"issuer":`))
		require.Contains(t, j["error"], "not valid JSON at line 1")
	})
	t.Run("metrics", func(t *testing.T) {
		code, out := v.call(t, http.MethodGet, "/metrics", nil)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, string(out), `credledger_verifier_requests_total{code="200",route="/v1/credentials/{hash}",verdict="revoked"} 1`)
		require.Contains(t, string(out), "credledger_verifier_verified_height ")
	})

	require.NoError(t, v.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-v.done:
	case <-time.After(nodeStopTimeout):
		t.Fatalf("verifier did not exit within %s of SIGTERM:\n%s", nodeStopTimeout, v.stderrText())
	}
	require.Equal(t, 0, v.cmd.ProcessState.ExitCode(), "%s", v.stderrText())
}
