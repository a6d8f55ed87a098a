package types_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// lifecycle is issuer's entry anchored at 5, suspended at 8, reinstated
// at 10 and revoked at 12.
func lifecycle(issuer string) *types.CredentialEntry {
	return &types.CredentialEntry{
		IssuerId: issuer, Anchor: anchorRec(issuer, 5),
		History: []*types.StatusEntry{statusRec(suspended, issuer, 8, "audit"), statusRec(reinstated, issuer, 10, "ok")},
		Status:  statusRec(revoked, issuer, 12, "fraud"),
	}
}

func TestAsOf(t *testing.T) {
	hash := make([]byte, types.HashSize)
	for _, tc := range []struct {
		name    string
		entries []*types.CredentialEntry
		at      int64
		verdict types.Verdict
		issuers []string
		status  int64 // height of the subject's status change in force (0: none)
		err     error
	}{
		{"before the anchor", []*types.CredentialEntry{lifecycle("a")}, 4, types.VerdictNotAnchored, []string{}, 0, nil},
		{"at the anchor", []*types.CredentialEntry{lifecycle("a")}, 5, types.VerdictValid, []string{"a"}, 0, nil},
		{"suspended", []*types.CredentialEntry{lifecycle("a")}, 8, types.VerdictSuspended, []string{"a"}, 8, nil},
		{"still suspended", []*types.CredentialEntry{lifecycle("a")}, 9, types.VerdictSuspended, []string{"a"}, 8, nil},
		{"reinstated", []*types.CredentialEntry{lifecycle("a")}, 11, types.VerdictValid, []string{"a"}, 10, nil},
		{"revoked", []*types.CredentialEntry{lifecycle("a")}, 12, types.VerdictRevoked, []string{"a"}, 12, nil},
		{"long after", []*types.CredentialEntry{lifecycle("a")}, 1000, types.VerdictRevoked, []string{"a"}, 12, nil},
		{"second issuer not yet", []*types.CredentialEntry{lifecycle("a"), entryOf("b", 9, 0)}, 8, types.VerdictSuspended, []string{"a"}, 8, nil},
		{"both issuers: undecided", []*types.CredentialEntry{lifecycle("a"), entryOf("b", 9, 0)}, 9, "", []string{"a", "b"}, 0, nil},
		{"off-ledger revocation before an anchor", []*types.CredentialEntry{entryOf("b", 0, 7)}, 7, types.VerdictRevoked, []string{"b"}, 7, nil},
		{"dropped history, a kept change in force", []*types.CredentialEntry{withDropped(lifecycle("a"), 6)}, 9, types.VerdictSuspended, []string{"a"}, 8, nil},
		{"dropped history, the newest dropped change may be in force", []*types.CredentialEntry{withDropped(lifecycle("a"), 6)}, 7, "", nil, 0, types.ErrHistoryNotRetained},
		{"dropped history, at the newest dropped change", []*types.CredentialEntry{withDropped(lifecycle("a"), 6)}, 6, "", nil, 0, types.ErrHistoryNotRetained},
		{"dropped history, before it", []*types.CredentialEntry{withDropped(lifecycle("a"), 6)}, 5, "", nil, 0, types.ErrHistoryNotRetained},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &types.CredentialResult{Hash: hash, Entries: tc.entries}
			before, err := (&types.CredentialRecord{Entries: tc.entries}).Marshal()
			require.NoError(t, err)
			err = res.AsOf(tc.at)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.verdict, res.Verdict)
			require.Equal(t, tc.issuers, res.Issuers())
			if tc.status == 0 {
				require.Nil(t, res.Status)
			} else {
				require.Equal(t, tc.status, res.Status.Height)
			}
			// the proven entries are left alone
			after, err := (&types.CredentialRecord{Entries: tc.entries}).Marshal()
			require.NoError(t, err)
			require.Equal(t, before, after)
		})
	}
}

func withDropped(e *types.CredentialEntry, through int64) *types.CredentialEntry {
	e.HistoryDroppedThrough = through
	return e
}

// The report about a past height applies the issuer's current voids, checks
// the credential's validity period at the as-of time, and dates the records
// it rests on with the headers up to it.
func TestReportSetAsOf(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0).UTC()
	headerTime := func(h int64) time.Time { return t0.Add(time.Duration(h) * time.Minute) }
	newReport := func(entries ...*types.CredentialEntry) *types.Report {
		res := &types.CredentialResult{Hash: make([]byte, types.HashSize), Entries: entries}
		require.True(t, len(entries) != 1 || res.Choose(entries[0].IssuerId))
		return &types.Report{CredentialResult: res, Height: 20, HeaderHeight: 21, HeaderTime: headerTime(21)}
	}

	rep := newReport(lifecycle("a"))
	require.NoError(t, rep.SetAsOf(9, headerTime(10)))
	rep.SetIssuerRecords([]*types.Issuer{{Id: "a"}})
	require.NoError(t, rep.SetCommitTimes(func(h int64) (time.Time, error) { return headerTime(h), nil }))
	require.Equal(t, []int64{6, 9}, rep.CommitHeaders())
	require.Equal(t, types.VerdictSuspended, rep.Verdict)
	require.Equal(t, headerTime(9), rep.StatusTime)
	require.Equal(t, int64(9), rep.AsOfHeight)

	// valid then, and within its validity period then, though expired now
	rep = newReport(lifecycle("a"))
	require.NoError(t, rep.SetAsOf(6, headerTime(7)))
	require.NoError(t, rep.ApplyClaims(types.Claims{ValidUntil: headerTime(15)}))
	require.Equal(t, types.VerdictValid, rep.Verdict)
	rep = newReport(lifecycle("a"))
	require.NoError(t, rep.ApplyClaims(types.Claims{ValidUntil: headerTime(15)}))
	require.Equal(t, types.VerdictRevoked, rep.Verdict)

	// a void passed after the as-of height still applies: the anchor was
	// made with a stolen key
	rep = newReport(lifecycle("a"))
	require.NoError(t, rep.SetAsOf(6, headerTime(7)))
	rep.SetIssuerRecords([]*types.Issuer{{Id: "a", Voids: []*types.Void{{FromHeight: 4, Height: 18, ProposalId: 3}}}})
	require.NoError(t, rep.ApplyClaims(types.Claims{}))
	require.Equal(t, types.VerdictVoided, rep.Verdict)

	// not above the proving state
	rep = newReport(lifecycle("a"))
	require.Error(t, rep.SetAsOf(21, headerTime(22)))
	require.False(t, errors.Is(rep.SetAsOf(0, t0), types.ErrHistoryNotRetained))
}
