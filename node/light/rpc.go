package light

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// ErrUnreachable wraps failures to talk to a node at all.
var ErrUnreachable = errors.New("node unreachable")

// rpcNode is the RPC of one node the verifier asks for answers (the
// primary) or for its height (the witnesses). Nothing it returns is
// trusted: answers are checked against verified headers.
type rpcNode struct {
	role, url string
	rpc       *rpchttp.HTTP
}

func newRPCNode(role, url string) (*rpcNode, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "tcp://") {
		return nil, fmt.Errorf("%s address %q: want a URL such as http://127.0.0.1:26657", role, url)
	}
	c, err := rpchttp.New(url, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("%s address %q: %w", role, url, err)
	}
	return &rpcNode{role: role, url: url, rpc: c}, nil
}

// failure classifies an RPC error: the node's own error answer names the
// node; anything else wraps ErrUnreachable.
func (n *rpcNode) failure(err error) error {
	var answered *rpctypes.RPCError
	if errors.As(err, &answered) {
		return fmt.Errorf("%s %s: %w", n.role, n.url, err)
	}
	return fmt.Errorf("%w: cannot reach %s %s: %w", ErrUnreachable, n.role, n.url, err)
}

// status returns the chain id the node says it is on and its latest height.
func (n *rpcNode) status(ctx context.Context) (chainID string, latest int64, err error) {
	st, err := n.rpc.Status(ctx)
	if err != nil {
		return "", 0, n.failure(err)
	}
	return st.NodeInfo.Network, st.SyncInfo.LatestBlockHeight, nil
}

// abciQuery runs an ABCI query with proofs at height (0: latest).
func (n *rpcNode) abciQuery(ctx context.Context, path string, data []byte, height int64) (*abci.ResponseQuery, error) {
	res, err := n.rpc.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height, Prove: true})
	if err != nil {
		return nil, n.failure(err)
	}
	r := &res.Response
	if r.Code != 0 {
		return nil, fmt.Errorf("%s %s: query %s: %w", n.role, n.url, path, &types.CodeError{Code: types.Code(r.Code), Msg: r.Log})
	}
	if height != 0 && r.Height != height {
		return nil, fmt.Errorf("%w: %s %s answered %s for height %d, not %d", types.ErrMalformedAnswer, n.role, n.url, path, r.Height, height)
	}
	return r, nil
}

// credential fetches the /credential answer about hash at height
// (0: latest), unverified.
func (n *rpcNode) credential(ctx context.Context, hash []byte, height int64) (*query.CredentialProof, error) {
	r, err := n.abciQuery(ctx, query.PathCredential, hash, height)
	if err != nil {
		return nil, err
	}
	return query.DecodeCredential(hash, r)
}

// credentialAt fetches the /credential answer about hash at state height
// (which must be > 0), retrying for up to wait while the node has the block
// but has not committed its state yet.
func (n *rpcNode) credentialAt(ctx context.Context, hash []byte, height int64, wait time.Duration) (*query.CredentialProof, error) {
	deadline := time.Now().Add(wait)
	for {
		p, err := n.credential(ctx, hash, height)
		if types.CodeOf(err) != types.CodeHeightUnavailable || time.Now().After(deadline) {
			return p, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// issuer fetches the /issuer answer about id at state height, unverified.
// Requires height > 0.
func (n *rpcNode) issuer(ctx context.Context, id string, height int64) (*query.IssuerProof, error) {
	r, err := n.abciQuery(ctx, query.PathIssuer, []byte(id), height)
	if err != nil {
		return nil, err
	}
	return query.DecodeIssuer(id, r)
}

// headerTime returns the time of header h as the node says (unverified).
func (n *rpcNode) headerTime(ctx context.Context, h int64) (time.Time, error) {
	res, err := n.rpc.Header(ctx, &h)
	if err != nil {
		return time.Time{}, n.failure(err)
	}
	if res.Header == nil {
		return time.Time{}, fmt.Errorf("%s %s has no header %d", n.role, n.url, h)
	}
	return res.Header.Time, nil
}
