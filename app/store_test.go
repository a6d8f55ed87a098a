package app

import (
	"fmt"
	"testing"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/stretchr/testify/require"
)

// TestStoreDropsPartiallySavedVersion simulates a crash inside Commit:
// IAVL writes a version's nodes in batches and its root last, so a killed
// process can leave the newest version without a root. The store must open
// at the previous version (CometBFT then replays the block) and saving the
// same writes again must give the same hash.
func TestStoreDropsPartiallySavedVersion(t *testing.T) {
	dir := t.TempDir()
	block := func(v int) []KV {
		var kvs []KV
		for i := range 50 {
			kvs = append(kvs, KV{Key: []byte(fmt.Sprintf("k-%d-%d", v, i)), Value: []byte(fmt.Sprintf("v-%d", v))})
		}
		return kvs
	}
	s, err := OpenStore(dir)
	require.NoError(t, err)
	hashes := map[int64][]byte{}
	for v := 1; v <= 3; v++ {
		_, err := s.Apply(block(v))
		require.NoError(t, err)
		hash, version, err := s.Commit()
		require.NoError(t, err)
		hashes[version] = hash
	}
	require.NoError(t, s.Close())

	// remove version 3's root, as a crash before SaveVersion's last batch would
	db, err := idb.NewGoLevelDB("app", dir)
	require.NoError(t, err)
	rootKey := append([]byte{'s'}, iavl.GetRootKey(3)...)
	has, err := db.Has(rootKey)
	require.NoError(t, err)
	require.True(t, has, "the test must delete a key that exists")
	require.NoError(t, db.Delete(rootKey))
	require.NoError(t, db.Close())

	s, err = OpenStore(dir)
	require.NoError(t, err, "a half-saved version must not keep the node from starting")
	t.Cleanup(func() { _ = s.Close() })
	require.Equal(t, int64(2), s.Height())
	require.Equal(t, hashes[2], s.Hash())
	_, err = s.Apply(block(3))
	require.NoError(t, err)
	hash, version, err := s.Commit()
	require.NoError(t, err)
	require.Equal(t, int64(3), version)
	require.Equal(t, hashes[3], hash, "replaying the block gives the same app hash")
}
