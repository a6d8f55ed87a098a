package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// resultLine is one parsed line of `anchor --output json`: a credential or
// the final summary.
type resultLine struct {
	Hash    string `json:"hash"`
	Height  int64  `json:"height"`
	Result  string `json:"result"`
	Error   string `json:"error"`
	Summary *struct {
		Committed, Skipped, Rejected, Pending int
	} `json:"summary"`
}

// resultCounts parses the JSON output of a tx command, checks that the
// summary object is the last line and agrees with the credential lines,
// and returns the count of each result.
func resultCounts(t *testing.T, res cliResult) map[string]int {
	t.Helper()
	lines := res.stdoutLines()
	require.NotEmpty(t, lines, "%s", res)
	counts := map[string]int{}
	for i, l := range lines {
		var o resultLine
		require.NoError(t, json.Unmarshal([]byte(l), &o), "%q", l)
		if i == len(lines)-1 {
			require.NotNil(t, o.Summary, "the last line is the summary: %q", l)
			require.Equal(t, counts["committed"], o.Summary.Committed)
			require.Equal(t, counts["skipped"], o.Summary.Skipped)
			require.Equal(t, counts["rejected"], o.Summary.Rejected)
			require.Equal(t, counts["pending"], o.Summary.Pending)
			continue
		}
		require.Nil(t, o.Summary, "%q", l)
		if o.Result == "committed" {
			require.Positive(t, o.Height, "%q", l)
		}
		counts[o.Result]++
	}
	return counts
}

// hashList returns n random hashes and the hash file holding them.
func hashList(t *testing.T, dir, name string, n int) ([]string, string) {
	t.Helper()
	hs := make([]string, n)
	for i := range hs {
		hs[i] = randomHex(t)
	}
	return hs, writeFile(t, dir, name, strings.Join(hs, "\n")+"\n")
}

// requireAnchored checks that issuer0 has anchored every hash.
func requireAnchored(t *testing.T, n *testNode, hs []string) {
	t.Helper()
	bz := make([][]byte, len(hs))
	for i, h := range hs {
		var err error
		bz[i], err = hex.DecodeString(h)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	anchored, err := n.client().AnchoredBy(ctx, node.DefaultIssuerID, bz, 0)
	require.NoError(t, err)
	for i, ok := range anchored {
		require.True(t, ok, "hash %s is not anchored by %s", hs[i], node.DefaultIssuerID)
	}
}

// TestResumeSkipAnchored anchors the first third of a hash file, then the
// whole file: with --skip-anchored the third is skipped and the rest
// committed; without it the batches of the third are rejected, counted
// exactly.
func TestResumeSkipAnchored(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home, "--batch-size", "500"}

	for _, tc := range []struct {
		name string
		skip bool
	}{
		{"skip-anchored", true},
		{"no skip", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, all := hashList(t, dir, tc.name+"-all.txt", 3000)
			first := writeFile(t, dir, tc.name+"-first.txt", strings.Join(hs[:1000], "\n")+"\n")
			res := runCLI(t, bin, append([]string{"anchor", "--hash-file", first}, from...)...)
			require.Equal(t, 0, res.code, "%s", res)

			args := append([]string{"anchor", "--hash-file", all, "--output", "json"}, from...)
			if tc.skip {
				args = append(args, "--skip-anchored")
			}
			res = runCLI(t, bin, args...)
			counts := resultCounts(t, res)
			l := res.stderrLines()
			if tc.skip {
				require.Equal(t, 0, res.code, "%s", res)
				require.Equal(t, map[string]int{"committed": 2000, "skipped": 1000}, counts)
				require.Equal(t, "anchor: 2,000 committed, 1,000 skipped, 0 rejected, 0 not committed yet (may still commit)", l[len(l)-1])
			} else {
				require.Equal(t, 1, res.code, "%s", res)
				require.Equal(t, map[string]int{"committed": 2000, "rejected": 1000}, counts)
				require.Contains(t, res.stderr, "anchor: 2,000 committed, 0 skipped, 1,000 rejected, 0 not committed yet (may still commit)\n")
				require.Equal(t, "credledger: 1000 of 3000 credential(s) were not committed", l[len(l)-1])
			}
			requireAnchored(t, n, hs)
			runStatus(t, bin, n.url, 0, "valid", "--hash", hs[0])
			runStatus(t, bin, n.url, 0, "valid", "--hash", hs[2999])
		})
	}
}

// TestResumeAfterStop stops a long anchor run midway, by killing the node
// or interrupting the CLI: the CLI fails with a last line giving the count
// committed and the command to resume, which (the node running again)
// anchors the rest.
func TestResumeAfterStop(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	for _, tc := range []struct {
		name    string
		stop    func(cmd *exec.Cmd)
		why     string
		restart bool
	}{
		{"node dies", func(*exec.Cmd) { n.kill() }, `stopped: node unreachable: .*`, true},
		{"interrupt", func(cmd *exec.Cmd) { require.NoError(t, cmd.Process.Signal(os.Interrupt)) }, `interrupted`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, file := hashList(t, t.TempDir(), "hashes.txt", 20000)
			last, summary := stopAnchor(t, bin, n, file, tc.stop)
			require.Regexp(t, `^credledger: anchor `+tc.why+`: [0-9,]+ of 20,000 credential\(s\) committed; to resume, run: `, last)
			require.Regexp(t, `^anchor: [0-9,]+ committed, 0 skipped, 0 rejected, [0-9,]+ not committed yet`, summary)
			t.Logf("stopped run's last lines:\n%s\n%s", summary, last)
			_, resume, ok := strings.Cut(last, "to resume, run: ")
			require.True(t, ok)
			args := strings.Fields(resume)
			require.Equal(t, bin, args[0])
			require.Equal(t, "--skip-anchored", args[len(args)-1])

			if tc.restart {
				require.NoError(t, n.start(), "restart node")
			}
			res := runCLI(t, bin, args[1:]...)
			require.Equal(t, 0, res.code, "%s", res)
			sl := res.stderrLines()
			require.Regexp(t, `^anchor: [0-9,]+ committed, [0-9,]+ skipped, 0 rejected, 0 not committed yet`, sl[len(sl)-1])
			t.Logf("resumed run's summary: %s", sl[len(sl)-1])
			requireAnchored(t, n, hs)
		})
	}
}

// stopAnchor starts anchoring the hashes of file, calls stop once batches
// are in the node's mempool (or committed), requires the CLI to exit 1,
// and returns its last two lines on stderr: the reason and the summary.
func stopAnchor(t *testing.T, bin string, n *testNode, file string, stop func(*exec.Cmd)) (last, summary string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	c := n.client()
	seq0, err := c.Sequence(ctx, node.DefaultIssuerID)
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, bin, "anchor", "--hash-file", file, "--batch-size", "200",
		"--from", node.DefaultIssuerID, "--home", n.home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cancel()
		if done != nil {
			<-done
		}
	}()

	// stop midway: batches in the node's mempool, maybe some committed,
	// others not sent yet
	require.Eventually(t, func() bool {
		if un, err := c.RPC().NumUnconfirmedTxs(ctx); err == nil && un.Total >= 20 {
			return true
		}
		seq, err := c.Sequence(ctx, node.DefaultIssuerID)
		return err == nil && seq > seq0
	}, 60*time.Second, 10*time.Millisecond, "no batch sent")
	stop(cmd)

	select {
	case err = <-done:
		done = nil
	case <-time.After(30 * time.Second):
		t.Fatalf("anchor did not end within 30s of the stop\nstderr:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr:\n%s", stderr.String())
	require.Equal(t, 1, ee.ExitCode(), "stderr:\n%s", stderr.String())
	l := lines(stderr.String())
	require.GreaterOrEqual(t, len(l), 2, "stderr:\n%s", stderr.String())
	return l[len(l)-1], l[len(l)-2]
}

func TestResumeCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"adds the flag", []string{"credledger", "anchor", "--hash-file", "h.txt"}, "credledger anchor --hash-file h.txt --skip-anchored"},
		{"keeps the flag", []string{"credledger", "anchor", "--skip-anchored", "x.json"}, "credledger anchor --skip-anchored x.json"},
		{"quotes", []string{"/bin/credledger", "anchor", "my cred.json", "it's.json", ""}, `/bin/credledger anchor 'my cred.json' 'it'\''s.json' '' --skip-anchored`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, resumeCommand(tc.args))
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 59000: "59,000", 1234567: "1,234,567", -1000: "-1,000"} {
		require.Equal(t, want, thousands(n), "%d", n)
	}
}

// TestAnchorRate paces a run with --rate: 1,001 hashes in batches of 100 at
// 250 per second cannot be sent in less than 4 s (the first batch goes at
// once, the eleventh after 1,000 were sent), while the dev node commits them
// unpaced in one or two blocks. A bad --rate fails at once and sends
// nothing.
func TestAnchorRate(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home, "--batch-size", "100"}
	hs, file := hashList(t, dir, "paced.txt", 1001)
	began := time.Now()
	res := runCLI(t, bin, append([]string{"anchor", "--hash-file", file, "--rate", "250", "--output", "json"}, from...)...)
	took := time.Since(began)
	require.Equal(t, 0, res.code, "%s", res)
	require.Equal(t, map[string]int{"committed": 1001}, resultCounts(t, res))
	require.GreaterOrEqual(t, took, 4*time.Second, "1,001 hashes at 250/s")
	requireAnchored(t, n, hs)

	for _, rate := range []string{"-1", "NaN", "+Inf", "fast"} {
		t.Run(rate, func(t *testing.T) {
			h, file := hashList(t, dir, "bad-rate.txt", 1)
			res := runCLI(t, bin, append([]string{"anchor", "--hash-file", file, "--rate", rate}, from...)...)
			require.Equal(t, 1, res.code, "%s", res)
			require.Len(t, res.stderrLines(), 1, "%s", res)
			require.Contains(t, res.stderr, "--rate")
			runStatus(t, bin, n.url, 4, "not_anchored", "--hash", h[0])
		})
	}
}
