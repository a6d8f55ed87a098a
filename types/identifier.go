package types

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on issuer identifiers.
const (
	// MaxIdentifierLength bounds one identifier, in bytes.
	MaxIdentifierLength = 256
	// MaxIdentifiers bounds how many identifiers one issuer holds.
	MaxIdentifiers = 16
)

// ValidateIdentifier checks that id can name an issuer in a credential's
// issuer field: a DID ("did:method:...") or an http(s) URL, 1..256 bytes of
// UTF-8 without spaces or control characters. Errors are *CodeError with
// CodeBadIdentifier.
func ValidateIdentifier(id string) error {
	switch {
	case id == "" || len(id) > MaxIdentifierLength:
		return Errorf(CodeBadIdentifier, "identifier %q: must be 1..%d bytes", id, MaxIdentifierLength)
	case !utf8.ValidString(id) || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return Errorf(CodeBadIdentifier, "identifier %q: must be UTF-8 without spaces or control characters", id)
	}
	lower := strings.ToLower(id)
	isDID := strings.HasPrefix(lower, "did:") && strings.Count(id, ":") >= 2 && !strings.HasSuffix(id, ":")
	isURL := strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://")
	if !isDID && !isURL {
		return Errorf(CodeBadIdentifier, "identifier %q: want a DID (did:method:...) or an http(s) URL", id)
	}
	return nil
}

// ValidateIdentifiers checks a list of identifiers: each valid, none
// repeated, at most MaxIdentifiers. An empty list is valid.
func ValidateIdentifiers(ids []string) error {
	if len(ids) > MaxIdentifiers {
		return Errorf(CodeBadIdentifier, "%d identifiers, at most %d allowed", len(ids), MaxIdentifiers)
	}
	for i, id := range ids {
		if err := ValidateIdentifier(id); err != nil {
			return err
		}
		if slices.Contains(ids[:i], id) {
			return Errorf(CodeBadIdentifier, "identifier %q is given twice", id)
		}
	}
	return nil
}

// SortedIdentifiers returns a sorted copy of ids, the form an issuer record
// keeps them in.
func SortedIdentifiers(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// HasIdentifier reports whether the issuer holds identifier id (compared
// exactly, as it is written in credentials).
func (m *Issuer) HasIdentifier(id string) bool { return slices.Contains(m.Identifiers, id) }

// ValidateBasic checks the target's id and the identifiers.
func (m *MsgProposeIdentifiers) ValidateBasic() error {
	if m == nil {
		return Errorf(CodeMissingMessage, "identifiers proposal is empty")
	}
	if err := ValidateIssuerID(m.IssuerId); err != nil {
		return err
	}
	return ValidateIdentifiers(m.Identifiers)
}
