package types

// Codespace is the ABCI codespace of every non-zero code credledger returns.
const Codespace = "credledger"

// Code is an ABCI result code. Zero means success; every rejection has its
// own code so that operators' scripts can tell them apart.
type Code uint32

// Result codes returned by CheckTx, FinalizeBlock (ExecTxResult) and Query.
// The numbers are part of the public contract: never renumber them.
const (
	CodeOK                Code = 0
	CodeMalformedTx       Code = 1  // bytes are not a canonical credledger tx
	CodeWrongChainID      Code = 2  // tx names another chain
	CodeBadSignature      Code = 3  // signature does not verify under the issuer's key
	CodeUnknownIssuer     Code = 4  // no issuer with that id
	CodeIssuerInactive    Code = 5  // issuer was removed from the consortium
	CodeSequenceReplayed  Code = 6  // sequence already used (replay)
	CodeSequenceGap       Code = 7  // sequence skips ahead (out of order)
	CodeEmptyBatch        Code = 8  // message carries no hashes
	CodeBatchTooLarge     Code = 9  // more hashes than Params.MaxBatchSize
	CodeBadHashLength     Code = 10 // a hash is not 32 bytes
	CodeReasonTooLong     Code = 11 // reason longer than Params.MaxReasonLength
	CodeDuplicateHash     Code = 12 // the same hash twice in one message
	CodeAlreadyAnchored   Code = 13 // anchor of a hash that is already anchored
	CodeHasStatus         Code = 14 // anchor of a hash the signer already revoked (off-ledger)
	CodeNotOwner          Code = 15 // no longer returned: a status change applies to the signer's own record
	CodeAlreadyRevoked    Code = 16 // the hash is revoked; revocation is final
	CodeAlreadySuspended  Code = 17 // suspend of a suspended hash
	CodeNotSuspended      Code = 18 // reinstate of a hash that is not suspended
	CodeNotAnchored       Code = 19 // suspend or reinstate of a hash that is not anchored
	CodeMissingMessage    Code = 20 // body has no message
	CodeInvalidIssuerID   Code = 21 // issuer id is empty, too long or has bad characters
	CodeKeyReplaced       Code = 22 // signed with a signing key the issuer has rotated away from
	CodeBadIdentifier     Code = 23 // an issuer identifier is not a DID or URL, too long, repeated, or too many
	CodeUnknownProposal   Code = 40 // vote on a proposal that does not exist
	CodeProposalDecided   Code = 41 // vote on a proposal that already passed or was rejected
	CodeProposalExpired   Code = 42 // vote on an expired proposal
	CodeAlreadyVoted      Code = 43 // second vote by the same issuer
	CodeIssuerExists      Code = 44 // admission of an issuer id that exists (or existed)
	CodeKeyInUse          Code = 45 // a signing or validator key some issuer uses or used
	CodeLastIssuer        Code = 46 // removal that would leave no active issuer
	CodeInvalidProposal   Code = 47 // malformed admission, removal or rotation fields
	CodeIssuerNotActive   Code = 48 // removal of an issuer that is not active
	CodeIdentifierInUse   Code = 49 // an identifier another member holds (or held)
	CodeTooManyProposals  Code = 50 // the proposer has MaxOpenProposalsPerIssuer proposals open
	CodeUnknownQuery      Code = 30 // unknown query path
	CodeBadQuery          Code = 31 // malformed query data
	CodeHeightUnavailable Code = 32 // the requested height is not stored
	CodeNotFound          Code = 33 // queried record does not exist
	CodeInternal          Code = 99 // unexpected internal failure; see the node's log
)

var codeNames = map[Code]string{
	CodeOK:                "ok",
	CodeMalformedTx:       "malformed tx",
	CodeWrongChainID:      "wrong chain id",
	CodeBadSignature:      "bad signature",
	CodeUnknownIssuer:     "unknown issuer",
	CodeIssuerInactive:    "issuer inactive",
	CodeSequenceReplayed:  "sequence replayed",
	CodeSequenceGap:       "sequence gap",
	CodeEmptyBatch:        "empty batch",
	CodeBatchTooLarge:     "batch too large",
	CodeBadHashLength:     "bad hash length",
	CodeReasonTooLong:     "reason too long",
	CodeDuplicateHash:     "duplicate hash",
	CodeAlreadyAnchored:   "already anchored",
	CodeHasStatus:         "has status entry",
	CodeNotOwner:          "not owner",
	CodeAlreadyRevoked:    "already revoked",
	CodeAlreadySuspended:  "already suspended",
	CodeNotSuspended:      "not suspended",
	CodeNotAnchored:       "not anchored",
	CodeMissingMessage:    "missing message",
	CodeInvalidIssuerID:   "invalid issuer id",
	CodeKeyReplaced:       "key replaced",
	CodeBadIdentifier:     "bad identifier",
	CodeUnknownProposal:   "unknown proposal",
	CodeProposalDecided:   "proposal decided",
	CodeProposalExpired:   "proposal expired",
	CodeAlreadyVoted:      "already voted",
	CodeIssuerExists:      "issuer exists",
	CodeKeyInUse:          "key in use",
	CodeLastIssuer:        "last issuer",
	CodeInvalidProposal:   "invalid proposal",
	CodeIssuerNotActive:   "issuer not active",
	CodeIdentifierInUse:   "identifier in use",
	CodeTooManyProposals:  "too many open proposals",
	CodeUnknownQuery:      "unknown query path",
	CodeBadQuery:          "bad query",
	CodeHeightUnavailable: "height unavailable",
	CodeNotFound:          "not found",
	CodeInternal:          "internal error",
}

// String returns a short name for the code, such as "already anchored".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "unknown code"
}
