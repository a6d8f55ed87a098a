package app

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

// CheckTx fully executes the tx on the CheckTx state: format, chain id,
// signature, signer authorisation and sequence (several pending txs of one
// issuer are accepted in sequence), and the message itself (a duplicate
// anchor is refused here already). Nothing reaches the committed state.
// After a Commit the mempool rechecks every pending tx in full, in order,
// on a fresh CheckTx state: a pending tx that depended on one the block
// made invalid (the same issuer's earlier tx) fails with it. A new tx that
// is rejected is counted in Metrics.RejectedTxs; a recheck is not.
func (app *Application) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	if app.check == nil {
		if err := app.resetCheckState(); err != nil {
			return nil, err
		}
	}
	res, err := execTx(app.check, app.checkCtx, req.Tx)
	if err != nil {
		return nil, err
	}
	if res.Code != uint32(types.CodeOK) && req.Type == abci.CheckTxType_New {
		app.metrics.observeRejection(res.Code)
	}
	return &abci.ResponseCheckTx{Code: res.Code, Codespace: res.Codespace, Log: res.Log}, nil
}
