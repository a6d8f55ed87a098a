package app

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/types"
)

// blockExecution is the result of executing a block's txs on an overlay of
// the last committed state. It is keyed by a digest of everything the
// execution depends on, so it can be reused for the same block.
type blockExecution struct {
	key     [sha256.Size]byte
	state   *overlay
	results []*abci.ExecTxResult
	// events are block-level events (proposal expiries)
	events []abci.Event
	// validators are the validator updates the block causes
	validators []abci.ValidatorUpdate
}

// executionKey digests the inputs of a block's execution: the base version,
// the height, the block time and the txs.
func executionKey(base, height int64, t time.Time, txs [][]byte) [sha256.Size]byte {
	h := sha256.New()
	var buf [8]byte
	for _, v := range []int64{base, height, t.UnixNano(), int64(len(txs))} {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	for _, tx := range txs {
		binary.BigEndian.PutUint64(buf[:], uint64(len(tx)))
		h.Write(buf[:])
		h.Write(tx)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// proposalLimits are the rules of building a proposal (as opposed to
// executing a block as proposed): failing txs are left out, and so is any
// tx that would take the kept txs past maxTxBytes.
type proposalLimits struct {
	// maxTxBytes bounds the kept txs, counted with their protobuf framing
	// as CometBFT's Txs.Validate counts them (CometBFT panics on a
	// proposal over the limit).
	maxTxBytes int64
}

// executeBlock runs txs in order on a fresh overlay of the committed state.
// With build nil it executes a block as proposed and keeps every tx; with
// build set it builds a proposal under those limits. The returned txs are
// the ones kept.
//
// Building, a tx that fails only because its sequence is ahead (a tx held
// by CheckTx, or one the mempool got before its predecessor) waits: it is
// tried again right after a kept tx of the same issuer with the sequence
// before it, so a block never carries a tx its predecessor does not
// precede, and the mempool keeps the held ones for a later block.
func (app *Application) executeBlock(height int64, t time.Time, txs [][]byte, build *proposalLimits) (*blockExecution, [][]byte, error) {
	dropFailed := build != nil
	var size int64
	st := newOverlay(app.store)
	bc, err := newBlockContext(st, height, t.UnixNano())
	if err != nil {
		return nil, nil, err
	}
	events, err := expireProposals(st, bc)
	if err != nil {
		return nil, nil, err
	}
	kept := txs[:0:0]
	results := make([]*abci.ExecTxResult, 0, len(txs))
	// waiting holds, by issuer and sequence, the txs that were ahead
	waiting := map[string]map[uint64][][]byte{}
	for i := 0; i < len(txs); i++ {
		queue := txs[i : i+1]
		for len(queue) > 0 {
			tx := queue[0]
			queue = queue[1:]
			var txSize int64
			if dropFailed {
				txSize = cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{tx})
				if size+txSize > build.maxTxBytes {
					continue
				}
			}
			res, body, err := execTx(st, bc, tx)
			if err != nil {
				return nil, nil, err
			}
			if dropFailed && res.Code != 0 {
				if res.Code == uint32(types.CodeSequenceGap) && body != nil {
					bySeq := waiting[body.IssuerId]
					if bySeq == nil {
						bySeq = map[uint64][][]byte{}
						waiting[body.IssuerId] = bySeq
					}
					bySeq[body.Sequence] = append(bySeq[body.Sequence], tx)
					continue
				}
				app.logger.Debug("dropping failing tx from proposal", "height", height, "code", res.Code, "log", res.Log)
				continue
			}
			size += txSize
			kept = append(kept, tx)
			results = append(results, res)
			if dropFailed && body != nil {
				if next := waiting[body.IssuerId][body.Sequence+1]; len(next) > 0 {
					delete(waiting[body.IssuerId], body.Sequence+1)
					queue = append(slices.Clip(next), queue...)
				}
			}
		}
	}
	vals, err := validatorUpdates(app.store, st)
	if err != nil {
		return nil, nil, err
	}
	exec := &blockExecution{key: executionKey(app.store.Height(), height, t, kept), state: st, results: results, events: events, validators: vals}
	return exec, kept, nil
}

// cachedExecution returns the execution of exactly these inputs, running it
// only if the last proposal's execution does not match.
func (app *Application) cachedExecution(height int64, t time.Time, txs [][]byte) (*blockExecution, error) {
	key := executionKey(app.store.Height(), height, t, txs)
	if app.lastExec != nil && app.lastExec.key == key {
		return app.lastExec, nil
	}
	exec, _, err := app.executeBlock(height, t, txs, nil)
	if err != nil {
		return nil, err
	}
	app.lastExec = exec
	return exec, nil
}
