package types_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// entryOf is issuer's entry with an anchor at anchor and a revocation at
// status (0: none).
func entryOf(issuer string, anchor, status int64) *types.CredentialEntry {
	e := &types.CredentialEntry{IssuerId: issuer}
	if anchor != 0 {
		e.Anchor = anchorRec(issuer, anchor)
	}
	if status != 0 {
		e.Status = statusRec(revoked, issuer, status, "")
	}
	return e
}

func TestCommitTimes(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0).UTC()
	headerTime := func(h int64) time.Time { return t0.Add(time.Duration(h) * time.Second) }
	for _, tc := range []struct {
		name         string
		entries      []*types.CredentialEntry
		choose       string // issuer chosen before SetCommitTimes ("": none)
		headerHeight int64
		wantHeaders  []int64
		wantAnchor   int64 // header whose time dates the subject's anchor (0: none)
		wantStatus   int64
		wantErr      bool
	}{
		{"nothing", nil, "", 10, nil, 0, 0, false},
		{"anchor", []*types.CredentialEntry{entryOf("i", 3, 0)}, "", 10, []int64{4}, 4, 0, false},
		{"anchor and status", []*types.CredentialEntry{entryOf("i", 3, 7)}, "", 10, []int64{4, 8}, 4, 8, false},
		{"same block", []*types.CredentialEntry{entryOf("i", 5, 5)}, "", 10, []int64{6}, 6, 6, false},
		{"status without anchor", []*types.CredentialEntry{entryOf("i", 0, 2)}, "", 10, []int64{3}, 0, 3, false},
		{"dated by the proving header", []*types.CredentialEntry{entryOf("i", 9, 0)}, "", 10, []int64{10}, 10, 0, false},
		{"record above the proving header", []*types.CredentialEntry{entryOf("i", 10, 0)}, "", 10, []int64{11}, 0, 0, true},
		{"two issuers, undecided", []*types.CredentialEntry{entryOf("a", 3, 7), entryOf("b", 5, 0)}, "", 10, []int64{4, 6, 8}, 0, 0, false},
		{"two issuers, first chosen", []*types.CredentialEntry{entryOf("a", 3, 7), entryOf("b", 5, 0)}, "a", 10, []int64{4, 6, 8}, 4, 8, false},
		{"two issuers, second chosen", []*types.CredentialEntry{entryOf("a", 3, 7), entryOf("b", 5, 0)}, "b", 10, []int64{4, 6, 8}, 6, 0, false},
		{"two issuers, shared heights", []*types.CredentialEntry{entryOf("a", 3, 0), entryOf("b", 0, 3)}, "b", 10, []int64{4}, 0, 4, false},
		{"two issuers, descending heights", []*types.CredentialEntry{entryOf("a", 8, 9), entryOf("b", 2, 1)}, "a", 10, []int64{2, 3, 9, 10}, 9, 10, false},
		{"another issuer's record above the proving header", []*types.CredentialEntry{entryOf("a", 3, 0), entryOf("b", 12, 0)}, "a", 10, []int64{4, 13}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := verifiedResult(t, tc.entries...)
			if tc.choose != "" {
				require.True(t, res.Choose(tc.choose))
			}
			require.Equal(t, tc.wantHeaders, res.CommitHeaders())
			rep := &types.Report{CredentialResult: res, HeaderHeight: tc.headerHeight, HeaderTime: headerTime(tc.headerHeight)}
			var asked []int64
			err := rep.SetCommitTimes(func(h int64) (time.Time, error) {
				asked = append(asked, h)
				return headerTime(h), nil
			})
			if tc.wantErr {
				require.ErrorIs(t, err, types.ErrMalformedAnswer)
				return
			}
			require.NoError(t, err)
			require.NotContains(t, asked, tc.headerHeight, "the proving header's time is known")
			for _, h := range tc.wantHeaders {
				if h != tc.headerHeight {
					require.Contains(t, asked, h, "every issuer's record is dated")
				}
			}
			if tc.wantAnchor != 0 {
				require.Equal(t, headerTime(tc.wantAnchor), rep.AnchorTime)
			} else {
				require.True(t, rep.AnchorTime.IsZero())
			}
			if tc.wantStatus != 0 {
				require.Equal(t, headerTime(tc.wantStatus), rep.StatusTime)
			} else {
				require.True(t, rep.StatusTime.IsZero())
			}
		})
	}
	t.Run("header time unavailable", func(t *testing.T) {
		unavailable := errors.New("no such header")
		rep := &types.Report{CredentialResult: verifiedResult(t, entryOf("i", 3, 0)), HeaderHeight: 10}
		err := rep.SetCommitTimes(func(int64) (time.Time, error) { return time.Time{}, unavailable })
		require.ErrorIs(t, err, unavailable)
		require.ErrorContains(t, err, "header 4")
	})
	t.Run("subject chosen by ApplyClaims", func(t *testing.T) {
		rep := &types.Report{CredentialResult: verifiedResult(t, entryOf("a", 3, 7), entryOf("b", 5, 0)), HeaderHeight: 10, HeaderTime: headerTime(10)}
		rep.SetIssuerRecords([]*types.Issuer{issuerRecord("a"), issuerRecord("b")})
		require.NoError(t, rep.SetCommitTimes(func(h int64) (time.Time, error) { return headerTime(h), nil }))
		require.True(t, rep.AnchorTime.IsZero(), "no subject yet")
		require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "b"}))
		require.Equal(t, headerTime(6), rep.AnchorTime)
		require.True(t, rep.StatusTime.IsZero())
		require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "a"}))
		require.Equal(t, headerTime(4), rep.AnchorTime)
		require.Equal(t, headerTime(8), rep.StatusTime)
	})
}

// ApplyClaims checks, after the proofs: anchored, issuer, status, dates.
func TestApplyClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	uni := &types.Issuer{Id: "uni", Identifiers: []string{"did:web:uni.test", "https://uni.test"}}
	valid := anchored("uni", 3)
	revokedEntry := withStatus(anchored("uni", 3), statusRec(revoked, "uni", 5, ""))
	suspendedEntry := withStatus(anchored("uni", 3), statusRec(suspended, "uni", 5, ""))
	report := func(e *types.CredentialEntry, records ...*types.Issuer) *types.Report {
		var res *types.CredentialResult
		if e == nil {
			res = verifiedResult(t)
		} else {
			res = verifiedResult(t, e)
		}
		rep := &types.Report{CredentialResult: res, HeaderHeight: 10, HeaderTime: now}
		rep.SetIssuerRecords(records)
		return rep
	}
	for _, tc := range []struct {
		name    string
		rep     *types.Report
		claims  types.Claims
		want    types.Verdict
		wantErr bool
	}{
		{"no claims", report(valid, uni), types.Claims{}, types.VerdictValid, false},
		{"no claims, no issuer record", report(valid), types.Claims{}, types.VerdictValid, false},
		{"names an identifier of its issuer", report(valid, uni), types.Claims{Issuer: "https://uni.test"}, types.VerdictValid, false},
		{"names its issuer's member id", report(valid, uni), types.Claims{Issuer: "uni"}, types.VerdictValid, false},
		{"names another issuer", report(valid, uni), types.Claims{Issuer: "did:web:other.test"}, types.VerdictIssuerMismatch, false},
		{"identifiers compare exactly", report(valid, uni), types.Claims{Issuer: "DID:WEB:UNI.TEST"}, types.VerdictIssuerMismatch, false},
		{"issuer is checked before status", report(revokedEntry, uni), types.Claims{Issuer: "did:web:other.test"}, types.VerdictIssuerMismatch, false},
		{"not anchored stays", report(nil), types.Claims{Issuer: "did:web:other.test", ValidUntil: now.Add(-time.Hour)}, types.VerdictNotAnchored, false},
		{"status before dates", report(revokedEntry, uni), types.Claims{ValidUntil: now.Add(-time.Hour)}, types.VerdictRevoked, false},
		{"suspended before dates", report(suspendedEntry, uni), types.Claims{Issuer: "uni", ValidFrom: now.Add(time.Hour)}, types.VerdictSuspended, false},
		{"revoked off-ledger, named", report(offLedger("uni", 5, ""), uni), types.Claims{Issuer: "did:web:uni.test"}, types.VerdictRevoked, false},
		{"expired", report(valid, uni), types.Claims{ValidUntil: now.Add(-time.Second)}, types.VerdictExpired, false},
		{"expires at the verdict's time", report(valid, uni), types.Claims{ValidUntil: now}, types.VerdictExpired, false},
		{"valid until later", report(valid, uni), types.Claims{ValidUntil: now.Add(time.Second)}, types.VerdictValid, false},
		{"not yet valid", report(valid, uni), types.Claims{ValidFrom: now.Add(time.Second)}, types.VerdictNotYetValid, false},
		{"valid from the verdict's time", report(valid, uni), types.Claims{ValidFrom: now}, types.VerdictValid, false},
		{"issuer record missing", report(valid), types.Claims{Issuer: "did:web:uni.test"}, "", true},
		{"issuer record of another issuer", report(valid, &types.Issuer{Id: "other", Identifiers: []string{"did:web:uni.test"}}), types.Claims{Issuer: "did:web:uni.test"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rep.ApplyClaims(tc.claims)
			if tc.wantErr {
				require.ErrorIs(t, err, types.ErrMalformedAnswer)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, tc.rep.Verdict)
			require.Equal(t, tc.claims, tc.rep.Claims)
		})
	}
}

// TestApplyClaimsSeveralIssuers: when several issuers have records of a
// hash, the issuer the credential names decides whose record the verdict
// is about.
func TestApplyClaimsSeveralIssuers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	a, b := issuerRecord("a"), issuerRecord("b")
	entries := []*types.CredentialEntry{anchored("a", 3), withStatus(anchored("b", 2), statusRec(revoked, "b", 6, "fraud"))}
	for _, tc := range []struct {
		name    string
		records []*types.Issuer
		claims  types.Claims
		want    types.Verdict
		subject string // Issuer() after ApplyClaims
		wantErr error  // sentinel the error must wrap
	}{
		{name: "A by identifier", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "did:web:a.test"}, want: types.VerdictValid, subject: "a"},
		{name: "A by its other identifier", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "https://a.test"}, want: types.VerdictValid, subject: "a"},
		{name: "A by member id", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "a"}, want: types.VerdictValid, subject: "a"},
		{name: "B by member id", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "b"}, want: types.VerdictRevoked, subject: "b"},
		{name: "B by identifier", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "did:web:b.test"}, want: types.VerdictRevoked, subject: "b"},
		{name: "B, expired too", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "b", ValidUntil: now.Add(-time.Hour)}, want: types.VerdictRevoked, subject: "b"},
		{name: "A, expired", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "a", ValidUntil: now.Add(-time.Hour)}, want: types.VerdictExpired, subject: "a"},
		{name: "C", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "did:web:c.test"}, want: types.VerdictIssuerMismatch},
		{name: "C by member id", records: []*types.Issuer{a, b}, claims: types.Claims{Issuer: "c"}, want: types.VerdictIssuerMismatch},
		{name: "identifier without the records", claims: types.Claims{Issuer: "did:web:b.test"}, wantErr: types.ErrMalformedAnswer},
		{name: "identifier without B's record", records: []*types.Issuer{a}, claims: types.Claims{Issuer: "did:web:b.test"}, wantErr: types.ErrMalformedAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &types.Report{CredentialResult: verifiedResult(t, entries...), HeaderHeight: 10, HeaderTime: now}
			rep.SetIssuerRecords(tc.records)
			require.True(t, rep.Undecided())
			err := rep.ApplyClaims(tc.claims)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, rep.Verdict)
			require.Equal(t, tc.subject, rep.Issuer())
			require.Equal(t, []string{"a", "b"}, rep.Issuers())
			if tc.subject == "" {
				require.Nil(t, rep.IssuerRecord)
				return
			}
			require.NotNil(t, rep.IssuerRecord)
			require.Equal(t, tc.subject, rep.IssuerRecord.Id)
			require.NotNil(t, rep.Anchor)
			require.Equal(t, tc.subject, rep.Anchor.IssuerId)
			if tc.subject == "b" {
				require.Equal(t, "fraud", rep.Status.Reason)
			} else {
				require.Nil(t, rep.Status)
			}
		})
	}
	t.Run("no name", func(t *testing.T) {
		res := verifiedResult(t, entries...)
		rep := &types.Report{CredentialResult: res, HeaderHeight: 10, HeaderTime: now}
		rep.SetIssuerRecords([]*types.Issuer{a, b})
		for _, c := range []types.Claims{{}, {ValidUntil: now.Add(time.Hour)}} {
			err := rep.ApplyClaims(c)
			var amb *types.AmbiguousIssuerError
			require.True(t, errors.As(err, &amb), "error %v", err)
			require.Equal(t, []string{"a", "b"}, amb.Issuers)
			require.Equal(t, res.Hash, amb.Hash)
			require.ErrorContains(t, err, "a, b")
			require.True(t, rep.Undecided(), "the verdict stays undecided")
			require.Empty(t, rep.Issuer())
		}
	})
	t.Run("a single issuer needs no name", func(t *testing.T) {
		rep := &types.Report{CredentialResult: verifiedResult(t, entries[1]), HeaderHeight: 10, HeaderTime: now}
		require.NoError(t, rep.ApplyClaims(types.Claims{}))
		require.Equal(t, types.VerdictRevoked, rep.Verdict)
		require.Equal(t, "b", rep.Issuer())
	})
}

func TestSetIssuerRecords(t *testing.T) {
	a, b := issuerRecord("a"), issuerRecord("b")
	rep := &types.Report{CredentialResult: verifiedResult(t, anchored("a", 1), anchored("b", 1))}
	rep.SetIssuerRecords([]*types.Issuer{a, nil, b})
	require.Equal(t, []*types.Issuer{a, b}, rep.IssuerRecords, "nil records are dropped")
	require.Nil(t, rep.IssuerRecord, "no subject yet")
	require.True(t, rep.Choose("b"))
	rep.SetIssuerRecords([]*types.Issuer{a, b})
	require.Same(t, b, rep.IssuerRecord)

	one := &types.Report{CredentialResult: verifiedResult(t, anchored("a", 1))}
	one.SetIssuerRecords([]*types.Issuer{b, a})
	require.Same(t, a, one.IssuerRecord)
	status, since := one.IssuerStatus()
	require.Equal(t, types.IssuerStatus_ISSUER_STATUS_ACTIVE.StatusWord(), status)
	require.Equal(t, a.JoinedHeight, since)
}

func TestVerdictExitCodes(t *testing.T) {
	for v, code := range map[types.Verdict]int{
		types.VerdictValid: 0, types.VerdictRevoked: 2, types.VerdictSuspended: 3, types.VerdictNotAnchored: 4,
		types.VerdictIssuerMismatch: 5, types.VerdictVoided: 6, types.VerdictExpired: 7, types.VerdictNotYetValid: 7, "": 1,
	} {
		require.Equal(t, code, v.ExitCode(), "%q", v)
	}
}

// Regressions: naming a member id needs no issuer record whatever the
// entry order; Report.Choose keeps the subject's times and record; claims
// applied before do not carry over; a result without entries is not
// undecided.
func TestReportSubjectRegressions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	entries := []*types.CredentialEntry{anchored("a", 3), withStatus(anchored("b", 2), statusRec(revoked, "b", 6, "fraud"))}
	fresh := func() *types.Report {
		return &types.Report{CredentialResult: verifiedResult(t, entries...), HeaderHeight: 10, HeaderTime: now}
	}

	rep := fresh() // no issuer records at all
	require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "b"}))
	require.Equal(t, "b", rep.Issuer())
	require.Equal(t, types.VerdictRevoked, rep.Verdict)

	rep = fresh()
	rep.SetIssuerRecords([]*types.Issuer{issuerRecord("a"), issuerRecord("b")})
	require.NoError(t, rep.SetCommitTimes(func(h int64) (time.Time, error) { return now.Add(time.Duration(h) * time.Second), nil }))
	require.True(t, rep.Choose("b"))
	require.Equal(t, now.Add(3*time.Second), rep.AnchorTime, "b's anchor of block 2 is dated by header 3")
	require.Equal(t, now.Add(7*time.Second), rep.StatusTime)
	require.Equal(t, "b", rep.IssuerRecord.Id)
	require.False(t, rep.Choose("c"))
	require.Equal(t, "b", rep.Issuer())

	rep = fresh()
	require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "a", ValidUntil: now.Add(-time.Hour)}))
	require.Equal(t, types.VerdictExpired, rep.Verdict)
	require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "a"}))
	require.Equal(t, types.VerdictValid, rep.Verdict, "the expiry of the first claims does not carry over")

	rep = fresh()
	rep.SetIssuerRecords([]*types.Issuer{issuerRecord("a"), issuerRecord("b")})
	require.NoError(t, rep.ApplyClaims(types.Claims{Issuer: "c"}))
	require.Equal(t, types.VerdictIssuerMismatch, rep.Verdict)
	var ambiguous *types.AmbiguousIssuerError
	require.ErrorAs(t, rep.ApplyClaims(types.Claims{}), &ambiguous, "no name after a mismatch: still several records")

	require.False(t, (&types.CredentialResult{}).Undecided())
}
