package app

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// Benchmarks run against an on-disk store (goleveldb, fsync on commit) whose
// tree is first grown, outside the timer, to benchAnchors() credentials in
// blocks of one 10,000-hash tx. Run them with
//
//	go test ./app/ -run '^$' -bench .
//
// (2-4 minutes on 2 cores). CREDLEDGER_BENCH_ANCHORS sets the pre-grown
// size (default 150000: 6-25 s of setup per benchmark on 2 busy cores).
// They never run under plain go test.

// blockCredentials is how many credentials each benchmarked block anchors.
const blockCredentials = 10_000

func benchAnchors(b *testing.B) int {
	b.Helper()
	s := os.Getenv("CREDLEDGER_BENCH_ANCHORS")
	if s == "" {
		return 150_000
	}
	n, err := strconv.Atoi(s)
	require.NoError(b, err, "CREDLEDGER_BENCH_ANCHORS")
	require.GreaterOrEqual(b, n, 1000, "CREDLEDGER_BENCH_ANCHORS")
	return n
}

// benchLedger is a persistent single-issuer chain.
type benchLedger struct {
	c    *testChain
	is   *testIssuer
	next int // index of the next unused testHash
}

// newBenchLedger opens an on-disk application and anchors anchors
// credentials in 10,000-hash blocks, with the default store options (the
// fastest way to grow it). With opts, it then reopens the store with opts
// and commits one more block, so that every ledger is measured warm. None
// of this is timed.
func newBenchLedger(b *testing.B, anchors int, opts ...StoreOption) *benchLedger {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	app, err := NewPersistentApplication(dir, nil)
	require.NoError(b, err)
	c := newTestChain(b, app, 1)
	b.Cleanup(func() { require.NoError(b, c.app.Close()) })
	l := &benchLedger{c: c, is: c.issuers[0]}
	start := time.Now()
	for l.next < anchors {
		l.commitBlock(l.block(blockCredentials, min(blockCredentials, anchors-l.next)))
	}
	if len(opts) > 0 {
		require.NoError(b, c.app.Close())
		c.app, err = NewPersistentApplication(dir, opts)
		require.NoError(b, err)
		require.Equal(b, c.height, c.app.Store().Height())
		l.commitBlock(l.block(100, blockCredentials))
	}
	b.Logf("grew the tree to %d anchors in %d blocks in %s", l.next, c.height, time.Since(start).Round(time.Millisecond))
	return l
}

// block returns signed txs anchoring n new hashes, perTx to a tx.
func (l *benchLedger) block(perTx, n int) [][]byte {
	var txs [][]byte
	for n > 0 {
		k := min(perTx, n)
		txs = append(txs, l.c.tx(l.is, anchorMsg(testHashes(l.next, k)...)))
		l.next += k
		n -= k
	}
	return txs
}

// finalizeBlock runs FinalizeBlock for the next height and checks that
// every tx succeeded.
func (l *benchLedger) finalizeBlock(txs [][]byte) {
	c := l.c
	c.height++
	resp, err := c.app.FinalizeBlock(c.t.Context(), &abci.RequestFinalizeBlock{Height: c.height, Time: c.blockTime(c.height), Txs: txs})
	require.NoError(c.t, err)
	for i, r := range resp.TxResults {
		if r.Code != 0 {
			c.t.Fatalf("height %d tx %d: %s", c.height, i, r.Log)
		}
	}
}

func (l *benchLedger) commit() {
	_, err := l.c.app.Commit(l.c.t.Context(), &abci.RequestCommit{})
	require.NoError(l.c.t, err)
}

func (l *benchLedger) commitBlock(txs [][]byte) {
	l.finalizeBlock(txs)
	l.commit()
}

// reportPerCredential reports the timed cost per credential, given n
// credentials were processed in the timed part of the benchmark.
func reportPerCredential(b *testing.B, elapsed time.Duration, n int) {
	b.Helper()
	per := float64(elapsed.Nanoseconds()) / float64(n)
	b.ReportMetric(per, "ns/credential")
	b.ReportMetric(1e9/per, "credentials/s")
}

// BenchmarkFinalizeBlock measures FinalizeBlock (decode, signature check,
// execution, and the IAVL writes of the block) for blocks of 10,000
// anchored credentials, packed 1, 100 or 10,000 to a tx. The block is not
// seen by ProcessProposal first, so nothing is reused: this is the full
// per-block cost. Commit is outside the timer.
func BenchmarkFinalizeBlock(b *testing.B) {
	l := newBenchLedger(b, benchAnchors(b))
	for _, perTx := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("hashes_per_tx=%d", perTx), func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				txs := l.block(perTx, blockCredentials)
				b.StartTimer()
				start := time.Now()
				l.finalizeBlock(txs)
				elapsed += time.Since(start)
				b.StopTimer()
				l.commit()
				b.StartTimer()
			}
			reportPerCredential(b, elapsed, b.N*blockCredentials)
			b.ReportMetric(float64((blockCredentials+perTx-1)/perTx), "txs/block")
		})
	}
}

// BenchmarkCommit measures Commit (IAVL SaveVersion: hashing the new nodes,
// writing them and fsync) after a block of 10,000 or 1,000 anchors.
func BenchmarkCommit(b *testing.B) {
	l := newBenchLedger(b, benchAnchors(b))
	for _, n := range []int{blockCredentials, 1_000} {
		b.Run(fmt.Sprintf("credentials_per_block=%d", n), func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				l.finalizeBlock(l.block(n, n))
				b.StartTimer()
				start := time.Now()
				l.commit()
				elapsed += time.Since(start)
			}
			reportPerCredential(b, elapsed, b.N*n)
			b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/commit")
		})
	}
}

// BenchmarkQueryCredential measures proof generation: a /credential query
// for a random anchored (or never anchored) hash at the latest height,
// which reads and proves one key (the hash's credential record).
func BenchmarkQueryCredential(b *testing.B) {
	anchors := benchAnchors(b)
	l := newBenchLedger(b, anchors)
	for _, tc := range []struct {
		name string
		from int // hashes are testHash(from + rand.Intn(anchors))
	}{
		{"anchored", 0},
		{"unknown", 1 << 30},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			hashes := make([][]byte, 1024)
			for i := range hashes {
				hashes[i] = testHash(tc.from + rng.Intn(anchors))
			}
			proofBytes := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := l.c.app.Query(b.Context(), &abci.RequestQuery{Path: query.PathCredential, Data: hashes[i%len(hashes)]})
				if err != nil || resp.Code != 0 {
					b.Fatalf("query: %v %s", err, resp.GetLog())
				}
				proofBytes += len(resp.ProofOps.Ops[0].Data)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/query")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			b.ReportMetric(float64(proofBytes)/float64(b.N), "proof-bytes/query")
		})
	}
}

// BenchmarkVerifyCredential measures proof checking by a light client:
// types.VerifyCredential on genuine answers (one ICS23 proof each).
func BenchmarkVerifyCredential(b *testing.B) {
	anchors := benchAnchors(b)
	l := newBenchLedger(b, anchors)
	// revoke the first 100 so that there are membership proofs of records
	// with a status
	revoked := testHashes(0, 100)
	l.commitBlock([][]byte{l.c.tx(l.is, revokeMsg("benchmark", revoked...))})
	appHash := l.c.app.Store().Hash()
	rng := rand.New(rand.NewSource(2))
	for _, tc := range []struct {
		name    string
		hash    func(i int) []byte
		verdict types.Verdict
	}{
		{"valid", func(int) []byte { return testHash(len(revoked) + rng.Intn(anchors-len(revoked))) }, types.VerdictValid},
		{"revoked", func(i int) []byte { return revoked[i%len(revoked)] }, types.VerdictRevoked},
		{"not_anchored", func(int) []byte { return testHash(1<<30 + rng.Intn(anchors)) }, types.VerdictNotAnchored},
	} {
		b.Run(tc.name, func(b *testing.B) {
			type answer struct {
				hash  []byte
				ans   types.CredentialAnswer
				proof []byte
			}
			answers := make([]answer, 256)
			for i := range answers {
				h := tc.hash(i)
				resp, err := l.c.app.Query(b.Context(), &abci.RequestQuery{Path: query.PathCredential, Data: h})
				require.NoError(b, err)
				require.Zero(b, resp.Code, resp.Log)
				p, err := query.DecodeCredential(h, resp)
				require.NoError(b, err)
				answers[i] = answer{hash: h, ans: p.Answer, proof: p.Proof}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := &answers[i%len(answers)]
				res, err := types.VerifyCredential(a.hash, &a.ans, a.proof, appHash)
				if err != nil || res.Verdict != tc.verdict {
					b.Fatalf("verify: %v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/verify")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

// smallCacheSize is the IAVL node cache BenchmarkCacheSize compares with
// DefaultCacheSize: about 5% of the nodes of a 150k-anchor tree, where the
// default holds all of them.
const smallCacheSize = 20_000

// BenchmarkCacheSize measures what DefaultCacheSize buys over a small IAVL
// node cache on the same pre-grown tree: a full block (FinalizeBlock and
// Commit, 10,000 anchors in 100-hash txs) and a /credential query.
func BenchmarkCacheSize(b *testing.B) {
	anchors := benchAnchors(b)
	for _, size := range []int{DefaultCacheSize, smallCacheSize} {
		l := newBenchLedger(b, anchors, WithCacheSize(size))
		b.Run(fmt.Sprintf("cache=%d/block", size), func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				txs := l.block(100, blockCredentials)
				b.StartTimer()
				start := time.Now()
				l.commitBlock(txs)
				elapsed += time.Since(start)
			}
			reportPerCredential(b, elapsed, b.N*blockCredentials)
		})
		b.Run(fmt.Sprintf("cache=%d/query", size), func(b *testing.B) {
			rng := rand.New(rand.NewSource(3))
			for i := 0; i < b.N; i++ {
				resp, err := l.c.app.Query(b.Context(), &abci.RequestQuery{Path: query.PathCredential, Data: testHash(rng.Intn(anchors))})
				if err != nil || resp.Code != 0 {
					b.Fatalf("query: %v %s", err, resp.GetLog())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/query")
		})
	}
}

// BenchmarkRecheck measures the recheck of a backlog (10 pending txs of
// 10,000 hashes, never anchored) after a block that wrote none of them
// (an empty one: the ledger has one issuer, whose txs would commit ahead
// of the backlog), reusing the last checks (memo) or executing every tx
// in full (full): what each node pays after every block while a bulk
// run's txs wait in its mempool.
func BenchmarkRecheck(b *testing.B) {
	const pending = 10
	for _, full := range []bool{false, true} {
		name := "memo"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			l := newBenchLedger(b, benchAnchors(b))
			l.c.app.noRecheckMemo = full
			backlog := l.block(blockCredentials, pending*blockCredentials)
			b.StopTimer()
			for _, tx := range backlog {
				require.Zero(b, l.c.checkTx(tx).Code)
			}
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				l.commitBlock(nil)
				b.StartTimer()
				start := time.Now()
				for _, tx := range backlog {
					require.Zero(b, l.c.recheckTx(tx).Code)
				}
				elapsed += time.Since(start)
			}
			reportPerCredential(b, elapsed, b.N*pending*blockCredentials)
		})
	}
}
