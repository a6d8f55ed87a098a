package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// maxParams are the largest params a genesis may set.
var maxParams = types.Params{MaxBatchSize: types.MaxBatchSizeLimit, MaxReasonLength: types.MaxReasonLengthLimit, ProposalExpiryBlocks: 1}

func paramsWith(batch, reason uint32) types.Params {
	return types.Params{MaxBatchSize: batch, MaxReasonLength: reason, ProposalExpiryBlocks: 1000}
}

// testHashes returns n distinct credential hashes.
func testHashes(n int) [][]byte {
	hashes := make([][]byte, n)
	for i := range hashes {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		sum := sha256.Sum256(b[:])
		hashes[i] = sum[:]
	}
	return hashes
}

// clientTx signs a tx of action the way node/client does (NewTxBody for
// credential actions, a TxBody with its message set for governance), with
// the longest chain id, issuer id and reason and the largest sequence p
// allows.
func clientTx(t *testing.T, p types.Params, action string) []byte {
	t.Helper()
	issuer := strings.Repeat("x", types.MaxIssuerIDLength)
	key, err := keys.FromSeed("signer", issuer, bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	chainID := strings.Repeat("z", cmttypes.MaxChainIDLen)
	var body *types.TxBody
	switch action {
	case types.ActionProposeAdmission:
		body = &types.TxBody{ChainId: chainID, IssuerId: issuer, Sequence: math.MaxUint64}
		body.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: &types.MsgProposeAdmission{
			IssuerId: strings.Repeat("y", types.MaxIssuerIDLength), Name: strings.Repeat("é", types.MaxIssuerNameLength/2),
			SigningPubkey: key.PublicKey(), ValidatorPubkey: key.PublicKey(), Power: types.MaxPower,
		}}
	default:
		body, err = types.NewTxBody(chainID, issuer, math.MaxUint64, action, testHashes(int(p.MaxBatchSize)), strings.Repeat("ü", int(p.MaxReasonLength)/2))
		require.NoError(t, err)
	}
	require.NoError(t, body.ValidateBasic(p))
	tx, err := types.SignTx(body, key.PrivateKey())
	require.NoError(t, err)
	return tx
}

// postedBody returns the JSON-RPC request body that CometBFT's HTTP client
// posts for BroadcastTxSync(tx), with its id and method.
func postedBody(t *testing.T, tx []byte) (body []byte, id json.RawMessage, method string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":-1,"error":{"code":-32603,"message":"recorded"}}`))
	}))
	defer srv.Close()
	c, err := rpchttp.New(srv.URL, "/websocket")
	require.NoError(t, err)
	_, _ = c.BroadcastTxSync(t.Context(), tx)
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	require.NoError(t, json.Unmarshal(body, &req))
	return body, req.ID, req.Method
}

// TestLargestTxMatchesClientTx checks that LargestTx measures exactly the
// tx the client signs and the request CometBFT's HTTP client posts for the
// same params (the widest request id and longest broadcast method aside).
func TestLargestTxMatchesClientTx(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params types.Params
		action string
	}{
		{"default params", types.DefaultParams(), types.ActionRevoke},
		{"no reason: an anchor", paramsWith(500, 0), types.ActionAnchor},
		{"one hash: an admission proposal", paramsWith(1, 0), types.ActionProposeAdmission},
		{"largest allowed params", maxParams, types.ActionRevoke},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sizes, err := node.LargestTx(tc.params)
			require.NoError(t, err)
			require.Equal(t, tc.action, sizes.Action)
			tx := clientTx(t, tc.params, sizes.Action)
			require.Equal(t, int64(len(tx)), sizes.Tx)
			require.Equal(t, cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{tx}), sizes.BlockData)

			body, id, method := postedBody(t, tx)
			require.Equal(t, "broadcast_tx_sync", method)
			wider := len(fmt.Sprint(int64(math.MinInt64))) - len(id) + len("broadcast_tx_commit") - len(method)
			require.Equal(t, int64(len(body)+wider), sizes.RPCBody)
		})
	}
}

func TestLargestTxRejectsInvalidParams(t *testing.T) {
	_, err := node.LargestTx(types.Params{MaxBatchSize: types.MaxBatchSizeLimit + 1, ProposalExpiryBlocks: 1})
	require.ErrorContains(t, err, "max_batch_size 100001")
}

// testGenesis returns a one-issuer genesis with params p.
func testGenesis(t *testing.T, p types.Params) *cmttypes.GenesisDoc {
	t.Helper()
	k := bytes.Repeat([]byte{1}, 32)
	doc, err := node.BuildGenesis("limits-test", time.Now(), p, []types.GenesisIssuer{
		{ID: "issuer0", Name: "issuer0", Power: 10, SigningPubKey: k, ValidatorPubKey: k},
	})
	require.NoError(t, err)
	return doc
}

func TestCheckLimits(t *testing.T) {
	def, err := node.LargestTx(types.DefaultParams())
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		params types.Params // default types.DefaultParams()
		raise  bool         // apply RaiseLimits to the config first
		// malleate changes the config CometConfig makes, or the genesis
		malleate func(*cmtcfg.Config, *cmttypes.GenesisDoc)
		// settings are the settings the error names (none: no error)
		settings []string
	}{
		{name: "default params, CometConfig"},
		{
			name:     "rpc.max_body_bytes at the need",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) { c.RPC.MaxBodyBytes = def.RPCBody },
		},
		{
			name:     "rpc.max_body_bytes too small",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) { c.RPC.MaxBodyBytes = def.RPCBody - 1 },
			settings: []string{"rpc.max_body_bytes"},
		},
		{
			name:     "mempool.max_tx_bytes too small",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) { c.Mempool.MaxTxBytes = int(def.Tx) - 1 },
			settings: []string{"mempool.max_tx_bytes"},
		},
		{
			name:     "mempool.max_txs_bytes too small",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) { c.Mempool.MaxTxsBytes = def.Tx - 1 },
			settings: []string{"mempool.max_txs_bytes"},
		},
		{
			name: "block max_bytes too small",
			malleate: func(_ *cmtcfg.Config, g *cmttypes.GenesisDoc) {
				g.ConsensusParams.Block.MaxBytes, g.ConsensusParams.Evidence.MaxBytes = def.BlockData, 1000
			},
			settings: []string{"consensus_params.block.max_bytes"},
		},
		{
			name:     "block max_bytes -1: CometBFT's largest block",
			malleate: func(_ *cmtcfg.Config, g *cmttypes.GenesisDoc) { g.ConsensusParams.Block.MaxBytes = -1 },
		},
		{
			name:     "RPC off",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) { c.RPC.ListenAddress, c.RPC.MaxBodyBytes = "", 1 },
		},
		{
			name: "mempool off",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) {
				c.Mempool.Type, c.Mempool.MaxTxBytes, c.Mempool.MaxTxsBytes = cmtcfg.MempoolTypeNop, 1, 1
			},
		},
		{
			name: "several too small",
			malleate: func(c *cmtcfg.Config, _ *cmttypes.GenesisDoc) {
				c.RPC.MaxBodyBytes, c.Mempool.MaxTxBytes = 1000, 1000
			},
			settings: []string{"rpc.max_body_bytes", "mempool.max_tx_bytes"},
		},
		{name: "largest params, CometConfig", params: maxParams, settings: []string{"rpc.max_body_bytes"}},
		{name: "largest params, raised", params: maxParams, raise: true},
		{
			name:   "largest params, raised, many validators",
			params: maxParams, raise: true,
			malleate: func(_ *cmtcfg.Config, g *cmttypes.GenesisDoc) {
				g.Validators = make([]cmttypes.GenesisValidator, 1000)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			if p == (types.Params{}) {
				p = types.DefaultParams()
			}
			home := t.TempDir()
			cfg, doc := node.CometConfig(home, "n", 0), testGenesis(t, p)
			if tc.raise {
				require.NoError(t, node.RaiseLimits(cfg, p))
			}
			if tc.malleate != nil {
				tc.malleate(cfg, doc)
			}
			err := node.CheckLimits(cfg, doc)
			if len(tc.settings) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.NotContains(t, err.Error(), "\n")
			for _, s := range tc.settings {
				require.Contains(t, err.Error(), s+" = ")
			}
			var le *node.LimitError
			require.ErrorAs(t, err, &le)
			require.Equal(t, tc.settings[0], le.Setting)
			require.Greater(t, le.Need, le.Value)
			require.Contains(t, err.Error(), fmt.Sprintf("raise it to at least %d", le.Need))
			require.Contains(t, err.Error(), fmt.Sprintf("max_batch_size %d", p.MaxBatchSize))
			require.Contains(t, err.Error(), home)
		})
	}
}

func TestRaiseLimits(t *testing.T) {
	sizes, err := node.LargestTx(maxParams)
	require.NoError(t, err)
	cfg := node.CometConfig(t.TempDir(), "n", 0)
	require.NoError(t, node.RaiseLimits(cfg, maxParams))
	require.GreaterOrEqual(t, cfg.RPC.MaxBodyBytes, sizes.RPCBody)
	require.Zero(t, cfg.RPC.MaxBodyBytes%(1<<20), "rounded up to a whole MiB")
	unraised := node.CometConfig(t.TempDir(), "n", 0).Mempool
	require.Equal(t, unraised.MaxTxBytes, cfg.Mempool.MaxTxBytes, "already large enough")
	require.Equal(t, unraised.MaxTxsBytes, cfg.Mempool.MaxTxsBytes, "already large enough")

	// never lowered
	big := node.CometConfig(t.TempDir(), "n", 0)
	big.RPC.MaxBodyBytes, big.Mempool.MaxTxBytes, big.Mempool.MaxTxsBytes = 1<<30, 1<<30, 1<<31
	require.NoError(t, node.RaiseLimits(big, maxParams))
	require.Equal(t, int64(1<<30), big.RPC.MaxBodyBytes)
	require.Equal(t, 1<<30, big.Mempool.MaxTxBytes)
	require.Equal(t, int64(1<<31), big.Mempool.MaxTxsBytes)

	// the defaults already fit the default params
	def := node.CometConfig(t.TempDir(), "n", 0)
	require.NoError(t, node.RaiseLimits(def, types.DefaultParams()))
	require.Equal(t, cmtcfg.DefaultConfig().RPC.MaxBodyBytes, def.RPC.MaxBodyBytes)
}

// checkHome runs CheckLimits on a home's config and genesis files.
func checkHome(t *testing.T, home string) (*cmtcfg.Config, error) {
	t.Helper()
	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	doc, err := cmttypes.GenesisDocFromFile(cfg.GenesisFile())
	require.NoError(t, err)
	return cfg, node.CheckLimits(cfg, doc)
}

// TestNewHomesAdmitLargestTx checks that homes are born consistent with
// the params they are made for: a default home, a testnet with the largest
// batch size, and a home that joins that testnet.
func TestNewHomesAdmitLargestTx(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "single")
	_, err := node.InitHome(node.InitOptions{Home: home})
	require.NoError(t, err)
	cfg, err := checkHome(t, home)
	require.NoError(t, err)
	require.Equal(t, cmtcfg.DefaultConfig().RPC.MaxBodyBytes, cfg.RPC.MaxBodyBytes, "default params need no raise")

	p := paramsWith(types.MaxBatchSizeLimit, 256)
	nodes, err := node.InitTestnet(node.TestnetOptions{Validators: 2, Output: filepath.Join(dir, "net"), Params: p})
	require.NoError(t, err)
	for _, n := range nodes {
		cfg, err := checkHome(t, n.Home)
		require.NoError(t, err)
		require.Greater(t, cfg.RPC.MaxBodyBytes, cmtcfg.DefaultConfig().RPC.MaxBodyBytes)
	}

	joiner := filepath.Join(dir, "joiner")
	_, err = node.InitHome(node.InitOptions{Home: joiner, IssuerID: "joiner", Genesis: filepath.Join(nodes[0].Home, "config", "genesis.json")})
	require.NoError(t, err)
	_, err = checkHome(t, joiner)
	require.NoError(t, err)
}

// TestInitHomeRefusesSmallBlocks checks that joining a genesis whose blocks
// cannot hold its largest tx fails, naming the file, before anything is
// written.
func TestInitHomeRefusesSmallBlocks(t *testing.T) {
	dir := t.TempDir()
	doc := testGenesis(t, paramsWith(types.MaxBatchSizeLimit, 256))
	doc.ConsensusParams.Block.MaxBytes, doc.ConsensusParams.Evidence.MaxBytes = 1_000_000, 100_000
	path := filepath.Join(dir, "genesis.json")
	require.NoError(t, doc.SaveAs(path))
	home := filepath.Join(dir, "joiner")
	_, err := node.InitHome(node.InitOptions{Home: home, IssuerID: "joiner", Genesis: path})
	var le *node.LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "consensus_params.block.max_bytes", le.Setting)
	require.Equal(t, path, le.File)
	require.Contains(t, err.Error(), "consensus_params.block.max_bytes = 1000000 in "+path)
	require.NoDirExists(t, home)
}

// TestNewFullNodeRefusesSmallLimits checks that a node whose config cannot
// admit the largest tx refuses to start, naming the setting in one line.
func TestNewFullNodeRefusesSmallLimits(t *testing.T) {
	nodes, err := node.InitTestnet(node.TestnetOptions{Validators: 1, Output: t.TempDir(), Params: paramsWith(types.MaxBatchSizeLimit, 256)})
	require.NoError(t, err)
	home := nodes[0].Home
	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	cfg.RPC.MaxBodyBytes = 1_000_000
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)

	n, err := node.NewFullNode(home, log.NewNopLogger())
	if n != nil {
		_ = n.Stop()
	}
	var le *node.LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "rpc.max_body_bytes", le.Setting)
	require.NotContains(t, err.Error(), "\n")
	require.Contains(t, err.Error(), "rpc.max_body_bytes = 1000000 in "+filepath.Join(home, "config", "config.toml"))
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestLargestTxBroadcasts starts a one-validator chain whose max_batch_size
// is types.MaxBatchSizeLimit with the config InitTestnet writes, and
// anchors, then revokes with the longest reason, one full batch through its
// RPC with node/client: each in one tx that commits.
func TestLargestTxBroadcasts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and commits a 3.4 MB tx: skipped in -short mode")
	}
	// not t.TempDir: CometBFT can still be writing into the home when the
	// cleanups run, and TempDir then fails the test
	dir, err := os.MkdirTemp("", "credledger-limits-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // after the node's Stop (cleanups are LIFO)
	p := paramsWith(types.MaxBatchSizeLimit, 256)
	nodes, err := node.InitTestnet(node.TestnetOptions{Validators: 1, Output: dir, Params: p})
	require.NoError(t, err)
	home := nodes[0].Home
	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	cfg.Consensus.TimeoutPropose = time.Second
	cfg.Consensus.TimeoutCommit = 100 * time.Millisecond
	// CometBFT registers its metrics on the default Prometheus registry
	// and panics on a second node of this process (metrics_test.go
	// starts one with them)
	cfg.Instrumentation.Prometheus = false
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)

	n, err := node.NewFullNode(home, log.NewNopLogger())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Stop()) })
	require.NoError(t, n.Start())

	key, err := keys.Load(home, nodes[0].Issuer)
	require.NoError(t, err)
	c, err := client.New(n.RPCURL())
	require.NoError(t, err)
	// generous: under the race detector executing and committing a
	// 100,000-hash tx takes tens of seconds on 2 cores
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	hashes := testHashes(int(p.MaxBatchSize))
	// the anchor, then the largest tx of this chain: a revocation of as
	// many hashes with the longest reason
	for _, tc := range []struct{ action, reason string }{
		{types.ActionAnchor, ""},
		{types.ActionRevoke, strings.Repeat("r", int(p.MaxReasonLength))},
	} {
		start := time.Now()
		res, err := c.Submit(ctx, key, tc.action, hashes, client.SubmitOptions{Reason: tc.reason, CommitTimeout: 4 * time.Minute})
		t.Logf("%s of %d hashes committed in %s", tc.action, len(hashes), time.Since(start).Round(time.Millisecond))
		require.NoError(t, err, tc.action)
		require.Len(t, res, 1, "one %s tx of max_batch_size hashes", tc.action)
		require.NoError(t, res[0].Err, tc.action)
		require.Positive(t, res[0].Height, tc.action)
		require.Len(t, res[0].Hashes, len(hashes), tc.action)
	}
}
