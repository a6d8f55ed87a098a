package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// A query is answered from the committed state while a block executes:
// with the state lock held (as during a long FinalizeBlock or Commit),
// Query and Info still answer. Before, CometBFT's single local-client lock
// made a verifier wait for block execution (p99 3.1-3.5 s under load).
func TestQueryDoesNotWaitForBlockExecution(t *testing.T) {
	c := newTestChain(t, nil, 1)
	h := testHash(1)
	c.commitOK(c.tx(c.issuers[0], anchorMsg(h)))

	c.app.mu.Lock()
	done := make(chan *abci.ResponseQuery, 1)
	go func() {
		resp, _ := c.app.Query(context.Background(), &abci.RequestQuery{Path: query.PathCredential, Data: h})
		_, _ = c.app.Info(context.Background(), &abci.RequestInfo{})
		done <- resp
	}()
	select {
	case resp := <-done:
		c.app.mu.Unlock()
		require.Zero(t, resp.Code, resp.Log)
		require.Equal(t, c.height, resp.Height)
	case <-time.After(5 * time.Second):
		c.app.mu.Unlock()
		t.Fatal("Query waited for the state lock")
	}
}

// Queries running while blocks execute and commit on a persistent store
// each read one consistent committed version: every proof verifies against
// the app hash of the height the answer names, and the record is there
// exactly if its anchor's block is at or below that height. Run with
// -race, this also checks that nothing the query path reads is written by
// the block path.
func TestConcurrentQueriesDuringBlocks(t *testing.T) {
	a, err := NewPersistentApplication(t.TempDir(), []StoreOption{WithCacheSize(10_000)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	c := newTestChain(t, a, 2)
	c.commitOK()

	const blocks, perBlock, readers = 30, 20, 3
	var appHashes sync.Map // height -> app hash after that block
	appHashes.Store(c.height, c.app.Store().Hash())
	anchoredAt := make([]atomic.Int64, blocks*perBlock) // 0: not yet
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var answers atomic.Int64
	errs := make(chan error, readers)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i = (i + 7) % len(anchoredAt) {
				select {
				case <-stop:
					return
				default:
				}
				hash := testHash(10_000 + i)
				// read before querying: a record the answer shows must be
				// of a block at or below its height
				// every other query asks for an older version
				var at int64
				if i%2 == 1 {
					at = max(1, c.app.Store().Height()-2)
				}
				resp, err := c.app.Query(context.Background(), &abci.RequestQuery{Path: query.PathCredential, Data: hash, Height: at})
				if err != nil || resp.Code != 0 {
					errs <- fmtErr("query %d: %v %s", i, err, resp.GetLog())
					return
				}
				p, err := query.DecodeCredential(hash, resp)
				if err != nil {
					errs <- err
					return
				}
				appHash, ok := appHashesAt(&appHashes, resp.Height)
				if !ok {
					errs <- fmtErr("answer for height %d, which the block path has not committed", resp.Height)
					return
				}
				res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, appHash)
				if err != nil {
					errs <- fmtErr("proof of %d at height %d: %v", i, resp.Height, err)
					return
				}
				if at != 0 && resp.Height != at {
					errs <- fmtErr("asked for height %d, answered for %d", at, resp.Height)
					return
				}
				anchored := anchoredAt[i].Load()
				present := len(res.Entries) > 0
				if anchored != 0 && anchored <= resp.Height && !present {
					errs <- fmtErr("hash %d anchored at %d missing from the answer at %d", i, anchored, resp.Height)
					return
				}
				if present && res.Entries[0].Anchor.Height > resp.Height {
					errs <- fmtErr("answer at %d shows an anchor of height %d", resp.Height, res.Entries[0].Anchor.Height)
					return
				}
				answers.Add(1)
			}
		}()
	}
	is := c.issuers[0]
	for b := range blocks {
		var hashes [][]byte
		for j := range perBlock {
			hashes = append(hashes, testHash(10_000+b*perBlock+j))
		}
		// the hash is published only after the block is committed and its
		// app hash is known, so a reader never expects a missing one early
		hash := c.commitOK(c.tx(is, anchorMsg(hashes...)))
		appHashes.Store(c.height, hash)
		for j := range perBlock {
			anchoredAt[b*perBlock+j].Store(c.height)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Positive(t, answers.Load())
	t.Logf("%d proven answers checked while %d blocks committed", answers.Load(), blocks)
}

// appHashesAt returns the app hash the block path recorded for height h,
// waiting a little: a query may see a version as soon as Commit returns,
// before the test records its hash.
func appHashesAt(m *sync.Map, h int64) ([]byte, bool) {
	for range 200 {
		if v, ok := m.Load(h); ok {
			return v.([]byte), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, false
}

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
