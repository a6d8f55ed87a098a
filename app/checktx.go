package app

import (
	"context"
	"crypto/sha256"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

const (
	// MaxSequenceLead is how far ahead of the sequence this node expects
	// an issuer's tx may be and still wait in the mempool (see CheckTx).
	// It covers a full mempool (CometBFT's default mempool.size is 5,000
	// txs) of one issuer's txs that a lagging node receives before the
	// blocks that commit their predecessors.
	MaxSequenceLead = 10_000
	// HeldTxBlocks is how many commits a tx may stay held ahead of its
	// sequence before the mempool drops it: its predecessors never came.
	HeldTxBlocks = 100
)

// CheckTx fully executes the tx on the CheckTx state: format, chain id,
// signature, signer authorisation and sequence (several pending txs of one
// issuer are accepted in sequence), and the message itself (a duplicate
// anchor is refused here already). Nothing reaches the committed state.
// After a Commit the mempool rechecks every pending tx in full, in order,
// on a fresh CheckTx state: a pending tx that depended on one the block
// made invalid (the same issuer's earlier tx) fails with it. A new tx that
// is rejected is counted in Metrics.RejectedTxs; a recheck is not.
//
// A correctly signed tx of an active issuer whose sequence is ahead of
// the one this node expects, by at most MaxSequenceLead, is held: accepted
// into the mempool without executing it, until the txs before it commit
// and a recheck executes it in full. Such a tx is what a node that is
// catching up receives from its peers (they gossip txs to a peer up to two
// blocks behind them); refusing it would lose it for good, since peers
// never send a tx twice, and a validator whose mempool stays empty waits
// the whole empty-block interval before it proposes or votes in the first
// round of a height — a 30 s stall whenever its vote is needed. Holding
// changes no replay protection: FinalizeBlock executes a tx only at
// exactly the next sequence, so each signed tx commits at most once and
// in order; PrepareProposal puts held txs into a block only after their
// predecessors, and a held tx whose predecessors do not commit within
// HeldTxBlocks commits is dropped, as is a tx that executed when it came
// and finds itself ahead on a recheck (its predecessor was dropped).
func (app *Application) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	if app.check == nil {
		if err := app.resetCheckState(); err != nil {
			return nil, err
		}
	}
	key := sha256.Sum256(req.Tx)
	bc := app.checkCtx
	var memo *recheckMemo
	if !app.noRecheckMemo {
		memo = app.memoFor(key, req.Type == abci.CheckTxType_Recheck)
		withMemo := *bc
		withMemo.memo = memo
		bc = &withMemo
	}
	res, body, err := execTx(app.check, bc, req.Tx)
	if err != nil {
		return nil, err
	}
	if memo != nil {
		app.keepMemo(key, memo, res.Code == uint32(types.CodeOK))
	}
	if res.Code == uint32(types.CodeSequenceGap) && body != nil {
		held, err := app.hold(key, body, req.Type == abci.CheckTxType_Recheck)
		if err != nil {
			return nil, err
		}
		if held != nil {
			return held, nil
		}
	} else if app.held != nil {
		delete(app.held, key)
	}
	if res.Code != uint32(types.CodeOK) && req.Type == abci.CheckTxType_New {
		app.metrics.observeRejection(res.Code)
	}
	return &abci.ResponseCheckTx{Code: res.Code, Codespace: res.Codespace, Log: res.Log}, nil
}

// hold returns the acceptance of the tx whose sha256 is key,
// authenticated but ahead of the issuer's sequence in the CheckTx state,
// if it may wait in the mempool; nil if it may not: too far ahead, held
// for HeldTxBlocks commits, or, on
// recheck, a tx that was not held before (it executed when it came, so
// the tx before it has since left the mempool without committing, and
// that sequence will be signed anew).
func (app *Application) hold(key [sha256.Size]byte, body *types.TxBody, recheck bool) (*abci.ResponseCheckTx, error) {
	next, err := getSequence(app.check, body.IssuerId)
	if err != nil {
		return nil, err
	}
	if body.Sequence-next > MaxSequenceLead {
		return nil, nil
	}
	since, ok := app.held[key]
	if !ok {
		if recheck {
			return nil, nil
		}
		if app.held == nil {
			app.held = make(map[[sha256.Size]byte]int64)
		}
		since = app.store.Height()
		app.held[key] = since
	}
	if app.store.Height()-since >= HeldTxBlocks {
		delete(app.held, key)
		return nil, nil
	}
	return &abci.ResponseCheckTx{Log: fmt.Sprintf(
		"held: sequence %d of issuer %q is ahead of this node's state (next is %d); it waits in the mempool until the txs before it commit",
		body.Sequence, body.IssuerId, next)}, nil
}

// forgetStaleHeld drops the held-tx records older than HeldTxBlocks, of
// txs that left the mempool without a recheck (committed or evicted).
func (app *Application) forgetStaleHeld() {
	for key, since := range app.held {
		if app.store.Height()-since > HeldTxBlocks {
			delete(app.held, key)
		}
	}
}
