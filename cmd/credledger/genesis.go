package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/bundle"
)

// genesisDigest returns the SHA-256 of a genesis file's bytes, in lowercase
// hex: the fingerprint operators and verifiers compare out of band before
// they trust a genesis.
func genesisDigest(path string) (string, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read genesis %s: %w", path, err)
	}
	sum := sha256.Sum256(bz)
	return hex.EncodeToString(sum[:]), nil
}

func newGenesisHashCmd() *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "genesis-hash FILE",
		Short: "Print the SHA-256 of a genesis file, to compare out of band before trusting it",
		Long: `Print "HEX  FILE": the SHA-256 of the genesis file's bytes in lowercase hex,
first on its line. Compare it with what a consortium member publishes before
you use the file as a trust root (verify --genesis, verifier serve), which
then prints the same fingerprint as genesis_sha256.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			// a file that is not a usable genesis gets no fingerprint
			if _, err := bundle.LoadGenesisTrustRoot(args[0]); err != nil {
				return err
			}
			digest, err := genesisDigest(args[0])
			if err != nil {
				return err
			}
			if out.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"sha256": digest, "file": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", digest, args[0])
			return nil
		},
	}
	out.registerOutput(cmd, "")
	return cmd
}
