package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/client"
)

// e2eDir holds the binary built for the end-to-end tests; TestMain removes it.
var e2eDir string

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "credledger-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create e2e temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir) //nolint:errcheck // best effort
	e2eDir = dir
	// the processes the tests start (and the tests) get a HOME of their
	// own, so no test reads or writes the user's ~/.credledger-light or
	// ~/.credledger-dev (the README test sets its own HOME on top)
	// keep the go command's caches where they are: they default to paths
	// under HOME
	goEnv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		return 1
	}
	for i, v := range strings.Split(strings.TrimSpace(string(goEnv)), "\n") {
		if err := os.Setenv([]string{"GOCACHE", "GOMODCACHE", "GOPATH"}[i], v); err != nil {
			fmt.Fprintln(os.Stderr, "set go env:", err)
			return 1
		}
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "create e2e home:", err)
		return 1
	}
	if err := os.Setenv("HOME", home); err != nil {
		fmt.Fprintln(os.Stderr, "set HOME:", err)
		return 1
	}
	return m.Run()
}

// e2eBinary builds the credledger binary (without -race) once per test run
// and returns its path. It skips the test in -short mode.
func e2eBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	buildOnce.Do(func() {
		bin := filepath.Join(e2eDir, "credledger")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		builtBin = bin
	})
	require.NoError(t, buildErr)
	return builtBin
}

// cliResult is what one run of the binary did.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// stdoutLines returns the non-empty lines of stdout.
func (r cliResult) stdoutLines() []string { return lines(r.stdout) }

// stderrLines returns the non-empty lines of stderr.
func (r cliResult) stderrLines() []string { return lines(r.stderr) }

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// cliTimeout bounds one CLI invocation (an anchor waits for its commit).
const cliTimeout = 90 * time.Second

// runCLI runs the binary with args and returns its exit code and output.
// It fails the test if the binary cannot be run or does not finish in time.
func runCLI(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("credledger %s did not finish within %s\n%s", strings.Join(args, " "), cliTimeout, res)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run credledger %s: %v", strings.Join(args, " "), err)
	}
	return res
}

var (
	portMu   sync.Mutex
	portNext int
	// portsUsed are the ports of every triple handed out by this process,
	// never reused
	portsUsed = map[int]bool{}
)

// the single-node tests take ports from 10000-19999: below Linux's
// ephemeral range (32768-60999), where an outgoing connection could take a
// port between the check and the node's bind, and apart from the network
// tests' 20000-29999
const (
	portLow   = 10000
	portHigh  = 20000
	portTries = 200
)

// freeBasePort returns a port P such that P, P+1 and P+2 (a node's p2p,
// RPC and Prometheus ports) could all be listened on at 127.0.0.1 a moment
// ago, none of them handed out before. The search starts at an offset
// seeded by the process id, so concurrent test binaries tend to pick
// different ports.
func freeBasePort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	if portNext == 0 {
		portNext = portLow + (os.Getpid()*7919)%(portHigh-portLow-3)
	}
	for range portTries {
		p := portNext
		portNext += 3
		if portNext >= portHigh-2 {
			portNext = portLow
		}
		if portsUsed[p] || portsUsed[p+1] || portsUsed[p+2] {
			continue
		}
		if canListen(p) && canListen(p+1) && canListen(p+2) {
			portsUsed[p], portsUsed[p+1], portsUsed[p+2] = true, true, true
			return p
		}
	}
	t.Fatalf("no free triple of ports in %d..%d after %d tries", portLow, portHigh, portTries)
	return 0
}

func canListen(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// closedPort returns a port on 127.0.0.1 that nothing listens on (it was
// free a moment ago), for "node unreachable" cases.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// testNode is a credledger node running as a separate process.
type testNode struct {
	t       *testing.T
	bin     string
	home    string
	port    int
	url     string
	logPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

const (
	nodeStartTimeout = 30 * time.Second
	nodeStopTimeout  = 15 * time.Second
	nodeStartTries   = 3
)

// startTestNode initialises a home on a free base port and starts a node in
// it, retrying on another port when the one chosen was taken meanwhile. The
// node is killed in t.Cleanup, and its log is printed if the test failed.
func startTestNode(t *testing.T, bin string) *testNode {
	t.Helper()
	var lastErr error
	for try := range nodeStartTries {
		n := &testNode{t: t, bin: bin, home: filepath.Join(t.TempDir(), "home"), port: freeBasePort(t)}
		n.url = fmt.Sprintf("http://127.0.0.1:%d", n.port+1)
		n.logPath = n.home + ".log"
		res := runCLI(t, bin, "init", "--home", n.home, "--base-port", fmt.Sprint(n.port))
		require.Equal(t, 0, res.code, "init: %s", res)
		t.Cleanup(func() {
			if t.Failed() {
				n.printLog()
			}
		})
		lastErr = n.start()
		if lastErr == nil {
			return n
		}
		t.Logf("node start attempt %d on port %d failed: %v", try+1, n.port, lastErr)
		if !n.logContains("address already in use") {
			break
		}
	}
	t.Fatalf("start node: %v", lastErr)
	return nil
}

// start runs `credledger start` in the node's home (appending to its log)
// and waits until the node serves RPC with a block of height >= 1 and
// answers queries.
func (n *testNode) start() error {
	t := n.t
	t.Helper()
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "start", "--home", n.home, "--log-level", "*:error")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := n.run(cmd, logf); err != nil {
		return err
	}
	return n.waitReady(1, nodeStartTimeout)
}

// run starts cmd as the node's process, killed in t.Cleanup; files are
// closed when it exits (or if it cannot start).
func (n *testNode) run(cmd *exec.Cmd, files ...*os.File) error {
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	if err := cmd.Start(); err != nil {
		closeAll()
		return fmt.Errorf("start process: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		closeAll()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	n.t.Cleanup(func() { n.kill() })
	return nil
}

// waitReady polls the node's status until its latest height is at least
// minHeight, the process exits, or timeout passes.
func (n *testNode) waitReady(minHeight int64, timeout time.Duration) error {
	c, err := client.New(n.url)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	var last error
	for i := 0; time.Now().Before(deadline) && i < 1000; i++ {
		select {
		case <-n.done:
			return fmt.Errorf("node process exited: %s", n.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		info, err := c.Status(ctx)
		if err == nil && info.LatestHeight >= minHeight {
			// the block store gets block 1 before the app commits it, and
			// queries fail until then
			_, err = c.Params(ctx)
		}
		cancel()
		switch {
		case err != nil:
			last = err
		case info.LatestHeight >= minHeight:
			return nil
		default:
			last = fmt.Errorf("latest height %d < %d", info.LatestHeight, minHeight)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("node at %s not ready within %s: %w", n.url, timeout, last)
}

// kill sends SIGKILL (no graceful shutdown) and waits for the process to
// exit. It does nothing if the process has already exited.
func (n *testNode) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	select {
	case <-n.done:
	case <-time.After(nodeStopTimeout):
		n.t.Errorf("node process %d did not exit within %s of SIGKILL", n.cmd.Process.Pid, nodeStopTimeout)
	}
}

// restart kills the node and starts it again from the same home.
func (n *testNode) restart() {
	n.t.Helper()
	n.kill()
	require.NoError(n.t, n.start(), "restart node")
}

func (n *testNode) client() *client.Client {
	n.t.Helper()
	c, err := client.New(n.url)
	require.NoError(n.t, err)
	return c
}

func (n *testNode) logContains(s string) bool {
	bz, err := os.ReadFile(n.logPath)
	return err == nil && bytes.Contains(bz, []byte(s))
}

// printLog logs the tail of the node's log file.
func (n *testNode) printLog() {
	bz, err := os.ReadFile(n.logPath)
	if err != nil {
		n.t.Logf("node log %s: %v", n.logPath, err)
		return
	}
	const max = 64 << 10
	if len(bz) > max {
		bz = append([]byte("...\n"), bz[len(bz)-max:]...)
	}
	n.t.Logf("node log %s:\n%s", n.logPath, bz)
}
