package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// CredentialStatus fetches the latest answer about hash with its proofs,
// fetches the header that commits to that state from the same node, and
// checks the proofs against the header's app hash. It waits (up to wait)
// for that header when the newest block changed the state and the next one
// is not out yet. It trusts the node for the header: a node that lies
// consistently is believed. node/light verifies the header as well.
func (c *Client) CredentialStatus(ctx context.Context, hash []byte, wait time.Duration) (*types.Report, error) {
	info, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		rep, err := c.tryCredentialStatus(ctx, hash, info.ChainID)
		if rep != nil || err != nil {
			return rep, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no header proving the latest state appeared within %s; is the chain producing blocks?", wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tryCredentialStatus returns (nil, nil) when no header proves the answer yet.
func (c *Client) tryCredentialStatus(ctx context.Context, hash []byte, chainID string) (*types.Report, error) {
	p, err := c.QueryCredential(ctx, hash, 0)
	if err != nil {
		return nil, err
	}
	check := func(h int64) (*types.Report, error) {
		appHash, t, ok, err := c.appHashAt(ctx, h, chainID)
		if err != nil || !ok {
			return nil, err
		}
		res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, appHash)
		if err != nil {
			return nil, fmt.Errorf("answer for state %d does not verify against header %d: %w", p.Height, h, err)
		}
		rep := &types.Report{CredentialResult: res, ChainID: chainID, Height: p.Height, HeaderHeight: h, HeaderTime: t, AppHash: appHash}
		records := make([]*types.Issuer, 0, len(res.Entries))
		for _, id := range res.Issuers() {
			is, err := c.issuerAt(ctx, id, p.Height, appHash)
			if err != nil {
				return nil, err
			}
			records = append(records, is)
		}
		rep.SetIssuerRecords(records) // before the times: voids change which records count
		err = rep.SetCommitTimes(func(h int64) (time.Time, error) {
			_, t, ok, err := c.appHashAt(ctx, h, chainID)
			if err == nil && !ok {
				err = fmt.Errorf("node %s has no header %d", c.url, h)
			}
			return t, err
		})
		if err != nil {
			return nil, err
		}
		return rep, nil
	}
	rep, err := check(p.Height + 1)
	if rep != nil || err != nil {
		return rep, err
	}
	// header Height+1 is not out yet; header Height proves state Height-1,
	// which is the same state if block Height changed nothing
	rep, err = check(p.Height)
	var mismatch *types.RootMismatchError
	if errors.As(err, &mismatch) {
		return nil, nil
	}
	return rep, err
}

// issuerAt returns issuer id's record as of state height, checked against
// appHash (nil if the proof shows there is no such issuer).
func (c *Client) issuerAt(ctx context.Context, id string, height int64, appHash []byte) (*types.Issuer, error) {
	res, err := c.query(ctx, query.PathIssuer, []byte(id), height)
	if err != nil {
		return nil, err
	}
	p, err := query.DecodeIssuer(id, &res.Response)
	if err != nil {
		return nil, err
	}
	is, err := types.VerifyIssuer(id, p.Value, p.Proof, appHash)
	if err != nil {
		return nil, fmt.Errorf("issuer answer for state %d: %w", height, err)
	}
	return is, nil
}
