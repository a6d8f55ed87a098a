package bundle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"
)

// TrustRoot is what a verifier trusts before it has verified anything:
// either a genesis file (its validators, and the first block they sign) or
// the hash of a header at a height.
type TrustRoot struct {
	// Genesis, when set, is the trusted genesis; Height and Hash are unused.
	Genesis *cmttypes.GenesisDoc
	// Height and Hash name a trusted header.
	Height int64
	Hash   []byte
}

// LoadGenesisTrustRoot reads a genesis file to trust.
func LoadGenesisTrustRoot(path string) (TrustRoot, error) {
	doc, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("genesis %s: %w", path, err)
	}
	if _, err := GenesisValidatorSet(doc); err != nil {
		return TrustRoot{}, fmt.Errorf("genesis %s: %w", path, err)
	}
	return TrustRoot{Genesis: doc}, nil
}

// NewGenesisTrustRoot returns the trust root of a genesis file's contents
// (for callers that have the bytes, not a file, such as a browser).
func NewGenesisTrustRoot(genesisJSON []byte) (TrustRoot, error) {
	doc, err := cmttypes.GenesisDocFromJSON(genesisJSON)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("genesis: %w", err)
	}
	if _, err := GenesisValidatorSet(doc); err != nil {
		return TrustRoot{}, fmt.Errorf("genesis: %w", err)
	}
	return TrustRoot{Genesis: doc}, nil
}

// NewHeaderTrustRoot returns the trust root "header height has hash
// hashHex" (64 hex digits). Requires height > 0.
func NewHeaderTrustRoot(height int64, hashHex string) (TrustRoot, error) {
	if height <= 0 {
		return TrustRoot{}, fmt.Errorf("trust height %d: want a height > 0", height)
	}
	h, err := hex.DecodeString(hashHex)
	if err != nil || len(h) != 32 {
		return TrustRoot{}, fmt.Errorf("trust hash %q: want the header hash as 64 hex digits", hashHex)
	}
	return TrustRoot{Height: height, Hash: h}, nil
}

// String describes the root.
func (r TrustRoot) String() string {
	if r.Genesis != nil {
		return fmt.Sprintf("genesis of chain %q", r.Genesis.ChainID)
	}
	return fmt.Sprintf("header %d (%X)", r.Height, r.Hash)
}

// RootHeight returns the height of the root block: the genesis initial
// height, or the trusted header's height.
func (r TrustRoot) RootHeight() int64 {
	if r.Genesis != nil {
		return r.Genesis.InitialHeight
	}
	return r.Height
}

// Check reports whether lb is the root block for chainID: for a genesis
// root, the block at the initial height whose validators are the genesis
// validators and whose commit carries more than 2/3 of their voting power;
// for a header root, the header with the trusted hash, with a valid commit.
// Errors wrap ErrTrustRoot.
func (r TrustRoot) Check(lb *cmttypes.LightBlock, chainID string) error {
	if lb == nil {
		return fmt.Errorf("%w: no root block", ErrTrustRoot)
	}
	if err := lb.ValidateBasic(chainID); err != nil {
		return fmt.Errorf("%w: root header %d: %w", ErrTrustRoot, lb.Height, err)
	}
	if lb.Height != r.RootHeight() {
		return fmt.Errorf("%w: root header is at height %d, the trust root at %d", ErrTrustRoot, lb.Height, r.RootHeight())
	}
	if r.Genesis == nil {
		if !bytes.Equal(lb.Hash(), r.Hash) {
			return fmt.Errorf("%w: header %d has hash %X, the trusted hash is %X", ErrTrustRoot, lb.Height, lb.Hash(), r.Hash)
		}
		if err := lb.ValidatorSet.VerifyCommitLight(chainID, lb.Commit.BlockID, lb.Height, lb.Commit); err != nil {
			return fmt.Errorf("%w: commit of header %d: %w", ErrTrustRoot, lb.Height, err)
		}
		return nil
	}
	if chainID != r.Genesis.ChainID {
		return fmt.Errorf("%w: chain %q, but the genesis is for %q", ErrTrustRoot, chainID, r.Genesis.ChainID)
	}
	vals, err := GenesisValidatorSet(r.Genesis)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTrustRoot, err)
	}
	if !bytes.Equal(lb.ValidatorsHash, vals.Hash()) {
		return fmt.Errorf("%w: header %d has validators hash %X, not the genesis validator set's %X", ErrTrustRoot, lb.Height, lb.ValidatorsHash, vals.Hash())
	}
	if err := vals.VerifyCommitLight(chainID, lb.Commit.BlockID, lb.Height, lb.Commit); err != nil {
		return fmt.Errorf("%w: commit of header %d is not signed by more than 2/3 of the genesis validators: %w", ErrTrustRoot, lb.Height, err)
	}
	return nil
}

// GenesisValidatorSet returns the validator set a genesis file starts with.
// It fails if the genesis lists no validators.
func GenesisValidatorSet(doc *cmttypes.GenesisDoc) (*cmttypes.ValidatorSet, error) {
	if len(doc.Validators) == 0 {
		return nil, errors.New("the genesis lists no validators, so it cannot be a trust root")
	}
	vals := make([]*cmttypes.Validator, len(doc.Validators))
	for i, v := range doc.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	set := cmttypes.NewValidatorSet(nil)
	if err := set.UpdateWithChangeSet(vals); err != nil {
		return nil, fmt.Errorf("genesis validators: %w", err)
	}
	return set, nil
}
