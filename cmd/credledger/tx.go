package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/types"
)

var txShort = map[string]string{
	types.ActionAnchor:    "Anchor credentials (files or hashes) under your issuer",
	types.ActionRevoke:    "Revoke credentials (final)",
	types.ActionSuspend:   "Suspend credentials (lifted by reinstate)",
	types.ActionReinstate: "Reinstate suspended credentials",
}

type txFlags struct {
	signFlags
	reason, hashFile string
	hashes           []string
	batchSize        int
	timeout          time.Duration
	raw              bool
}

func newTxCmd(action string) *cobra.Command {
	var fl txFlags
	use := action + " (FILE... | --hash HEX... | --hash-file FILE) --from NAME --home DIR"
	switch action {
	case types.ActionRevoke, types.ActionSuspend:
		use += " --reason TEXT"
	case types.ActionReinstate:
		use += " [--reason TEXT]"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: txShort[action],
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTx(cmd, action, args, &fl)
		},
	}
	fl.register(cmd, "name of the signing key", "output format: text or json (one object per line)")
	f := cmd.Flags()
	f.StringSliceVar(&fl.hashes, "hash", nil, "credential hash as 64 hex digits (repeatable, or comma-separated)")
	f.StringVar(&fl.hashFile, "hash-file", "", "file with one hex hash per line (\"-\" for stdin), for bulk work")
	f.BoolVar(&fl.raw, "raw", false, rawUsage)
	f.IntVar(&fl.batchSize, "batch-size", 0, "hashes per tx (default: the chain's max_batch_size)")
	f.DurationVar(&fl.timeout, "timeout", 0, "how long to wait for each tx to be committed (default: the home's config, 60s)")
	switch action {
	case types.ActionRevoke, types.ActionSuspend:
		f.StringVar(&fl.reason, "reason", "", "why (required): recorded on chain with the change and shown to verifiers")
	case types.ActionReinstate:
		f.StringVar(&fl.reason, "reason", "", "why: recorded on chain with the change")
	}
	return cmd
}

func runTx(cmd *cobra.Command, action string, args []string, fl *txFlags) error {
	if (action == types.ActionRevoke || action == types.ActionSuspend) && strings.TrimSpace(fl.reason) == "" {
		return fmt.Errorf("--reason is required for %s: say why (it is recorded on chain with the change and shown to verifiers)", action)
	}
	key, c, cfg, err := fl.prepare()
	if err != nil {
		return err
	}
	targets, err := collectTargets(args, fl.hashes, fl.hashFile, fl.raw)
	if err != nil {
		return err
	}
	timeout := fl.timeout
	if timeout <= 0 {
		timeout = cfg.Client.CommitTimeout.Duration
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hashes := make([][]byte, len(targets))
	for i, t := range targets {
		hashes[i] = t.hash
	}
	opts := client.SubmitOptions{Reason: fl.reason, BatchSize: fl.batchSize, CommitTimeout: timeout}
	if len(hashes) > 1000 {
		opts.Progress = func(done, total int, height int64) {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d/%d credentials committed (height %d)\n", action, done, total, height)
		}
	}
	results, err := c.Submit(ctx, key, action, hashes, opts)
	if err != nil {
		return err
	}
	return reportTx(cmd, action, targets, results, fl.output)
}

type txLine struct {
	Hash   string `json:"hash"`
	File   string `json:"file,omitempty"`
	Height int64  `json:"height"`
	Tx     string `json:"tx"`
	Error  string `json:"error,omitempty"`
}

// reportTx prints a line per credential and fails unless all were committed.
func reportTx(cmd *cobra.Command, action string, targets []target, results []client.BatchResult, output string) error {
	files := make(map[string]string, len(targets))
	for _, t := range targets {
		files[string(t.hash)] = t.file
	}
	failed, enc := 0, json.NewEncoder(cmd.OutOrStdout())
	for _, r := range results {
		if r.Err != nil {
			failed += len(r.Hashes)
			fmt.Fprintf(cmd.ErrOrStderr(), "credledger: %s of %d credential(s) failed: %s\n", action, len(r.Hashes), r.Err)
		}
		for _, h := range r.Hashes {
			l := txLine{Hash: hex.EncodeToString(h), File: files[string(h)], Height: r.Height, Tx: strings.ToUpper(hex.EncodeToString(r.TxHash))}
			if r.Err != nil {
				l.Error = r.Err.Error()
			}
			if output == "json" {
				if err := enc.Encode(l); err != nil {
					return err
				}
				continue
			}
			if r.Err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  height=%d  tx=%s  %s\n", l.Hash, l.Height, l.Tx, l.File)
			}
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d credential(s) were not committed", failed, len(targets))}
	}
	return nil
}
