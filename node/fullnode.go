package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/viper"

	"github.com/credledger/credledger/app"
	"github.com/credledger/credledger/config"
)

// AppProtocolVersion is the app's protocol version, which the app reports
// in ABCI Info and CometBFT records in every block header.
const AppProtocolVersion = app.AppVersion

// FullNode is a CometBFT node running the credledger app in-process. While
// it exists (from NewFullNode until Stop) it holds the lock on its home, so
// no second node can run there.
type FullNode struct {
	Comet  *cmtnode.Node
	App    *app.Application
	Config *cmtcfg.Config

	lock *homeLock
	halt *haltWatch // see halt.go
}

// LoadCometConfig reads HOME/config/config.toml.
func LoadCometConfig(home string) (*cmtcfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no node in %s (%w): create one with: credledger init --home %s", home, err, home)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	cfg := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	cfg.SetRoot(home)
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// NewFullNode builds (but does not start) the node in home: it checks that
// the home's settings admit the largest tx the genesis params allow (an
// error wrapping a *LimitError if not, see CheckLimits), takes the home's
// lock (HOME/data/credledger.lock; an error wrapping ErrHomeInUse if
// another node holds it), opens the app on its IAVL store in HOME/data, then
// a local ABCI client, then CometBFT. Call Stop to release everything.
func NewFullNode(home string, logger log.Logger) (*FullNode, error) {
	cfg, err := LoadCometConfig(home)
	if err != nil {
		return nil, err
	}
	genesis, err := cmttypes.GenesisDocFromFile(cfg.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	if err := CheckLimits(cfg, genesis); err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	ccfg, err := config.Load(config.Path(home))
	if err != nil {
		return nil, err
	}
	// before any database is opened: goleveldb's own LOCK would fail with
	// "resource temporarily unavailable"
	lock, err := lockHome(home, cfg.DBDir())
	if err != nil {
		return nil, err
	}
	halt := newHaltWatch(home)
	n, application, err := newCometNode(cfg, ccfg, halt.logger(logger))
	if err != nil {
		_ = lock.release()
		return nil, err
	}
	return &FullNode{Comet: n, App: application, Config: cfg, lock: lock, halt: halt}, nil
}

// newCometNode opens the app and builds the CometBFT node around it. With
// instrumentation.prometheus on, the app's metrics (PrometheusAppMetrics)
// are served next to CometBFT's.
func newCometNode(cfg *cmtcfg.Config, ccfg *config.Config, logger log.Logger) (*cmtnode.Node, *app.Application, error) {
	opts := []app.Option{app.WithLogger(logger.With("module", "credledger")),
		app.WithSnapshots(filepath.Join(cfg.DBDir(), "snapshots"), ccfg.StateSync.SnapshotInterval, ccfg.StateSync.SnapshotKeepRecent),
		app.WithMaxBlockCredentials(ccfg.Proposer.MaxBlockCredentials), app.WithMaxBuildTime(ccfg.Proposer.MaxBuildTime.Duration)}
	if b := ccfg.Proposer.MaxBuildTime.Duration; b > 0 && b >= cfg.Consensus.TimeoutPropose {
		logger.Error("max_build_time is not under consensus.timeout_propose: other validators may stop waiting for this node's proposals before it sends them; lower it in credledger.toml",
			"max_build_time", b, "timeout_propose", cfg.Consensus.TimeoutPropose)
	}
	if cfg.Instrumentation.Prometheus {
		// CometBFT serves the default registry, its metrics and these
		m, err := PrometheusAppMetrics(prometheus.DefaultRegisterer)
		if err != nil {
			return nil, nil, fmt.Errorf("app metrics: %w", err)
		}
		opts = append(opts, app.WithMetrics(m))
	}
	application, err := app.NewPersistentApplication(cfg.DBDir(),
		[]app.StoreOption{app.WithCacheSize(ccfg.State.CacheSize), app.WithKeepRecent(ccfg.State.KeepRecent),
			app.WithDBBuffers(ccfg.State.DBBlockCacheMB, ccfg.State.DBWriteBufferMB)}, opts...)
	if err != nil {
		return nil, nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(cfg.NodeKeyFile())
	if err != nil {
		_ = application.Close()
		return nil, nil, fmt.Errorf("load node key: %w", err)
	}
	pv := privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	// one lock per ABCI connection, not one for all: queries (ABCI query,
	// info) read committed state while a block executes; the app
	// serialises its state-changing calls itself (see app.Application)
	n, err := cmtnode.NewNode(cfg, pv, nodeKey, proxy.NewConnSyncLocalClientCreator(application),
		cmtnode.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(cfg.Instrumentation), logger)
	if err != nil {
		_ = application.Close()
		return nil, nil, fmt.Errorf("create node: %w", err)
	}
	return n, application, nil
}

// Start starts the node.
func (n *FullNode) Start() error {
	if err := n.Comet.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	return nil
}

// Stop stops CometBFT, waits for it, closes the app's store and releases
// the home's lock.
func (n *FullNode) Stop() error {
	var errs []error
	if n.Comet.IsRunning() {
		if err := n.Comet.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop node: %w", err))
		}
		n.Comet.Wait()
	}
	if err := n.App.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := n.lock.release(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RPCURL returns the node's RPC URL.
func (n *FullNode) RPCURL() string { return RPCURL(n.Config) }
