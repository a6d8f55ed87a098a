// Command credledger runs and uses a credledger network. init, start, dev
// and testnet make and run nodes; keys, hash, anchor, revoke, suspend,
// reinstate, issuer and proposal are the issuers' and operators' tools;
// status asks one node (and trusts it), verify and prove check answers
// without trusting any node (light client, proof bundles); version says
// what is running. The commands are thin: flags, output and exit codes;
// the work is done in node/... and types/...
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a specific process exit code.
type exitError struct {
	code int
	err  error // nil: nothing more to print
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit code.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "credledger:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "credledger:", err)
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "credledger",
		Short:         "A permissioned ledger for credential anchoring and revocation",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newInitCmd(), newStartCmd(), newDevCmd(), newKeysCmd(), newHashCmd(),
		newTxCmd("anchor"), newTxCmd("revoke"), newTxCmd("suspend"), newTxCmd("reinstate"),
		newStatusCmd(), newVerifyCmd(), newProveCmd(), newTestnetCmd(), newShowValidatorCmd(), newIssuerCmd(), newProposalCmd(),
		newVersionCmd(), newGenesisHashCmd(), newVerifierCmd())
	return root
}
