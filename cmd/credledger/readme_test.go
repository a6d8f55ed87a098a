//go:build unix

package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types/credhash"
)

// TestREADMEWalkthrough runs the sh block of README.md's "## Walk-through"
// as written, with plain bash, against a fresh `credledger dev` node in a
// temporary HOME (so ~/.credledger-dev is new) on the dev node's fixed
// ports, with the freshly built binary on PATH as credledger.
//
// The block follows a convention that this test checks:
//   - A line that is not a comment is a command; a line ending in \
//     continues on the next one. A comment after a command on its line is
//     a note for the reader.
//   - Comment lines directly under a command (no blank line between) show
//     what it prints on stdout, in order: each must match a line of its
//     output after the line the one above matched (lines not shown may
//     come between). In them … matches any text, a run of spaces matches
//     any run of spaces, and a number standing alone (2 in height=2)
//     matches any number, because heights depend on timing. A line
//     "exit N" must match exactly.
//   - Every command must exit 0 (a pipeline as a whole, with pipefail).
//     To show a non-zero exit code, end the command with `; echo "exit $?"`
//     and show "# exit N" under it.
//
// The README is parsed in -short mode too, so a missing or empty block
// fails there; running it is skipped in -short mode.
func TestREADMEWalkthrough(t *testing.T) {
	steps := readmeWalkthrough(t, filepath.Join("..", "..", "README.md"))
	bin := e2eBinary(t) // skips in -short mode

	home, work := t.TempDir(), t.TempDir()
	binDir := filepath.Join(t.TempDir(), "bin")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	require.NoError(t, os.Symlink(bin, filepath.Join(binDir, "credledger")))
	env := append(os.Environ(), "HOME="+home, "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))

	startWalkDevNode(t, bin, home, env)
	results := runWalkthrough(t, steps, work, env)

	for i, s := range steps {
		checkWalkStep(t, s, results[i])
	}
	// the hash the README shows must be the credential's, whatever the CLI says
	f, err := credhash.File(filepath.Join(work, "cred.json"))
	require.NoError(t, err, "the walk-through should write cred.json")
	sum := hex.EncodeToString(f.Hash[:])
	var shown strings.Builder
	for _, s := range steps {
		shown.WriteString(strings.Join(s.want, "\n") + "\n")
	}
	require.Contains(t, shown.String(), sum, "README.md's walk-through should show cred.json's hash %s", sum)
}

// walkStep is one command of the walk-through and the output shown under it.
type walkStep struct {
	line int    // README.md line of the command
	cmd  string // as written, continuation lines included
	want []string
}

// readmeWalkthrough returns the commands of the first sh block in the
// "## Walk-through" section of the README at path. It fails the test if
// there is no such block or it holds no command with shown output.
func readmeWalkthrough(t *testing.T, path string) []walkStep {
	t.Helper()
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(bz), "\n")
	start, end := -1, -1
	inSection := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			inSection = strings.TrimSpace(l) == "## Walk-through"
		case inSection && start < 0 && strings.TrimSpace(l) == "```sh":
			start = i + 1
		case start >= 0 && end < 0 && strings.TrimSpace(l) == "```":
			end = i
		}
	}
	require.True(t, start >= 0 && end >= start, "README.md has no ```sh block in its \"## Walk-through\" section")

	var steps []walkStep
	cur := -1 // index in steps of the command that comment lines belong to
	for i := start; i < end; i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "":
			cur = -1
		case strings.HasPrefix(l, "#"):
			want := strings.TrimSpace(strings.TrimPrefix(l, "#"))
			require.True(t, cur >= 0, "README.md:%d: output line %q is not directly under a command", i+1, l)
			require.NotEmpty(t, want, "README.md:%d: empty output line", i+1)
			steps[cur].want = append(steps[cur].want, want)
		default:
			s := walkStep{line: i + 1, cmd: lines[i]}
			for strings.HasSuffix(strings.TrimSpace(lines[i]), `\`) && i+1 < end {
				i++
				s.cmd += "\n" + lines[i]
			}
			steps = append(steps, s)
			cur = len(steps) - 1
		}
	}
	shown := 0
	for _, s := range steps {
		shown += len(s.want)
	}
	require.NotEmpty(t, steps, "README.md's walk-through block has no commands")
	require.NotZero(t, shown, "README.md's walk-through block shows no output to check")
	return steps
}

const (
	walkP2PPort   = devBasePort
	walkRPCPort   = devBasePort + 1
	walkPortsWait = 30 * time.Second
	// walkTimeout bounds the whole block; each anchor or revoke
	// waits for one commit, which a dev node makes in about a second
	walkTimeout   = 3 * time.Minute
	walkDevBanner = "credledger dev node running"
)

// startWalkDevNode runs `credledger dev` with env (its HOME fresh) and waits
// until it makes blocks; the node is killed in t.Cleanup. The dev node
// listens on fixed ports: if they are busy, it waits up to walkPortsWait
// for them and then fails the test without starting anything.
func startWalkDevNode(t *testing.T, bin, home string, env []string) {
	t.Helper()
	deadline := time.Now().Add(walkPortsWait)
	for !canListen(walkP2PPort) || !canListen(walkRPCPort) {
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1:%d or :%d is busy (another credledger dev or CometBFT node?): the walk-through talks to a dev node on these fixed ports; stop whatever listens there and run again",
				walkP2PPort, walkRPCPort)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// the other tests' nodes take ports from 10000-29999 (freeBasePort,
	// netFreeBase), so only another process can hold these
	n := &testNode{
		t: t, bin: bin, home: filepath.Join(home, ".credledger-dev"), port: walkP2PPort,
		url: fmt.Sprintf("http://127.0.0.1:%d", walkRPCPort), logPath: filepath.Join(home, "dev.log"),
	}
	logf, err := os.Create(n.logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "dev")
	cmd.Env, cmd.Dir = env, home
	cmd.Stdout, cmd.Stderr = logf, logf
	t.Cleanup(func() {
		if t.Failed() {
			n.printLog()
		}
	})
	require.NoError(t, n.run(cmd, logf), "start credledger dev")
	if err := n.waitReady(1, nodeStartTimeout); err != nil {
		if n.logContains("address already in use") {
			t.Fatalf("credledger dev could not listen on 127.0.0.1:%d/%d (taken meanwhile): %v", walkP2PPort, walkRPCPort, err)
		}
		t.Fatalf("credledger dev: %v", err)
	}
	// the banner follows a successful start: the node that answered is ours
	for i := 0; !n.logContains(walkDevBanner); i++ {
		if i == 50 {
			t.Fatalf("credledger dev answers on %s but printed no %q", n.url, walkDevBanner)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// walkResult is what one command of the walk-through did.
type walkResult struct {
	ran            bool
	code           int
	stdout, stderr string
}

// runWalkthrough runs the commands in one bash process in dir with env, in
// order, each with its stdout, stderr and exit code kept apart, so that
// variables carry over from one command to the next as in a terminal.
func runWalkthrough(t *testing.T, steps []walkStep, dir string, env []string) []walkResult {
	t.Helper()
	out := t.TempDir()
	file := func(i int, ext string) string { return filepath.Join(out, fmt.Sprintf("%d.%s", i, ext)) }
	var script strings.Builder
	script.WriteString("set -o pipefail\n")
	for i, s := range steps {
		// the group runs in this shell; the newline ends a trailing comment
		fmt.Fprintf(&script, "{ %s\n} >%s 2>%s </dev/null; echo $? >%s\n",
			s.cmd, walkShellQuote(file(i, "out")), walkShellQuote(file(i, "err")), walkShellQuote(file(i, "rc")))
	}
	scriptPath := filepath.Join(out, "walkthrough.sh")
	require.NoError(t, os.WriteFile(scriptPath, []byte(script.String()), 0o600))

	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "the walk-through is a bash script")
	ctx, cancel := context.WithTimeout(t.Context(), walkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", scriptPath)
	cmd.Env, cmd.Dir = env, dir
	// kill the commands bash is running too, not only bash
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	combined, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the walk-through did not finish within %s\n%s", walkTimeout, combined)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run bash: %v", err)
	}
	return readWalkResults(t, len(steps), file)
}

// readWalkResults reads what runWalkthrough's script kept of n commands.
func readWalkResults(t *testing.T, n int, file func(i int, ext string) string) []walkResult {
	t.Helper()
	results := make([]walkResult, n)
	for i := range results {
		rc, err := os.ReadFile(file(i, "rc"))
		if err != nil {
			continue // bash stopped before this command
		}
		r := &results[i]
		r.ran = true
		r.code, err = strconv.Atoi(strings.TrimSpace(string(rc)))
		require.NoError(t, err)
		stdout, _ := os.ReadFile(file(i, "out"))
		stderr, _ := os.ReadFile(file(i, "err"))
		r.stdout, r.stderr = string(stdout), string(stderr)
	}
	return results
}

// checkWalkStep reports where a command's exit code or output differs from
// what the README shows.
func checkWalkStep(t *testing.T, s walkStep, r walkResult) {
	t.Helper()
	where := fmt.Sprintf("README.md:%d: %s", s.line, s.cmd)
	if !r.ran {
		t.Errorf("%s\ndid not run: the shell stopped before it", where)
		return
	}
	if r.code != 0 {
		t.Errorf("%s\nexited %d (show a non-zero exit with ; echo \"exit $?\" and # exit N)\nstdout:\n%s\nstderr:\n%s", where, r.code, r.stdout, r.stderr)
	}
	got := lines(r.stdout)
	next := 0
	for _, want := range s.want {
		re := walkOutputPattern(want)
		found := false
		for next < len(got) && !found {
			found = re.MatchString(strings.TrimSpace(got[next]))
			next++
		}
		if !found {
			t.Errorf("%s\nshows %q, which matches no line of its output (after the lines matched above)\nstdout:\n%s\nstderr:\n%s",
				where, want, r.stdout, r.stderr)
			return
		}
	}
}

var walkExitLineRE = regexp.MustCompile(`^exit [0-9]+$`)

// walkOutputPattern turns a shown output line into a regexp for one output
// line: … is any text, a run of spaces any run of spaces, a number that
// stands alone any number, and the rest is literal; "exit N" is exact.
func walkOutputPattern(want string) *regexp.Regexp {
	if walkExitLineRE.MatchString(want) {
		return regexp.MustCompile("^" + regexp.QuoteMeta(want) + "$")
	}
	word := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(want)
	for i := 0; i < len(rs); {
		j := i + 1
		switch r := rs[i]; {
		case r == '…':
			b.WriteString(".*")
		case unicode.IsSpace(r):
			for j < len(rs) && unicode.IsSpace(rs[j]) {
				j++
			}
			b.WriteString(`\s+`)
		case word(r):
			for j < len(rs) && word(rs[j]) {
				j++
			}
			w := string(rs[i:j])
			if strings.Trim(w, "0123456789") == "" {
				b.WriteString(`[0-9]+`)
			} else {
				b.WriteString(regexp.QuoteMeta(w))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		i = j
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// walkShellQuote quotes s for a POSIX shell.
func walkShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
