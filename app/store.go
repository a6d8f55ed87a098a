package app

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	corestore "cosmossdk.io/core/store"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	levelopt "github.com/syndtr/goleveldb/leveldb/opt"
)

// DefaultCacheSize is the default IAVL node cache size (nodes). A larger
// cache speeds up inserts into a large tree; 1M nodes use roughly 300 MB.
// The store has two caches of this size: the writer's (block execution)
// and the readers' (queries).
const DefaultCacheSize = 1_000_000

// Store is the app's state: one IAVL tree whose root hash is the app hash.
// It is the only code that touches IAVL. Writes (Apply, Commit,
// SetInitialVersion) and Get must come from one goroutine at a time; the
// read methods of committed versions (Height, Hash, GetAt, Prove,
// IteratePrefix) may be called concurrently with them and each other:
// they read immutable trees of saved versions (IAVL's node database is
// safe for that), never the working tree.
type Store struct {
	db   idb.DB
	tree *iavl.MutableTree
	// reader opens the saved versions readers use. It is a second tree on
	// the same database with a node cache of its own: the writer's tree
	// mutates its cached nodes while building the next version (IAVL's
	// clone drops their child pointers), so a reader must never share them.
	reader *iavl.MutableTree
	// committed is the last saved version; its tree is nil before the
	// first commit. Replaced (never changed) by Commit.
	committed atomic.Pointer[committedVersion]
	// execView is the last saved version as the writer's tree sees it, for
	// Get: block execution and CheckTx read through the writer's (large)
	// node cache. Only the goroutine that writes may use it.
	execView *iavl.ImmutableTree
	// keepRecent is how many saved versions are kept (0: all)
	keepRecent int64

	// mu guards the version bookkeeping of readers and pruning
	mu sync.Mutex
	// reading counts the readers of each version (see acquire)
	reading map[int64]int
	// pinned counts the holds on versions that must not be pruned
	// (a snapshot being written, see Pin)
	pinned map[int64]int
	// prunedTo is the newest version pruning was asked to delete
	prunedTo int64

	// pruneTo passes the version to prune up to to the pruner goroutine
	// (see pruneLoop); pruned is closed when it has stopped, and pruneErr
	// holds its first failure, which the next Commit returns
	pruneTo  chan int64
	pruned   chan struct{}
	pruneErr atomic.Pointer[error]
}

// committedVersion is a saved version of the tree.
type committedVersion struct {
	version int64
	hash    []byte
	tree    *iavl.ImmutableTree // nil for version 0
}

// StoreOption configures a Store.
type StoreOption func(*storeOptions)

type storeOptions struct {
	cacheSize      int
	initialVersion uint64
	keepRecent     int64
	blockCacheMB   int
	writeBufferMB  int
}

// WithCacheSize sets the IAVL node cache size.
func WithCacheSize(n int) StoreOption { return func(o *storeOptions) { o.cacheSize = n } }

// WithKeepRecent keeps only the n newest saved versions (0, the default
// for stores made without it: keep every version). Older ones are pruned
// in the background after each Commit, never one a reader or a Pin holds.
// Nothing the app or a verifier answers needs an old version: the state
// keeps each record's heights and earlier status changes, so a status as
// of a past height is proven from the latest state.
func WithKeepRecent(n int64) StoreOption { return func(o *storeOptions) { o.keepRecent = max(n, 0) } }

// WithDBBuffers sets the LevelDB block cache and write buffer of a store
// OpenStore opens, in MiB (0 keeps LevelDB's default: 8 MiB and 4 MiB).
func WithDBBuffers(blockCacheMB, writeBufferMB int) StoreOption {
	return func(o *storeOptions) { o.blockCacheMB, o.writeBufferMB = max(blockCacheMB, 0), max(writeBufferMB, 0) }
}

// OpenStore opens (or creates) the goleveldb-backed store in dir.
func OpenStore(dir string, opts ...StoreOption) (*Store, error) {
	var o storeOptions
	for _, opt := range opts {
		opt(&o)
	}
	// the bloom filter is what idb.NewGoLevelDB sets
	lo := &levelopt.Options{Filter: filter.NewBloomFilter(10),
		BlockCacheCapacity: o.blockCacheMB << 20, WriteBuffer: o.writeBufferMB << 20}
	db, err := idb.NewGoLevelDBWithOpts("app", dir, lo)
	if err != nil {
		return nil, fmt.Errorf("open state db in %s: %w", filepath.Join(dir, "app.db"), err)
	}
	s, err := NewStore(db, opts...)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// NewMemStore returns an in-memory store, for tests and benchmarks.
func NewMemStore(opts ...StoreOption) *Store {
	s, err := NewStore(idb.NewMemDB(), opts...)
	if err != nil {
		panic(fmt.Sprintf("in-memory store: %v", err)) // an empty memdb cannot fail to load
	}
	return s
}

// wholeBatchDB makes IAVL write each version (and each pruning run) in one
// batch at its end: with an unbounded flush threshold IAVL never flushes a
// batch midway, and batches are not preallocated to that threshold.
// IAVL's midway flush mishandles a failed write (BatchWithFlusher unlocks
// its mutex twice: a fatal "sync: unlock of unlocked mutex" that killed a
// node whose disk filled, in the long fault test); at the end of a version
// the error is returned instead. A version is then also written atomically.
type wholeBatchDB struct{ idb.DB }

// NewBatchWithSize ignores the size hint (IAVL passes its flush threshold).
func (d wholeBatchDB) NewBatchWithSize(int) corestore.Batch { return &flatBatch{db: d.DB} }

// NewBatch returns a flatBatch.
func (d wholeBatchDB) NewBatch() corestore.Batch { return &flatBatch{db: d.DB} }

// flatBatch collects a batch's writes in one buffer that grows by
// doubling and hands them to the database's own batch, made at their
// exact size, when written. goleveldb grows a batch of more than 3,000
// records by about 3,000 records' worth at a time, copying all of it each
// time: quadratic in the batch, and a big block's version is hundreds of
// thousands of nodes (20% of a validator's CPU was that copying, 4
// validators on 2 cores, 600,000 hashes sent at once).
type flatBatch struct {
	db     idb.DB
	data   []byte
	ops    []flatOp
	closed bool
}

// flatOp is one write of a flatBatch: its key and value end at keyEnd and
// valueEnd in data (a delete has no value).
type flatOp struct {
	keyEnd, valueEnd int
	del              bool
}

var errBatchClosed = errors.New("batch is closed")

// Set stages key = value (copied).
func (b *flatBatch) Set(key, value []byte) error {
	switch {
	case b.closed:
		return errBatchClosed
	case len(key) == 0:
		return errors.New("batch set: key is empty")
	case value == nil:
		return errors.New("batch set: value is nil")
	}
	b.data = append(b.data, key...)
	k := len(b.data)
	b.data = append(b.data, value...)
	b.ops = append(b.ops, flatOp{keyEnd: k, valueEnd: len(b.data)})
	return nil
}

// Delete stages the deletion of key.
func (b *flatBatch) Delete(key []byte) error {
	switch {
	case b.closed:
		return errBatchClosed
	case len(key) == 0:
		return errors.New("batch delete: key is empty")
	}
	b.data = append(b.data, key...)
	b.ops = append(b.ops, flatOp{keyEnd: len(b.data), valueEnd: len(b.data), del: true})
	return nil
}

// Write writes the staged writes in one batch of the database and closes b.
func (b *flatBatch) Write() error { return b.write(false) }

// WriteSync is Write, fsynced.
func (b *flatBatch) WriteSync() error { return b.write(true) }

func (b *flatBatch) write(sync bool) error {
	if b.closed {
		return errBatchClosed
	}
	// goleveldb's record: a type byte, the key's and value's lengths as
	// varints (at most 5 bytes each here), the key and the value
	out := b.db.NewBatchWithSize(len(b.data) + len(b.ops)*(1+2*binary.MaxVarintLen32))
	defer out.Close()
	start := 0
	for _, op := range b.ops {
		key := b.data[start:op.keyEnd]
		var err error
		if op.del {
			err = out.Delete(key)
		} else {
			err = out.Set(key, b.data[op.keyEnd:op.valueEnd])
		}
		if err != nil {
			return err
		}
		start = op.valueEnd
	}
	var err error
	if sync {
		err = out.WriteSync()
	} else {
		err = out.Write()
	}
	if err != nil {
		return err
	}
	return b.Close()
}

// Close releases the staged writes; b cannot be used afterwards.
func (b *flatBatch) Close() error {
	b.data, b.ops, b.closed = nil, nil, true
	return nil
}

// GetByteSize returns the bytes of the staged keys and values.
func (b *flatBatch) GetByteSize() (int, error) {
	if b.closed {
		return 0, errBatchClosed
	}
	return len(b.data), nil
}

// treeOptions are the options of every IAVL tree of the store: every
// SaveVersion is fsynced, so a committed block survives a crash, and
// versions are written whole (wholeBatchDB).
func treeOptions() []iavl.Option {
	return []iavl.Option{iavl.SyncOption(true), iavl.FlushThresholdOption(math.MaxInt)}
}

// NewStore loads the latest version of the tree kept in db.
func NewStore(db idb.DB, opts ...StoreOption) (*Store, error) {
	o := storeOptions{cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	db = wholeBatchDB{db}
	// skipFastStorageUpgrade=true: no fast-node index, which halves write cost;
	// treeOptions: fsync per version, each version in one batch;
	// no AsyncPruning: IAVL's background pruner shares the tree's write
	// batch, and after a failed write (a full disk) it crashed the process
	// with "sync: unlock of unlocked mutex" instead of letting the node
	// stop cleanly (the long fault test); pruneLoop prunes instead
	tree := iavl.NewMutableTree(db, o.cacheSize, true, iavl.NewNopLogger(), treeOptions()...)
	err := loadLatest(tree)
	if errors.Is(err, errNoCompleteVersion) {
		// nodes of a version that was never saved, and nothing saved
		// before it: what a state sync restore killed before its end
		// leaves (CometBFT records nothing until a restore completes).
		// Start empty; the node state-syncs (or replays) again.
		_ = tree.Close()
		if err := (&Store{db: db}).wipe(); err != nil {
			return nil, fmt.Errorf("load state tree: clear an interrupted restore: %w", err)
		}
		tree = iavl.NewMutableTree(db, o.cacheSize, true, iavl.NewNopLogger(), treeOptions()...)
		err = loadLatest(tree)
	}
	if err != nil {
		_ = tree.Close()
		return nil, fmt.Errorf("load state tree: %w", err)
	}
	reader := iavl.NewMutableTree(db, o.cacheSize, true, iavl.NewNopLogger(), treeOptions()...)
	s := &Store{db: db, tree: tree, reader: reader, keepRecent: o.keepRecent,
		reading: map[int64]int{}, pinned: map[int64]int{}}
	if err := s.publishCommitted(); err != nil {
		return nil, err
	}
	if s.keepRecent > 0 {
		// what a run before this one pruned (or was pruning) is not asked for
		s.prunedTo = max(s.Height()-s.keepRecent, 0)
		s.pruneTo, s.pruned = make(chan int64, 1), make(chan struct{})
		go s.pruneLoop()
	}
	return s, nil
}

// pruneLoop deletes the versions up to each version it is given, in the
// background, through a tree of its own on the same database: IAVL's own
// async pruning shares the writer's batch, and after a failed write (a full
// disk) it crashed the process with "sync: unlock of unlocked mutex"
// (found by the long fault test). Its deletes touch only nodes no version
// after the pruned ones uses, so they never meet the writer's or the
// readers'. Killed midway, it leaves some of those versions partly
// deleted; they are below what readers may ask for, and the next run
// deletes them again.
func (s *Store) pruneLoop() {
	defer close(s.pruned)
	for to := range s.pruneTo {
		if s.pruneErr.Load() != nil {
			continue
		}
		t := iavl.NewMutableTree(s.db, pruneCacheSize, true, iavl.NewNopLogger(), treeOptions()...)
		if err := t.DeleteVersionsTo(to); err != nil {
			err = fmt.Errorf("prune state versions up to %d: %w", to, err)
			s.pruneErr.Store(&err)
		}
		_ = t.Close()
	}
}

// pruneCacheSize is the node cache of the pruner's tree.
const pruneCacheSize = 10_000

// loadLatest loads the newest version that was saved completely. SaveVersion
// writes a large version in several batches (iavl's flush threshold) and its
// root last, so a crash during a Commit can leave the newest version without
// a root, and Load then fails. CometBFT was not told that version was
// committed and replays its block, so the partial version is dropped.
func loadLatest(tree *iavl.MutableTree) error {
	_, err := tree.Load()
	if !errors.Is(err, iavl.ErrVersionDoesNotExist) {
		return err
	}
	latest, lerr := tree.GetLatestVersion()
	if lerr != nil {
		return fmt.Errorf("find latest version: %w", lerr)
	}
	if err := tree.DeleteVersionsFrom(latest); err != nil {
		return fmt.Errorf("drop partially saved version %d: %w", latest, err)
	}
	if _, err := tree.Load(); err != nil {
		if errors.Is(err, iavl.ErrVersionDoesNotExist) {
			return fmt.Errorf("%w (partial version %d dropped)", errNoCompleteVersion, latest)
		}
		return fmt.Errorf("after dropping partially saved version %d: %w", latest, err)
	}
	return nil
}

// errNoCompleteVersion means the database holds nodes but no completely
// saved version.
var errNoCompleteVersion = errors.New("no completely saved state version")

// publishCommitted makes the tree's last saved version the one readers
// see.
func (s *Store) publishCommitted() error {
	v := s.tree.Version()
	c := &committedVersion{version: v, hash: s.tree.Hash()}
	s.execView = nil
	if v > 0 {
		it, err := s.reader.GetImmutable(v)
		if err != nil {
			return fmt.Errorf("open committed version %d: %w", v, err)
		}
		c.tree = it
		if s.execView, err = s.tree.GetImmutable(v); err != nil {
			return fmt.Errorf("open committed version %d: %w", v, err)
		}
	}
	s.committed.Store(c)
	return nil
}

// SetInitialVersion makes the first saved version v instead of 1 (genesis
// initial_height). Requires that nothing has been saved yet.
func (s *Store) SetInitialVersion(v int64) {
	if v > 1 {
		s.tree.SetInitialVersion(uint64(v))
	}
}

// Height returns the last saved version (0 if none).
func (s *Store) Height() int64 { return s.committed.Load().version }

// Hash returns the root hash of the last saved version.
func (s *Store) Hash() []byte { return s.committed.Load().hash }

// LastCommitted returns the last saved version and its root hash, read
// together.
func (s *Store) LastCommitted() (version int64, hash []byte) {
	c := s.committed.Load()
	return c.version, c.hash
}

// Get reads key from the last committed version; before the first commit it
// reads the working tree (which then holds only the genesis state).
func (s *Store) Get(key []byte) ([]byte, error) {
	var v []byte
	var err error
	if s.execView != nil {
		v, err = s.execView.Get(key)
	} else {
		v, err = s.tree.Get(key)
	}
	if err != nil {
		return nil, fmt.Errorf("state get %X: %w", key, err)
	}
	return v, nil
}

// KV is one write: Value nil means delete.
type KV struct {
	Key, Value []byte
}

// Apply writes kvs to the working tree in sorted key order and returns the
// working hash. Requires that kvs has no duplicate keys.
func (s *Store) Apply(kvs []KV) ([]byte, error) {
	sort.Slice(kvs, func(i, j int) bool { return bytes.Compare(kvs[i].Key, kvs[j].Key) < 0 })
	for _, kv := range kvs {
		var err error
		if kv.Value == nil {
			_, _, err = s.tree.Remove(kv.Key)
		} else {
			_, err = s.tree.Set(kv.Key, kv.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("state write %X: %w", kv.Key, err)
		}
	}
	return s.tree.WorkingHash(), nil
}

// workingHash returns the root hash of the working tree (uncommitted
// writes included).
func (s *Store) workingHash() []byte { return s.tree.WorkingHash() }

// Commit saves the working tree as a new version and, with WithKeepRecent,
// asks for the versions below the kept ones to be pruned.
func (s *Store) Commit() ([]byte, int64, error) {
	hash, v, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("save state version: %w", err)
	}
	if err := s.publishCommitted(); err != nil {
		return nil, 0, err
	}
	if err := s.prune(v); err != nil {
		return nil, 0, err
	}
	return hash, v, nil
}

// prune asks IAVL to delete the versions older than the keepRecent newest
// below latest, except those a reader or a pin holds (and the ones after
// them).
//
// The deletion runs in the background (pruneLoop): once prunedTo is raised
// no new reader can take those versions, and none holds one (they bound
// to). A failure of an earlier deletion is returned.
func (s *Store) prune(latest int64) error {
	if s.keepRecent == 0 {
		return nil
	}
	s.mu.Lock()
	to := latest - s.keepRecent
	for v := range s.reading {
		to = min(to, v-1)
	}
	for v := range s.pinned {
		to = min(to, v-1)
	}
	if to <= s.prunedTo {
		s.mu.Unlock()
		return nil
	}
	s.prunedTo = to
	s.mu.Unlock()
	if errp := s.pruneErr.Load(); errp != nil {
		return *errp
	}
	// the newest target replaces one the pruner has not taken yet
	select {
	case <-s.pruneTo:
	default:
	}
	s.pruneTo <- to
	return nil
}

// Pin keeps version v from being pruned until the returned release is
// called. It fails if v is not a saved version any longer.
func (s *Store) Pin(v int64) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v <= s.prunedTo || v > s.committed.Load().version {
		return nil, fmt.Errorf("%w: %d (kept: %d to %d)", ErrVersionUnavailable, v, s.prunedTo+1, s.committed.Load().version)
	}
	s.pinned[v]++
	return func() { s.unhold(s.pinned, v) }, nil
}

// unhold drops one hold of version v in holds.
func (s *Store) unhold(holds map[int64]int, v int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if holds[v]--; holds[v] <= 0 {
		delete(holds, v)
	}
}

// OldestVersion returns the oldest version readers may ask for.
func (s *Store) OldestVersion() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prunedTo + 1
}

// ErrVersionUnavailable is returned for a version that is not stored.
var ErrVersionUnavailable = errors.New("state version not available")

// acquire returns the saved version v (0: the latest) and holds it
// against pruning until release is called. Safe for concurrent use with
// Commit.
func (s *Store) acquire(v int64) (tree *iavl.ImmutableTree, release func(), err error) {
	s.mu.Lock()
	c := s.committed.Load()
	if v == 0 {
		v = c.version
	}
	switch {
	case c.tree == nil:
		err = fmt.Errorf("%w: no version saved yet", ErrVersionUnavailable)
	case v < 0 || v > c.version:
		err = fmt.Errorf("%w: %d (latest is %d)", ErrVersionUnavailable, v, c.version)
	case v <= s.prunedTo:
		err = fmt.Errorf("%w: %d was pruned (this node keeps the %d newest versions, %d to %d)", ErrVersionUnavailable, v, s.keepRecent, s.prunedTo+1, c.version)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, nil, err
	}
	s.reading[v]++
	s.mu.Unlock()
	release = func() { s.unhold(s.reading, v) }
	if v == c.version {
		return c.tree, release, nil
	}
	it, err := s.reader.GetImmutable(v)
	if err != nil {
		release()
		if errors.Is(err, iavl.ErrVersionDoesNotExist) {
			return nil, nil, fmt.Errorf("%w: %d (latest is %d)", ErrVersionUnavailable, v, c.version)
		}
		return nil, nil, fmt.Errorf("open version %d: %w", v, err)
	}
	return it, release, nil
}

// GetAt returns the value of key at version v (0: latest) and the version used.
func (s *Store) GetAt(v int64, key []byte) ([]byte, int64, error) {
	it, release, err := s.acquire(v)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	value, err := it.Get(key)
	if err != nil {
		return nil, 0, fmt.Errorf("get %X at version %d: %w", key, it.Version(), err)
	}
	return value, it.Version(), nil
}

// GetManyAt calls fn with the value of each of keys at version v (0:
// latest), all from the same version, and returns the version used.
func (s *Store) GetManyAt(v int64, keys [][]byte, fn func(i int, value []byte) error) (int64, error) {
	it, release, err := s.acquire(v)
	if err != nil {
		return 0, err
	}
	defer release()
	for i, key := range keys {
		value, err := it.Get(key)
		if err != nil {
			return 0, fmt.Errorf("get %X at version %d: %w", key, it.Version(), err)
		}
		if err := fn(i, value); err != nil {
			return 0, err
		}
	}
	return it.Version(), nil
}

// Prove returns the value of key at version v (0: latest) with an encoded
// ICS23 proof of its existence, or of its absence when the value is nil.
// It also returns the version used.
func (s *Store) Prove(v int64, key []byte) (value, proof []byte, version int64, err error) {
	it, release, err := s.acquire(v)
	if err != nil {
		return nil, nil, 0, err
	}
	defer release()
	value, err = it.Get(key)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("get %X at version %d: %w", key, it.Version(), err)
	}
	cp, err := it.GetProof(key)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("prove %X at version %d: %w", key, it.Version(), err)
	}
	proof, err = cp.Marshal()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("encode proof: %w", err)
	}
	return value, proof, it.Version(), nil
}

// IterateRange calls fn for every key in [start, end) (end nil: no bound)
// at version v (0: latest), in key order, until fn returns true (stop).
func (s *Store) IterateRange(v int64, start, end []byte, fn func(key, value []byte) (stop bool)) (int64, error) {
	it, release, err := s.acquire(v)
	if err != nil {
		return 0, err
	}
	defer release()
	it.IterateRange(start, end, true, fn)
	return it.Version(), nil
}

func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.pruneTo != nil {
		close(s.pruneTo)
		<-s.pruned
	}
	if err := s.tree.Close(); err != nil {
		return fmt.Errorf("close state tree: %w", err)
	}
	if err := s.reader.Close(); err != nil {
		return fmt.Errorf("close state reader: %w", err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state db: %w", err)
	}
	return nil
}
