package types

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	ics23 "github.com/cosmos/ics23/go"
)

// Verdict is what a verifier concludes about a credential hash.
type Verdict string

// The verdicts. Their strings are part of the CLI's JSON contract.
const (
	VerdictValid       Verdict = "valid"
	VerdictRevoked     Verdict = "revoked"
	VerdictSuspended   Verdict = "suspended"
	VerdictNotAnchored Verdict = "not_anchored"
	// VerdictIssuerMismatch: the credential names an issuer that is not the
	// one whose record it has.
	VerdictIssuerMismatch Verdict = "issuer_mismatch"
	// VerdictVoided: the consortium voided the issuer's records from a
	// height on (a stolen key), and this record is among them.
	VerdictVoided Verdict = "voided"
	// VerdictExpired and VerdictNotYetValid: the credential's own validity
	// period does not include the verdict's time.
	VerdictExpired     Verdict = "expired"
	VerdictNotYetValid Verdict = "not_yet_valid"
)

// ExitCode returns the process exit code the CLI uses for the verdict:
// 0 valid, 2 revoked, 3 suspended, 4 not anchored, 5 issuer mismatch,
// 6 voided, 7 expired or not yet valid (1 is reserved for errors).
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictValid:
		return 0
	case VerdictRevoked:
		return 2
	case VerdictSuspended:
		return 3
	case VerdictNotAnchored:
		return 4
	case VerdictIssuerMismatch:
		return 5
	case VerdictVoided:
		return 6
	case VerdictExpired, VerdictNotYetValid:
		return 7
	}
	return 1
}

// ProofOpType is the ProofOp type credledger uses for ICS23 IAVL proofs.
const ProofOpType = "ics23:iavl"

// RootMismatchError means a proof is internally consistent but commits to a
// different root than the app hash it was checked against.
type RootMismatchError struct {
	Key            []byte
	ExpectedRoot   []byte
	CalculatedRoot []byte
}

// Error describes the mismatch.
func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("proof for key %X commits to root %X, but the app hash is %X", e.Key, e.CalculatedRoot, e.ExpectedRoot)
}

// Unwrap makes errors.Is(err, ErrProofInvalid) true.
func (e *RootMismatchError) Unwrap() error { return ErrProofInvalid }

// VerifyValue checks an ICS23 proof (encoded CommitmentProof) for key against
// appHash: a membership proof of value when value is non-empty, a
// non-membership proof otherwise. Errors wrap ErrProofInvalid; a proof that
// commits to another root is a *RootMismatchError.
func VerifyValue(appHash, key, value, proofBytes []byte) error {
	var proof ics23.CommitmentProof
	if err := proof.Unmarshal(proofBytes); err != nil {
		return fmt.Errorf("%w: key %X: proof is not an ICS23 commitment proof: %w", ErrProofInvalid, key, err)
	}
	// IAVL proves a key with one existence or non-existence proof; refuse
	// batches before ics23 sees them (it panics decompressing a crafted one)
	switch p := proof.Proof.(type) {
	case *ics23.CommitmentProof_Exist:
	case *ics23.CommitmentProof_Nonexist:
		// ics23 never reads this field; insist that it names the key, so
		// one proof has one meaning
		if p.Nonexist == nil || !bytes.Equal(p.Nonexist.Key, key) {
			return fmt.Errorf("%w: key %X: the non-existence proof is about another key", ErrProofInvalid, key)
		}
	default:
		return fmt.Errorf("%w: key %X: not a single existence or non-existence proof", ErrProofInvalid, key)
	}
	root, err := proof.Calculate()
	if err != nil {
		return fmt.Errorf("%w: key %X: cannot compute the proof's root: %w", ErrProofInvalid, key, err)
	}
	if !bytes.Equal(root, appHash) {
		return &RootMismatchError{Key: key, ExpectedRoot: appHash, CalculatedRoot: root}
	}
	if len(value) > 0 {
		if !ics23.VerifyMembership(ics23.IavlSpec, appHash, &proof, key, value) {
			return fmt.Errorf("%w: key %X: not a valid existence proof of the returned value", ErrProofInvalid, key)
		}
		return nil
	}
	if !ics23.VerifyNonMembership(ics23.IavlSpec, appHash, &proof, key) {
		return fmt.Errorf("%w: key %X: not a valid proof that the key is absent", ErrProofInvalid, key)
	}
	return nil
}

// VerifyCredential checks a /credential answer for hash against appHash, the
// app hash of the header one above the answer's height: proof is the
// encoded ICS23 proof for CredentialKey(hash). It is the one place that
// interprets credential proofs: any error means the answer must not be
// trusted. The result holds every issuer's record of the hash; see
// CredentialResult for which one the verdict is about.
func VerifyCredential(hash []byte, ans *CredentialAnswer, proof, appHash []byte) (*CredentialResult, error) {
	if len(hash) != HashSize {
		return nil, fmt.Errorf("%w: hash is %d bytes", ErrBadHash, len(hash))
	}
	if ans == nil || !bytes.Equal(ans.Hash, hash) {
		return nil, fmt.Errorf("%w: answer is about another hash than %s", ErrMalformedAnswer, hex.EncodeToString(hash))
	}
	if err := VerifyValue(appHash, CredentialKey(hash), ans.Record, proof); err != nil {
		return nil, fmt.Errorf("credential record: %w", err)
	}
	entries, err := DecodeCredentialRecord(ans.Record)
	if err != nil {
		return nil, err
	}
	res := &CredentialResult{Hash: hash, Entries: entries, Verdict: VerdictNotAnchored}
	for _, e := range entries {
		if _, err := verdictOf(e.Anchor, e.Status); err != nil {
			return nil, fmt.Errorf("issuer %q's record: %w", e.IssuerId, err)
		}
	}
	switch len(entries) {
	case 0:
	case 1:
		res.Choose(entries[0].IssuerId)
	default:
		res.Verdict = ""
	}
	return res, nil
}

// DecodeCredentialRecord decodes a stored CredentialRecord (empty: no
// record) and checks its form: entries sorted by issuer id without
// repeats, each with an anchor or a status entry that names its issuer.
// Errors wrap ErrMalformedAnswer.
func DecodeCredentialRecord(bz []byte) ([]*CredentialEntry, error) {
	if len(bz) == 0 {
		return nil, nil
	}
	var rec CredentialRecord
	if err := rec.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("%w: credential record: %w", ErrMalformedAnswer, err)
	}
	if len(rec.Entries) == 0 {
		return nil, fmt.Errorf("%w: credential record with no entries", ErrMalformedAnswer)
	}
	for i, e := range rec.Entries {
		switch {
		case e == nil || ValidateIssuerID(e.IssuerId) != nil:
			return nil, fmt.Errorf("%w: credential record entry %d has no valid issuer id", ErrMalformedAnswer, i)
		case i > 0 && e.IssuerId <= rec.Entries[i-1].IssuerId:
			return nil, fmt.Errorf("%w: credential record entries are not sorted by issuer id", ErrMalformedAnswer)
		case e.Anchor == nil && e.Status == nil:
			return nil, fmt.Errorf("%w: issuer %q's record is empty", ErrMalformedAnswer, e.IssuerId)
		case e.Anchor != nil && e.Anchor.IssuerId != e.IssuerId:
			return nil, fmt.Errorf("%w: issuer %q's record names another issuer", ErrMalformedAnswer, e.IssuerId)
		}
		for _, st := range append([]*StatusEntry{e.Status}, e.History...) {
			if st == nil && e.Status == nil {
				continue // no status change (the history is then empty too, checked below)
			}
			switch {
			case st == nil || st.IssuerId != e.IssuerId:
				return nil, fmt.Errorf("%w: issuer %q's record has a status change by another issuer", ErrMalformedAnswer, e.IssuerId)
			case st.Status != CredentialStatus_CREDENTIAL_STATUS_REVOKED && st.Status != CredentialStatus_CREDENTIAL_STATUS_SUSPENDED &&
				st.Status != CredentialStatus_CREDENTIAL_STATUS_REINSTATED:
				return nil, fmt.Errorf("%w: issuer %q's record has an unknown status %d", ErrMalformedAnswer, e.IssuerId, st.Status)
			}
		}
		if e.Status == nil && len(e.History) > 0 {
			return nil, fmt.Errorf("%w: issuer %q's record has earlier status changes but no current one", ErrMalformedAnswer, e.IssuerId)
		}
		if err := checkChangeOrder(e); err != nil {
			return nil, err
		}
	}
	return rec.Entries, nil
}

// checkChangeOrder checks that an entry's status changes are in height
// order, after the changes its history dropped.
func checkChangeOrder(e *CredentialEntry) error {
	last := e.HistoryDroppedThrough
	if last < 0 || (last > 0 && e.Status == nil) {
		return fmt.Errorf("%w: issuer %q's record drops a history it does not have", ErrMalformedAnswer, e.IssuerId)
	}
	for _, st := range changesOf(e) {
		if st.Height < last {
			return fmt.Errorf("%w: issuer %q's record has status changes out of height order", ErrMalformedAnswer, e.IssuerId)
		}
		last = st.Height
	}
	return nil
}

// changesOf returns an entry's status changes, oldest first.
func changesOf(e *CredentialEntry) []*StatusEntry {
	if e.Status == nil {
		return nil
	}
	return append(slices.Clone(e.History), e.Status)
}

func verdictOf(a *AnchorRecord, s *StatusEntry) (Verdict, error) {
	if s != nil {
		switch s.Status {
		case CredentialStatus_CREDENTIAL_STATUS_REVOKED:
			return VerdictRevoked, nil
		case CredentialStatus_CREDENTIAL_STATUS_SUSPENDED:
			if a == nil {
				return "", fmt.Errorf("%w: suspended but not anchored", ErrMalformedAnswer)
			}
			return VerdictSuspended, nil
		case CredentialStatus_CREDENTIAL_STATUS_REINSTATED:
			if a == nil {
				return "", fmt.Errorf("%w: reinstated but not anchored", ErrMalformedAnswer)
			}
		default:
			return "", fmt.Errorf("%w: unknown status %d", ErrMalformedAnswer, s.Status)
		}
	}
	if a != nil {
		return VerdictValid, nil
	}
	return VerdictNotAnchored, nil
}

// VerifyIssuer checks an /issuer answer (the encoded Issuer, empty if absent)
// for id against appHash and returns the decoded record, or nil if the proof
// shows that no such issuer exists.
func VerifyIssuer(id string, value, proof, appHash []byte) (*Issuer, error) {
	if err := VerifyValue(appHash, IssuerKey(id), value, proof); err != nil {
		return nil, fmt.Errorf("issuer %q: %w", id, err)
	}
	if len(value) == 0 {
		return nil, nil
	}
	var is Issuer
	if err := is.Unmarshal(value); err != nil {
		return nil, fmt.Errorf("%w: issuer %q: %w", ErrMalformedAnswer, id, err)
	}
	if is.Id != id {
		return nil, fmt.Errorf("%w: issuer record is for %q, not %q", ErrMalformedAnswer, is.Id, id)
	}
	return &is, nil
}
