package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	cmtversion "github.com/cometbft/cometbft/version"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// startOwnNode initialises a home on a free base port and runs
// `credledger CMD --home HOME ARGS...` in it, retrying on another port when
// the one chosen was taken meanwhile. Unlike startTestNode it leaves the log
// level to the caller; stdout goes to HOME.out and stderr to n.logPath. It
// waits until the node has committed its first block. The node is killed
// in t.Cleanup.
func startOwnNode(t *testing.T, bin, cmdName string, args ...string) *testNode {
	t.Helper()
	var lastErr error
	for try := range nodeStartTries {
		n := &testNode{t: t, bin: bin, home: filepath.Join(t.TempDir(), "home"), port: freeBasePort(t)}
		n.url = fmt.Sprintf("http://127.0.0.1:%d", n.port+1)
		n.logPath = n.home + ".err"
		res := runCLI(t, bin, "init", "--home", n.home, "--base-port", fmt.Sprint(n.port))
		require.Equal(t, 0, res.code, "init: %s", res)
		t.Cleanup(func() {
			if t.Failed() {
				n.printLog()
			}
		})
		lastErr = n.startCmd(cmdName, args...)
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

// startCmd runs `credledger CMD --home HOME ARGS...` and waits for its
// first block.
func (n *testNode) startCmd(cmdName string, args ...string) error {
	t := n.t
	t.Helper()
	stdout, err := os.Create(n.home + ".out")
	if err != nil {
		return err
	}
	stderr, err := os.Create(n.logPath)
	if err != nil {
		_ = stdout.Close()
		return err
	}
	cmd := exec.Command(n.bin, append([]string{cmdName, "--home", n.home}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := n.run(cmd, stdout, stderr); err != nil {
		return err
	}
	return n.waitReady(1, nodeStartTimeout)
}

// advanceTo anchors a credential, so that the node makes blocks without
// waiting for its empty-block interval, and waits until it has committed
// minHeight (at most 3: the tx's block and the one that proves it).
func (n *testNode) advanceTo(minHeight int64) {
	t := n.t
	t.Helper()
	cred := filepath.Join(t.TempDir(), "cred.json")
	require.NoError(t, os.WriteFile(cred, []byte(fmt.Sprintf(`{"n":%q}`, randomHex(t))), 0o600))
	res := runCLI(t, n.bin, "anchor", cred, "--from", node.DefaultIssuerID, "--home", n.home)
	require.Equal(t, 0, res.code, "anchor: %s", res)
	require.NoError(t, n.waitReady(minHeight, nodeStartTimeout))
}

// signalAndWait sends sig to the node and returns its exit code and what it
// wrote to stderr after the signal.
func (n *testNode) signalAndWait(sig os.Signal) (code int, after string) {
	t := n.t
	t.Helper()
	before, err := os.ReadFile(n.logPath)
	require.NoError(t, err)
	require.NoError(t, n.cmd.Process.Signal(sig))
	select {
	case <-n.done:
	case <-time.After(nodeStopTimeout):
		t.Fatalf("node did not exit within %s of %s", nodeStopTimeout, sig)
	}
	all, err := os.ReadFile(n.logPath)
	require.NoError(t, err)
	return n.cmd.ProcessState.ExitCode(), string(all[len(before):])
}

// TestStartHomeInUse checks that a second start or dev on the home of a
// running node fails at once with one clear line, and that after the first
// node is killed with SIGKILL (no chance to clean up) the home starts again.
func TestStartHomeInUse(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	want := fmt.Sprintf("credledger: a node is already running on %s (pid %d; stop it first, or use another --home)",
		n.home, n.cmd.Process.Pid)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"start", []string{"start", "--home", n.home}},
		{"start with log level", []string{"start", "--home", n.home, "--log-level", "info"}},
		{"dev", []string{"dev", "--home", n.home}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, bin, tc.args...)
			require.Equal(t, 1, res.code, "%s", res)
			require.Equal(t, []string{want}, res.stderrLines(), "%s", res)
			require.Empty(t, res.stdout)
		})
	}
	n.restart() // SIGKILL, then start: the lock died with the process
	res := runCLI(t, bin, "start", "--home", n.home)
	require.Equal(t, 1, res.code, "%s", res)
	require.Equal(t, []string{fmt.Sprintf("credledger: a node is already running on %s (pid %d; stop it first, or use another --home)",
		n.home, n.cmd.Process.Pid)}, res.stderrLines())
}

// consensusStep matches CometBFT's per-step consensus lines.
var consensusStep = regexp.MustCompile(`enterNewRound|enterPropose|enterPrevote|enterPrecommit|enterCommit|Timed out|received proposal|finalizing commit|module=consensus`)

// TestStartDefaultLogLevel checks that start logs, by default, credledger's
// own lines and no consensus steps.
func TestStartDefaultLogLevel(t *testing.T) {
	bin := e2eBinary(t)
	n := startOwnNode(t, bin, "start")
	n.advanceTo(3)
	code, _ := n.signalAndWait(syscall.SIGINT)
	require.Equal(t, 0, code)
	bz, err := os.ReadFile(n.logPath)
	require.NoError(t, err)
	lines := lines(string(bz))
	committed := 0
	for _, l := range lines {
		require.NotRegexp(t, consensusStep, l)
		// CometBFT's errors would show too, but a healthy node has none
		require.Containsf(t, l, "module=credledger", "not a credledger line: %q", l)
		if strings.Contains(l, "committed state") {
			committed++
		}
	}
	require.GreaterOrEqual(t, committed, 3, "want a committed-state line per block:\n%s", bz)
	require.Contains(t, string(bz), "node started")
	require.Contains(t, string(bz), "rpc="+n.url)
}

// TestStopOnSignal checks that SIGINT and SIGTERM stop start and dev
// cleanly: exit 0 and no error line from the shutdown.
func TestStopOnSignal(t *testing.T) {
	bin := e2eBinary(t)
	for _, tc := range []struct {
		name string
		cmd  string
		sig  os.Signal
		args []string
	}{
		{"start SIGINT", "start", syscall.SIGINT, nil},
		{"start SIGTERM at info", "start", syscall.SIGTERM, []string{"--log-level", "info"}},
		{"dev SIGINT", "dev", syscall.SIGINT, nil},
		{"dev SIGTERM at debug", "dev", syscall.SIGTERM, []string{"--log-level", "debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startOwnNode(t, bin, tc.cmd, tc.args...)
			n.advanceTo(2)
			code, after := n.signalAndWait(tc.sig)
			require.Equal(t, 0, code, "stderr after the signal:\n%s", after)
			for _, l := range lines(after) {
				for _, bad := range []string{"credledger:", "E[", "ERROR"} {
					require.False(t, strings.HasPrefix(l, bad), "error line after %s: %q", tc.sig, l)
				}
			}
			require.Contains(t, after, "stopping node")
			require.Contains(t, after, "node stopped")
		})
	}
}

// versionOut is the JSON contract of `credledger version --output json`.
type versionOut struct {
	Version     string `json:"version"`
	Commit      string `json:"commit"`
	Modified    bool   `json:"modified"`
	Go          string `json:"go"`
	CometBFT    string `json:"cometbft"`
	AppProtocol uint64 `json:"app_protocol"`
}

func TestVersionCmd(t *testing.T) {
	bin := e2eBinary(t)
	res := runCLI(t, bin, "version", "--output", "json")
	require.Equal(t, 0, res.code, "%s", res)
	require.Empty(t, res.stderr)
	var v versionOut
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &v), "%s", res)
	require.NotEmpty(t, v.Version)
	require.NotEmpty(t, v.Commit)
	require.Equal(t, runtime.Version(), v.Go)
	require.Equal(t, cmtversion.TMCoreSemVer, v.CometBFT)
	require.Equal(t, node.AppProtocolVersion, v.AppProtocol)

	res = runCLI(t, bin, "version")
	require.Equal(t, 0, res.code, "%s", res)
	out := res.stdout
	for _, s := range []string{"credledger " + v.Version, v.Commit, runtime.Version(), "cometbft:", cmtversion.TMCoreSemVer,
		fmt.Sprintf("app protocol:    %d", node.AppProtocolVersion)} {
		require.Contains(t, out, s)
	}

	res = runCLI(t, bin, "version", "--output", "yaml")
	require.Equal(t, 1, res.code, "%s", res)
	require.Equal(t, []string{`credledger: --output "yaml": want text or json`}, res.stderrLines())
}

// TestVersionLdflags builds the binary without VCS information and with the
// -ldflags variables the Makefile sets, and checks that version uses them.
func TestVersionLdflags(t *testing.T) {
	e2eBinary(t) // skips in -short mode
	bin := filepath.Join(t.TempDir(), "credledger")
	const commit = "0123456789abcdef0123456789abcdef01234567"
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin,
		"-ldflags", "-X main.version=v9.8.7 -X main.commit="+commit+"-dirty", ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	res := runCLI(t, bin, "version", "--output", "json")
	require.Equal(t, 0, res.code, "%s", res)
	var v versionOut
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &v), "%s", res)
	require.Equal(t, versionOut{Version: "v9.8.7", Commit: commit, Modified: true, Go: runtime.Version(),
		CometBFT: cmtversion.TMCoreSemVer, AppProtocol: node.AppProtocolVersion}, v)
}

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name                string
		info                *debug.BuildInfo
		ldVersion, ldCommit string
		version, commit     string
		modified            bool
	}{
		{name: "nothing known", version: "dev", commit: "unknown"},
		{name: "devel build", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, version: "dev", commit: "unknown"},
		{name: "ldflags only", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			ldVersion: "v1.0.0", ldCommit: "abc", version: "v1.0.0", commit: "abc"},
		{name: "ldflags dirty", ldCommit: "abc-dirty", version: "dev", commit: "abc", modified: true},
		{name: "go install", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, version: "v1.2.3", commit: "unknown"},
		{name: "vcs", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-abcdef012345+dirty"}, Settings: vcs("abcdef", "true")},
			version: "v0.0.0-20260101000000-abcdef012345+dirty", commit: "abcdef", modified: true},
		{name: "build info wins over ldflags", info: &debug.BuildInfo{Main: debug.Module{Version: "v2.0.0"}, Settings: vcs("abcdef", "false")},
			ldVersion: "v1.0.0", ldCommit: "012345-dirty", version: "v2.0.0", commit: "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := buildVersion(tc.info, tc.ldVersion, tc.ldCommit)
			require.Equal(t, tc.version, v.Version)
			require.Equal(t, tc.commit, v.Commit)
			require.Equal(t, tc.modified, v.Modified)
			require.Equal(t, runtime.Version(), v.Go)
			require.Equal(t, cmtversion.TMCoreSemVer, v.CometBFT)
			require.Equal(t, node.AppProtocolVersion, v.AppProtocol)
		})
	}
}
