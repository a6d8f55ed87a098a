package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/types/credhash"
)

func newHashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE...",
		Short: "Print the credential hash of each file",
		Long: `Print "HEX  FILE" for each file. A file that parses as JSON is hashed as the
SHA-256 of its RFC 8785 canonical form, so re-formatting a credential does not
change its hash; any other file as the SHA-256 of its bytes.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := hashFiles(args)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", hex.EncodeToString(f.Hash[:]), f.Path)
			}
			return nil
		},
	}
}

// hashFiles hashes every file, failing on the first that cannot be read.
func hashFiles(paths []string) ([]credhash.FileHash, error) {
	out := make([]credhash.FileHash, 0, len(paths))
	for _, p := range paths {
		f, err := credhash.File(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
