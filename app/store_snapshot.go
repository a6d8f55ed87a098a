package app

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cosmos/iavl"
)

// Export and import of whole tree versions, for state sync snapshots
// (snapshot.go). Like store.go, this file touches IAVL; nothing else does.

// SnapshotNode is one node of an exported tree version, as IAVL's exporter
// gives it: Height 0 is a leaf (Key and Value), a larger Height an inner
// node (Key only); Version is the version that last wrote the node.
type SnapshotNode struct {
	Key     []byte
	Value   []byte
	Version int64
	Height  int8
}

// importCacheSize is the node cache of the tree an import is built in; the
// importer writes nodes straight to the database and reads none back.
const importCacheSize = 1000

// ErrImportHashMismatch is returned when an imported tree's root hash is
// not the one expected.
var ErrImportHashMismatch = errors.New("imported state does not have the expected app hash")

// ExportVersion calls fn with every node of saved version v in IAVL's
// export order (depth-first, post-order), which ImportVersion needs, and
// returns the version's root hash and the number of nodes. Safe for
// concurrent use with Commit and the read methods: it reads an immutable
// tree of v and holds v against pruning until it returns. It fails if fn
// does, or if the export ended early (IAVL's traversal stops silently on a
// read error, for example when the store is closed meanwhile).
func (s *Store) ExportVersion(v int64, fn func(SnapshotNode) error) (hash []byte, nodes uint64, err error) {
	it, release, err := s.acquire(v)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	exp, err := it.Export()
	if err != nil {
		return nil, 0, fmt.Errorf("export version %d: %w", v, err)
	}
	defer exp.Close()
	for {
		n, err := exp.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return nil, nodes, fmt.Errorf("export version %d: %w", v, err)
		}
		if err := fn(SnapshotNode{Key: n.Key, Value: n.Value, Version: n.Version, Height: n.Height}); err != nil {
			return nil, nodes, err
		}
		nodes++
	}
	// an IAVL tree of n leaves has 2n-1 nodes
	if leaves := it.Size(); leaves > 0 && nodes != uint64(2*leaves-1) {
		return nil, nodes, fmt.Errorf("export version %d: got %d nodes, want %d (%d leaves): the export stopped early", v, nodes, 2*leaves-1, leaves)
	}
	return it.Hash(), nodes, nil
}

// StoreImport is an import of one tree version into an empty store, begun
// by BeginImport. Add the nodes in ExportVersion's order, then Commit, or
// Abort. Not safe for concurrent use; the store must not be written
// meanwhile.
type StoreImport struct {
	s       *Store
	tree    *iavl.MutableTree
	imp     *iavl.Importer
	version int64
	nodes   uint64
}

// BeginImport starts importing version v into the store. Requires a store
// with no saved version and an empty working tree (a node that state
// syncs has neither). Anything a crashed import left in the database is
// deleted first.
func (s *Store) BeginImport(v int64) (*StoreImport, error) {
	if v < 1 {
		return nil, fmt.Errorf("import version %d: must be positive", v)
	}
	if h := s.Height(); h != 0 || !s.tree.IsEmpty() {
		return nil, fmt.Errorf("import version %d: the store is not empty (version %d saved)", v, h)
	}
	if err := s.wipe(); err != nil {
		return nil, err
	}
	// a tree of its own: a failed import leaves the store's trees (and
	// their node databases' cached versions) as they were
	tree := iavl.NewMutableTree(s.db, importCacheSize, true, iavl.NewNopLogger())
	imp, err := tree.Import(v)
	if err != nil {
		_ = tree.Close()
		return nil, fmt.Errorf("import version %d: %w", v, err)
	}
	return &StoreImport{s: s, tree: tree, imp: imp, version: v}, nil
}

// Nodes returns the number of nodes added so far.
func (im *StoreImport) Nodes() uint64 { return im.nodes }

// Add adds the next node. An error means the nodes do not make a valid
// tree of the import's version (or the database failed): Abort then.
func (im *StoreImport) Add(n SnapshotNode) (err error) {
	if n.Version < 1 || n.Version > im.version {
		return fmt.Errorf("node version %d: want 1..%d", n.Version, im.version)
	}
	if n.Height < 0 || len(n.Key) == 0 || (n.Height == 0) != (n.Value != nil) {
		return fmt.Errorf("malformed node: height %d, key of %d bytes, value %t", n.Height, len(n.Key), n.Value != nil)
	}
	// the importer indexes and links nodes from untrusted input: turn a
	// panic on a crafted stream into an error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("import node %d: %v", im.nodes, r)
		}
	}()
	if err := im.imp.Add(&iavl.ExportNode{Key: n.Key, Value: n.Value, Version: n.Version, Height: n.Height}); err != nil {
		return fmt.Errorf("import node %d: %w", im.nodes, err)
	}
	im.nodes++
	return nil
}

// Commit saves the imported version and checks that its root hash is
// wantHash; then the store serves that version as its last committed one
// (Height, Hash, queries) and Commit continues from it. On a mismatch
// (an error wrapping ErrImportHashMismatch) or any other error nothing is
// published: call Abort.
func (im *StoreImport) Commit(wantHash []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("commit import: %v", r)
		}
	}()
	if err := im.imp.Commit(); err != nil {
		return fmt.Errorf("commit import of version %d: %w", im.version, err)
	}
	im.imp = nil
	if got := im.tree.Hash(); !bytes.Equal(got, wantHash) {
		return fmt.Errorf("%w: version %d has root %X, want %X", ErrImportHashMismatch, im.version, got, wantHash)
	}
	if err := im.tree.Close(); err != nil {
		return fmt.Errorf("close import tree: %w", err)
	}
	im.tree = nil
	s := im.s
	if _, err := s.tree.Load(); err != nil {
		return fmt.Errorf("load imported version %d: %w", im.version, err)
	}
	if v := s.tree.Version(); v != im.version {
		return fmt.Errorf("load imported version %d: loaded version %d", im.version, v)
	}
	s.mu.Lock()
	s.prunedTo = im.version - 1 // nothing older exists
	s.mu.Unlock()
	return s.publishCommitted()
}

// Abort drops the import and deletes everything it wrote, so that the store
// is empty again. Safe to call after a failed Commit.
func (im *StoreImport) Abort() error {
	if im.imp != nil {
		im.imp.Close()
		im.imp = nil
	}
	if im.tree != nil {
		_ = im.tree.Close()
		im.tree = nil
	}
	if im.s.Height() != 0 {
		return errors.New("abort import: the imported version was already published")
	}
	return im.s.wipe()
}

// wipeBatch is how many keys wipe deletes per batch.
const wipeBatch = 10_000

// wipe deletes every key in the database. Requires a store with no saved
// version: only an import's leftovers can be there.
func (s *Store) wipe() error {
	for {
		keys, err := s.firstKeys(wipeBatch)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		b := s.db.NewBatch()
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				_ = b.Close()
				return fmt.Errorf("wipe state db: %w", err)
			}
		}
		err = b.WriteSync()
		_ = b.Close()
		if err != nil {
			return fmt.Errorf("wipe state db: %w", err)
		}
	}
}

// firstKeys returns up to n keys of the database, from the first.
func (s *Store) firstKeys(n int) ([][]byte, error) {
	it, err := s.db.Iterator(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("iterate state db: %w", err)
	}
	defer it.Close()
	var keys [][]byte
	for ; it.Valid() && len(keys) < n; it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("iterate state db: %w", err)
	}
	return keys, nil
}
