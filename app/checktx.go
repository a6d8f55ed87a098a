package app

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// CheckTx fully executes the tx on the CheckTx state: format, chain id,
// signature, signer authorisation and sequence (several pending txs of one
// issuer are accepted in sequence), and the message itself (a duplicate
// anchor is refused here already). Nothing reaches the committed state.
// A recheck after a block skips the state reads for the hashes that block
// did not write (blockContext.unaffected).
func (app *Application) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	if app.check == nil {
		if err := app.resetCheckState(); err != nil {
			return nil, err
		}
	}
	bc := app.checkCtx
	if req.Type == abci.CheckTxType_Recheck {
		bc = app.recheckCtx
	}
	res, err := execTx(app.check, bc, req.Tx)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseCheckTx{Code: res.Code, Codespace: res.Codespace, Log: res.Log}, nil
}
