package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// Query answers the paths of package types/query at req.Height (0: latest committed). The
// response height H is the state version: its proofs verify against the
// app hash in header H+1.
func (app *Application) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	resp, err := app.query(req)
	if err != nil {
		var te *types.CodeError
		switch {
		case errors.As(err, &te):
		case errors.Is(err, ErrVersionUnavailable):
			te = types.Errorf(types.CodeHeightUnavailable, "%s", err.Error())
		default:
			app.logger.Error("query failed", "path", req.Path, "err", err)
			te = types.Errorf(types.CodeInternal, "query %s failed: %s", req.Path, err.Error())
		}
		return &abci.ResponseQuery{Code: uint32(te.Code), Codespace: types.Codespace, Log: te.Error(), Height: req.Height}, nil
	}
	return resp, nil
}

func (app *Application) query(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if req.Height < 0 {
		return nil, types.Errorf(types.CodeBadQuery, "height %d is negative", req.Height)
	}
	switch req.Path {
	case query.PathCredential:
		return app.queryCredential(req)
	case query.PathIssuer:
		return app.queryIssuer(req)
	case query.PathIssuers:
		return app.queryIssuers(req)
	case query.PathSequence:
		return app.querySequence(req)
	case query.PathParams:
		return app.queryParams(req)
	case query.PathProposal:
		return app.queryProposal(req)
	case query.PathProposals:
		return app.queryProposals(req)
	case query.PathAnchoredBy:
		return app.queryAnchoredBy(req)
	case query.PathPendingSequence:
		return app.queryPendingSequence(req)
	}
	return nil, types.Errorf(types.CodeUnknownQuery, "unknown query path %q (known: %s)", req.Path, strings.Join(query.Paths, " "))
}

func (app *Application) queryCredential(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if len(req.Data) != types.HashSize {
		return nil, types.Errorf(types.CodeBadQuery, "credential query data is %d bytes, want a %d-byte hash", len(req.Data), types.HashSize)
	}
	hash := req.Data
	key := types.CredentialKey(hash)
	record, proof, h, err := app.store.Prove(req.Height, key)
	if err != nil {
		return nil, err
	}
	ans := &types.CredentialAnswer{Hash: hash, Record: record}
	bz, err := ans.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode credential answer: %w", err)
	}
	return &abci.ResponseQuery{
		Key: hash, Value: bz, Height: h,
		ProofOps: &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: types.ProofOpType, Key: key, Data: proof}}},
	}, nil
}

func (app *Application) queryIssuer(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	id := string(req.Data)
	if err := types.ValidateIssuerID(id); err != nil {
		return nil, types.Errorf(types.CodeBadQuery, "%s", err.Error())
	}
	key := types.IssuerKey(id)
	value, proof, h, err := app.store.Prove(req.Height, key)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{
		Key: []byte(id), Value: value, Height: h,
		ProofOps: &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: types.ProofOpType, Key: key, Data: proof}}},
	}, nil
}

func (app *Application) queryIssuers(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	var list types.IssuerList
	h, next, err := listPage(app.store, req, types.PrefixIssuer, "issuer", func(v []byte) error {
		var is types.Issuer
		if err := is.Unmarshal(v); err != nil {
			return err
		}
		list.Issuers = append(list.Issuers, &is)
		return nil
	})
	if err != nil {
		return nil, err
	}
	list.Next = next
	return marshalList(&list, "issuer list", h)
}

func (app *Application) querySequence(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	id := string(req.Data)
	if err := types.ValidateIssuerID(id); err != nil {
		return nil, types.Errorf(types.CodeBadQuery, "%s", err.Error())
	}
	value, h, err := app.store.GetAt(req.Height, types.SequenceKey(id))
	if err != nil {
		return nil, err
	}
	seq, err := types.DecodeSequence(value)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Key: []byte(id), Value: types.EncodeSequence(seq), Height: h}, nil
}

func (app *Application) queryParams(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	value, h, err := app.store.GetAt(req.Height, types.ParamsKey())
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Value: value, Height: h}, nil
}

func (app *Application) queryProposal(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	id, err := types.DecodeProposalID(req.Data)
	if err != nil || len(req.Data) != 8 {
		return nil, types.Errorf(types.CodeBadQuery, "proposal query data must be an 8-byte big-endian id")
	}
	key := types.ProposalKey(id)
	value, proof, h, err := app.store.Prove(req.Height, key)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{
		Key: req.Data, Value: value, Height: h,
		ProofOps: &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: types.ProofOpType, Key: key, Data: proof}}},
	}, nil
}

func (app *Application) queryProposals(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	var list types.ProposalList
	h, next, err := listPage(app.store, req, types.PrefixProposal, "proposal", func(v []byte) error {
		var p types.Proposal
		if err := p.Unmarshal(v); err != nil {
			return err
		}
		list.Proposals = append(list.Proposals, &p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	list.Next = next
	return marshalList(&list, "proposal list", h)
}

// listPage calls add with the values of one page of the keys under prefix
// at req.Height (0: latest), in key order: the page req.Data asks for (a
// types.PageRequest; empty: the first page of query.DefaultPageSize). It
// returns the height read and the id after which the next page starts
// (nil on the last page). A value add cannot decode is an error naming
// what. The work is bounded by the page, not by the list's length.
func listPage(store *Store, req *abci.RequestQuery, prefix byte, what string, add func(v []byte) error) (int64, []byte, error) {
	var page types.PageRequest
	if err := page.Unmarshal(req.Data); err != nil {
		return 0, nil, types.Errorf(types.CodeBadQuery, "%s list query data is not a page request: %s", what, err.Error())
	}
	limit := int(page.Limit)
	switch {
	case limit == 0:
		limit = query.DefaultPageSize
	case limit > query.MaxPageSize:
		return 0, nil, types.Errorf(types.CodeBadQuery, "page limit %d is above the most, %d", limit, query.MaxPageSize)
	}
	start := []byte{prefix}
	if len(page.After) > 0 {
		// the smallest key above prefix|after
		start = append(append(start, page.After...), 0)
	}
	var addErr error
	var lastID, next []byte
	n := 0
	h, err := store.IterateRange(req.Height, start, prefixEnd([]byte{prefix}), func(k, v []byte) bool {
		if n == limit {
			next = lastID
			return true
		}
		if addErr = add(v); addErr != nil {
			return true
		}
		lastID = bytes.Clone(k[1:])
		n++
		return false
	})
	if err != nil {
		return 0, nil, err
	}
	if addErr != nil {
		return 0, nil, fmt.Errorf("decode %s: %w", what, addErr)
	}
	return h, next, nil
}

// marshalList encodes a list answer for height h.
func marshalList(list interface{ Marshal() ([]byte, error) }, what string, h int64) (*abci.ResponseQuery, error) {
	bz, err := list.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return &abci.ResponseQuery{Value: bz, Height: h}, nil
}

func (app *Application) queryAnchoredBy(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	issuer, hashes, err := query.DecodeAnchoredByRequest(req.Data)
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(hashes))
	for i, h := range hashes {
		keys[i] = types.CredentialKey(h)
	}
	out := make([]byte, len(hashes))
	h, err := app.store.GetManyAt(req.Height, keys, func(i int, value []byte) error {
		if value == nil {
			return nil
		}
		entries, err := types.DecodeCredentialRecord(value)
		if err != nil {
			return fmt.Errorf("credential record of %X: %w", hashes[i], err)
		}
		for _, e := range entries {
			if e.IssuerId == issuer && e.Anchor != nil {
				out[i] = 1
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Key: []byte(issuer), Value: out, Height: h}, nil
}

// queryPendingSequence reads the CheckTx state, so it waits for the block
// being executed (app.mu); it is for an issuer resuming a run, not for
// verifiers.
func (app *Application) queryPendingSequence(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	id := string(req.Data)
	if err := types.ValidateIssuerID(id); err != nil {
		return nil, types.Errorf(types.CodeBadQuery, "%s", err.Error())
	}
	if req.Height != 0 {
		return nil, types.Errorf(types.CodeBadQuery, "pending_sequence is about the mempool now: height must be 0, not %d", req.Height)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	var r reader = app.store
	if app.check != nil {
		r = app.check
	}
	seq, err := getSequence(r, id)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Key: []byte(id), Value: types.EncodeSequence(seq), Height: app.store.Height()}, nil
}
