package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/config"
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
	// StateSync, when set (only with Genesis), makes the joining node
	// restore a recent state sync snapshot from its peers instead of
	// replaying every block: the RPC URLs of at least two members' nodes,
	// which give the trust height and hash (see TrustPoint) and serve the
	// light client that verifies the snapshot's app hash.
	StateSync []string
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
	// Trust is the trust root the node state syncs from (nil without
	// StateSync): the operator compares it with another member's.
	Trust *TrustPoint
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
	var trust *TrustPoint
	if len(opts.StateSync) > 0 {
		if joined == nil {
			return nil, errors.New("--state-sync needs --genesis: only a node that joins an existing network state syncs")
		}
		if opts.Peers == "" {
			return nil, errors.New("--state-sync needs --peers: the snapshots come from the peers")
		}
		ctx, cancel := context.WithTimeout(context.Background(), trustFetchTimeout)
		defer cancel()
		var err error
		if trust, err = FetchTrustPoint(ctx, joined.ChainID, opts.StateSync); err != nil {
			return nil, fmt.Errorf("--state-sync: %w", err)
		}
		setStateSync(cfg, trust)
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
	if err := finishHome(cfg, opts.Peers, config.DefaultConfig()); err != nil {
		return nil, err
	}
	return &InitResult{
		Home: opts.Home, ChainID: opts.ChainID, IssuerID: opts.IssuerID,
		KeyPath: keys.Path(opts.Home, opts.IssuerID), RPCAddr: RPCURL(cfg), NodeID: string(nodeKey.ID()),
		SigningPubKey: hex.EncodeToString(key.PublicKey()), ValidatorPubKey: hex.EncodeToString(valPub),
		Joined: joined != nil, Trust: trust,
	}, nil
}

// trustFetchTimeout bounds the queries FetchTrustPoint makes.
const trustFetchTimeout = 20 * time.Second

// TrustPoint is a block that a state syncing node's light client starts
// from, with the RPC servers it was read from.
type TrustPoint struct {
	Height  int64
	Hash    string // hex, uppercase
	Servers []string
}

// ErrTrustDisagree is returned when the RPC servers given for state sync
// disagree about a block or the chain.
var ErrTrustDisagree = errors.New("state sync servers disagree")

// FetchTrustPoint asks every server (at least two, RPC URLs of nodes of
// chainID) for its latest height and takes the lowest, then asks each for
// the hash of that block and requires them all to agree. The result is as
// trustworthy as the servers: the operator should compare it with a member
// out of band.
func FetchTrustPoint(ctx context.Context, chainID string, servers []string) (*TrustPoint, error) {
	if len(servers) < 2 {
		return nil, fmt.Errorf("give at least two RPC servers (CometBFT's light client cross-checks them), got %d", len(servers))
	}
	servers = slices.Clone(servers)
	clients := make([]*rpchttp.HTTP, len(servers))
	var height int64
	for i, s := range servers {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		servers[i] = s
		c, err := rpchttp.New(s, "/websocket")
		if err != nil {
			return nil, fmt.Errorf("rpc server %s: %w", s, err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("rpc server %s: status: %w", s, err)
		}
		if st.NodeInfo.Network != chainID {
			return nil, fmt.Errorf("%w: %s is on chain %q, the genesis is of %q", ErrTrustDisagree, s, st.NodeInfo.Network, chainID)
		}
		if h := st.SyncInfo.LatestBlockHeight; i == 0 || h < height {
			height = h
		}
		clients[i] = c
	}
	if height < 1 {
		return nil, fmt.Errorf("rpc servers have no blocks yet")
	}
	var hash []byte
	for i, c := range clients {
		res, err := c.Commit(ctx, &height)
		if err != nil {
			return nil, fmt.Errorf("rpc server %s: commit %d: %w", servers[i], height, err)
		}
		if res.SignedHeader.Header == nil || res.SignedHeader.Commit == nil || res.Header.Height != height {
			return nil, fmt.Errorf("rpc server %s: no header for height %d", servers[i], height)
		}
		h := res.Header.Hash()
		if !bytes.Equal(h, res.Commit.BlockID.Hash) {
			return nil, fmt.Errorf("rpc server %s: header %d hashes to %X but its commit is for %X", servers[i], height, h, res.Commit.BlockID.Hash)
		}
		if i == 0 {
			hash = h
		} else if !bytes.Equal(h, hash) {
			return nil, fmt.Errorf("%w: block %d is %X on %s but %X on %s: do not join until you know which one is the network's", ErrTrustDisagree, height, hash, servers[0], h, servers[i])
		}
	}
	return &TrustPoint{Height: height, Hash: fmt.Sprintf("%X", hash), Servers: servers}, nil
}

// setStateSync makes the node in cfg state sync from trust.
func setStateSync(cfg *cmtcfg.Config, trust *TrustPoint) {
	cfg.StateSync.Enable = true
	cfg.StateSync.RPCServers = trust.Servers
	cfg.StateSync.TrustHeight = trust.Height
	cfg.StateSync.TrustHash = trust.Hash
	// CometBFT's default trust period (a week): the node must be started
	// within it of the trust block
	cfg.StateSync.TrustPeriod = cmtcfg.DefaultStateSyncConfig().TrustPeriod
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
	// a validator that is down costs the propose timeout each time its
	// turn to propose comes: 2 s rather than CometBFT's 3 s keeps a tx
	// sent while one validator is down within 5 s (issue 12's fault test);
	// a consortium's proposals, a few MB at most, arrive well within it,
	// and each further round of a height waits 0.5 s longer
	cfg.Consensus.TimeoutPropose = 2 * time.Second
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
