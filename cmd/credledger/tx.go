package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
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
	skipAnchored     bool
	rate             float64
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
	f.Float64Var(&fl.rate, "rate", 0, "send at most this many credentials per second (0: as fast as the node takes them), to leave room in the blocks for other issuers")
	f.DurationVar(&fl.timeout, "timeout", 0, "how long to wait for each tx to be committed (default: the home's config, 60s)")
	if action == types.ActionAnchor {
		f.BoolVar(&fl.skipAnchored, "skip-anchored", false, "first check each hash and skip those your issuer has already anchored (to resume an interrupted run)")
	}
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
	if fl.rate < 0 || math.IsNaN(fl.rate) || math.IsInf(fl.rate, 0) {
		return fmt.Errorf("--rate %v: give the credentials per second as a positive number, or 0 for no limit", fl.rate)
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
	run := newTxRun(c, key, action, len(targets))
	opts := client.SubmitOptions{Reason: fl.reason, BatchSize: fl.batchSize, CommitTimeout: timeout, Rate: fl.rate}
	var p *txProgress
	if len(hashes) > progressMin {
		p = newTxProgress(cmd.ErrOrStderr(), action)
		opts.Sent, opts.Progress = p.sent, p.committed
	}
	run.submit(ctx, hashes, opts, fl.skipAnchored)
	p.done()
	if run.stopErr != nil && len(run.out) == 0 && ctx.Err() == nil {
		return run.stopErr // nothing was sent: a plain failure
	}
	return reportTx(cmd, run, targets, fl)
}

// the results of a credential in a tx command
const (
	resultCommitted = "committed"
	resultSkipped   = "skipped"
	resultRejected  = "rejected"
	resultPending   = "pending"
)

// maxResendRounds bounds the submissions of one run with --skip-anchored:
// the first, then resends of the hashes of batches rejected as already
// anchored that this issuer had not anchored.
const maxResendRounds = 3

// outcome is what happened to one credential hash.
type outcome struct {
	result string
	height int64
	tx     []byte
	err    error
}

// txRun is one run of a tx command: what happened to each hash. It is used
// by one goroutine.
type txRun struct {
	c      *client.Client
	key    *keys.Key
	action string
	out    map[string]*outcome
	// failed are the batches to report a failure line for
	failed []client.BatchResult
	// stopErr is what stopped the run early (nil: it ran to the end)
	stopErr error
}

func newTxRun(c *client.Client, key *keys.Key, action string, n int) *txRun {
	return &txRun{c: c, key: key, action: action, out: make(map[string]*outcome, n)}
}

// submit sends hashes (with skip: those the issuer has not anchored yet),
// resending with skip the rest of batches rejected as already anchored.
func (r *txRun) submit(ctx context.Context, hashes [][]byte, opts client.SubmitOptions, skip bool) {
	toSend := hashes
	if skip {
		// the interrupted run's txs may still be in the mempool: let them
		// commit (or drop) before checking what is anchored and signing
		// the next sequences
		if _, err := r.c.WaitPendingTxs(ctx, r.key.Issuer, opts.CommitTimeout); err != nil {
			r.stopErr = fmt.Errorf("wait for this issuer's txs still in the node's mempool: %w", err)
			return
		}
		toSend = r.skipAnchored(ctx, hashes)
	}
	for round := 0; r.stopErr == nil && len(toSend) > 0 && round < maxResendRounds; round++ {
		results, err := r.c.Submit(ctx, r.key, r.action, toSend, opts)
		var again [][]byte
		for _, b := range results {
			if skip && b.Rejected && types.CodeOf(b.Err) == types.CodeAlreadyAnchored && round+1 < maxResendRounds {
				again = append(again, b.Hashes...)
				continue
			}
			r.record(b)
		}
		if err != nil {
			r.stopErr = err
		}
		toSend = nil
		if len(again) > 0 && r.stopErr == nil {
			toSend = r.skipAnchored(ctx, again)
		}
	}
	if ctx.Err() != nil {
		r.stopErr = ctx.Err() // interrupted: whatever failed with it
	}
}

// skipAnchored marks the hashes the issuer has anchored as skipped and
// returns the others. A failed check stops the run.
func (r *txRun) skipAnchored(ctx context.Context, hashes [][]byte) [][]byte {
	anchored, err := r.c.AnchoredBy(ctx, r.key.Issuer, hashes, 0)
	if err != nil {
		r.stopErr = fmt.Errorf("check which hashes are anchored: %w", err)
		return nil
	}
	var rest [][]byte
	for i, h := range hashes {
		if anchored[i] {
			if o := r.out[string(h)]; o == nil || o.result != resultCommitted {
				r.out[string(h)] = &outcome{result: resultSkipped} // a repeat of a hash committed in this run stays committed
			}
			continue
		}
		rest = append(rest, h)
	}
	return rest
}

// record notes the outcome of each hash of a batch.
func (r *txRun) record(b client.BatchResult) {
	o := outcome{result: resultCommitted, height: b.Height, tx: b.TxHash, err: b.Err}
	switch {
	case b.Err == nil:
	case b.Rejected:
		o.result = resultRejected
	default:
		o.result = resultPending
	}
	if b.Err != nil {
		r.failed = append(r.failed, b)
	}
	for _, h := range b.Hashes {
		r.out[string(h)] = &o
	}
}

// outcomeOf returns what happened to hash: pending if it was never sent.
func (r *txRun) outcomeOf(hash []byte) *outcome {
	if o := r.out[string(hash)]; o != nil {
		return o
	}
	return &outcome{result: resultPending, err: errNotSent}
}

var errNotSent = errors.New("not sent")

type txLine struct {
	Hash   string `json:"hash"`
	File   string `json:"file,omitempty"`
	Height int64  `json:"height"`
	Tx     string `json:"tx"`
	Error  string `json:"error,omitempty"`
	Result string `json:"result"`
}

// txCounts are the results of a run, one count per result.
type txCounts struct {
	Committed int `json:"committed"`
	Skipped   int `json:"skipped"`
	Rejected  int `json:"rejected"`
	Pending   int `json:"pending"`
	notSent   int
}

func (n *txCounts) add(o *outcome) {
	switch o.result {
	case resultCommitted:
		n.Committed++
	case resultSkipped:
		n.Skipped++
	case resultRejected:
		n.Rejected++
	default:
		n.Pending++
		if errors.Is(o.err, errNotSent) {
			n.notSent++
		}
	}
}

// String is the summary line's counts.
func (n txCounts) String() string {
	s := fmt.Sprintf("%s committed, %s skipped, %s rejected, %s not committed yet (may still commit",
		thousands(n.Committed), thousands(n.Skipped), thousands(n.Rejected), thousands(n.Pending))
	if n.notSent > 0 {
		s += fmt.Sprintf("; %s of them were never sent", thousands(n.notSent))
	}
	return s + ")"
}

// reportTx prints a line per credential, then (for runs of more than
// progressMin credentials, with --skip-anchored, or when any was not
// committed) the summary: a line on stderr and, with --output json, a
// summary object as the last line of stdout. It fails unless every
// credential was committed or skipped; when the run was stopped early, its
// last line says how to resume.
func reportTx(cmd *cobra.Command, run *txRun, targets []target, fl *txFlags) error {
	stderr, enc := cmd.ErrOrStderr(), json.NewEncoder(cmd.OutOrStdout())
	for _, b := range run.failed {
		if b.Rejected || run.stopErr == nil {
			fmt.Fprintf(stderr, "credledger: %s of %d credential(s) failed: %s\n", run.action, len(b.Hashes), b.Err)
		}
	}
	var n txCounts
	for _, t := range targets {
		o := run.outcomeOf(t.hash)
		n.add(o)
		l := txLine{Hash: hex.EncodeToString(t.hash), File: t.file, Height: o.height, Tx: strings.ToUpper(hex.EncodeToString(o.tx)), Result: o.result}
		if o.err != nil {
			l.Error = o.err.Error()
		}
		if fl.output == "json" {
			if err := enc.Encode(l); err != nil {
				return err
			}
			continue
		}
		if o.result == resultCommitted {
			fmt.Fprintf(cmd.OutOrStdout(), "%s  height=%d  tx=%s  %s\n", l.Hash, l.Height, l.Tx, l.File)
		}
	}
	failed := n.Rejected + n.Pending
	if len(targets) > progressMin || fl.skipAnchored || failed > 0 {
		fmt.Fprintf(stderr, "%s: %s\n", run.action, n)
		if fl.output == "json" {
			if err := enc.Encode(struct {
				Summary txCounts `json:"summary"`
			}{n}); err != nil {
				return err
			}
		}
	}
	if run.stopErr != nil {
		return &exitError{code: 1, err: stoppedError(run, n, len(targets))}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d credential(s) were not committed", failed, len(targets))}
	}
	return nil
}

// stoppedError says how far a run got and, for anchor, how to resume it.
func stoppedError(run *txRun, n txCounts, total int) error {
	why := "interrupted"
	if !errors.Is(run.stopErr, context.Canceled) {
		why = "stopped: " + run.stopErr.Error()
	}
	done := fmt.Sprintf("%s of %s credential(s) committed", thousands(n.Committed), thousands(total))
	if n.Skipped > 0 {
		done += fmt.Sprintf(" (%s skipped as already anchored)", thousands(n.Skipped))
	}
	if run.action != types.ActionAnchor {
		return fmt.Errorf("%s %s: %s; check the others with `credledger status` before sending them again", run.action, why, done)
	}
	return fmt.Errorf("%s %s: %s; to resume, run: %s", run.action, why, done, resumeCommand(os.Args))
}

// resumeCommand is args as a shell command line with --skip-anchored added.
func resumeCommand(args []string) string {
	quoted := make([]string, 0, len(args)+1)
	skip := false
	for _, a := range args {
		skip = skip || a == "--skip-anchored" || a == "--skip-anchored=true"
		quoted = append(quoted, shellQuote(a))
	}
	if !skip {
		quoted = append(quoted, "--skip-anchored")
	}
	return strings.Join(quoted, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// thousands formats n with a comma every three digits.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// progressMin is the size of a run from which progress is shown.
const progressMin = 1000

// progressEvery is the least time between progress lines when stderr is
// not a terminal.
const progressEvery = 10 * time.Second

// txProgress shows a long run's progress on w: on a terminal, one line
// redrawn at each committed batch; otherwise a line every progressEvery at
// most. Its methods are called by one goroutine; a nil *txProgress does
// nothing.
type txProgress struct {
	w           io.Writer
	action      string
	tty, drawn  bool
	start, last time.Time
	sentN       int
}

func newTxProgress(w io.Writer, action string) *txProgress {
	now := time.Now()
	return &txProgress{w: w, action: action, tty: isTerminal(w), start: now, last: now}
}

func (p *txProgress) sent(sent, _ int) { p.sentN = sent }

func (p *txProgress) committed(committed, total int, _ int64) {
	now := time.Now()
	if !p.tty && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	rate := float64(committed) / now.Sub(p.start).Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(total-committed) / rate * float64(time.Second))).Round(time.Second).String()
	}
	line := fmt.Sprintf("%s: sent %s/%s, committed %s, %.0f/s, ETA %s", p.action,
		thousands(p.sentN), thousands(total), thousands(committed), rate, eta)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// done clears the terminal line.
func (p *txProgress) done() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
