package query

import (
	"bytes"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

// Query paths. An answer's Height H is the state version it is about: its
// proofs verify against the app hash in header H+1.
const (
	// PathCredential takes a 32-byte hash and returns a types.CredentialAnswer
	// (every issuer's record of the hash) with one ProofOp for its key.
	PathCredential = "/credential"
	// PathIssuer takes an issuer id and returns the encoded types.Issuer
	// (empty if unknown) with one ProofOp for its key.
	PathIssuer = "/issuer"
	// PathIssuers takes an encoded types.PageRequest (empty: the first
	// page) and returns a types.IssuerList of one page of issuers in id
	// order (no proof).
	PathIssuers = "/issuers"
	// PathSequence takes an issuer id and returns its next sequence number
	// (types.EncodeSequence, no proof).
	PathSequence = "/sequence"
	// PathPendingSequence takes an issuer id and returns the next sequence
	// number after its txs in the node's mempool (the committed one if it
	// holds none; types.EncodeSequence, no proof, no height). An issuer
	// resuming a run waits until its txs still in the mempool are
	// committed or dropped, so that it does not sign the same sequence
	// again.
	PathPendingSequence = "/pending_sequence"
	// PathParams returns the encoded types.Params (no proof).
	PathParams = "/params"
	// PathProposal takes a proposal id (types.EncodeProposalID) and returns
	// the encoded types.Proposal (empty if unknown) with one ProofOp.
	PathProposal = "/proposal"
	// PathProposals takes an encoded types.PageRequest (empty: the first
	// page) and returns a types.ProposalList of one page of proposals in
	// id order (no proof).
	PathProposals = "/proposals"
	// PathAnchoredBy takes an issuer id and up to MaxAnchoredByHashes
	// hashes (EncodeAnchoredByRequest) and returns one byte per hash, 1 if
	// the issuer's own entry of the hash has an anchor (a void is not
	// looked at), else 0, all from one state (no proof: for an issuer
	// asking its own node, as `anchor --skip-anchored` does, in one query
	// per thousand hashes instead of one per hash).
	PathAnchoredBy = "/anchored_by"
)

// MaxAnchoredByHashes bounds the hashes of one PathAnchoredBy query.
const MaxAnchoredByHashes = 1000

// EncodeAnchoredByRequest encodes a PathAnchoredBy query: the issuer id's
// length in one byte, the id, then the 32-byte hashes.
func EncodeAnchoredByRequest(issuer string, hashes [][]byte) []byte {
	out := make([]byte, 0, 1+len(issuer)+types.HashSize*len(hashes))
	out = append(out, byte(len(issuer)))
	out = append(out, issuer...)
	for _, h := range hashes {
		out = append(out, h...)
	}
	return out
}

// DecodeAnchoredByRequest decodes a PathAnchoredBy query.
func DecodeAnchoredByRequest(bz []byte) (issuer string, hashes [][]byte, err error) {
	if len(bz) < 1 || len(bz) < 1+int(bz[0]) {
		return "", nil, types.Errorf(types.CodeBadQuery, "anchored_by query of %d bytes is shorter than its issuer id", len(bz))
	}
	issuer = string(bz[1 : 1+int(bz[0])])
	if err := types.ValidateIssuerID(issuer); err != nil {
		return "", nil, types.Errorf(types.CodeBadQuery, "anchored_by query: %s", err.Error())
	}
	rest := bz[1+int(bz[0]):]
	if len(rest) == 0 || len(rest)%types.HashSize != 0 {
		return "", nil, types.Errorf(types.CodeBadQuery, "anchored_by query has %d bytes of hashes, want a positive multiple of %d", len(rest), types.HashSize)
	}
	if n := len(rest) / types.HashSize; n > MaxAnchoredByHashes {
		return "", nil, types.Errorf(types.CodeBadQuery, "anchored_by query has %d hashes, at most %d", n, MaxAnchoredByHashes)
	}
	for len(rest) > 0 {
		hashes = append(hashes, rest[:types.HashSize:types.HashSize])
		rest = rest[types.HashSize:]
	}
	return issuer, hashes, nil
}

// Page sizes of the list queries: a page has at most MaxPageSize entries,
// DefaultPageSize when the request names no limit.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page returns the query data of a list query for the page after after
// (nil: the first) with at most limit entries (0: DefaultPageSize).
func Page(after []byte, limit uint32) []byte {
	bz, err := (&types.PageRequest{After: after, Limit: limit}).Marshal()
	if err != nil {
		panic(fmt.Sprintf("encode page request: %v", err)) // cannot fail
	}
	return bz
}

// Paths lists every query path, for messages that name them.
var Paths = []string{PathCredential, PathIssuer, PathIssuers, PathSequence, PathParams, PathProposal, PathProposals, PathAnchoredBy, PathPendingSequence}

// CredentialProof is a /credential answer with its proof, as served for
// state height Height (provable by header Height+1). Nothing in it is
// verified yet: pass it to types.VerifyCredential.
type CredentialProof struct {
	Height int64
	Answer types.CredentialAnswer
	// Proof is the ICS23 proof for types.CredentialKey(hash).
	Proof []byte
}

// DecodeCredential decodes a successful /credential answer about hash and
// checks its form: an answer and one ICS23 proof op for the credential key
// of hash. Errors wrap types.ErrMalformedAnswer.
func DecodeCredential(hash []byte, r *abci.ResponseQuery) (*CredentialProof, error) {
	p := &CredentialProof{Height: r.Height}
	if err := p.Answer.Unmarshal(r.Value); err != nil {
		return nil, fmt.Errorf("%w: decode credential answer: %w", types.ErrMalformedAnswer, err)
	}
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 1 {
		return nil, fmt.Errorf("%w: want 1 proof op (the credential record)", types.ErrMalformedAnswer)
	}
	op := r.ProofOps.Ops[0]
	if op.Type != types.ProofOpType || !bytes.Equal(op.Key, types.CredentialKey(hash)) {
		return nil, fmt.Errorf("%w: proof op is %q for key %X", types.ErrMalformedAnswer, op.Type, op.Key)
	}
	p.Proof = op.Data
	return p, nil
}

// IssuerProof is an /issuer answer: the encoded types.Issuer (empty if
// there is no such issuer) and its ICS23 proof, unverified: pass them to
// types.VerifyIssuer.
type IssuerProof struct {
	ID     string
	Height int64
	Value  []byte
	Proof  []byte
}

// DecodeIssuer checks the form of a successful /issuer answer about id:
// one ICS23 proof op for the issuer's key. Errors wrap
// types.ErrMalformedAnswer.
func DecodeIssuer(id string, r *abci.ResponseQuery) (*IssuerProof, error) {
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 1 || r.ProofOps.Ops[0].Type != types.ProofOpType ||
		!bytes.Equal(r.ProofOps.Ops[0].Key, types.IssuerKey(id)) {
		return nil, fmt.Errorf("%w: want 1 proof op for issuer %q", types.ErrMalformedAnswer, id)
	}
	return &IssuerProof{ID: id, Height: r.Height, Value: r.Value, Proof: r.ProofOps.Ops[0].Data}, nil
}

// DecodeParams decodes a /params answer.
func DecodeParams(r *abci.ResponseQuery) (types.Params, error) {
	var p types.Params
	if err := p.Unmarshal(r.Value); err != nil {
		return p, fmt.Errorf("%w: decode params: %w", types.ErrMalformedAnswer, err)
	}
	return p, nil
}

// DecodeIssuerPage decodes an /issuers answer: one page of issuers and
// the after of the next page (nil: it was the last).
func DecodeIssuerPage(r *abci.ResponseQuery) ([]*types.Issuer, []byte, error) {
	var list types.IssuerList
	if err := list.Unmarshal(r.Value); err != nil {
		return nil, nil, fmt.Errorf("%w: decode issuer list: %w", types.ErrMalformedAnswer, err)
	}
	return list.Issuers, list.Next, nil
}

// DecodeProposal decodes a /proposal answer about id; it returns nil if
// there is no such proposal.
func DecodeProposal(id uint64, r *abci.ResponseQuery) (*types.Proposal, error) {
	if len(r.Value) == 0 {
		return nil, nil
	}
	var p types.Proposal
	if err := p.Unmarshal(r.Value); err != nil {
		return nil, fmt.Errorf("%w: decode proposal %d: %w", types.ErrMalformedAnswer, id, err)
	}
	if p.Id != id {
		return nil, fmt.Errorf("%w: asked for proposal %d, got %d", types.ErrMalformedAnswer, id, p.Id)
	}
	return &p, nil
}

// DecodeProposalPage decodes a /proposals answer: one page of proposals
// and the after of the next page (nil: it was the last).
func DecodeProposalPage(r *abci.ResponseQuery) ([]*types.Proposal, []byte, error) {
	var list types.ProposalList
	if err := list.Unmarshal(r.Value); err != nil {
		return nil, nil, fmt.Errorf("%w: decode proposal list: %w", types.ErrMalformedAnswer, err)
	}
	return list.Proposals, list.Next, nil
}
