package credential_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credential"
)

func TestParse(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm.UTC()
	}
	for _, tc := range []struct {
		name    string
		in      string
		want    types.Claims
		wantErr bool
	}{
		{"issuer string", `{"issuer":"did:web:uni.test"}`, types.Claims{Issuer: "did:web:uni.test"}, false},
		{"issuer object", `{"issuer":{"id":"https://uni.test/issuer","name":"Uni"}}`, types.Claims{Issuer: "https://uni.test/issuer"}, false},
		{"no issuer", `{"name":"Ada"}`, types.Claims{}, false},
		{"null issuer", `{"issuer":null}`, types.Claims{}, false},
		{"issuer number", `{"issuer":7}`, types.Claims{}, true},
		{"issuer object without id", `{"issuer":{"name":"Uni"}}`, types.Claims{}, true},
		{"VC 2.0 dates", `{"validFrom":"2026-01-01T00:00:00Z","validUntil":"2027-01-01T00:00:00+01:00"}`,
			types.Claims{ValidFrom: at("2026-01-01T00:00:00Z"), ValidUntil: at("2026-12-31T23:00:00Z")}, false},
		{"VC 1.1 dates", `{"issuanceDate":"2020-05-01T10:00:00.5Z","expirationDate":"2021-05-01T10:00:00Z"}`,
			types.Claims{ValidFrom: at("2020-05-01T10:00:00.5Z"), ValidUntil: at("2021-05-01T10:00:00Z")}, false},
		{"VC 2.0 wins over 1.1", `{"validUntil":"2030-01-01T00:00:00Z","expirationDate":"2000-01-01T00:00:00Z"}`,
			types.Claims{ValidUntil: at("2030-01-01T00:00:00Z")}, false},
		{"date without zone is UTC", `{"validUntil":"2030-01-01T00:00:00"}`, types.Claims{ValidUntil: at("2030-01-01T00:00:00Z")}, false},
		{"bad date", `{"validUntil":"next year"}`, types.Claims{}, true},
		{"date a number", `{"validFrom":2026}`, types.Claims{}, true},
		{"not JSON", `name: Ada`, types.Claims{}, false},
		{"array", `[{"issuer":"did:web:x"}]`, types.Claims{}, false},
		{"byte order mark", "\ufeff" + `{"issuer":"did:web:bom.test"}`, types.Claims{Issuer: "did:web:bom.test"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := credential.Parse([]byte(tc.in))
			if tc.wantErr {
				require.ErrorIs(t, err, credential.ErrBadClaim)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"issuer":{"id":"did:web:x"},"validFrom":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"issuer":[1],"expirationDate":"x"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, bz []byte) {
		c, err := credential.Parse(bz)
		if err != nil {
			require.ErrorIs(t, err, credential.ErrBadClaim)
			require.Equal(t, types.Claims{}, c)
		}
	})
}

// Member names match exactly, as JSON-LD processors match terms: a member
// that differs from a claim's name only in case (or by a Unicode fold) is
// not that claim. encoding/json's struct decoding would read it as one.
func TestParseExactMemberNames(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       types.Claims
	}{
		{"issuer twice, differing in case", `{"issuer":"did:web:uni-a.example","Issuer":"did:web:evil.example"}`, types.Claims{Issuer: "did:web:uni-a.example"}},
		{"only a case variant", `{"ISSUER":"did:web:evil.example"}`, types.Claims{}},
		{"a Unicode fold", `{"iſſuer":"b"}`, types.Claims{}},
		{"issuer id twice", `{"issuer":{"id":"did:web:uni-a.example","ID":"did:web:evil.example"}}`, types.Claims{Issuer: "did:web:uni-a.example"}},
		{"validUntil and a case variant", `{"validUntil":"2020-01-01T00:00:00Z","VALIDUNTIL":"2099-01-01T00:00:00Z"}`, types.Claims{ValidUntil: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := credential.Parse([]byte(tc.json))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
