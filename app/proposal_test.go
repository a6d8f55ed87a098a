package app

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// Hashes of the proposal tests. ppAnchored is anchored by issuer0 in the
// state newProposalChain builds.
var (
	ppAnchored = testHash(201)
	ppH1       = testHash(202)
	ppH2       = testHash(203)
	ppH3       = testHash(204)
)

// newProposalChain returns a chain of three issuers committed at height 1,
// where issuer0 has anchored ppAnchored.
func newProposalChain(t *testing.T) *testChain {
	t.Helper()
	c := newTestChain(t, nil, 3)
	c.commitOK(c.tx(c.issuers[0], anchorMsg(ppAnchored)))
	return c
}

// protoSize is the size CometBFT counts for txs against MaxTxBytes.
func protoSize(txs ...[]byte) int64 {
	return cmttypes.ComputeProtoSizeForTxs(cmttypes.ToTxs(txs))
}

// pick returns txs[i] for each i of idx.
func pick(txs [][]byte, idx ...int) [][]byte {
	out := make([][]byte, 0, len(idx))
	for _, i := range idx {
		out = append(out, txs[i])
	}
	return out
}

// indexesIn returns the index in txs of each of sub (-1 if absent).
func indexesIn(txs, sub [][]byte) []int {
	out := make([]int, 0, len(sub))
	for _, tx := range sub {
		out = append(out, slices.IndexFunc(txs, func(t []byte) bool { return bytes.Equal(t, tx) }))
	}
	return out
}

// badSig returns tx with a corrupted signature.
func badSig(t testing.TB, tx []byte) []byte {
	return mutateEnvelope(t, tx, func(env *types.Tx) { env.Signature[0] ^= 0xff })
}

// TestPrepareProposal checks that PrepareProposal keeps, in order, the txs
// that succeed on top of each other, drops the others, and fits what it
// keeps into MaxTxBytes as CometBFT measures it. What it keeps must then be
// accepted by ProcessProposal and finalize like on a fresh node.
func TestPrepareProposal(t *testing.T) {
	const unlimited = 1 << 20
	for _, tc := range []struct {
		name string
		// txs returns the mempool txs of the proposal
		txs func(c *testChain) [][]byte
		// maxTxBytes returns MaxTxBytes for txs
		maxTxBytes func(txs [][]byte) int64
		// maxCredentials is the proposer's credential limit (0: none)
		maxCredentials int
		keep           []int
	}{
		{
			name: "issuers take turns: another issuer's tx goes before a bulk issuer's queue",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(testHashes(1000, 2)...)), c.tx(a, anchorMsg(testHashes(2000, 2)...)),
					c.tx(a, anchorMsg(testHashes(3000, 2)...)), c.tx(b, anchorMsg(ppH1))}
			},
			keep: []int{0, 3, 1, 2},
		},
		{
			name: "credential limit: the bulk issuer's later txs wait for the next block, the other's tx does not",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(testHashes(1000, 2)...)), c.tx(a, anchorMsg(testHashes(2000, 2)...)),
					c.tx(a, anchorMsg(testHashes(3000, 2)...)), c.tx(b, anchorMsg(ppH1))}
			},
			maxCredentials: 3,
			keep:           []int{0, 3},
		},
		{
			name: "credential limit: a limit of exactly the first turn",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(testHashes(1000, 2)...)), c.tx(a, anchorMsg(testHashes(2000, 1)...)), c.tx(b, anchorMsg(ppH1))}
			},
			maxCredentials: 4,
			keep:           []int{0, 2, 1},
		},
		{
			name: "credential limit: a first tx over it is kept alone",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(testHashes(1000, 3)...)), c.tx(b, anchorMsg(ppH1))}
			},
			maxCredentials: 2,
			keep:           []int{0},
		},
		{
			name: "all valid, kept in order",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(a, suspendMsg("audit", ppH1)), c.tx(a, reinstateMsg("ok", ppH1))}
			},
			keep: []int{0, 1, 2, 3},
		},
		{
			// the one-record layout dropped another issuer's anchor of the
			// hash here; each issuer now has its own record, so only the
			// same issuer's second anchor fails
			name: "second anchor of a hash by the same issuer in the proposal dropped",
			txs: func(c *testChain) [][]byte {
				a, d := c.issuers[0], c.issuers[2]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(a, anchorMsg(ppH1)), c.tx(d, anchorMsg(ppH2))}
			},
			keep: []int{0, 2},
		},
		{
			// new rule: another issuer's anchor of the same hash is its own
			// record, and is kept (it used to be dropped)
			name: "anchor of a hash another issuer anchored in the proposal kept",
			txs: func(c *testChain) [][]byte {
				a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH1)), c.tx(d, anchorMsg(ppH2))}
			},
			keep: []int{0, 1, 2},
		},
		{
			// b's first tx fails because b tries to suspend a's credential
			// (b has no record of it; it used to fail as a second anchor)
			name: "tx after a dropped tx of the same issuer dropped too (sequence gap)",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, suspendMsg("not mine", ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(a, anchorMsg(ppH3))}
			},
			keep: []int{0, 3},
		},
		{
			// the dropped anchor is the anchoring issuer's own second one
			// (another issuer's is kept now, below); it consumes no
			// sequence, so the revoke with the same sequence is kept
			name: "anchor of a hash anchored in state dropped",
			txs: func(c *testChain) [][]byte {
				a := c.issuers[0]
				dup := c.tx(a, anchorMsg(ppAnchored))
				a.seq--
				return [][]byte{dup, c.tx(a, revokeMsg("fraud", ppAnchored))}
			},
			keep: []int{1},
		},
		{
			// new rule: the hash is anchored in state by issuer0; issuer1's
			// anchor of it goes to issuer1's own record and is kept
			name: "anchor of a hash another issuer anchored in state kept",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				return [][]byte{c.tx(b, anchorMsg(ppAnchored)), c.tx(a, revokeMsg("fraud", ppAnchored))}
			},
			keep: []int{0, 1},
		},
		{
			name: "garbage, bad signature and wrong chain id dropped",
			txs: func(c *testChain) [][]byte {
				a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
				wrongChain := c.body(d, anchorMsg(ppH3))
				wrongChain.ChainId = "credledger-other"
				return [][]byte{
					{0xff, 0xff, 0xff},
					c.tx(a, anchorMsg(ppH1)),
					badSig(c.t, c.sign(b, c.body(b, anchorMsg(ppH2)))),
					c.sign(d, wrongChain),
					c.tx(b, anchorMsg(ppH2)),
					c.tx(d, anchorMsg(ppH3)),
				}
			},
			keep: []int{1, 4, 5},
		},
		{
			// the later tx used to be dropped: a mempool that received the
			// issuer's txs out of order (or holds one ahead, see CheckTx)
			// would lose it; it now waits for its predecessor
			name: "out-of-order sequence: the later tx follows the earlier",
			txs: func(c *testChain) [][]byte {
				a := c.issuers[0]
				first, second := c.tx(a, anchorMsg(ppH1)), c.tx(a, anchorMsg(ppH2))
				return [][]byte{second, first}
			},
			keep: []int{1, 0},
		},
		{
			name: "reversed sequence of three, interleaved with another issuer",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				first, second, third := c.tx(a, anchorMsg(ppH1)), c.tx(a, anchorMsg(ppH2)), c.tx(a, anchorMsg(ppH3))
				return [][]byte{third, c.tx(b, anchorMsg(ppH1)), second, first, c.tx(b, anchorMsg(ppH2))}
			},
			// turns: a's third waits, b1; a's second waits, b2; a's first,
			// then its waiting second and third
			keep: []int{1, 4, 3, 2, 0},
		},
		{
			name: "a waiting tx whose predecessor fails is dropped, with its successor",
			txs: func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				bad, second, third := c.tx(a, suspendMsg("not anchored", ppH1)), c.tx(a, anchorMsg(ppH2)), c.tx(a, anchorMsg(ppH3))
				return [][]byte{third, second, bad, c.tx(b, anchorMsg(ppH2))}
			},
			keep: []int{3},
		},
		{
			name: "two waiting txs with the same sequence: the first in mempool order wins",
			txs: func(c *testChain) [][]byte {
				a := c.issuers[0]
				first := c.tx(a, anchorMsg(ppH1))
				second := c.tx(a, anchorMsg(ppH2))
				a.seq--
				rival := c.tx(a, anchorMsg(ppH3))
				return [][]byte{second, rival, first}
			},
			keep: []int{2, 0},
		},
		{
			name: "a waiting tx that no longer fits is dropped, with its successor",
			txs: func(c *testChain) [][]byte {
				a := c.issuers[0]
				first, second, third := c.tx(a, anchorMsg(ppH1)), c.tx(a, anchorMsg(ppH2)), c.tx(a, anchorMsg(ppH3))
				return [][]byte{third, second, first}
			},
			maxTxBytes: func(txs [][]byte) int64 { return protoSize(txs[2]) },
			keep:       []int{2},
		},
		{
			name: "MaxTxBytes of exactly the first two",
			txs: func(c *testChain) [][]byte {
				a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(d, anchorMsg(ppH3))}
			},
			maxTxBytes: func(txs [][]byte) int64 { return protoSize(txs[:2]...) },
			keep:       []int{0, 1},
		},
		{
			name: "MaxTxBytes one byte short of the first two",
			txs: func(c *testChain) [][]byte {
				a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(d, anchorMsg(ppH3))}
			},
			maxTxBytes: func(txs [][]byte) int64 { return protoSize(txs[:2]...) - 1 },
			keep:       []int{0},
		},
		{
			name: "MaxTxBytes counts the protobuf overhead of each tx",
			txs: func(c *testChain) [][]byte {
				a, b, d := c.issuers[0], c.issuers[1], c.issuers[2]
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(d, anchorMsg(ppH3))}
			},
			// the raw bytes of all three fit, their encoding in a block does not
			maxTxBytes: func(txs [][]byte) int64 { return int64(len(txs[0]) + len(txs[1]) + len(txs[2])) },
			keep:       []int{0, 1},
		},
		{
			name: "MaxTxBytes below the first tx",
			txs: func(c *testChain) [][]byte {
				return [][]byte{c.tx(c.issuers[0], anchorMsg(ppH1)), c.tx(c.issuers[1], anchorMsg(ppH2))}
			},
			maxTxBytes: func(txs [][]byte) int64 { return int64(len(txs[0])) },
			keep:       []int{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newProposalChain(t)
			txs := tc.txs(c)
			maxTxBytes := int64(unlimited)
			if tc.maxTxBytes != nil {
				maxTxBytes = tc.maxTxBytes(txs)
			}
			before := c.app.Store().Hash()
			c.app.maxBlockCredentials = tc.maxCredentials
			kept := c.prepare(maxTxBytes, slices.Clone(txs)...)
			require.Equal(t, tc.keep, indexesIn(txs, kept), "indexes of the kept txs")
			require.Equal(t, pick(txs, tc.keep...), kept)
			require.NoError(t, cmttypes.ToTxs(kept).Validate(maxTxBytes), "CometBFT would refuse this proposal")
			require.Equal(t, before, c.app.Store().Hash(), "PrepareProposal wrote to the state")

			require.Equal(t, abci.ResponseProcessProposal_ACCEPT, c.process(kept...))
			res, hash := c.finalize(kept...)
			for i, r := range res {
				require.Zerof(t, r.Code, "kept tx %d: %s", i, r.Log)
			}
			fresh := newProposalChain(t)
			freshRes, freshHash := fresh.finalize(kept...)
			require.Equal(t, freshHash, hash)
			require.Equal(t, freshRes, res)
		})
	}
}

// TestProcessProposal checks that ProcessProposal accepts a valid block and
// rejects a block with any failing tx, without touching the state.
func TestProcessProposal(t *testing.T) {
	for _, tc := range []struct {
		name string
		// malleate turns a valid block of three txs into the proposed one;
		// c's issuers are past the valid block's sequences
		malleate func(c *testChain, txs [][]byte) [][]byte
		want     abci.ResponseProcessProposal_ProposalStatus
	}{
		{
			name:     "valid block",
			malleate: func(_ *testChain, txs [][]byte) [][]byte { return txs },
			want:     abci.ResponseProcessProposal_ACCEPT,
		},
		{
			name:     "empty block",
			malleate: func(*testChain, [][]byte) [][]byte { return nil },
			want:     abci.ResponseProcessProposal_ACCEPT,
		},
		{
			name: "garbage bytes appended",
			malleate: func(_ *testChain, txs [][]byte) [][]byte {
				return append(txs, []byte("definitely not a tx"))
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			name: "garbage bytes first",
			malleate: func(_ *testChain, txs [][]byte) [][]byte {
				return append([][]byte{{0xff, 0xff, 0xff}}, txs...)
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			name: "bad signature",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				txs[1] = badSig(c.t, txs[1])
				return txs
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			// the duplicate is by the issuer that anchored the hash earlier
			// in the block (another issuer's anchor is now accepted, below)
			name: "duplicate anchor of a hash anchored earlier in the block",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[0], anchorMsg(ppH1)))
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			// new rule: it used to be rejected; it is issuer2's own record
			name: "another issuer's anchor of a hash anchored earlier in the block",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[2], anchorMsg(ppH1)))
			},
			want: abci.ResponseProcessProposal_ACCEPT,
		},
		{
			// by the issuer that anchored it (another issuer's: below)
			name: "anchor of a hash anchored in state",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[0], anchorMsg(ppAnchored)))
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			// new rule: it used to be rejected; it is issuer2's own record
			name: "another issuer's anchor of a hash anchored in state",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[2], anchorMsg(ppAnchored)))
			},
			want: abci.ResponseProcessProposal_ACCEPT,
		},
		{
			name: "another issuer's suspension of a hash anchored in state",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[2], suspendMsg("not mine", ppAnchored)))
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			name: "replayed tx",
			malleate: func(_ *testChain, txs [][]byte) [][]byte {
				return append(txs, txs[0])
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			name: "txs of one issuer out of order",
			malleate: func(_ *testChain, txs [][]byte) [][]byte {
				return [][]byte{txs[2], txs[1], txs[0]}
			},
			want: abci.ResponseProcessProposal_REJECT,
		},
		{
			name: "valid txs of a third issuer added",
			malleate: func(c *testChain, txs [][]byte) [][]byte {
				return append(txs, c.tx(c.issuers[2], anchorMsg(ppH3)))
			},
			want: abci.ResponseProcessProposal_ACCEPT,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newProposalChain(t)
			a, b := c.issuers[0], c.issuers[1]
			valid := [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(a, suspendMsg("audit", ppH1))}
			txs := tc.malleate(c, valid)
			before, working := c.app.Store().Hash(), c.app.Store().workingHash()
			require.Equal(t, tc.want, c.process(txs...))
			require.Equal(t, before, c.app.Store().Hash(), "ProcessProposal wrote to the state")
			require.Equal(t, working, c.app.Store().workingHash(), "ProcessProposal wrote to the state")
			if tc.want == abci.ResponseProcessProposal_ACCEPT {
				res, _ := c.finalize(txs...)
				for i, r := range res {
					require.Zerof(t, r.Code, "tx %d of an accepted block: %s", i, r.Log)
				}
			}
		})
	}
}

// proposedBlock is a block as handed to Prepare-, Process- or FinalizeBlock.
type proposedBlock struct {
	time time.Time
	txs  [][]byte
}

// TestFinalizeAfterProposal checks the reuse of the proposal's execution by
// FinalizeBlock: after the app has prepared or processed one or more blocks
// at a height, finalizing a block there must give the same results and app
// hash as on a fresh app that saw no proposal, whether the finalized block
// is one of those executed or a different one (other txs, other order,
// other time).
func TestFinalizeAfterProposal(t *testing.T) {
	// blocks are the candidate blocks of height 2 on a proposal chain;
	// mkBlocks builds them with c's issuers
	type blocks struct {
		ab, abc, ba, abLater, other, failing proposedBlock
	}
	mkBlocks := func(c *testChain) blocks {
		a, d := c.issuers[0], c.issuers[2]
		tm := c.blockTime(c.height + 1)
		seq := a.seq
		txA := c.tx(a, anchorMsg(ppH1))
		// txB needs txA first (its sequence and its anchor): before it, it
		// fails. It used to be another issuer's anchor of ppH1, which
		// conflicted with txA; every issuer now has its own record of a
		// hash, so only an issuer's own txs depend on each other.
		txB := c.tx(a, suspendMsg("audit", ppH1))
		txD := c.tx(d, anchorMsg(ppH2))
		a.seq = seq
		txA2 := c.tx(a, anchorMsg(ppH3)) // same sequence as txA, other content
		return blocks{
			ab:      proposedBlock{tm, [][]byte{txA, txD}},
			abc:     proposedBlock{tm, [][]byte{txA, txD, txB}},
			ba:      proposedBlock{tm, [][]byte{txD, txA}},
			abLater: proposedBlock{tm.Add(time.Second), [][]byte{txA, txD}},
			other:   proposedBlock{tm, [][]byte{txA2, txD}},
			failing: proposedBlock{tm, [][]byte{txB, txA, txD}},
		}
	}
	for _, tc := range []struct {
		name     string
		prepared *proposedBlock // run through PrepareProposal first, if set
		// processed are run through ProcessProposal, in order
		processed func(bl blocks) []proposedBlock
		finalized func(bl blocks) proposedBlock
	}{
		{
			name:      "processed block finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab} },
			finalized: func(bl blocks) proposedBlock { return bl.ab },
		},
		{
			name:      "processed twice, then finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab, bl.ab} },
			finalized: func(bl blocks) proposedBlock { return bl.ab },
		},
		{
			name:      "rejected block finalized anyway (decided by the others)",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.failing} },
			finalized: func(bl blocks) proposedBlock { return bl.failing },
		},
		{
			name:      "other txs finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab} },
			finalized: func(bl blocks) proposedBlock { return bl.other },
		},
		{
			name:      "more txs finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab} },
			finalized: func(bl blocks) proposedBlock { return bl.abc },
		},
		{
			name:      "fewer txs finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.abc} },
			finalized: func(bl blocks) proposedBlock { return bl.ab },
		},
		{
			name:      "same txs in another order finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.failing} },
			finalized: func(bl blocks) proposedBlock { return bl.abc },
		},
		{
			name:      "same txs at another time finalized",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab} },
			finalized: func(bl blocks) proposedBlock { return bl.abLater },
		},
		{
			name:      "earlier round's block finalized after a later round's",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ab, bl.other} },
			finalized: func(bl blocks) proposedBlock { return bl.ab },
		},
		{
			name:      "independent txs reordered",
			processed: func(bl blocks) []proposedBlock { return []proposedBlock{bl.ba} },
			finalized: func(bl blocks) proposedBlock { return bl.ab },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newProposalChain(t)
			bl := mkBlocks(c)
			for _, p := range tc.processed(bl) {
				c.processAt(p.time, p.txs...)
			}
			fin := tc.finalized(bl)
			res, hash := c.finalizeAt(fin.time, fin.txs...)

			fresh := newProposalChain(t)
			freshBl := mkBlocks(fresh)
			freshFin := tc.finalized(freshBl)
			require.Equal(t, fin, freshFin)
			freshRes, freshHash := fresh.finalizeAt(freshFin.time, freshFin.txs...)
			require.Equal(t, freshHash, hash)
			require.Equal(t, freshRes, res)
			require.Equal(t, fresh.records(0, ppH1, ppH2, ppH3), c.records(0, ppH1, ppH2, ppH3))
		})
	}

	// the cases above are only meaningful if the blocks they mix up execute
	// differently
	outcomes := make(map[string]string)
	for name, get := range map[string]func(bl blocks) proposedBlock{
		"ab":      func(bl blocks) proposedBlock { return bl.ab },
		"abc":     func(bl blocks) proposedBlock { return bl.abc },
		"abLater": func(bl blocks) proposedBlock { return bl.abLater },
		"other":   func(bl blocks) proposedBlock { return bl.other },
		"failing": func(bl blocks) proposedBlock { return bl.failing },
	} {
		c := newProposalChain(t)
		p := get(mkBlocks(c))
		res, hash := c.finalizeAt(p.time, p.txs...)
		outcome := fmt.Sprintf("%x", hash)
		for _, r := range res {
			outcome += fmt.Sprintf(" %d", r.Code)
		}
		prev, dup := outcomes[outcome]
		require.Falsef(t, dup, "blocks %s and %s give the same results and app hash", name, prev)
		outcomes[outcome] = name
	}
}

// TestFinalizeAfterPrepare checks that the proposer's own FinalizeBlock,
// which may reuse the PrepareProposal execution, matches a fresh app's.
func TestFinalizeAfterPrepare(t *testing.T) {
	for _, tc := range []struct {
		name    string
		process bool // also run ProcessProposal on the prepared block
		drop    bool // finalize the prepared block without its last tx
	}{
		{name: "prepared block finalized"},
		{name: "prepared and processed block finalized", process: true},
		{name: "other block finalized after prepare", drop: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func(c *testChain) [][]byte {
				a, b := c.issuers[0], c.issuers[1]
				// b's suspension of a's credential fails (b has no record
				// of it; this used to be b's anchor of it, now accepted),
				// and b's next tx with it
				return [][]byte{c.tx(a, anchorMsg(ppH1)), c.tx(b, suspendMsg("not mine", ppH1)), c.tx(b, anchorMsg(ppH2)), c.tx(a, suspendMsg("audit", ppH1))}
			}
			c := newProposalChain(t)
			kept := c.prepare(1<<20, build(c)...)
			require.Len(t, kept, 2)
			if tc.process {
				require.Equal(t, abci.ResponseProcessProposal_ACCEPT, c.process(kept...))
			}
			if tc.drop {
				kept = kept[:1]
			}
			res, hash := c.finalize(kept...)

			fresh := newProposalChain(t)
			build(fresh)
			freshRes, freshHash := fresh.finalize(kept...)
			require.Equal(t, freshHash, hash)
			require.Equal(t, freshRes, res)
		})
	}
}

// stepClock is a clock that moves on by step each time it is read.
type stepClock struct {
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// TestPrepareProposalBuildTime checks WithMaxBuildTime: a proposer stops
// executing txs for its proposal once the bound has passed (the clock is
// read once for the deadline and once before each tx after the first
// kept), keeps the first tx whatever it took, proposes txs that every
// node accepts, and leaves the rest valid for the next block.
func TestPrepareProposalBuildTime(t *testing.T) {
	const n, unlimited = 6, 1 << 20
	for _, tc := range []struct {
		name  string
		bound time.Duration
		step  time.Duration
		// votes is the number of validators in the last commit (0: none,
		// as at the first height)
		votes    int
		wantKept int
	}{
		{name: "no bound keeps everything however slow", bound: 0, step: time.Hour, wantKept: n},
		{name: "bound not reached", bound: time.Hour, step: time.Millisecond, wantKept: n},
		// deadline at 250 ms: the clock reads 100, 200, then 300 ms before
		// the second, third and fourth tx
		{name: "bound passed after the third tx", bound: 250 * time.Millisecond, step: 100 * time.Millisecond, wantKept: 3},
		{name: "the first tx is kept even past the bound", bound: time.Millisecond, step: time.Hour, wantKept: 1},
		{name: "a lone validator is not bounded", bound: time.Millisecond, step: time.Hour, votes: 1, wantKept: n},
		{name: "two validators are", bound: time.Millisecond, step: time.Hour, votes: 2, wantKept: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newProposalChain(t)
			clock := &stepClock{t: time.Unix(1_700_000_000, 0), step: tc.step}
			withClock(clock.now)(c.app)
			WithMaxBuildTime(tc.bound)(c.app)
			// two issuers' txs, interleaved in the mempool as issuers take
			// turns in a proposal
			var txs [][]byte
			for i := range n {
				txs = append(txs, c.tx(c.issuers[i%2], anchorMsg(testHash(300+i))))
			}
			h := c.height + 1
			resp, err := c.app.PrepareProposal(t.Context(), &abci.RequestPrepareProposal{
				MaxTxBytes: unlimited, Txs: slices.Clone(txs), Height: h, Time: c.blockTime(h),
				LocalLastCommit: abci.ExtendedCommitInfo{Votes: make([]abci.ExtendedVoteInfo, tc.votes)},
			})
			require.NoError(t, err)
			kept := resp.Txs
			require.Equal(t, txs[:tc.wantKept], kept, "the proposal is the first txs of the mempool")
			require.Equal(t, abci.ResponseProcessProposal_ACCEPT, c.process(kept...))
			c.commitOK(kept...)

			// the rest is left for the next proposals, and all of it commits
			rest := txs[tc.wantKept:]
			for blocks := 0; len(rest) > 0; blocks++ {
				require.Less(t, blocks, n, "the rest of the mempool never made it into a block")
				next := c.prepare(unlimited, slices.Clone(rest)...)
				require.NotEmpty(t, next)
				require.Equal(t, rest[:len(next)], next)
				c.commitOK(next...)
				rest = rest[len(next):]
			}
			for i := range n {
				res := c.verdictOf(testHash(300+i), c.issuers[i%2].id)
				require.Equal(t, types.VerdictValid, res.Verdict, "hash %d", i)
			}
		})
	}
}
