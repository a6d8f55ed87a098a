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

// DefaultQueryWorkers is how many /credential queries AnchoredBy runs at
// once unless told otherwise.
const DefaultQueryWorkers = 8

// AnchoredBy reports, for each of hashes, whether issuer has anchored it in
// the node's latest committed state (its entry has an anchor; a void is not
// looked at). It runs up to workers queries at a time (0:
// DefaultQueryWorkers) and trusts its node: the answers carry no proofs.
// The first failed query stops it and is returned.
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
	for range min(workers, len(hashes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ok, err := c.anchoredBy(ctx, issuer, hashes[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				out[i] = ok
			}
		}()
	}
feed:
	for i := range hashes {
		select {
		case next <- i:
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

// anchoredBy asks the node whether issuer has anchored hash.
func (c *Client) anchoredBy(ctx context.Context, issuer string, hash []byte) (bool, error) {
	res, err := read(ctx, func() (*coretypes.ResultABCIQuery, error) {
		return c.rpc.ABCIQueryWithOptions(ctx, query.PathCredential, hash, rpcclient.ABCIQueryOptions{})
	})
	if err != nil {
		return false, c.rpcFailure(err)
	}
	if res.Response.Code != 0 {
		return false, fmt.Errorf("query %s: %w", query.PathCredential, &types.CodeError{Code: types.Code(res.Response.Code), Msg: res.Response.Log})
	}
	var ans types.CredentialAnswer
	if err := ans.Unmarshal(res.Response.Value); err != nil {
		return false, fmt.Errorf("%w: credential answer: %w", types.ErrMalformedAnswer, err)
	}
	entries, err := types.DecodeCredentialRecord(ans.Record)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.IssuerId == issuer && e.Anchor != nil {
			return true, nil
		}
	}
	return false, nil
}
