package app

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/credledger/credledger/types"
)

// A recheck re-executes every pending tx after each commit, in mempool
// order, on a fresh CheckTx state. Under a bulk run the mempool holds
// hundreds of thousands of pending credentials, and re-reading each one's
// record from the state tree after every block took 39% of a validator's
// CPU (4 validators on one 2-core machine, a 600,000-hash backlog). Most
// of that work repeats the previous check exactly, so a recheck reuses it
// where it provably would give the same result.
//
// The step a tx takes for one hash (an anchor or a status change) is a
// function of the hash's record as the tx reads it, the signer's issuer
// record and the message. Each successful check keeps, per hash, what the
// tx read (the committed record, or a value staged by an earlier pending
// tx) and what it staged (a checkMemo). A recheck reuses a step, staging
// the kept value without reading the tree, when the input is the same:
//   - the signer's issuer record was not written by the committed block
//     and is not staged by a pending tx (a void, removal or key change
//     redoes every step of that issuer's txs);
//   - a step that read the committed record: the block did not write the
//     record and no earlier pending tx staged one;
//   - a step that read a staged value: the same value is staged now (an
//     earlier pending tx that failed or left the mempool unrechecked
//     staged nothing, so the step is redone).
//
// Anything else is executed in full. The tx's signature, sequence and
// issuer status are always checked in full. A reused value gets this
// check's height in the entry the step made (a CheckTx state stamps the
// height after the latest block), so it is byte for byte what a full
// recheck stages.

// hashStep is what a checked tx did for one hash. Its record key is the
// hash's: a memo belongs to one tx (by its sha256) and keeps a step for
// each of its hashes, in order, so step i is about hash i.
type hashStep struct {
	// fromCommitted: the tx read the committed record (no pending tx had
	// staged one); else it read the staged value seen
	fromCommitted bool
	seen          []byte
	// staged is the record value the tx staged
	staged []byte
}

// checkMemo is what a tx's last successful check did for its hashes, in
// order.
type checkMemo struct {
	steps []hashStep
	// pass is the commit count when the check ran (see forgetStaleMemos)
	pass uint64
}

// recheckMemo is the reuse context of one CheckTx call: the memo of its
// last check (nil: none, or not a recheck) and the one being recorded.
type recheckMemo struct {
	prev *checkMemo
	// blockWrites are the writes of the block committed last (nil:
	// unknown, so nothing is reused)
	blockWrites map[string][]byte
	next        checkMemo
	// recheck: the call is a recheck; reused and redone count its steps
	// taken from prev and executed in full
	recheck        bool
	reused, redone int
}

// issuerUnchanged reports whether the signer's issuer record (key) is the
// one prev's check read: neither the last block nor a pending tx wrote it.
func (m *recheckMemo) issuerUnchanged(st *overlay, key []byte) bool {
	if m == nil || m.prev == nil || m.blockWrites == nil {
		return false
	}
	if _, written := m.blockWrites[string(key)]; written {
		return false
	}
	_, staged := st.staged(key)
	return !staged
}

// reuse returns the value step i of prev staged for key if the step's
// input is unchanged (see the comment above), restamped with restamp (the
// check's height in the entry the step made), and records it.
func (m *recheckMemo) reuse(st *overlay, i int, key []byte, restamp func(*types.CredentialRecord)) ([]byte, bool, error) {
	v, ok := m.unchanged(st, i, key)
	if !ok {
		return nil, false, nil
	}
	var rec types.CredentialRecord
	if err := rec.Unmarshal(v); err != nil {
		return nil, false, fmt.Errorf("decode kept credential record %X: %w", key, err)
	}
	restamp(&rec)
	bz, err := rec.Marshal()
	if err != nil {
		return nil, false, fmt.Errorf("encode credential record %X: %w", key, err)
	}
	step := m.prev.steps[i]
	step.staged = bz
	m.next.steps = append(m.next.steps, step)
	m.reused++
	return bz, true, nil
}

// unchanged returns what step i of prev staged if its input is unchanged.
func (m *recheckMemo) unchanged(st *overlay, i int, key []byte) ([]byte, bool) {
	if m == nil || m.prev == nil || m.blockWrites == nil || i >= len(m.prev.steps) {
		return nil, false
	}
	p := m.prev.steps[i]
	cur, staged := st.staged(key)
	if p.fromCommitted {
		if _, written := m.blockWrites[string(key)]; written || staged {
			return nil, false
		}
	} else if !staged || !bytes.Equal(cur, p.seen) {
		return nil, false
	}
	return p.staged, true
}

// seen returns what a step about to read key sees: the staged value, or
// that it reads the committed record.
func (m *recheckMemo) seen(st *overlay, key []byte) (value []byte, fromCommitted bool) {
	if m == nil {
		return nil, false
	}
	v, staged := st.staged(key)
	return v, !staged
}

// record keeps a step executed in full.
func (m *recheckMemo) record(fromCommitted bool, seen, staged []byte) {
	if m == nil {
		return
	}
	m.next.steps = append(m.next.steps, hashStep{fromCommitted: fromCommitted, seen: seen, staged: staged})
	if m.recheck {
		m.redone++
	}
}

// staged returns the value a pending tx (or the running one) staged for
// key in o or the overlays under it, down to the committed state.
func (o *overlay) staged(key []byte) ([]byte, bool) {
	for cur := o; cur != nil; {
		if v, ok := cur.writes[string(key)]; ok {
			return v, true
		}
		next, ok := cur.base.(*overlay)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return nil, false
}

// memoFor returns the reuse context of a CheckTx of the tx whose sha256
// is key.
func (app *Application) memoFor(key [sha256.Size]byte, recheck bool) *recheckMemo {
	m := &recheckMemo{next: checkMemo{pass: app.commits}, recheck: recheck}
	if recheck && app.lastBlockWrites != nil {
		m.prev, m.blockWrites = app.memos[key], app.lastBlockWrites
	}
	return m
}

// keepMemo keeps m for the tx with key after a check that succeeded (ok)
// and drops it otherwise.
func (app *Application) keepMemo(key [sha256.Size]byte, m *recheckMemo, ok bool) {
	app.recheckReused += m.reused
	app.recheckRedone += m.redone
	if !ok || len(m.next.steps) == 0 {
		delete(app.memos, key)
		return
	}
	if app.memos == nil {
		app.memos = make(map[[sha256.Size]byte]*checkMemo)
	}
	app.memos[key] = &m.next
}

// forgetStaleMemos drops the memos of txs that were not checked since the
// commit before the last one: they left the mempool (committed, or
// dropped without a recheck).
func (app *Application) forgetStaleMemos() {
	for key, m := range app.memos {
		if m.pass+1 < app.commits {
			delete(app.memos, key)
		}
	}
}
