package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// TestMetricsPorts checks where the homes that init and testnet write
// serve Prometheus metrics: P+2 for init --base-port P, CometBFT's :26660
// without it, and P+10*I+2 for testnet node I (nothing is started).
func TestMetricsPorts(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	const base = 24000 // not listened on: nothing starts

	res := runCLI(t, bin, "testnet", "--validators", "2", "--output", filepath.Join(dir, "tn"), "--base-port", fmt.Sprint(base))
	require.Equal(t, 0, res.code, "testnet: %s", res)
	nodes, err := node.LoadTestnet(filepath.Join(dir, "tn"))
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	homes := map[string]string{nodes[0].Home: "127.0.0.1:24002", nodes[1].Home: "127.0.0.1:24012"}

	for _, tc := range []struct{ name, want string }{
		{"init", ":26660"},
		{"init --base-port", "127.0.0.1:24102"},
	} {
		home := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", ""))
		args := []string{"init", "--home", home}
		if strings.Contains(tc.name, "--base-port") {
			args = append(args, "--base-port", fmt.Sprint(base+100))
		}
		res := runCLI(t, bin, args...)
		require.Equal(t, 0, res.code, "%s: %s", tc.name, res)
		homes[home] = tc.want
	}

	for home, want := range homes {
		cfg, err := node.LoadCometConfig(home)
		require.NoError(t, err)
		require.True(t, cfg.Instrumentation.Prometheus, "%s: instrumentation.prometheus", home)
		require.Equal(t, want, cfg.Instrumentation.PrometheusListenAddr, "%s: instrumentation.prometheus_listen_addr", home)
		bz, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
		require.NoError(t, err)
		require.Contains(t, string(bz), "prometheus = true", home)
	}
}

// TestNodeServesMetrics checks that a node started with `credledger start`
// serves the app's metrics next to CometBFT's on 127.0.0.1:P+2, and that
// the anchor counter moves after an anchor.
func TestNodeServesMetrics(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", n.port+2)

	body := waitMetrics(t, url, "credledger_anchored_credentials_total 0", "cometbft_consensus_height{")
	require.True(t, hasLines(body, []string{`credledger_issuers{state="active"} 1`}), "%s", body)

	cred := filepath.Join(t.TempDir(), "cred.json")
	require.NoError(t, os.WriteFile(cred, []byte(`{"name":"Ada","degree":"BSc"}`), 0o600))
	res := runCLI(t, bin, "anchor", cred, "--from", node.DefaultIssuerID, "--home", n.home)
	require.Equal(t, 0, res.code, "anchor: %s", res)
	waitMetrics(t, url, "credledger_anchored_credentials_total 1")
}

// waitMetrics polls url until its body holds every line of want (a want
// that ends in "{" is a series name and matches any labels) for up to 30 s,
// and returns the body.
func waitMetrics(t *testing.T, url string, want ...string) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		body = getMetrics(t, url)
		if hasLines(body, want) {
			return body
		}
	}
	t.Fatalf("%s does not serve %q within 30 s; last answer:\n%s", url, want, body)
	return ""
}

func hasLines(body string, want []string) bool {
	lines := strings.Split(body, "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || l == w || strings.HasSuffix(w, "{") && strings.HasPrefix(l, w)
		}
		if !found {
			return false
		}
	}
	return true
}

// getMetrics returns the body of GET url, or "" if it fails.
func getMetrics(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	bz, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(bz)
}
