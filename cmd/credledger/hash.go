package main

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/types/credhash"
)

func newHashCmd() *cobra.Command {
	var raw, canonical bool
	cmd := &cobra.Command{
		Use:   "hash FILE...",
		Short: "Print the credential hash of each file",
		Long: `Print "HEX  FILE" for each file. A file that parses as JSON is hashed as the
SHA-256 of its RFC 8785 canonical form, so re-formatting a credential does not
change its hash; any other file as the SHA-256 of its bytes.

A file that is empty (0 bytes, or only whitespace) is refused. A file named
*.json, or whose first character other than whitespace is "{" or "[", must be
JSON: if it does not parse, the error gives the line and column, and nothing is
hashed. JSON files larger than 64 MiB are refused. With --raw, every file is
hashed as its exact bytes, even if it looks like JSON.

With --canonical, print the RFC 8785 canonical form of one JSON file instead:
exactly the bytes whose SHA-256 is its hash, with no newline added, to compare
with what another system hashes.`,
		Example: `  credledger hash cred.json
  credledger hash --canonical cred.json > cred.canonical.json
  credledger hash --raw scan.pdf broken.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if canonical {
				return printCanonical(cmd, args, raw)
			}
			files, err := hashFiles(args, raw)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", hex.EncodeToString(f.Hash[:]), f.Path)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, rawUsage)
	cmd.Flags().BoolVar(&canonical, "canonical", false, "print the RFC 8785 canonical form that is hashed (one JSON file), not its hash")
	return cmd
}

// hashFiles hashes every file, failing on the first that cannot be hashed.
func hashFiles(paths []string, raw bool) ([]credhash.FileHash, error) {
	out := make([]credhash.FileHash, 0, len(paths))
	for _, p := range paths {
		f, err := hashCredentialFile(p, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// printCanonical writes the canonical form of the one JSON file in args to
// stdout, as it is hashed.
func printCanonical(cmd *cobra.Command, args []string, raw bool) error {
	if raw {
		return errors.New("--canonical and --raw exclude each other: with --raw nothing is canonicalised")
	}
	if len(args) != 1 {
		return fmt.Errorf("--canonical takes one FILE, not %d", len(args))
	}
	form, err := credhash.CanonicalFile(args[0])
	if err != nil {
		return err
	}
	if _, err := cmd.OutOrStdout().Write(form); err != nil {
		return fmt.Errorf("write the canonical form of %s: %w", args[0], err)
	}
	return nil
}
