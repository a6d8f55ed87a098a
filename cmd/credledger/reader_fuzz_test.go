package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credential"
	"github.com/credledger/credledger/types/credhash"
)

// credentialSamples are credentials as issuers write them: W3C VC 2.0 and
// 1.1 (issuer a string or an object, dates with and without a time zone,
// a Data Integrity proof), Open Badges 3.0, a VC-JWT and a PDF, plus forms
// the reader must refuse or read as having no claims.
var credentialSamples = []string{
	`{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  "id": "http://university.example/credentials/3732",
  "type": ["VerifiableCredential", "ExampleDegreeCredential"],
  "issuer": "https://university.example/issuers/565049",
  "validFrom": "2010-01-01T00:00:00Z",
  "validUntil": "2030-01-01T19:23:24.5+02:00",
  "credentialSubject": {
    "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
    "degree": {"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"}
  }
}
`,
	`{
  "@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/examples/v1"],
  "id": "http://example.edu/credentials/1872",
  "type": ["VerifiableCredential", "AlumniCredential"],
  "issuer": {"id": "did:web:uni-a.example", "name": "Example University"},
  "issuanceDate": "2010-01-01T19:23:24",
  "expirationDate": "2040-01-01T00:00:00Z",
  "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "Example University"}},
  "proof": {
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2010-01-01T19:23:24Z",
    "verificationMethod": "did:web:uni-a.example#key-1", "proofPurpose": "assertionMethod",
    "proofValue": "z58DAdFfa9SkqZMVPxAQpic7ndSayn1PzZs6ZjWp1CktyGesjuTSwRdoWhAfGFCF5bppETSTojQCrfFPP2oumHKtz"
  }
}
`,
	`{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
  "id": "http://example.com/credentials/3527",
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "issuer": {"id": "https://example.com/issuers/876543", "type": ["Profile"], "name": "Example Corp"},
  "validFrom": "2010-01-01T00:00:00Z",
  "name": "Teamwork Badge",
  "credentialSubject": {
    "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
    "type": ["AchievementSubject"],
    "achievement": {
      "id": "https://example.com/achievements/21st-century-skills/teamwork",
      "type": ["Achievement"],
      "criteria": {"narrative": "Team members are nominated for this badge by their peers and recognized upon review by Example Corp management."},
      "description": "This badge recognizes the development of the capacity to collaborate within a group environment.",
      "name": "Teamwork"
    }
  },
  "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json", "type": "1EdTechJsonSchemaValidator2019"}],
  "credentialStatus": {"id": "https://example.com/status/1#94567", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "94567", "statusListCredential": "https://example.com/status/1"}
}
`,
	"\ufeff" + `{"type":["VerifiableCredential","OpenBadgeCredential"],"issuer":{"id":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","type":"Profile"},"validFrom":"2024-05-01T08:00:00.123456789-05:00","validUntil":null}`,
	`{"issuer":"uni-a","validFrom":"2026-13-01T00:00:00Z"}`,
	`{"issuer":{"name":"no id"}}`,
	`{"issuer":["did:web:a"],"issuanceDate":1262304000}`,
	`{"issuer":null,"validFrom":null,"validUntil":null,"issuanceDate":"2010-01-01","expirationDate":"2040-01-01T00:00:00Z"}`,
	`{"issuer":"a","issuer":"b"}`,
	// encoding/json would read the second members for the first
	`{"issuer":"did:web:uni-a.example","Issuer":"did:web:evil.example","validUntil":"2020-01-01T00:00:00Z","VALIDUNTIL":"2099-01-01T00:00:00Z"}`,
	`{"issuer":{"id":"did:web:uni-a.example","ID":"did:web:evil.example"}}`,
	`{"issuer":"a",}`,
	`[{"issuer":"a"}]`,
	`"did:web:uni-a"`,
	"eyJhbGciOiJFUzI1NiIsInR5cCI6InZjK2p3dCJ9.eyJpc3MiOiJkaWQ6d2ViOnVuaS1hIn0.c2lnbmF0dXJl",
	"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
	"",
}

// FuzzReadCredential feeds arbitrary bytes, as a credential FILE named
// credential.json or credential.txt, with or without --raw and --issuer,
// to oneTarget, which reads the FILE of status, verify and prove. It must
// never panic; the hash must be credhash.Sum's for the same bytes (and a
// .json file that is not JSON an error suggesting --raw); and the claims
// must be the ones the credential's members make, matched by their exact
// names as JSON-LD matches terms, or an error wrapping
// credential.ErrBadClaim when one cannot be read. Member names match
// exactly: the seeds casefold-claims and casefold-issuer-id caught
// credential.Parse reading "Issuer" and "VALIDUNTIL" as the claims.
func FuzzReadCredential(f *testing.F) {
	for _, s := range credentialSamples {
		f.Add([]byte(s), true, false, "")
		f.Add([]byte(s), false, false, "https://example.com/issuers/876543")
		f.Add([]byte(s), true, true, "uni-a")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, jsonName, raw bool, issuer string) {
		path := filepath.Join(dir, "credential.txt")
		if jsonName {
			path = filepath.Join(dir, "credential.json")
		}
		require.NoError(t, os.WriteFile(path, data, 0o600))
		got, err := oneTarget([]string{path}, "", raw, issuer)

		hash, canonical, sumErr := credhash.Sum(data, credhash.WithRaw(raw))
		if sumErr != nil || jsonName && !raw && !canonical {
			require.Errorf(t, err, "credhash.Sum: %v", sumErr)
			var se *credhash.SyntaxError
			if errors.As(err, &se) || errors.Is(err, credhash.ErrTooLarge) {
				require.ErrorContains(t, err, "--raw")
			}
			return
		}
		var want types.Claims
		if canonical {
			var claimErr error
			if want, claimErr = exactClaims(data); claimErr != nil {
				require.ErrorIs(t, err, credential.ErrBadClaim)
				require.ErrorContains(t, err, path)
				return
			}
		}
		switch {
		case issuer == "":
		case want.Issuer != "" && want.Issuer != issuer:
			require.ErrorContains(t, err, "--issuer")
			return
		default:
			want.Issuer = issuer
		}
		require.NoError(t, err)
		require.Equal(t, hash[:], got.hash)
		require.Equal(t, path, got.file)
		require.Equal(t, want, got.claims)
	})
}

// claimNames are the members credential.Parse reads.
var claimNames = []string{"issuer", "validFrom", "validUntil", "issuanceDate", "expirationDate"}

// credentialBody returns data without a leading byte order mark and JSON
// whitespace.
func credentialBody(data []byte) []byte {
	return bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
}

// exactMembers returns the members of a JSON object by exact name, or nil
// if data is not a JSON object.
func exactMembers(data []byte) map[string]json.RawMessage {
	body := credentialBody(data)
	var m map[string]json.RawMessage
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m
}

// exactClaims is the reference reading of a JSON credential's claims, as
// credential.Parse documents them, with members matched by exact name.
func exactClaims(data []byte) (types.Claims, error) {
	m := exactMembers(data)
	if m == nil {
		return types.Claims{}, nil
	}
	var c types.Claims
	switch raw := m["issuer"]; {
	case isAbsent(raw):
	case json.Unmarshal(raw, &c.Issuer) == nil:
	default:
		var id string
		obj := exactMembers(raw)
		if obj == nil || isAbsent(obj["id"]) || json.Unmarshal(obj["id"], &id) != nil {
			return types.Claims{}, fmt.Errorf("%w: issuer", credential.ErrBadClaim)
		}
		c.Issuer = id
	}
	from, until := m["validFrom"], m["validUntil"]
	if isAbsent(from) && isAbsent(until) {
		from, until = m["issuanceDate"], m["expirationDate"]
	}
	var err error
	if c.ValidFrom, err = exactDate(from); err != nil {
		return types.Claims{}, err
	}
	if c.ValidUntil, err = exactDate(until); err != nil {
		return types.Claims{}, err
	}
	return c, nil
}

func isAbsent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// exactDate reads an RFC 3339 date-time, the time zone optional (UTC).
func exactDate(raw json.RawMessage) (time.Time, error) {
	var s string
	if isAbsent(raw) {
		return time.Time{}, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Errorf("%w: date %s", credential.ErrBadClaim, raw)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: date %q", credential.ErrBadClaim, s)
}
