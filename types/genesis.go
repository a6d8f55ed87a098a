package types

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Limits that no genesis may exceed, whatever its parameters say.
const (
	// MaxBatchSizeLimit bounds Params.MaxBatchSize (a 100k-hash tx is ~3.4 MB).
	MaxBatchSizeLimit = 100_000
	// MaxReasonLengthLimit bounds Params.MaxReasonLength.
	MaxReasonLengthLimit = 4096
)

// DefaultParams returns the parameters a new consortium starts with.
func DefaultParams() Params {
	return Params{MaxBatchSize: 10_000, MaxReasonLength: 256, ProposalExpiryBlocks: 1000}
}

// ValidateBasic checks that the parameters are within their limits.
func (p Params) ValidateBasic() error {
	if p.MaxBatchSize == 0 || p.MaxBatchSize > MaxBatchSizeLimit {
		return fmt.Errorf("max_batch_size %d: must be in 1..%d", p.MaxBatchSize, MaxBatchSizeLimit)
	}
	if p.MaxReasonLength > MaxReasonLengthLimit {
		return fmt.Errorf("max_reason_length %d: must be at most %d", p.MaxReasonLength, MaxReasonLengthLimit)
	}
	if p.ProposalExpiryBlocks <= 0 {
		return fmt.Errorf("proposal_expiry_blocks %d: must be positive", p.ProposalExpiryBlocks)
	}
	return nil
}

// HexBytes is a byte slice that is written to JSON as lowercase hex.
type HexBytes []byte

// MarshalJSON encodes the bytes as a hex string.
func (h HexBytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(hex.EncodeToString(h))
}

// UnmarshalJSON decodes a hex string.
func (h *HexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("hex bytes: %w", err)
	}
	bz, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("hex bytes %q: %w", s, err)
	}
	*h = bz
	return nil
}

// GenesisIssuer is a founding consortium member as written in genesis.
type GenesisIssuer struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	SigningPubKey   HexBytes `json:"signing_pubkey"`
	ValidatorPubKey HexBytes `json:"validator_pubkey"`
	Power           int64    `json:"power"`
	// Identifiers are the DIDs or URLs the issuer's credentials name in
	// their issuer field (types.ValidateIdentifier).
	Identifiers []string `json:"identifiers,omitempty"`
}

// GenesisState is the app_state of a credledger genesis file.
type GenesisState struct {
	Params  GenesisParams   `json:"params"`
	Issuers []GenesisIssuer `json:"issuers"`
}

// GenesisParams is the JSON form of Params.
type GenesisParams struct {
	MaxBatchSize         uint32 `json:"max_batch_size"`
	MaxReasonLength      uint32 `json:"max_reason_length"`
	ProposalExpiryBlocks int64  `json:"proposal_expiry_blocks"`
}

// Params converts the JSON form to Params.
func (g GenesisParams) Params() Params {
	return Params{MaxBatchSize: g.MaxBatchSize, MaxReasonLength: g.MaxReasonLength, ProposalExpiryBlocks: g.ProposalExpiryBlocks}
}

// NewGenesisParams converts Params to their JSON form.
func NewGenesisParams(p Params) GenesisParams {
	return GenesisParams{MaxBatchSize: p.MaxBatchSize, MaxReasonLength: p.MaxReasonLength, ProposalExpiryBlocks: p.ProposalExpiryBlocks}
}

// MaxIssuerNameLength bounds issuer display names.
const MaxIssuerNameLength = 128

// ErrInvalidGenesis is wrapped by every genesis validation error.
var ErrInvalidGenesis = errors.New("invalid genesis app_state")

// DecodeGenesisState parses and validates an app_state.
func DecodeGenesisState(bz []byte) (*GenesisState, error) {
	var g GenesisState
	if err := json.Unmarshal(bz, &g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	if err := g.ValidateBasic(); err != nil {
		return nil, err
	}
	return &g, nil
}

// ValidateBasic checks the params and that there is at least one issuer,
// every issuer is well-formed, and no id or key is used twice.
func (g *GenesisState) ValidateBasic() error {
	if err := g.Params.Params().ValidateBasic(); err != nil {
		return fmt.Errorf("%w: params: %w", ErrInvalidGenesis, err)
	}
	if len(g.Issuers) == 0 {
		return fmt.Errorf("%w: no issuers: a consortium needs at least one", ErrInvalidGenesis)
	}
	seen := map[string]bool{}
	for i, is := range g.Issuers {
		if err := is.ValidateBasic(); err != nil {
			return fmt.Errorf("%w: issuer #%d: %w", ErrInvalidGenesis, i, err)
		}
		for _, k := range []string{"id:" + is.ID, "sk:" + string(is.SigningPubKey), "vk:" + string(is.ValidatorPubKey)} {
			if seen[k] {
				return fmt.Errorf("%w: issuer #%d (%s) repeats an id or key of an earlier issuer", ErrInvalidGenesis, i, is.ID)
			}
			seen[k] = true
		}
		for _, ident := range is.Identifiers {
			if seen["ident:"+ident] {
				return fmt.Errorf("%w: issuer #%d (%s): identifier %q is another issuer's", ErrInvalidGenesis, i, is.ID, ident)
			}
			seen["ident:"+ident] = true
		}
	}
	return nil
}

// ValidateBasic checks the issuer's id, name, keys and power.
func (is GenesisIssuer) ValidateBasic() error {
	if err := ValidateIssuerID(is.ID); err != nil {
		return err
	}
	if len(is.Name) > MaxIssuerNameLength {
		return fmt.Errorf("name is %d bytes, at most %d allowed", len(is.Name), MaxIssuerNameLength)
	}
	if len(is.SigningPubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("signing_pubkey is %d bytes, want %d (ed25519)", len(is.SigningPubKey), ed25519.PublicKeySize)
	}
	if len(is.ValidatorPubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("validator_pubkey is %d bytes, want %d (ed25519)", len(is.ValidatorPubKey), ed25519.PublicKeySize)
	}
	if is.Power <= 0 {
		return fmt.Errorf("power %d: must be positive", is.Power)
	}
	return ValidateIdentifiers(is.Identifiers)
}

// Issuer returns the state record of a founding issuer.
func (is GenesisIssuer) Issuer() Issuer {
	return Issuer{
		Id: is.ID, Name: is.Name, SigningPubkey: is.SigningPubKey, ValidatorPubkey: is.ValidatorPubKey,
		Power: is.Power, Status: IssuerStatus_ISSUER_STATUS_ACTIVE, Identifiers: SortedIdentifiers(is.Identifiers),
	}
}
