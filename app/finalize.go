package app

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
)

// FinalizeBlock executes the decided block (reusing the ProcessProposal
// execution of the same block when there is one), applies its writes to the
// tree in sorted key order and returns the new app hash. A failing tx gets
// its code and log and writes nothing.
func (app *Application) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	exec, err := app.cachedExecution(req.Height, req.Time, req.Txs)
	if err != nil {
		return nil, fmt.Errorf("execute block %d: %w", req.Height, err)
	}
	hash, err := app.store.Apply(exec.state.kvs())
	if err != nil {
		return nil, fmt.Errorf("apply block %d: %w", req.Height, err)
	}
	app.pending = exec
	app.lastExec = nil
	for _, v := range exec.validators {
		app.logger.Info("validator update", "height", req.Height, "pubkey", fmt.Sprintf("%X", v.PubKey.GetEd25519()), "power", v.Power)
	}
	return &abci.ResponseFinalizeBlock{TxResults: exec.results, AppHash: hash, Events: exec.events, ValidatorUpdates: exec.validators}, nil
}

// Commit saves the state of the finalized block as IAVL version = height,
// resets the CheckTx state (the mempool then rechecks its txs on it) and
// then updates the metrics from the committed block and state.
func (app *Application) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	hash, version, err := app.store.Commit()
	if err != nil {
		return nil, err
	}
	n := 0
	app.lastBlockWrites = nil
	if app.pending != nil {
		n = len(app.pending.results)
		app.metrics.observeBlock(app.pending.results)
		app.lastBlockWrites = app.pending.state.writes
	}
	app.pending = nil
	app.lastExec = nil
	app.forgetStaleHeld()
	app.commits++
	app.forgetStaleMemos()
	if err := app.resetCheckState(); err != nil {
		return nil, err
	}
	app.logger.Info("committed state", "height", version, "txs", n, "app_hash", fmt.Sprintf("%X", hash))
	app.observeState()
	app.snapshotAfterCommit(version)
	return &abci.ResponseCommit{}, nil
}

// observeState sets the metrics' gauges from the committed state. A read
// error is logged, not returned: metrics never stop the node.
func (app *Application) observeState() {
	if err := app.metrics.observeState(app.store); err != nil {
		app.logger.Error("update metrics from state", "height", app.store.Height(), "err", err)
	}
}
