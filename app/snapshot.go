package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
)

// State sync snapshots (CometBFT's ABCI snapshot connection).
//
// A snapshot of height H is IAVL version H exported node by node
// (Store.ExportVersion, depth-first post-order), each node encoded as
//
//	height (1 byte) | version (uvarint) | len(key) (uvarint) | key | [len(value) (uvarint) | value, leaves only]
//
// and cut into chunks of about snapshotChunkSize encoded bytes, each chunk
// a gzip stream of whole nodes. The metadata (Snapshot.Metadata, also the
// file HOME/data/snapshots/H/metadata) is
//
//	"credledger-snapshot/1\n" | height (8, BE) | nodes (8, BE) | chunks (4, BE) | SHA-256 of each chunk (32 each)
//
// and Snapshot.Hash is the SHA-256 of the metadata, so the hash CometBFT
// compares between peers commits to every chunk. A restoring node checks
// each chunk against its hash before using it, and the restored tree
// against the app hash of the light-client-verified header.

// SnapshotFormat is the format of the snapshots this app takes and
// restores (Snapshot.Format). A new encoding takes a new number.
const SnapshotFormat uint32 = 1

const (
	// snapshotChunkSize is the number of encoded (uncompressed) node bytes
	// after which a chunk is closed; CometBFT's chunk messages take up to
	// 16 MB
	snapshotChunkSize = 4 << 20
	// maxChunkDecoded bounds the decompressed size of a received chunk
	maxChunkDecoded = 64 << 20
	// maxSnapshotChunks bounds the chunks of an offered snapshot
	// (CometBFT's default statesync.max_snapshot_chunks)
	maxSnapshotChunks = 100_000
	snapshotMagic     = "credledger-snapshot/1\n"
	metadataFile      = "metadata"
	tmpPrefix         = "tmp-"
)

// WithSnapshots makes the application take a state sync snapshot of every
// interval-th committed height (0: none) into dir, in the background, and
// keep the keepRecent newest (at least 1). It also serves the snapshots in
// dir to peers (ListSnapshots, LoadSnapshotChunk). Restoring a snapshot
// needs no option.
func WithSnapshots(dir string, interval uint64, keepRecent uint32) Option {
	return func(a *Application) {
		a.snapshots.dir = dir
		a.snapshots.interval = interval
		a.snapshots.keepRecent = max(int(keepRecent), 1)
	}
}

// snapshotter takes, serves and restores snapshots. Its zero value serves
// none and takes none, and restores. The settings are fixed before the
// application is used; restore is guarded by the application's mu; the
// export state by mu.
type snapshotter struct {
	dir        string
	interval   uint64
	keepRecent int
	// chunkSize overrides snapshotChunkSize (tests)
	chunkSize int
	// beforeExport, when set, is called by the export goroutine before it
	// reads the tree (tests)
	beforeExport func(height int64)

	mu sync.Mutex
	// exporting is true while an export runs (one at a time)
	exporting bool
	// done is closed when the running export ends
	done chan struct{}

	// restore is the restore in progress, between OfferSnapshot and its
	// last chunk
	restore *restore
}

// restore is a snapshot being applied.
type restore struct {
	meta    *snapshotMetadata
	appHash []byte
	next    uint32
	imp     *StoreImport
}

// snapshotMetadata is a snapshot's metadata (see the package comment
// above).
type snapshotMetadata struct {
	height uint64
	nodes  uint64
	chunks [][]byte
}

// encode returns the metadata's canonical encoding.
func (m *snapshotMetadata) encode() []byte {
	b := make([]byte, 0, len(snapshotMagic)+20+32*len(m.chunks))
	b = append(b, snapshotMagic...)
	b = binary.BigEndian.AppendUint64(b, m.height)
	b = binary.BigEndian.AppendUint64(b, m.nodes)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.chunks)))
	for _, h := range m.chunks {
		b = append(b, h...)
	}
	return b
}

// decodeSnapshotMetadata decodes and checks metadata.
func decodeSnapshotMetadata(bz []byte) (*snapshotMetadata, error) {
	const fixed = len(snapshotMagic) + 20
	if len(bz) < fixed || string(bz[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not credledger snapshot metadata of format 1")
	}
	m := &snapshotMetadata{
		height: binary.BigEndian.Uint64(bz[len(snapshotMagic):]),
		nodes:  binary.BigEndian.Uint64(bz[len(snapshotMagic)+8:]),
	}
	n := binary.BigEndian.Uint32(bz[len(snapshotMagic)+16:])
	switch {
	case m.height < 1 || m.height > math.MaxInt64:
		return nil, fmt.Errorf("height %d out of range", m.height)
	case n < 1 || n > maxSnapshotChunks:
		return nil, fmt.Errorf("%d chunks: want 1..%d", n, maxSnapshotChunks)
	case len(bz) != fixed+32*int(n):
		return nil, fmt.Errorf("metadata of %d bytes for %d chunks, want %d", len(bz), n, fixed+32*int(n))
	case m.nodes < 1 || m.nodes > uint64(n)*maxChunkDecoded:
		return nil, fmt.Errorf("%d nodes in %d chunks", m.nodes, n)
	}
	for i := range n {
		off := fixed + 32*int(i)
		m.chunks = append(m.chunks, bz[off:off+32])
	}
	return m, nil
}

// snapshotAfterCommit starts taking a snapshot of height in the background
// if height is a multiple of the interval. Called by Commit, with mu held:
// it only pins the version and starts a goroutine.
func (app *Application) snapshotAfterCommit(height int64) {
	sn := &app.snapshots
	if sn.interval == 0 || sn.dir == "" || height <= 0 || uint64(height)%sn.interval != 0 {
		return
	}
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.exporting {
		app.logger.Info("skipping state sync snapshot: the previous one is still being written", "height", height)
		return
	}
	release, err := app.store.Pin(height)
	if err != nil {
		app.logger.Error("state sync snapshot", "height", height, "err", err)
		return
	}
	sn.exporting, sn.done = true, make(chan struct{})
	go func() {
		defer func() {
			release()
			sn.mu.Lock()
			sn.exporting = false
			close(sn.done)
			sn.mu.Unlock()
		}()
		if sn.beforeExport != nil {
			sn.beforeExport(height)
		}
		if err := sn.take(app.store, height, app.logger); err != nil {
			app.logger.Error("state sync snapshot failed", "height", height, "err", err)
		}
	}()
}

// waitExport waits for the running export, if any, to end.
func (sn *snapshotter) waitExport() {
	sn.mu.Lock()
	done := sn.done
	sn.mu.Unlock()
	if done != nil {
		<-done
	}
}

// take writes the snapshot of height: into DIR/tmp-H, renamed to DIR/H
// once every file is written and synced, so that a crash leaves no
// snapshot that is listed but incomplete. Then it deletes the snapshots
// beyond the keepRecent newest.
func (sn *snapshotter) take(store *Store, height int64, logger log.Logger) error {
	final := filepath.Join(sn.dir, strconv.FormatInt(height, 10))
	if _, err := os.Stat(final); err == nil {
		return nil // taken before a restart
	}
	if err := sn.removeTemp(); err != nil {
		return err
	}
	tmp := filepath.Join(sn.dir, tmpPrefix+strconv.FormatInt(height, 10))
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("create snapshot dir: %w", err)
	}
	cw := &chunkWriter{dir: tmp, size: sn.chunkSize}
	if cw.size <= 0 {
		cw.size = snapshotChunkSize
	}
	hash, nodes, err := store.ExportVersion(height, cw.add)
	if err == nil {
		err = cw.flush()
	}
	if err == nil {
		meta := &snapshotMetadata{height: uint64(height), nodes: nodes, chunks: cw.hashes}
		err = writeFileSync(filepath.Join(tmp, metadataFile), meta.encode())
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(sn.dir)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	logger.Info("took state sync snapshot", "height", height, "chunks", len(cw.hashes), "nodes", nodes,
		"bytes", cw.written, "app_hash", fmt.Sprintf("%X", hash))
	return sn.prune()
}

// removeTemp deletes what an interrupted export left.
func (sn *snapshotter) removeTemp() error {
	entries, err := os.ReadDir(sn.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read snapshot dir: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(sn.dir, e.Name())); err != nil {
				return fmt.Errorf("remove unfinished snapshot: %w", err)
			}
		}
	}
	return nil
}

// heights returns the heights of the complete snapshots in dir, newest
// first.
func (sn *snapshotter) heights() ([]uint64, error) {
	if sn.dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(sn.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot dir: %w", err)
	}
	var hs []uint64
	for _, e := range entries {
		if h, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && e.IsDir() && h > 0 {
			hs = append(hs, h)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] > hs[j] })
	return hs, nil
}

// prune deletes the snapshots beyond the keepRecent newest.
func (sn *snapshotter) prune() error {
	hs, err := sn.heights()
	if err != nil {
		return err
	}
	for i := sn.keepRecent; i < len(hs); i++ {
		if err := os.RemoveAll(filepath.Join(sn.dir, strconv.FormatUint(hs[i], 10))); err != nil {
			return fmt.Errorf("delete old snapshot %d: %w", hs[i], err)
		}
	}
	return nil
}

// chunkPath returns the file of chunk i of the snapshot in dir.
func chunkPath(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("chunk-%06d", i)) }

// chunkWriter encodes exported nodes into compressed chunk files.
type chunkWriter struct {
	dir     string
	size    int
	buf     bytes.Buffer
	hashes  [][]byte
	written int64
}

// add encodes n into the current chunk, closing it when full.
func (cw *chunkWriter) add(n SnapshotNode) error {
	encodeNode(&cw.buf, n)
	if cw.buf.Len() >= cw.size {
		return cw.flush()
	}
	return nil
}

// flush compresses the current chunk into its file; an empty tree still
// gets one (empty) chunk.
func (cw *chunkWriter) flush() error {
	if cw.buf.Len() == 0 && len(cw.hashes) > 0 {
		return nil
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("compress chunk: %w", err)
	}
	if _, err := zw.Write(cw.buf.Bytes()); err != nil {
		return fmt.Errorf("compress chunk: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress chunk: %w", err)
	}
	if err := writeFileSync(chunkPath(cw.dir, len(cw.hashes)), out.Bytes()); err != nil {
		return err
	}
	sum := sha256.Sum256(out.Bytes())
	cw.hashes = append(cw.hashes, sum[:])
	cw.written += int64(out.Len())
	cw.buf.Reset()
	return nil
}

// encodeNode appends the encoding of n to buf.
func encodeNode(buf *bytes.Buffer, n SnapshotNode) {
	buf.WriteByte(byte(n.Height))
	buf.Write(binary.AppendUvarint(nil, uint64(n.Version)))
	buf.Write(binary.AppendUvarint(nil, uint64(len(n.Key))))
	buf.Write(n.Key)
	if n.Height == 0 {
		buf.Write(binary.AppendUvarint(nil, uint64(len(n.Value))))
		buf.Write(n.Value)
	}
}

// decodeChunk decompresses chunk and calls fn with each node in it.
func decodeChunk(chunk []byte, fn func(SnapshotNode) error) error {
	zr, err := gzip.NewReader(bytes.NewReader(chunk))
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	zr.Multistream(false)
	lr := &io.LimitedReader{R: zr, N: maxChunkDecoded + 1}
	r := bufio.NewReader(lr)
	for {
		h, err := r.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("decompress: %w", err)
		}
		n := SnapshotNode{Height: int8(h)}
		version, err := binary.ReadUvarint(r)
		if err != nil || version > math.MaxInt64 {
			return fmt.Errorf("node version: %w", errors.Join(err, errors.New("malformed")))
		}
		n.Version = int64(version)
		if n.Key, err = readBytes(r); err != nil {
			return fmt.Errorf("node key: %w", err)
		}
		if n.Height == 0 {
			if n.Value, err = readBytes(r); err != nil {
				return fmt.Errorf("node value: %w", err)
			}
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	if lr.N <= 0 {
		return fmt.Errorf("chunk decompresses to more than %d bytes", maxChunkDecoded)
	}
	return nil
}

// readBytes reads a uvarint length and that many bytes.
func readBytes(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxChunkDecoded {
		return nil, fmt.Errorf("length %d too large", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// writeFileSync writes a file and syncs it to disk.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir syncs a directory, so that a rename in it is durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ListSnapshots lists the complete snapshots in the snapshot directory.
// It takes no lock of the application: it only reads files.
func (app *Application) ListSnapshots(_ context.Context, _ *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	sn := &app.snapshots
	hs, err := sn.heights()
	if err != nil {
		app.logger.Error("list snapshots", "err", err)
		return &abci.ResponseListSnapshots{}, nil
	}
	resp := &abci.ResponseListSnapshots{}
	for _, h := range hs {
		bz, err := os.ReadFile(filepath.Join(sn.dir, strconv.FormatUint(h, 10), metadataFile))
		if err != nil {
			continue // pruned meanwhile
		}
		meta, err := decodeSnapshotMetadata(bz)
		if err != nil || meta.height != h {
			app.logger.Error("skipping unreadable snapshot", "height", h, "err", err)
			continue
		}
		hash := sha256.Sum256(bz)
		resp.Snapshots = append(resp.Snapshots, &abci.Snapshot{
			Height: h, Format: SnapshotFormat, Chunks: uint32(len(meta.chunks)), Hash: hash[:], Metadata: bz,
		})
	}
	return resp, nil
}

// LoadSnapshotChunk returns a chunk of a snapshot in the snapshot
// directory, or no chunk if there is no such snapshot (any more).
func (app *Application) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	sn := &app.snapshots
	if sn.dir == "" || req.Format != SnapshotFormat || req.Height == 0 {
		return &abci.ResponseLoadSnapshotChunk{}, nil
	}
	bz, err := os.ReadFile(chunkPath(filepath.Join(sn.dir, strconv.FormatUint(req.Height, 10)), int(req.Chunk)))
	if err != nil {
		return &abci.ResponseLoadSnapshotChunk{}, nil
	}
	return &abci.ResponseLoadSnapshotChunk{Chunk: bz}, nil
}

// OfferSnapshot accepts a snapshot of this app's format whose metadata is
// sane and hashes to Snapshot.Hash, and starts restoring it into the
// (empty) store; req.AppHash, the app hash of the light-client-verified
// header that follows the snapshot's height, is what the restored state
// must hash to. A restore in progress is dropped first.
func (app *Application) OfferSnapshot(_ context.Context, req *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	if err := app.dropRestore(); err != nil {
		return nil, err
	}
	s := req.Snapshot
	reject := func(why string, args ...any) (*abci.ResponseOfferSnapshot, error) {
		app.logger.Info("rejected snapshot", "height", s.GetHeight(), "format", s.GetFormat(), "why", fmt.Sprintf(why, args...))
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT}, nil
	}
	switch {
	case s == nil:
		return reject("no snapshot")
	case s.Format != SnapshotFormat:
		app.logger.Info("rejected snapshot format", "format", s.Format, "want", SnapshotFormat)
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT_FORMAT}, nil
	case len(req.AppHash) != sha256.Size:
		return reject("app hash of %d bytes", len(req.AppHash))
	}
	if h := app.store.Height(); h != 0 {
		app.logger.Error("cannot restore a snapshot over existing state", "height", h)
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ABORT}, nil
	}
	meta, err := decodeSnapshotMetadata(s.Metadata)
	if err != nil {
		return reject("metadata: %s", err.Error())
	}
	sum := sha256.Sum256(s.Metadata)
	switch {
	case !bytes.Equal(sum[:], s.Hash):
		return reject("hash %X is not the SHA-256 of its metadata (%X)", s.Hash, sum)
	case meta.height != s.Height:
		return reject("metadata is of height %d", meta.height)
	case uint64(len(meta.chunks)) != uint64(s.Chunks):
		return reject("metadata lists %d chunks, the snapshot %d", len(meta.chunks), s.Chunks)
	}
	imp, err := app.store.BeginImport(int64(meta.height))
	if err != nil {
		return nil, fmt.Errorf("restore snapshot %d: %w", meta.height, err)
	}
	app.snapshots.restore = &restore{meta: meta, appHash: bytes.Clone(req.AppHash), imp: imp}
	app.logger.Info("restoring snapshot", "height", s.Height, "chunks", s.Chunks, "app_hash", fmt.Sprintf("%X", req.AppHash))
	return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ACCEPT}, nil
}

// dropRestore aborts the restore in progress, if any, and empties the
// store. Requires mu.
func (app *Application) dropRestore() error {
	r := app.snapshots.restore
	if r == nil {
		return nil
	}
	app.snapshots.restore = nil
	if err := r.imp.Abort(); err != nil {
		return fmt.Errorf("drop restore of snapshot %d: %w", r.meta.height, err)
	}
	return nil
}

// ApplySnapshotChunk checks chunk req.Index against the SHA-256 the
// snapshot's metadata lists for it and, only if it matches, imports its
// nodes. A chunk that does not match is refused (RETRY, refetched, its
// sender rejected). A chunk that matches but does not decode into tree
// nodes, or a last chunk after which the tree's root hash is not the
// offered app hash, rejects the snapshot (REJECT_SNAPSHOT) and empties the
// store again. After the last chunk the store serves the snapshot's height.
func (app *Application) ApplySnapshotChunk(_ context.Context, req *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	r := app.snapshots.restore
	if r == nil {
		app.logger.Error("snapshot chunk without a snapshot being restored", "index", req.Index)
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ABORT}, nil
	}
	if req.Index != r.next {
		// CometBFT applies chunks in order; start the snapshot over
		app.logger.Error("snapshot chunk out of order", "index", req.Index, "want", r.next)
		if err := app.dropRestore(); err != nil {
			return nil, err
		}
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY_SNAPSHOT}, nil
	}
	if sum := sha256.Sum256(req.Chunk); !bytes.Equal(sum[:], r.meta.chunks[req.Index]) {
		app.logger.Info("refused snapshot chunk: hash mismatch", "height", r.meta.height, "index", req.Index,
			"sender", req.Sender, "got", fmt.Sprintf("%X", sum), "want", fmt.Sprintf("%X", r.meta.chunks[req.Index]))
		resp := &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY, RefetchChunks: []uint32{req.Index}}
		if req.Sender != "" && len(req.Chunk) > 0 { // an empty chunk is one the sender no longer has
			resp.RejectSenders = []string{req.Sender}
		}
		return resp, nil
	}
	if err := decodeChunk(req.Chunk, r.imp.Add); err != nil {
		return app.rejectRestore(fmt.Errorf("chunk %d: %w", req.Index, err))
	}
	r.next++
	if int(r.next) < len(r.meta.chunks) {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
	}
	if got := r.imp.Nodes(); got != r.meta.nodes {
		return app.rejectRestore(fmt.Errorf("got %d nodes, metadata says %d", got, r.meta.nodes))
	}
	if err := r.imp.Commit(r.appHash); err != nil {
		return app.rejectRestore(err)
	}
	app.snapshots.restore = nil
	if err := app.resetCheckState(); err != nil {
		return nil, err
	}
	h, hash := app.store.LastCommitted()
	app.logger.Info("restored state from snapshot", "height", h, "nodes", r.meta.nodes, "app_hash", fmt.Sprintf("%X", hash))
	app.observeState()
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
}

// rejectRestore drops the restore in progress because of why, and rejects
// its snapshot. Requires mu.
func (app *Application) rejectRestore(why error) (*abci.ResponseApplySnapshotChunk, error) {
	app.logger.Error("rejected snapshot", "height", app.snapshots.restore.meta.height, "err", why)
	if err := app.dropRestore(); err != nil {
		return nil, err
	}
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT}, nil
}
