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
		types.CredentialKey(hashValid), types.CredentialKey(hashUnknown), types.CredentialKey(hashRevoked), types.CredentialKey(hashShared),
		append([]byte{types.PrefixAnchor}, hashValid...), types.IssuerKey("issuer0"), types.IssuerKey("nobody"), types.ChainIDKey(), {0x00, 0x00}, {0xff},
	}
	for _, v := range pt.vers {
		for _, key := range keys {
			value, proof := pt.prove(f, v, key)
			f.Add(pt.roots[v], key, value, proof)
		}
	}
	value, proof := pt.prove(f, 3, types.CredentialKey(hashValid))
	f.Add(pt.roots[3], types.CredentialKey(hashValid), value, append(bytes.Clone(proof), 0x2a, 0x00))
	f.Add(pt.roots[3], types.CredentialKey(hashValid), value[:len(value)-1], proof)
	f.Add(pt.roots[2], types.CredentialKey(hashValid), value, proof)
	for _, p := range otherProofShapes(f, proof) {
		f.Add(pt.roots[3], types.CredentialKey(hashValid), value, p)
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
// app hashes. It must never panic, and whenever it returns a result, the
// record must be the genuine one of the version whose root is appHash, so
// that every issuer's verdict is the genuine one.
func FuzzVerifyCredential(f *testing.F) {
	pt := newProofTree(f)
	hashes := [][]byte{
		hashValid, hashRevoked, hashSuspended, hashReinstated, hashOffLedger, hashLate, hashUnknown, hashShared,
		hashBadSuspend, hashBadReinstate, hashBadStatus, hashBadRecord, hashBadIssuer, hashBadOrder, hashNoEntries,
	}
	for _, v := range pt.vers {
		for _, h := range hashes {
			c := pt.answer(f, v, h)
			f.Add(c.hash, c.ans.Record, c.proof, c.appHash)
		}
	}
	shared := pt.answer(f, 3, hashShared)
	unknown := pt.answer(f, 3, hashUnknown)
	f.Add(shared.hash, []byte(nil), shared.proof, shared.appHash)
	f.Add(shared.hash, pt.answer(f, 1, hashShared).ans.Record, shared.proof, shared.appHash)
	f.Add(shared.hash, shared.ans.Record, unknown.proof, shared.appHash)
	f.Add(unknown.hash, shared.ans.Record, unknown.proof, unknown.appHash)
	f.Add(shared.hash, shared.ans.Record, shared.proof, pt.roots[1])
	f.Add(shared.hash[:31], shared.ans.Record, shared.proof, shared.appHash)
	for _, p := range otherProofShapes(f, shared.proof) {
		f.Add(shared.hash, shared.ans.Record, p, shared.appHash)
	}

	f.Fuzz(func(t *testing.T, hash, record, proof, appHash []byte) {
		ans := &types.CredentialAnswer{Hash: hash, Record: record}
		res, err := types.VerifyCredential(hash, ans, proof, appHash)
		if err != nil {
			if res != nil {
				t.Fatalf("result %+v returned with error %v", res, err)
			}
			if !errors.Is(err, types.ErrProofInvalid) && !errors.Is(err, types.ErrMalformedAnswer) && !errors.Is(err, types.ErrBadHash) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		want := pt.valueAt(t, appHash, types.CredentialKey(hash))
		if !bytes.Equal(want, record) {
			t.Fatalf("verdict %q for %X from record %X; the tree holds %X", res.Verdict, hash, record, want)
		}
		genuine, err := types.VerifyCredential(hash, pt.answerAtRoot(t, appHash, hash), pt.proofAtRoot(t, appHash, types.CredentialKey(hash)), appHash)
		if err != nil || genuine.Verdict != res.Verdict || genuine.Issuer() != res.Issuer() {
			t.Fatalf("verdict %q (issuer %q) differs from the genuine answer's (%v, %v)", res.Verdict, res.Issuer(), genuine, err)
		}
		checkResult(t, res)
		for _, id := range genuine.Issuers() {
			if !genuine.Choose(id) || !res.Choose(id) || genuine.Verdict != res.Verdict {
				t.Fatalf("issuer %q: verdict %q differs from the genuine answer's %q", id, res.Verdict, genuine.Verdict)
			}
		}
	})
}

// checkResult re-checks, independently, what VerifyCredential promises
// about a result: a subject exactly when there is one entry, and a
// verdict for every entry once chosen.
func checkResult(t *testing.T, res *types.CredentialResult) {
	t.Helper()
	switch n := len(res.Entries); {
	case n == 0:
		if res.Verdict != types.VerdictNotAnchored || res.Issuer() != "" || res.Undecided() {
			t.Fatalf("no entries, but verdict %q, issuer %q", res.Verdict, res.Issuer())
		}
	case n == 1:
		if res.Verdict == "" || res.Issuer() != res.Entries[0].IssuerId || res.Undecided() {
			t.Fatalf("one entry, but verdict %q, issuer %q", res.Verdict, res.Issuer())
		}
	default:
		if !res.Undecided() || res.Issuer() != "" || res.Anchor != nil || res.Status != nil {
			t.Fatalf("%d entries, but verdict %q, issuer %q", n, res.Verdict, res.Issuer())
		}
	}
	for _, e := range res.Entries {
		if !res.Choose(e.IssuerId) || res.Issuer() != e.IssuerId || res.Undecided() {
			t.Fatalf("cannot choose issuer %q of a verified result", e.IssuerId)
		}
		if res.Verdict == types.VerdictValid || res.Verdict == types.VerdictSuspended {
			if res.Anchor == nil {
				t.Fatalf("issuer %q: verdict %q without an anchor", e.IssuerId, res.Verdict)
			}
		}
	}
}

// FuzzDecodeCredentialRecord checks that DecodeCredentialRecord never
// panics, that every rejection wraps ErrMalformedAnswer, and that whatever
// it accepts has the promised form.
func FuzzDecodeCredentialRecord(f *testing.F) {
	pt := newProofTree(f)
	for _, h := range [][]byte{hashReinstated, hashShared, hashOffLedger, hashBadSuspend, hashBadRecord, hashBadIssuer, hashBadOrder, hashNoEntries} {
		rec, _ := pt.prove(f, 3, types.CredentialKey(h))
		f.Add(rec)
	}
	for _, entries := range [][]*types.CredentialEntry{
		{anchored("a", 1), anchored("a", 2)},
		{{IssuerId: "a"}},
		{{IssuerId: "a", Anchor: anchorRec("b", 1)}},
		{{IssuerId: "a", Status: statusRec(revoked, "b", 1, "")}},
		{anchored("", 1)},
		{anchored("a a", 1)},
		{{IssuerId: "a", History: []*types.StatusEntry{statusRec(revoked, "a", 1, "")}}},
	} {
		f.Add(recordValue(f, entries...))
	}
	f.Add([]byte{})
	f.Add(varintField(2, 1))
	f.Add(bytesField(1, nil))
	f.Add([]byte{0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, bz []byte) {
		entries, err := types.DecodeCredentialRecord(bz)
		if err != nil {
			if entries != nil || !errors.Is(err, types.ErrMalformedAnswer) {
				t.Fatalf("rejection returns %d entries, error %v", len(entries), err)
			}
			return
		}
		if (len(bz) == 0) != (len(entries) == 0) {
			t.Fatalf("%d bytes decode to %d entries", len(bz), len(entries))
		}
		for i, e := range entries {
			if e == nil || types.ValidateIssuerID(e.IssuerId) != nil {
				t.Fatalf("entry %d has no valid issuer id: %+v", i, e)
			}
			if i > 0 && entries[i-1].IssuerId >= e.IssuerId {
				t.Fatalf("entries %q, %q are not strictly sorted", entries[i-1].IssuerId, e.IssuerId)
			}
			if e.Anchor == nil && e.Status == nil {
				t.Fatalf("entry of %q is empty", e.IssuerId)
			}
			if e.Anchor != nil && e.Anchor.IssuerId != e.IssuerId || e.Status != nil && e.Status.IssuerId != e.IssuerId {
				t.Fatalf("entry of %q names another issuer: %+v", e.IssuerId, e)
			}
		}
		if len(entries) == 0 {
			return
		}
		// the accepted entries re-encode to a record that decodes the same
		again, err := types.DecodeCredentialRecord(recordValue(t, entries...))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("accepted entries do not round-trip: %d entries, %v", len(again), err)
		}
		res := &types.CredentialResult{Entries: entries}
		for _, e := range entries {
			if res.Choose(e.IssuerId) && (res.Issuer() != e.IssuerId || res.Verdict == "") {
				t.Fatalf("chose %q, got issuer %q verdict %q", e.IssuerId, res.Issuer(), res.Verdict)
			}
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
	return &types.CredentialAnswer{Hash: hash, Record: pt.valueAt(t, appHash, types.CredentialKey(hash))}
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
