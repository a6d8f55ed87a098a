package types

import (
	"fmt"
	"time"
)

// Report is a credential verdict whose proofs were checked against the app
// hash of one header. Whether that header deserves trust depends on who
// made the report: node/client takes it from the node it asks (and trusts
// that node), node/light verifies it with the light client from a trust
// root, node/bundle verifies it offline from the bundle's trust root.
type Report struct {
	*CredentialResult
	ChainID string
	// Height is the state height the answer is about.
	Height int64
	// HeaderHeight is the header whose app hash the proofs were checked
	// against (Height+1, or Height when block Height changed no state).
	HeaderHeight int64
	HeaderTime   time.Time
	// HeaderHash is the hash of the header (set when it was verified).
	HeaderHash []byte
	AppHash    []byte
	// AnchorTime and StatusTime are when the anchor record and the status
	// entry were committed: the times of the headers CommitHeaders names
	// (zero when there is no such record, or when SetCommitTimes was not
	// called).
	AnchorTime, StatusTime time.Time
	// Claims are what the credential says about itself, as checked by
	// ApplyClaims (zero if it was not read or has none).
	Claims Claims
	// IssuerRecord is the record of the issuer the verdict names, proven
	// against the same header; nil if it was not checked, if the verdict
	// names no issuer, or if the proof shows there is no such issuer.
	IssuerRecord *Issuer
}

// IssuerStatus returns "active" or "removed" and the height since which
// (joined or left), or "" if there is no issuer record.
func (r *Report) IssuerStatus() (string, int64) {
	is := r.IssuerRecord
	if is == nil {
		return "", 0
	}
	if is.Status == IssuerStatus_ISSUER_STATUS_REMOVED {
		return is.Status.StatusWord(), is.LeftHeight
	}
	return is.Status.StatusWord(), is.JoinedHeight
}

// CommitHeaders returns the heights of the headers that date the result's
// records: a record written in block H was committed by the validators'
// votes that header H+1 carries, so its time is header H+1's time (the
// median of those validators' clocks), which never precedes the submission
// of the tx. Block H's own time can: it is the median time of the votes for
// block H-1, which on a chain that was idle or restarted is long before.
// The heights are AnchorRecord.Height+1 and StatusEntry.Height+1, for the
// records present, ascending, without duplicates.
func (r *CredentialResult) CommitHeaders() []int64 {
	var hs []int64
	if r.Anchor != nil {
		hs = append(hs, r.Anchor.Height+1)
	}
	if r.Status != nil && (len(hs) == 0 || hs[0] != r.Status.Height+1) {
		hs = append(hs, r.Status.Height+1)
	}
	if len(hs) == 2 && hs[1] < hs[0] {
		hs[0], hs[1] = hs[1], hs[0]
	}
	return hs
}

// SetCommitTimes sets AnchorTime and StatusTime from timeOf, which returns
// the time of a header that CommitHeaders names (or an error). The proving
// header's own time is used without asking timeOf. It fails if a record
// would be dated by a header above the proving one (impossible for an
// answer that verified).
func (r *Report) SetCommitTimes(timeOf func(height int64) (time.Time, error)) error {
	at := func(h int64) (time.Time, error) {
		switch {
		case h == r.HeaderHeight:
			return r.HeaderTime, nil
		case h > r.HeaderHeight:
			return time.Time{}, fmt.Errorf("%w: a record of block %d cannot be in the state that header %d proves", ErrMalformedAnswer, h-1, r.HeaderHeight)
		}
		t, err := timeOf(h)
		if err != nil {
			return time.Time{}, fmt.Errorf("time of header %d, which dates a record: %w", h, err)
		}
		return t, nil
	}
	var err error
	if r.Anchor != nil {
		if r.AnchorTime, err = at(r.Anchor.Height + 1); err != nil {
			return err
		}
	}
	if r.Status != nil {
		if r.StatusTime, err = at(r.Status.Height + 1); err != nil {
			return err
		}
	}
	return nil
}

// Claims are what a credential says about itself that a verdict checks.
type Claims struct {
	// Issuer is the issuer the credential names: one of the issuer's
	// identifiers (a DID or URL), or its member id ("" if none).
	Issuer string
	// ValidFrom and ValidUntil bound the credential's own validity period
	// (zero: unbounded on that side).
	ValidFrom, ValidUntil time.Time
}

// ApplyClaims turns the proven verdict into the verdict for a credential
// that makes claims c, checking, in this order after the proofs: that it
// is anchored (a credential with no record stays not_anchored); that the
// issuer it names is the one whose record it has (issuer_mismatch); its
// status (revoked and suspended stand); and its validity period at the
// time of the proving header (expired, not_yet_valid). Checking the issuer
// requires IssuerRecord when the result names an issuer.
func (r *Report) ApplyClaims(c Claims) error {
	r.Claims = c
	if r.Verdict == VerdictNotAnchored {
		return nil
	}
	if c.Issuer != "" {
		is := r.IssuerRecord
		if is == nil || is.Id != r.Issuer() {
			return fmt.Errorf("%w: the record of issuer %q is needed to check the issuer the credential names", ErrMalformedAnswer, r.Issuer())
		}
		if c.Issuer != is.Id && !is.HasIdentifier(c.Issuer) {
			r.Verdict = VerdictIssuerMismatch
			return nil
		}
	}
	if r.Verdict != VerdictValid {
		return nil
	}
	switch at := r.HeaderTime; {
	case !c.ValidFrom.IsZero() && at.Before(c.ValidFrom):
		r.Verdict = VerdictNotYetValid
	case !c.ValidUntil.IsZero() && !at.Before(c.ValidUntil):
		r.Verdict = VerdictExpired
	}
	return nil
}
