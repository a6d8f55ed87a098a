package node_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/config"
	"github.com/credledger/credledger/node"
)

// fakeRPC serves CometBFT's status and commit JSON-RPC methods for a
// chain at height latest whose header at each height has the given time.
func fakeRPC(t *testing.T, chainID string, latest int64, headerTime time.Time) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req rpctypes.RPCRequest
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		var res any
		switch req.Method {
		case "status":
			res = &ctypes.ResultStatus{NodeInfo: p2p.DefaultNodeInfo{Network: chainID}, SyncInfo: ctypes.SyncInfo{LatestBlockHeight: latest}}
		case "commit":
			var p struct {
				Height string `json:"height"`
			}
			require.NoError(t, json.Unmarshal(req.Params, &p))
			var h int64
			_, err := fmt.Sscan(p.Height, &h)
			require.NoError(t, err)
			hdr := &cmttypes.Header{ChainID: chainID, Height: h, Time: headerTime, ValidatorsHash: bytes.Repeat([]byte{1}, 32)}
			commit := &cmttypes.Commit{Height: h, BlockID: cmttypes.BlockID{Hash: hdr.Hash()}}
			res = ctypes.NewResultCommit(hdr, commit, true)
		default:
			t.Errorf("unexpected method %q", req.Method)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		require.NoError(t, json.NewEncoder(w).Encode(rpctypes.NewRPCSuccessResponse(req.ID, res)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// FetchTrustPoint takes the lowest latest height of the servers and
// requires them to agree on its block and on the chain.
func TestFetchTrustPoint(t *testing.T) {
	tm := time.Unix(1_700_000_000, 0).UTC()
	a, b := fakeRPC(t, "c1", 40, tm), fakeRPC(t, "c1", 37, tm)
	tp, err := node.FetchTrustPoint(t.Context(), "c1", []string{a, b})
	require.NoError(t, err)
	require.Equal(t, int64(37), tp.Height)
	require.Regexp(t, `^[0-9A-F]{64}$`, tp.Hash)
	require.Equal(t, []string{a, b}, tp.Servers)

	forked := fakeRPC(t, "c1", 50, tm.Add(time.Second))
	_, err = node.FetchTrustPoint(t.Context(), "c1", []string{a, forked})
	require.ErrorIs(t, err, node.ErrTrustDisagree)
	require.ErrorContains(t, err, "block 40 is")

	_, err = node.FetchTrustPoint(t.Context(), "c2", []string{a, b})
	require.ErrorIs(t, err, node.ErrTrustDisagree)
	require.ErrorContains(t, err, `is on chain "c1"`)

	_, err = node.FetchTrustPoint(t.Context(), "c1", []string{a})
	require.ErrorContains(t, err, "at least two")
}

// `init --state-sync` needs --genesis and --peers, and writes CometBFT's
// [statesync] from the servers' trust point; a testnet writes its
// snapshot interval into every credledger.toml.
func TestInitStateSync(t *testing.T) {
	dir := t.TempDir()
	nodes, err := node.InitTestnet(node.TestnetOptions{Validators: 2, Output: filepath.Join(dir, "net"), SnapshotInterval: 7})
	require.NoError(t, err)
	for _, n := range nodes {
		c, err := config.Load(config.Path(n.Home))
		require.NoError(t, err)
		require.Equal(t, uint64(7), c.StateSync.SnapshotInterval)
		require.Equal(t, uint32(config.DefaultSnapshotKeepRecent), c.StateSync.SnapshotKeepRecent)
	}
	genesis := filepath.Join(nodes[0].Home, "config", "genesis.json")
	doc, err := cmttypes.GenesisDocFromFile(genesis)
	require.NoError(t, err)
	tm := time.Unix(1_700_000_000, 0).UTC()
	servers := []string{fakeRPC(t, doc.ChainID, 12, tm), fakeRPC(t, doc.ChainID, 12, tm)}
	peer := nodes[0].NodeID + "@" + nodes[0].P2P

	_, err = node.InitHome(node.InitOptions{Home: filepath.Join(dir, "a"), StateSync: servers})
	require.ErrorContains(t, err, "--state-sync needs --genesis")
	_, err = node.InitHome(node.InitOptions{Home: filepath.Join(dir, "b"), Genesis: genesis, IssuerID: "b", StateSync: servers})
	require.ErrorContains(t, err, "--state-sync needs --peers")
	require.NoDirExists(t, filepath.Join(dir, "b"))
	bad := []string{servers[0], fakeRPC(t, doc.ChainID, 12, tm.Add(time.Second))}
	_, err = node.InitHome(node.InitOptions{Home: filepath.Join(dir, "c"), Genesis: genesis, IssuerID: "c", Peers: peer, StateSync: bad})
	require.True(t, errors.Is(err, node.ErrTrustDisagree), "%v", err)
	require.NoDirExists(t, filepath.Join(dir, "c"))

	home := filepath.Join(dir, "joiner")
	res, err := node.InitHome(node.InitOptions{Home: home, Genesis: genesis, IssuerID: "joiner", Peers: peer, StateSync: servers})
	require.NoError(t, err)
	require.NotNil(t, res.Trust)
	require.Equal(t, int64(12), res.Trust.Height)
	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	require.True(t, cfg.StateSync.Enable)
	require.Equal(t, servers, cfg.StateSync.RPCServers)
	require.Equal(t, int64(12), cfg.StateSync.TrustHeight)
	require.Equal(t, res.Trust.Hash, cfg.StateSync.TrustHash)
	require.Positive(t, cfg.StateSync.TrustPeriod)
}
