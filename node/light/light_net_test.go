package light

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// lightNet is a two-node network whose validator set rotates: genesis
// {issuer0}, then issuer1 (node1's validator) is admitted, then issuer0 is
// removed, so a verifier trusting the genesis must pass through the
// intermediate validator set {issuer0, issuer1}.
type lightNet struct {
	chainID  string
	genesis  string // path of the genesis file
	urls     [2]string
	keys     [2]*keys.Key
	clients  [2]*client.Client
	rotation struct{ admitted, removed int64 } // heights of the governance txs
	// credentials, anchored by issuer0 before the rotation unless noted
	valid, revoked, suspended, unknown, late []byte // late: anchored by issuer1 after it
	validHeight                              int64  // state height from which valid is anchored
}

var (
	netOnce sync.Once
	netErr  error
	theNet  *lightNet
	netStop []func()
)

// sharedLightNet starts the network once per test binary (TestMain stops
// it). It skips the test in -short mode.
func sharedLightNet(t *testing.T) *lightNet {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a two-node network: skipped in -short mode")
	}
	netOnce.Do(func() { theNet, netErr = startLightNet() })
	require.NoError(t, netErr)
	return theNet
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(netStop) - 1; i >= 0; i-- {
		netStop[i]()
	}
	os.Exit(code)
}

// usedPorts keeps two nodes of one run from picking the same ports.
var usedPorts = map[int]bool{}

// freeBasePort returns a port p such that p and p+1 were free a moment ago,
// from 30000..32700: below the kernel's ephemeral range (where p+1 is
// often some connection's port when other tests run beside these) and
// apart from the ranges the cmd/credledger tests use (10000..29900).
func freeBasePort() (int, error) {
	const low, high = 30000, 32700
	start := low + rand.IntN(high-low)
	for i := range 200 {
		p := low + (start-low+2*i)%(high-low)
		if usedPorts[p] || usedPorts[p+1] || !canListen(p) || !canListen(p+1) {
			continue
		}
		usedPorts[p], usedPorts[p+1] = true, true
		return p, nil
	}
	return 0, fmt.Errorf("no free pair of ports in %d..%d after 200 tries", low, high)
}

func canListen(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// startHomeNode points home at fresh ports, speeds up consensus and starts
// the node, retrying (3 times) when a port was taken meanwhile.
func startHomeNode(home string) (*node.FullNode, error) {
	var lastErr error
	for range 3 {
		port, err := freeBasePort()
		if err != nil {
			return nil, err
		}
		cfg, err := node.LoadCometConfig(home)
		if err != nil {
			return nil, err
		}
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port)
		cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port+1)
		cfg.Consensus.TimeoutPropose = 1 * time.Second
		cfg.Consensus.TimeoutCommit = 150 * time.Millisecond
		// CometBFT registers its metrics on the default Prometheus
		// registry and panics on a second node of this process
		cfg.Instrumentation.Prometheus = false
		cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)
		n, err := node.NewFullNode(home, log.NewNopLogger())
		if err != nil {
			return nil, err
		}
		if lastErr = n.Start(); lastErr == nil {
			netStop = append(netStop, func() { _ = n.Stop() })
			return n, nil
		}
		_ = n.Stop()
	}
	return nil, lastErr
}

func startLightNet() (*lightNet, error) {
	ctx := context.Background()
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	ln := &lightNet{chainID: "light-test"}
	home0, home1 := filepath.Join(dir, "node0"), filepath.Join(dir, "node1")
	if _, err := node.InitHome(node.InitOptions{Home: home0, ChainID: ln.chainID, IssuerID: "issuer0", BasePort: 30000}); err != nil {
		return nil, err
	}
	n0, err := startHomeNode(home0)
	if err != nil {
		return nil, err
	}
	ln.genesis = n0.Config.GenesisFile()
	peer := fmt.Sprintf("%s@%s", n0.Comet.NodeInfo().ID(), n0.Config.P2P.ListenAddress[len("tcp://"):])
	r1, err := node.InitHome(node.InitOptions{Home: home1, IssuerID: "issuer1", Genesis: ln.genesis, Peers: peer, BasePort: 30010})
	if err != nil {
		return nil, err
	}
	n1, err := startHomeNode(home1)
	if err != nil {
		return nil, err
	}
	for i, n := range []*node.FullNode{n0, n1} {
		ln.urls[i] = n.RPCURL()
		if ln.clients[i], err = client.New(ln.urls[i]); err != nil {
			return nil, err
		}
	}
	if ln.keys[0], err = keys.Load(home0, "issuer0"); err != nil {
		return nil, err
	}
	if ln.keys[1], err = keys.Load(home1, "issuer1"); err != nil {
		return nil, err
	}
	if err := ln.waitHeight(ctx, 0, 1); err != nil {
		return nil, err
	}
	if err := ln.anchorBefore(ctx); err != nil {
		return nil, err
	}
	if err := ln.rotate(ctx, r1); err != nil {
		return nil, err
	}
	ln.late = testHash("late")
	if _, err := ln.submit(ctx, 1, types.ActionAnchor, ln.late); err != nil {
		return nil, err
	}
	return ln, nil
}

func tempDir() (string, error) {
	dir, err := os.MkdirTemp("", "credledger-light-")
	if err != nil {
		return "", err
	}
	netStop = append(netStop, func() { _ = os.RemoveAll(dir) })
	return dir, nil
}

func testHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// submit sends one action tx signed by issuer i through node 0 and returns
// the height that committed it.
func (ln *lightNet) submit(ctx context.Context, i int, action string, hash []byte) (int64, error) {
	res, err := ln.clients[0].Submit(ctx, ln.keys[i], action, [][]byte{hash}, client.SubmitOptions{Reason: "test"})
	if err != nil {
		return 0, err
	}
	if res[0].Err != nil {
		return 0, res[0].Err
	}
	return res[0].Height, nil
}

func (ln *lightNet) anchorBefore(ctx context.Context) error {
	ln.valid, ln.revoked, ln.suspended, ln.unknown = testHash("valid"), testHash("revoked"), testHash("suspended"), testHash("unknown")
	for _, step := range []struct {
		action string
		hash   []byte
	}{
		{types.ActionAnchor, ln.valid}, {types.ActionAnchor, ln.revoked}, {types.ActionAnchor, ln.suspended},
		{types.ActionRevoke, ln.revoked}, {types.ActionSuspend, ln.suspended},
	} {
		h, err := ln.submit(ctx, 0, step.action, step.hash)
		if err != nil {
			return fmt.Errorf("%s: %w", step.action, err)
		}
		if bytes.Equal(step.hash, ln.valid) {
			ln.validHeight = h
		}
	}
	return nil
}

// rotate admits issuer1 (node1's validator) and removes issuer0.
func (ln *lightNet) rotate(ctx context.Context, r1 *node.InitResult) error {
	if err := ln.waitSynced(ctx); err != nil {
		return err
	}
	sign, err := keys.ParsePubKey(r1.SigningPubKey)
	if err != nil {
		return err
	}
	val, err := keys.ParsePubKey(r1.ValidatorPubKey)
	if err != nil {
		return err
	}
	add := &types.MsgProposeAdmission{IssuerId: "issuer1", Name: "issuer1", SigningPubkey: sign, ValidatorPubkey: val, Power: 10}
	out, err := ln.clients[0].SubmitOne(ctx, ln.keys[0], func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: add} }, time.Minute)
	if err != nil {
		return fmt.Errorf("admit issuer1: %w", err)
	}
	ln.rotation.admitted = out.Height
	out, err = ln.clients[0].SubmitOne(ctx, ln.keys[0], func(b *types.TxBody) {
		b.Msg = &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: "issuer0"}}
	}, time.Minute)
	if err != nil {
		return fmt.Errorf("propose removing issuer0: %w", err)
	}
	id := out.Proposal.Id
	out, err = ln.clients[0].SubmitOne(ctx, ln.keys[1], func(b *types.TxBody) { b.Msg = &types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: id, Yes: true}} }, time.Minute)
	if err != nil {
		return fmt.Errorf("vote to remove issuer0: %w", err)
	}
	if out.Proposal.Status != types.ProposalStatus_PROPOSAL_STATUS_PASSED {
		return fmt.Errorf("removal of issuer0 did not pass: %s", out.Proposal.Status.StatusWord())
	}
	ln.rotation.removed = out.Height
	return nil
}

// waitHeight waits until node i has block h.
func (ln *lightNet) waitHeight(ctx context.Context, i int, h int64) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st, err := ln.clients[i].Status(ctx); err == nil && st.LatestHeight >= h {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("node%d did not reach height %d within a minute", i, h)
}

// waitSynced waits until node 1 has caught up with node 0.
func (ln *lightNet) waitSynced(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s0, err0 := ln.clients[0].Status(ctx)
		s1, err1 := ln.clients[1].Status(ctx)
		if err0 == nil && err1 == nil && s1.LatestHeight >= s0.LatestHeight {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("node1 did not catch up with node0 within a minute")
}

// latestHeight returns node 0's latest block height.
func (ln *lightNet) latestHeight(t *testing.T) int64 {
	t.Helper()
	st, err := ln.clients[0].Status(t.Context())
	require.NoError(t, err)
	return st.LatestHeight
}

// rpcProxy forwards JSON-RPC to a real node and lets a test rewrite the
// result of chosen calls.
type rpcProxy struct {
	srv    *httptest.Server
	target string
	// mutate, if set, returns the result to send instead (nil: unchanged).
	mutate func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage
	// request, if set, may change a call's params before it is forwarded.
	request func(method string, params map[string]json.RawMessage)
	// refuse, if set, returns the error message to answer a call with
	// instead of forwarding it ("": forward).
	refuse func(method string, params map[string]json.RawMessage) string
}

func newRPCProxy(t *testing.T, target string, mutate func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage) *rpcProxy {
	t.Helper()
	p := &rpcProxy{target: target, mutate: mutate}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// URL returns the proxy's address.
func (p *rpcProxy) URL() string { return p.srv.URL }

type rpcMessage struct {
	JSONRPC string                     `json:"jsonrpc"`
	ID      json.RawMessage            `json:"id"`
	Method  string                     `json:"method,omitempty"`
	Params  map[string]json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage            `json:"result,omitempty"`
	Error   json.RawMessage            `json:"error,omitempty"`
}

func (p *rpcProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req rpcMessage
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "proxy handles single JSON-RPC POSTs only", http.StatusBadRequest)
		return
	}
	if p.refuse != nil {
		if msg := p.refuse(req.Method, req.Params); msg != "" {
			rpcErr, _ := json.Marshal(map[string]any{"code": -32603, "message": "Internal error", "data": msg})
			out, _ := json.Marshal(rpcMessage{JSONRPC: "2.0", ID: req.ID, Error: rpcErr})
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
	}
	if p.request != nil {
		if req.Params == nil {
			req.Params = map[string]json.RawMessage{}
		}
		p.request(req.Method, req.Params)
		if body, err = json.Marshal(req); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	resp, err := http.Post(p.target, "application/json", bytes.NewReader(body)) //nolint:noctx // test proxy
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var msg rpcMessage
	if p.mutate != nil && json.Unmarshal(out, &msg) == nil && len(msg.Result) > 0 {
		if changed := p.mutate(req.Method, req.Params, msg.Result); changed != nil {
			msg.Result = changed
			out, _ = json.Marshal(msg)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// rewrite decodes an RPC result into T with CometBFT's JSON codec, applies
// fn, and encodes it again; fn returns false to leave the result alone.
func rewrite[T any](result json.RawMessage, fn func(*T) bool) json.RawMessage {
	var v T
	if err := cmtjson.Unmarshal(result, &v); err != nil {
		panic(fmt.Sprintf("proxy: decode %T: %v", v, err))
	}
	if !fn(&v) {
		return nil
	}
	bz, err := cmtjson.Marshal(&v)
	if err != nil {
		panic(fmt.Sprintf("proxy: encode %T: %v", v, err))
	}
	return bz
}

// paramString returns a JSON-RPC string parameter ("" if absent).
func paramString(params map[string]json.RawMessage, key string) string {
	var s string
	_ = json.Unmarshal(params[key], &s)
	return s
}
