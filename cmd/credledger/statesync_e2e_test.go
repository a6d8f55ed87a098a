package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/config"
	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/types"
)

const (
	// stateSyncInterval is the testnet's snapshot interval, in blocks
	stateSyncInterval = 5
	// stateSyncKeep is how many snapshots the testnet's nodes keep: a
	// snapshot must outlive the joiner's discovery (5 s) and download
	stateSyncKeep = 10
	// stateSyncTimeout bounds the joiner's restore and catching up
	stateSyncTimeout = 2 * time.Minute
)

// startSnapshotNet is startLocalNet for a testnet made with `credledger
// testnet --snapshot-interval`, whose nodes keep stateSyncKeep snapshots.
// No retry on a port taken meanwhile: the test fails and says so.
func startSnapshotNet(t *testing.T, opts netOptions, interval int) *localNet {
	t.Helper()
	bin := e2eBinary(t)
	ln := &localNet{t: t, bin: bin, dir: filepath.Join(t.TempDir(), "tn"), slots: opts.validators + opts.spare, opts: opts}
	ln.base = netFreeBase(t, ln.slots)
	res := runCLI(t, bin, "testnet", "--validators", fmt.Sprint(opts.validators), "--output", ln.dir,
		"--base-port", fmt.Sprint(ln.base), "--snapshot-interval", fmt.Sprint(interval))
	require.Equal(t, 0, res.code, "testnet: %s", res)
	list, err := node.LoadTestnet(ln.dir)
	require.NoError(t, err)
	for _, tn := range list {
		ccfg, err := config.Load(config.Path(tn.Home))
		require.NoError(t, err)
		require.Equal(t, uint64(interval), ccfg.StateSync.SnapshotInterval, "testnet --snapshot-interval is written to credledger.toml")
		ccfg.StateSync.SnapshotKeepRecent = stateSyncKeep
		require.NoError(t, ccfg.Save(config.Path(tn.Home)))
		ln.nodes = append(ln.nodes, ln.newNode(tn))
	}
	for _, n := range ln.nodes {
		require.NoError(t, n.start())
	}
	require.NoError(t, ln.waitReady(ln.nodes, 1, netStartTimeout))
	return ln
}

// joinStateSync initialises a node with `credledger init --genesis --peers
// --state-sync RPC,RPC` in the next port slot (not started) and returns it
// with the trust height and hash init printed.
func (ln *localNet) joinStateSync(t *testing.T, issuer string, rpcs []string) (n *netNode, trustHeight int64, trustHash string) {
	t.Helper()
	i := len(ln.nodes)
	require.Less(t, i, ln.slots, "no spare port slot for another node")
	name := fmt.Sprintf("node%d", i)
	home := filepath.Join(ln.dir, name)
	var peers []string
	for _, p := range ln.nodes {
		peers = append(peers, p.nodeID+"@"+p.p2p)
	}
	genesis := filepath.Join(ln.nodes[0].home, "config", "genesis.json")
	res := runCLI(t, ln.bin, "init", "--home", home, "--genesis", genesis, "--peers", strings.Join(peers, ","),
		"--state-sync", strings.Join(rpcs, ","), "--issuer", issuer, "--base-port", fmt.Sprint(ln.base+10*i))
	require.Equal(t, 0, res.code, "init --state-sync: %s", res)
	m := regexp.MustCompile(`trust height ([0-9]+), hash ([0-9A-F]{64}): compare with another member before starting`).FindStringSubmatch(res.stdout)
	require.NotNil(t, m, "init prints the trust height and hash: %s", res)
	trustHeight, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	id := regexp.MustCompile(`node id:\s+([0-9a-f]{40})`).FindStringSubmatch(res.stdout)
	require.NotNil(t, id, "init prints the node id: %s", res)

	cfg, err := node.LoadCometConfig(home)
	require.NoError(t, err)
	require.True(t, cfg.StateSync.Enable)
	require.Equal(t, rpcs, cfg.StateSync.RPCServers)
	require.Equal(t, trustHeight, cfg.StateSync.TrustHeight)
	require.Equal(t, m[2], cfg.StateSync.TrustHash)
	cfg.StateSync.DiscoveryTime = 5 * time.Second // CometBFT's minimum; 15 s by default
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)

	n = ln.newNode(node.TestnetNode{
		Name: name, Home: home, Issuer: issuer, NodeID: id[1],
		RPC: fmt.Sprintf("http://127.0.0.1:%d", ln.base+10*i+1), P2P: fmt.Sprintf("127.0.0.1:%d", ln.base+10*i),
	})
	ln.nodes = append(ln.nodes, n)
	return n, trustHeight, m[2]
}

// earliestHeight returns the lowest block height n's block store holds.
func (n *netNode) earliestHeight(t *testing.T) int64 {
	t.Helper()
	ctx, cancel := netCtx()
	defer cancel()
	st, err := n.c.RPC().Status(ctx)
	require.NoError(t, err, n.name)
	return st.SyncInfo.EarliestBlockHeight
}

// A node initialised with `init --state-sync` restores a snapshot of a
// running testnet instead of replaying from genesis (its block store
// starts above 1), catches up, has the others' app hashes, and proves
// the credentials anchored before the snapshot.
func TestStateSyncJoin(t *testing.T) {
	ln := startSnapshotNet(t, netOptions{validators: 2, spare: 1, steadyBlocks: true}, stateSyncInterval)
	n0, n1 := ln.nodes[0], ln.nodes[1]
	committed := n0.submitAnchors(t, n0.loadKey(t, "issuer0"), netRandomHashes(t, 3000), 1000)
	var anchoredAt int64
	for _, h := range committed {
		anchoredAt = max(anchoredAt, h)
	}
	// two snapshot heights after the anchors
	ln.settle(t, (anchoredAt/stateSyncInterval+2)*stateSyncInterval+1)

	joiner, trustHeight, trustHash := ln.joinStateSync(t, "joiner", []string{n0.url, n1.url})
	_, block, err := n1.appHash(trustHeight)
	require.NoError(t, err)
	require.Equal(t, trustHash, fmt.Sprintf("%X", block), "the printed trust hash is the block's")
	started := time.Now()
	require.NoError(t, joiner.start())
	top := netMaxHeight(t, ln.nodes[:2])
	require.NoError(t, ln.waitReady([]*netNode{joiner}, top, stateSyncTimeout), "the joiner restores and catches up")
	t.Logf("joiner reached height %d in %s", top, time.Since(started).Round(time.Millisecond))

	earliest := joiner.earliestHeight(t)
	require.Greater(t, earliest, int64(1), "the joiner's block store starts after a snapshot, not at genesis")
	require.Greater(t, earliest, anchoredAt, "the snapshot holds the anchors")
	t.Logf("joiner's block store starts at %d; anchors committed by %d", earliest, anchoredAt)

	now := netMaxHeight(t, ln.nodes)
	ln.waitHeight(t, ln.nodes, now, 30*time.Second)
	netCheckAgree(t, ln.nodes, earliest, now)

	// every credential anchored before the snapshot is in the restored
	// state, proven against the app hash of a header the others agree on
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var checked int
	for hx := range committed {
		hash, err := hex.DecodeString(hx)
		require.NoError(t, err)
		p, err := joiner.c.QueryCredential(ctx, hash, 0)
		require.NoError(t, err)
		appHash, _, err := n0.appHash(p.Height + 1)
		require.NoError(t, err)
		res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, appHash)
		require.NoError(t, err, "proof of %s from %s", hx, joiner.name)
		require.Equal(t, types.VerdictValid, res.Verdict)
		require.Equal(t, "issuer0", res.Issuer())
		require.Equal(t, committed[hx], res.Anchor.Height)
		if checked++; checked == 50 {
			break
		}
	}

	// status and a light-client verify through the joiner (CLI), of a
	// credential it executed itself on the restored state
	later := netRandomHex(t)
	at := ln.anchor(t, n1.home, "issuer1", later)
	joiner.checkValid(t, "issuer1", map[string]int64{later: at})
	root := earliest + 1
	_, rootHash, err := n0.appHash(root)
	require.NoError(t, err)
	var out struct {
		Verdict  string `json:"verdict"`
		Issuer   string `json:"issuer"`
		Verified bool   `json:"verified"`
	}
	netCLIJSON(t, ln.bin, &out, "verify", "--hash", later, "--node", joiner.url, "--witness", n0.url,
		"--trust-height", fmt.Sprint(root), "--trust-hash", fmt.Sprintf("%X", rootHash),
		"--light-home", filepath.Join(t.TempDir(), "light"))
	require.Equal(t, "valid", out.Verdict)
	require.Equal(t, "issuer1", out.Issuer)
	require.True(t, out.Verified)

	// a credential anchored before the joiner's first block, through the
	// joiner as primary, trusting the genesis file: the headers it does not
	// keep (the root, the one dating the anchor) come from one witness and
	// are confirmed by the other
	var early string
	for hx := range committed {
		early = hx
		break
	}
	var old struct {
		Verdict      string `json:"verdict"`
		Issuer       string `json:"issuer"`
		Verified     bool   `json:"verified"`
		AnchorHeight int64  `json:"anchored_height"`
	}
	netCLIJSON(t, ln.bin, &old, "verify", "--hash", early, "--node", joiner.url, "--witness", n0.url, "--witness", n1.url,
		"--genesis", filepath.Join(n0.home, "config", "genesis.json"), "--light-home", filepath.Join(t.TempDir(), "light"))
	require.Equal(t, "valid", old.Verdict)
	require.Equal(t, "issuer0", old.Issuer)
	require.True(t, old.Verified)
	require.Equal(t, committed[early], old.AnchorHeight)
	require.Less(t, old.AnchorHeight, earliest, "anchored before the joiner's first block")

	for _, n := range ln.nodes {
		n.stop(t)
	}
}
