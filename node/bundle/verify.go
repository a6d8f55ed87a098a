package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/types"
)

// Verification defaults, shared with node/light.
const (
	// DefaultTrustingPeriod is how long a verified header stays a valid
	// starting point for verifying later ones. Proof-of-stake chains use
	// their unbonding period; a consortium has none, so the default is long
	// enough to verify from genesis for the life of a chain (10 years). The
	// price: issuers removed less than this long ago are still trusted not to
	// sign a fork from old headers. Use a shorter period (or a recent
	// trusted header) if that matters more.
	DefaultTrustingPeriod = 10 * 365 * 24 * time.Hour
	// DefaultMaxClockDrift is how far into the future a header's time may be.
	DefaultMaxClockDrift = 10 * time.Second
)

// TrustLevel is the share of a trusted validator set's voting power that
// must have signed a header for a skipping step to it: CometBFT's
// light.DefaultTrustLevel, 1/3.
var TrustLevel = cmtmath.Fraction{Numerator: 1, Denominator: 3}

// Verification failures. Match them with errors.Is; the message says which
// header or proof failed.
var (
	// ErrHeaderNotVerified means a header could not be verified from the
	// trusted ones (bad signatures, too little voting power, expired trust).
	ErrHeaderNotVerified = errors.New("header failed light client verification")
	// ErrTrustRoot means the trust root (genesis or trusted header) does not
	// match the header it is checked against.
	ErrTrustRoot = errors.New("trust root check failed")
)

// Verify checks a bundle offline against root: the first light block
// is the root (TrustRoot.Check), each next one verifies from the one before
// with CometBFT's light.Verify (trust level 1/3, the given trusting period,
// time now), and the proofs verify against the last one's app hash. now is
// normally time.Now(): a bundle stops verifying once its root header is
// older than trustingPeriod at now. The report's Height, HeaderHeight and
// HeaderTime say what the verdict is as of.
func Verify(b *Bundle, root TrustRoot, now time.Time, trustingPeriod time.Duration) (*types.Report, error) {
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	first := b.LightBlocks[0]
	if err := root.Check(first, b.ChainID); err != nil {
		return nil, err
	}
	if headerExpired(first.SignedHeader, trustingPeriod, now) {
		return nil, fmt.Errorf("%w: the trust root header %d (%s) is older than the trusting period %s; pass a longer --trusting-period to check an old bundle",
			ErrHeaderNotVerified, first.Height, first.Time.UTC().Format(time.RFC3339), trustingPeriod)
	}
	for i := 1; i < len(b.LightBlocks); i++ {
		prev, lb := b.LightBlocks[i-1], b.LightBlocks[i]
		if err := VerifyStep(prev, lb, trustingPeriod, now); err != nil {
			return nil, fmt.Errorf("%w: bundle light block %d (header %d) does not verify from header %d: %w", ErrHeaderNotVerified, i, lb.Height, prev.Height, err)
		}
	}
	return checkAnswer(b, b.LightBlocks[len(b.LightBlocks)-1])
}

// checkAnswer checks the bundle's records and proofs against the
// app hash of target, the (verified) proving header.
func checkAnswer(b *Bundle, target *cmttypes.LightBlock) (*types.Report, error) {
	ans := &types.CredentialAnswer{Hash: b.Hash, Record: b.Record}
	res, err := types.VerifyCredential(b.Hash, ans, b.RecordProof, target.AppHash)
	if err != nil {
		return nil, fmt.Errorf("bundle's credential proofs do not verify against header %d: %w", target.Height, err)
	}
	rep := NewReport(b.ChainID, res, target)
	if b.AsOfHeight > 0 {
		dating := lightBlockAt(b, b.AsOfHeight+1)
		if dating == nil {
			return nil, fmt.Errorf("%w: it has no light block %d, the header that dates state %d (as_of_height)", ErrMalformed, b.AsOfHeight+1, b.AsOfHeight)
		}
		if err := rep.SetAsOf(b.AsOfHeight, dating.Time); err != nil {
			return nil, fmt.Errorf("bundle's answer as of height %d: %w", b.AsOfHeight, err)
		}
	}
	ids := res.Issuers()
	if len(b.Issuers) != len(ids) {
		return nil, fmt.Errorf("%w: the credential has records of issuers %v, the bundle has %d issuer records", ErrMalformed, ids, len(b.Issuers))
	}
	records := make([]*types.Issuer, len(ids))
	for i, id := range ids {
		bi := b.Issuers[i]
		if bi == nil || bi.ID != id {
			return nil, fmt.Errorf("%w: issuer record %d is not issuer %q's", ErrMalformed, i, id)
		}
		if records[i], err = types.VerifyIssuer(id, bi.Record, bi.Proof, target.AppHash); err != nil {
			return nil, fmt.Errorf("bundle's issuer proof does not verify against header %d: %w", target.Height, err)
		}
	}
	rep.SetIssuerRecords(records) // before the times: voids change which records count
	err = rep.SetCommitTimes(func(h int64) (time.Time, error) {
		if lb := lightBlockAt(b, h); lb != nil {
			return lb.Time, nil
		}
		return time.Time{}, fmt.Errorf("%w: it has no light block %d, the header that dates a record (bundles before format %q lack it: make it again with credledger prove)", ErrMalformed, h, Format)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// lightBlockAt returns the bundle's light block at height h, or nil.
func lightBlockAt(b *Bundle, h int64) *cmttypes.LightBlock {
	for _, lb := range b.LightBlocks {
		if lb.Height == h {
			return lb
		}
	}
	return nil
}

// NewReport returns the report of a verified credential result res, proven
// against the app hash of the (verified) header lb.
func NewReport(chainID string, res *types.CredentialResult, lb *cmttypes.LightBlock) *types.Report {
	return &types.Report{
		CredentialResult: res, ChainID: chainID, Height: lb.Height - 1, HeaderHeight: lb.Height,
		HeaderTime: lb.Time, HeaderHash: lb.Hash(), AppHash: lb.AppHash,
	}
}

// VerifyStep verifies untrusted from trusted exactly as CometBFT's
// light.Verify does with trust level 1/3 (light/verifier.go); it is written
// out here because the light package pulls in a database and networking,
// which this package must build without (a test checks that both agree):
//
//  1. the trusted header has not expired (trustingPeriod at now);
//  2. the untrusted header is valid for the chain, higher, later, not from
//     the future (DefaultMaxClockDrift), and carries the hash of its
//     validator set;
//  3. adjacent (height+1): its validators are the trusted header's next
//     validators; otherwise more than 1/3 of the trusted validators' power
//     signed its commit;
//  4. more than 2/3 of its own validators' power signed its commit.
func VerifyStep(trusted, untrusted *cmttypes.LightBlock, trustingPeriod time.Duration, now time.Time) error {
	th, uh := trusted.SignedHeader, untrusted.SignedHeader
	// step 1
	if headerExpired(th, trustingPeriod, now) {
		return fmt.Errorf("trusted header %d expired at %s (now %s)", th.Height, th.Time.Add(trustingPeriod).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	// step 2
	if err := uh.ValidateBasic(th.ChainID); err != nil {
		return fmt.Errorf("invalid header %d: %w", uh.Height, err)
	}
	switch {
	case uh.Height <= th.Height:
		return fmt.Errorf("header %d is not above trusted header %d", uh.Height, th.Height)
	case !uh.Time.After(th.Time):
		return fmt.Errorf("header %d time %s is not after trusted header %d time %s", uh.Height, uh.Time, th.Height, th.Time)
	case !uh.Time.Before(now.Add(DefaultMaxClockDrift)):
		return fmt.Errorf("header %d has a time from the future %s (now %s, max clock drift %s)", uh.Height, uh.Time, now, DefaultMaxClockDrift)
	case !bytes.Equal(uh.ValidatorsHash, untrusted.ValidatorSet.Hash()):
		return fmt.Errorf("header %d names validators %X, but the validator set given hashes to %X", uh.Height, uh.ValidatorsHash, untrusted.ValidatorSet.Hash())
	}
	// step 3
	if uh.Height == th.Height+1 {
		if !bytes.Equal(uh.ValidatorsHash, th.NextValidatorsHash) {
			return fmt.Errorf("header %d validators %X are not trusted header %d's next validators %X", uh.Height, uh.ValidatorsHash, th.Height, th.NextValidatorsHash)
		}
	} else if err := trusted.ValidatorSet.VerifyCommitLightTrusting(th.ChainID, uh.Commit, TrustLevel); err != nil {
		return fmt.Errorf("commit of header %d is not signed by more than %s of trusted header %d's validators: %w", uh.Height, TrustLevel, th.Height, err)
	}
	// step 4
	if err := untrusted.ValidatorSet.VerifyCommitLight(th.ChainID, uh.Commit.BlockID, uh.Height, uh.Commit); err != nil {
		return fmt.Errorf("commit of header %d: %w", uh.Height, err)
	}
	return nil
}

// headerExpired reports whether h is older than trustingPeriod at now.
func headerExpired(h *cmttypes.SignedHeader, trustingPeriod time.Duration, now time.Time) bool {
	return !h.Time.Add(trustingPeriod).After(now)
}
