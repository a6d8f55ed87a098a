package app

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	corestore "cosmossdk.io/core/store"
	abci "github.com/cometbft/cometbft/abci/types"
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

// failingDB is an in-memory database whose batch writes fail once fail is
// set: a full disk.
type failingDB struct {
	idb.DB
	fail *atomic.Bool
}

func (d failingDB) NewBatch() corestore.Batch { return failingBatch{d.DB.NewBatch(), d.fail} }

func (d failingDB) NewBatchWithSize(n int) corestore.Batch {
	return failingBatch{d.DB.NewBatchWithSize(n), d.fail}
}

type failingBatch struct {
	corestore.Batch
	fail *atomic.Bool
}

var errDiskFull = errors.New("write app.db/000042.log: no space left on device")

func (b failingBatch) Write() error {
	if b.fail.Load() {
		return errDiskFull
	}
	return b.Batch.Write()
}

func (b failingBatch) WriteSync() error {
	if b.fail.Load() {
		return errDiskFull
	}
	return b.Batch.WriteSync()
}

// A version too large for one of IAVL's default batches, written when the
// disk is full, fails Commit with the write error. IAVL flushes a large
// batch midway by default and then, on a failed write, unlocks a mutex
// twice: a fatal error that no recover catches (it killed a node in the
// long fault test), so without whole-version batches this test crashes.
func TestCommitFailsCleanlyOnFullDisk(t *testing.T) {
	var fail atomic.Bool
	s, err := NewStore(failingDB{idb.NewMemDB(), &fail}, WithCacheSize(10_000))
	require.NoError(t, err)
	a := NewApplication(s)
	c := newTestChain(t, a, 1)
	c.commitOK(c.tx(c.issuers[0], anchorMsg(testHashes(0, 3000)...)))
	height, hash := s.Height(), s.Hash()

	fail.Store(true)
	_, err = c.app.FinalizeBlock(t.Context(), &abci.RequestFinalizeBlock{Height: c.height + 1, Time: c.blockTime(c.height + 1),
		Txs: [][]byte{c.tx(c.issuers[0], anchorMsg(testHashes(3000, 3000)...))}})
	require.NoError(t, err)
	_, err = c.app.Commit(t.Context(), &abci.RequestCommit{})
	require.ErrorIs(t, err, errDiskFull)
	require.Equal(t, height, s.Height(), "nothing published")
	require.Equal(t, hash, s.Hash())
}

// The state database's cache and write buffer are a node's choice, not
// part of the state: a store written with one setting (a write buffer
// small enough that the writes reach LevelDB's tables) reopens with
// another, or LevelDB's defaults, at the same version and hash with every
// value.
func TestStoreDBBuffersAreLocal(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, WithDBBuffers(1, 1))
	require.NoError(t, err)
	var kvs []KV
	for i := range 20_000 {
		kvs = append(kvs, KV{Key: []byte(fmt.Sprintf("key-%06d", i)), Value: bytes.Repeat([]byte{byte(i)}, 64)})
	}
	_, err = s.Apply(kvs)
	require.NoError(t, err)
	hash, _, err := s.Commit()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	for _, opts := range [][]StoreOption{{WithDBBuffers(64, 16)}, nil} {
		s, err := OpenStore(dir, opts...)
		require.NoError(t, err)
		require.Equal(t, int64(1), s.Height())
		require.Equal(t, hash, s.Hash())
		for _, kv := range []KV{kvs[0], kvs[12_345], kvs[len(kvs)-1]} {
			v, err := s.Get(kv.Key)
			require.NoError(t, err)
			require.Equal(t, kv.Value, v)
		}
		require.NoError(t, s.Close())
	}
}

// TestFlatBatch checks the batch every store write goes through: sets and
// deletes reach the database in order, only when written, in one batch of
// the database (deletes of keys it set before win, as in goleveldb), and
// bad use is refused.
func TestFlatBatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) idb.DB
	}{
		{"goleveldb", func(t *testing.T) idb.DB {
			db, err := idb.NewGoLevelDB("flat", t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db
		}},
		{"memdb", func(*testing.T) idb.DB { return idb.NewMemDB() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			pre := db.NewBatch()
			require.NoError(t, pre.Set([]byte("old"), []byte("gone soon")))
			require.NoError(t, pre.Write())
			b := wholeBatchDB{db}.NewBatchWithSize(math.MaxInt)
			const n = 20_000 // past goleveldb's 3,000-record growth step
			for i := range n {
				require.NoError(t, b.Set([]byte(fmt.Sprintf("k%06d", i)), bytes.Repeat([]byte{byte(i)}, i%97)))
			}
			require.NoError(t, b.Delete([]byte("old")))
			require.NoError(t, b.Delete([]byte("k000007")))
			require.NoError(t, b.Set([]byte("k000008"), []byte("set twice")))
			size, err := b.GetByteSize()
			require.NoError(t, err)
			require.Positive(t, size)
			v, err := db.Get([]byte("k000001"))
			require.NoError(t, err)
			require.Nil(t, v, "nothing is written before Write")

			require.NoError(t, b.WriteSync())
			for i := range n {
				v, err := db.Get([]byte(fmt.Sprintf("k%06d", i)))
				require.NoError(t, err)
				switch i {
				case 7:
					require.Nil(t, v)
				case 8:
					require.Equal(t, []byte("set twice"), v)
				default:
					require.Equal(t, bytes.Repeat([]byte{byte(i)}, i%97), v, "key %d", i)
				}
			}
			v, err = db.Get([]byte("old"))
			require.NoError(t, err)
			require.Nil(t, v)

			require.ErrorIs(t, b.Set([]byte("late"), []byte("x")), errBatchClosed)
			require.ErrorIs(t, b.Write(), errBatchClosed)
			require.NoError(t, b.Close(), "closing twice is harmless")
			b = wholeBatchDB{db}.NewBatch()
			require.Error(t, b.Set(nil, []byte("x")))
			require.Error(t, b.Set([]byte("k"), nil))
			require.Error(t, b.Delete(nil))
		})
	}
}
