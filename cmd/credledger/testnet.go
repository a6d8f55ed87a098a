package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/config"
	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/types"
)

func newTestnetCmd() *cobra.Command {
	var opts node.TestnetOptions
	var expiry int64
	cmd := &cobra.Command{
		Use:   "testnet --validators N --output DIR [--chain-id ID] [--base-port P] [--snapshot-interval N]",
		Short: "Write the homes of an N-validator network on 127.0.0.1",
		Long: `Write DIR/node0..node{N-1} (each a complete home with its issuer key keys/issuerI.json),
one shared genesis in which issuerI is validator I with equal power, peers wired to
each other on 127.0.0.1 (node I: p2p on P+10*I, RPC on P+10*I+1), and DIR/nodes.json.
Run them with scripts/localnet.sh start DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Output == "" {
				return fmt.Errorf("--output is required")
			}
			opts.Params = types.DefaultParams()
			opts.Params.ProposalExpiryBlocks = expiry
			nodes, err := node.InitTestnet(opts)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  issuer=%s  rpc=%s  p2p=%s  home=%s\n", n.Name, n.Issuer, n.RPC, n.P2P, n.Home)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Validators, "validators", 4, "number of validators")
	f.StringVar(&opts.Output, "output", "", "directory to write the node homes into")
	f.StringVar(&opts.ChainID, "chain-id", "credledger-testnet", "chain id")
	f.IntVar(&opts.BasePort, "base-port", node.DefaultTestnetBasePort, "first port: node I uses P+10*I (p2p), P+10*I+1 (RPC) and P+10*I+2 (metrics)")
	f.Uint64Var(&opts.SnapshotInterval, "snapshot-interval", config.DefaultSnapshotInterval, "every node takes a state sync snapshot every N blocks (0: none)")
	f.Int64Var(&expiry, "proposal-expiry", types.DefaultParams().ProposalExpiryBlocks, "blocks a governance proposal stays open")
	return cmd
}

func newShowValidatorCmd() *cobra.Command {
	var home, output string
	cmd := &cobra.Command{
		Use:   "show-validator --home DIR",
		Short: "Print the node's consensus (validator) public key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireHome(home); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			pub, err := node.ValidatorPubKey(home)
			if err != nil {
				return err
			}
			return printPubKey(cmd, pub, output)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory")
	cmd.Flags().StringVar(&output, "output", "text", "output format: text (hex) or json")
	return cmd
}
