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
// tx that would take the kept txs past maxTxBytes or maxCredentials.
type proposalLimits struct {
	// maxTxBytes bounds the kept txs, counted with their protobuf framing
	// as CometBFT's Txs.Validate counts them (CometBFT panics on a
	// proposal over the limit).
	maxTxBytes int64
	// maxCredentials bounds the credential hashes of the kept txs (a
	// governance tx counts 1), so that a block's execution time stays
	// bounded however much one issuer queued (0: no bound). A first tx
	// over it is kept alone.
	maxCredentials int
	// deadline ends the building: no tx is executed for the proposal after
	// it once one is kept (zero: none; see WithMaxBuildTime); now reads
	// the clock
	deadline time.Time
	now      func() time.Time
}

// overDeadline reports whether the building must end before the next tx.
func (lim *proposalLimits) overDeadline(kept int) bool {
	return kept > 0 && !lim.deadline.IsZero() && lim.now().After(lim.deadline)
}

// executeBlock runs txs on a fresh overlay of the committed state. With
// build nil it executes a block as proposed, in order, and keeps every
// tx; with build set it builds a proposal under those limits (see
// buildBlock). The returned txs are the ones kept, in execution order.
func (app *Application) executeBlock(height int64, t time.Time, txs [][]byte, build *proposalLimits) (*blockExecution, [][]byte, error) {
	st := newOverlay(app.store)
	bc, err := newBlockContext(st, height, t.UnixNano())
	if err != nil {
		return nil, nil, err
	}
	events, err := expireProposals(st, bc)
	if err != nil {
		return nil, nil, err
	}
	var kept [][]byte
	var results []*abci.ExecTxResult
	if build != nil {
		kept, results, err = app.buildBlock(st, bc, txs, build)
		if err != nil {
			return nil, nil, err
		}
	} else {
		kept, results = txs, make([]*abci.ExecTxResult, 0, len(txs))
		for _, tx := range txs {
			res, _, err := execTx(st, bc, tx)
			if err != nil {
				return nil, nil, err
			}
			results = append(results, res)
		}
	}
	vals, err := validatorUpdates(app.store, st)
	if err != nil {
		return nil, nil, err
	}
	exec := &blockExecution{key: executionKey(app.store.Height(), height, t, kept), state: st, results: results, events: events, validators: vals}
	return exec, kept, nil
}

// laneTx is a tx offered for a proposal with the credentials it carries
// (a governance tx or an undecodable one counts 1).
type laneTx struct {
	tx          []byte
	credentials int
}

// issuerLane is the txs of one issuer offered for a proposal, in mempool
// order.
type issuerLane struct {
	txs []laneTx
}

// buildBlock chooses and executes the txs of a proposal from the mempool's
// txs. Issuers take turns, one tx each per turn in the order each first
// appears in the mempool, each issuer's txs in mempool order: an issuer
// that queued many txs (a bulk anchoring run) does not push another's
// single tx out of the block or behind it. A tx that fails is left out; a
// tx over the byte limit is skipped; one over the credential limit ends
// its issuer's turns (its later txs follow it in sequence).
//
// A tx that fails only because its sequence is ahead (a tx held by
// CheckTx, or one the mempool got before its predecessor) waits: it goes
// back to its issuer's turn right after a kept tx with the sequence before
// it, so a block never carries a tx its predecessor does not precede, and
// the mempool keeps the held ones for a later block.
func (app *Application) buildBlock(st *overlay, bc *blockContext, txs [][]byte, lim *proposalLimits) (kept [][]byte, results []*abci.ExecTxResult, err error) {
	var lanes []*issuerLane
	byIssuer := map[string]*issuerLane{}
	for _, tx := range txs {
		id, n := "", 1 // undecodable txs share a lane; they fail and are left out
		if d, err := types.DecodeTx(tx); err == nil {
			id, n = "i/"+d.Body.IssuerId, max(len(d.Body.Hashes()), 1)
		}
		l := byIssuer[id]
		if l == nil {
			l = &issuerLane{}
			byIssuer[id] = l
			lanes = append(lanes, l)
		}
		l.txs = append(l.txs, laneTx{tx: tx, credentials: n})
	}
	var size int64
	credentials := 0
	kept, results = txs[:0:0], make([]*abci.ExecTxResult, 0, len(txs))
	// waiting holds, by issuer and sequence, the txs that were ahead
	waiting := map[string]map[uint64][]laneTx{}
	for more := true; more; {
		more = false
		for _, l := range lanes {
			if len(l.txs) == 0 {
				continue
			}
			if lim.overDeadline(len(kept)) {
				return kept, results, nil
			}
			more = true
			e := l.txs[0]
			l.txs = l.txs[1:]
			if lim.maxCredentials > 0 && credentials > 0 && credentials+e.credentials > lim.maxCredentials {
				l.txs = nil
				continue
			}
			txSize := cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{e.tx})
			if size+txSize > lim.maxTxBytes {
				continue
			}
			res, body, err := execTx(st, bc, e.tx)
			if err != nil {
				return nil, nil, err
			}
			if res.Code != 0 {
				if res.Code == uint32(types.CodeSequenceGap) && body != nil {
					bySeq := waiting[body.IssuerId]
					if bySeq == nil {
						bySeq = map[uint64][]laneTx{}
						waiting[body.IssuerId] = bySeq
					}
					bySeq[body.Sequence] = append(bySeq[body.Sequence], e)
					continue
				}
				app.logger.Debug("dropping failing tx from proposal", "height", bc.height, "code", res.Code, "log", res.Log)
				continue
			}
			size += txSize
			credentials += e.credentials
			kept = append(kept, e.tx)
			results = append(results, res)
			if next := waiting[body.IssuerId][body.Sequence+1]; len(next) > 0 {
				delete(waiting[body.IssuerId], body.Sequence+1)
				l.txs = append(slices.Clip(next), l.txs...)
			}
		}
	}
	return kept, results, nil
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
