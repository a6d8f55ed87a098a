package types

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxPower bounds an issuer's voting power (CometBFT's total power must fit
// in an int64 with room to spare).
const MaxPower = 1 << 40

func validateKey(what string, k []byte) error {
	if len(k) != ed25519.PublicKeySize {
		return Errorf(CodeInvalidProposal, "%s is %d bytes, want %d (ed25519 public key)", what, len(k), ed25519.PublicKeySize)
	}
	return nil
}

// ValidateBasic checks the target's id and the height.
func (m *MsgProposeVoid) ValidateBasic() error {
	if m == nil {
		return Errorf(CodeMissingMessage, "void proposal is empty")
	}
	if err := ValidateIssuerID(m.IssuerId); err != nil {
		return err
	}
	if m.FromHeight < 1 {
		return Errorf(CodeInvalidProposal, "from height %d: want a height >= 1", m.FromHeight)
	}
	return nil
}

// StatusOf returns the status a proposal's status word names: "revoked",
// "suspended" or "reinstated".
func StatusOf(word string) (CredentialStatus, error) {
	for _, s := range []CredentialStatus{CredentialStatus_CREDENTIAL_STATUS_REVOKED, CredentialStatus_CREDENTIAL_STATUS_SUSPENDED, CredentialStatus_CREDENTIAL_STATUS_REINSTATED} {
		if s.StatusWord() == word {
			return s, nil
		}
	}
	return 0, Errorf(CodeInvalidProposal, "status %q: want revoked, suspended or reinstated", word)
}

// ValidateBasic checks the target's id, the hash, the status word and the
// reason (at most p.MaxReasonLength bytes of UTF-8, not empty).
func (m *MsgProposeStatus) ValidateBasic(p Params) error {
	if m == nil {
		return Errorf(CodeMissingMessage, "status proposal is empty")
	}
	if err := ValidateIssuerID(m.IssuerId); err != nil {
		return err
	}
	if len(m.Hash) != HashSize {
		return Errorf(CodeBadHashLength, "hash is %d bytes, want %d", len(m.Hash), HashSize)
	}
	if _, err := StatusOf(m.Status); err != nil {
		return err
	}
	if m.Reason == "" || !utf8.ValidString(m.Reason) {
		return Errorf(CodeInvalidProposal, "a consortium status change needs a reason (UTF-8)")
	}
	if uint64(len(m.Reason)) > uint64(p.MaxReasonLength) {
		return Errorf(CodeReasonTooLong, "reason is %d bytes, at most %d allowed", len(m.Reason), p.MaxReasonLength)
	}
	return nil
}

// ValidateBasic checks the target's id and the new key's size.
func (m *MsgProposeReplaceKey) ValidateBasic() error {
	if m == nil {
		return Errorf(CodeMissingMessage, "key replacement proposal is empty")
	}
	if err := ValidateIssuerID(m.IssuerId); err != nil {
		return err
	}
	return validateKey("new signing key", m.NewSigningPubkey)
}

// ValidateBasic checks the proposed issuer's id, name, keys and power.
func (m *MsgProposeAdmission) ValidateBasic() error {
	if m == nil {
		return Errorf(CodeMissingMessage, "admission proposal is empty")
	}
	if err := ValidateIssuerID(m.IssuerId); err != nil {
		return err
	}
	if m.Name == "" || len(m.Name) > MaxIssuerNameLength || !utf8.ValidString(m.Name) {
		return Errorf(CodeInvalidProposal, "issuer name must be 1..%d bytes of UTF-8, got %d bytes", MaxIssuerNameLength, len(m.Name))
	}
	if err := validateKey("signing key", m.SigningPubkey); err != nil {
		return err
	}
	if err := validateKey("validator key", m.ValidatorPubkey); err != nil {
		return err
	}
	if m.Power <= 0 || m.Power > MaxPower {
		return Errorf(CodeInvalidProposal, "power %d: must be in 1..%d", m.Power, int64(MaxPower))
	}
	return ValidateIdentifiers(m.Identifiers)
}

// Describe says in words what a proposal would do.
func (p *Proposal) Describe() string {
	switch a := p.Action.(type) {
	case *Proposal_Admission:
		return fmt.Sprintf("admit issuer %q (%s) with power %d", a.Admission.IssuerId, a.Admission.Name, a.Admission.Power)
	case *Proposal_Removal:
		return fmt.Sprintf("remove issuer %q", a.Removal.IssuerId)
	case *Proposal_ReplaceKey:
		return fmt.Sprintf("replace the signing key of issuer %q with %s", a.ReplaceKey.IssuerId, KeyID(a.ReplaceKey.NewSigningPubkey))
	case *Proposal_Identifiers:
		return fmt.Sprintf("set the identifiers of issuer %q to [%s]", a.Identifiers.IssuerId, strings.Join(a.Identifiers.Identifiers, " "))
	case *Proposal_Void:
		return fmt.Sprintf("void every record of issuer %q from height %d", a.Void.IssuerId, a.Void.FromHeight)
	case *Proposal_StatusChange:
		m := a.StatusChange
		return fmt.Sprintf("mark credential %x of removed issuer %q %s (reason %q)", m.Hash, m.IssuerId, m.Status, m.Reason)
	}
	return "unknown action"
}

// StatusWord returns "open", "passed", "rejected" or "expired".
func (s ProposalStatus) StatusWord() string {
	switch s {
	case ProposalStatus_PROPOSAL_STATUS_OPEN:
		return "open"
	case ProposalStatus_PROPOSAL_STATUS_PASSED:
		return "passed"
	case ProposalStatus_PROPOSAL_STATUS_REJECTED:
		return "rejected"
	case ProposalStatus_PROPOSAL_STATUS_EXPIRED:
		return "expired"
	}
	return "unknown"
}

// StatusWord returns "active" or "removed".
func (s IssuerStatus) StatusWord() string {
	switch s {
	case IssuerStatus_ISSUER_STATUS_ACTIVE:
		return "active"
	case IssuerStatus_ISSUER_STATUS_REMOVED:
		return "removed"
	}
	return "unknown"
}

// StatusWord returns "revoked", "suspended" or "reinstated".
func (s CredentialStatus) StatusWord() string {
	switch s {
	case CredentialStatus_CREDENTIAL_STATUS_REVOKED:
		return "revoked"
	case CredentialStatus_CREDENTIAL_STATUS_SUSPENDED:
		return "suspended"
	case CredentialStatus_CREDENTIAL_STATUS_REINSTATED:
		return "reinstated"
	}
	return "unknown"
}

// Tally is the count of a proposal's votes, by voting power of the issuers
// that are active now.
type Tally struct {
	Yes, No, Total int64
}

// Passed reports whether yes holds more than 2/3 of the total power.
func (t Tally) Passed() bool { return 3*t.Yes > 2*t.Total }

// Failed reports whether passing has become impossible: even if every
// active issuer that has not voted no said yes, yes would not exceed 2/3.
func (t Tally) Failed() bool { return 3*(t.Total-t.No) <= 2*t.Total }

// Target returns the issuer a proposal acts against (the one a removal
// would remove, whose key would be replaced, whose records would be void,
// whose credential would be marked), or "" for a proposal that acts
// against none (an admission, identifiers). The target's power is left out of the proposal's tally: the
// other members decide.
func (p *Proposal) Target() string {
	switch a := p.Action.(type) {
	case *Proposal_Removal:
		return a.Removal.GetIssuerId()
	case *Proposal_ReplaceKey:
		return a.ReplaceKey.GetIssuerId()
	case *Proposal_Void:
		return a.Void.GetIssuerId()
	case *Proposal_StatusChange:
		return a.StatusChange.GetIssuerId()
	}
	return ""
}

// TallyProposal counts p's votes against the given issuers: the power of
// the active issuers other than p's target (Proposal.Target), which may
// vote but is not counted; votes of issuers that are no longer active do
// not count.
func TallyProposal(p *Proposal, issuers []*Issuer) Tally {
	votes := make(map[string]bool, len(p.Votes))
	for _, v := range p.Votes {
		votes[v.IssuerId] = v.Yes
	}
	target := p.Target()
	var t Tally
	for _, is := range issuers {
		if is.Status != IssuerStatus_ISSUER_STATUS_ACTIVE || is.Id == target {
			continue
		}
		t.Total += is.Power
		if yes, voted := votes[is.Id]; voted && yes {
			t.Yes += is.Power
		} else if voted {
			t.No += is.Power
		}
	}
	return t
}
