package types

import (
	"fmt"
	"slices"
	"time"
)

// Report is a credential verdict whose proofs were checked against the app
// hash of one header. Whether that header deserves trust depends on who
// made the report: node/client takes it from the node it asks (and trusts
// that node), node/light verifies it with the light client from a trust
// root, node/bundle verifies it offline from the bundle's trust root.
//
// Producers fill the result and the header fields, then, for a verdict
// as of a past height, SetAsOf, then the records of the issuers with a
// record of the hash (SetIssuerRecords: their voids change which records
// count), then the commit times (SetCommitTimes); ApplyClaims then settles
// the verdict.
type Report struct {
	*CredentialResult
	ChainID string
	// Height is the state height the answer is about.
	Height int64
	// HeaderHeight is the header whose app hash the proofs were checked
	// against (Height+1, or Height when block Height changed no state).
	HeaderHeight int64
	HeaderTime   time.Time
	// AsOfHeight is the past state height the verdict is about (SetAsOf),
	// 0 for the proving state Height itself; AsOfTime is the time of
	// header AsOfHeight+1, by which that state was committed.
	AsOfHeight int64
	AsOfTime   time.Time
	// HeaderHash is the hash of the header (set when it was verified).
	HeaderHash []byte
	AppHash    []byte
	// AnchorTime and StatusTime are when the subject's anchor record and
	// status entry were committed: the times of the headers CommitHeaders
	// names (zero when there is no such record, or when SetCommitTimes was
	// not called).
	AnchorTime, StatusTime time.Time
	// Claims are what the credential says about itself, as checked by
	// ApplyClaims (zero if it was not read or has none).
	Claims Claims
	// IssuerRecord is the record of the subject's issuer (the issuer the
	// verdict is about), proven against the same header; nil if it was not
	// checked, if there is no subject, or if the proof shows there is no
	// such issuer.
	IssuerRecord *Issuer
	// IssuerRecords are the proven records of every issuer with a record of
	// the hash (SetIssuerRecords).
	IssuerRecords []*Issuer
	// Void is the consortium's void of the subject's issuer's records that
	// changed the verdict (voided, or a status change that no longer
	// counts); nil if none.
	Void *Void

	commitTimes map[int64]time.Time
}

// SetAsOf makes the verdict about state height h, below the proving state
// (CredentialResult.AsOf), committed by time t (the verified time of
// header h+1). What the state knows now still applies: the issuers'
// current records, and so voids the consortium passed after h. A
// credential's validity period is checked at t.
func (r *Report) SetAsOf(h int64, t time.Time) error {
	if h > r.Height {
		return fmt.Errorf("as-of height %d is above the proving state %d", h, r.Height)
	}
	if err := r.CredentialResult.AsOf(h); err != nil {
		return err
	}
	r.AsOfHeight, r.AsOfTime = h, t
	r.subjectChanged()
	return nil
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

// CommitHeaders returns the heights of the headers that date the records
// of every issuer with a record of the hash: a record written in block H
// was committed by the validators' votes that header H+1 carries, so its
// time is header H+1's time (the median of those validators' clocks),
// which never precedes the submission of the tx. Block H's own time can:
// it is the median time of the votes for block H-1, which on a chain that
// was idle or restarted is long before. The heights are each anchor's and
// status entry's Height+1, ascending, without duplicates.
func (r *CredentialResult) CommitHeaders() []int64 {
	var hs []int64
	for _, e := range r.Entries {
		if e.Anchor != nil {
			hs = append(hs, e.Anchor.Height+1)
		}
		if e.Status != nil {
			hs = append(hs, e.Status.Height+1)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// CommitHeaders returns the heights of the headers that date the records
// the verdict may rest on, as CredentialResult.CommitHeaders does, but with
// the issuers' voids applied (SetIssuerRecords first): for each entry, its
// anchor and the status change that counts (EffectiveEntry).
func (r *Report) CommitHeaders() []int64 {
	var hs []int64
	for _, e := range r.Entries {
		if e.Anchor != nil {
			hs = append(hs, e.Anchor.Height+1)
		}
		if eff, _ := EffectiveEntry(e, r.issuerRecord(e.IssuerId)); eff.Status != nil {
			hs = append(hs, eff.Status.Height+1)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// VoidCovering returns the void of issuer record is whose range holds
// height (nil if none): a void covers the heights from its FromHeight to
// the height it passed at, both included. Records made after a void passed
// count again, so the consortium replaces a stolen key before (or in the
// same block as) it voids the thief's records.
func VoidCovering(is *Issuer, height int64) *Void {
	if is == nil {
		return nil
	}
	for _, v := range is.Voids {
		if v != nil && height >= v.FromHeight && height <= v.Height {
			return v
		}
	}
	return nil
}

// EffectiveEntry returns entry e as it counts given its issuer's record is
// (nil: no voids known): without an anchor that a void covers, and with
// the latest status change that no void covers (a change the consortium
// made by proposal always counts). It also returns the void that changed
// the entry (the one covering the anchor, else the one covering the latest
// status change), or nil.
func EffectiveEntry(e *CredentialEntry, is *Issuer) (*CredentialEntry, *Void) {
	if e == nil {
		return nil, nil
	}
	out := &CredentialEntry{IssuerId: e.IssuerId, Anchor: e.Anchor, Status: e.Status}
	var changed *Void
	if e.Anchor != nil {
		if v := VoidCovering(is, e.Anchor.Height); v != nil {
			out.Anchor, changed = nil, v
		}
	}
	if e.Status != nil && e.Status.ProposalId == 0 {
		if v := VoidCovering(is, e.Status.Height); v != nil {
			out.Status = nil
			for _, s := range e.History {
				if s != nil && (s.ProposalId != 0 || VoidCovering(is, s.Height) == nil) {
					out.Status = s
				}
			}
			if changed == nil {
				changed = v
			}
		}
	}
	return out, changed
}

// SetCommitTimes records the times of the headers CommitHeaders names,
// asking timeOf for each one but the proving header, and sets AnchorTime
// and StatusTime for the subject. It fails if a record would be dated by a
// header above the proving one (impossible for an answer that verified).
func (r *Report) SetCommitTimes(timeOf func(height int64) (time.Time, error)) error {
	r.commitTimes = map[int64]time.Time{}
	for _, h := range r.CommitHeaders() {
		switch {
		case h == r.HeaderHeight:
			r.commitTimes[h] = r.HeaderTime
		case h > r.HeaderHeight:
			return fmt.Errorf("%w: a record of block %d cannot be in the state that header %d proves", ErrMalformedAnswer, h-1, r.HeaderHeight)
		default:
			t, err := timeOf(h)
			if err != nil {
				return fmt.Errorf("time of header %d, which dates a record: %w", h, err)
			}
			r.commitTimes[h] = t
		}
	}
	r.subjectChanged()
	return nil
}

// SetIssuerRecords records the proven records of the issuers with a record
// of the hash (nil entries for ids the proof shows unknown are dropped),
// and sets IssuerRecord for the subject.
func (r *Report) SetIssuerRecords(records []*Issuer) {
	r.IssuerRecords = slices.DeleteFunc(slices.Clone(records), func(is *Issuer) bool { return is == nil })
	r.subjectChanged()
}

// Choose makes issuer's record the subject, as CredentialResult.Choose
// does, and updates the subject's times and issuer record; it reports
// false (and changes nothing) if issuer has no record.
func (r *Report) Choose(issuer string) bool {
	if !r.CredentialResult.Choose(issuer) {
		return false
	}
	r.subjectChanged()
	return true
}

// subjectChanged sets the subject's issuer record, applies its voids to
// the verdict, and sets the subject's times.
func (r *Report) subjectChanged() {
	r.AnchorTime, r.StatusTime, r.IssuerRecord, r.Void = time.Time{}, time.Time{}, nil, nil
	if r.subject == nil {
		return
	}
	r.IssuerRecord = r.issuerRecord(r.subject.IssuerId)
	eff, v := EffectiveEntry(r.subject, r.IssuerRecord)
	switch {
	case v == nil:
	case eff.Anchor == nil && r.subject.Anchor != nil, eff.Anchor == nil && eff.Status == nil:
		// an anchor made with the void key; or, with no anchor, only void
		// status changes (an off-ledger revocation by the thief)
		r.Status, r.Verdict, r.Void = eff.Status, VerdictVoided, v
	default:
		verdict, err := verdictOf(eff.Anchor, eff.Status)
		if err != nil {
			verdict = VerdictVoided
		}
		r.Status, r.Verdict, r.Void = eff.Status, verdict, v
	}
	if r.Anchor != nil {
		r.AnchorTime = r.commitTimes[r.Anchor.Height+1]
	}
	if r.Status != nil {
		r.StatusTime = r.commitTimes[r.Status.Height+1]
	}
}

func (r *Report) issuerRecord(id string) *Issuer {
	for _, is := range r.IssuerRecords {
		if is.Id == id {
			return is
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

// ApplyClaims settles the verdict for a credential that makes claims c,
// checking, in this order after the proofs: that some issuer has a record
// of it (else not_anchored); that the issuer it names has one — the
// verdict is then about that issuer's record, and issuer_mismatch if only
// other issuers have records; without a name, the single issuer with a
// record (several: an *AmbiguousIssuerError); voided (an anchor the
// consortium voided); its status (revoked and suspended stand, a status
// change that was voided does not count); and its validity period at the
// time of the proving header, or AsOfTime with SetAsOf (expired, not_yet_valid). Naming an issuer requires the records
// of the issuers with a record (SetIssuerRecords), to match identifiers.
func (r *Report) ApplyClaims(c Claims) error {
	r.Claims = c
	if len(r.Entries) == 0 {
		r.Verdict = VerdictNotAnchored
		return nil
	}
	// start again from the proven verdict of the subject, so that claims
	// applied before do not carry over
	if id := r.Issuer(); id != "" {
		r.Choose(id)
	} else {
		r.Verdict = ""
	}
	if c.Issuer != "" {
		named, err := r.namedIssuer(c.Issuer)
		if err != nil {
			return err
		}
		if named == "" {
			r.Verdict = VerdictIssuerMismatch
			return nil
		}
		r.Choose(named)
	} else if r.Undecided() {
		return &AmbiguousIssuerError{Hash: r.Hash, Issuers: r.Issuers()}
	}
	if r.Verdict != VerdictValid {
		return nil
	}
	at := r.HeaderTime
	if r.AsOfHeight > 0 {
		at = r.AsOfTime
	}
	switch {
	case !c.ValidFrom.IsZero() && at.Before(c.ValidFrom):
		r.Verdict = VerdictNotYetValid
	case !c.ValidUntil.IsZero() && !at.Before(c.ValidUntil):
		r.Verdict = VerdictExpired
	}
	return nil
}

// namedIssuer returns the id of the issuer with a record of the hash that
// name (a member id, or one of an issuer's identifiers) names, or "" if
// none does. Member ids are matched first, so naming one needs no issuer
// record.
func (r *Report) namedIssuer(name string) (string, error) {
	for _, e := range r.Entries {
		if e.IssuerId == name {
			return e.IssuerId, nil
		}
	}
	for _, e := range r.Entries {
		is := r.issuerRecord(e.IssuerId)
		if is == nil {
			return "", fmt.Errorf("%w: the record of issuer %q is needed to check the issuer the credential names", ErrMalformedAnswer, e.IssuerId)
		}
		if is.HasIdentifier(name) {
			return e.IssuerId, nil
		}
	}
	return "", nil
}
