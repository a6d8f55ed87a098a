package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// SubmitOptions configures Client.Submit.
type SubmitOptions struct {
	// Reason is the reason text of a status change.
	Reason string
	// BatchSize caps hashes per tx (default: the chain's max_batch_size).
	BatchSize int
	// CommitTimeout bounds the wait for each tx to be committed (default 60 s).
	CommitTimeout time.Duration
	// Progress, if set, is called after each committed batch.
	Progress func(committed, total int, height int64)
	// Sent, if set, is called after each batch the node accepted into its
	// mempool, with the number of hashes sent so far.
	Sent func(sent, total int)
	// Rate, if positive, paces the batches so that at most Rate hashes per
	// second are sent on average (the first batch goes at once): a bulk
	// run then leaves room in the blocks for the other issuers' txs.
	Rate float64
}

// BatchResult is what happened to one tx of a submission.
type BatchResult struct {
	Hashes [][]byte
	// TxHash is the CometBFT tx hash (SHA-256 of the tx bytes).
	TxHash []byte
	// Height is the block that committed the tx (0 if it was not committed).
	Height int64
	// Err says why the tx was not committed (nil if it was).
	Err error
	// Rejected reports that the node refused the tx (CheckTx, the RPC, or
	// its execution failed with a code in Err): it will not commit. A tx
	// with Err set and Rejected false was not seen committed yet and may
	// still be (or was never sent).
	Rejected bool
}

// errCommitTimeout marks a tx not seen in a block within CommitTimeout.
var errCommitTimeout = errors.New("not committed")

// Submit signs action txs (types.ActionAnchor, ...) over hashes with key,
// in batches, broadcasts them in sequence and waits until each is committed.
// A batch rejected by the node does not stop the others; its BatchResult
// carries the node's reason. The error return is for failures that stop
// the whole submission (unreachable node, unknown issuer, bad options,
// ctx done); the results returned with it say which batches were sent.
func (c *Client) Submit(ctx context.Context, key *keys.Key, action string, hashes [][]byte, opts SubmitOptions) ([]BatchResult, error) {
	if len(hashes) == 0 {
		return nil, errors.New("no credential hashes to submit")
	}
	info, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	params, err := c.Params(ctx)
	if err != nil {
		return nil, err
	}
	size := int(params.MaxBatchSize)
	if opts.BatchSize > 0 && opts.BatchSize < size {
		size = opts.BatchSize
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = 60 * time.Second
	}
	seq, err := c.Sequence(ctx, key.Issuer)
	if err != nil {
		return nil, fmt.Errorf("read sequence of issuer %q: %w", key.Issuer, err)
	}
	var results []BatchResult
	began := time.Now()
	for start := 0; start < len(hashes); start += size {
		batch := hashes[start:min(start+size, len(hashes))]
		err := pace(ctx, began, start, opts.Rate)
		var r BatchResult
		var accepted bool
		if err == nil {
			r, accepted, err = c.broadcast(ctx, key, info.ChainID, seq, action, batch, opts.Reason)
		}
		if err != nil {
			for i := range results {
				if results[i].Err == nil {
					results[i].Err = fmt.Errorf("sent, but not confirmed: %w", err)
				}
			}
			return results, err
		}
		if accepted {
			seq++
		}
		results = append(results, r)
		if accepted && opts.Sent != nil {
			opts.Sent(start+len(batch), len(hashes))
		}
	}
	committed := 0
	// once a tx is not committed within the timeout, the later ones (in
	// sequence after it) cannot be committed before it: each is looked up
	// once instead of waited for, so a run whose txs a restarted node lost
	// ends after one timeout, not one per tx
	wait := opts.CommitTimeout
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		var res *coretypes.ResultTx
		res, r.Err = c.waitCommitted(ctx, r.TxHash, wait)
		if errors.Is(r.Err, errCommitTimeout) {
			wait = 0
		}
		if res != nil {
			r.Height = res.Height
		}
		var codeErr *types.CodeError
		switch {
		case r.Err == nil, errors.Is(r.Err, errCommitTimeout):
		case errors.As(r.Err, &codeErr):
			r.Rejected = true
		default:
			// unreachable node or ctx done: the rest cannot be confirmed
			for j := i; j < len(results); j++ {
				if results[j].Err == nil {
					results[j].Err = fmt.Errorf("sent, but not confirmed: %w", r.Err)
				}
			}
			return results, r.Err
		}
		if r.Err == nil {
			committed += len(r.Hashes)
			if opts.Progress != nil {
				opts.Progress(committed, len(hashes), r.Height)
			}
		}
	}
	return results, nil
}

// pace waits until sending the hashes after the first sent ones keeps the
// average rate since began at or below rate per second (no wait if rate is
// not positive).
func pace(ctx context.Context, began time.Time, sent int, rate float64) error {
	if rate <= 0 || sent == 0 {
		return nil
	}
	due := float64(sent) / rate * float64(time.Second)
	if due > math.MaxInt64 { // a tiny rate: wait "forever", not overflow into no wait
		due = math.MaxInt64
	}
	wait := time.Duration(due) - time.Since(began) // (began.Add(due) would overflow)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// broadcast signs and sends one tx; accepted reports whether CheckTx took it.
func (c *Client) broadcast(ctx context.Context, key *keys.Key, chainID string, seq uint64, action string, batch [][]byte, reason string) (BatchResult, bool, error) {
	r := BatchResult{Hashes: batch}
	body, err := types.NewTxBody(chainID, key.Issuer, seq, action, batch, reason)
	if err != nil {
		return r, false, err
	}
	tx, err := types.SignTx(body, key.PrivateKey())
	if err != nil {
		return r, false, err
	}
	sum := sha256.Sum256(tx)
	r.TxHash = sum[:]
	res, err := c.rpc.BroadcastTxSync(ctx, tx)
	if err != nil {
		var refused *rpctypes.RPCError
		if !errors.As(err, &refused) {
			return r, false, c.rpcFailure(err)
		}
		r.Err, r.Rejected = fmt.Errorf("node %s refused the tx: %w", c.url, err), true
		return r, false, nil
	}
	if res.Code != 0 {
		r.Err, r.Rejected = &types.CodeError{Code: types.Code(res.Code), Msg: res.Log}, true
		return r, false, nil
	}
	return r, true, nil
}

// waitCommitted polls the node until the tx is in a block and returns its
// result. A tx that executed with a failure code is an error.
func (c *Client) waitCommitted(ctx context.Context, txHash []byte, timeout time.Duration) (*coretypes.ResultTx, error) {
	deadline := time.Now().Add(timeout)
	for {
		res, err := read(ctx, func() (*coretypes.ResultTx, error) { return c.rpc.Tx(ctx, txHash, false) })
		if err == nil {
			if res.TxResult.Code != 0 {
				return res, &types.CodeError{Code: types.Code(res.TxResult.Code), Msg: res.TxResult.Log}
			}
			return res, nil
		}
		if err := c.notFoundYet(err); err != nil {
			return nil, err
		}
		if timeout <= 0 {
			return nil, fmt.Errorf("tx %X was accepted but is %w yet: an earlier tx of this run was not committed in time, and an issuer's txs commit in sequence", txHash, errCommitTimeout)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("tx %X was accepted but %w within %s: it may have been dropped because a tx committed meanwhile made it invalid (check with `credledger status`)", txHash, errCommitTimeout, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// notFoundYet returns nil if err is the node's answer that it has no such
// tx (yet), the node's error if it answered otherwise, and an unreachable
// error if it did not answer. The RPC carries no error code for "not
// found", only its message.
func (c *Client) notFoundYet(err error) error {
	var rpcErr *rpctypes.RPCError
	if errors.As(err, &rpcErr) && strings.Contains(rpcErr.Data, "not found") {
		return nil
	}
	return c.rpcFailure(err)
}
