package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// snapshotTestChunkSize makes the test snapshots span several chunks.
const snapshotTestChunkSize = 32 << 10

// newSnapshotChain returns a chain of 2 issuers whose app takes a snapshot
// of every interval-th height into a temporary directory, keeping keep.
func newSnapshotChain(t *testing.T, store *Store, interval uint64, keep uint32) *testChain {
	t.Helper()
	app := NewApplication(store, WithSnapshots(t.TempDir(), interval, keep))
	app.snapshots.chunkSize = snapshotTestChunkSize
	t.Cleanup(app.snapshots.waitExport)
	return newTestChain(t, app, 2)
}

// anchorBlocks commits blocks blocks, each anchoring perBlock new hashes
// by issuer0 (and revoking one of them by issuer1 after anchoring it), and
// returns the hashes.
func (c *testChain) anchorBlocks(blocks, perBlock int) [][]byte {
	c.t.Helper()
	var all [][]byte
	for range blocks {
		hashes := testHashes(int(c.height)*100_000, perBlock)
		txs := [][]byte{c.tx(c.issuers[0], anchorMsg(hashes...)), c.tx(c.issuers[1], revokeMsg("issued in error", hashes[0]))}
		res, _ := c.finalize(txs...)
		for _, r := range res {
			require.Zero(c.t, r.Code, r.Log)
		}
		all = append(all, hashes...)
	}
	return all
}

// listed returns the app's snapshots by height.
func listed(t *testing.T, app *Application) map[uint64]*abci.Snapshot {
	t.Helper()
	resp, err := app.ListSnapshots(t.Context(), &abci.RequestListSnapshots{})
	require.NoError(t, err)
	out := map[uint64]*abci.Snapshot{}
	for _, s := range resp.Snapshots {
		out[s.Height] = s
	}
	return out
}

// chunks loads every chunk of s from app.
func chunks(t *testing.T, app *Application, s *abci.Snapshot) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range s.Chunks {
		resp, err := app.LoadSnapshotChunk(t.Context(), &abci.RequestLoadSnapshotChunk{Height: s.Height, Format: s.Format, Chunk: i})
		require.NoError(t, err)
		require.NotEmpty(t, resp.Chunk, "chunk %d", i)
		out = append(out, resp.Chunk)
	}
	return out
}

func offer(t *testing.T, app *Application, s *abci.Snapshot, appHash []byte) abci.ResponseOfferSnapshot_Result {
	t.Helper()
	resp, err := app.OfferSnapshot(t.Context(), &abci.RequestOfferSnapshot{Snapshot: s, AppHash: appHash})
	require.NoError(t, err)
	return resp.Result
}

func apply(t *testing.T, app *Application, i uint32, chunk []byte, sender string) *abci.ResponseApplySnapshotChunk {
	t.Helper()
	resp, err := app.ApplySnapshotChunk(t.Context(), &abci.RequestApplySnapshotChunk{Index: i, Chunk: chunk, Sender: sender})
	require.NoError(t, err)
	return resp
}

// restoreAll offers s to app and applies every chunk, requiring each to
// be accepted.
func restoreAll(t *testing.T, app *Application, s *abci.Snapshot, appHash []byte, cs [][]byte) {
	t.Helper()
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer(t, app, s, appHash))
	for i, c := range cs {
		require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, apply(t, app, uint32(i), c, "peer").Result, "chunk %d", i)
	}
}

// requireEmpty requires app's store to hold no state at all.
func requireEmpty(t *testing.T, app *Application) {
	t.Helper()
	info, err := app.Info(t.Context(), &abci.RequestInfo{})
	require.NoError(t, err)
	require.Zero(t, info.LastBlockHeight)
	require.Empty(t, info.LastBlockAppHash)
	keys, err := app.store.firstKeys(1)
	require.NoError(t, err)
	require.Empty(t, keys, "the state db holds keys")
	require.Nil(t, app.snapshots.restore)
}

// A snapshot of a chain with thousands of credentials restores into a
// fresh app: same height and app hash in Info, the same answers and
// proofs, and both go on to compute the same app hash for the next block.
func TestSnapshotRestoreRoundtrip(t *testing.T) {
	src := newSnapshotChain(t, NewMemStore(), 10, 2)
	hashes := src.anchorBlocks(10, 400)
	src.app.snapshots.waitExport()
	snaps := listed(t, src.app)
	require.Contains(t, snaps, uint64(10))
	s := snaps[10]
	require.Greater(t, s.Chunks, uint32(3), "the snapshot spans several chunks")
	require.Equal(t, SnapshotFormat, s.Format)
	sum := sha256.Sum256(s.Metadata)
	require.Equal(t, sum[:], s.Hash, "the hash commits to the metadata")
	appHash := src.app.store.Hash()

	dst := NewInMemoryApplication()
	restoreAll(t, dst, s, appHash, chunks(t, src.app, s))
	info, err := dst.Info(t.Context(), &abci.RequestInfo{})
	require.NoError(t, err)
	require.Equal(t, int64(10), info.LastBlockHeight)
	require.Equal(t, appHash, info.LastBlockAppHash)

	restored := &testChain{t: t, app: dst, issuers: src.issuers, height: src.height, genesis: src.genesis}
	for _, h := range [][]byte{hashes[0], hashes[1], hashes[len(hashes)-1], testHash(-1)} {
		want, got := src.query(query.PathCredential, h, 0), restored.query(query.PathCredential, h, 0)
		require.Zero(t, got.Code, got.Log)
		require.Equal(t, want.Value, got.Value)
		require.Equal(t, want.ProofOps, got.ProofOps)
		require.Equal(t, src.verdict(h), restored.verdict(h))
	}
	require.Equal(t, types.VerdictRevoked, restored.verdictOf(hashes[0], "issuer1").Verdict)
	require.Equal(t, src.query(query.PathIssuers, nil, 0).Value, restored.query(query.PathIssuers, nil, 0).Value)

	// the restored tree goes on like the original
	next := [][]byte{src.tx(src.issuers[0], anchorMsg(testHash(-2)))}
	_, wantHash := src.finalize(next...)
	res, gotHash := restored.finalize(next...)
	require.Zero(t, res[0].Code, res[0].Log)
	require.Equal(t, wantHash, gotHash)
	require.Equal(t, types.VerdictValid, restored.verdictOf(testHash(-2), "issuer0").Verdict)
}

// A chunk that does not match its hash is refused (RETRY, refetched, its
// sender rejected) and nothing of it is imported; the right chunk is then
// accepted and the restore completes.
func TestSnapshotTamperedChunkRefused(t *testing.T) {
	src := newSnapshotChain(t, NewMemStore(), 5, 2)
	src.anchorBlocks(5, 300)
	src.app.snapshots.waitExport()
	s := listed(t, src.app)[5]
	require.NotNil(t, s)
	cs := chunks(t, src.app, s)
	require.Greater(t, len(cs), 1)

	dst := NewInMemoryApplication()
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer(t, dst, s, src.app.store.Hash()))
	require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, apply(t, dst, 0, cs[0], "good").Result)
	before := dst.snapshots.restore.imp.Nodes()
	require.Positive(t, before)

	bad := bytes.Clone(cs[1])
	bad[len(bad)/2] ^= 1
	resp := apply(t, dst, 1, bad, "evil")
	require.Equal(t, abci.ResponseApplySnapshotChunk_RETRY, resp.Result)
	require.Equal(t, []uint32{1}, resp.RefetchChunks)
	require.Equal(t, []string{"evil"}, resp.RejectSenders)
	require.Equal(t, before, dst.snapshots.restore.imp.Nodes(), "nothing of the bad chunk is imported")

	// a missing chunk (empty) is refetched, its sender not rejected
	resp = apply(t, dst, 1, nil, "pruned")
	require.Equal(t, abci.ResponseApplySnapshotChunk_RETRY, resp.Result)
	require.Equal(t, []uint32{1}, resp.RefetchChunks)
	require.Empty(t, resp.RejectSenders)

	for i := 1; i < len(cs); i++ {
		require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, apply(t, dst, uint32(i), cs[i], "good").Result)
	}
	require.Equal(t, src.app.store.Hash(), dst.store.Hash())
	require.Equal(t, int64(5), dst.store.Height())
}

// A snapshot whose tree does not hash to the offered app hash (that of the
// light-verified header) is rejected after its last chunk and leaves the
// store empty, so the next snapshot starts clean. A chunk that matches its
// hash but is not a tree's nodes rejects the snapshot too.
func TestSnapshotRejectedAndStateCleaned(t *testing.T) {
	src := newSnapshotChain(t, NewMemStore(), 5, 2)
	src.anchorBlocks(5, 300)
	src.app.snapshots.waitExport()
	s := listed(t, src.app)[5]
	require.NotNil(t, s)
	cs := chunks(t, src.app, s)
	wrong := sha256.Sum256([]byte("another state"))

	dst := NewInMemoryApplication()
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer(t, dst, s, wrong[:]))
	for i := range len(cs) - 1 {
		require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, apply(t, dst, uint32(i), cs[i], "p").Result)
	}
	require.Equal(t, abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT, apply(t, dst, uint32(len(cs)-1), cs[len(cs)-1], "p").Result)
	requireEmpty(t, dst)

	// garbage under a matching hash: a crafted snapshot
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err := zw.Write(bytes.Repeat([]byte{0x05, 0xff}, 1000))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	crafted := craftSnapshot(5, 3, z.Bytes())
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer(t, dst, crafted, src.app.store.Hash()))
	require.Equal(t, abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT, apply(t, dst, 0, z.Bytes(), "p").Result)
	requireEmpty(t, dst)

	// an offer in the middle of a restore starts over
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer(t, dst, s, src.app.store.Hash()))
	require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, apply(t, dst, 0, cs[0], "p").Result)
	restoreAll(t, dst, s, src.app.store.Hash(), cs)
	require.Equal(t, src.app.store.Hash(), dst.store.Hash())

	// a restored app refuses to restore again
	require.Equal(t, abci.ResponseOfferSnapshot_ABORT, offer(t, dst, s, src.app.store.Hash()))
}

// craftSnapshot returns a snapshot of one chunk whose metadata lists it.
func craftSnapshot(height, nodes uint64, chunk []byte) *abci.Snapshot {
	sum := sha256.Sum256(chunk)
	meta := (&snapshotMetadata{height: height, nodes: nodes, chunks: [][]byte{sum[:]}}).encode()
	h := sha256.Sum256(meta)
	return &abci.Snapshot{Height: height, Format: SnapshotFormat, Chunks: 1, Hash: h[:], Metadata: meta}
}

// OfferSnapshot rejects a snapshot of another format, or whose metadata is
// malformed or does not match it.
func TestOfferSnapshotRejects(t *testing.T) {
	src := newSnapshotChain(t, NewMemStore(), 3, 2)
	src.anchorBlocks(3, 10)
	src.app.snapshots.waitExport()
	good := listed(t, src.app)[3]
	require.NotNil(t, good)
	appHash := src.app.store.Hash()
	for _, tc := range []struct {
		name     string
		malleate func(s *abci.Snapshot, appHash *[]byte)
		want     abci.ResponseOfferSnapshot_Result
	}{
		{"valid", func(*abci.Snapshot, *[]byte) {}, abci.ResponseOfferSnapshot_ACCEPT},
		{"unknown format", func(s *abci.Snapshot, _ *[]byte) { s.Format = 2 }, abci.ResponseOfferSnapshot_REJECT_FORMAT},
		{"hash not of metadata", func(s *abci.Snapshot, _ *[]byte) { s.Hash[0] ^= 1 }, abci.ResponseOfferSnapshot_REJECT},
		{"other height", func(s *abci.Snapshot, _ *[]byte) { s.Height++ }, abci.ResponseOfferSnapshot_REJECT},
		{"other chunk count", func(s *abci.Snapshot, _ *[]byte) { s.Chunks++ }, abci.ResponseOfferSnapshot_REJECT},
		{"truncated metadata", func(s *abci.Snapshot, _ *[]byte) {
			s.Metadata = s.Metadata[:len(s.Metadata)-1]
			h := sha256.Sum256(s.Metadata)
			s.Hash = h[:]
		}, abci.ResponseOfferSnapshot_REJECT},
		{"not our metadata", func(s *abci.Snapshot, _ *[]byte) {
			s.Metadata = []byte("{}")
			h := sha256.Sum256(s.Metadata)
			s.Hash = h[:]
		}, abci.ResponseOfferSnapshot_REJECT},
		{"no app hash", func(_ *abci.Snapshot, h *[]byte) { *h = nil }, abci.ResponseOfferSnapshot_REJECT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := *good
			s.Hash, s.Metadata = bytes.Clone(good.Hash), bytes.Clone(good.Metadata)
			h := bytes.Clone(appHash)
			tc.malleate(&s, &h)
			dst := NewInMemoryApplication()
			require.Equal(t, tc.want, offer(t, dst, &s, h))
			if tc.want != abci.ResponseOfferSnapshot_ACCEPT {
				requireEmpty(t, dst)
			}
		})
	}
}

// Only the keep_recent newest snapshots are kept, and a directory an
// interrupted export left is never listed, and is removed.
func TestSnapshotsPrunedToKeepRecent(t *testing.T) {
	c := newSnapshotChain(t, NewMemStore(), 2, 2)
	dir := c.app.snapshots.dir
	require.NoError(t, os.MkdirAll(filepath.Join(dir, tmpPrefix+"7"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, tmpPrefix+"7", "chunk-000000"), []byte("partial"), 0o600))
	require.Empty(t, listed(t, c.app))
	for range 9 {
		c.anchorBlocks(1, 5)
		c.app.snapshots.waitExport() // one export at a time: later ones would be skipped
	}
	snaps := listed(t, c.app)
	require.Len(t, snaps, 2)
	require.Contains(t, snaps, uint64(8))
	require.Contains(t, snaps, uint64(6))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"6", "8"}, names)
	// a pruned snapshot's chunks are gone
	resp, err := c.app.LoadSnapshotChunk(t.Context(), &abci.RequestLoadSnapshotChunk{Height: 4, Format: SnapshotFormat})
	require.NoError(t, err)
	require.Nil(t, resp.Chunk)
}

// While a snapshot is being exported its version is pinned: a store that
// keeps one version does not prune it however many blocks are committed
// meanwhile, and prunes it once the snapshot is written.
func TestSnapshotVersionPinnedWhileExporting(t *testing.T) {
	store := NewMemStore(WithKeepRecent(1))
	c := newSnapshotChain(t, store, 5, 2)
	var started sync.WaitGroup
	started.Add(1)
	unblock := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release) // before waitExport's cleanup, which runs later
	c.app.snapshots.beforeExport = func(h int64) {
		if h == 5 {
			started.Done()
			<-unblock
		}
	}
	c.anchorBlocks(5, 50)
	hash5 := store.Hash()
	started.Wait()
	c.anchorBlocks(7, 5) // to 12; the snapshot of 10 is skipped: 5 is still being written
	require.Equal(t, int64(5), store.OldestVersion(), "the pinned version and the ones after it are kept")
	_, _, err := store.GetAt(5, types.ChainIDKey())
	require.NoError(t, err)
	release()
	c.app.snapshots.waitExport()

	snaps := listed(t, c.app)
	require.Len(t, snaps, 1)
	s := snaps[5]
	require.NotNil(t, s)
	dst := NewInMemoryApplication()
	restoreAll(t, dst, s, hash5, chunks(t, c.app, s))
	require.Equal(t, hash5, dst.store.Hash())

	c.anchorBlocks(1, 5)
	require.Equal(t, int64(13), store.OldestVersion(), "released: pruned to the one kept version")
}

// Closing the application while a snapshot is being written (a node that
// stops) makes the export fail cleanly: no panic, nothing listed, no
// unfinished directory left.
func TestSnapshotExportAfterClose(t *testing.T) {
	store, err := OpenStore(t.TempDir(), WithCacheSize(1000))
	require.NoError(t, err)
	c := newSnapshotChain(t, store, 5, 2)
	unblock := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	c.app.snapshots.beforeExport = func(int64) { <-unblock }
	c.anchorBlocks(5, 300)
	require.NoError(t, c.app.Close())
	release()
	c.app.snapshots.waitExport()
	require.Empty(t, listed(t, c.app))
	entries, err := os.ReadDir(c.app.snapshots.dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// A node killed in the middle of a state sync restore left nodes of the
// snapshot's version in its database and no saved version: it opens as an
// empty store (and can restore again) instead of failing to start.
func TestStoreOpensAfterInterruptedRestore(t *testing.T) {
	src := newTestChain(t, nil, 1)
	// more nodes than the importer writes in one batch (10,000)
	for i := range 8 {
		src.commitOK(src.tx(src.issuers[0], anchorMsg(testHashes(1000*i, 1000)...)))
	}
	var nodes []SnapshotNode
	_, _, err := src.app.Store().ExportVersion(src.height, func(n SnapshotNode) error {
		nodes = append(nodes, n)
		return nil
	})
	require.NoError(t, err)

	dir := t.TempDir()
	s, err := OpenStore(dir)
	require.NoError(t, err)
	im, err := s.BeginImport(src.height)
	require.NoError(t, err)
	for _, n := range nodes[:len(nodes)*2/3] {
		require.NoError(t, im.Add(n))
	}
	// killed here: the import's first batch was written, nothing committed
	im.imp.Close() // waits for the batch in flight
	require.NoError(t, im.tree.Close())
	require.NoError(t, s.Close())

	s, err = OpenStore(dir)
	require.NoError(t, err, "a store with an interrupted restore opens")
	require.Zero(t, s.Height())
	im, err = s.BeginImport(src.height)
	require.NoError(t, err)
	for _, n := range nodes {
		require.NoError(t, im.Add(n))
	}
	require.NoError(t, im.Commit(src.app.Store().Hash()))
	require.Equal(t, src.height, s.Height())
	require.NoError(t, s.Close())
}
