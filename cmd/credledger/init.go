package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node"
)

func newInitCmd() *cobra.Command {
	var opts node.InitOptions
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Create a single-validator consortium in DIR, or (with --genesis) a node that joins one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Home == "" {
				return fmt.Errorf("--home is required")
			}
			if opts.Genesis != "" && len(opts.Identifiers) > 0 {
				return fmt.Errorf("--identifier does not apply with --genesis: a joining issuer's identifiers are set by its admission (issuer propose-add --identifier)")
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
	f.IntVar(&opts.BasePort, "base-port", 0, "listen on 127.0.0.1: p2p on P, RPC on P+1, metrics on P+2 (default: CometBFT's ports)")
	f.StringVar(&opts.Genesis, "genesis", "", "join an existing network: its genesis.json (the node starts as a full node)")
	f.StringVar(&opts.Peers, "peers", "", "persistent peers, NODE_ID@HOST:PORT[,...]")
	f.StringSliceVar(&opts.StateSync, "state-sync", nil, "with --genesis: restore a recent snapshot instead of replaying every block; the RPC URLs of two or more members' nodes, RPC,RPC (they give the trust height and hash, printed to compare)")
	f.StringSliceVar(&opts.Identifiers, "identifier", nil, "a DID or URL the founding issuer's credentials name in their issuer field (repeatable)")
	return cmd
}

func printInit(cmd *cobra.Command, res *node.InitResult) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "initialised %s\n  chain id:   %s\n  issuer:     %s (signing key %s)\n  node id:    %s\n  rpc:        %s\n",
		res.Home, res.ChainID, res.IssuerID, res.KeyPath, res.NodeID, res.RPCAddr)
	if res.Joined {
		fmt.Fprintf(w, `this node joins as a full node; to make %[1]s an issuer and validator, ask a member to run:
  credledger issuer propose-add --id %[1]s --name NAME --issuer-pubkey %[2]s --validator-pubkey %[3]s --power 10 --from MEMBER_KEY --home MEMBER_HOME
`, res.IssuerID, res.SigningPubKey, res.ValidatorPubKey)
	}
	if t := res.Trust; t != nil {
		fmt.Fprintf(w, "state sync from %s: trust height %d, hash %s: compare with another member before starting\n",
			strings.Join(t.Servers, ","), t.Height, t.Hash)
	}
}
