package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFileName is the file in the node's data directory (HOME/data) that a
// running node holds an exclusive lock on.
const LockFileName = "credledger.lock"

// ErrHomeInUse means that another process runs a node on the same home: its
// lock on HOME/data/credledger.lock is held. Match it with errors.Is.
var ErrHomeInUse = errors.New("a node is already running")

// errLocked is what tryLock returns when another open file holds the lock.
var errLocked = errors.New("locked")

// homeLock is an exclusive lock on a node's data directory, held for the
// node's life. The operating system releases it when the process exits, so
// a killed node never leaves a stale lock behind. It is not safe for
// concurrent use.
type homeLock struct {
	f *os.File
}

// lockHome takes the lock of the node in home, whose data directory is
// dataDir, and records this process's id in the lock file. If another
// process holds the lock it returns an error wrapping ErrHomeInUse that
// names home and, when the file says, the other process's id.
func lockHome(home, dataDir string) (*homeLock, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dataDir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := tryLock(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errLocked) {
			return nil, homeInUseError(home, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &homeLock{f: f}, nil
}

// homeInUseError describes the node that holds the lock file at path.
func homeInUseError(home, path string) error {
	bz, err := os.ReadFile(path)
	if pid, perr := strconv.Atoi(strings.TrimSpace(string(bz))); err == nil && perr == nil && pid > 0 {
		return fmt.Errorf("%w on %s (pid %d; stop it first, or use another --home)", ErrHomeInUse, home, pid)
	}
	return fmt.Errorf("%w on %s (stop it first, or use another --home)", ErrHomeInUse, home)
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// release drops the lock. It may be called more than once.
func (l *homeLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// closing the file drops the lock
	if err := f.Close(); err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}
