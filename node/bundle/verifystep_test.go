package bundle

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	"github.com/cometbft/cometbft/light"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
	"github.com/stretchr/testify/require"
)

// The tests in this file check VerifyStep against the function it
// re-implements, CometBFT's light.Verify, on light blocks with real
// signatures: both must accept, or both reject.

// stepKeys are the validator keys the step tests draw from: fixed, so that
// the chains (and their ed25519 signatures) are the same on every run.
var stepKeys = func() []crypto.PrivKey {
	keys := make([]crypto.PrivKey, 8)
	for i := range keys {
		keys[i] = cmted25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "verifystep validator %d", i))
	}
	return keys
}()

// stepGenesis is the trusted header's time in the step tests.
var stepGenesis = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// stepParams describes a trusted and an untrusted light block to build.
// Validator sets are powers by index into stepKeys (0: not a validator).
type stepParams struct {
	ChainID  string    // trusted header's chain
	Height   int64     // trusted header's height
	Time     time.Time // trusted header's time
	Vals     []int64   // trusted validators
	NextVals []int64   // trusted header's next validators

	UChainID     string    // untrusted header's chain
	USignChainID string    // chain the untrusted commit is signed for ("": UChainID)
	UHeight      int64     // untrusted header's height
	UTime        time.Time // untrusted header's time
	UVals        []int64   // untrusted validators (those its header names)
	USigners     []int     // keys that sign the untrusted commit (nil: all of UVals)
	USignBlock   string    // if set, the untrusted commit is for this other block

	TrustingPeriod time.Duration
	Now            time.Time
}

// validStep returns the parameters of a valid adjacent step: four
// validators of power 10 that sign both headers.
func validStep() stepParams {
	four := []int64{10, 10, 10, 10}
	return stepParams{
		ChainID: "credledger-test", Height: 5, Time: stepGenesis, Vals: four, NextVals: four,
		UChainID: "credledger-test", UHeight: 6, UTime: stepGenesis.Add(5 * time.Second), UVals: four,
		TrustingPeriod: time.Hour, Now: stepGenesis.Add(time.Minute),
	}
}

// buildStep returns the light blocks p describes, with signed commits.
func buildStep(t testing.TB, p stepParams) (trusted, untrusted *cmttypes.LightBlock) {
	t.Helper()
	tVals := stepValSet(t, p.Vals)
	trusted = stepLightBlock(t, p.ChainID, p.ChainID, p.Height, p.Time, tVals, stepValSet(t, p.NextVals), nil, "")
	signChainID := p.USignChainID
	if signChainID == "" {
		signChainID = p.UChainID
	}
	uVals := stepValSet(t, p.UVals)
	untrusted = stepLightBlock(t, p.UChainID, signChainID, p.UHeight, p.UTime, uVals, uVals, p.USigners, p.USignBlock)
	return trusted, untrusted
}

// stepValSet returns the validator set with the given powers by key index.
func stepValSet(t testing.TB, powers []int64) *cmttypes.ValidatorSet {
	t.Helper()
	var vals []*cmttypes.Validator
	for k, power := range powers {
		if power > 0 {
			vals = append(vals, cmttypes.NewValidator(stepKeys[k].PubKey(), power))
		}
	}
	require.NotEmpty(t, vals, "validator set with powers %v", powers)
	return cmttypes.NewValidatorSet(vals)
}

// stepKeyIndex returns the index in stepKeys of the validator with address
// addr.
func stepKeyIndex(t testing.TB, addr []byte) int {
	t.Helper()
	i := slices.IndexFunc(stepKeys, func(k crypto.PrivKey) bool { return bytes.Equal(k.PubKey().Address(), addr) })
	require.GreaterOrEqual(t, i, 0, "no step key for address %X", addr)
	return i
}

// stepBlockID returns a made-up block id derived from name.
func stepBlockID(name string) cmttypes.BlockID {
	return stepHashBlockID(tmhash.Sum([]byte(name)))
}

// stepHashBlockID returns the block id of the block with hash h (one part).
func stepHashBlockID(h []byte) cmttypes.BlockID {
	return cmttypes.BlockID{Hash: h, PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: tmhash.Sum(append([]byte("parts "), h...))}}
}

// stepLightBlock returns a light block at height with validators vals,
// whose commit is signed for signChainID by the keys in signers (nil: all
// of vals). The commit is for the header's block, or for a made-up block
// otherBlock if that is set.
func stepLightBlock(t testing.TB, chainID, signChainID string, height int64, tm time.Time,
	vals, next *cmttypes.ValidatorSet, signers []int, otherBlock string,
) *cmttypes.LightBlock {
	t.Helper()
	sum := func(what string) []byte { return tmhash.Sum(fmt.Appendf(nil, "%s %s %d", chainID, what, height)) }
	h := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol, App: 1},
		ChainID:            chainID,
		Height:             height,
		Time:               tm,
		LastBlockID:        stepBlockID(fmt.Sprintf("%s block %d", chainID, height-1)),
		LastCommitHash:     sum("last commit"),
		DataHash:           sum("data"),
		ValidatorsHash:     vals.Hash(),
		NextValidatorsHash: next.Hash(),
		ConsensusHash:      sum("consensus params"),
		AppHash:            sum("app"),
		LastResultsHash:    sum("last results"),
		EvidenceHash:       sum("evidence"),
		ProposerAddress:    vals.Validators[0].Address,
	}
	blockID := stepHashBlockID(h.Hash())
	if otherBlock != "" {
		blockID = stepBlockID(otherBlock)
	}
	return &cmttypes.LightBlock{
		SignedHeader: &cmttypes.SignedHeader{Header: h, Commit: stepCommit(t, signChainID, blockID, height, tm, vals, signers)},
		ValidatorSet: vals,
	}
}

// stepCommit returns a commit for blockID at height, signed for chainID by
// the validators of vals whose keys are in signers (nil: all); the others
// are absent.
func stepCommit(t testing.TB, chainID string, blockID cmttypes.BlockID, height int64, tm time.Time,
	vals *cmttypes.ValidatorSet, signers []int,
) *cmttypes.Commit {
	t.Helper()
	c := &cmttypes.Commit{Height: height, BlockID: blockID, Signatures: make([]cmttypes.CommitSig, vals.Size())}
	for i, v := range vals.Validators {
		c.Signatures[i] = cmttypes.NewCommitSigAbsent()
		if signers == nil || slices.Contains(signers, stepKeyIndex(t, v.Address)) {
			c.Signatures[i] = cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: v.Address, Timestamp: tm}
		}
	}
	for i := range c.Signatures {
		if c.Signatures[i].BlockIDFlag != cmttypes.BlockIDFlagAbsent {
			stepSign(t, chainID, c, i)
		}
	}
	return c
}

// stepSign (re)signs the vote at index i of c for chainID.
func stepSign(t testing.TB, chainID string, c *cmttypes.Commit, i int) {
	t.Helper()
	key := stepKeys[stepKeyIndex(t, c.Signatures[i].ValidatorAddress)]
	sig, err := key.Sign(c.VoteSignBytes(chainID, int32(i)))
	require.NoError(t, err)
	c.Signatures[i].Signature = sig
}

// flipSignature flips a bit of the signature at index i of c.
func flipSignature(c *cmttypes.Commit, i int) {
	sig := bytes.Clone(c.Signatures[i].Signature)
	sig[0] ^= 0x01
	c.Signatures[i].Signature = sig
}

// verifyBoth runs VerifyStep and light.Verify (trust level 1/3 and
// DefaultMaxClockDrift, as VerifyStep documents) on the same input, checks
// that both accept or both reject, and returns VerifyStep's error. what
// describes the input for the failure message.
func verifyBoth(t testing.TB, what string, trusted, untrusted *cmttypes.LightBlock, trustingPeriod time.Duration, now time.Time) error {
	t.Helper()
	stepErr := VerifyStep(trusted, untrusted, trustingPeriod, now)
	lightErr := light.Verify(trusted.SignedHeader, trusted.ValidatorSet, untrusted.SignedHeader, untrusted.ValidatorSet,
		trustingPeriod, now, DefaultMaxClockDrift, light.DefaultTrustLevel)
	require.Equalf(t, lightErr == nil, stepErr == nil,
		"VerifyStep and light.Verify disagree on %s\nVerifyStep:   %v\nlight.Verify: %v", what, stepErr, lightErr)
	return stepErr
}

func TestVerifyStepTrustLevelIsCometBFTs(t *testing.T) {
	require.Equal(t, light.DefaultTrustLevel, TrustLevel)
}

func TestVerifyStepAgreesWithLightVerify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		malleate func(p *stepParams)                           // changes what is built
		tamper   func(trusted, untrusted *cmttypes.LightBlock) // changes what was built
		valid    bool
	}{
		{name: "adjacent", valid: true},
		{
			name:     "adjacent across a validator change named by trusted next validators",
			malleate: func(p *stepParams) { p.NextVals, p.UVals = []int64{0, 0, 0, 0, 5, 6, 7}, []int64{0, 0, 0, 0, 5, 6, 7} },
			valid:    true,
		},
		{
			name:     "adjacent with validators not the trusted next validators",
			malleate: func(p *stepParams) { p.UVals = []int64{10, 10, 10, 0, 10} },
		},
		{
			name:     "adjacent with one validator of a set absent (3/4 > 2/3)",
			malleate: func(p *stepParams) { p.USigners = []int{0, 1, 3} },
			valid:    true,
		},
		{
			name:     "adjacent signed by 1/2 of its validators",
			malleate: func(p *stepParams) { p.USigners = []int{1, 2} },
		},
		{
			name: "adjacent signed by exactly 2/3 of its validators",
			malleate: func(p *stepParams) {
				p.Vals, p.NextVals, p.UVals = []int64{10, 10, 10}, []int64{10, 10, 10}, []int64{10, 10, 10}
				p.USigners = []int{0, 2}
			},
		},
		{
			name: "adjacent signed by just over 2/3 of its power",
			malleate: func(p *stepParams) {
				p.Vals, p.NextVals, p.UVals = []int64{10, 10, 11}, []int64{10, 10, 11}, []int64{10, 10, 11}
				p.USigners = []int{0, 2}
			},
			valid: true,
		},
		{
			name:     "adjacent signed by none",
			malleate: func(p *stepParams) { p.USigners = []int{} },
		},
		{name: "non-adjacent with the same validators", malleate: func(p *stepParams) { p.UHeight = 50 }, valid: true},
		{
			name: "non-adjacent with changed validators, 1/2 of trusted power signed",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals = 50, []int64{0, 0, 10, 10, 10, 10}
			},
			valid: true,
		},
		{
			name: "non-adjacent with changed validators, just over 1/3 of trusted power signed",
			malleate: func(p *stepParams) {
				p.Vals = []int64{10, 10, 11}
				p.UHeight, p.UVals = 50, []int64{0, 0, 10, 10, 10, 10}
			},
			valid: true,
		},
		{
			name: "non-adjacent with changed validators, exactly 1/3 of trusted power signed",
			malleate: func(p *stepParams) {
				p.Vals = []int64{10, 10, 10}
				p.UHeight, p.UVals = 50, []int64{0, 0, 10, 10, 10, 10}
			},
		},
		{
			name: "non-adjacent with changed validators, 1/4 of trusted power signed",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals = 50, []int64{0, 0, 0, 10, 10, 10, 10}
			},
		},
		{
			name: "non-adjacent with disjoint validators",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals = 50, []int64{0, 0, 0, 0, 10, 10, 10, 10}
			},
		},
		{
			name: "non-adjacent, trusted validators who signed are absent",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals, p.USigners = 50, []int64{0, 0, 10, 10, 10, 10, 10, 10}, []int{4, 5, 6, 7}
			},
		},
		{
			name: "non-adjacent signed by exactly 2/3 of its validators",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals, p.USigners = 50, []int64{10, 10, 10}, []int{0, 1}
			},
		},
		{
			name:   "tampered signature",
			tamper: func(_, u *cmttypes.LightBlock) { flipSignature(u.Commit, 0) },
		},
		{
			name:     "non-adjacent with a tampered signature",
			malleate: func(p *stepParams) { p.UHeight = 50 },
			tamper:   func(_, u *cmttypes.LightBlock) { flipSignature(u.Commit, 1) },
		},
		{
			// light verification stops once it has counted more than 2/3
			name:   "tampered signature past the first 2/3 is not checked",
			tamper: func(_, u *cmttypes.LightBlock) { flipSignature(u.Commit, 3) },
			valid:  true,
		},
		{
			name:   "signature moved to another validator",
			tamper: func(_, u *cmttypes.LightBlock) { u.Commit.Signatures[0].Signature = u.Commit.Signatures[1].Signature },
		},
		{
			name:     "header from another chain",
			malleate: func(p *stepParams) { p.UChainID = "other-chain" },
		},
		{
			name:     "non-adjacent header from another chain",
			malleate: func(p *stepParams) { p.UChainID, p.UHeight = "other-chain", 50 },
		},
		{
			name:     "header from another chain, signed for this one",
			malleate: func(p *stepParams) { p.UChainID, p.USignChainID = "other-chain", p.ChainID },
		},
		{
			name:     "non-adjacent header from another chain, signed for this one",
			malleate: func(p *stepParams) { p.UChainID, p.USignChainID, p.UHeight = "other-chain", p.ChainID, 50 },
		},
		{
			name:     "commit signed for another chain",
			malleate: func(p *stepParams) { p.USignChainID = "other-chain" },
		},
		{
			name:     "untrusted height equal to trusted",
			malleate: func(p *stepParams) { p.UHeight = p.Height },
		},
		{
			name:     "untrusted height below trusted",
			malleate: func(p *stepParams) { p.UHeight = p.Height - 1 },
		},
		{
			name:     "untrusted time equal to trusted",
			malleate: func(p *stepParams) { p.UTime = p.Time },
		},
		{
			name:     "untrusted time before trusted",
			malleate: func(p *stepParams) { p.UTime = p.Time.Add(-time.Second) },
		},
		{
			name:     "non-adjacent untrusted time before trusted",
			malleate: func(p *stepParams) { p.UTime, p.UHeight = p.Time.Add(-time.Second), 50 },
		},
		{
			name:     "untrusted time just inside the max clock drift",
			malleate: func(p *stepParams) { p.UTime = p.Now.Add(DefaultMaxClockDrift - time.Nanosecond) },
			valid:    true,
		},
		{
			name:     "untrusted time at now plus max clock drift",
			malleate: func(p *stepParams) { p.UTime = p.Now.Add(DefaultMaxClockDrift) },
		},
		{
			name:     "untrusted time an hour in the future",
			malleate: func(p *stepParams) { p.UTime, p.UHeight = p.Now.Add(time.Hour), 50 },
		},
		{
			name:     "trusted header just inside the trusting period",
			malleate: func(p *stepParams) { p.TrustingPeriod = p.Now.Sub(p.Time) + time.Nanosecond },
			valid:    true,
		},
		{
			name:     "trusted header expired at now",
			malleate: func(p *stepParams) { p.TrustingPeriod = p.Now.Sub(p.Time) },
		},
		{
			name:     "trusted header long expired",
			malleate: func(p *stepParams) { p.UHeight, p.Now = 50, p.Time.Add(48*time.Hour) },
		},
		{
			name: "untrusted validators not those its header names",
			tamper: func(_, u *cmttypes.LightBlock) {
				u.ValidatorSet = cmttypes.NewValidatorSet(append(u.ValidatorSet.Copy().Validators, cmttypes.NewValidator(stepKeys[5].PubKey(), 10)))
			},
		},
		{
			name: "untrusted validator power not what its header names",
			tamper: func(_, u *cmttypes.LightBlock) {
				vals := u.ValidatorSet.Copy().Validators
				vals[0].VotingPower = 1000
				u.ValidatorSet = cmttypes.NewValidatorSet(vals)
			},
		},
		{
			name: "non-adjacent, untrusted validators not those its header names",
			malleate: func(p *stepParams) {
				p.UHeight, p.UVals = 50, []int64{10, 10, 10, 10, 10}
			},
			tamper: func(_, u *cmttypes.LightBlock) {
				u.ValidatorSet = cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(stepKeys[7].PubKey(), 10)})
			},
		},
		{
			name:     "commit for another block",
			malleate: func(p *stepParams) { p.USignBlock = "another block" },
		},
		{
			name:     "non-adjacent commit for another block",
			malleate: func(p *stepParams) { p.USignBlock, p.UHeight = "another block", 50 },
		},
		{
			name: "commit naming the header's block, signed for another",
			malleate: func(p *stepParams) {
				p.UHeight, p.USignBlock = 50, "another block"
			},
			tamper: func(_, u *cmttypes.LightBlock) { u.Commit.BlockID = stepHashBlockID(u.Hash()) },
		},
		{
			name: "commit for another part set header of the block",
			tamper: func(_, u *cmttypes.LightBlock) {
				u.Commit.BlockID.PartSetHeader = cmttypes.PartSetHeader{Total: 2, Hash: tmhash.Sum([]byte("other parts"))}
			},
		},
		{
			name:   "commit for another height",
			tamper: func(_, u *cmttypes.LightBlock) { u.Commit.Height++ },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validStep()
			if tc.malleate != nil {
				tc.malleate(&p)
			}
			trusted, untrusted := buildStep(t, p)
			if tc.tamper != nil {
				tc.tamper(trusted, untrusted)
			}
			err := verifyBoth(t, fmt.Sprintf("%+v", p), trusted, untrusted, p.TrustingPeriod, p.Now)
			if tc.valid {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// stepMutation changes a valid step: before it is built (pre) or after
// (post). Each returns a description of what it did.
type stepMutation struct {
	name string
	pre  func(rng *rand.Rand, p *stepParams) string
	post func(t testing.TB, rng *rand.Rand, p stepParams, trusted, untrusted *cmttypes.LightBlock) string
}

// stepPowers returns a random set of validators: each key with probability
// keep, with a power of 1 to 100.
func stepPowers(rng *rand.Rand, keep float64) []int64 {
	powers := make([]int64, len(stepKeys))
	for k := range powers {
		if rng.Float64() < keep {
			powers[k] = 1 + rng.Int64N(100)
		}
	}
	if !slices.ContainsFunc(powers, func(p int64) bool { return p > 0 }) {
		powers[rng.IntN(len(powers))] = 1 + rng.Int64N(100)
	}
	return powers
}

// randomValidStep returns a random step that both verifiers should accept
// (the random test checks only that they agree).
func randomValidStep(rng *rand.Rand) stepParams {
	p := stepParams{ChainID: "credledger-random", Height: 1 + rng.Int64N(1000), Time: stepGenesis}
	p.UChainID = p.ChainID
	p.Vals = stepPowers(rng, 0.5)
	p.NextVals = p.Vals
	if rng.IntN(3) == 0 {
		p.NextVals = stepPowers(rng, 0.5)
	}
	if rng.IntN(2) == 0 {
		p.UHeight, p.UVals = p.Height+1, p.NextVals
	} else {
		// a set that shares most of the trusted power
		p.UHeight, p.UVals = p.Height+2+rng.Int64N(100), slices.Clone(p.Vals)
		if k := rng.IntN(len(stepKeys)); rng.IntN(2) == 0 && p.UVals[k] == 0 {
			p.UVals[k] = 1 + rng.Int64N(20)
		}
	}
	p.UTime = p.Time.Add(time.Second + time.Duration(rng.Int64N(int64(time.Hour))))
	p.Now = p.UTime.Add(time.Duration(rng.Int64N(int64(time.Hour))) - DefaultMaxClockDrift/2)
	p.TrustingPeriod = 3 * time.Hour
	return p
}

// randomSignature returns a random index into c's signatures, or -1 if it
// has none.
func randomSignature(rng *rand.Rand, c *cmttypes.Commit) int {
	if len(c.Signatures) == 0 {
		return -1
	}
	return rng.IntN(len(c.Signatures))
}

// stepMutations are the ways the random test breaks (or not) a valid step.
var stepMutations = []stepMutation{
	{name: "height", pre: func(rng *rand.Rand, p *stepParams) string {
		p.UHeight = p.Height + rng.Int64N(5) - 2
		return fmt.Sprintf("untrusted height %d", p.UHeight)
	}},
	{name: "time near trusted", pre: func(rng *rand.Rand, p *stepParams) string {
		p.UTime = p.Time.Add(time.Duration(rng.Int64N(3)-1) * time.Nanosecond)
		return fmt.Sprintf("untrusted time %s", p.UTime)
	}},
	{name: "time near now plus drift", pre: func(rng *rand.Rand, p *stepParams) string {
		p.UTime = p.Now.Add(DefaultMaxClockDrift + time.Duration(rng.Int64N(3)-1)*time.Nanosecond)
		return fmt.Sprintf("untrusted time %s", p.UTime)
	}},
	{name: "trusting period near expiry", pre: func(rng *rand.Rand, p *stepParams) string {
		p.TrustingPeriod = p.Now.Sub(p.Time) + time.Duration(rng.Int64N(3)-1)*time.Nanosecond
		return fmt.Sprintf("trusting period %s", p.TrustingPeriod)
	}},
	{name: "header chain id", pre: func(rng *rand.Rand, p *stepParams) string {
		p.UChainID = []string{"other-chain", "credledger-rando", ""}[rng.IntN(3)]
		if rng.IntN(2) == 0 {
			p.USignChainID = p.ChainID
		}
		return fmt.Sprintf("untrusted chain id %q, signed for %q", p.UChainID, p.USignChainID)
	}},
	{name: "signed chain id", pre: func(_ *rand.Rand, p *stepParams) string {
		p.USignChainID = "other-chain"
		return "commit signed for other-chain"
	}},
	{name: "validator power", pre: func(rng *rand.Rand, p *stepParams) string {
		p.UVals = slices.Clone(p.UVals)
		k := rng.IntN(len(p.UVals))
		p.UVals[k] = rng.Int64N(1000)
		if !slices.ContainsFunc(p.UVals, func(v int64) bool { return v > 0 }) {
			p.UVals[k] = 1
		}
		return fmt.Sprintf("untrusted validator %d power %d", k, p.UVals[k])
	}},
	{name: "trusted validator power", pre: func(rng *rand.Rand, p *stepParams) string {
		p.Vals = slices.Clone(p.Vals)
		k := rng.IntN(len(p.Vals))
		p.Vals[k] = 1 + rng.Int64N(1000)
		return fmt.Sprintf("trusted validator %d power %d", k, p.Vals[k])
	}},
	{name: "next validators", pre: func(rng *rand.Rand, p *stepParams) string {
		p.NextVals = stepPowers(rng, 0.5)
		return fmt.Sprintf("trusted next validators %v", p.NextVals)
	}},
	{name: "drop signatures", pre: func(rng *rand.Rand, p *stepParams) string {
		p.USigners = []int{}
		for k, power := range p.UVals {
			if power > 0 && rng.IntN(3) != 0 {
				p.USigners = append(p.USigners, k)
			}
		}
		return fmt.Sprintf("untrusted signers %v", p.USigners)
	}},
	{name: "commit block", pre: func(_ *rand.Rand, p *stepParams) string {
		p.USignBlock = "another block"
		return "commit for another block"
	}},
	{name: "tamper signature", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		i := randomSignature(rng, u.Commit)
		if i < 0 || u.Commit.Signatures[i].BlockIDFlag == cmttypes.BlockIDFlagAbsent {
			return fmt.Sprintf("signature %d absent, not tampered", i)
		}
		flipSignature(u.Commit, i)
		return fmt.Sprintf("signature %d tampered", i)
	}},
	{name: "vote nil", post: func(t testing.TB, rng *rand.Rand, p stepParams, _, u *cmttypes.LightBlock) string {
		i := randomSignature(rng, u.Commit)
		if i < 0 || u.Commit.Signatures[i].BlockIDFlag == cmttypes.BlockIDFlagAbsent {
			return fmt.Sprintf("signature %d absent, not made nil", i)
		}
		u.Commit.Signatures[i].BlockIDFlag = cmttypes.BlockIDFlagNil
		chainID := p.USignChainID
		if chainID == "" {
			chainID = p.UChainID
		}
		stepSign(t, chainID, u.Commit, i)
		return fmt.Sprintf("signature %d a valid vote for nil", i)
	}},
	{name: "drop signature after signing", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		i := randomSignature(rng, u.Commit)
		if i < 0 {
			return "no signature to make absent"
		}
		u.Commit.Signatures[i] = cmttypes.NewCommitSigAbsent()
		return fmt.Sprintf("signature %d made absent", i)
	}},
	{name: "truncate signatures", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		n := rng.IntN(len(u.Commit.Signatures) + 1)
		u.Commit.Signatures = u.Commit.Signatures[:n]
		return fmt.Sprintf("commit cut to %d signatures", n)
	}},
	{name: "supplied validator power", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		vals := u.ValidatorSet.Copy().Validators
		i := rng.IntN(len(vals))
		vals[i].VotingPower += 1 + rng.Int64N(10)
		u.ValidatorSet = cmttypes.NewValidatorSet(vals)
		return fmt.Sprintf("supplied validator %d power %d", i, vals[i].VotingPower)
	}},
	{name: "supplied trusted validators", post: func(t testing.TB, rng *rand.Rand, _ stepParams, tr, _ *cmttypes.LightBlock) string {
		vals := stepPowers(rng, 0.5)
		tr.ValidatorSet = stepValSet(t, vals)
		return fmt.Sprintf("supplied trusted validators %v", vals)
	}},
	{name: "next validators hash", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, tr, _ *cmttypes.LightBlock) string {
		tr.NextValidatorsHash = tmhash.Sum(fmt.Appendf(nil, "next %d", rng.IntN(10)))
		return fmt.Sprintf("trusted next validators hash %X", tr.NextValidatorsHash)
	}},
	{name: "commit height", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		u.Commit.Height += rng.Int64N(3) - 1
		return fmt.Sprintf("commit height %d", u.Commit.Height)
	}},
	{name: "part set header", post: func(_ testing.TB, rng *rand.Rand, _ stepParams, _, u *cmttypes.LightBlock) string {
		u.Commit.BlockID.PartSetHeader.Total += uint32(rng.IntN(2))
		return fmt.Sprintf("commit part set total %d", u.Commit.BlockID.PartSetHeader.Total)
	}},
}

func TestVerifyStepAgreesWithLightVerifyRandom(t *testing.T) {
	const seed = 20250102
	rng := rand.New(rand.NewPCG(seed, seed))
	var accepted, rejected int
	for i := range 200 {
		p := randomValidStep(rng)
		var did []string
		muts := make([]stepMutation, rng.IntN(3))
		for j := range muts {
			muts[j] = stepMutations[rng.IntN(len(stepMutations))]
			if muts[j].pre != nil {
				did = append(did, muts[j].pre(rng, &p))
			}
		}
		trusted, untrusted := buildStep(t, p)
		for _, m := range muts {
			if m.post != nil {
				did = append(did, m.post(t, rng, p, trusted, untrusted))
			}
		}
		what := fmt.Sprintf("iteration %d (seed %d): %+v; mutations: %s", i, seed, p, strings.Join(did, "; "))
		if err := verifyBoth(t, what, trusted, untrusted, p.TrustingPeriod, p.Now); err != nil {
			rejected++
		} else {
			accepted++
		}
	}
	// the generator is worth something only if it produces both outcomes
	require.Greater(t, accepted, 20)
	require.Greater(t, rejected, 20)
	t.Logf("%d accepted, %d rejected", accepted, rejected)
}
