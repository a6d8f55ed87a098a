package main

import (
	"bufio"
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
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credhash"
)

var txShort = map[string]string{
	types.ActionAnchor:    "Anchor credentials (files or hashes) under your issuer",
	types.ActionRevoke:    "Revoke credentials (final)",
	types.ActionSuspend:   "Suspend credentials (lifted by reinstate)",
	types.ActionReinstate: "Reinstate suspended credentials",
}

// target is one credential to act on: its hash and, if it came from a file, the path.
type target struct {
	hash []byte
	file string
}

type txFlags struct {
	home, from, nodeURL, output, reason, hashFile string
	hashes                                        []string
	batchSize                                     int
	timeout                                       time.Duration
}

func newTxCmd(action string) *cobra.Command {
	var fl txFlags
	use := action + " (FILE... | --hash HEX...) --from NAME --home DIR"
	if action != types.ActionAnchor {
		use += " [--reason TEXT]"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: txShort[action],
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTx(cmd, action, args, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.home, "home", "", "home directory holding keys/NAME.json")
	f.StringVar(&fl.from, "from", "", "name of the signing key")
	f.StringVar(&fl.nodeURL, "node", client.DefaultNodeURL, "RPC address of a node (default: the home's config, else "+client.DefaultNodeURL+")")
	f.StringVar(&fl.output, "output", "text", "output format: text or json (one object per line)")
	f.StringSliceVar(&fl.hashes, "hash", nil, "credential hash as 64 hex digits (repeatable, or comma-separated)")
	f.StringVar(&fl.hashFile, "hash-file", "", "file with one hex hash per line (\"-\" for stdin), for bulk work")
	f.IntVar(&fl.batchSize, "batch-size", 0, "hashes per tx (default: the chain's max_batch_size)")
	f.DurationVar(&fl.timeout, "timeout", 0, "how long to wait for each tx to be committed (default: the home's config, 60s)")
	if action != types.ActionAnchor {
		f.StringVar(&fl.reason, "reason", "", "reason text recorded with the change")
	}
	return cmd
}

func runTx(cmd *cobra.Command, action string, args []string, fl *txFlags) error {
	if err := checkOutput(fl.output); err != nil {
		return err
	}
	if fl.from == "" {
		return fmt.Errorf("--from is required: the name of your signing key in HOME/keys")
	}
	if err := requireHome(fl.home); err != nil {
		return err
	}
	targets, err := collectTargets(args, fl.hashes, fl.hashFile)
	if err != nil {
		return err
	}
	key, err := keys.Load(fl.home, fl.from)
	if err != nil {
		return err
	}
	c, cfg, err := homeClient(cmd, fl.home, fl.nodeURL)
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

// collectTargets hashes the files and parses the hex hashes, rejecting a
// mix of none or a bad entry with a message naming it.
func collectTargets(files, hexes []string, hashFile string) ([]target, error) {
	var out []target
	for _, f := range files {
		hf, err := credhash.File(f)
		if err != nil {
			return nil, err
		}
		out = append(out, target{hash: hf.Hash[:], file: f})
	}
	for _, s := range hexes {
		h, err := types.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("--hash: %w", err)
		}
		out = append(out, target{hash: h})
	}
	if hashFile != "" {
		more, err := readHashFile(hashFile)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nothing to do: give credential FILEs, --hash HEX or --hash-file FILE")
	}
	return out, nil
}

func readHashFile(path string) ([]target, error) {
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("--hash-file: %w", err)
		}
		defer f.Close()
	}
	var out []target
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		h, err := types.ParseHash(strings.Fields(s)[0])
		if err != nil {
			return nil, fmt.Errorf("--hash-file %s line %d: %w", path, line, err)
		}
		out = append(out, target{hash: h})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--hash-file %s: %w", path, err)
	}
	return out, nil
}
