package light

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// BenchmarkLight measures the verifier on an in-process network of
// CREDLEDGER_BENCH_VALIDATORS validators (default 4) that makes a block as
// fast as it can: cold verification from genesis (in-memory store) at each
// state height in CREDLEDGER_BENCH_HEIGHTS (default "100"; the network runs
// until the highest), warm verification of the latest state, offline
// bundle verification, and the bundle's size. Run it with:
//
//	go test -run '^$' -bench BenchmarkLight -benchtime 20x ./node/light/
//	CREDLEDGER_BENCH_HEIGHTS=100,10000 go test -run '^$' -bench BenchmarkLight -benchtime 20x -timeout 60m ./node/light/
func BenchmarkLight(b *testing.B) {
	vals := envInt(b, "CREDLEDGER_BENCH_VALIDATORS", 4)
	var heights []int64
	for _, s := range strings.Split(envString("CREDLEDGER_BENCH_HEIGHTS", "100"), ",") {
		h, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		require.NoError(b, err, "CREDLEDGER_BENCH_HEIGHTS")
		heights = append(heights, h)
	}
	urls, genesis, key := startBenchNet(b, vals)
	ctx := context.Background()
	c, err := client.New(urls[0])
	require.NoError(b, err)
	hash := testHash("bench")
	res, err := c.Submit(ctx, key, types.ActionAnchor, [][]byte{hash}, client.SubmitOptions{})
	require.NoError(b, err)
	require.NoError(b, res[0].Err)
	root, err := bundle.LoadGenesisTrustRoot(genesis)
	require.NoError(b, err)
	witnesses := urls[1:]
	if len(witnesses) == 0 {
		witnesses = urls // one node: it witnesses itself
	}

	start := time.Now()
	last := heights[len(heights)-1]
	for {
		st, err := c.Status(ctx)
		require.NoError(b, err)
		if st.LatestHeight > last+1 {
			fmt.Fprintf(os.Stderr, "%d validators reached height %d in %s\n", vals, st.LatestHeight, time.Since(start).Round(time.Second))
			break
		}
		time.Sleep(time.Second)
	}

	for _, h := range heights {
		b.Run(fmt.Sprintf("cold-from-genesis/height=%d", h), func(b *testing.B) {
			for range b.N {
				lc, err := New(ctx, urls[0], witnesses, root, WithInMemoryStore())
				require.NoError(b, err)
				rep, err := lc.Verify(ctx, hash, h)
				require.NoError(b, err)
				require.Equal(b, types.VerdictValid, rep.Verdict)
				require.NoError(b, lc.Close())
			}
		})
	}

	b.Run("warm/latest", func(b *testing.B) {
		lc, err := New(ctx, urls[0], witnesses, root, WithHome(b.TempDir()))
		require.NoError(b, err)
		defer lc.Close() //nolint:errcheck // temp dir
		_, err = lc.Verify(ctx, hash, 0)
		require.NoError(b, err)
		b.ResetTimer()
		for range b.N {
			_, err := lc.Verify(ctx, hash, 0)
			require.NoError(b, err)
		}
	})

	for _, h := range heights {
		lc, err := New(ctx, urls[0], witnesses, root, WithInMemoryStore())
		require.NoError(b, err)
		proof, _, err := lc.Prove(ctx, hash, h)
		require.NoError(b, err)
		bz, err := proof.Encode()
		require.NoError(b, err)
		b.Run(fmt.Sprintf("bundle-offline/height=%d", h), func(b *testing.B) {
			b.ReportMetric(float64(len(bz)), "bundle-bytes")
			b.ReportMetric(float64(len(proof.LightBlocks)), "headers")
			now := time.Now()
			for range b.N {
				decoded, err := bundle.Decode(bz)
				require.NoError(b, err)
				_, err = bundle.Verify(decoded, root, now, bundle.DefaultTrustingPeriod)
				require.NoError(b, err)
			}
		})
	}
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(b *testing.B, name string, def int) int {
	n, err := strconv.Atoi(envString(name, strconv.Itoa(def)))
	require.NoError(b, err, name)
	return n
}

// startBenchNet starts an n-validator testnet in process, making blocks
// back to back, and returns the RPC URLs, the genesis path and issuer0's key.
func startBenchNet(b *testing.B, n int) ([]string, string, *keys.Key) {
	b.Helper()
	// not b.TempDir: CometBFT can still be closing files in it when the
	// cleanups run, and TempDir then fails the benchmark after its figures
	dir, err := os.MkdirTemp("", "light-bench")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(dir) }) // runs after the nodes' Stop (cleanups are LIFO)
	var nodes []node.TestnetNode
	for try := 0; nodes == nil; try++ {
		require.Less(b, try, 20, "no free ports for %d nodes", n)
		base := 20000 + 10*rand.IntN(4000)
		if !portsFree(base, n) {
			continue
		}
		var err error
		nodes, err = node.InitTestnet(node.TestnetOptions{Validators: n, Output: filepath.Join(dir, fmt.Sprint(try)), ChainID: "light-bench", BasePort: base})
		require.NoError(b, err)
	}
	urls := make([]string, n)
	for i, tn := range nodes {
		cfg, err := node.LoadCometConfig(tn.Home)
		require.NoError(b, err)
		cfg.Consensus.TimeoutPropose = 500 * time.Millisecond
		cfg.Consensus.TimeoutCommit = time.Millisecond
		cfg.Consensus.CreateEmptyBlocksInterval = 0
		cfg.Consensus.PeerGossipSleepDuration = 5 * time.Millisecond
		cfg.P2P.FlushThrottleTimeout = 5 * time.Millisecond
		// CometBFT registers its metrics on the default Prometheus
		// registry and panics on a second node of this process
		cfg.Instrumentation.Prometheus = false
		cmtcfg.WriteConfigFile(filepath.Join(tn.Home, "config", "config.toml"), cfg)
		fn, err := node.NewFullNode(tn.Home, log.NewNopLogger())
		require.NoError(b, err)
		require.NoError(b, fn.Start())
		b.Cleanup(func() { _ = fn.Stop() })
		urls[i] = tn.RPC
	}
	key, err := keys.Load(nodes[0].Home, "issuer0")
	require.NoError(b, err)
	c, err := client.New(urls[0])
	require.NoError(b, err)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if st, err := c.Status(context.Background()); err == nil && st.LatestHeight >= 2 {
			break
		}
		require.True(b, time.Now().Before(deadline), "the network made no block within a minute")
	}
	return urls, filepath.Join(nodes[0].Home, "config", "genesis.json"), key
}

// portsFree reports whether the p2p and RPC ports of n testnet nodes at
// base are free.
func portsFree(base, n int) bool {
	for i := range n {
		for _, p := range []int{base + 10*i, base + 10*i + 1} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				return false
			}
			_ = l.Close()
		}
	}
	return true
}
