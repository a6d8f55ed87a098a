package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/types"
)

func newProveCmd() *cobra.Command {
	var f lightFlags
	var out string
	cmd := &cobra.Command{
		Use:   "prove (FILE | --hash HEX) --node URL --witness URL... (--genesis FILE | --trust-height N --trust-hash HEX) -o BUNDLE.json",
		Short: "Write a self-contained proof bundle that \"verify --bundle\" checks offline",
		Long: `Verify a credential like "credledger verify", starting from the trust root with
a fresh in-memory store (the light home is not used), and write a bundle: the
answer records and their Merkle proofs, the issuer's record and proof, and
every signed header, commit and validator set from the trust root to the
header that proves the answer. Anyone holding the same trust root can check
it with "credledger verify --bundle", without network access.
Exits 0 once the bundle is written, whatever the verdict; 1 on error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			if out == "" {
				return errors.New("-o BUNDLE.json is required")
			}
			target, err := oneTarget(args, f.hashHex, f.raw, f.issuer)
			if err != nil {
				return err
			}
			lc, err := f.client(cmd, light.WithInMemoryStore())
			if err != nil {
				return err
			}
			defer lc.Close() //nolint:errcheck // in memory
			at, err := f.pastHeight(cmd, lc)
			if err != nil {
				return err
			}
			b, rep, err := lc.Prove(cmd.Context(), target.hash, at)
			if err != nil {
				return err
			}
			if err := b.Save(out); err != nil {
				return err
			}
			// the bundle holds every issuer's record: which one a verdict
			// is about is for its verifier to settle, so write it anyway
			var ambiguous *types.AmbiguousIssuerError
			if err := rep.ApplyClaims(target.claims); errors.As(err, &ambiguous) {
				fmt.Fprintf(cmd.ErrOrStderr(), "credledger: note: %s\n", err)
			} else if err != nil {
				return err
			}
			fi, err := os.Stat(out)
			if err != nil {
				return fmt.Errorf("bundle written, but: %w", err)
			}
			j := newVerifyJSON(rep, target.file, "light-client")
			j.Bundle, j.BundleBytes = out, int(fi.Size())
			if f.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(j)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes, %d headers from %d to %d): %s as of state %d (header %d, %s)\n",
				out, j.BundleBytes, len(b.LightBlocks), b.LightBlocks[0].Height, b.HeaderHeight(), rep.Verdict, rep.Height, rep.HeaderHeight, j.AsOf)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the bundle to this file")
	return cmd
}
