package node

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/cometbft/cometbft/libs/log"
)

// A node whose disk fills up must stop, not linger. CometBFT v0.38 panics
// when a write it cannot do without fails (the consensus WAL's fsynced
// messages, the validator's last-sign state, a block or state save, the
// app's Commit), recovers that panic in the consensus routine, logs
// "CONSENSUS FAILURE!!!" and ends consensus, while the rest of the node (p2p,
// RPC) keeps running: a validator that no longer votes, and an operator who
// is not told. It offers no other signal of it, so the node watches its own
// log for that entry (haltWatch) and its runner (credledger start) stops the
// process with a HaltError. What it had committed is safe: every commit is
// fsynced before CometBFT moves on, and on the next start CometBFT replays
// the block it was in.

// consensusFailureMsg is the message CometBFT's consensus routine
// (consensus/state.go, receiveRoutine) logs, with the panic value under
// "err", when it recovers a panic and stops.
const consensusFailureMsg = "CONSENSUS FAILURE!!!"

// storageErrnos are the errors of a write that failed because of the disk:
// full, over a quota or the process's file size limit, broken, or mounted
// read-only.
var storageErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EIO, syscall.EROFS}

// maxHaltCause bounds the cause quoted in a HaltError's message.
const maxHaltCause = 300

// HaltError says why a running node stopped on its own: its consensus
// failed, most often because a write to its storage failed.
type HaltError struct {
	// Home is the node's home directory.
	Home string
	// Cause is what the consensus failure reported, on one line.
	Cause string
	// Storage reports that Cause is a failed disk operation (disk full,
	// quota or file size limit reached, I/O error, read-only file system).
	Storage bool
}

// Error is one line: what failed, and what to do.
func (e *HaltError) Error() string {
	if e.Storage {
		return fmt.Sprintf("node halted: a write to its storage failed (%s); the disk holding %s is probably full: "+
			"free space (or repair the disk), then start the node again, it resumes from its last committed block", e.Cause, e.Home)
	}
	return fmt.Sprintf("node halted: consensus failed (%s); see the log above, then start the node again", e.Cause)
}

// newHaltError describes a consensus failure whose panic value is cause.
func newHaltError(home string, cause any) *HaltError {
	text := "unknown cause"
	if cause != nil {
		text = strings.Join(strings.Fields(fmt.Sprint(cause)), " ")
	}
	if len(text) > maxHaltCause {
		text = text[:maxHaltCause] + "..."
	}
	e := &HaltError{Home: home, Cause: text}
	err, _ := cause.(error)
	for _, errno := range storageErrnos {
		// panic values are often formatted strings, so match the text too
		e.Storage = e.Storage || errors.Is(err, errno) || strings.Contains(text, errno.Error())
	}
	return e
}

// haltWatch records the first consensus failure of a node. It is safe for
// concurrent use.
type haltWatch struct {
	home string
	once sync.Once
	done chan struct{}
	err  *HaltError // set before done is closed
}

func newHaltWatch(home string) *haltWatch {
	return &haltWatch{home: home, done: make(chan struct{})}
}

// halt records a consensus failure with panic value cause (the first one
// counts).
func (w *haltWatch) halt(cause any) {
	w.once.Do(func() {
		w.err = newHaltError(w.home, cause)
		close(w.done)
	})
}

// logger returns a logger that passes everything on to next and reports
// CometBFT's consensus failure to w.
func (w *haltWatch) logger(next log.Logger) log.Logger {
	return &haltLogger{next: next, w: w}
}

// haltLogger is haltWatch.logger. It is safe for concurrent use, like the
// logger it wraps.
type haltLogger struct {
	next log.Logger
	w    *haltWatch
}

// Debug logs at debug level.
func (l *haltLogger) Debug(msg string, keyvals ...any) { l.next.Debug(msg, keyvals...) }

// Info logs at info level.
func (l *haltLogger) Info(msg string, keyvals ...any) { l.next.Info(msg, keyvals...) }

// Error logs at error level and reports a consensus failure to the watch.
func (l *haltLogger) Error(msg string, keyvals ...any) {
	l.next.Error(msg, keyvals...)
	if msg == consensusFailureMsg {
		l.w.halt(keyval(keyvals, "err"))
	}
}

// With returns a logger with keyvals added that reports to the same watch.
func (l *haltLogger) With(keyvals ...any) log.Logger {
	return &haltLogger{next: l.next.With(keyvals...), w: l.w}
}

// keyval returns the value for key in a key/value list (nil if absent).
func keyval(keyvals []any, key string) any {
	for i := 0; i+1 < len(keyvals); i += 2 {
		if k, ok := keyvals[i].(string); ok && k == key {
			return keyvals[i+1]
		}
	}
	return nil
}

// Halted returns a channel that is closed when the node's consensus has
// failed (see HaltErr): the node no longer commits blocks and should be
// stopped.
func (n *FullNode) Halted() <-chan struct{} { return n.halt.done }

// HaltErr returns why the node halted (nil while Halted is open).
func (n *FullNode) HaltErr() error {
	select {
	case <-n.halt.done:
		return n.halt.err
	default:
		return nil
	}
}
