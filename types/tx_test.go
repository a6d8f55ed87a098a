package types_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// testKey derives an ed25519 key from a label, so tests are repeatable.
func testKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("credledger-types-test-key/" + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// validBody returns a body that passes ValidateBasic under DefaultParams.
func validBody() *types.TxBody {
	return &types.TxBody{
		ChainId: "credledger-test", IssuerId: "issuer0", Sequence: 7,
		Msg: &types.TxBody_Anchor{Anchor: &types.MsgAnchor{Hashes: [][]byte{credHash(1), credHash(2), credHash(3)}}},
	}
}

// protobuf wire helpers for hand-made encodings

func field(num, wireType int) []byte {
	return binary.AppendUvarint(nil, uint64(num)<<3|uint64(wireType))
}

func bytesField(num int, b []byte) []byte {
	out := field(num, 2)
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...)
}

func varintField(num int, v uint64) []byte { return binary.AppendUvarint(field(num, 0), v) }

// longLenBytesField encodes a bytes field with a non-minimal (one byte too
// long) length varint, which protobuf parsers accept.
func longLenBytesField(num int, b []byte) []byte {
	out := field(num, 2)
	l := binary.AppendUvarint(nil, uint64(len(b)))
	l[len(l)-1] |= 0x80
	out = append(out, l...)
	out = append(out, 0x00)
	return append(out, b...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// envelope builds a Tx signed over body (whatever body is) by key.
func envelope(tb testing.TB, body []byte, key ed25519.PrivateKey) []byte {
	tb.Helper()
	return mustMarshal(tb, &types.Tx{Body: body, Signature: ed25519.Sign(key, types.SignBytes(body))})
}

type badTx struct {
	name string
	tx   []byte
	// parses means the bytes are valid protobuf, so only the canonical
	// re-encoding check can reject them
	parses bool
}

// nonCanonicalTxs returns encodings DecodeTx must reject.
func nonCanonicalTxs(tb testing.TB) []badTx {
	tb.Helper()
	key := testKey("issuer0")
	body := mustMarshal(tb, validBody())
	good := envelope(tb, body, key)
	sig := ed25519.Sign(key, types.SignBytes(body))
	h := credHash(1)
	withBody := func(b []byte) []byte { return envelope(tb, b, key) }
	hdr := concat(bytesField(1, []byte("c")), bytesField(2, []byte("i")))
	anchor := bytesField(10, bytesField(1, h))
	return []badTx{
		{"envelope with unknown field", concat(good, varintField(15, 1)), true},
		{"envelope fields reversed", concat(bytesField(2, sig), bytesField(1, body)), true},
		{"envelope body twice", concat(bytesField(1, body), good), true},
		{"envelope with explicit empty signature", concat(bytesField(1, body), bytesField(2, nil)), true},
		{"envelope body length not minimal", concat(longLenBytesField(1, body), bytesField(2, sig)), true},
		{"envelope truncated", good[:len(good)-1], false},
		{"envelope with bad wire type", concat(good, field(3, 7)), false},
		{"body missing", mustMarshal(tb, &types.Tx{Signature: sig}), false},
		{"body garbage", withBody([]byte{0xff, 0xff, 0xff}), false},
		{"body with unknown field", withBody(concat(body, varintField(99, 1))), true},
		{"body with unknown message field", withBody(concat(hdr, bytesField(99, bytesField(1, h)))), true},
		{"body with explicit zero sequence", withBody(concat(hdr, varintField(3, 0), anchor)), true},
		{"body sequence varint not minimal", withBody(concat(hdr, field(3, 0), []byte{0x81, 0x80, 0x00}, anchor)), true},
		{"body fields out of order", withBody(concat(bytesField(2, []byte("i")), bytesField(1, []byte("c")), anchor)), true},
		{"body with two messages", withBody(concat(hdr, anchor, bytesField(11, bytesField(1, h)))), true},
		{"body with explicit empty chain id", withBody(concat(bytesField(1, nil), bytesField(2, []byte("i")), anchor)), true},
		{"hash length not minimal", withBody(concat(hdr, bytesField(10, longLenBytesField(1, h)))), true},
		{"message with unknown field", withBody(concat(hdr, bytesField(10, concat(bytesField(1, h), varintField(9, 1))))), true},
	}
}

func TestDecodeTxRoundTrip(t *testing.T) {
	key := testKey("issuer0")
	h := [][]byte{credHash(1), credHash(2)}
	for _, tc := range []struct {
		name string
		msg  func(b *types.TxBody)
	}{
		{"anchor", func(b *types.TxBody) {}},
		{"revoke", func(b *types.TxBody) {
			b.Msg = &types.TxBody_Revoke{Revoke: &types.MsgSetStatus{Hashes: h, Reason: "fraud"}}
		}},
		{"suspend without reason", func(b *types.TxBody) { b.Msg = &types.TxBody_Suspend{Suspend: &types.MsgSetStatus{Hashes: h}} }},
		{"reinstate", func(b *types.TxBody) {
			b.Msg = &types.TxBody_Reinstate{Reinstate: &types.MsgSetStatus{Hashes: h, Reason: "cleared"}}
		}},
		{"sequence zero", func(b *types.TxBody) { b.Sequence = 0 }},
		{"max sequence", func(b *types.TxBody) { b.Sequence = ^uint64(0) }},
		{"unicode reason", func(b *types.TxBody) {
			b.Msg = &types.TxBody_Revoke{Revoke: &types.MsgSetStatus{Hashes: h, Reason: "gefälscht ✗"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := validBody()
			tc.msg(body)
			tx, err := types.SignTx(body, key)
			require.NoError(t, err)
			d, err := types.DecodeTx(tx)
			require.NoError(t, err)
			require.Equal(t, body, &d.Body)
			require.Equal(t, tx, mustMarshal(t, &d.Envelope))
			require.Equal(t, d.Envelope.Body, mustMarshal(t, &d.Body))
			require.NoError(t, d.VerifySignature(key.Public().(ed25519.PublicKey)))
			require.NoError(t, d.Body.ValidateBasic(types.DefaultParams()))
		})
	}
}

func TestDecodeTxRejects(t *testing.T) {
	cases := append([]badTx{
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"garbage", []byte("this is not a tx"), false},
		{"single byte", []byte{0x0a}, false},
	}, nonCanonicalTxs(t)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parses {
				// make sure the case reaches the canonical check
				var env types.Tx
				require.NoError(t, env.Unmarshal(tc.tx), "envelope must parse")
				var body types.TxBody
				require.NoError(t, body.Unmarshal(env.Body), "body must parse")
			}
			d, err := types.DecodeTx(tc.tx)
			require.Error(t, err)
			require.Nil(t, d)
			var te *types.CodeError
			require.ErrorAs(t, err, &te)
			require.Equal(t, types.CodeMalformedTx, te.Code, te.Error())
			require.Equal(t, types.CodeMalformedTx, types.CodeOf(err))
			if tc.parses {
				require.Contains(t, err.Error(), "not canonically encoded")
			}
		})
	}
}

func TestValidateBasic(t *testing.T) {
	h1, h2, h3 := credHash(1), credHash(2), credHash(3)
	small := types.Params{MaxBatchSize: 2, MaxReasonLength: 4, ProposalExpiryBlocks: 1}
	for _, tc := range []struct {
		name     string
		params   types.Params
		malleate func(b *types.TxBody)
		want     types.Code
		badHash  []byte // hash the error must name
	}{
		{"valid anchor", types.DefaultParams(), func(b *types.TxBody) {}, types.CodeOK, nil},
		{"valid revoke", types.DefaultParams(), setMsg(revokeMsg("fraud", h1)), types.CodeOK, nil},
		{"valid suspend", types.DefaultParams(), setMsg(suspendMsg("", h1)), types.CodeOK, nil},
		{"valid reinstate", types.DefaultParams(), setMsg(reinstateMsg("ok", h1)), types.CodeOK, nil},
		{"issuer id 64 chars", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = strings.Repeat("a", 64) }, types.CodeOK, nil},
		{"issuer id charset", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = "Az09._-" }, types.CodeOK, nil},
		{"empty issuer id", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = "" }, types.CodeInvalidIssuerID, nil},
		{"issuer id 65 chars", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = strings.Repeat("a", 65) }, types.CodeInvalidIssuerID, nil},
		{"issuer id with space", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = "issuer 0" }, types.CodeInvalidIssuerID, nil},
		{"issuer id with slash", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = "a/b" }, types.CodeInvalidIssuerID, nil},
		{"issuer id not ASCII", types.DefaultParams(), func(b *types.TxBody) { b.IssuerId = "issuér" }, types.CodeInvalidIssuerID, nil},
		{"no message", types.DefaultParams(), func(b *types.TxBody) { b.Msg = nil }, types.CodeMissingMessage, nil},
		{"anchor message nil", types.DefaultParams(), setMsg(&types.TxBody_Anchor{}), types.CodeEmptyBatch, nil},
		{"empty anchor", types.DefaultParams(), setMsg(anchorMsg()), types.CodeEmptyBatch, nil},
		{"empty revoke", types.DefaultParams(), setMsg(revokeMsg("x")), types.CodeEmptyBatch, nil},
		{"batch at limit", small, setMsg(anchorMsg(h1, h2)), types.CodeOK, nil},
		{"batch over limit", small, setMsg(anchorMsg(h1, h2, h3)), types.CodeBatchTooLarge, nil},
		{"revoke over limit", small, setMsg(revokeMsg("", h1, h2, h3)), types.CodeBatchTooLarge, nil},
		{"reason at limit", small, setMsg(revokeMsg("abcd", h1)), types.CodeOK, nil},
		{"reason over limit", small, setMsg(suspendMsg("abcde", h1)), types.CodeReasonTooLong, nil},
		{"reason with zero limit", types.Params{MaxBatchSize: 1}, setMsg(reinstateMsg("a", h1)), types.CodeReasonTooLong, nil},
		{"reason not UTF-8", types.DefaultParams(), setMsg(revokeMsg("bad \xff byte", h1)), types.CodeMalformedTx, nil},
		{"hash 31 bytes", types.DefaultParams(), setMsg(anchorMsg(h1, h2[:31])), types.CodeBadHashLength, nil},
		{"hash 33 bytes", types.DefaultParams(), setMsg(anchorMsg(append(bytes.Clone(h1), 0))), types.CodeBadHashLength, nil},
		{"hash empty", types.DefaultParams(), setMsg(revokeMsg("", []byte{})), types.CodeBadHashLength, nil},
		{"duplicate hash", types.DefaultParams(), setMsg(anchorMsg(h1, h2, h1)), types.CodeDuplicateHash, h1},
		{"duplicate hash in revoke", types.DefaultParams(), setMsg(revokeMsg("", h3, h3)), types.CodeDuplicateHash, h3},
		// governance messages carry no hashes; they are checked on their own fields
		{"valid admission", small, setMsg(admissionMsg(nil)), types.CodeOK, nil},
		{"admission bad id", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.IssuerId = "a b" })), types.CodeInvalidIssuerID, nil},
		{"admission without name", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.Name = "" })), types.CodeInvalidProposal, nil},
		{"admission name too long", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) {
			m.Name = strings.Repeat("n", types.MaxIssuerNameLength+1)
		})), types.CodeInvalidProposal, nil},
		{"admission short signing key", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.SigningPubkey = m.SigningPubkey[:31] })), types.CodeInvalidProposal, nil},
		{"admission no validator key", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.ValidatorPubkey = nil })), types.CodeInvalidProposal, nil},
		{"admission zero power", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.Power = 0 })), types.CodeInvalidProposal, nil},
		{"admission max power", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.Power = types.MaxPower })), types.CodeOK, nil},
		{"admission power over max", small, setMsg(admissionMsg(func(m *types.MsgProposeAdmission) { m.Power = types.MaxPower + 1 })), types.CodeInvalidProposal, nil},
		{"valid removal", small, setMsg(&types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: "issuer1"}}), types.CodeOK, nil},
		{"removal empty id", small, setMsg(&types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{}}), types.CodeInvalidIssuerID, nil},
		{"vote", small, setMsg(&types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: 3, Yes: true}}), types.CodeOK, nil},
		{"valid key rotation", small, setMsg(&types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{
			NewSigningPubkey: testKey("rotated").Public().(ed25519.PublicKey),
		}}), types.CodeOK, nil},
		{"key rotation 64-byte key", small, setMsg(&types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: testKey("rotated")}}), types.CodeInvalidProposal, nil},
		{"governance with bad signer id", small, func(b *types.TxBody) {
			setMsg(&types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: 1}})(b)
			b.IssuerId = ""
		}, types.CodeInvalidIssuerID, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := validBody()
			tc.malleate(b)
			err := b.ValidateBasic(tc.params)
			if tc.want == types.CodeOK {
				require.NoError(t, err)
				return
			}
			var te *types.CodeError
			require.ErrorAs(t, err, &te)
			require.Equal(t, tc.want, te.Code, te.Error())
			require.Equal(t, tc.badHash, te.Hash)
		})
	}
}

func setMsg(m any) func(b *types.TxBody) {
	return func(b *types.TxBody) {
		switch m := m.(type) {
		case *types.TxBody_Anchor:
			b.Msg = m
		case *types.TxBody_Revoke:
			b.Msg = m
		case *types.TxBody_Suspend:
			b.Msg = m
		case *types.TxBody_Reinstate:
			b.Msg = m
		case *types.TxBody_ProposeAdmission:
			b.Msg = m
		case *types.TxBody_ProposeRemoval:
			b.Msg = m
		case *types.TxBody_Vote:
			b.Msg = m
		case *types.TxBody_RotateKey:
			b.Msg = m
		}
	}
}

func admissionMsg(malleate func(m *types.MsgProposeAdmission)) *types.TxBody_ProposeAdmission {
	m := &types.MsgProposeAdmission{
		IssuerId: "newcomer", Name: "Newcomer", Power: 10,
		SigningPubkey:   testKey("newcomer-sign").Public().(ed25519.PublicKey),
		ValidatorPubkey: testKey("newcomer-val").Public().(ed25519.PublicKey),
	}
	if malleate != nil {
		malleate(m)
	}
	return &types.TxBody_ProposeAdmission{ProposeAdmission: m}
}

func anchorMsg(hashes ...[]byte) *types.TxBody_Anchor {
	return &types.TxBody_Anchor{Anchor: &types.MsgAnchor{Hashes: hashes}}
}

func revokeMsg(reason string, hashes ...[]byte) *types.TxBody_Revoke {
	return &types.TxBody_Revoke{Revoke: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

func suspendMsg(reason string, hashes ...[]byte) *types.TxBody_Suspend {
	return &types.TxBody_Suspend{Suspend: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

func reinstateMsg(reason string, hashes ...[]byte) *types.TxBody_Reinstate {
	return &types.TxBody_Reinstate{Reinstate: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

func TestBodyAccessors(t *testing.T) {
	h := [][]byte{credHash(1)}
	for _, tc := range []struct {
		name   string
		msg    any
		action string
		reason string
	}{
		{"none", nil, "", ""},
		{"anchor", anchorMsg(h...), "anchor", ""},
		{"revoke", revokeMsg("r", h...), "revoke", "r"},
		{"suspend", suspendMsg("s", h...), "suspend", "s"},
		{"reinstate", reinstateMsg("i", h...), "reinstate", "i"},
		{"propose admission", admissionMsg(nil), types.ActionProposeAdmission, ""},
		{"propose removal", &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: "x"}}, types.ActionProposeRemoval, ""},
		{"vote", &types.TxBody_Vote{Vote: &types.MsgVote{}}, types.ActionVote, ""},
		{"rotate key", &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{}}, types.ActionRotateKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &types.TxBody{}
			setMsg(tc.msg)(b)
			require.Equal(t, tc.action, b.Action())
			require.Equal(t, tc.reason, b.Reason())
			switch tc.action {
			case types.ActionAnchor, types.ActionRevoke, types.ActionSuspend, types.ActionReinstate:
				require.Equal(t, h, b.Hashes())
			default:
				require.Nil(t, b.Hashes())
			}
		})
	}
}

func TestSignTxVerifySignature(t *testing.T) {
	key := testKey("issuer0")
	pub := key.Public().(ed25519.PublicKey)
	body := validBody()
	bodyBz := mustMarshal(t, body)
	for _, tc := range []struct {
		name string
		tx   func() []byte
		pub  []byte
		ok   bool
	}{
		{"genuine", func() []byte { return mustSign(t, body, key) }, pub, true},
		{"other key", func() []byte { return mustSign(t, body, testKey("issuer1")) }, pub, false},
		{"verified under other key", func() []byte { return mustSign(t, body, key) }, testKey("issuer1").Public().(ed25519.PublicKey), false},
		{"public key empty", func() []byte { return mustSign(t, body, key) }, nil, false},
		{"public key too short", func() []byte { return mustSign(t, body, key) }, pub[:31], false},
		{"signature without domain prefix", func() []byte {
			return mustMarshal(t, &types.Tx{Body: bodyBz, Signature: ed25519.Sign(key, bodyBz)})
		}, pub, false},
		{"signature missing", func() []byte { return mustMarshal(t, &types.Tx{Body: bodyBz}) }, pub, false},
		{"signature truncated", func() []byte {
			return mustMarshal(t, &types.Tx{Body: bodyBz, Signature: ed25519.Sign(key, types.SignBytes(bodyBz))[:63]})
		}, pub, false},
		{"signature flipped", func() []byte {
			return mustMarshal(t, &types.Tx{Body: bodyBz, Signature: flip(ed25519.Sign(key, types.SignBytes(bodyBz)), 10)})
		}, pub, false},
		{"body changed after signing", func() []byte {
			other := validBody()
			other.Sequence++
			return mustMarshal(t, &types.Tx{Body: mustMarshal(t, other), Signature: ed25519.Sign(key, types.SignBytes(bodyBz))})
		}, pub, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := types.DecodeTx(tc.tx())
			require.NoError(t, err)
			err = d.VerifySignature(tc.pub)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, types.CodeBadSignature, types.CodeOf(err), "%v", err)
		})
	}
}

func mustSign(tb testing.TB, body *types.TxBody, key ed25519.PrivateKey) []byte {
	tb.Helper()
	tx, err := types.SignTx(body, key)
	require.NoError(tb, err)
	return tx
}

func TestSignBytes(t *testing.T) {
	body := []byte{1, 2, 3}
	sb := types.SignBytes(body)
	require.Equal(t, "credledger/tx/v1\x00\x01\x02\x03", string(sb))
	require.Equal(t, []byte{1, 2, 3}, body, "SignBytes must not modify its input")
	require.Equal(t, "credledger/tx/v1\x00", string(types.SignBytes(nil)))
}

// TestSignTxDeterministic pins the encoding of a signed tx: ed25519 is
// deterministic, so the same body and key give the same bytes.
func TestSignTxDeterministic(t *testing.T) {
	a := mustSign(t, validBody(), testKey("issuer0"))
	b := mustSign(t, validBody(), testKey("issuer0"))
	require.Equal(t, a, b)
}

func TestParseHash(t *testing.T) {
	const hexHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	want, err := types.ParseHash(hexHash)
	require.NoError(t, err)
	require.Len(t, want, types.HashSize)
	require.Equal(t, byte(0x9f), want[0])
	require.Equal(t, byte(0x08), want[31])
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"lowercase", hexHash, true},
		{"uppercase", strings.ToUpper(hexHash), true},
		{"0x prefix", "0x" + hexHash, true},
		{"surrounding space", " \t0x" + hexHash + "\n", true},
		{"empty", "", false},
		{"only prefix", "0x", false},
		{"0X prefix", "0X" + hexHash, false},
		{"double prefix", "0x0x" + hexHash, false},
		{"odd length", hexHash[:63], false},
		{"31 bytes", hexHash[:62], false},
		{"33 bytes", hexHash + "00", false},
		{"not hex", "zz" + hexHash[2:], false},
		{"inner space", hexHash[:32] + " " + hexHash[32:], false},
		{"base64", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := types.ParseHash(tc.in)
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, want, got)
				return
			}
			require.ErrorIs(t, err, types.ErrBadHash)
			require.Nil(t, got)
		})
	}
}

func TestValidateIssuerID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"issuer-0.example_org", true},
		{strings.Repeat("x", types.MaxIssuerIDLength), true},
		{"", false},
		{strings.Repeat("x", types.MaxIssuerIDLength+1), false},
		{"a b", false},
		{"a\x00", false},
		{"a:b", false},
		{"ä", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			err := types.ValidateIssuerID(tc.id)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, types.CodeInvalidIssuerID, types.CodeOf(err))
		})
	}
}

// TestKeyLayout pins the state keys: they are part of the proof format.
func TestKeyLayout(t *testing.T) {
	h := bytes.Repeat([]byte{0xab}, types.HashSize)
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"chain id", types.ChainIDKey(), []byte{0x00}},
		{"issuer", types.IssuerKey("ab"), []byte{0x03, 'a', 'b'}},
		{"sequence", types.SequenceKey("ab"), []byte{0x04, 'a', 'b'}},
		{"params", types.ParamsKey(), []byte{0x05}},
		{"proposal", types.ProposalKey(258), []byte{0x06, 0, 0, 0, 0, 0, 0, 1, 2}},
		{"next proposal id", types.LastProposalIDKey(), []byte{0x07}},
		{"open proposals", types.OpenProposalsKey(), []byte{0x08}},
		{"issuer index", types.IssuerIndexKey(), []byte{0x09}},
		{"identifier", types.IdentifierKey("did:x"), []byte{0x0a, 'd', 'i', 'd', ':', 'x'}},
		{"credential", types.CredentialKey(h), append([]byte{0x0b}, h...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
	k := types.CredentialKey(h)
	k[1] = 0
	require.Equal(t, byte(0xab), h[0], "keys must not alias the hash")

	// retired prefixes keep their numbers so that no new record reuses them
	// (a proof of the old layout must never verify as one of the new)
	require.Equal(t, byte(0x01), types.PrefixAnchor)
	require.Equal(t, byte(0x02), types.PrefixStatus)
	prefixes := []byte{
		types.PrefixChainID, types.PrefixAnchor, types.PrefixStatus, types.PrefixIssuer, types.PrefixSequence, types.PrefixParams,
		types.PrefixProposal, types.PrefixLastID, types.PrefixOpen, types.PrefixIssuers, types.PrefixIdent, types.PrefixCred,
	}
	seen := map[byte]bool{}
	for _, p := range prefixes {
		require.False(t, seen[p], "prefix %#x used twice", p)
		seen[p] = true
	}
}

func TestSequenceEncoding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		want    uint64
		wantErr bool
	}{
		{"absent", nil, 0, false},
		{"zero", types.EncodeSequence(0), 0, false},
		{"one", []byte{0, 0, 0, 0, 0, 0, 0, 1}, 1, false},
		{"max", types.EncodeSequence(^uint64(0)), ^uint64(0), false},
		{"empty", []byte{}, 0, true},
		{"short", []byte{1}, 0, true},
		{"long", make([]byte, 9), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := types.DecodeSequence(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTxErrorAndCodes(t *testing.T) {
	h := credHash(1)
	plain := types.Errorf(types.CodeSequenceGap, "seq %d", 5)
	require.Equal(t, "seq 5", plain.Error())
	named := types.HashErrorf(types.CodeAlreadyAnchored, h, "already anchored")
	require.True(t, strings.HasPrefix(named.Error(), "credential "+hex.EncodeToString(h)+": "))

	for _, tc := range []struct {
		name string
		err  error
		want types.Code
	}{
		{"nil", nil, types.CodeOK},
		{"tx error", plain, types.CodeSequenceGap},
		{"wrapped tx error", errors.Join(errors.New("ctx"), named), types.CodeAlreadyAnchored},
		{"other error", errors.New("disk full"), types.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, types.CodeOf(tc.err))
		})
	}

	// every code has its own name; numbers are part of the contract
	names := map[string]types.Code{}
	for c := types.Code(0); c <= 100; c++ {
		s := c.String()
		if s == "unknown code" {
			continue
		}
		prev, dup := names[s]
		require.False(t, dup, "codes %d and %d share the name %q", prev, c, s)
		names[s] = c
	}
	require.Equal(t, types.Code(13), types.CodeAlreadyAnchored)
	require.Equal(t, types.Code(32), types.CodeHeightUnavailable)
	require.Equal(t, "unknown code", types.Code(1000).String())
}

func TestNewTxBody(t *testing.T) {
	h := [][]byte{credHash(1), credHash(2)}
	for _, tc := range []struct {
		action string
		want   any
	}{
		{types.ActionAnchor, anchorMsg(h...)},
		{types.ActionRevoke, revokeMsg("why", h...)},
		{types.ActionSuspend, suspendMsg("why", h...)},
		{types.ActionReinstate, reinstateMsg("why", h...)},
	} {
		t.Run(tc.action, func(t *testing.T) {
			b, err := types.NewTxBody("c", "i", 4, tc.action, h, "why")
			require.NoError(t, err)
			want := &types.TxBody{ChainId: "c", IssuerId: "i", Sequence: 4}
			setMsg(tc.want)(want)
			require.Equal(t, want, b)
			require.Equal(t, tc.action, b.Action())
		})
	}
	for _, action := range []string{"", "Anchor", types.ActionVote, "delete"} {
		t.Run("unknown "+action, func(t *testing.T) {
			b, err := types.NewTxBody("c", "i", 0, action, h, "")
			require.Error(t, err)
			require.Nil(t, b)
		})
	}
}
