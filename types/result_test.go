package types_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// TestDecodeCredentialRecord checks the form DecodeCredentialRecord
// requires, mutating a valid two-issuer record into each malformed form.
func TestDecodeCredentialRecord(t *testing.T) {
	valid := func() *types.CredentialRecord {
		return &types.CredentialRecord{Entries: []*types.CredentialEntry{
			withStatus(withStatus(anchored("a", 1), statusRec(suspended, "a", 2, "audit")), statusRec(reinstated, "a", 3, "ok")),
			anchored("b", 4),
			offLedger("c", 5, "off-ledger"),
		}}
	}
	for _, tc := range []struct {
		name     string
		malleate func(r *types.CredentialRecord) // applied to valid()
		raw      []byte                          // used instead when set
		want     []string                        // issuers of the entries (nil: rejected)
	}{
		{name: "valid", malleate: func(*types.CredentialRecord) {}, want: []string{"a", "b", "c"}},
		{name: "one entry", malleate: func(r *types.CredentialRecord) { r.Entries = r.Entries[1:2] }, want: []string{"b"}},
		{name: "anchor and status in one entry", malleate: func(r *types.CredentialRecord) {
			r.Entries[1].Status = statusRec(revoked, "b", 5, "")
		}, want: []string{"a", "b", "c"}},
		{name: "unsorted", malleate: func(r *types.CredentialRecord) { r.Entries[0], r.Entries[1] = r.Entries[1], r.Entries[0] }},
		{name: "last two unsorted", malleate: func(r *types.CredentialRecord) { r.Entries[1], r.Entries[2] = r.Entries[2], r.Entries[1] }},
		{name: "duplicate issuer", malleate: func(r *types.CredentialRecord) { r.Entries[2] = anchored("b", 6) }},
		{name: "same entry twice", malleate: func(r *types.CredentialRecord) { r.Entries = append(r.Entries, r.Entries[2]) }},
		{name: "empty entry", malleate: func(r *types.CredentialRecord) { r.Entries[1] = &types.CredentialEntry{IssuerId: "b"} }},
		{name: "history only", malleate: func(r *types.CredentialRecord) {
			r.Entries[1] = &types.CredentialEntry{IssuerId: "b", History: []*types.StatusEntry{statusRec(revoked, "b", 5, "")}}
		}},
		{name: "anchor naming another issuer", malleate: func(r *types.CredentialRecord) { r.Entries[1].Anchor.IssuerId = "a" }},
		{name: "anchor naming no issuer", malleate: func(r *types.CredentialRecord) { r.Entries[1].Anchor.IssuerId = "" }},
		{name: "status naming another issuer", malleate: func(r *types.CredentialRecord) { r.Entries[2].Status.IssuerId = "b" }},
		{name: "status naming another issuer beside an anchor", malleate: func(r *types.CredentialRecord) { r.Entries[0].Status.IssuerId = "c" }},
		{name: "empty issuer id", malleate: func(r *types.CredentialRecord) {
			r.Entries[0] = &types.CredentialEntry{Anchor: anchorRec("", 1)}
		}},
		{name: "issuer id with a space", malleate: func(r *types.CredentialRecord) {
			r.Entries[0] = anchored("a a", 1)
		}},
		{name: "issuer id too long", malleate: func(r *types.CredentialRecord) {
			id := string(bytes.Repeat([]byte{'c'}, types.MaxIssuerIDLength+1))
			r.Entries[2] = anchored(id, 1)
		}},
		{name: "empty entries list", raw: varintField(2, 1)},
		{name: "empty entry message", raw: bytesField(1, nil)},
		{name: "garbage", raw: []byte{0xff, 0xff, 0xff}},
		{name: "text", raw: []byte("not a record")},
		{name: "truncated", raw: func() []byte { bz := recordValue(t, valid().Entries...); return bz[:len(bz)-1] }()},
		{name: "entry of the wrong wire type", raw: varintField(1, 1)},
		{name: "entry with garbage anchor", raw: bytesField(1, concat(bytesField(1, []byte("a")), bytesField(2, []byte{0xff})))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bz := tc.raw
			if bz == nil {
				r := valid()
				tc.malleate(r)
				bz = mustMarshal(t, r)
			}
			entries, err := types.DecodeCredentialRecord(bz)
			if tc.want == nil {
				require.ErrorIs(t, err, types.ErrMalformedAnswer)
				require.Nil(t, entries)
				return
			}
			require.NoError(t, err)
			ids := make([]string, len(entries))
			for i, e := range entries {
				ids[i] = e.IssuerId
			}
			require.Equal(t, tc.want, ids)
		})
	}
	t.Run("absent", func(t *testing.T) {
		for _, bz := range [][]byte{nil, {}} {
			entries, err := types.DecodeCredentialRecord(bz)
			require.NoError(t, err)
			require.Empty(t, entries)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		r := valid()
		entries, err := types.DecodeCredentialRecord(mustMarshal(t, r))
		require.NoError(t, err)
		require.Equal(t, r.Entries, entries)
	})
}

// TestVerifyCredentialSeveralIssuers checks the subject of a result with
// no, one and two issuers' records: one is chosen automatically, two wait
// for Choose, and each choice gives that issuer's own verdict.
func TestVerifyCredentialSeveralIssuers(t *testing.T) {
	pt := newProofTree(t)
	type choice struct {
		issuer   string
		ok       bool
		verdict  types.Verdict // verdict after the choice
		subject  string        // Issuer() after the choice
		anchored bool
		reason   string // the subject's status reason ("": no status)
	}
	for _, tc := range []struct {
		name      string
		hash      []byte
		version   int64
		issuers   []string
		undecided bool
		subject   string
		choices   []choice
	}{
		{
			name: "no record", hash: hashUnknown, version: 3, issuers: []string{},
			choices: []choice{{issuer: "issuer0", ok: false, verdict: types.VerdictNotAnchored}},
		},
		{
			name: "one issuer", hash: hashShared, version: 1, issuers: []string{"issuer0"}, subject: "issuer0",
			choices: []choice{
				{issuer: "issuer1", ok: false, verdict: types.VerdictValid, subject: "issuer0", anchored: true},
				{issuer: "issuer0", ok: true, verdict: types.VerdictValid, subject: "issuer0", anchored: true},
			},
		},
		{
			name: "two issuers", hash: hashShared, version: 3, issuers: []string{"issuer0", "issuer1"}, undecided: true,
			choices: []choice{
				{issuer: "issuer2", ok: false, verdict: "", subject: ""},
				{issuer: "", ok: false, verdict: "", subject: ""},
				{issuer: "issuer0", ok: true, verdict: types.VerdictValid, subject: "issuer0", anchored: true},
				{issuer: "issuer1", ok: true, verdict: types.VerdictRevoked, subject: "issuer1", reason: "off-ledger"},
				{issuer: "issuer2", ok: false, verdict: types.VerdictRevoked, subject: "issuer1", reason: "off-ledger"},
				{issuer: "issuer0", ok: true, verdict: types.VerdictValid, subject: "issuer0", anchored: true},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := pt.answer(t, tc.version, tc.hash).verify()
			require.NoError(t, err)
			require.Equal(t, tc.issuers, res.Issuers())
			require.Len(t, res.Entries, len(tc.issuers))
			require.Equal(t, tc.undecided, res.Undecided())
			require.Equal(t, tc.subject, res.Issuer())
			if tc.undecided {
				require.Empty(t, res.Verdict)
				require.Nil(t, res.Anchor)
				require.Nil(t, res.Status)
			}
			for _, c := range tc.choices {
				require.Equal(t, c.ok, res.Choose(c.issuer), "Choose(%q)", c.issuer)
				require.Equal(t, c.verdict, res.Verdict, "after Choose(%q)", c.issuer)
				require.Equal(t, c.subject, res.Issuer(), "after Choose(%q)", c.issuer)
				require.Equal(t, c.anchored, res.Anchor != nil, "after Choose(%q)", c.issuer)
				require.Equal(t, c.reason != "", res.Status != nil, "after Choose(%q)", c.issuer)
				if c.anchored {
					require.Equal(t, c.subject, res.Anchor.IssuerId)
				}
				if c.reason != "" {
					require.Equal(t, c.reason, res.Status.Reason)
					require.Equal(t, c.subject, res.Status.IssuerId)
				}
				require.Equal(t, tc.issuers, res.Issuers(), "Choose changes no entry")
			}
		})
	}
}

// TestCredentialResultIssuer checks that Issuer names the subject: the
// entry chosen (automatically when it is the only one), never an entry's
// anchor or status on their own.
func TestCredentialResultIssuer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*types.CredentialEntry
		choose  string // "" : no Choose call
		want    string
		issuers []string
	}{
		{"none", nil, "", "", []string{}},
		{"anchor only", []*types.CredentialEntry{anchored("a", 1)}, "", "a", []string{"a"}},
		{"status only", []*types.CredentialEntry{offLedger("s", 1, "")}, "", "s", []string{"s"}},
		{"anchor and status", []*types.CredentialEntry{withStatus(anchored("a", 1), statusRec(suspended, "a", 2, ""))}, "", "a", []string{"a"}},
		{"two, none chosen", []*types.CredentialEntry{anchored("a", 1), offLedger("s", 1, "")}, "", "", []string{"a", "s"}},
		{"two, second chosen", []*types.CredentialEntry{anchored("a", 1), offLedger("s", 1, "")}, "s", "s", []string{"a", "s"}},
		{"two, unknown chosen", []*types.CredentialEntry{anchored("a", 1), offLedger("s", 1, "")}, "x", "", []string{"a", "s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := verifiedResult(t, tc.entries...)
			if tc.choose != "" {
				res.Choose(tc.choose)
			}
			require.Equal(t, tc.want, res.Issuer())
			require.Equal(t, tc.issuers, res.Issuers())
		})
	}
	t.Run("zero value", func(t *testing.T) {
		var res types.CredentialResult
		require.Empty(t, res.Issuer())
		require.Empty(t, res.Issuers())
		require.False(t, res.Choose("a"))
	})
}
