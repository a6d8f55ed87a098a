package app

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// PrepareProposal keeps, in mempool order and within MaxTxBytes, only the
// txs that execute successfully on top of each other, so that every tx in a
// block is valid.
func (app *Application) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	txs := make([][]byte, 0, len(req.Txs))
	var total int64
	for _, tx := range req.Txs {
		if total+int64(len(tx)) > req.MaxTxBytes {
			break
		}
		total += int64(len(tx))
		txs = append(txs, tx)
	}
	exec, kept, err := app.executeBlock(req.Height, req.Time, txs, true)
	if err != nil {
		return nil, err
	}
	app.lastExec = exec
	return &abci.ResponsePrepareProposal{Txs: kept}, nil
}

// ProcessProposal executes the proposed block and rejects it if any tx in it
// fails: malformed bytes, a bad signature, a wrong chain id or sequence, an
// unauthorised signer or a message the state does not allow. The execution
// is kept for FinalizeBlock.
func (app *Application) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	exec, err := app.cachedExecution(req.Height, req.Time, req.Txs)
	if err != nil {
		return nil, err
	}
	for i, res := range exec.results {
		if res.Code != 0 {
			app.logger.Info("rejecting proposal with an invalid tx", "height", req.Height, "tx_index", i, "code", res.Code, "log", res.Log)
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}
