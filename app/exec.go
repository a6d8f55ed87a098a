package app

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

// blockContext is what every tx of one block executes against.
type blockContext struct {
	height    int64
	timeNanos int64 // block time (BFT time), never the wall clock
	chainID   string
	params    types.Params
	// noEvents skips building events (CheckTx drops them anyway, and a
	// 10,000-hash tx has 10,000 attributes)
	noEvents bool
	// memo, in CheckTx only, records the tx's steps per hash and, on a
	// recheck, reuses the last check's where their input is unchanged
	// (recheck.go)
	memo *recheckMemo
}

func newBlockContext(r reader, height, timeNanos int64) (*blockContext, error) {
	chainID, err := getChainID(r)
	if err != nil {
		return nil, err
	}
	params, err := getParams(r)
	if err != nil {
		return nil, err
	}
	return &blockContext{height: height, timeNanos: timeNanos, chainID: chainID, params: params}, nil
}

// execTx executes one tx against st. A rejected tx yields a result with a
// non-zero code and leaves st untouched; the error return is reserved for
// storage failures, which must halt the node. body is the tx's body
// whenever it decoded, also when the tx was rejected (nil otherwise).
func execTx(st *overlay, bc *blockContext, txBytes []byte) (res *abci.ExecTxResult, body *types.TxBody, err error) {
	txSt := newOverlay(st)
	body, events, err := runTx(txSt, bc, txBytes)
	if err != nil {
		var te *types.CodeError
		if errors.As(err, &te) {
			return rejection(te), body, nil
		}
		return nil, body, err
	}
	txSt.mergeInto(st)
	return &abci.ExecTxResult{
		Code:   uint32(types.CodeOK),
		Log:    successLog(body),
		Events: events,
	}, body, nil
}

func rejection(te *types.CodeError) *abci.ExecTxResult {
	return &abci.ExecTxResult{Code: uint32(te.Code), Codespace: types.Codespace, Log: te.Error()}
}

// runTx authenticates the tx and runs its message in st. The body is
// returned whenever the tx decoded, with or without an error.
func runTx(st *overlay, bc *blockContext, txBytes []byte) (*types.TxBody, []abci.Event, error) {
	d, err := types.DecodeTx(txBytes)
	if err != nil {
		return nil, nil, err
	}
	body := &d.Body
	if body.ChainId != bc.chainID {
		return body, nil, types.Errorf(types.CodeWrongChainID, "tx is for chain %q, but this is chain %q", body.ChainId, bc.chainID)
	}
	if err := body.ValidateBasic(bc.params); err != nil {
		return body, nil, err
	}
	if err := authenticate(st, d); err != nil {
		return body, nil, err
	}
	events, err := runMsg(st, bc, body)
	if err != nil {
		return body, nil, err
	}
	st.set(types.SequenceKey(body.IssuerId), types.EncodeSequence(body.Sequence+1))
	return body, events, nil
}

// replacedKeyError turns a signature that fails under the issuer's current
// key into a CodeKeyReplaced rejection if it verifies under one of the keys
// the issuer rotated away from, naming the rotation; otherwise it returns
// sigErr. Only rejected txs pay for the extra checks.
func replacedKeyError(d *types.DecodedTx, is *types.Issuer, sigErr error) error {
	for i := len(is.PreviousKeys) - 1; i >= 0; i-- {
		old := is.PreviousKeys[i]
		if d.VerifySignature(old.Pubkey) != nil {
			continue
		}
		successor := is.SigningPubkey
		if i+1 < len(is.PreviousKeys) {
			successor = is.PreviousKeys[i+1].Pubkey
		}
		return types.Errorf(types.CodeKeyReplaced, "tx of issuer %q is signed with key %s, which was replaced at height %d by key %s: sign with the issuer's current key %s",
			is.Id, types.KeyID(old.Pubkey), old.UntilHeight, types.KeyID(successor), types.KeyID(is.SigningPubkey))
	}
	return sigErr
}

// authenticate checks that the signer is an active issuer, that it signed
// with its current key, and that the sequence is the next one expected.
func authenticate(st reader, d *types.DecodedTx) error {
	id := d.Body.IssuerId
	is, err := getIssuer(st, id)
	if err != nil {
		return err
	}
	if is == nil {
		return types.Errorf(types.CodeUnknownIssuer, "unknown issuer %q: it is not a member of this consortium", id)
	}
	if is.Status != types.IssuerStatus_ISSUER_STATUS_ACTIVE {
		return types.Errorf(types.CodeIssuerInactive, "issuer %q was removed at height %d and may no longer write", id, is.LeftHeight)
	}
	if err := d.VerifySignature(is.SigningPubkey); err != nil {
		return replacedKeyError(d, is, err)
	}
	next, err := getSequence(st, id)
	if err != nil {
		return err
	}
	switch {
	case d.Body.Sequence < next:
		return types.Errorf(types.CodeSequenceReplayed, "sequence %d of issuer %q was already used (next is %d): replayed tx", d.Body.Sequence, id, next)
	case d.Body.Sequence > next:
		return types.Errorf(types.CodeSequenceGap, "sequence %d of issuer %q skips ahead (next is %d): send the missing txs first", d.Body.Sequence, id, next)
	}
	return nil
}

func runMsg(st *overlay, bc *blockContext, body *types.TxBody) ([]abci.Event, error) {
	hashes := body.Hashes()
	signer := body.IssuerId
	var err error
	switch m := body.Msg.(type) {
	case *types.TxBody_ProposeAdmission:
		return proposeAdmission(st, bc, signer, m.ProposeAdmission)
	case *types.TxBody_ProposeRemoval:
		return proposeRemoval(st, bc, signer, m.ProposeRemoval)
	case *types.TxBody_Vote:
		return vote(st, bc, signer, m.Vote)
	case *types.TxBody_RotateKey:
		return rotateKey(st, bc, signer, m.RotateKey)
	case *types.TxBody_ProposeReplaceKey:
		return proposeReplaceKey(st, bc, signer, m.ProposeReplaceKey)
	case *types.TxBody_ProposeIdentifiers:
		return proposeIdentifiers(st, bc, signer, m.ProposeIdentifiers)
	case *types.TxBody_ProposeVoid:
		return proposeVoid(st, bc, signer, m.ProposeVoid)
	case *types.TxBody_ProposeStatus:
		return proposeStatus(st, bc, signer, m.ProposeStatus)
	case *types.TxBody_Anchor:
		err = anchor(st, bc, signer, hashes)
	case *types.TxBody_Revoke:
		err = setStatus(st, bc, signer, hashes, types.CredentialStatus_CREDENTIAL_STATUS_REVOKED, body.Reason())
	case *types.TxBody_Suspend:
		err = setStatus(st, bc, signer, hashes, types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED, body.Reason())
	case *types.TxBody_Reinstate:
		err = setStatus(st, bc, signer, hashes, types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED, body.Reason())
	default:
		return nil, types.Errorf(types.CodeMissingMessage, "tx body carries no message")
	}
	if err != nil || bc.noEvents {
		return nil, err
	}
	return credentialEvents(body.Action(), signer, hashes), nil
}

// anchor records, for every hash, that signer anchored it, in signer's own
// entry of the hash's credential record: another issuer's record of the
// same hash neither blocks it nor is touched.
func anchor(st *overlay, bc *blockContext, signer string, hashes [][]byte) error {
	is, err := getIssuer(st, signer)
	if err != nil {
		return err
	}
	restamp := func(rec *types.CredentialRecord) {
		a := findEntry(rec, signer).Anchor
		a.Height, a.TimeUnixNano = bc.height, bc.timeNanos
	}
	return eachHash(st, bc, signer, hashes, restamp, func(h, key []byte) error {
		rec, err := getCredential(st, h)
		if err != nil {
			return err
		}
		e := entryOf(rec, signer)
		// records the consortium voided (a stolen key) do not count
		eff, _ := types.EffectiveEntry(e, is)
		if eff.Anchor != nil {
			return types.HashErrorf(types.CodeAlreadyAnchored, h, "already anchored by issuer %q at height %d", signer, eff.Anchor.Height)
		}
		if eff.Status != nil {
			return types.HashErrorf(types.CodeHasStatus, h, "issuer %q already %s it at height %d, before anchoring it; a revoked credential cannot be anchored",
				signer, eff.Status.Status.StatusWord(), eff.Status.Height)
		}
		e.Anchor = &types.AnchorRecord{IssuerId: signer, Height: bc.height, TimeUnixNano: bc.timeNanos}
		return setRecord(st, key, rec)
	})
}

// eachHash runs step for every hash of a message of signer, in order;
// step stages the hash's record (key) or fails. In CheckTx the steps are
// memoised, and a recheck stages a step's last value instead of running it
// where its input is unchanged (recheck.go), restamped by restamp.
func eachHash(st *overlay, bc *blockContext, signer string, hashes [][]byte, restamp func(*types.CredentialRecord), step func(h, key []byte) error) error {
	reuse := bc.memo.issuerUnchanged(st, types.IssuerKey(signer))
	for i, h := range hashes {
		key := types.CredentialKey(h)
		if reuse {
			v, ok, err := bc.memo.reuse(st, i, key, restamp)
			if err != nil {
				return err
			}
			if ok {
				st.set(key, v)
				continue
			}
		}
		seen, fromCommitted := bc.memo.seen(st, key)
		if err := step(h, key); err != nil {
			return err
		}
		bc.memo.record(fromCommitted, seen, st.writes[string(key)])
	}
	return nil
}

// setStatus applies a revoke, suspend or reinstate by signer to every
// hash, in signer's own entry: a status change concerns only the record of
// the issuer that makes it.
func setStatus(st *overlay, bc *blockContext, signer string, hashes [][]byte, to types.CredentialStatus, reason string) error {
	is, err := getIssuer(st, signer)
	if err != nil {
		return err
	}
	restamp := func(rec *types.CredentialRecord) {
		s := findEntry(rec, signer).Status
		s.Height, s.TimeUnixNano = bc.height, bc.timeNanos
	}
	return eachHash(st, bc, signer, hashes, restamp, func(h, _ []byte) error {
		rec, err := getCredential(st, h)
		if err != nil {
			return err
		}
		eff, _ := types.EffectiveEntry(findEntry(rec, signer), is)
		if err := checkTransition(h, signer, eff, to); err != nil {
			return err
		}
		entry := &types.StatusEntry{Status: to, IssuerId: signer, Height: bc.height, TimeUnixNano: bc.timeNanos, Reason: reason}
		return writeStatus(st, h, rec, entry)
	})
}

// writeStatus makes entry the latest status change of its issuer's entry in
// rec, the credential record of hash, and stores rec; the change before
// joins the bounded history.
func writeStatus(st *overlay, hash []byte, rec *types.CredentialRecord, entry *types.StatusEntry) error {
	e := entryOf(rec, entry.IssuerId)
	if e.Status != nil {
		e.History = append(e.History, e.Status)
		if n := len(e.History); n > types.MaxStatusHistory {
			// bounded, so that no member can grow the record every
			// verifier of the hash downloads
			e.HistoryDroppedThrough = e.History[n-types.MaxStatusHistory-1].Height
			e.History = slices.Clone(e.History[n-types.MaxStatusHistory:])
		}
	}
	e.Status = entry
	return setRecord(st, types.CredentialKey(hash), rec)
}

// checkTransition enforces which changes exist, on the signer's own entry e
// as it counts (types.EffectiveEntry; nil if it has none): revocation is final, suspension is lifted only by
// reinstatement, and a hash the signer has not anchored may be revoked (a
// credential it issued off-ledger) but not suspended or reinstated.
func checkTransition(h []byte, signer string, e *types.CredentialEntry, to types.CredentialStatus) error {
	verb := to.StatusWord()
	if (e == nil || e.Anchor == nil) && to != types.CredentialStatus_CREDENTIAL_STATUS_REVOKED {
		return types.HashErrorf(types.CodeNotAnchored, h, "is not anchored by issuer %q, so it cannot be %s", signer, verb)
	}
	var s *types.StatusEntry
	if e != nil {
		s = e.Status
	}
	cur := types.CredentialStatus_CREDENTIAL_STATUS_UNSPECIFIED
	if s != nil {
		cur = s.Status
	}
	if cur == types.CredentialStatus_CREDENTIAL_STATUS_REVOKED {
		return types.HashErrorf(types.CodeAlreadyRevoked, h, "was revoked by issuer %q at height %d; revocation is final", s.IssuerId, s.Height)
	}
	switch to {
	case types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED:
		if cur == types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED {
			return types.HashErrorf(types.CodeAlreadySuspended, h, "is already suspended (since height %d)", s.Height)
		}
	case types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED:
		if cur != types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED {
			return types.HashErrorf(types.CodeNotSuspended, h, "is not suspended, so it cannot be reinstated")
		}
	}
	return nil
}

// Event attribute keys. The issuer is indexed, so tx_search finds every tx
// an issuer sent ("anchor.issuer='<id>'"); the count of credentials is not.
const (
	AttrIssuer = "issuer"
	// AttrCredentials is the number of credential hashes the tx wrote
	AttrCredentials = "credentials"
)

// credentialEvents returns one event per message, of the action's type
// ("anchor", "revoke", ...), with the issuer and the number of hashes. The
// hashes themselves are in the tx, and the state answers where and when
// each was recorded (with a proof): an indexed attribute per hash cost
// ~210 bytes per credential in CometBFT's tx index at 2M credentials, and
// the event, stored with every tx result, as much again as the tx.
func credentialEvents(action, issuer string, hashes [][]byte) []abci.Event {
	return []abci.Event{{Type: action, Attributes: []abci.EventAttribute{
		{Key: AttrIssuer, Value: issuer, Index: true},
		{Key: AttrCredentials, Value: strconv.Itoa(len(hashes))},
	}}}
}

func successLog(body *types.TxBody) string {
	if n := len(body.Hashes()); n > 0 {
		return fmt.Sprintf("%s: %d credential(s) by issuer %q", body.Action(), n, body.IssuerId)
	}
	return fmt.Sprintf("%s by issuer %q", body.Action(), body.IssuerId)
}
