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
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info or error (per module: \"consensus:info,*:error\")")
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

// startNode runs the node in home until a signal; onStarted runs once it is up.
func startNode(home, logLevel string, onStarted func(*node.FullNode)) error {
	logger, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	n, err := node.NewFullNode(home, logger)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		_ = n.Stop()
		return err
	}
	if onStarted != nil {
		onStarted(n)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	sig := <-sigs
	logger.Info("stopping node", "signal", sig.String())
	return n.Stop()
}
