package node

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLockHome(t *testing.T) {
	if !lockSupported {
		t.Skip("no home lock on this system")
	}
	home := t.TempDir()
	data := filepath.Join(home, "data")
	inUse := fmt.Sprintf("a node is already running on %s (pid %d; stop it first, or use another --home)", home, os.Getpid())
	for _, tc := range []struct {
		name string
		// malleate changes the lock file while the first lock is held
		malleate func(t *testing.T, path string)
		wantErr  string
	}{
		{name: "held", wantErr: inUse},
		{name: "no pid in the file", malleate: func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("garbage\n"), 0o600))
		}, wantErr: fmt.Sprintf("a node is already running on %s (stop it first, or use another --home)", home)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, err := lockHome(home, data)
			require.NoError(t, err)
			t.Cleanup(func() { _ = first.release() })
			if tc.malleate != nil {
				tc.malleate(t, filepath.Join(data, LockFileName))
			}
			_, err = lockHome(home, data)
			require.ErrorIs(t, err, ErrHomeInUse)
			require.EqualError(t, err, tc.wantErr)

			require.NoError(t, first.release())
			require.NoError(t, first.release(), "release twice")
			again, err := lockHome(home, data)
			require.NoError(t, err, "lock after release")
			require.NoError(t, again.release())
		})
	}
}
