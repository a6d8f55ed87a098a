package verifier

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/credledger/credledger/types"
)

// SourceLightClient is the Source of every verdict the Server gives: it
// was checked by the light client (as "credledger verify" online does).
const SourceLightClient = "light-client"

// VerdictJSON is a verdict as JSON: the fields of "credledger verify
// --output json", with the same names, order and omissions, so that a
// script can read either. The CLI's bundle fields (bundle, bundle_bytes)
// do not apply, and File is empty (omitted) unless a caller sets it.
type VerdictJSON struct {
	Hash    string `json:"hash"`
	File    string `json:"file,omitempty"`
	Verdict string `json:"verdict"`
	// Issuer is the issuer whose record the verdict is about ("" if none).
	Issuer string `json:"issuer"`
	Height int64  `json:"height"`
	// AtHeight is the past state height the verdict is about (?at_height,
	// ?at_time), proven from the records of state Height; AtTime is when
	// it was committed (the time of header at_height+1). Both are absent
	// for a verdict about state Height itself.
	AtHeight       int64   `json:"at_height,omitempty"`
	AtTime         *string `json:"at_time,omitempty"`
	AnchoredHeight int64   `json:"anchored_height"`
	// AnchoredTime is when the anchor was committed: the time of header
	// anchored_height+1.
	AnchoredTime *string `json:"anchored_time"`
	Reason       string  `json:"reason"`
	StatusIssuer string  `json:"status_issuer,omitempty"`
	StatusHeight int64   `json:"status_height,omitempty"`
	// StatusTime is when the status change was committed: the time of
	// header status_height+1.
	StatusTime   *string `json:"status_time,omitempty"`
	ChainID      string  `json:"chain_id"`
	HeaderHeight int64   `json:"header_height"`
	HeaderTime   string  `json:"header_time"`
	AppHash      string  `json:"app_hash"`
	// Issuers are the ids of every issuer with a record of the hash.
	Issuers []string `json:"issuers"`
	// IssuerIdentifiers are the identifiers of Issuer (null when its
	// record was not read).
	IssuerIdentifiers []string `json:"issuer_identifiers"`
	// NamedIssuer is the issuer the credential names (its issuer field,
	// or ?issuer=).
	NamedIssuer string `json:"named_issuer,omitempty"`
	// StatusByProposal is the proposal by which the consortium made the
	// status change (0: the issuer made it).
	StatusByProposal uint64 `json:"status_by_proposal,omitempty"`
	// VoidedByProposal and VoidedFromHeight name the consortium's void of
	// the issuer's records that changed the verdict.
	VoidedByProposal uint64  `json:"voided_by_proposal,omitempty"`
	VoidedFromHeight int64   `json:"voided_from_height,omitempty"`
	ValidFrom        *string `json:"valid_from,omitempty"`
	ValidUntil       *string `json:"valid_until,omitempty"`
	// IssuerStatus is "active" or "removed" (since IssuerStatusHeight),
	// "unknown" if the proof shows no such issuer, "" if there is no issuer.
	IssuerStatus       string `json:"issuer_status"`
	IssuerStatusHeight int64  `json:"issuer_status_height"`
	HeaderHash         string `json:"header_hash"`
	// AsOf is the time of the header the verdict is checked against.
	AsOf string `json:"as_of"`
	// AgeSeconds is how long before the answer that was.
	AgeSeconds int64 `json:"age_seconds"`
	Verified   bool  `json:"verified"`
	// Source is SourceLightClient.
	Source string `json:"source"`
	// GenesisSHA256 is the fingerprint of the genesis the light client
	// trusts ("credledger genesis-hash"), if the server was told it
	// (WithGenesisSHA256).
	GenesisSHA256 string `json:"genesis_sha256,omitempty"`
}

// NewVerdictJSON returns the JSON of rep (after Report.ApplyClaims), from
// source, with its age as of now.
func NewVerdictJSON(rep *types.Report, source string, now time.Time) VerdictJSON {
	j := VerdictJSON{
		Hash: hex.EncodeToString(rep.Hash), Verdict: string(rep.Verdict), Issuer: rep.Issuer(),
		Height: rep.Height, ChainID: rep.ChainID, HeaderHeight: rep.HeaderHeight,
		HeaderTime: timeString(rep.HeaderTime), AppHash: hex.EncodeToString(rep.AppHash),
		Issuers: rep.Issuers(), HeaderHash: hex.EncodeToString(rep.HeaderHash), AsOf: timeString(rep.HeaderTime),
		AgeSeconds: int64(now.Sub(rep.HeaderTime) / time.Second), Verified: true, Source: source,
		NamedIssuer: rep.Claims.Issuer,
	}
	if rep.AsOfHeight > 0 {
		j.AtHeight, j.AtTime = rep.AsOfHeight, timePtr(rep.AsOfTime)
	}
	if a := rep.Anchor; a != nil {
		j.AnchoredHeight, j.AnchoredTime = a.Height, timePtr(rep.AnchorTime)
	}
	if s := rep.Status; s != nil {
		j.Reason, j.StatusIssuer, j.StatusHeight, j.StatusTime = s.Reason, s.IssuerId, s.Height, timePtr(rep.StatusTime)
		j.StatusByProposal = s.ProposalId
	}
	if v := rep.Void; v != nil {
		j.VoidedByProposal, j.VoidedFromHeight = v.ProposalId, v.FromHeight
	}
	if is := rep.IssuerRecord; is != nil {
		j.IssuerIdentifiers = append([]string{}, is.Identifiers...)
	}
	if !rep.Claims.ValidFrom.IsZero() {
		j.ValidFrom = timePtr(rep.Claims.ValidFrom)
	}
	if !rep.Claims.ValidUntil.IsZero() {
		j.ValidUntil = timePtr(rep.Claims.ValidUntil)
	}
	j.IssuerStatus, j.IssuerStatusHeight = rep.IssuerStatus()
	if j.IssuerStatus == "" && rep.Issuer() != "" {
		j.IssuerStatus = "unknown"
	}
	return j
}

// VerifyJSON is the answer of POST /v1/verify: the verdict and the checks
// that led to it (NewChecks).
type VerifyJSON struct {
	VerdictJSON
	Checks []Check `json:"checks"`
}

// Check is one step of a verification, as POST /v1/verify lists them.
type Check struct {
	// Name is one of the Check... constants.
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says what was found, or "not checked: why".
	Detail string `json:"detail"`
}

// The names of the checks, in the order NewChecks lists them.
const (
	CheckParsed    = "parsed"
	CheckAnchored  = "anchored"
	CheckIssuer    = "issuer"
	CheckNotVoided = "not_voided"
	CheckStatus    = "status"
	CheckDates     = "dates"
)

// notChecked starts the detail of a check that depends on a record an
// earlier check did not find.
const notChecked = "not checked: "

// NewChecks lists the checks behind the verdict of rep, a report about a
// credential that was parsed and hashed as JSON, after Report.ApplyClaims:
// parsed, anchored, issuer, not_voided, status and dates, always all six
// and in that order. The verdict is valid exactly when every check is ok.
//
// A check after a failing one still gives its own result when it can be
// made without the failing step: dates always is (the credential's
// validity period against the time of the proving header). The issuer
// check needs a record of the hash, and not_voided and status need the
// record of the issuer the credential names: without it (not anchored,
// issuer mismatch) they are not ok, with a detail starting "not checked: "
// and saying why.
func NewChecks(rep *types.Report) []Check {
	asOf := fmt.Sprintf("as of state %d (header %d, %s)", rep.Height, rep.HeaderHeight, timeString(rep.HeaderTime))
	return []Check{
		{Name: CheckParsed, OK: true, Detail: fmt.Sprintf("parsed as JSON and hashed in its RFC 8785 canonical form: %x", rep.Hash)},
		anchoredCheck(rep, asOf),
		issuerCheck(rep),
		notVoidedCheck(rep),
		statusCheck(rep, asOf),
		datesCheck(rep),
	}
}

// missingRecord says why the record the verdict would be about is not
// there ("" if it is).
func missingRecord(rep *types.Report) string {
	switch {
	case len(rep.Entries) == 0:
		return "no issuer has a record of this hash"
	case rep.Verdict == types.VerdictIssuerMismatch:
		return fmt.Sprintf("no issuer that %s names has a record of this hash", rep.Claims.Issuer)
	case rep.Issuer() == "":
		return "the credential names no issuer, and several issuers have a record of this hash"
	}
	return ""
}

func anchoredCheck(rep *types.Report, asOf string) Check {
	c := Check{Name: CheckAnchored}
	if len(rep.Entries) == 0 {
		c.Detail = "no issuer has a record of this hash " + asOf
		return c
	}
	var anchors []string
	for _, e := range rep.Entries {
		if a := e.Anchor; a != nil && (rep.Issuer() == "" || e.IssuerId == rep.Issuer()) {
			anchors = append(anchors, fmt.Sprintf("by %s at height %d", e.IssuerId, a.Height))
		}
	}
	c.OK = len(anchors) > 0
	switch {
	case rep.Anchor != nil && rep.Issuer() != "":
		c.Detail = fmt.Sprintf("anchored by %s at height %d (%s)", rep.Anchor.IssuerId, rep.Anchor.Height, timeString(rep.AnchorTime))
	case c.OK:
		c.Detail = "anchored " + strings.Join(anchors, ", ")
	default:
		who := rep.Issuer()
		if who == "" {
			who = strings.Join(rep.Issuers(), ", ")
		}
		c.Detail = fmt.Sprintf("%s recorded a status change of this hash but never anchored it", who)
	}
	if len(rep.Entries) > 1 {
		c.Detail += "; issuers with a record: " + strings.Join(rep.Issuers(), ", ")
	}
	return c
}

func issuerCheck(rep *types.Report) Check {
	c := Check{Name: CheckIssuer}
	named, subject := rep.Claims.Issuer, rep.Issuer()
	switch {
	case len(rep.Entries) == 0:
		c.Detail = notChecked + missingRecord(rep)
	case rep.Verdict == types.VerdictIssuerMismatch:
		c.Detail = fmt.Sprintf("the credential names %s, which is neither the id nor an identifier of %s", named, identifiersOf(rep))
	case subject == "":
		c.Detail = notChecked + missingRecord(rep)
	case named == "":
		c.OK, c.Detail = true, fmt.Sprintf("the credential names no issuer; the record is %s's", subject)
	case named == subject:
		c.OK, c.Detail = true, fmt.Sprintf("the credential names member %s, which has the record", subject)
	default:
		c.OK, c.Detail = true, fmt.Sprintf("the credential names %s, an identifier of %s, which has the record", named, subject)
	}
	return c
}

// identifiersOf describes the issuers with a record (the subject's, if
// chosen) and their identifiers.
func identifiersOf(rep *types.Report) string {
	var parts []string
	for _, e := range rep.Entries {
		if rep.Issuer() != "" && e.IssuerId != rep.Issuer() {
			continue
		}
		ids := "no identifiers"
		for _, is := range rep.IssuerRecords {
			if is.Id == e.IssuerId && len(is.Identifiers) > 0 {
				ids = "identifiers " + strings.Join(is.Identifiers, ", ")
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", e.IssuerId, ids))
	}
	return strings.Join(parts, " or ")
}

func notVoidedCheck(rep *types.Report) Check {
	c := Check{Name: CheckNotVoided}
	if why := missingRecord(rep); why != "" {
		c.Detail = notChecked + why
		return c
	}
	v := rep.Void
	switch {
	case rep.Verdict == types.VerdictVoided && v != nil:
		c.Detail = fmt.Sprintf("the consortium voided %s's records from height %d to %d (proposal %d), and they include this one", rep.Issuer(), v.FromHeight, v.Height, v.ProposalId)
	case rep.Verdict == types.VerdictVoided:
		c.Detail = fmt.Sprintf("the consortium voided %s's records of this hash", rep.Issuer())
	case v != nil:
		c.OK, c.Detail = true, fmt.Sprintf("the anchor stands, but the consortium voided %s's records from height %d to %d (proposal %d), so status changes made then do not count", rep.Issuer(), v.FromHeight, v.Height, v.ProposalId)
	default:
		c.OK, c.Detail = true, fmt.Sprintf("no void of %s's records covers this one", rep.Issuer())
	}
	return c
}

func statusCheck(rep *types.Report, asOf string) Check {
	c := Check{Name: CheckStatus}
	if why := missingRecord(rep); why != "" {
		c.Detail = notChecked + why
		return c
	}
	s := rep.Status
	if s == nil {
		c.OK, c.Detail = true, "no status change "+asOf
		return c
	}
	by := s.IssuerId
	if s.ProposalId != 0 {
		by = fmt.Sprintf("the consortium (proposal %d) for %s", s.ProposalId, s.IssuerId)
	}
	c.OK = s.Status == types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED
	c.Detail = fmt.Sprintf("%s by %s at height %d (%s), reason %q, %s", s.Status.StatusWord(), by, s.Height, timeString(rep.StatusTime), s.Reason, asOf)
	return c
}

func datesCheck(rep *types.Report) Check {
	c := Check{Name: CheckDates}
	from, until, at := rep.Claims.ValidFrom, rep.Claims.ValidUntil, rep.HeaderTime
	when := fmt.Sprintf("at %s (header %d)", timeString(at), rep.HeaderHeight)
	switch {
	case from.IsZero() && until.IsZero():
		c.OK, c.Detail = true, "the credential states no validity period"
	case !from.IsZero() && at.Before(from):
		c.Detail = fmt.Sprintf("valid from %s: not yet valid %s", timeString(from), when)
	case !until.IsZero() && !at.Before(until):
		c.Detail = fmt.Sprintf("valid until %s: expired %s", timeString(until), when)
	default:
		c.OK, c.Detail = true, fmt.Sprintf("valid from %s until %s: within it %s", dateOrOpen(from), dateOrOpen(until), when)
	}
	return c
}

// dateOrOpen formats a bound of a validity period ("-" if open).
func dateOrOpen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return timeString(t)
}

// timeString formats t for the JSON (RFC 3339, UTC), as the CLI does.
func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func timePtr(t time.Time) *string {
	s := timeString(t)
	return &s
}
