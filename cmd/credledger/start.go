package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cometbft/cometbft/libs/log"
	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node"
)

func newStartCmd() *cobra.Command {
	var home, logLevel string
	cmd := &cobra.Command{
		Use:   "start --home DIR",
		Short: "Run the full node in DIR until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if home == "" {
				return fmt.Errorf("--home is required")
			}
			return startNode(home, logLevel, nil)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory")
	cmd.Flags().StringVar(&logLevel, "log-level", defaultLogLevel, logLevelUsage)
	return cmd
}

// newLogger logs to stderr at the given level.
func newLogger(level string) (log.Logger, error) {
	logger := log.NewTMLogger(log.NewSyncWriter(os.Stderr))
	opt, err := log.AllowLevel(level)
	if err == nil {
		return log.NewFilter(logger, opt), nil
	}
	filtered, perr := parseModuleLevels(logger, level)
	if perr != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return filtered, nil
}

// startNode runs the node in home until SIGINT or SIGTERM, then stops it
// and returns nil (or what went wrong while stopping); onStarted runs once
// it is up. A second signal while it stops ends the process at once. If
// the node halts on its own (a full disk), it stops it and returns the
// *node.HaltError.
func startNode(home, logLevel string, onStarted func(*node.FullNode)) error {
	base, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	logger := newStopLogger(base)
	// from here on, a signal waits until the node has started and is then
	// handled like one that comes later
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	n, err := node.NewFullNode(home, logger)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		logger.Stopping()
		_ = n.Stop()
		return err
	}
	clog := logger.With("module", "credledger")
	clog.Info("node started", "home", home, "chain_id", n.Comet.GenesisDoc().ChainID, "rpc", n.RPCURL())
	if onStarted != nil {
		onStarted(n)
	}
	var sig os.Signal
	select {
	case sig = <-sigs:
	case <-n.Halted():
		// a failed write (full disk) stopped consensus: end the process
		// with the reason instead of running on without voting
		signal.Stop(sigs)
		logger.Stopping()
		return stopHalted(n, clog)
	}
	signal.Stop(sigs)
	logger.Stopping()
	clog.Info("stopping node", "signal", sig.String())
	if err := n.Stop(); err != nil {
		return err
	}
	clog.Info("node stopped")
	return nil
}

// stopHalted ends a node that halted on its own (see node.HaltError) and
// returns why it halted. It does not stop the CometBFT node: its consensus
// is dead, and stopping it closes the databases under goroutines that
// still read them (CometBFT's consensus reactor panicked with "leveldb:
// closed" and the process died with exit 2 in the long fault test).
// Everything committed is on disk already (every commit is synced), the
// write that failed was not committed, and the home lock goes with the
// process.
func stopHalted(n *node.FullNode, clog log.Logger) error {
	clog.Error("node halted, exiting without stopping it", "err", n.HaltErr())
	return n.HaltErr()
}
