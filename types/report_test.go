package types_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

func TestCommitTimes(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0).UTC()
	headerTime := func(h int64) time.Time { return t0.Add(time.Duration(h) * time.Second) }
	anchor := func(h int64) *types.AnchorRecord { return &types.AnchorRecord{IssuerId: "i", Height: h} }
	status := func(h int64) *types.StatusEntry {
		return &types.StatusEntry{Status: types.CredentialStatus_CREDENTIAL_STATUS_REVOKED, IssuerId: "i", Height: h}
	}
	for _, tc := range []struct {
		name         string
		res          types.CredentialResult
		headerHeight int64
		wantHeaders  []int64
		wantAnchor   int64 // header whose time dates the anchor (0: none)
		wantStatus   int64
		wantErr      bool
	}{
		{"nothing", types.CredentialResult{}, 10, nil, 0, 0, false},
		{"anchor", types.CredentialResult{Anchor: anchor(3)}, 10, []int64{4}, 4, 0, false},
		{"anchor and status", types.CredentialResult{Anchor: anchor(3), Status: status(7)}, 10, []int64{4, 8}, 4, 8, false},
		{"same block", types.CredentialResult{Anchor: anchor(5), Status: status(5)}, 10, []int64{6}, 6, 6, false},
		{"status without anchor", types.CredentialResult{Status: status(2)}, 10, []int64{3}, 0, 3, false},
		{"dated by the proving header", types.CredentialResult{Anchor: anchor(9)}, 10, []int64{10}, 10, 0, false},
		{"record above the proving header", types.CredentialResult{Anchor: anchor(10)}, 10, []int64{11}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.wantHeaders, tc.res.CommitHeaders())
			rep := &types.Report{CredentialResult: &tc.res, HeaderHeight: tc.headerHeight, HeaderTime: headerTime(tc.headerHeight)}
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
		rep := &types.Report{CredentialResult: &types.CredentialResult{Anchor: anchor(3)}, HeaderHeight: 10}
		err := rep.SetCommitTimes(func(int64) (time.Time, error) { return time.Time{}, unavailable })
		require.ErrorIs(t, err, unavailable)
		require.ErrorContains(t, err, "header 4")
	})
}

// ApplyClaims checks, after the proofs: anchored, issuer, status, dates.
func TestApplyClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	uni := &types.Issuer{Id: "uni", Identifiers: []string{"did:web:uni.test", "https://uni.test"}}
	anchored := &types.AnchorRecord{IssuerId: "uni", Height: 3}
	revoked := &types.StatusEntry{Status: types.CredentialStatus_CREDENTIAL_STATUS_REVOKED, IssuerId: "uni", Height: 5}
	report := func(v types.Verdict, a *types.AnchorRecord, s *types.StatusEntry, is *types.Issuer) *types.Report {
		return &types.Report{CredentialResult: &types.CredentialResult{Verdict: v, Anchor: a, Status: s}, HeaderHeight: 10, HeaderTime: now, IssuerRecord: is}
	}
	for _, tc := range []struct {
		name    string
		rep     *types.Report
		claims  types.Claims
		want    types.Verdict
		wantErr bool
	}{
		{"no claims", report(types.VerdictValid, anchored, nil, uni), types.Claims{}, types.VerdictValid, false},
		{"names an identifier of its issuer", report(types.VerdictValid, anchored, nil, uni), types.Claims{Issuer: "https://uni.test"}, types.VerdictValid, false},
		{"names its issuer's member id", report(types.VerdictValid, anchored, nil, uni), types.Claims{Issuer: "uni"}, types.VerdictValid, false},
		{"names another issuer", report(types.VerdictValid, anchored, nil, uni), types.Claims{Issuer: "did:web:other.test"}, types.VerdictIssuerMismatch, false},
		{"identifiers compare exactly", report(types.VerdictValid, anchored, nil, uni), types.Claims{Issuer: "DID:WEB:UNI.TEST"}, types.VerdictIssuerMismatch, false},
		{"issuer is checked before status", report(types.VerdictRevoked, anchored, revoked, uni), types.Claims{Issuer: "did:web:other.test"}, types.VerdictIssuerMismatch, false},
		{"not anchored stays", report(types.VerdictNotAnchored, nil, nil, nil), types.Claims{Issuer: "did:web:other.test", ValidUntil: now.Add(-time.Hour)}, types.VerdictNotAnchored, false},
		{"status before dates", report(types.VerdictRevoked, anchored, revoked, uni), types.Claims{ValidUntil: now.Add(-time.Hour)}, types.VerdictRevoked, false},
		{"expired", report(types.VerdictValid, anchored, nil, uni), types.Claims{ValidUntil: now.Add(-time.Second)}, types.VerdictExpired, false},
		{"expires at the verdict's time", report(types.VerdictValid, anchored, nil, uni), types.Claims{ValidUntil: now}, types.VerdictExpired, false},
		{"valid until later", report(types.VerdictValid, anchored, nil, uni), types.Claims{ValidUntil: now.Add(time.Second)}, types.VerdictValid, false},
		{"not yet valid", report(types.VerdictValid, anchored, nil, uni), types.Claims{ValidFrom: now.Add(time.Second)}, types.VerdictNotYetValid, false},
		{"valid from the verdict's time", report(types.VerdictValid, anchored, nil, uni), types.Claims{ValidFrom: now}, types.VerdictValid, false},
		{"issuer record missing", report(types.VerdictValid, anchored, nil, nil), types.Claims{Issuer: "uni"}, "", true},
		{"issuer record of another issuer", report(types.VerdictValid, anchored, nil, &types.Issuer{Id: "other"}), types.Claims{Issuer: "other"}, "", true},
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

func TestVerdictExitCodes(t *testing.T) {
	for v, code := range map[types.Verdict]int{
		types.VerdictValid: 0, types.VerdictRevoked: 2, types.VerdictSuspended: 3, types.VerdictNotAnchored: 4,
		types.VerdictIssuerMismatch: 5, types.VerdictVoided: 6, types.VerdictExpired: 7, types.VerdictNotYetValid: 7, "": 1,
	} {
		require.Equal(t, code, v.ExitCode(), "%q", v)
	}
}
