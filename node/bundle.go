package node

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cometbft/cometbft/light"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/types"
)

// BundleFormat is the format string of a proof bundle this code writes and reads.
const BundleFormat = "credledger-proof-bundle/2"

// bundleFormatV1 is the format before light blocks were protobuf-encoded;
// it is no longer read.
const bundleFormatV1 = "credledger-proof-bundle/1"

// ErrBadBundle means a bundle is malformed: undecodable or inconsistent
// before any signature or proof is checked.
var ErrBadBundle = errors.New("malformed proof bundle")

// Bundle is a self-contained proof of what the chain said about one
// credential hash at state Height: the anchor record and status entry with
// their ICS23 proofs, the issuer's record with its proof, and the light
// blocks (signed header, commit, validator set) from the trust root to
// header Height+1, whose app hash the proofs verify against. VerifyBundle
// checks it without network access.
type Bundle struct {
	Format  string
	ChainID string
	Hash    []byte
	// Height is the state height the answer is about (the last light
	// block's height minus one).
	Height int64
	// Anchor and Status are the encoded types.AnchorRecord and
	// types.StatusEntry (empty if absent); the proofs are encoded ICS23
	// CommitmentProofs for types.AnchorKey(Hash) and types.StatusKey(Hash).
	Anchor, AnchorProof []byte
	Status, StatusProof []byte
	// Issuer is the record of the issuer the verdict names (nil if none).
	Issuer *BundleIssuer
	// LightBlocks go from the trust root (first) to the proving header
	// (last), each verifiable from the one before with light.Verify.
	LightBlocks []*cmttypes.LightBlock
}

// BundleIssuer is an /issuer answer: the encoded types.Issuer (empty if
// absent) and its ICS23 proof.
type BundleIssuer struct {
	ID     string
	Record []byte
	Proof  []byte
}

// bundleJSON is the file format; see README "Proof bundles".
type bundleJSON struct {
	Format       string            `json:"format"`
	ChainID      string            `json:"chain_id"`
	Hash         types.HexBytes    `json:"hash"`
	Height       int64             `json:"height"`
	HeaderHeight int64             `json:"header_height"`
	Credential   credentialJSON    `json:"credential"`
	Issuer       *bundleIssuerJSON `json:"issuer,omitempty"`
	// LightBlocks are protobuf-encoded tendermint.types.LightBlock messages.
	LightBlocks [][]byte `json:"light_blocks"`
}

type credentialJSON struct {
	AnchorRecord []byte `json:"anchor_record"`
	AnchorProof  []byte `json:"anchor_proof"`
	StatusEntry  []byte `json:"status_entry"`
	StatusProof  []byte `json:"status_proof"`
}

type bundleIssuerJSON struct {
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
		Format: b.Format, ChainID: b.ChainID, Hash: b.Hash, Height: b.Height, HeaderHeight: b.HeaderHeight(),
		Credential: credentialJSON{AnchorRecord: b.Anchor, AnchorProof: b.AnchorProof, StatusEntry: b.Status, StatusProof: b.StatusProof},
	}
	if b.Issuer != nil {
		j.Issuer = &bundleIssuerJSON{ID: b.Issuer.ID, Record: b.Issuer.Record, Proof: b.Issuer.Proof}
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

// DecodeBundle parses a bundle and checks its form with ValidateBasic; it
// checks no signature or proof. Errors wrap ErrBadBundle.
func DecodeBundle(bz []byte) (*Bundle, error) {
	// read the format first: a bundle of another format may not parse as
	// this one
	var f struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(bz, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
	}
	if err := checkFormat(f.Format); err != nil {
		return nil, err
	}
	var j bundleJSON
	if err := json.Unmarshal(bz, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
	}
	b := &Bundle{
		Format: j.Format, ChainID: j.ChainID, Hash: j.Hash, Height: j.Height,
		Anchor: j.Credential.AnchorRecord, AnchorProof: j.Credential.AnchorProof,
		Status: j.Credential.StatusEntry, StatusProof: j.Credential.StatusProof,
	}
	if j.Issuer != nil {
		b.Issuer = &BundleIssuer{ID: j.Issuer.ID, Record: j.Issuer.Record, Proof: j.Issuer.Proof}
	}
	for i, raw := range j.LightBlocks {
		lb, err := decodeLightBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: light block %d: %w", ErrBadBundle, i, err)
		}
		b.LightBlocks = append(b.LightBlocks, lb)
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	if j.HeaderHeight != b.HeaderHeight() {
		return nil, fmt.Errorf("%w: header_height %d, but the last light block is at %d", ErrBadBundle, j.HeaderHeight, b.HeaderHeight())
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

// checkFormat reports whether format is BundleFormat. Errors wrap
// ErrBadBundle.
func checkFormat(format string) error {
	switch format {
	case BundleFormat:
		return nil
	case bundleFormatV1:
		return fmt.Errorf("%w: format %q is no longer supported (its light blocks are RPC JSON); make the bundle again with credledger prove to get %q",
			ErrBadBundle, format, BundleFormat)
	default:
		return fmt.Errorf("%w: format %q, want %q", ErrBadBundle, format, BundleFormat)
	}
}

// ValidateBasic checks the bundle's form: format, chain id, hash size,
// light blocks valid for the chain (cmttypes.LightBlock.ValidateBasic) in
// increasing height order, and Height one below the last. Errors wrap
// ErrBadBundle.
func (b *Bundle) ValidateBasic() error {
	if err := checkFormat(b.Format); err != nil {
		return err
	}
	switch {
	case b.ChainID == "":
		return fmt.Errorf("%w: no chain id", ErrBadBundle)
	case len(b.Hash) != types.HashSize:
		return fmt.Errorf("%w: hash is %d bytes, want %d", ErrBadBundle, len(b.Hash), types.HashSize)
	case len(b.LightBlocks) == 0:
		return fmt.Errorf("%w: no light blocks", ErrBadBundle)
	}
	for i, lb := range b.LightBlocks {
		if lb == nil {
			return fmt.Errorf("%w: light block %d is empty", ErrBadBundle, i)
		}
		if err := lb.ValidateBasic(b.ChainID); err != nil {
			return fmt.Errorf("%w: light block %d: %w", ErrBadBundle, i, err)
		}
		if i > 0 && lb.Height <= b.LightBlocks[i-1].Height {
			return fmt.Errorf("%w: light block %d is at height %d, not above %d", ErrBadBundle, i, lb.Height, b.LightBlocks[i-1].Height)
		}
	}
	if b.Height < 0 || b.Height != b.HeaderHeight()-1 {
		return fmt.Errorf("%w: height %d, but the proving header is at %d", ErrBadBundle, b.Height, b.HeaderHeight())
	}
	if b.Issuer != nil {
		if err := types.ValidateIssuerID(b.Issuer.ID); err != nil {
			return fmt.Errorf("%w: issuer: %w", ErrBadBundle, err)
		}
	}
	return nil
}

// LoadBundle reads and decodes a bundle file.
func LoadBundle(path string) (*Bundle, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	b, err := DecodeBundle(bz)
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
	if _, err := genesisValidatorSet(doc); err != nil {
		return TrustRoot{}, fmt.Errorf("genesis %s: %w", path, err)
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

// height returns the height of the root block.
func (r TrustRoot) height() int64 {
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
	if lb.Height != r.height() {
		return fmt.Errorf("%w: root header is at height %d, the trust root at %d", ErrTrustRoot, lb.Height, r.height())
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
	vals, err := genesisValidatorSet(r.Genesis)
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

// genesisValidatorSet returns the validator set a genesis file starts with.
func genesisValidatorSet(doc *cmttypes.GenesisDoc) (*cmttypes.ValidatorSet, error) {
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

// VerifyBundle checks a bundle offline against root: the first light block
// is the root (TrustRoot.Check), each next one verifies from the one before
// with CometBFT's light.Verify (trust level 1/3, the given trusting period,
// time now), and the proofs verify against the last one's app hash. now is
// normally time.Now(): a bundle stops verifying once its root header is
// older than trustingPeriod at now. The report's Height, HeaderHeight and
// HeaderTime say what the verdict is as of.
func VerifyBundle(b *Bundle, root TrustRoot, now time.Time, trustingPeriod time.Duration) (*LightReport, error) {
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	first := b.LightBlocks[0]
	if err := root.Check(first, b.ChainID); err != nil {
		return nil, err
	}
	if light.HeaderExpired(first.SignedHeader, trustingPeriod, now) {
		return nil, fmt.Errorf("%w: the trust root header %d (%s) is older than the trusting period %s; pass a longer --trusting-period to check an old bundle",
			ErrHeaderNotVerified, first.Height, first.Time.UTC().Format(time.RFC3339), trustingPeriod)
	}
	for i := 1; i < len(b.LightBlocks); i++ {
		prev, lb := b.LightBlocks[i-1], b.LightBlocks[i]
		if err := verifyStep(prev, lb, trustingPeriod, now); err != nil {
			return nil, fmt.Errorf("%w: bundle light block %d (header %d) does not verify from header %d: %w", ErrHeaderNotVerified, i, lb.Height, prev.Height, err)
		}
	}
	return checkBundleAnswer(b, b.LightBlocks[len(b.LightBlocks)-1])
}

// checkBundleAnswer checks the bundle's records and proofs against the
// app hash of target, the (verified) proving header.
func checkBundleAnswer(b *Bundle, target *cmttypes.LightBlock) (*LightReport, error) {
	ans := &types.CredentialAnswer{Hash: b.Hash, Anchor: b.Anchor, Status: b.Status}
	res, err := types.VerifyCredential(b.Hash, ans, b.AnchorProof, b.StatusProof, target.AppHash)
	if err != nil {
		return nil, fmt.Errorf("bundle's credential proofs do not verify against header %d: %w", target.Height, err)
	}
	rep := newLightReport(b.ChainID, res, target)
	id := res.Issuer()
	switch {
	case id == "" && b.Issuer == nil:
	case id == "" || b.Issuer == nil || b.Issuer.ID != id:
		return nil, fmt.Errorf("%w: the verdict names issuer %q, the bundle's issuer record is for %q", ErrBadBundle, id, bundleIssuerID(b))
	default:
		if rep.IssuerRecord, err = types.VerifyIssuer(id, b.Issuer.Record, b.Issuer.Proof, target.AppHash); err != nil {
			return nil, fmt.Errorf("bundle's issuer proof does not verify against header %d: %w", target.Height, err)
		}
	}
	return rep, nil
}

func bundleIssuerID(b *Bundle) string {
	if b.Issuer == nil {
		return ""
	}
	return b.Issuer.ID
}

// verifyStep verifies untrusted from trusted exactly as the light client's
// skipping verification does: light.Verify with trust level 1/3.
func verifyStep(trusted, untrusted *cmttypes.LightBlock, trustingPeriod time.Duration, now time.Time) error {
	return light.Verify(trusted.SignedHeader, trusted.ValidatorSet, untrusted.SignedHeader, untrusted.ValidatorSet,
		trustingPeriod, now, DefaultMaxClockDrift, light.DefaultTrustLevel)
}

// buildPath returns light blocks from the one at rootHeight to the one at
// targetHeight, each verifying from the one before with step, chosen among
// cands (sorted by height): the blocks the light client fetched while it
// verified the target. It prefers long jumps and backtracks on dead ends.
func buildPath(cands []*cmttypes.LightBlock, rootHeight, targetHeight int64, step func(trusted, untrusted *cmttypes.LightBlock) error) ([]*cmttypes.LightBlock, error) {
	var root, target *cmttypes.LightBlock
	for _, lb := range cands {
		switch lb.Height {
		case rootHeight:
			root = lb
		case targetHeight:
			target = lb
		}
	}
	switch {
	case targetHeight < rootHeight:
		return nil, fmt.Errorf("header %d is below the trust root at height %d: a bundle only goes forward from its root", targetHeight, rootHeight)
	case root == nil:
		return nil, fmt.Errorf("the trust root block %d was not fetched", rootHeight)
	case targetHeight == rootHeight:
		return []*cmttypes.LightBlock{root}, nil
	case target == nil:
		return nil, fmt.Errorf("header %d was not fetched", targetHeight)
	}
	dead := map[int64]bool{}
	var from func(cur *cmttypes.LightBlock) []*cmttypes.LightBlock
	from = func(cur *cmttypes.LightBlock) []*cmttypes.LightBlock {
		if step(cur, target) == nil {
			return []*cmttypes.LightBlock{cur, target}
		}
		for i := len(cands) - 1; i >= 0; i-- {
			next := cands[i]
			if next.Height <= cur.Height || next.Height >= targetHeight || dead[next.Height] || step(cur, next) != nil {
				continue
			}
			if rest := from(next); rest != nil {
				return append([]*cmttypes.LightBlock{cur}, rest...)
			}
		}
		dead[cur.Height] = true
		return nil
	}
	path := from(root)
	if path == nil {
		return nil, fmt.Errorf("%w: no chain of verifiable headers from %d to %d among the %d fetched", ErrHeaderNotVerified, rootHeight, targetHeight, len(cands))
	}
	return path, nil
}
