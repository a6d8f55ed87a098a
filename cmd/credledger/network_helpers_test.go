package main

// Helpers for the multi-node tests in network_test.go: a testnet of
// credledger processes on 127.0.0.1, made by `credledger testnet`, whose
// nodes can be stopped, killed and restarted one by one.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

const (
	// testnet port blocks come from below Linux's ephemeral range (32768+),
	// so outgoing connections do not take them, and away from the ports
	// freeBasePort hands out (30000+)
	netPortLow   = 20000
	netPortHigh  = 29900
	netPortTries = 40
	// netStartTries bounds the attempts to start a testnet on a fresh
	// port block when a port was taken between the check and the bind
	netStartTries = 3

	netStartTimeout = 60 * time.Second
	netStopTimeout  = 15 * time.Second
	netRPCTimeout   = 5 * time.Second
	netPoll         = 200 * time.Millisecond
	// netLogTail is how much of each node's log a failed test prints
	netLogTail = 16 << 10
)

var (
	netPortMu   sync.Mutex
	netPortNext int
	// netPortsUsed are the ports of every block handed out by this process
	netPortsUsed = map[int]bool{}
)

// netFreeBase returns a base port P such that P+10*I, P+10*I+1 and
// P+10*I+2 (node I's p2p, RPC and Prometheus ports) could be listened on
// at 127.0.0.1 a moment ago for every node slot I < slots, and that no
// earlier call returned.
func netFreeBase(t *testing.T, slots int) int {
	t.Helper()
	netPortMu.Lock()
	defer netPortMu.Unlock()
	span := 10 * slots
	blocks := (netPortHigh - netPortLow) / span
	if netPortNext == 0 {
		netPortNext = netPortLow + (os.Getpid()*7919)%blocks*span
	}
	for range netPortTries {
		p := netPortNext
		netPortNext += span
		if netPortNext+span > netPortHigh {
			netPortNext = netPortLow
		}
		var ports []int
		for i := range slots {
			ports = append(ports, p+10*i, p+10*i+1, p+10*i+2)
		}
		free := true
		for _, port := range ports {
			free = free && !netPortsUsed[port] && netCanListen(port)
		}
		if free {
			for _, port := range ports {
				netPortsUsed[port] = true
			}
			return p
		}
	}
	t.Fatalf("no free block of %d node ports in %d..%d after %d tries", slots, netPortLow, netPortHigh, netPortTries)
	return 0
}

func netCanListen(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// netOptions describes a testnet to start.
type netOptions struct {
	validators int
	// spare is the number of extra port slots kept for nodes that join later
	spare int
	// expiry is the genesis proposal_expiry_blocks (0: the CLI's default)
	expiry int64
	// steadyBlocks makes the nodes commit a block about every second even
	// without txs (create_empty_blocks_interval 0, timeout_commit 500ms),
	// instead of the shipped config's block per 30 s when idle. Tests that
	// wait for a number of blocks (expiry, validator updates) need it.
	steadyBlocks bool
}

// localNet is a testnet of credledger processes. Not safe for concurrent
// use; methods that take a t may be called from subtests.
type localNet struct {
	t     *testing.T
	bin   string
	dir   string
	base  int
	slots int
	opts  netOptions
	nodes []*netNode
}

// netNode is one credledger process of a localNet.
type netNode struct {
	t       *testing.T
	bin     string
	name    string
	home    string
	issuer  string
	url     string
	p2p     string
	nodeID  string
	logPath string
	c       *client.Client

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startLocalNet writes a testnet with `credledger testnet`, starts every
// node and waits until each serves queries at height >= 1. Every process is
// killed in t.Cleanup, and the node logs are printed if the test failed.
func startLocalNet(t *testing.T, opts netOptions) *localNet {
	t.Helper()
	bin := e2eBinary(t)
	var lastErr error
	for try := range netStartTries {
		ln := &localNet{t: t, bin: bin, dir: filepath.Join(t.TempDir(), "tn"), slots: opts.validators + opts.spare, opts: opts}
		ln.base = netFreeBase(t, ln.slots)
		ln.generate()
		for _, n := range ln.nodes {
			require.NoError(t, n.start())
		}
		if lastErr = ln.waitReady(ln.nodes, 1, netStartTimeout); lastErr == nil {
			return ln
		}
		t.Logf("testnet start attempt %d on ports %d..%d failed: %v", try+1, ln.base, ln.base+10*ln.slots, lastErr)
		inUse := false
		for _, n := range ln.nodes {
			n.kill()
			inUse = inUse || n.logContains("address already in use")
		}
		if !inUse {
			break
		}
	}
	t.Fatalf("start testnet: %v", lastErr)
	return nil
}

// generate runs `credledger testnet` and reads back its nodes.json.
func (ln *localNet) generate() {
	t := ln.t
	t.Helper()
	args := []string{"testnet", "--validators", fmt.Sprint(ln.opts.validators), "--output", ln.dir, "--base-port", fmt.Sprint(ln.base)}
	if ln.opts.expiry > 0 {
		args = append(args, "--proposal-expiry", fmt.Sprint(ln.opts.expiry))
	}
	res := runCLI(t, ln.bin, args...)
	require.Equal(t, 0, res.code, "testnet: %s", res)
	require.Len(t, res.stdoutLines(), ln.opts.validators, "testnet prints one line per node: %s", res)
	list, err := node.LoadTestnet(ln.dir)
	require.NoError(t, err)
	require.Len(t, list, ln.opts.validators)
	for i, tn := range list {
		// the documented layout: node I has p2p on P+10*I and RPC on P+10*I+1
		require.Equal(t, fmt.Sprintf("node%d", i), tn.Name)
		require.Equal(t, fmt.Sprintf("issuer%d", i), tn.Issuer)
		require.Equal(t, fmt.Sprintf("127.0.0.1:%d", ln.base+10*i), tn.P2P)
		require.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", ln.base+10*i+1), tn.RPC)
		require.Contains(t, res.stdoutLines()[i], tn.Name+"  issuer="+tn.Issuer)
		ln.nodes = append(ln.nodes, ln.newNode(tn))
	}
}

func (ln *localNet) newNode(tn node.TestnetNode) *netNode {
	t := ln.t
	t.Helper()
	c, err := client.New(tn.RPC)
	require.NoError(t, err)
	n := &netNode{
		t: t, bin: ln.bin, name: tn.Name, home: tn.Home, issuer: tn.Issuer, url: tn.RPC, p2p: tn.P2P,
		nodeID: tn.NodeID, logPath: filepath.Join(filepath.Dir(tn.Home), tn.Name+".log"), c: c,
	}
	if ln.opts.steadyBlocks {
		cfg, err := node.LoadCometConfig(n.home)
		require.NoError(t, err)
		cfg.Consensus.CreateEmptyBlocksInterval = 0
		cfg.Consensus.TimeoutCommit = 500 * time.Millisecond
		cmtcfg.WriteConfigFile(filepath.Join(n.home, "config", "config.toml"), cfg)
	}
	// cleanups run last-in first-out: kill, then print the log
	t.Cleanup(func() {
		if t.Failed() {
			n.printLog()
		}
	})
	t.Cleanup(n.kill)
	return n
}

// join initialises a node that joins the network with `credledger init
// --genesis --peers` in the next free port slot (not started).
func (ln *localNet) join(issuer string) *netNode {
	t := ln.t
	t.Helper()
	i := len(ln.nodes)
	require.Less(t, i, ln.slots, "no spare port slot for another node")
	name := fmt.Sprintf("node%d", i)
	home := filepath.Join(ln.dir, name)
	var peers []string
	for _, n := range ln.nodes {
		peers = append(peers, n.nodeID+"@"+n.p2p)
	}
	genesis := filepath.Join(ln.nodes[0].home, "config", "genesis.json")
	res := runCLI(t, ln.bin, "init", "--home", home, "--genesis", genesis, "--peers", strings.Join(peers, ","),
		"--issuer", issuer, "--base-port", fmt.Sprint(ln.base+10*i))
	require.Equal(t, 0, res.code, "init --genesis: %s", res)
	require.Contains(t, res.stdout, "joins as a full node", "init --genesis: %s", res)
	m := regexp.MustCompile(`node id:\s+([0-9a-f]{40})`).FindStringSubmatch(res.stdout)
	require.NotNil(t, m, "init prints the node id: %s", res)
	n := ln.newNode(node.TestnetNode{
		Name: name, Home: home, Issuer: issuer, NodeID: m[1],
		RPC: fmt.Sprintf("http://127.0.0.1:%d", ln.base+10*i+1), P2P: fmt.Sprintf("127.0.0.1:%d", ln.base+10*i),
	})
	ln.nodes = append(ln.nodes, n)
	return n
}

// start runs `credledger start` in the node's home, appending to its log.
// It does not wait for the node to be ready.
func (n *netNode) start() error {
	if n.running() {
		return fmt.Errorf("%s is already running", n.name)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "start", "--home", n.home, "--log-level", "*:error")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	return nil
}

func (n *netNode) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and requires a graceful shutdown (exit status 0)
// within netStopTimeout.
func (n *netNode) stop(t *testing.T) {
	t.Helper()
	if !n.running() {
		return
	}
	require.NoError(t, n.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-n.done:
		require.True(t, n.cmd.ProcessState.Success(), "%s after SIGTERM: %s", n.name, n.cmd.ProcessState)
	case <-time.After(netStopTimeout):
		n.kill()
		t.Fatalf("%s did not exit within %s of SIGTERM", n.name, netStopTimeout)
	}
}

// kill sends SIGKILL (a crash) and waits for the process to exit. It does
// nothing if the node is not running.
func (n *netNode) kill() {
	if !n.running() {
		return
	}
	_ = n.cmd.Process.Kill()
	select {
	case <-n.done:
	case <-time.After(netStopTimeout):
		n.t.Errorf("%s (pid %d) did not exit within %s of SIGKILL", n.name, n.cmd.Process.Pid, netStopTimeout)
	}
}

func (n *netNode) logContains(s string) bool {
	bz, err := os.ReadFile(n.logPath)
	return err == nil && bytes.Contains(bz, []byte(s))
}

// printLog logs the tail of the node's log file.
func (n *netNode) printLog() {
	bz, err := os.ReadFile(n.logPath)
	if err != nil {
		n.t.Logf("%s log %s: %v", n.name, n.logPath, err)
		return
	}
	if len(bz) > netLogTail {
		bz = append([]byte("...\n"), bz[len(bz)-netLogTail:]...)
	}
	n.t.Logf("%s log %s:\n%s", n.name, n.logPath, bz)
}

func netCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), netRPCTimeout)
}

// appHeight returns the height of the node's last committed app state (the
// block store gets a block before the app commits it).
func (n *netNode) appHeight() (int64, error) {
	ctx, cancel := netCtx()
	defer cancel()
	info, err := n.c.RPC().ABCIInfo(ctx)
	if err != nil {
		return 0, err
	}
	return info.Response.LastBlockHeight, nil
}

// height returns the node's latest block height.
func (n *netNode) height() (int64, error) {
	ctx, cancel := netCtx()
	defer cancel()
	info, err := n.c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return info.LatestHeight, nil
}

// mustHeight is height for a node that must be up.
func (n *netNode) mustHeight(t *testing.T) int64 {
	t.Helper()
	h, err := n.height()
	require.NoError(t, err, n.name)
	return h
}

// appHash returns the app hash and block hash in the header at height h.
func (n *netNode) appHash(h int64) (appHash, blockHash []byte, err error) {
	ctx, cancel := netCtx()
	defer cancel()
	res, err := n.c.RPC().Commit(ctx, &h)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: commit %d: %w", n.name, h, err)
	}
	if res.Header == nil || res.Header.Height != h {
		return nil, nil, fmt.Errorf("%s: no header for height %d", n.name, h)
	}
	return res.Header.AppHash, res.Commit.BlockID.Hash, nil
}

// netEventually calls fn every netPoll until it returns nil, and fails the
// test with fn's last error if that does not happen within timeout.
func netEventually(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for i := 0; i <= int(timeout/netPoll); i++ {
		if last = fn(); last == nil {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(netPoll)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, last)
}

// waitReady waits until every node has committed the app state of height
// minHeight (and so has its block), or returns why not.
func (ln *localNet) waitReady(nodes []*netNode, minHeight int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range nodes {
		var last error
		for i := 0; ; i++ {
			if !n.running() {
				return fmt.Errorf("%s exited: %s", n.name, n.cmd.ProcessState)
			}
			h, err := n.appHeight()
			if err == nil && h < minHeight {
				err = fmt.Errorf("%s has committed height %d < %d", n.name, h, minHeight)
			}
			if last = err; last == nil {
				break
			}
			if time.Now().After(deadline) || i > int(timeout/netPoll) {
				return fmt.Errorf("%s not ready within %s: %w", n.name, timeout, last)
			}
			time.Sleep(netPoll)
		}
	}
	return nil
}

// waitHeight requires every node to commit height h within timeout.
func (ln *localNet) waitHeight(t *testing.T, nodes []*netNode, h int64, timeout time.Duration) {
	t.Helper()
	require.NoError(t, ln.waitReady(nodes, h, timeout))
}

// netMaxHeight returns the highest latest height among nodes, which must be up.
func netMaxHeight(t *testing.T, nodes []*netNode) int64 {
	t.Helper()
	var top int64
	for _, n := range nodes {
		top = max(top, n.mustHeight(t))
	}
	return top
}

// netCheckAgree requires every node to have the same block and app hash at
// each height from..to, and returns the app hashes by height.
func netCheckAgree(t *testing.T, nodes []*netNode, from, to int64) map[int64][]byte {
	t.Helper()
	out := make(map[int64][]byte)
	for h := from; h <= to; h++ {
		want, wantBlock, err := nodes[0].appHash(h)
		require.NoError(t, err)
		require.NotEmpty(t, want, "app hash at %d", h)
		for _, n := range nodes[1:] {
			got, gotBlock, err := n.appHash(h)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%X", want), fmt.Sprintf("%X", got), "app hash at height %d: %s vs %s", h, nodes[0].name, n.name)
			require.Equal(t, fmt.Sprintf("%X", wantBlock), fmt.Sprintf("%X", gotBlock), "block hash at height %d: %s vs %s", h, nodes[0].name, n.name)
		}
		out[h] = want
	}
	return out
}

// validatorKeys returns the hex public keys of the validator set at height h
// (0: latest) as node n sees it.
func (n *netNode) validatorKeys(h int64) ([]string, error) {
	ctx, cancel := netCtx()
	defer cancel()
	perPage := 100
	var hp *int64
	if h > 0 {
		hp = &h
	}
	res, err := n.c.RPC().Validators(ctx, hp, nil, &perPage)
	if err != nil {
		return nil, fmt.Errorf("%s: validators at %d: %w", n.name, h, err)
	}
	var keys []string
	for _, v := range res.Validators {
		keys = append(keys, hex.EncodeToString(v.PubKey.Bytes()))
	}
	return keys, nil
}

// mempoolSize returns the number of txs in the node's mempool.
func (n *netNode) mempoolSize() (int, error) {
	ctx, cancel := netCtx()
	defer cancel()
	res, err := n.c.RPC().NumUnconfirmedTxs(ctx)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// netRandomHashes returns k random 32-byte credential hashes.
func netRandomHashes(t *testing.T, k int) [][]byte {
	t.Helper()
	out := make([][]byte, k)
	for i := range out {
		out[i] = make([]byte, 32)
		_, err := rand.Read(out[i])
		require.NoError(t, err)
	}
	return out
}

// netRandomHex returns a random credential hash in hex.
func netRandomHex(t *testing.T) string {
	t.Helper()
	return hex.EncodeToString(netRandomHashes(t, 1)[0])
}

// loadKey loads the key NAME from the node's home.
func (n *netNode) loadKey(t *testing.T, name string) *keys.Key {
	t.Helper()
	k, err := keys.Load(n.home, name)
	require.NoError(t, err)
	return k
}

// submitAnchors anchors hashes through n with key, in batches of batch, and
// requires every batch to be committed. It returns the commit height of
// each hash, by hex.
func (n *netNode) submitAnchors(t *testing.T, key *keys.Key, hashes [][]byte, batch int) map[string]int64 {
	t.Helper()
	res, err := n.c.Submit(t.Context(), key, types.ActionAnchor, hashes, client.SubmitOptions{BatchSize: batch, CommitTimeout: 60 * time.Second})
	require.NoError(t, err, "submit to %s", n.name)
	return netCommitted(t, res, len(hashes))
}

// netCommitted requires every batch to be committed and returns the commit
// height of each hash, by hex.
func netCommitted(t *testing.T, res []client.BatchResult, want int) map[string]int64 {
	t.Helper()
	out := make(map[string]int64)
	for _, r := range res {
		require.NoError(t, r.Err, "batch of %d", len(r.Hashes))
		require.Positive(t, r.Height)
		for _, h := range r.Hashes {
			out[hex.EncodeToString(h)] = r.Height
		}
	}
	require.Len(t, out, want, "every hash is committed")
	return out
}

// checkValid requires every hash to verify as valid, anchored by issuer at
// the given height, on node n (with proofs checked against n's headers).
func (n *netNode) checkValid(t *testing.T, issuer string, committed map[string]int64) {
	t.Helper()
	for hx, height := range committed {
		h, err := hex.DecodeString(hx)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		rep, err := n.c.CredentialStatus(ctx, h, 20*time.Second)
		cancel()
		require.NoError(t, err, "status of %s on %s", hx, n.name)
		require.Equal(t, types.VerdictValid, rep.Verdict, "%s on %s", hx, n.name)
		require.Equal(t, issuer, rep.Issuer(), "%s on %s", hx, n.name)
		require.Equal(t, height, rep.Anchor.Height, "%s on %s", hx, n.name)
	}
}

// netCLIOK runs the CLI and requires exit 0 and nothing on stderr.
func netCLIOK(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, bin, args...)
	require.Equal(t, 0, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stderr, "credledger %s", strings.Join(args, " "))
	return res
}

// netCLIJSON runs the CLI with --output json, requires exit 0 and decodes
// stdout into v (unknown fields are allowed: the contract may grow).
func netCLIJSON(t *testing.T, bin string, v any, args ...string) {
	t.Helper()
	res := netCLIOK(t, bin, append(args, "--output", "json")...)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), v), "credledger %s: %s", strings.Join(args, " "), res)
}

// netCLIFail runs the CLI, requires exit 1, nothing on stdout, and every
// wanted phrase on stderr.
func netCLIFail(t *testing.T, bin string, want []string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, bin, args...)
	require.Equal(t, 1, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stdout, "credledger %s", strings.Join(args, " "))
	for _, w := range want {
		require.Contains(t, res.stderr, w, "credledger %s", strings.Join(args, " "))
	}
	return res
}

// settle waits until every running node has committed height h, so that a
// tx committed through one node is seen by all.
func (ln *localNet) settle(t *testing.T, h int64) {
	t.Helper()
	var up []*netNode
	for _, n := range ln.nodes {
		if n.running() {
			up = append(up, n)
		}
	}
	ln.waitHeight(t, up, h, 30*time.Second)
}

// anchor anchors one hash with `credledger anchor` from home with key from
// (through the home's node), waits until every node has its block, and
// returns its commit height.
func (ln *localNet) anchor(t *testing.T, home, from, hashHex string) int64 {
	t.Helper()
	var out netTxOut
	netCLIJSON(t, ln.bin, &out, "anchor", "--hash", hashHex, "--from", from, "--home", home)
	require.Equal(t, hashHex, out.Hash)
	require.Empty(t, out.Error)
	require.Positive(t, out.Height)
	ln.settle(t, out.Height)
	return out.Height
}

// gov runs a governance command (issuer propose-add|propose-remove|vote|
// rotate-key) with --output json, waits until every node has its block and
// returns its output.
func (ln *localNet) gov(t *testing.T, args ...string) netGovOut {
	t.Helper()
	var out netGovOut
	netCLIJSON(t, ln.bin, &out, args...)
	require.Regexp(t, `^[0-9A-F]{64}$`, out.Tx)
	require.Positive(t, out.Height)
	ln.settle(t, out.Height)
	return out
}

var netCommittedAt = regexp.MustCompile(`(?m)^committed at height ([0-9]+) \(tx [0-9A-F]{64}\)$`)

// govText is gov with text output, which it returns.
func (ln *localNet) govText(t *testing.T, args ...string) string {
	t.Helper()
	res := netCLIOK(t, ln.bin, args...)
	m := netCommittedAt.FindStringSubmatch(res.stdout)
	require.NotNil(t, m, "credledger %s: %s", strings.Join(args, " "), res)
	h, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	ln.settle(t, h)
	return res.stdout
}

// netStatusCLI runs `credledger status --hash` against url.
func netStatusCLI(t *testing.T, bin, url, hashHex string) netStatusOut {
	t.Helper()
	var out netStatusOut
	netCLIJSON(t, bin, &out, "status", "--hash", hashHex, "--node", url)
	return out
}

// The JSON contracts of the governance commands, written down independently
// of the commands' own structs.
type netGovOut struct {
	Tx       string          `json:"tx"`
	Height   int64           `json:"height"`
	Proposal *netProposalOut `json:"proposal"`
}

type netProposalOut struct {
	ID            uint64 `json:"id"`
	Action        string `json:"action"`
	Status        string `json:"status"`
	Proposer      string `json:"proposer"`
	CreatedHeight int64  `json:"created_height"`
	ExpiresHeight int64  `json:"expires_height"`
	DecidedHeight int64  `json:"decided_height"`
	YesPower      int64  `json:"yes_power"`
	NoPower       int64  `json:"no_power"`
	TotalPower    int64  `json:"total_power"`
	Votes         []struct {
		Issuer string `json:"issuer"`
		Yes    bool   `json:"yes"`
		Height int64  `json:"height"`
	} `json:"votes"`
}

type netIssuerOut struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Status           string   `json:"status"`
	Power            int64    `json:"power"`
	JoinedHeight     int64    `json:"joined_height"`
	LeftHeight       int64    `json:"left_height"`
	SigningPubKey    string   `json:"signing_pubkey"`
	ValidatorPubKey  string   `json:"validator_pubkey"`
	SigningKeyHeight int64    `json:"signing_key_height"`
	Identifiers      []string `json:"identifiers"`
	PreviousKeys     []struct {
		PubKey      string `json:"pubkey"`
		FromHeight  int64  `json:"from_height"`
		UntilHeight int64  `json:"until_height"`
	} `json:"previous_keys"`
}

// netStatusOut is the part of `status --output json` these tests read.
type netStatusOut struct {
	Verdict        string `json:"verdict"`
	Issuer         string `json:"issuer"`
	AnchoredHeight int64  `json:"anchored_height"`
}

// netKeyOut is `keys show|add --output json`.
type netKeyOut struct {
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	PubKey string `json:"pubkey"`
}

// netTxOut is one line of `anchor --output json`.
type netTxOut struct {
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Tx     string `json:"tx"`
	Error  string `json:"error"`
}
