package types

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// signDomain separates credledger tx signatures from any other use of the key.
const signDomain = "credledger/tx/v1\x00"

// SignBytes returns the bytes an issuer signs for a tx body.
func SignBytes(body []byte) []byte {
	b := make([]byte, 0, len(signDomain)+len(body))
	b = append(b, signDomain...)
	return append(b, body...)
}

// SignTx encodes body, signs it with key and returns the encoded envelope.
func SignTx(body *TxBody, key ed25519.PrivateKey) ([]byte, error) {
	bz, err := body.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode tx body: %w", err)
	}
	env := &Tx{Body: bz, Signature: ed25519.Sign(key, SignBytes(bz))}
	out, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode tx envelope: %w", err)
	}
	return out, nil
}

// DecodedTx is a decoded envelope with its body. Body bytes are kept so the
// signature can be checked against exactly what was signed.
type DecodedTx struct {
	Envelope Tx
	Body     TxBody
}

// DecodeTx decodes a tx envelope and its body. It accepts only the canonical
// encoding (re-encoding yields the same bytes), so one signed body has one
// tx encoding, and unknown fields are rejected. Errors are *CodeError with
// CodeMalformedTx.
func DecodeTx(bz []byte) (*DecodedTx, error) {
	var d DecodedTx
	if err := decodeCanonical(bz, &d.Envelope, "tx envelope"); err != nil {
		return nil, err
	}
	if err := decodeCanonical(d.Envelope.Body, &d.Body, "tx body"); err != nil {
		return nil, err
	}
	return &d, nil
}

type codec interface {
	Unmarshal([]byte) error
	Marshal() ([]byte, error)
}

func decodeCanonical(bz []byte, m codec, what string) error {
	if len(bz) == 0 {
		return Errorf(CodeMalformedTx, "%s is empty", what)
	}
	if err := m.Unmarshal(bz); err != nil {
		return Errorf(CodeMalformedTx, "%s is not valid protobuf: %s", what, err.Error())
	}
	again, err := m.Marshal()
	if err != nil || !bytes.Equal(again, bz) {
		return Errorf(CodeMalformedTx, "%s is not canonically encoded (unknown fields or non-canonical protobuf)", what)
	}
	return nil
}

// VerifySignature checks the envelope signature against an ed25519 public key.
func (d *DecodedTx) VerifySignature(pub []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return Errorf(CodeBadSignature, "issuer %q has no valid signing key", d.Body.IssuerId)
	}
	if len(d.Envelope.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, SignBytes(d.Envelope.Body), d.Envelope.Signature) {
		return Errorf(CodeBadSignature, "signature does not verify under the signing key of issuer %q", d.Body.IssuerId)
	}
	return nil
}

// KeyID returns a short id of an ed25519 public key for messages: the
// first 8 bytes in hex, a prefix of the hex that keys show and issuer show
// print.
func KeyID(pub []byte) string {
	if len(pub) > 8 {
		pub = pub[:8]
	}
	return hex.EncodeToString(pub)
}

// Hashes returns the credential hashes the body's message carries.
func (b *TxBody) Hashes() [][]byte {
	switch m := b.Msg.(type) {
	case *TxBody_Anchor:
		return m.Anchor.GetHashes()
	case *TxBody_Revoke:
		return m.Revoke.GetHashes()
	case *TxBody_Suspend:
		return m.Suspend.GetHashes()
	case *TxBody_Reinstate:
		return m.Reinstate.GetHashes()
	}
	return nil
}

// Reason returns the reason text of a status message, or "".
func (b *TxBody) Reason() string {
	switch m := b.Msg.(type) {
	case *TxBody_Revoke:
		return m.Revoke.GetReason()
	case *TxBody_Suspend:
		return m.Suspend.GetReason()
	case *TxBody_Reinstate:
		return m.Reinstate.GetReason()
	}
	return ""
}

// Action returns the message's action name, which is also its event type:
// "anchor", "revoke", "suspend" or "reinstate" ("" if there is no message).
func (b *TxBody) Action() string {
	switch b.Msg.(type) {
	case *TxBody_Anchor:
		return ActionAnchor
	case *TxBody_Revoke:
		return ActionRevoke
	case *TxBody_Suspend:
		return ActionSuspend
	case *TxBody_Reinstate:
		return ActionReinstate
	case *TxBody_ProposeAdmission:
		return ActionProposeAdmission
	case *TxBody_ProposeRemoval:
		return ActionProposeRemoval
	case *TxBody_Vote:
		return ActionVote
	case *TxBody_RotateKey:
		return ActionRotateKey
	case *TxBody_ProposeReplaceKey:
		return ActionProposeReplaceKey
	case *TxBody_ProposeIdentifiers:
		return ActionProposeIdentifiers
	case *TxBody_ProposeVoid:
		return ActionProposeVoid
	case *TxBody_ProposeStatus:
		return ActionProposeStatus
	}
	return ""
}

// ValidateBasic checks everything about the body that needs no state except
// the consortium parameters: issuer id, message presence, batch size, hash
// lengths and uniqueness, reason length. Errors are *CodeError.
func (b *TxBody) ValidateBasic(p Params) error {
	if err := ValidateIssuerID(b.IssuerId); err != nil {
		return err
	}
	switch m := b.Msg.(type) {
	case nil:
		return Errorf(CodeMissingMessage, "tx body carries no message")
	case *TxBody_ProposeAdmission:
		return m.ProposeAdmission.ValidateBasic()
	case *TxBody_ProposeRemoval:
		return ValidateIssuerID(m.ProposeRemoval.GetIssuerId())
	case *TxBody_Vote:
		return nil
	case *TxBody_RotateKey:
		return validateKey("new signing key", m.RotateKey.GetNewSigningPubkey())
	case *TxBody_ProposeReplaceKey:
		return m.ProposeReplaceKey.ValidateBasic()
	case *TxBody_ProposeIdentifiers:
		return m.ProposeIdentifiers.ValidateBasic()
	case *TxBody_ProposeVoid:
		return m.ProposeVoid.ValidateBasic()
	case *TxBody_ProposeStatus:
		return m.ProposeStatus.ValidateBasic(p)
	}
	hashes := b.Hashes()
	if len(hashes) == 0 {
		return Errorf(CodeEmptyBatch, "%s message carries no credential hashes", b.Action())
	}
	if uint64(len(hashes)) > uint64(p.MaxBatchSize) {
		return Errorf(CodeBatchTooLarge, "%s message carries %d hashes, at most %d allowed", b.Action(), len(hashes), p.MaxBatchSize)
	}
	if r := b.Reason(); uint64(len(r)) > uint64(p.MaxReasonLength) {
		return Errorf(CodeReasonTooLong, "reason is %d bytes, at most %d allowed", len(r), p.MaxReasonLength)
	} else if !utf8.ValidString(r) {
		return Errorf(CodeMalformedTx, "reason is not valid UTF-8")
	}
	seen := make(map[[HashSize]byte]struct{}, len(hashes))
	for i, h := range hashes {
		if len(h) != HashSize {
			return Errorf(CodeBadHashLength, "hash #%d is %d bytes, want %d (SHA-256)", i, len(h), HashSize)
		}
		k := [HashSize]byte(h)
		if _, dup := seen[k]; dup {
			return HashErrorf(CodeDuplicateHash, h, "appears twice in one message")
		}
		seen[k] = struct{}{}
	}
	return nil
}

// ParseHash decodes a credential hash given as 64 hex digits (an optional
// "0x" prefix and surrounding space are allowed).
func ParseHash(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not hex", ErrBadHash, s)
	}
	if len(b) != HashSize {
		return nil, fmt.Errorf("%w: %q is %d bytes, want %d", ErrBadHash, s, len(b), HashSize)
	}
	return b, nil
}

// Actions, in the names the CLI, events and NewTxBody use.
const (
	ActionAnchor    = "anchor"
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"

	ActionProposeAdmission = "propose_admission"
	ActionProposeRemoval   = "propose_removal"
	ActionVote             = "vote"
	ActionRotateKey        = "rotate_key"
	// ActionProposeReplaceKey proposes that the consortium replace an
	// issuer's signing key.
	ActionProposeReplaceKey = "propose_replace_key"
	// ActionProposeIdentifiers proposes to set an issuer's identifiers.
	ActionProposeIdentifiers = "propose_identifiers"
	// ActionProposeVoid proposes to void an issuer's records from a height.
	ActionProposeVoid = "propose_void"
	// ActionProposeStatus proposes a consortium status change of a removed
	// issuer's credential.
	ActionProposeStatus = "propose_status"
)

// NewTxBody returns a body carrying one message of the named action
// (ActionAnchor, ActionRevoke, ActionSuspend or ActionReinstate). reason is
// ignored for anchors.
func NewTxBody(chainID, issuer string, seq uint64, action string, hashes [][]byte, reason string) (*TxBody, error) {
	b := &TxBody{ChainId: chainID, IssuerId: issuer, Sequence: seq}
	st := &MsgSetStatus{Hashes: hashes, Reason: reason}
	switch action {
	case ActionAnchor:
		b.Msg = &TxBody_Anchor{Anchor: &MsgAnchor{Hashes: hashes}}
	case ActionRevoke:
		b.Msg = &TxBody_Revoke{Revoke: st}
	case ActionSuspend:
		b.Msg = &TxBody_Suspend{Suspend: st}
	case ActionReinstate:
		b.Msg = &TxBody_Reinstate{Reinstate: st}
	default:
		return nil, fmt.Errorf("unknown action %q", action)
	}
	return b, nil
}
