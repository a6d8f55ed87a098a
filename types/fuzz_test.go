package types_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"unicode/utf8"

	ics23 "github.com/cosmos/ics23/go"

	"github.com/credledger/credledger/types"
)

// FuzzDecodeTx checks that DecodeTx never panics, that whatever it accepts
// is canonical (both envelope and body re-encode to the input bytes), and
// that everything downstream of decoding copes with any accepted tx.
func FuzzDecodeTx(f *testing.F) {
	key := testKey("fuzz")
	h1, h2 := credHash(1), credHash(2)
	for _, body := range []*types.TxBody{
		validBody(),
		{ChainId: "c", IssuerId: "i", Sequence: 1 << 40, Msg: &types.TxBody_Revoke{Revoke: &types.MsgSetStatus{Hashes: [][]byte{h1, h2}, Reason: "fraud"}}},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_Suspend{Suspend: &types.MsgSetStatus{Hashes: [][]byte{h1}}}},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_Reinstate{Reinstate: &types.MsgSetStatus{Hashes: [][]byte{h1}, Reason: "ok"}}},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_Anchor{Anchor: &types.MsgAnchor{}}},
		{ChainId: "c", IssuerId: "bad id", Msg: &types.TxBody_Anchor{Anchor: &types.MsgAnchor{Hashes: [][]byte{h1, h1, {1}}}}},
		{IssuerId: "i"},
		{ChainId: "c", IssuerId: "i", Msg: admissionMsg(nil)},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: "x"}}},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: 1, Yes: true}}},
		{ChainId: "c", IssuerId: "i", Msg: &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: make([]byte, 32)}}},
	} {
		tx, err := types.SignTx(body, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tx)
		f.Add(tx[:len(tx)-1])
		f.Add(append(bytes.Clone(tx), 0x78, 0x01)) // unknown field 15
	}
	for _, tc := range nonCanonicalTxs(f) {
		f.Add(tc.tx)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{0x0a, 0x02, 0x08, 0x00})
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))

	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, bz []byte) {
		d, err := types.DecodeTx(bz)
		if err != nil {
			var te *types.CodeError
			if !errors.As(err, &te) || te.Code != types.CodeMalformedTx {
				t.Fatalf("rejection is not a CodeMalformedTx CodeError: %v", err)
			}
			return
		}
		env, err := d.Envelope.Marshal()
		if err != nil || !bytes.Equal(env, bz) {
			t.Fatalf("accepted envelope re-encodes to %X (err %v), input %X", env, err, bz)
		}
		body, err := d.Body.Marshal()
		if err != nil || !bytes.Equal(body, d.Envelope.Body) {
			t.Fatalf("accepted body re-encodes to %X (err %v), input %X", body, err, d.Envelope.Body)
		}
		_ = d.Body.Action()
		_ = d.Body.Reason()
		if err := d.VerifySignature(pub); err != nil && types.CodeOf(err) != types.CodeBadSignature {
			t.Fatalf("signature failure has code %v: %v", types.CodeOf(err), err)
		}
		for _, p := range []types.Params{types.DefaultParams(), {MaxBatchSize: 1}} {
			err := d.Body.ValidateBasic(p)
			if err == nil {
				checkValidBody(t, &d.Body, p)
				continue
			}
			switch types.CodeOf(err) {
			case types.CodeInvalidIssuerID, types.CodeMissingMessage, types.CodeEmptyBatch, types.CodeBatchTooLarge,
				types.CodeReasonTooLong, types.CodeBadHashLength, types.CodeDuplicateHash, types.CodeInvalidProposal,
				types.CodeMalformedTx: // a reason that is not UTF-8
			default:
				t.Fatalf("ValidateBasic error has code %v: %v", types.CodeOf(err), err)
			}
		}
		// re-signing the decoded body yields a tx that decodes to the same body
		again, err := types.SignTx(&d.Body, testKey("resign"))
		if err != nil {
			t.Fatalf("re-sign: %v", err)
		}
		d2, err := types.DecodeTx(again)
		if err != nil || !bytes.Equal(d2.Envelope.Body, d.Envelope.Body) {
			t.Fatalf("re-signed tx does not round-trip: %v", err)
		}
	})
}

// checkValidBody re-checks, independently, what ValidateBasic promises.
func checkValidBody(t *testing.T, b *types.TxBody, p types.Params) {
	t.Helper()
	if types.ValidateIssuerID(b.IssuerId) != nil || b.Msg == nil || b.Action() == "" {
		t.Fatalf("ValidateBasic accepted a body without a valid issuer or message: %+v", b)
	}
	switch m := b.Msg.(type) {
	case *types.TxBody_ProposeAdmission:
		a := m.ProposeAdmission
		if types.ValidateIssuerID(a.IssuerId) != nil || len(a.SigningPubkey) != 32 || len(a.ValidatorPubkey) != 32 || a.Power <= 0 {
			t.Fatalf("ValidateBasic accepted admission %+v", a)
		}
		return
	case *types.TxBody_ProposeRemoval, *types.TxBody_Vote, *types.TxBody_RotateKey:
		return
	}
	hashes := b.Hashes()
	if len(hashes) == 0 || len(hashes) > int(p.MaxBatchSize) || len(b.Reason()) > int(p.MaxReasonLength) || !utf8.ValidString(b.Reason()) {
		t.Fatalf("ValidateBasic accepted %d hashes and a %d-byte reason under %+v", len(hashes), len(b.Reason()), p)
	}
	seen := map[string]bool{}
	for _, h := range hashes {
		if len(h) != types.HashSize || seen[string(h)] {
			t.Fatalf("ValidateBasic accepted hash %X (len %d, repeated %v)", h, len(h), seen[string(h)])
		}
		seen[string(h)] = true
	}
}

// FuzzVerifyValue feeds VerifyValue mutated app hashes, keys, values and
// proofs. It must never panic, and whenever it accepts, the claim must be
// true in the trusted model: appHash is the root of some version in which
// key has exactly that value (or is absent when value is empty).
func FuzzVerifyValue(f *testing.F) {
	pt := newProofTree(f)
	keys := [][]byte{
		types.AnchorKey(hashValid), types.AnchorKey(hashUnknown), types.StatusKey(hashRevoked), types.StatusKey(hashOffLedger),
		types.IssuerKey("issuer0"), types.IssuerKey("nobody"), types.ChainIDKey(), {0x00, 0x00}, {0xff},
	}
	for _, v := range pt.vers {
		for _, key := range keys {
			value, proof := pt.prove(f, v, key)
			f.Add(pt.roots[v], key, value, proof)
		}
	}
	value, proof := pt.prove(f, 3, types.AnchorKey(hashValid))
	f.Add(pt.roots[3], types.AnchorKey(hashValid), value, append(bytes.Clone(proof), 0x2a, 0x00))
	f.Add(pt.roots[3], types.AnchorKey(hashValid), value[:len(value)-1], proof)
	f.Add(pt.roots[2], types.AnchorKey(hashValid), value, proof)
	for _, p := range otherProofShapes(f, proof) {
		f.Add(pt.roots[3], types.AnchorKey(hashValid), value, p)
	}
	f.Add([]byte{}, []byte{}, []byte{}, []byte{})

	f.Fuzz(func(t *testing.T, appHash, key, value, proof []byte) {
		err := types.VerifyValue(appHash, key, value, proof)
		if err != nil {
			if !errors.Is(err, types.ErrProofInvalid) {
				t.Fatalf("error does not wrap ErrProofInvalid: %v", err)
			}
			return
		}
		want := pt.valueAt(t, appHash, key)
		if !bytes.Equal(want, value) {
			t.Fatalf("accepted value %X for key %X under root %X; the tree holds %X", value, key, appHash, want)
		}
	})
}

// FuzzVerifyCredential feeds VerifyCredential mutated answers, proofs and
// app hashes. It must never panic, and whenever it returns a verdict, the
// answer must be the genuine one of the version whose root is appHash, so
// that the verdict is the genuine verdict.
func FuzzVerifyCredential(f *testing.F) {
	pt := newProofTree(f)
	hashes := [][]byte{hashValid, hashRevoked, hashSuspended, hashReinstated, hashOffLedger, hashLate, hashUnknown, hashBadSuspend, hashBadAnchor}
	for _, v := range pt.vers {
		for _, h := range hashes {
			c := pt.answer(f, v, h)
			f.Add(c.hash, c.ans.Anchor, c.ans.Status, c.anchorProof, c.statusProof, c.appHash)
		}
	}
	rev := pt.answer(f, 3, hashRevoked)
	f.Add(rev.hash, rev.ans.Anchor, []byte(nil), rev.anchorProof, rev.statusProof, rev.appHash)
	f.Add(rev.hash, rev.ans.Anchor, rev.ans.Status, rev.statusProof, rev.anchorProof, rev.appHash)
	f.Add(rev.hash, rev.ans.Anchor, rev.ans.Status, rev.anchorProof, rev.statusProof, pt.roots[1])
	for _, p := range otherProofShapes(f, rev.statusProof) {
		f.Add(rev.hash, rev.ans.Anchor, rev.ans.Status, rev.anchorProof, p, rev.appHash)
	}

	f.Fuzz(func(t *testing.T, hash, anchor, status, anchorProof, statusProof, appHash []byte) {
		ans := &types.CredentialAnswer{Hash: hash, Anchor: anchor, Status: status}
		res, err := types.VerifyCredential(hash, ans, anchorProof, statusProof, appHash)
		if err != nil {
			if res != nil {
				t.Fatalf("result %+v returned with error %v", res, err)
			}
			if !errors.Is(err, types.ErrProofInvalid) && !errors.Is(err, types.ErrMalformedAnswer) && !errors.Is(err, types.ErrBadHash) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		wantAnchor := pt.valueAt(t, appHash, types.AnchorKey(hash))
		wantStatus := pt.valueAt(t, appHash, types.StatusKey(hash))
		if !bytes.Equal(wantAnchor, anchor) || !bytes.Equal(wantStatus, status) {
			t.Fatalf("verdict %q for %X from anchor %X status %X; the tree holds anchor %X status %X",
				res.Verdict, hash, anchor, status, wantAnchor, wantStatus)
		}
		genuine, err := types.VerifyCredential(hash, pt.answerAtRoot(t, appHash, hash), pt.proofAtRoot(t, appHash, types.AnchorKey(hash)), pt.proofAtRoot(t, appHash, types.StatusKey(hash)), appHash)
		if err != nil || genuine.Verdict != res.Verdict {
			t.Fatalf("verdict %q differs from the genuine answer's (%v, %v)", res.Verdict, genuine, err)
		}
	})
}

// versionOf returns the version whose root is appHash; it fails the test if
// there is none, since then no proof may verify.
func (pt *proofTree) versionOf(t *testing.T, appHash []byte) int64 {
	t.Helper()
	for _, v := range pt.vers {
		if bytes.Equal(pt.roots[v], appHash) {
			return v
		}
	}
	t.Fatalf("a proof verified against %X, which is the root of no version", appHash)
	return 0
}

// valueAt returns the value of key in the version whose root is appHash.
func (pt *proofTree) valueAt(t *testing.T, appHash, key []byte) []byte {
	t.Helper()
	v := pt.versionOf(t, appHash)
	if len(key) == 0 {
		return nil // IAVL cannot hold the empty key
	}
	value, err := pt.version(t, v).Get(key)
	if err != nil {
		t.Fatalf("model get %X: %v", key, err)
	}
	return value
}

func (pt *proofTree) answerAtRoot(t *testing.T, appHash, hash []byte) *types.CredentialAnswer {
	t.Helper()
	return &types.CredentialAnswer{Hash: hash, Anchor: pt.valueAt(t, appHash, types.AnchorKey(hash)), Status: pt.valueAt(t, appHash, types.StatusKey(hash))}
}

func (pt *proofTree) proofAtRoot(t *testing.T, appHash, key []byte) []byte {
	t.Helper()
	_, proof := pt.prove(t, pt.versionOf(t, appHash), key)
	return proof
}

// otherProofShapes wraps a genuine proof in the ICS23 proof kinds IAVL never
// produces (batch, compressed, compressed with a broken lookup table).
func otherProofShapes(tb testing.TB, proof []byte) [][]byte {
	tb.Helper()
	var cp ics23.CommitmentProof
	if err := cp.Unmarshal(proof); err != nil {
		tb.Fatal(err)
	}
	entry := &ics23.BatchEntry{}
	if e := cp.GetExist(); e != nil {
		entry.Proof = &ics23.BatchEntry_Exist{Exist: e}
	} else {
		entry.Proof = &ics23.BatchEntry_Nonexist{Nonexist: cp.GetNonexist()}
	}
	batch := &ics23.CommitmentProof{Proof: &ics23.CommitmentProof_Batch{Batch: &ics23.BatchProof{Entries: []*ics23.BatchEntry{entry}}}}
	broken := ics23.Compress(batch)
	broken.GetCompressed().LookupInners = nil
	return [][]byte{mustMarshal(tb, batch), mustMarshal(tb, ics23.Compress(batch)), mustMarshal(tb, broken)}
}
