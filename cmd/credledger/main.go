// Command credledger runs and uses a credledger node: init, start and dev
// run the ledger; keys, hash, anchor, revoke, suspend, reinstate and status
// are the issuer's and verifier's tools.
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
		newStatusCmd(), newVerifyCmd(), newProveCmd(), newTestnetCmd(), newShowValidatorCmd(), newIssuerCmd(), newProposalCmd())
	return root
}
