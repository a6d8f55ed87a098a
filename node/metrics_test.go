package node_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// TestPrometheusAppMetricsShareCollectors checks that registering the
// app's metrics twice on one registry (two nodes of one process) neither
// fails nor panics and that both share the series, and that a foreign
// collector under one of the names is an error, not a panic.
func TestPrometheusAppMetricsShareCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, err := node.PrometheusAppMetrics(reg)
	require.NoError(t, err)
	second, err := node.PrometheusAppMetrics(reg)
	require.NoError(t, err)
	first.AnchoredCredentials.Add(2)
	second.AnchoredCredentials.Add(3)
	second.StatusChanges.With("status", "revoked").Add(1)
	first.RejectedTxs.With("code", "13").Add(1)
	second.Issuers.With("state", "active").Set(4)
	first.OpenProposals.Set(1)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var series []string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			series = append(series, l)
		}
	}
	require.Equal(t, []string{
		"credledger_anchored_credentials_total 5",
		`credledger_issuers{state="active"} 4`,
		`credledger_issuers{state="removed"} 0`,
		"credledger_open_proposals 1",
		`credledger_rejected_txs_total{code="13"} 1`,
		`credledger_status_changes_total{status="reinstated"} 0`,
		`credledger_status_changes_total{status="revoked"} 1`,
		`credledger_status_changes_total{status="suspended"} 0`,
	}, series)

	// the default registry, which CometBFT serves, as a node registers
	for range 2 {
		_, err := node.PrometheusAppMetrics(prometheus.DefaultRegisterer)
		require.NoError(t, err)
	}

	for _, tc := range []struct{ name, help, err string }{
		{"same description, another type", "Open governance proposals in the committed state.", "another kind of collector"},
		{"another description", "not ours", "has different label names or a different help string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			foreign := prometheus.NewRegistry()
			foreign.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "credledger_open_proposals", Help: tc.help}))
			_, err := node.PrometheusAppMetrics(foreign)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestNodeServesAppMetrics starts a node with Prometheus on, anchors two
// hashes and sends one anchor again through node/client, and checks that
// the node's /metrics serves the app's series next to CometBFT's.
func TestNodeServesAppMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	// not t.TempDir: CometBFT can still be writing into the home when the
	// cleanups run, and TempDir then fails the test
	dir, err := os.MkdirTemp("", "credledger-metrics-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // after the node's Stop (cleanups are LIFO)
	home := filepath.Join(dir, "home")
	_, err = node.InitHome(node.InitOptions{Home: home})
	require.NoError(t, err)
	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	require.True(t, cfg.Instrumentation.Prometheus, "init turns Prometheus on")
	require.Equal(t, ":26660", cfg.Instrumentation.PrometheusListenAddr, "init without --base-port keeps CometBFT's port")
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	cfg.Instrumentation.PrometheusListenAddr = metricsAddr
	cfg.Consensus.TimeoutPropose = time.Second
	cfg.Consensus.TimeoutCommit = 100 * time.Millisecond
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)

	n, err := node.NewFullNode(home, log.NewNopLogger())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Stop()) })
	require.NoError(t, n.Start())

	key, err := keys.Load(home, node.DefaultIssuerID)
	require.NoError(t, err)
	c, err := client.New(n.RPCURL())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes := testHashes(2)
	res, err := c.Submit(ctx, key, types.ActionAnchor, hashes, client.SubmitOptions{})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	res, err = c.Submit(ctx, key, types.ActionAnchor, hashes[:1], client.SubmitOptions{})
	require.NoError(t, err)
	require.ErrorContains(t, res[0].Err, "already anchored", "CheckTx refuses the second anchor")

	want := []string{
		"credledger_anchored_credentials_total 2",
		`credledger_rejected_txs_total{code="13"} 1`,
		`credledger_status_changes_total{status="revoked"} 0`,
		`credledger_issuers{state="active"} 1`,
		`credledger_issuers{state="removed"} 0`,
		"credledger_open_proposals 0",
		"cometbft_consensus_height", // CometBFT's, on the same endpoint
	}
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		body = scrape(t, "http://"+metricsAddr+"/metrics")
		if containsAll(body, want) || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range want {
		require.Contains(t, body, w)
	}
}

// scrape returns the body of GET url, or "" if it fails.
func scrape(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
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

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestCometConfigPrometheusPorts checks the documented metrics ports: on
// by default, P+2 on 127.0.0.1 for a base port P (26658 for dev's 26656),
// CometBFT's :26660 without one, and P+10*I+2 for testnet node I.
func TestCometConfigPrometheusPorts(t *testing.T) {
	for _, tc := range []struct {
		name string
		base int
		want string
	}{
		{"no base port", 0, ":26660"},
		{"dev", 26656, "127.0.0.1:26658"},
		{"base port", 12000, "127.0.0.1:12002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := node.CometConfig(t.TempDir(), "n", tc.base)
			require.True(t, cfg.Instrumentation.Prometheus)
			require.Equal(t, tc.want, cfg.Instrumentation.PrometheusListenAddr)
		})
	}
	t.Run("testnet", func(t *testing.T) {
		nodes, err := node.InitTestnet(node.TestnetOptions{Validators: 3, Output: t.TempDir(), BasePort: 21000})
		require.NoError(t, err)
		for i, tn := range nodes {
			cfg, err := node.LoadCometConfig(tn.Home)
			require.NoError(t, err)
			require.True(t, cfg.Instrumentation.Prometheus, tn.Name)
			require.Equal(t, fmt.Sprintf("127.0.0.1:%d", 21000+10*i+2), cfg.Instrumentation.PrometheusListenAddr, tn.Name)
		}
	})
}
