package app

import (
	"context"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/credledger/credledger/types"
)

// Query paths.
const (
	// PathCredential takes a 32-byte hash and returns a types.CredentialAnswer
	// with two ProofOps: the anchor key's proof, then the status key's.
	PathCredential = "/credential"
	// PathIssuer takes an issuer id and returns the encoded types.Issuer
	// (empty if unknown) with one ProofOp for its key.
	PathIssuer = "/issuer"
	// PathIssuers returns a types.IssuerList of every issuer (no proof).
	PathIssuers = "/issuers"
	// PathSequence takes an issuer id and returns its next sequence number
	// (8 bytes big-endian, no proof).
	PathSequence = "/sequence"
	// PathParams returns the encoded types.Params (no proof).
	PathParams = "/params"
	// PathProposal takes a proposal id (8 bytes big-endian) and returns the
	// encoded types.Proposal (empty if unknown) with one ProofOp.
	PathProposal = "/proposal"
	// PathProposals returns a types.ProposalList of every proposal (no proof).
	PathProposals = "/proposals"
)

// Query answers the paths above at req.Height (0: latest committed). The
// response height H is the state version: its proofs verify against the
// app hash in header H+1.
func (app *Application) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	resp, err := app.query(req)
	if err != nil {
		var te *types.TxError
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
	case PathCredential:
		return app.queryCredential(req)
	case PathIssuer:
		return app.queryIssuer(req)
	case PathIssuers:
		return app.queryIssuers(req)
	case PathSequence:
		return app.querySequence(req)
	case PathParams:
		return app.queryParams(req)
	case PathProposal:
		return app.queryProposal(req)
	case PathProposals:
		return app.queryProposals(req)
	}
	return nil, types.Errorf(types.CodeUnknownQuery, "unknown query path %q (known: %s %s %s %s %s %s %s)", req.Path,
		PathCredential, PathIssuer, PathIssuers, PathSequence, PathParams, PathProposal, PathProposals)
}

func (app *Application) queryCredential(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if len(req.Data) != types.HashSize {
		return nil, types.Errorf(types.CodeBadQuery, "credential query data is %d bytes, want a %d-byte hash", len(req.Data), types.HashSize)
	}
	hash := req.Data
	anchorKey, statusKey := types.AnchorKey(hash), types.StatusKey(hash)
	anchor, anchorProof, h, err := app.store.Prove(req.Height, anchorKey)
	if err != nil {
		return nil, err
	}
	status, statusProof, _, err := app.store.Prove(h, statusKey)
	if err != nil {
		return nil, err
	}
	ans := &types.CredentialAnswer{Hash: hash, Anchor: anchor, Status: status}
	bz, err := ans.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode credential answer: %w", err)
	}
	return &abci.ResponseQuery{
		Key: hash, Value: bz, Height: h,
		ProofOps: &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{
			{Type: types.ProofOpType, Key: anchorKey, Data: anchorProof},
			{Type: types.ProofOpType, Key: statusKey, Data: statusProof},
		}},
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
	var decodeErr error
	h, err := app.store.IteratePrefix(req.Height, []byte{types.PrefixIssuer}, func(_, v []byte) bool {
		var is types.Issuer
		if decodeErr = is.Unmarshal(v); decodeErr != nil {
			return true
		}
		list.Issuers = append(list.Issuers, &is)
		return false
	})
	if err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("decode issuer: %w", decodeErr)
	}
	bz, err := list.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode issuer list: %w", err)
	}
	return &abci.ResponseQuery{Value: bz, Height: h}, nil
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
	id, err := types.DecodeSequence(req.Data)
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
	var decodeErr error
	h, err := app.store.IteratePrefix(req.Height, []byte{types.PrefixProposal}, func(_, v []byte) bool {
		var p types.Proposal
		if decodeErr = p.Unmarshal(v); decodeErr != nil {
			return true
		}
		list.Proposals = append(list.Proposals, &p)
		return false
	})
	if err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("decode proposal: %w", decodeErr)
	}
	bz, err := list.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode proposal list: %w", err)
	}
	return &abci.ResponseQuery{Value: bz, Height: h}, nil
}
