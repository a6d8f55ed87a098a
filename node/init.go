package node

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// Defaults for a new single-validator home.
const (
	DefaultChainID  = "credledger-dev"
	DefaultIssuerID = "issuer0"
)

// InitOptions describes a node home to create.
type InitOptions struct {
	Home     string
	ChainID  string // default DefaultChainID
	IssuerID string // default DefaultIssuerID
	Moniker  string // default the issuer id
	// BasePort, when non-zero, makes the node listen on 127.0.0.1 with p2p
	// on BasePort, RPC on BasePort+1 and Prometheus metrics on
	// BasePort+2; otherwise CometBFT's defaults (metrics on :26660).
	BasePort int
	// GenesisTime is the chain's genesis time (default: now).
	GenesisTime time.Time
	// Genesis, when set, joins an existing network: the genesis file is
	// copied instead of created, and the node is not a validator until the
	// consortium admits its issuer.
	Genesis string
	// Peers are the persistent peers, as ID@HOST:PORT[,...].
	Peers string
	// Identifiers are the founding issuer's identifiers (DIDs or URLs its
	// credentials name in their issuer field); unused when joining.
	Identifiers []string
}

// DevIdentifier is the identifier credledger dev gives its issuer.
const DevIdentifier = "did:web:dev.test"

// TestnetIdentifier returns the identifier testnet gives issuer I:
// did:web:issuerI.test.
func TestnetIdentifier(i int) string { return fmt.Sprintf("did:web:issuer%d.test", i) }

// InitResult tells what InitHome created.
type InitResult struct {
	Home     string
	ChainID  string
	IssuerID string
	KeyPath  string
	RPCAddr  string
	NodeID   string
	// SigningPubKey and ValidatorPubKey are what the consortium needs to
	// admit this node's issuer (hex).
	SigningPubKey   string
	ValidatorPubKey string
	// Joined is true when the home joins an existing network (--genesis).
	Joined bool
}

// ErrHomeExists is returned when a home already holds a genesis file.
var ErrHomeExists = errors.New("node home already initialised")

// InitHome creates a single-validator consortium in opts.Home: CometBFT
// config, node key, validator key, the issuer's signing key at
// HOME/keys/ID.json and a genesis whose one issuer is also the validator.
// The config admits the largest tx the genesis params allow (RaiseLimits);
// a joined genesis whose block max_bytes cannot hold it is refused.
func InitHome(opts InitOptions) (*InitResult, error) {
	var joined *cmttypes.GenesisDoc
	params := types.DefaultParams()
	if opts.Genesis != "" {
		doc, err := cmttypes.GenesisDocFromFile(opts.Genesis)
		if err != nil {
			return nil, fmt.Errorf("--genesis %s: %w", opts.Genesis, err)
		}
		state, err := types.DecodeGenesisState(doc.AppState)
		if err != nil {
			return nil, fmt.Errorf("--genesis %s: not a credledger genesis: %w", opts.Genesis, err)
		}
		joined, opts.ChainID, params = doc, doc.ChainID, state.Params.Params()
	}
	if opts.ChainID == "" {
		opts.ChainID = DefaultChainID
	}
	if opts.IssuerID == "" {
		opts.IssuerID = DefaultIssuerID
	}
	if opts.Moniker == "" {
		opts.Moniker = opts.IssuerID
	}
	if opts.GenesisTime.IsZero() {
		opts.GenesisTime = time.Now().UTC()
	}
	if err := types.ValidateIssuerID(opts.IssuerID); err != nil {
		return nil, fmt.Errorf("--issuer: %w", err)
	}
	if err := types.ValidateIdentifiers(opts.Identifiers); err != nil {
		return nil, fmt.Errorf("--identifier: %w", err)
	}
	if len(opts.ChainID) > cmttypes.MaxChainIDLen {
		return nil, fmt.Errorf("--chain-id: %q is longer than %d characters", opts.ChainID, cmttypes.MaxChainIDLen)
	}
	if err := validatePeers(opts.Peers); err != nil {
		return nil, err
	}
	cfg := CometConfig(opts.Home, opts.Moniker, opts.BasePort)
	if _, err := os.Stat(cfg.GenesisFile()); err == nil {
		return nil, fmt.Errorf("%w: %s exists; use another --home or remove it", ErrHomeExists, cfg.GenesisFile())
	}
	if err := RaiseLimits(cfg, params); err != nil {
		return nil, err
	}
	if joined != nil {
		// only the genesis's own block max_bytes can still be too small:
		// check it before anything is written, naming the file given
		check := *cfg
		abs, err := filepath.Abs(opts.Genesis)
		if err != nil {
			return nil, fmt.Errorf("--genesis %s: %w", opts.Genesis, err)
		}
		check.Genesis = abs
		if err := CheckLimits(&check, joined); err != nil {
			return nil, fmt.Errorf("--genesis: %w", err)
		}
	}
	nodeKey, pv, err := writeNodeFiles(cfg)
	if err != nil {
		return nil, err
	}
	key, err := keys.Generate(opts.Home, opts.IssuerID, opts.IssuerID)
	if err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	valPub := pv.Key.PubKey.Bytes()
	doc := joined
	if doc == nil {
		gi := types.GenesisIssuer{
			ID: opts.IssuerID, Name: opts.Moniker, Power: 10,
			SigningPubKey: types.HexBytes(key.PublicKey()), ValidatorPubKey: types.HexBytes(valPub),
			Identifiers: opts.Identifiers,
		}
		if doc, err = BuildGenesis(opts.ChainID, opts.GenesisTime, params, []types.GenesisIssuer{gi}); err != nil {
			return nil, err
		}
	}
	if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
		return nil, fmt.Errorf("write genesis: %w", err)
	}
	if err := finishHome(cfg, opts.Peers); err != nil {
		return nil, err
	}
	return &InitResult{
		Home: opts.Home, ChainID: opts.ChainID, IssuerID: opts.IssuerID,
		KeyPath: keys.Path(opts.Home, opts.IssuerID), RPCAddr: RPCURL(cfg), NodeID: string(nodeKey.ID()),
		SigningPubKey: hex.EncodeToString(key.PublicKey()), ValidatorPubKey: hex.EncodeToString(valPub),
		Joined: joined != nil,
	}, nil
}

// validatePeers checks a comma-separated list of ID@HOST:PORT.
func validatePeers(peers string) error {
	if peers == "" {
		return nil
	}
	for _, p := range strings.Split(peers, ",") {
		if _, err := p2p.NewNetAddressString(strings.TrimSpace(p)); err != nil {
			return fmt.Errorf("--peers: %q: want NODE_ID@HOST:PORT: %w", p, err)
		}
	}
	return nil
}

// ValidatorPubKey returns the consensus public key of the node in home.
func ValidatorPubKey(home string) ([]byte, error) {
	cfg := CometConfig(home, "", 0)
	if _, err := os.Stat(cfg.PrivValidatorKeyFile()); err != nil {
		return nil, fmt.Errorf("no validator key in %s (%w): create the node with: credledger init --home %s", home, err, home)
	}
	pv := privval.LoadFilePVEmptyState(cfg.PrivValidatorKeyFile(), "")
	return pv.Key.PubKey.Bytes(), nil
}

// CometConfig returns the CometBFT config credledger uses for a home. It
// serves Prometheus metrics (instrumentation.prometheus = true). With a
// non-zero basePort every listener is on 127.0.0.1: p2p on basePort, RPC
// on basePort+1 and Prometheus on basePort+2; with 0, CometBFT's defaults
// (p2p on :26656, RPC on 127.0.0.1:26657, metrics on :26660).
func CometConfig(home, moniker string, basePort int) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(home)
	cfg.Moniker = moniker
	// Prometheus metrics (CometBFT's and the app's) on /metrics
	cfg.Instrumentation.Prometheus = true
	if basePort != 0 {
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", basePort)
		cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", basePort+1)
		cfg.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", basePort+2)
		cfg.P2P.AllowDuplicateIP = true
		cfg.P2P.AddrBookStrict = false
	}
	// blocks come when there are txs, right after a block that changed the
	// app hash (so every change is proven by a header promptly), and at
	// least every 30 s otherwise, so verifiers always find a recent header
	cfg.Consensus.CreateEmptyBlocks = true
	cfg.Consensus.CreateEmptyBlocksInterval = 30 * time.Second
	// a 10,000-hash anchor tx is ~350 KB, a 100,000-hash one ~3.4 MB;
	// RaiseLimits sizes these and rpc.max_body_bytes for a chain's params
	// nothing reads a past block's ABCI responses (block_results): the
	// state answers for every record with a proof, and the tx index keeps
	// each tx's result for `tx`; keeping them cost ~65 bytes per credential
	cfg.Storage.DiscardABCIResponses = true
	cfg.Mempool.MaxTxBytes = 4 << 20
	cfg.Mempool.MaxTxsBytes = 256 << 20
	return cfg
}

// RPCURL returns the http:// URL of the node's RPC listener.
func RPCURL(cfg *cmtcfg.Config) string {
	addr := cfg.RPC.ListenAddress
	if len(addr) > len("tcp://") && addr[:6] == "tcp://" {
		addr = addr[6:]
	}
	return "http://" + addr
}

func writeNodeFiles(cfg *cmtcfg.Config) (*p2p.NodeKey, *privval.FilePV, error) {
	for _, dir := range []string{filepath.Dir(cfg.GenesisFile()), cfg.DBDir(), filepath.Join(cfg.RootDir, "keys")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
	nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		return nil, nil, fmt.Errorf("create node key: %w", err)
	}
	pv := privval.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	return nodeKey, pv, nil
}

// BuildGenesis returns a CometBFT genesis whose validators are the issuers
// and whose app_state holds the issuers and params.
func BuildGenesis(chainID string, genesisTime time.Time, params types.Params, issuers []types.GenesisIssuer) (*cmttypes.GenesisDoc, error) {
	g := types.GenesisState{Params: types.NewGenesisParams(params), Issuers: issuers}
	if err := g.ValidateBasic(); err != nil {
		return nil, err
	}
	appState, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode app_state: %w", err)
	}
	doc := &cmttypes.GenesisDoc{
		ChainID:         chainID,
		GenesisTime:     genesisTime,
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		AppState:        appState,
	}
	for _, is := range issuers {
		pub := cmted25519.PubKey(is.ValidatorPubKey)
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{
			Address: pub.Address(), PubKey: pub, Power: is.Power, Name: is.ID,
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return doc, nil
}
