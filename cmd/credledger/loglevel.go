package main

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/cometbft/cometbft/libs/log"
)

// defaultLogLevel is what start and dev log by default: credledger's own
// lines (committed heights, validator updates, rejected proposals) and
// CometBFT's errors, but not every consensus step.
const defaultLogLevel = "*:error,credledger:info"

// logLevelUsage is the help of --log-level.
const logLevelUsage = "log level: debug, info or error, or per module (\"consensus:info,*:error\"); " +
	"credledger:info shows committed heights, validator updates and rejected proposals"

// parseModuleLevels applies "module:level,*:level" filters.
func parseModuleLevels(logger log.Logger, spec string) (log.Logger, error) {
	var opts []log.Option
	for _, part := range strings.Split(spec, ",") {
		mod, lvl, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("want module:level, got %q", part)
		}
		opt, err := log.AllowLevel(lvl)
		if err != nil {
			return nil, err
		}
		if mod == "*" {
			opts = append(opts, opt)
			continue
		}
		var o log.Option
		switch lvl {
		case "debug":
			o = log.AllowDebugWith("module", mod)
		case "info":
			o = log.AllowInfoWith("module", mod)
		case "error":
			o = log.AllowErrorWith("module", mod)
		default:
			return nil, fmt.Errorf("unknown level %q", lvl)
		}
		opts = append(opts, o)
	}
	return log.NewFilter(logger, opts...), nil
}

// shutdownNoise are the error messages CometBFT logs when it is stopped on
// purpose: its RPC and p2p listeners were closed, and so were its peers'
// connections.
var shutdownNoise = map[string]bool{
	"Error serving server":                           true,
	"Error serving server with TLS":                  true,
	"Stopped accept routine, as transport is closed": true,
	"Stopping peer for error":                        true,
	"Connection failed @ recvRoutine":                true,
	"Connection failed @ sendRoutine":                true,
}

// stopLogger passes everything on to next, except that once stopping has
// been called it logs shutdownNoise at info instead of error, so that a
// node stopped on purpose does not log errors about it. It is safe for
// concurrent use, like the logger it wraps.
type stopLogger struct {
	next     log.Logger
	stopping *atomic.Bool // shared with the loggers made by With
}

// newStopLogger wraps next; see stopLogger.
func newStopLogger(next log.Logger) *stopLogger {
	return &stopLogger{next: next, stopping: new(atomic.Bool)}
}

// Stopping marks the start of a deliberate shutdown.
func (l *stopLogger) Stopping() { l.stopping.Store(true) }

// Debug logs at debug level.
func (l *stopLogger) Debug(msg string, keyvals ...any) { l.next.Debug(msg, keyvals...) }

// Info logs at info level.
func (l *stopLogger) Info(msg string, keyvals ...any) { l.next.Info(msg, keyvals...) }

// Error logs at error level, or at info level for shutdown noise.
func (l *stopLogger) Error(msg string, keyvals ...any) {
	if l.stopping.Load() && shutdownNoise[msg] {
		l.next.Info(msg, keyvals...)
		return
	}
	l.next.Error(msg, keyvals...)
}

// With returns a logger with keyvals added that shares l's stopping state.
func (l *stopLogger) With(keyvals ...any) log.Logger {
	return &stopLogger{next: l.next.With(keyvals...), stopping: l.stopping}
}
