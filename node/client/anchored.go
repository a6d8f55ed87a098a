package client

import (
	"context"
	"fmt"
	"sync"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// DefaultQueryWorkers is how many /anchored_by queries AnchoredBy runs at
// once unless told otherwise.
const DefaultQueryWorkers = 2

// AnchoredBy reports, for each of hashes, whether issuer has anchored it in
// the node's latest committed state (its entry has an anchor; a void is not
// looked at). It asks query.MaxAnchoredByHashes hashes per query, up to
// workers queries at a time (0: DefaultQueryWorkers), and trusts its node:
// the answers carry no proofs. The first failed query stops it and is
// returned.
func (c *Client) AnchoredBy(ctx context.Context, issuer string, hashes [][]byte, workers int) ([]bool, error) {
	if workers <= 0 {
		workers = DefaultQueryWorkers
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]bool, len(hashes))
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	chunks := (len(hashes) + query.MaxAnchoredByHashes - 1) / query.MaxAnchoredByHashes
	for range min(workers, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				end := min(start+query.MaxAnchoredByHashes, len(hashes))
				if err := c.anchoredBy(ctx, issuer, hashes[start:end], out[start:end]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for start := 0; start < len(hashes); start += query.MaxAnchoredByHashes {
		select {
		case next <- start:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// anchoredBy asks the node which of hashes (at most
// query.MaxAnchoredByHashes) issuer has anchored, into out.
func (c *Client) anchoredBy(ctx context.Context, issuer string, hashes [][]byte, out []bool) error {
	res, err := read(ctx, func() (*coretypes.ResultABCIQuery, error) {
		return c.rpc.ABCIQueryWithOptions(ctx, query.PathAnchoredBy, query.EncodeAnchoredByRequest(issuer, hashes), rpcclient.ABCIQueryOptions{})
	})
	if err != nil {
		return c.rpcFailure(err)
	}
	if res.Response.Code != 0 {
		return fmt.Errorf("query %s: %w", query.PathAnchoredBy, &types.CodeError{Code: types.Code(res.Response.Code), Msg: res.Response.Log})
	}
	if len(res.Response.Value) != len(hashes) {
		return fmt.Errorf("%w: %s answer has %d bytes for %d hashes", types.ErrMalformedAnswer, query.PathAnchoredBy, len(res.Response.Value), len(hashes))
	}
	for i, b := range res.Response.Value {
		switch b {
		case 0, 1:
			out[i] = b == 1
		default:
			return fmt.Errorf("%w: %s answer byte %d is %d, want 0 or 1", types.ErrMalformedAnswer, query.PathAnchoredBy, i, b)
		}
	}
	return nil
}
