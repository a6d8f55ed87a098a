package app

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// PrepareProposal keeps, within MaxTxBytes and the node's credential and
// build-time limits, only the txs that execute successfully on top of
// each other, so that every tx in a block is valid (a failing tx takes no
// room); issuers take turns, each one's txs in mempool order (see
// buildBlock).
func (app *Application) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	lim := &proposalLimits{maxTxBytes: req.MaxTxBytes, maxCredentials: app.maxBlockCredentials, now: app.now}
	// a lone validator (one vote in the last commit) waits for no one's
	// proposal but its own: its blocks are as big as its backlog
	if alone := len(req.LocalLastCommit.Votes) == 1; app.maxBuildTime > 0 && !alone {
		lim.deadline = app.now().Add(app.maxBuildTime)
	}
	exec, kept, err := app.executeBlock(req.Height, req.Time, req.Txs, lim)
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
	app.mu.Lock()
	defer app.mu.Unlock()
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
