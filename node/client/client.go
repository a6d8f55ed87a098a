package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// DefaultNodeURL is the RPC address the CLI uses without --node.
const DefaultNodeURL = "http://127.0.0.1:26657"

// Client talks to one node's RPC. It trusts that node: where a method
// checks a Merkle proof, it checks it against a header from the same node,
// which catches a corrupted answer but not a lying node (node/light does).
// A Client is safe for concurrent use.
type Client struct {
	url string
	rpc *rpchttp.HTTP
}

// ErrUnreachable wraps failures to talk to the node at all.
var ErrUnreachable = errors.New("node unreachable")

// New returns a client for the node at url (http://host:port).
func New(url string) (*Client, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "tcp://") {
		return nil, fmt.Errorf("node address %q: want a URL such as %s", url, DefaultNodeURL)
	}
	c, err := rpchttp.New(url, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("node address %q: %w", url, err)
	}
	return &Client{url: url, rpc: c}, nil
}

// URL returns the node's address.
func (c *Client) URL() string { return c.url }

// RPC returns the underlying CometBFT RPC client.
func (c *Client) RPC() *rpchttp.HTTP { return c.rpc }

// rpcFailure classifies an RPC call's error: the node's own error answer
// (a *rpctypes.RPCError) names the node; anything else means the node was
// not reached and wraps ErrUnreachable.
func (c *Client) rpcFailure(err error) error {
	var answered *rpctypes.RPCError
	if errors.As(err, &answered) {
		return fmt.Errorf("node %s: %w", c.url, err)
	}
	return fmt.Errorf("%w: cannot reach %s (is the node running? start one with `credledger dev`, or pass --node URL): %w", ErrUnreachable, c.url, err)
}

// readRetries are the pauses before the retries of a read that failed in
// transport: a node's RPC server may close a kept-alive connection just as
// the client reuses it (the POST then fails with EOF or a reset), and Go
// retries no POST itself. Reads are idempotent; sends are never retried.
var readRetries = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond}

// read calls fn, again after each of readRetries while it fails without
// an answer from the node (an RPC error answer is returned at once).
func read[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	res, err := fn()
	for _, pause := range readRetries {
		var answered *rpctypes.RPCError
		if err == nil || errors.As(err, &answered) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(pause):
		}
		res, err = fn()
	}
	return res, err
}

// ChainInfo is what the node says about its chain.
type ChainInfo struct {
	ChainID      string
	LatestHeight int64
}

// Status returns the node's chain id and latest block height.
func (c *Client) Status(ctx context.Context) (*ChainInfo, error) {
	st, err := read(ctx, func() (*coretypes.ResultStatus, error) { return c.rpc.Status(ctx) })
	if err != nil {
		return nil, c.rpcFailure(err)
	}
	return &ChainInfo{ChainID: st.NodeInfo.Network, LatestHeight: st.SyncInfo.LatestBlockHeight}, nil
}

// query runs an ABCI query with proofs and turns a non-zero code into a
// *types.CodeError.
func (c *Client) query(ctx context.Context, path string, data []byte, height int64) (*coretypes.ResultABCIQuery, error) {
	res, err := read(ctx, func() (*coretypes.ResultABCIQuery, error) {
		return c.rpc.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height, Prove: true})
	})
	if err != nil {
		return nil, c.rpcFailure(err)
	}
	if res.Response.Code != 0 {
		return nil, fmt.Errorf("query %s: %w", path, &types.CodeError{Code: types.Code(res.Response.Code), Msg: res.Response.Log})
	}
	return res, nil
}

// Sequence returns an issuer's next sequence number in committed state.
func (c *Client) Sequence(ctx context.Context, issuer string) (uint64, error) {
	res, err := c.query(ctx, query.PathSequence, []byte(issuer), 0)
	if err != nil {
		return 0, err
	}
	return types.DecodeSequence(res.Response.Value)
}

// PendingSequence returns issuer's next sequence number after its txs in
// the node's mempool (Sequence if it holds none).
func (c *Client) PendingSequence(ctx context.Context, issuer string) (uint64, error) {
	res, err := c.query(ctx, query.PathPendingSequence, []byte(issuer), 0)
	if err != nil {
		return 0, err
	}
	return types.DecodeSequence(res.Response.Value)
}

// WaitPendingTxs waits, up to timeout, until the txs of issuer that the
// node's mempool holds now are committed or dropped, and returns how many
// there were. A run resumed while the interrupted one's txs are still in
// the mempool would otherwise sign their sequences again (and check which
// hashes are anchored before they are).
func (c *Client) WaitPendingTxs(ctx context.Context, issuer string, timeout time.Duration) (int, error) {
	committed, err := c.Sequence(ctx, issuer)
	if err != nil {
		return 0, err
	}
	pending, err := c.PendingSequence(ctx, issuer)
	if err != nil {
		return 0, err
	}
	if pending <= committed {
		return 0, nil
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	n := int(pending - committed)
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if committed, err = c.Sequence(ctx, issuer); err != nil {
			return n, err
		}
		now, err := c.PendingSequence(ctx, issuer)
		if err != nil {
			return n, err
		}
		if committed >= pending || now <= committed {
			return n, nil // committed, or dropped from the mempool
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("%d tx(s) of issuer %q are still in the node's mempool after %s (sequences %d..%d; committed up to %d): wait, then run again", n, issuer, timeout, pending-uint64(n), pending-1, committed)
		}
	}
}

// Params returns the consortium parameters. On a chain that has not
// committed its first block yet it waits for it (up to 10 s).
func (c *Client) Params(ctx context.Context) (types.Params, error) {
	var p types.Params
	res, err := c.query(ctx, query.PathParams, nil, 0)
	for i := 0; i < 50 && types.CodeOf(err) == types.CodeHeightUnavailable; i++ {
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		res, err = c.query(ctx, query.PathParams, nil, 0)
	}
	if err != nil {
		return p, err
	}
	return query.DecodeParams(&res.Response)
}

// QueryCredential fetches the answer and proofs for hash at height (0:
// latest), unverified.
func (c *Client) QueryCredential(ctx context.Context, hash []byte, height int64) (*query.CredentialProof, error) {
	res, err := c.query(ctx, query.PathCredential, hash, height)
	if err != nil {
		return nil, err
	}
	return query.DecodeCredential(hash, &res.Response)
}

// appHashAt returns the app hash in the committed header at height h, or
// ok=false if the node has no such block yet.
func (c *Client) appHashAt(ctx context.Context, h int64, chainID string) (hash []byte, headerTime time.Time, ok bool, err error) {
	info, err := c.Status(ctx)
	if err != nil {
		return nil, time.Time{}, false, err
	}
	if h > info.LatestHeight {
		return nil, time.Time{}, false, nil
	}
	res, err := c.rpc.Commit(ctx, &h)
	if err != nil {
		return nil, time.Time{}, false, c.rpcFailure(err)
	}
	hdr := res.SignedHeader.Header
	if hdr == nil || hdr.Height != h {
		return nil, time.Time{}, false, fmt.Errorf("node returned no header for height %d", h)
	}
	if hdr.ChainID != chainID {
		return nil, time.Time{}, false, fmt.Errorf("header %d is for chain %q, want %q", h, hdr.ChainID, chainID)
	}
	return hdr.AppHash, hdr.Time, true, nil
}
