package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/types"
)

// Format is the format string of a proof bundle this code writes and reads.
// Since /3 the chain of light blocks passes through the headers that date
// the answer's records (types.CredentialResult.CommitHeaders); since /4 the
// answer is the credential record (every issuer's record of the hash) and
// the records of all those issuers; since /5 a bundle may be about a past
// height (as_of_height) while proving the latest state's records.
const Format = "credledger-proof-bundle/5"

// Older formats, no longer read: /1 had light blocks in RPC JSON, /2 lacks
// the headers that date the records, /3 has the one-record layout, /4
// proved a past height with that height's state (nodes prune old states,
// and a /4 checker would read a /5 as-of bundle as the latest verdict).
var oldFormats = []string{"credledger-proof-bundle/1", "credledger-proof-bundle/2", "credledger-proof-bundle/3", "credledger-proof-bundle/4"}

// ErrMalformed means a bundle is malformed: undecodable or inconsistent
// before any signature or proof is checked.
var ErrMalformed = errors.New("malformed proof bundle")

// Bundle is a self-contained proof of what the chain said about one
// credential hash at state Height: the credential record (every issuer's
// record of the hash) with its ICS23 proof, the records of those issuers
// with their proofs, and the light blocks (signed header, commit,
// validator set) from the trust root to header Height+1, whose app hash
// the proofs verify against. Verify checks it without network access.
type Bundle struct {
	Format  string
	ChainID string
	Hash    []byte
	// Height is the state height the records are proven from (the last
	// light block's height minus one).
	Height int64
	// AsOfHeight is the past state height the verdict is about
	// (types.Report.SetAsOf), below Height; 0: Height itself. The light
	// blocks then include header AsOfHeight+1, which dates it.
	AsOfHeight int64
	// Record is the encoded types.CredentialRecord (empty if no issuer has
	// a record of the hash); RecordProof its encoded ICS23 CommitmentProof
	// for types.CredentialKey(Hash).
	Record, RecordProof []byte
	// Issuers are the records of the issuers with a record of the hash, in
	// the credential record's order.
	Issuers []*Issuer
	// LightBlocks go from the trust root (first) to the proving header
	// (last), each verifiable from the one before with VerifyStep, through
	// the headers that date the records (types.CredentialResult.CommitHeaders).
	LightBlocks []*cmttypes.LightBlock
}

// Issuer is an /issuer answer: the encoded types.Issuer (empty if
// absent) and its ICS23 proof.
type Issuer struct {
	ID     string
	Record []byte
	Proof  []byte
}

// bundleJSON is the file format; see README "Proof bundles".
type bundleJSON struct {
	Format       string         `json:"format"`
	ChainID      string         `json:"chain_id"`
	Hash         types.HexBytes `json:"hash"`
	Height       int64          `json:"height"`
	AsOfHeight   int64          `json:"as_of_height,omitempty"`
	HeaderHeight int64          `json:"header_height"`
	Credential   credentialJSON `json:"credential"`
	Issuers      []issuerJSON   `json:"issuers"`
	// LightBlocks are protobuf-encoded tendermint.types.LightBlock messages.
	LightBlocks [][]byte `json:"light_blocks"`
}

type credentialJSON struct {
	Record []byte `json:"record"`
	Proof  []byte `json:"proof"`
}

type issuerJSON struct {
	ID     string `json:"id"`
	Record []byte `json:"record"`
	Proof  []byte `json:"proof"`
}

// HeaderHeight returns the height of the proving header (0 if there is none).
func (b *Bundle) HeaderHeight() int64 {
	if len(b.LightBlocks) == 0 || b.LightBlocks[len(b.LightBlocks)-1] == nil {
		return 0
	}
	return b.LightBlocks[len(b.LightBlocks)-1].Height
}

// Encode returns the bundle as indented JSON. Light blocks are protobuf
// tendermint.types.LightBlock messages; they and the other byte strings are
// in base64, the hash in hex.
func (b *Bundle) Encode() ([]byte, error) {
	j := bundleJSON{
		Format: b.Format, ChainID: b.ChainID, Hash: b.Hash, Height: b.Height, AsOfHeight: b.AsOfHeight, HeaderHeight: b.HeaderHeight(),
		Credential: credentialJSON{Record: b.Record, Proof: b.RecordProof}, Issuers: []issuerJSON{},
	}
	for _, is := range b.Issuers {
		j.Issuers = append(j.Issuers, issuerJSON{ID: is.ID, Record: is.Record, Proof: is.Proof})
	}
	for i, lb := range b.LightBlocks {
		raw, err := encodeLightBlock(lb)
		if err != nil {
			return nil, fmt.Errorf("encode light block %d: %w", i, err)
		}
		j.LightBlocks = append(j.LightBlocks, raw)
	}
	bz, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return append(bz, '\n'), nil
}

// Decode parses a bundle and checks its form with ValidateBasic; it
// checks no signature or proof. Errors wrap ErrMalformed.
func Decode(bz []byte) (*Bundle, error) {
	// read the format first: a bundle of another format may not parse as
	// this one
	var f struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(bz, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := checkFormat(f.Format); err != nil {
		return nil, err
	}
	var j bundleJSON
	if err := json.Unmarshal(bz, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	b := &Bundle{
		Format: j.Format, ChainID: j.ChainID, Hash: j.Hash, Height: j.Height, AsOfHeight: j.AsOfHeight,
		Record: j.Credential.Record, RecordProof: j.Credential.Proof,
	}
	for _, is := range j.Issuers {
		b.Issuers = append(b.Issuers, &Issuer{ID: is.ID, Record: is.Record, Proof: is.Proof})
	}
	for i, raw := range j.LightBlocks {
		lb, err := decodeLightBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: light block %d: %w", ErrMalformed, i, err)
		}
		b.LightBlocks = append(b.LightBlocks, lb)
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	if j.HeaderHeight != b.HeaderHeight() {
		return nil, fmt.Errorf("%w: header_height %d, but the last light block is at %d", ErrMalformed, j.HeaderHeight, b.HeaderHeight())
	}
	return b, nil
}

// encodeLightBlock returns the protobuf encoding of lb.
func encodeLightBlock(lb *cmttypes.LightBlock) ([]byte, error) {
	if lb == nil {
		return nil, errors.New("empty light block")
	}
	pb, err := lb.ToProto()
	if err != nil {
		return nil, err
	}
	return pb.Marshal()
}

// decodeLightBlock decodes one protobuf-encoded light block. Rebuilding it
// from its protobuf form validates the validator set and computes its
// totals; Bundle.ValidateBasic then checks it for the chain.
func decodeLightBlock(raw []byte) (*cmttypes.LightBlock, error) {
	var pb cmtproto.LightBlock
	if err := pb.Unmarshal(raw); err != nil {
		return nil, err
	}
	if pb.SignedHeader == nil || pb.SignedHeader.Header == nil || pb.SignedHeader.Commit == nil || pb.ValidatorSet == nil {
		return nil, errors.New("want signed_header (header, commit) and validator_set")
	}
	return cmttypes.LightBlockFromProto(&pb)
}

// checkFormat reports whether format is Format. Errors wrap
// ErrMalformed.
func checkFormat(format string) error {
	switch format {
	case Format:
		return nil
	case oldFormats[0], oldFormats[1], oldFormats[2], oldFormats[3]:
		return fmt.Errorf("%w: format %q is no longer supported; make the bundle again with credledger prove to get %q",
			ErrMalformed, format, Format)
	default:
		return fmt.Errorf("%w: format %q, want %q", ErrMalformed, format, Format)
	}
}

// ValidateBasic checks the bundle's form: format, chain id, hash size,
// light blocks valid for the chain (cmttypes.LightBlock.ValidateBasic) in
// increasing height order, and Height one below the last. Errors wrap
// ErrMalformed.
func (b *Bundle) ValidateBasic() error {
	if err := checkFormat(b.Format); err != nil {
		return err
	}
	switch {
	case b.ChainID == "":
		return fmt.Errorf("%w: no chain id", ErrMalformed)
	case len(b.Hash) != types.HashSize:
		return fmt.Errorf("%w: hash is %d bytes, want %d", ErrMalformed, len(b.Hash), types.HashSize)
	case len(b.LightBlocks) == 0:
		return fmt.Errorf("%w: no light blocks", ErrMalformed)
	}
	for i, lb := range b.LightBlocks {
		if lb == nil {
			return fmt.Errorf("%w: light block %d is empty", ErrMalformed, i)
		}
		if err := lb.ValidateBasic(b.ChainID); err != nil {
			return fmt.Errorf("%w: light block %d: %w", ErrMalformed, i, err)
		}
		if i > 0 && lb.Height <= b.LightBlocks[i-1].Height {
			return fmt.Errorf("%w: light block %d is at height %d, not above %d", ErrMalformed, i, lb.Height, b.LightBlocks[i-1].Height)
		}
	}
	if b.Height < 0 || b.Height != b.HeaderHeight()-1 {
		return fmt.Errorf("%w: height %d, but the proving header is at %d", ErrMalformed, b.Height, b.HeaderHeight())
	}
	if b.AsOfHeight < 0 || (b.AsOfHeight != 0 && b.AsOfHeight >= b.Height) {
		return fmt.Errorf("%w: as_of_height %d, want 0 or a height below the proven state %d", ErrMalformed, b.AsOfHeight, b.Height)
	}
	for i, is := range b.Issuers {
		if is == nil {
			return fmt.Errorf("%w: issuer record %d is empty", ErrMalformed, i)
		}
		if err := types.ValidateIssuerID(is.ID); err != nil {
			return fmt.Errorf("%w: issuer record %d: %w", ErrMalformed, i, err)
		}
	}
	return nil
}

// CheckAsked checks that the bundle answers the question its verifier
// asks: about state atHeight (0: the latest state the bundle proves). A
// bundle about a past height (AsOfHeight) is a true verdict about then,
// not now, so it is accepted only when that very height is asked: whoever
// hands over a bundle cannot pass off a verdict from before a revocation
// as a current one.
func (b *Bundle) CheckAsked(atHeight int64) error {
	switch {
	case atHeight == 0 && b.AsOfHeight > 0:
		return fmt.Errorf("the bundle is about past state %d, not the latest state it proves (%d): ask about that height to accept a verdict about then (verify --at-height %d)", b.AsOfHeight, b.Height, b.AsOfHeight)
	case atHeight > 0 && b.AsOfHeight > 0 && atHeight != b.AsOfHeight:
		return fmt.Errorf("the bundle is about state %d, not %d", b.AsOfHeight, atHeight)
	case atHeight > 0 && b.AsOfHeight == 0 && atHeight != b.Height:
		return fmt.Errorf("the bundle is about state %d, not %d", b.Height, atHeight)
	}
	return nil
}

// Load reads and decodes a bundle file.
func Load(path string) (*Bundle, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	b, err := Decode(bz)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	return b, nil
}

// Save writes the encoded bundle to path.
func (b *Bundle) Save(path string) error {
	bz, err := b.Encode()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, bz, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}
