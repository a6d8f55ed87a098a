package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/keys"
)

// devBasePort puts the dev node's p2p on 127.0.0.1:26656 and RPC on 127.0.0.1:26657.
const devBasePort = 26656

func newDevCmd() *cobra.Command {
	var home, logLevel string
	cmd := &cobra.Command{
		Use:   "dev [--home DIR]",
		Short: "Initialise DIR if empty, then run a single-validator dev node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if home == "" {
				h, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("no --home given and no user home directory: %w", err)
				}
				home = filepath.Join(h, ".credledger-dev")
			}
			cfg := node.CometConfig(home, "", 0)
			if _, err := os.Stat(cfg.GenesisFile()); os.IsNotExist(err) {
				// CometBFT's default ports, but on loopback only
				res, err := node.InitHome(node.InitOptions{Home: home, BasePort: devBasePort, Identifiers: []string{node.DevIdentifier}})
				if err != nil {
					return err
				}
				printInit(cmd, res)
			}
			return startNode(home, logLevel, func(n *node.FullNode) { printDevBanner(cmd, home, n) })
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory (default ~/.credledger-dev)")
	cmd.Flags().StringVar(&logLevel, "log-level", defaultLogLevel, logLevelUsage)
	return cmd
}

func printDevBanner(cmd *cobra.Command, home string, n *node.FullNode) {
	gen := n.Comet.GenesisDoc()
	chainID, issuer := gen.ChainID, node.DefaultIssuerID
	if len(gen.Validators) > 0 {
		issuer = gen.Validators[0].Name
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, `credledger dev node running (Ctrl-C to stop)
  rpc:       %s
  chain id:  %s
  issuer:    %s   (key: %s)
  home:      %s

try, in another terminal:
  echo '{"name":"Ada","degree":"BSc"}' > cred.json
  credledger hash cred.json
  credledger anchor cred.json --from %s --home %s
  credledger status cred.json
  credledger revoke cred.json --reason "issued in error" --from %s --home %s
  credledger status cred.json; echo "exit code $?"
`, n.RPCURL(), chainID, issuer, keys.Path(home, issuer), home, issuer, home, issuer, home)
}
