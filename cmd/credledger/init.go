package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node"
)

func newInitCmd() *cobra.Command {
	var opts node.InitOptions
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Create a single-validator consortium in DIR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Home == "" {
				return fmt.Errorf("--home is required")
			}
			res, err := node.InitHome(opts)
			if err != nil {
				return err
			}
			printInit(cmd, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Home, "home", "", "node home directory to create")
	f.StringVar(&opts.ChainID, "chain-id", node.DefaultChainID, "chain id")
	f.StringVar(&opts.IssuerID, "issuer", node.DefaultIssuerID, "id of the founding issuer (also the validator)")
	f.StringVar(&opts.Moniker, "moniker", "", "node name (default: the issuer id)")
	f.IntVar(&opts.BasePort, "base-port", 0, "listen on 127.0.0.1: p2p on P, RPC on P+1 (default: CometBFT's ports)")
	return cmd
}

func printInit(cmd *cobra.Command, res *node.InitResult) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "initialised %s\n  chain id:   %s\n  issuer:     %s (signing key %s)\n  node id:    %s\n  rpc:        %s\n",
		res.Home, res.ChainID, res.IssuerID, res.KeyPath, res.NodeID, res.RPCAddr)
}
