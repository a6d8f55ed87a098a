package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/credledger/credledger/config"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// DefaultTestnetBasePort is the first port of a generated testnet.
const DefaultTestnetBasePort = 26600

// TestnetOptions describes a local multi-validator network to generate.
type TestnetOptions struct {
	Validators int
	Output     string
	ChainID    string // default "credledger-testnet"
	// BasePort: node I listens on 127.0.0.1, p2p on BasePort+10*I, RPC on
	// BasePort+10*I+1 and Prometheus metrics on BasePort+10*I+2.
	BasePort    int
	Params      types.Params // default types.DefaultParams()
	GenesisTime time.Time    // default now
	// SnapshotInterval is every node's state sync snapshot interval in
	// blocks (credledger.toml [statesync] snapshot_interval; 0: none).
	SnapshotInterval uint64
}

// TestnetNode describes one generated node; nodes.json is an array of them.
type TestnetNode struct {
	Name   string `json:"name"`
	Home   string `json:"home"`
	RPC    string `json:"rpc"`
	P2P    string `json:"p2p"`
	Issuer string `json:"issuer"`
	NodeID string `json:"node_id"`
}

// NodesFile is the name of the node list written into the testnet directory.
const NodesFile = "nodes.json"

// InitTestnet writes OUTPUT/node0..node{N-1}, each a complete home with its
// issuer key keys/issuerI.json, one shared genesis in which issuerI is
// validator I with equal power, every node peered with every other on
// 127.0.0.1, and OUTPUT/nodes.json. Each config admits the largest tx that
// opts.Params allow (RaiseLimits).
func InitTestnet(opts TestnetOptions) ([]TestnetNode, error) {
	if opts.Validators < 1 || opts.Validators > 100 {
		return nil, fmt.Errorf("--validators %d: want 1..100", opts.Validators)
	}
	if opts.ChainID == "" {
		opts.ChainID = "credledger-testnet"
	}
	if opts.BasePort == 0 {
		opts.BasePort = DefaultTestnetBasePort
	}
	if opts.BasePort < 1024 || opts.BasePort+10*opts.Validators > 65535 {
		return nil, fmt.Errorf("--base-port %d: the ports of %d nodes must lie in 1024..65535", opts.BasePort, opts.Validators)
	}
	if opts.Params == (types.Params{}) {
		opts.Params = types.DefaultParams()
	}
	if err := opts.Params.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%w: params: %w", types.ErrInvalidGenesis, err)
	}
	sizes, err := LargestTx(opts.Params)
	if err != nil {
		return nil, err
	}
	if opts.GenesisTime.IsZero() {
		opts.GenesisTime = time.Now().UTC()
	}
	if entries, err := os.ReadDir(opts.Output); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%w: %s is not empty; choose another --output", ErrHomeExists, opts.Output)
	}
	nodes := make([]TestnetNode, opts.Validators)
	cfgs := make([]*cmtcfg.Config, opts.Validators)
	issuers := make([]types.GenesisIssuer, opts.Validators)
	for i := range nodes {
		name, issuer := fmt.Sprintf("node%d", i), fmt.Sprintf("issuer%d", i)
		home, err := filepath.Abs(filepath.Join(opts.Output, name))
		if err != nil {
			return nil, fmt.Errorf("node home: %w", err)
		}
		cfg := CometConfig(home, name, opts.BasePort+10*i)
		raiseLimits(cfg, sizes)
		nodeKey, pv, err := writeNodeFiles(cfg)
		if err != nil {
			return nil, err
		}
		key, err := keys.Generate(home, issuer, issuer)
		if err != nil {
			return nil, fmt.Errorf("%s: create issuer key: %w", name, err)
		}
		issuers[i] = types.GenesisIssuer{
			ID: issuer, Name: issuer, Power: 10,
			SigningPubKey: types.HexBytes(key.PublicKey()), ValidatorPubKey: types.HexBytes(pv.Key.PubKey.Bytes()),
			Identifiers: []string{TestnetIdentifier(i)},
		}
		cfgs[i] = cfg
		nodes[i] = TestnetNode{
			Name: name, Home: home, RPC: RPCURL(cfg), P2P: strings.TrimPrefix(cfg.P2P.ListenAddress, "tcp://"),
			Issuer: issuer, NodeID: string(nodeKey.ID()),
		}
	}
	doc, err := BuildGenesis(opts.ChainID, opts.GenesisTime, opts.Params, issuers)
	if err != nil {
		return nil, err
	}
	for i, cfg := range cfgs {
		var peers []string
		for j, n := range nodes {
			if j != i {
				peers = append(peers, n.NodeID+"@"+n.P2P)
			}
		}
		ccfg := config.DefaultConfig()
		ccfg.StateSync.SnapshotInterval = opts.SnapshotInterval
		if err := finishHome(cfg, strings.Join(peers, ","), ccfg); err != nil {
			return nil, err
		}
		if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
			return nil, fmt.Errorf("%s: write genesis: %w", nodes[i].Name, err)
		}
	}
	bz, err := json.MarshalIndent(nodes, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", NodesFile, err)
	}
	if err := os.WriteFile(filepath.Join(opts.Output, NodesFile), append(bz, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", NodesFile, err)
	}
	return nodes, nil
}

// finishHome sets the persistent peers, rewrites config.toml and writes
// ccfg as credledger.toml, pointing the CLI at this node's RPC.
func finishHome(cfg *cmtcfg.Config, peers string, ccfg *config.Config) error {
	cfg.P2P.PersistentPeers = peers
	cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
	ccfg.Client.Node = RPCURL(cfg)
	return ccfg.Save(config.Path(cfg.RootDir))
}

// LoadTestnet reads DIR/nodes.json.
func LoadTestnet(dir string) ([]TestnetNode, error) {
	bz, err := os.ReadFile(filepath.Join(dir, NodesFile))
	if err != nil {
		return nil, fmt.Errorf("read testnet: %w", err)
	}
	var nodes []TestnetNode
	if err := json.Unmarshal(bz, &nodes); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, NodesFile), err)
	}
	return nodes, nil
}
