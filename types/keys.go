package types

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HashSize is the size of a credential hash (SHA-256) in bytes.
const HashSize = 32

// State key prefixes. The key layout is part of the proof format: a verifier
// recomputes these keys to check proofs, so never change an existing prefix.
// See the package documentation of app for the full table.
const (
	PrefixChainID  byte = 0x00 // 0x00 -> chain id (string)
	PrefixAnchor   byte = 0x01 // retired: the one-record layout's AnchorRecord (no longer written)
	PrefixStatus   byte = 0x02 // retired: the one-record layout's StatusEntry (no longer written)
	PrefixIssuer   byte = 0x03 // 0x03 | issuer id -> Issuer
	PrefixSequence byte = 0x04 // 0x04 | issuer id -> next sequence (uint64 big-endian)
	PrefixParams   byte = 0x05 // 0x05 -> Params
	PrefixProposal byte = 0x06 // 0x06 | id (uint64 big-endian) -> Proposal
	PrefixLastID   byte = 0x07 // 0x07 -> last proposal id (uint64 big-endian; 0 before the first)
	PrefixOpen     byte = 0x08 // 0x08 -> ProposalIDs of open proposals
	PrefixIssuers  byte = 0x09 // 0x09 -> IDList of every issuer id, sorted
	PrefixIdent    byte = 0x0A // 0x0A | identifier -> issuer id (the member whose credentials name it)
	PrefixCred     byte = 0x0B // 0x0B | hash(32) -> CredentialRecord (every issuer's own record of the hash)
)

// ProposalKey returns the key of a governance proposal.
func ProposalKey(id uint64) []byte { return prefixed(PrefixProposal, EncodeProposalID(id)) }

// LastProposalIDKey returns the key of the last proposal id issued.
func LastProposalIDKey() []byte { return []byte{PrefixLastID} }

// OpenProposalsKey returns the key of the open-proposal index.
func OpenProposalsKey() []byte { return []byte{PrefixOpen} }

// IssuerIndexKey returns the key of the issuer id index.
func IssuerIndexKey() []byte { return []byte{PrefixIssuers} }

// ChainIDKey returns the key of the chain id.
func ChainIDKey() []byte { return []byte{PrefixChainID} }

// ParamsKey returns the key of the consortium parameters.
func ParamsKey() []byte { return []byte{PrefixParams} }

// MaxStatusHistory bounds the earlier status changes a credential entry
// keeps (the oldest are dropped first), so that no member can grow the
// record that every verifier of a hash downloads.
const MaxStatusHistory = 8

// MaxOpenProposalsPerIssuer bounds the open proposals of one member, so that
// the open-proposal list every block reads stays bounded by the number of
// members (CodeTooManyProposals).
const MaxOpenProposalsPerIssuer = 8

// CredentialKey returns the key of the credential record of a hash: every
// issuer's own record of it. Requires len(hash) == HashSize.
func CredentialKey(hash []byte) []byte { return prefixed(PrefixCred, hash) }

// IssuerKey returns the key of an issuer record.
func IssuerKey(id string) []byte { return prefixed(PrefixIssuer, []byte(id)) }

// IdentifierKey returns the key of the identifier index entry of a DID or
// URL: its value is the id of the member that holds the identifier.
func IdentifierKey(identifier string) []byte { return prefixed(PrefixIdent, []byte(identifier)) }

// SequenceKey returns the key of an issuer's next sequence number.
func SequenceKey(id string) []byte { return prefixed(PrefixSequence, []byte(id)) }

func prefixed(p byte, b []byte) []byte {
	k := make([]byte, 1+len(b))
	k[0] = p
	copy(k[1:], b)
	return k
}

// EncodeSequence encodes an issuer's next sequence number as stored in
// state and answered by the /sequence query: 8 bytes, big-endian.
func EncodeSequence(seq uint64) []byte { return encodeUint64(seq) }

// DecodeSequence decodes a stored sequence number; nil (no entry yet)
// decodes to 0.
func DecodeSequence(b []byte) (uint64, error) { return decodeUint64("sequence", b) }

// EncodeProposalID encodes a proposal id as it appears in proposal keys,
// in the last-issued-id entry and in /proposal query data: 8 bytes,
// big-endian, so keys sort by id.
func EncodeProposalID(id uint64) []byte { return encodeUint64(id) }

// DecodeProposalID decodes an encoded proposal id; nil (no proposal issued
// yet) decodes to 0.
func DecodeProposalID(b []byte) (uint64, error) { return decodeUint64("proposal id", b) }

func encodeUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func decodeUint64(what string, b []byte) (uint64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%s has %d bytes, want 8", what, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// ErrBadHash is returned by ParseHash for input that is not a 32-byte hash.
var ErrBadHash = errors.New("not a 32-byte SHA-256 hash")

// MaxIssuerIDLength bounds issuer ids.
const MaxIssuerIDLength = 64

// ValidateIssuerID checks that id is 1..64 characters from [A-Za-z0-9._-].
func ValidateIssuerID(id string) error {
	if id == "" {
		return Errorf(CodeInvalidIssuerID, "issuer id is empty")
	}
	if len(id) > MaxIssuerIDLength {
		return Errorf(CodeInvalidIssuerID, "issuer id is %d bytes, at most %d allowed", len(id), MaxIssuerIDLength)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return Errorf(CodeInvalidIssuerID, "issuer id %q has a character outside [A-Za-z0-9._-]", id)
		}
	}
	return nil
}
