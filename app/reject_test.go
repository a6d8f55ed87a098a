package app

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// The state newRejectChain builds, which every rejection case starts from.
var (
	rjValid     = testHash(101) // anchored by issuer0, valid
	rjSuspended = testHash(102) // anchored by issuer0, suspended
	rjRevoked   = testHash(103) // anchored by issuer0, revoked
	rjOther     = testHash(104) // anchored by issuer1, valid
	rjOffLedger = testHash(105) // revoked by issuer1 without an anchor
	rjFresh     = testHash(106) // unknown to the ledger
	rjFresh2    = testHash(107) // unknown to the ledger
)

// rjPool is every hash whose records a rejection must leave unchanged.
var rjPool = [][]byte{rjValid, rjSuspended, rjRevoked, rjOther, rjOffLedger, rjFresh, rjFresh2}

// newRejectChain returns a chain of three issuers, committed at height 2
// with the rj* hashes in the states their comments give.
func newRejectChain(t *testing.T) *testChain {
	t.Helper()
	c := newTestChain(t, nil, 3)
	a, b := c.issuers[0], c.issuers[1]
	c.commitOK(c.tx(a, anchorMsg(rjValid, rjSuspended, rjRevoked)), c.tx(b, anchorMsg(rjOther)))
	c.commitOK(
		c.tx(a, suspendMsg("audit", rjSuspended)),
		c.tx(a, revokeMsg("fraud", rjRevoked)),
		c.tx(b, revokeMsg("issued off-ledger", rjOffLedger)),
	)
	return c
}

// rejectBuildFn commits any extra setup blocks on c and returns the txs
// that precede the rejected tx (in its block, or in the mempool) and the
// rejected tx itself.
type rejectBuildFn func(c *testChain) (prior [][]byte, bad []byte)

// alone is a rejectBuildFn for a rejected tx with no setup and no prior txs.
func alone(bad func(c *testChain) []byte) rejectBuildFn {
	return func(c *testChain) ([][]byte, []byte) { return nil, bad(c) }
}

// signedBy returns a rejectBuildFn whose tx is signer's next tx carrying msg,
// with mutate applied to the body before signing.
func signedBy(signer int, msg any, mutate func(*types.TxBody)) rejectBuildFn {
	return alone(func(c *testChain) []byte {
		is := c.issuers[signer]
		b := c.body(is, msg)
		if mutate != nil {
			mutate(b)
		}
		return c.sign(is, b)
	})
}

// hexOf returns h as lowercase hex, as rejection logs name hashes.
func hexOf(h []byte) string { return hex.EncodeToString(h) }

// rejectWant is what a rejection must look like. log holds substrings its
// log must contain: what is wrong and, where there is one, the offending
// hash; notLog holds substrings it must not contain.
type rejectWant struct {
	code   types.Code
	log    []string
	notLog []string
}

// requireRejected checks a rejection's code, codespace and log.
func requireRejected(t *testing.T, want rejectWant, code uint32, codespace, log string) {
	t.Helper()
	require.Equalf(t, want.code, types.Code(code), "want %q, got %q: %s", want.code, types.Code(code), log)
	require.Equal(t, types.Codespace, codespace)
	for _, s := range want.log {
		require.Contains(t, log, s)
	}
	for _, s := range want.notLog {
		require.NotContains(t, log, s)
	}
}

// TestRejections checks every rejection through CheckTx and through
// FinalizeBlock: the exact code, the codespace, a log naming the problem
// (and the offending hash, where there is one), and that the rejected tx
// changes nothing (app hash, records, sequence).
func TestRejections(t *testing.T) {
	longReason := strings.Repeat("r", 257)
	for _, tc := range []struct {
		name   string
		build  rejectBuildFn
		code   types.Code
		log    []string
		notLog []string
	}{
		{
			name: "signature with a flipped byte",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				return mutateEnvelope(c.t, c.sign(a, c.body(a, anchorMsg(rjFresh))), func(env *types.Tx) { env.Signature[7] ^= 0x01 })
			}),
			code: types.CodeBadSignature, log: []string{"signature does not verify", `"issuer0"`},
		},
		{
			name: "signature truncated",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				return mutateEnvelope(c.t, c.sign(a, c.body(a, anchorMsg(rjFresh))), func(env *types.Tx) { env.Signature = env.Signature[:63] })
			}),
			code: types.CodeBadSignature, log: []string{"signature does not verify", `"issuer0"`},
		},
		{
			name: "body changed after signing",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				good := c.sign(a, c.body(a, anchorMsg(rjFresh)))
				other, err := c.body(a, anchorMsg(rjFresh2)).Marshal()
				require.NoError(c.t, err)
				return mutateEnvelope(c.t, good, func(env *types.Tx) { env.Body = other })
			}),
			code: types.CodeBadSignature, log: []string{"signature does not verify", `"issuer0"`},
		},
		{
			name: "signed with another issuer's key",
			build: alone(func(c *testChain) []byte {
				return c.sign(c.issuers[1], c.body(c.issuers[0], anchorMsg(rjFresh)))
			}),
			code: types.CodeBadSignature, log: []string{"signature does not verify", `"issuer0"`},
		},
		{
			name:  "wrong chain id",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.ChainId = "credledger-other" }),
			code:  types.CodeWrongChainID, log: []string{`"credledger-other"`, `"` + testChainID + `"`},
		},
		{
			name: "replayed sequence in a later block",
			build: func(c *testChain) ([][]byte, []byte) {
				tx := c.tx(c.issuers[0], anchorMsg(rjFresh))
				c.commitOK(tx)
				return nil, tx
			},
			code: types.CodeSequenceReplayed, log: []string{"replayed", "already used", `"issuer0"`},
		},
		{
			name: "replayed sequence in the same block",
			build: func(c *testChain) ([][]byte, []byte) {
				tx := c.tx(c.issuers[0], anchorMsg(rjFresh))
				return [][]byte{tx}, tx
			},
			code: types.CodeSequenceReplayed, log: []string{"replayed", "already used", `"issuer0"`},
		},
		{
			name:  "used sequence with new content",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.Sequence-- }),
			code:  types.CodeSequenceReplayed, log: []string{"replayed", "already used", `"issuer0"`},
		},
		{
			// a smaller skip is held by CheckTx (TestCheckTxHoldsTxAhead)
			// and rejected by FinalizeBlock (TestFinalizeRejectsTxAhead)
			name:  "skipped sequence beyond MaxSequenceLead",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.Sequence += MaxSequenceLead + 1 }),
			code:  types.CodeSequenceGap, log: []string{"skips ahead", `"issuer0"`},
		},
		{
			name:  "unknown signer",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.IssuerId = "issuer9" }),
			code:  types.CodeUnknownIssuer, log: []string{`unknown issuer "issuer9"`},
		},
		// A revoke by an issuer that did not anchor the hash (CodeNotOwner in
		// the one-record layout) is now accepted into the signer's own
		// record, and leaves the anchoring issuer's untouched: see
		// TestNoMemberChangesAnothersRecord. A suspend or reinstate needs the
		// signer's own anchor, so by a non-owner it is CodeNotAnchored now
		// (it was CodeNotOwner).
		{
			name:  "suspend by non-owner",
			build: signedBy(2, suspendMsg("not mine", rjValid), nil),
			code:  types.CodeNotAnchored, log: []string{hexOf(rjValid), `not anchored by issuer "issuer2"`, "suspended"},
		},
		{
			name:  "reinstate by non-owner",
			build: signedBy(1, reinstateMsg("not mine", rjSuspended), nil),
			code:  types.CodeNotAnchored, log: []string{hexOf(rjSuspended), `not anchored by issuer "issuer1"`, "reinstated"},
		},
		{
			name: "reinstate by non-owner that anchored the hash too",
			build: func(c *testChain) ([][]byte, []byte) {
				b := c.issuers[1]
				return [][]byte{c.tx(b, anchorMsg(rjSuspended))}, c.tx(b, reinstateMsg("lift it", rjSuspended))
			},
			code: types.CodeNotSuspended, log: []string{hexOf(rjSuspended), "is not suspended"},
		},
		{
			name:  "reinstate of a revoked credential",
			build: signedBy(0, reinstateMsg("undo", rjRevoked), nil),
			code:  types.CodeAlreadyRevoked, log: []string{hexOf(rjRevoked), "revocation is final"},
		},
		{
			name:  "reinstate of a credential that is not suspended",
			build: signedBy(0, reinstateMsg("undo", rjValid), nil),
			code:  types.CodeNotSuspended, log: []string{hexOf(rjValid), "is not suspended"},
		},
		{
			name:  "suspend of a suspended credential",
			build: signedBy(0, suspendMsg("again", rjSuspended), nil),
			code:  types.CodeAlreadySuspended, log: []string{hexOf(rjSuspended), "already suspended"},
		},
		{
			name:  "suspend of a revoked credential",
			build: signedBy(0, suspendMsg("late", rjRevoked), nil),
			code:  types.CodeAlreadyRevoked, log: []string{hexOf(rjRevoked), "revocation is final"},
		},
		{
			name:  "suspend of a hash that is not anchored",
			build: signedBy(0, suspendMsg("audit", rjFresh), nil),
			code:  types.CodeNotAnchored, log: []string{hexOf(rjFresh), "not anchored", "suspended"},
		},
		{
			name:  "suspend of a hash revoked off-ledger",
			build: signedBy(1, suspendMsg("audit", rjOffLedger), nil),
			code:  types.CodeNotAnchored, log: []string{hexOf(rjOffLedger), "not anchored"},
		},
		{
			name:  "reinstate of a hash that is not anchored",
			build: signedBy(0, reinstateMsg("ok", rjFresh), nil),
			code:  types.CodeNotAnchored, log: []string{hexOf(rjFresh), "not anchored", "reinstated"},
		},
		{
			name:  "revoke of a revoked credential by its owner",
			build: signedBy(0, revokeMsg("again", rjRevoked), nil),
			code:  types.CodeAlreadyRevoked, log: []string{hexOf(rjRevoked), `revoked by issuer "issuer0"`, "final"},
		},
		{
			name:  "revoke of an off-ledger revocation by the same issuer",
			build: signedBy(1, revokeMsg("again", rjOffLedger), nil),
			code:  types.CodeAlreadyRevoked, log: []string{hexOf(rjOffLedger), `revoked by issuer "issuer1"`},
		},
		// The cases below were rejections when the tx's issuer differed from
		// the one that wrote the hash before; another issuer's record no
		// longer blocks (TestNoMemberChangesAnothersRecord), so each is now
		// the same issuer twice.
		{
			name: "revoke of a hash revoked earlier in the same block",
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[0], revokeMsg("first", rjFresh))}, c.tx(c.issuers[0], revokeMsg("second", rjFresh))
			},
			code: types.CodeAlreadyRevoked, log: []string{hexOf(rjFresh), `revoked by issuer "issuer0"`},
		},
		{
			name:  "anchor of an anchored hash by the same issuer",
			build: signedBy(0, anchorMsg(rjValid), nil),
			code:  types.CodeAlreadyAnchored, log: []string{hexOf(rjValid), `already anchored by issuer "issuer0"`},
		},
		{
			name: "anchor of a hash another issuer anchored, twice",
			build: func(c *testChain) ([][]byte, []byte) {
				b := c.issuers[1]
				return [][]byte{c.tx(b, anchorMsg(rjValid))}, c.tx(b, anchorMsg(rjValid))
			},
			code: types.CodeAlreadyAnchored, log: []string{hexOf(rjValid), `already anchored by issuer "issuer1"`},
		},
		{
			name: "anchor of a hash anchored earlier in the same block",
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[0], anchorMsg(rjFresh))}, c.tx(c.issuers[0], anchorMsg(rjFresh))
			},
			code: types.CodeAlreadyAnchored, log: []string{hexOf(rjFresh), `already anchored by issuer "issuer0"`},
		},
		{
			name:  "anchor of a hash revoked off-ledger",
			build: signedBy(1, anchorMsg(rjOffLedger), nil),
			code:  types.CodeHasStatus, log: []string{hexOf(rjOffLedger), `issuer "issuer1" already revoked it`, "cannot be anchored"},
		},
		{
			name: "anchor of a hash revoked earlier in the same block",
			build: func(c *testChain) ([][]byte, []byte) {
				return [][]byte{c.tx(c.issuers[0], revokeMsg("pre-empted", rjFresh))}, c.tx(c.issuers[0], anchorMsg(rjFresh))
			},
			code: types.CodeHasStatus, log: []string{hexOf(rjFresh), `issuer "issuer0" already revoked it`},
		},
		{
			name:  "hash twice in one anchor",
			build: signedBy(0, anchorMsg(rjFresh, rjFresh2, rjFresh), nil),
			code:  types.CodeDuplicateHash, log: []string{hexOf(rjFresh), "twice"},
		},
		{
			name:  "hash twice in one revoke",
			build: signedBy(0, revokeMsg("x", rjValid, rjValid), nil),
			code:  types.CodeDuplicateHash, log: []string{hexOf(rjValid), "twice"},
		},
		{
			name:  "empty anchor batch",
			build: signedBy(0, anchorMsg(), nil),
			code:  types.CodeEmptyBatch, log: []string{"anchor", "no credential hashes"},
		},
		{
			name:  "empty revoke batch",
			build: signedBy(0, revokeMsg("nothing"), nil),
			code:  types.CodeEmptyBatch, log: []string{"revoke", "no credential hashes"},
		},
		{
			name:  "oversize batch",
			build: signedBy(0, anchorMsg(testHashes(10_000, int(types.DefaultParams().MaxBatchSize)+1)...), nil),
			code:  types.CodeBatchTooLarge, log: []string{"10001 hashes", "at most 10000"},
		},
		{
			name:  "31-byte hash",
			build: signedBy(0, anchorMsg(rjFresh, bytes.Clone(rjFresh2[:31])), nil),
			code:  types.CodeBadHashLength, log: []string{"hash #1 is 31 bytes", "want 32"},
		},
		{
			name:  "33-byte hash",
			build: signedBy(0, revokeMsg("x", append(bytes.Clone(rjFresh2), 0)), nil),
			code:  types.CodeBadHashLength, log: []string{"hash #0 is 33 bytes", "want 32"},
		},
		{
			name:  "reason too long on revoke",
			build: signedBy(0, revokeMsg(longReason, rjValid), nil),
			code:  types.CodeReasonTooLong, log: []string{"reason is 257 bytes", "at most 256"},
		},
		{
			name:  "reason too long on suspend",
			build: signedBy(0, suspendMsg(longReason, rjValid), nil),
			code:  types.CodeReasonTooLong, log: []string{"reason is 257 bytes", "at most 256"},
		},
		{
			name:  "missing message",
			build: signedBy(0, nil, nil),
			code:  types.CodeMissingMessage, log: []string{"no message"},
		},
		{
			name:  "issuer id with bad characters",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.IssuerId = "issuer 0!" }),
			code:  types.CodeInvalidIssuerID, log: []string{`issuer id "issuer 0!"`, "character"},
		},
		{
			name:  "empty issuer id",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.IssuerId = "" }),
			code:  types.CodeInvalidIssuerID, log: []string{"issuer id is empty"},
		},
		{
			name:  "issuer id too long",
			build: signedBy(0, anchorMsg(rjFresh), func(b *types.TxBody) { b.IssuerId = strings.Repeat("i", 65) }),
			code:  types.CodeInvalidIssuerID, log: []string{"issuer id is 65 bytes"},
		},
		{
			name:  "garbage bytes",
			build: alone(func(*testChain) []byte { return []byte{0xff, 0xff, 0xff, 0xff, 0x01} }),
			code:  types.CodeMalformedTx, log: []string{"tx envelope is not valid protobuf"},
		},
		{
			name:  "empty tx",
			build: alone(func(*testChain) []byte { return []byte{} }),
			code:  types.CodeMalformedTx, log: []string{"tx envelope is empty"},
		},
		{
			name:  "envelope without body",
			build: alone(func(*testChain) []byte { return []byte{0x12, 0x01, 0x00} }),
			code:  types.CodeMalformedTx, log: []string{"tx body is empty"},
		},
		{
			name: "unknown field appended to the envelope",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				return append(c.sign(a, c.body(a, anchorMsg(rjFresh))), 0x18, 0x01) // field 3, varint 1
			}),
			code: types.CodeMalformedTx, log: []string{"tx envelope is not canonically encoded"},
		},
		{
			name: "envelope fields out of order",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				var env types.Tx
				require.NoError(c.t, env.Unmarshal(c.sign(a, c.body(a, anchorMsg(rjFresh)))))
				// signature (field 2) before body (field 1); both decode fine
				out := append([]byte{0x12, byte(len(env.Signature))}, env.Signature...)
				out = append(out, 0x0a, byte(len(env.Body)))
				return append(out, env.Body...)
			}),
			code: types.CodeMalformedTx, log: []string{"tx envelope is not canonically encoded"},
		},
		{
			name: "unknown field in the signed body",
			build: alone(func(c *testChain) []byte {
				a := c.issuers[0]
				bz, err := c.body(a, anchorMsg(rjFresh)).Marshal()
				require.NoError(c.t, err)
				return signRaw(c.t, a, append(bz, 0x28, 0x01)) // field 5, varint 1
			}),
			code: types.CodeMalformedTx, log: []string{"tx body is not canonically encoded"},
		},
		{
			name:   "anchor batch whose last hash is anchored writes none",
			build:  signedBy(0, anchorMsg(rjFresh, rjFresh2, rjValid), nil),
			code:   types.CodeAlreadyAnchored,
			log:    []string{hexOf(rjValid), "already anchored"},
			notLog: []string{hexOf(rjFresh), hexOf(rjFresh2)},
		},
		{
			// its last hash used to be another issuer's (rjValid,
			// CodeNotOwner); a revoke of it is accepted now, so the last hash
			// is one the signer revoked already
			name:   "revoke batch whose last hash the signer revoked writes none",
			build:  signedBy(1, revokeMsg("x", rjFresh, rjOther, rjValid, rjOffLedger), nil),
			code:   types.CodeAlreadyRevoked,
			log:    []string{hexOf(rjOffLedger), `revoked by issuer "issuer1"`},
			notLog: []string{hexOf(rjFresh), hexOf(rjOther), hexOf(rjValid)},
		},
		{
			name:   "suspend batch whose last hash is not the signer's writes none",
			build:  signedBy(1, suspendMsg("x", rjOther, rjValid), nil),
			code:   types.CodeNotAnchored,
			log:    []string{hexOf(rjValid), `not anchored by issuer "issuer1"`},
			notLog: []string{hexOf(rjOther)},
		},
		{
			name:   "suspend batch whose last hash is suspended writes none",
			build:  signedBy(0, suspendMsg("x", rjValid, rjSuspended), nil),
			code:   types.CodeAlreadySuspended,
			log:    []string{hexOf(rjSuspended)},
			notLog: []string{hexOf(rjValid)},
		},
	} {
		want := rejectWant{code: tc.code, log: tc.log, notLog: tc.notLog}
		t.Run(tc.name, func(t *testing.T) {
			t.Run("CheckTx", func(t *testing.T) { testRejectionCheckTx(t, tc.build, want) })
			t.Run("FinalizeBlock", func(t *testing.T) { testRejectionFinalize(t, tc.build, want) })
		})
	}
}

// testRejectionCheckTx runs build's txs through CheckTx: the prior ones must
// pass, the last must be rejected as want says and consume no sequence.
func testRejectionCheckTx(t *testing.T, build rejectBuildFn, want rejectWant) {
	c := newRejectChain(t)
	prior, bad := build(c)
	hash := c.app.Store().Hash()
	before := c.records(0, rjPool...)

	next := make(map[string]uint64)
	for _, is := range c.issuers {
		next[is.id] = c.committedSeq(is.id)
	}
	for i, tx := range prior {
		resp := c.checkTx(tx)
		require.Zerof(t, resp.Code, "prior tx %d: %s", i, resp.Log)
		d, err := types.DecodeTx(tx)
		require.NoError(t, err)
		next[d.Body.IssuerId]++
	}

	resp := c.checkTx(bad)
	requireRejected(t, want, resp.Code, resp.Codespace, resp.Log)
	require.Equal(t, hash, c.app.Store().Hash())
	require.Equal(t, before, c.records(0, rjPool...))

	// the rejected tx consumed no sequence of the CheckTx state: every
	// issuer's expected next tx is still accepted
	for i, is := range c.issuers {
		probe := &types.TxBody{ChainId: testChainID, IssuerId: is.id, Sequence: next[is.id], Msg: anchorMsg(testHash(5000 + i))}
		resp := c.checkTx(c.sign(is, probe))
		require.Zerof(t, resp.Code, "probe of %s after the rejection: %s", is.id, resp.Log)
	}
}

// testRejectionFinalize finalizes a block of build's txs: the prior ones
// must pass, the last must be rejected as want says, and the state must be
// exactly that of the same chain without the rejected tx (for a block
// holding only the rejected tx: the state before the block).
func testRejectionFinalize(t *testing.T, build rejectBuildFn, want rejectWant) {
	c := newRejectChain(t)
	prior, bad := build(c)
	hash := c.app.Store().Hash()
	before := c.records(0, rjPool...)

	res, appHash := c.finalize(slices.Concat(prior, [][]byte{bad})...)
	require.Len(t, res, len(prior)+1)
	for i, r := range res[:len(prior)] {
		require.Zerof(t, r.Code, "prior tx %d: %s", i, r.Log)
	}
	r := res[len(prior)]
	requireRejected(t, want, r.Code, r.Codespace, r.Log)
	require.Empty(t, r.Events)

	ref := newRejectChain(t)
	refPrior, _ := build(ref)
	_, refHash := ref.finalize(refPrior...)
	require.Equal(t, refHash, appHash)
	require.Equal(t, refHash, c.app.Store().Hash())
	require.Equal(t, ref.records(0, rjPool...), c.records(0, rjPool...))
	if len(prior) == 0 {
		require.Equal(t, hash, appHash, "a block holding only a rejected tx changed the app hash")
		require.Equal(t, before, c.records(0, rjPool...))
	}
}

// TestLimitsAccepted checks the accepted side of the size limits, so that
// the oversize rejections above are off by exactly one.
func TestLimitsAccepted(t *testing.T) {
	maxBatch := int(types.DefaultParams().MaxBatchSize)
	maxReason := strings.Repeat("r", int(types.DefaultParams().MaxReasonLength))
	for _, tc := range []struct {
		name  string
		msg   any
		check [][]byte
		want  types.Verdict
	}{
		{
			name:  "batch of MaxBatchSize hashes",
			msg:   revokeMsg("bulk", testHashes(20_000, maxBatch)...),
			check: [][]byte{testHash(20_000), testHash(20_000 + maxBatch - 1)},
			want:  types.VerdictRevoked,
		},
		{
			name:  "reason of MaxReasonLength bytes",
			msg:   suspendMsg(maxReason, rjValid),
			check: [][]byte{rjValid},
			want:  types.VerdictSuspended,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newRejectChain(t)
			tx := c.tx(c.issuers[0], tc.msg)
			resp := c.checkTx(tx)
			require.Zero(t, resp.Code, resp.Log)
			res, _ := c.finalize(tx)
			require.Zero(t, res[0].Code, res[0].Log)
			for _, h := range tc.check {
				require.Equal(t, tc.want, c.verdict(h).Verdict)
			}
		})
	}
}

// TestCheckTxPendingSequence checks that CheckTx stages pending txs: one
// issuer's txs are accepted in sequence before any block, gaps and replays
// are judged against the pending ones, and after Commit a recheck of a tx
// that was included is rejected as replayed while the others stay valid.
func TestCheckTxPendingSequence(t *testing.T) {
	c := newTestChain(t, nil, 2)
	a, b := c.issuers[0], c.issuers[1]
	h1, h2 := testHash(1), testHash(2)
	tx0 := c.tx(a, anchorMsg(h1))
	tx1 := c.tx(a, suspendMsg("audit", h1)) // needs tx0's anchor
	tx2 := c.tx(a, reinstateMsg("cleared", h1))
	gapBody := c.body(a, anchorMsg(h2))
	gapBody.Sequence += MaxSequenceLead + 1 // too far ahead of 3, the next, to be held
	gap := c.sign(a, gapBody)
	tx3 := c.tx(a, anchorMsg(h2))
	dupOwn := c.tx(a, anchorMsg(h1)) // h1 is anchored by pending tx0
	a.seq--                          // dupOwn is rejected: its sequence is free again
	otherAnchor := c.tx(b, anchorMsg(h1))
	tx4 := c.tx(b, revokeMsg("off-ledger", testHash(3)))

	for _, step := range []struct {
		name    string
		block   [][]byte // finalized and committed before the step, if not nil
		recheck bool
		tx      []byte
		code    types.Code
	}{
		{name: "seq 0", tx: tx0},
		{name: "seq 1 on pending seq 0", tx: tx1},
		{name: "seq 2 on pending seq 1", tx: tx2},
		{name: "gap over the pending txs", tx: gap, code: types.CodeSequenceGap},
		{name: "replay of a pending tx", tx: tx1, code: types.CodeSequenceReplayed},
		{name: "replay of the first pending tx", tx: tx0, code: types.CodeSequenceReplayed},
		{name: "seq 3 after the rejections", tx: tx3},
		{name: "anchor of a hash anchored by its own pending tx", tx: dupOwn, code: types.CodeAlreadyAnchored},
		// new rule: it used to be rejected (CodeAlreadyAnchored); b's anchor
		// is its own record
		{name: "anchor of a hash another issuer's pending tx anchored", tx: otherAnchor},
		{name: "other issuer's seq 1", tx: tx4},
		{name: "recheck of an included tx", block: [][]byte{tx0, tx1}, recheck: true, tx: tx0, code: types.CodeSequenceReplayed},
		{name: "recheck of the other included tx", recheck: true, tx: tx1, code: types.CodeSequenceReplayed},
		{name: "recheck of the next pending tx", recheck: true, tx: tx2},
		{name: "recheck of the one after", recheck: true, tx: tx3},
		{name: "recheck of the other issuer's anchor of the hash included", recheck: true, tx: otherAnchor},
		{name: "recheck of the other issuer's tx", recheck: true, tx: tx4},
		{name: "new tx replaying an included one", tx: tx1, code: types.CodeSequenceReplayed},
	} {
		if step.block != nil {
			c.commitOK(step.block...)
		}
		resp := c.checkTx
		if step.recheck {
			resp = c.recheckTx
		}
		r := resp(step.tx)
		require.Equalf(t, step.code, types.Code(r.Code), "step %q: %s", step.name, r.Log)
		if step.code != types.CodeOK {
			require.Equalf(t, types.Codespace, r.Codespace, "step %q", step.name)
		}
	}
	require.Equal(t, uint64(2), c.committedSeq(a.id))
	require.Equal(t, uint64(0), c.committedSeq(b.id))
}
