//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package node

import "os"

// lockSupported says that tryLock does not lock on this system.
const lockSupported = false

// tryLock does nothing on this system: a second node on the same home is
// stopped only by the databases' own locks, with a less clear error.
func tryLock(*os.File) error { return nil }
