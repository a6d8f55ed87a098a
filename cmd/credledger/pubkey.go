package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// printPubKey prints an ed25519 public key as hex, or as JSON with hex and base64.
func printPubKey(cmd *cobra.Command, pub []byte, output string) error {
	if output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{
			"type": "ed25519", "hex": hex.EncodeToString(pub), "base64": base64.StdEncoding.EncodeToString(pub),
		})
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(pub))
	return err
}
