package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// BenchmarkAnchorGrowth anchors CREDLEDGER_GROWTH_N credentials (default
// 1,000,000) into one on-disk store in blocks of 30,000 (three 10,000-hash
// txs: about a second of full-speed anchoring), FinalizeBlock and Commit
// timed, and prints the rate of each window of CREDLEDGER_GROWTH_WINDOW
// (default 200,000) credentials and the size of the state database after
// it. It shows how the state machine's cost grows with the tree (issue 10,
// target 1), apart from consensus and RPC:
//
//	go test -run '^$' -bench BenchmarkAnchorGrowth -benchtime 1x -timeout 60m ./app/
//
// CREDLEDGER_GROWTH_KEEP sets the versions kept (default 50, the node's
// default; 0 keeps all), CREDLEDGER_GROWTH_CACHE the node cache size,
// CREDLEDGER_GROWTH_DB_CACHE_MB and CREDLEDGER_GROWTH_DB_BUFFER_MB the
// LevelDB block cache and write buffer (default 128 and 32, a node's), and
// CREDLEDGER_GROWTH_PROFILE a file that gets a CPU profile of the last
// window alone (where the growth shows).
func BenchmarkAnchorGrowth(b *testing.B) {
	n := envInt(b, "CREDLEDGER_GROWTH_N", 1_000_000)
	window := envInt(b, "CREDLEDGER_GROWTH_WINDOW", 200_000)
	keep := envInt(b, "CREDLEDGER_GROWTH_KEEP", 50)
	cache := envInt(b, "CREDLEDGER_GROWTH_CACHE", DefaultCacheSize)
	dbCache := envInt(b, "CREDLEDGER_GROWTH_DB_CACHE_MB", 128)
	dbBuffer := envInt(b, "CREDLEDGER_GROWTH_DB_BUFFER_MB", 32)
	profile := os.Getenv("CREDLEDGER_GROWTH_PROFILE")
	for range b.N {
		dir := b.TempDir()
		app, err := NewPersistentApplication(dir, []StoreOption{WithKeepRecent(int64(keep)), WithCacheSize(cache), WithDBBuffers(dbCache, dbBuffer)})
		require.NoError(b, err)
		c := newTestChain(b, app, 1)
		l := &benchLedger{c: c, is: c.issuers[0]}
		var first float64
		for w := 0; l.next < n; w++ {
			b.StopTimer()
			from := l.next
			var blocks [][][]byte
			for k := 0; k < window && l.next < n; {
				txs := l.block(blockCredentials, min(3*blockCredentials, n-l.next))
				blocks = append(blocks, txs)
				k += 3 * blockCredentials
			}
			last := l.next >= n
			if last && profile != "" {
				f, err := os.Create(profile)
				require.NoError(b, err)
				require.NoError(b, pprof.StartCPUProfile(f))
				defer f.Close()
			}
			b.StartTimer()
			start := time.Now()
			var inCommit time.Duration
			for _, txs := range blocks {
				l.finalizeBlock(txs)
				t0 := time.Now()
				l.commit()
				inCommit += time.Since(t0)
			}
			elapsed := time.Since(start)
			if last && profile != "" {
				pprof.StopCPUProfile()
			}
			rate := float64(l.next-from) / elapsed.Seconds()
			if w == 0 {
				first = rate
			}
			b.StopTimer()
			size := dirSize(b, dir)
			fmt.Printf("growth: %d..%d credentials: %.0f credentials/s (%.2f of the first window; %.0f%% of the time in Commit), app.db %d bytes = %.0f B/credential\n",
				from, l.next, rate, rate/first, 100*inCommit.Seconds()/elapsed.Seconds(), size, float64(size)/float64(l.next))
			b.StartTimer()
		}
		require.NoError(b, c.app.Close())
	}
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	require.NoError(b, err, name)
	return v
}

// dirSize returns the bytes of the files under dir.
func dirSize(b *testing.B, dir string) int64 {
	b.Helper()
	var size int64
	require.NoError(b, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a file compaction removed meanwhile
		}
		if err != nil || d.IsDir() {
			return err
		}
		if fi, err := d.Info(); err == nil {
			size += fi.Size()
		}
		return nil
	}))
	return size
}

// BenchmarkIAVLGrowthFloor is the floor under BenchmarkAnchorGrowth's
// curve: IAVL alone, in memory, with a node cache that holds the whole
// tree and nothing pruned, inserting random 33-byte keys (a credential
// key) with 40-byte values in blocks of 30,000, one SaveVersion each, in
// windows of CREDLEDGER_GROWTH_WINDOW (default 400,000) up to
// CREDLEDGER_GROWTH_N (default 2,000,000). With random keys each insert
// writes the nodes of its path below the levels the block's other inserts
// share, about log2(tree/block) + 2 of them, so even this curve falls as
// the tree grows:
//
//	go test -run '^$' -bench BenchmarkIAVLGrowthFloor -benchtime 1x -timeout 30m ./app/
func BenchmarkIAVLGrowthFloor(b *testing.B) {
	n := envInt(b, "CREDLEDGER_GROWTH_N", 2_000_000)
	window := envInt(b, "CREDLEDGER_GROWTH_WINDOW", 400_000)
	const perBlock = 30_000
	for range b.N {
		tree := iavl.NewMutableTree(idb.NewMemDB(), 2*n+1000, true, iavl.NewNopLogger())
		value := make([]byte, 40)
		var first float64
		for done := 0; done < n; {
			from, to := done, min(done+window, n)
			keys := make([][]byte, 0, to-from)
			for i := from; i < to; i++ {
				keys = append(keys, types.CredentialKey(testHash(i)))
			}
			start := time.Now()
			for done < to {
				for k := 0; k < perBlock && done < to; k++ {
					_, err := tree.Set(keys[done-from], value)
					require.NoError(b, err)
					done++
				}
				_, _, err := tree.SaveVersion()
				require.NoError(b, err)
			}
			rate := float64(done-from) / time.Since(start).Seconds()
			if from == 0 {
				first = rate
			}
			fmt.Printf("iavl floor: %d..%d keys: %.0f inserts/s (%.2f of the first window)\n", from, done, rate, rate/first)
		}
	}
}
