package types

import (
	"encoding/hex"
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
