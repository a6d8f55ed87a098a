package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/keys"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage issuer signing keys in HOME/keys"}
	cmd.AddCommand(newKeysAddCmd(), newKeysShowCmd(), newKeysListCmd())
	return cmd
}

type keyJSON struct {
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	PubKey string `json:"pubkey"`
}

func keyView(k *keys.Key) keyJSON {
	return keyJSON{Name: k.Name, Issuer: k.Issuer, PubKey: hex.EncodeToString(k.PubKey)}
}

func printKey(cmd *cobra.Command, k *keys.Key, output string) error {
	if output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(keyView(k))
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\tissuer=%s\tpubkey=%s\n", k.Name, k.Issuer, hex.EncodeToString(k.PubKey))
	return nil
}

func newKeysAddCmd() *cobra.Command {
	var home, issuer, output string
	cmd := &cobra.Command{
		Use:   "add NAME --home DIR",
		Short: "Create a new ed25519 signing key NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireHome(home); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			if issuer == "" {
				issuer = args[0]
			}
			k, err := keys.Generate(home, args[0], issuer)
			if err != nil {
				return err
			}
			return printKey(cmd, k, output)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory")
	cmd.Flags().StringVar(&issuer, "issuer", "", "issuer id the key signs for (default NAME)")
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	return cmd
}

func newKeysShowCmd() *cobra.Command {
	var home, output string
	cmd := &cobra.Command{
		Use:   "show NAME --home DIR",
		Short: "Show key NAME's public key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireHome(home); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			k, err := keys.Load(home, args[0])
			if err != nil {
				return err
			}
			return printKey(cmd, k, output)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory")
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	return cmd
}

func newKeysListCmd() *cobra.Command {
	var home, output string
	cmd := &cobra.Command{
		Use:   "list --home DIR",
		Short: "List the keys in HOME/keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireHome(home); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			list, err := keys.List(home)
			if err != nil {
				return err
			}
			for _, k := range list {
				if err := printKey(cmd, k, output); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home directory")
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json (one object per line)")
	return cmd
}
