package app

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// CheckTx fully executes the tx on the CheckTx state: format, chain id,
// signature, signer authorisation and sequence (several pending txs of one
// issuer are accepted in sequence), and the message itself (a duplicate
// anchor is refused here already). Nothing reaches the committed state.
// After a Commit the mempool rechecks every pending tx in full, in order,
// on a fresh CheckTx state: a pending tx that depended on one the block
// made invalid (the same issuer's earlier tx) fails with it.
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
	return &abci.ResponseCheckTx{Code: res.Code, Codespace: res.Codespace, Log: res.Log}, nil
}
