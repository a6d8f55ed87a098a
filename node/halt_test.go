package node

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cometbft/cometbft/libs/log"
	"github.com/stretchr/testify/require"
)

// TestHaltWatch feeds log entries through loggers derived with With, like
// CometBFT's modules do: only the consensus failure halts, the first one
// counts, and its cause is told apart as a storage failure or not.
func TestHaltWatch(t *testing.T) {
	walErr := fmt.Sprintf("failed to write {} msg to consensus WAL due to write /h/data/cs.wal/wal: %s; check your file system and restart the node", syscall.ENOSPC)
	for _, tc := range []struct {
		name    string
		cause   any
		storage bool
		want    string
	}{
		{"file size limit (error value)", &fs.PathError{Op: "write", Path: "/h/data/x", Err: syscall.EFBIG}, true, "write /h/data/x: file too large"},
		{"full disk (formatted string)", walErr, true, walErr},
		{"wrapped error", fmt.Errorf("commit: %w", &fs.PathError{Op: "write", Path: "f", Err: syscall.EDQUOT}), true, "commit: write f: disk quota exceeded"},
		{"read-only file system", "open f: " + syscall.EROFS.Error(), true, "open f: read-only file system"},
		{"not storage", "+2/3 committed an invalid block: wrong app hash", false, "+2/3 committed an invalid block: wrong app hash"},
		{"multi-line cause", "line one\n\tline two", false, "line one line two"},
		{"no cause", nil, false, "unknown cause"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newHaltWatch("/h")
			logger := w.logger(log.NewTMLogger(&buf)).With("module", "consensus")
			logger.Error("failed writing to WAL", "err", tc.cause)
			logger.Info(consensusFailureMsg, "err", tc.cause)
			select {
			case <-w.done:
				t.Fatal("halted on an entry that is not a consensus failure")
			default:
			}
			logger.With("height", 5).Error(consensusFailureMsg, "err", tc.cause, "stack", "goroutine 1 [running]")
			logger.Error(consensusFailureMsg, "err", "a later failure")
			<-w.done
			require.Equal(t, &HaltError{Home: "/h", Cause: tc.want, Storage: tc.storage}, w.err)
			require.Equal(t, 3, strings.Count(buf.String(), consensusFailureMsg), "every entry is logged")
			require.NotContains(t, w.err.Error(), "\n")
			if tc.storage {
				require.Contains(t, w.err.Error(), "the disk holding /h is probably full: free space")
			} else {
				require.Contains(t, w.err.Error(), "consensus failed")
			}
		})
	}
}

func TestHaltErrorCauseBounded(t *testing.T) {
	e := newHaltError("/h", strings.Repeat("x", 1000)+" "+syscall.ENOSPC.Error())
	require.Len(t, e.Cause, maxHaltCause+len("..."))
	require.False(t, e.Storage, "only the quoted part is matched")
}

// TestConsensusFailureMessage pins the message haltWatch looks for to the
// CometBFT source this module builds with: an upgrade that changed it would
// silently disable the halt.
func TestConsensusFailureMessage(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cometbft/cometbft").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "consensus", "state.go"))
	require.NoError(t, err)
	require.Contains(t, string(src), fmt.Sprintf("cs.Logger.Error(%q, \"err\", r,", consensusFailureMsg))
}
