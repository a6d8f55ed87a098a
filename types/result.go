package types

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CredentialResult is a verified answer about one credential hash: every
// issuer's own record of it, and the verdict about one of them, the
// subject. VerifyCredential makes the single issuer with a record the
// subject; with none the verdict is not_anchored; with several it is
// undecided ("") until Choose names one (Report.ApplyClaims does, from the
// issuer the credential names).
type CredentialResult struct {
	Hash []byte
	// Entries are every issuer's record of the hash, sorted by issuer id.
	Entries []*CredentialEntry
	// Verdict is about the subject's record; "" while undecided.
	Verdict Verdict
	// Anchor and Status are the subject's anchor record and latest status
	// change (nil if none).
	Anchor *AnchorRecord
	Status *StatusEntry
	// subject is the entry the verdict is about (nil: none chosen)
	subject *CredentialEntry
}

// Issuer returns the subject's issuer id ("" if there is none).
func (r *CredentialResult) Issuer() string {
	if r.subject == nil {
		return ""
	}
	return r.subject.IssuerId
}

// Issuers returns the ids of the issuers with a record of the hash, sorted.
func (r *CredentialResult) Issuers() []string {
	out := make([]string, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = e.IssuerId
	}
	return out
}

// Undecided reports whether several issuers have records and none was
// chosen.
func (r *CredentialResult) Undecided() bool { return len(r.Entries) > 1 && r.subject == nil }

// Choose makes issuer's record the subject and sets the verdict from it;
// it reports false (and changes nothing) if issuer has no record.
func (r *CredentialResult) Choose(issuer string) bool {
	i := slices.IndexFunc(r.Entries, func(e *CredentialEntry) bool { return e.IssuerId == issuer })
	if i < 0 {
		return false
	}
	e := r.Entries[i]
	v, err := verdictOf(e.Anchor, e.Status)
	if err != nil {
		return false // VerifyCredential checked every entry
	}
	r.subject, r.Anchor, r.Status, r.Verdict = e, e.Anchor, e.Status, v
	return true
}

// AmbiguousIssuerError means several issuers have records of a hash and
// nothing named which one the verdict is about.
type AmbiguousIssuerError struct {
	Hash    []byte
	Issuers []string
}

// Error lists the issuers and says how to choose.
func (e *AmbiguousIssuerError) Error() string {
	return fmt.Sprintf("credential %s has records of several issuers (%s): give the credential FILE (its issuer field names one), or --issuer ID",
		hex.EncodeToString(e.Hash), strings.Join(e.Issuers, ", "))
}

// ErrHistoryNotRetained means a status as of a past height cannot be
// proven: the issuer's record kept only its last MaxStatusHistory status
// changes, and the one in force then was dropped.
var ErrHistoryNotRetained = errors.New("status history not retained")

// AsOf rewrites the result to what its records said as of state height h
// (at most the height of the state it was proven from): an anchor made
// after h is left out, and each issuer's status is the last change at or
// before h. Issuers whose records all come after h drop out, and the
// subject is chosen again as VerifyCredential does. The current state
// holds every record's heights and its earlier status changes, so a past
// status is proven from the latest state, with no old state version. It
// fails with ErrHistoryNotRetained if an issuer's history dropped changes
// that may have been in force at h.
func (r *CredentialResult) AsOf(h int64) error {
	if h <= 0 {
		return fmt.Errorf("as-of height %d: want a height > 0", h)
	}
	entries := make([]*CredentialEntry, 0, len(r.Entries))
	for _, e := range r.Entries {
		// dropped changes precede the kept ones: a kept change at or
		// before h is the one in force; without one, it may be a dropped
		// one
		if changes := changesOf(e); e.HistoryDroppedThrough > 0 && (len(changes) == 0 || changes[0].Height > h) {
			return fmt.Errorf("%w: issuer %q's record of %s keeps its last %d status changes; the ones up to height %d were dropped, so its status as of height %d cannot be proven",
				ErrHistoryNotRetained, e.IssuerId, hex.EncodeToString(r.Hash), MaxStatusHistory+1, e.HistoryDroppedThrough, h)
		}
		out := &CredentialEntry{IssuerId: e.IssuerId, HistoryDroppedThrough: e.HistoryDroppedThrough}
		if e.Anchor != nil && e.Anchor.Height <= h {
			out.Anchor = e.Anchor
		}
		for _, st := range changesOf(e) {
			if st.Height > h {
				break
			}
			if out.Status != nil {
				out.History = append(out.History, out.Status)
			}
			out.Status = st
		}
		if out.Anchor == nil && out.Status == nil {
			continue
		}
		if _, err := verdictOf(out.Anchor, out.Status); err != nil {
			return fmt.Errorf("issuer %q's record as of height %d: %w", e.IssuerId, h, err)
		}
		entries = append(entries, out)
	}
	r.Entries, r.subject, r.Anchor, r.Status = entries, nil, nil, nil
	switch len(entries) {
	case 0:
		r.Verdict = VerdictNotAnchored
	case 1:
		r.Choose(entries[0].IssuerId)
	default:
		r.Verdict = ""
	}
	return nil
}
