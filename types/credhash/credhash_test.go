package credhash

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
	"github.com/stretchr/testify/require"
)

// jcsVectors returns the names of the RFC 8785 vectors in testdata/jcs/input.
func jcsVectors(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "jcs", "input", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, names, "no test vectors in testdata/jcs/input")
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestHashCredentialJCSVectors(t *testing.T) {
	for _, name := range jcsVectors(t) {
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("testdata", "jcs", "input", name))
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join("testdata", "jcs", "output", name))
			require.NoError(t, err)

			got, err := jcs.Transform(input)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "canonical form")

			hash, canonical, err := Sum(input)
			require.NoError(t, err)
			require.True(t, canonical)
			require.Equal(t, sha256.Sum256(want), hash)

			// the canonical form is its own canonical form
			again, canonical, err := Sum(want)
			require.NoError(t, err)
			require.True(t, canonical)
			require.Equal(t, hash, again)
		})
	}
}

// credential is a small credential in canonical form; credentialHash pins its
// hash so that a change in canonicalization cannot go unnoticed.
const (
	credential     = `{"credentialSubject":{"degree":"BSc","id":"did:example:42"},"issuer":"uni-a","type":["VerifiableCredential"]}`
	credentialHash = "d31f07793931829611690405ca5b7e3e86489427a8b7134f66f17223b96975f3"
)

func TestHashCredentialPinned(t *testing.T) {
	sum := sha256.Sum256([]byte(credential))
	require.Equal(t, credentialHash, hex.EncodeToString(sum[:]), "pinned hash of the canonical credential")
	hash, canonical, err := Sum([]byte(credential))
	require.NoError(t, err)
	require.True(t, canonical)
	require.Equal(t, credentialHash, hex.EncodeToString(hash[:]))
}

func TestHashCredentialReformattedJSON(t *testing.T) {
	want := sha256.Sum256([]byte(credential))
	for _, tc := range []struct {
		name string
		data string
	}{
		{"canonical", credential},
		{"indented and reordered", `{
  "type": [ "VerifiableCredential" ],
  "issuer": "uni-a",
  "credentialSubject": {
    "id": "did:example:42",
    "degree": "BSc"
  }
}
`},
		{"escapes", `{"issuer":"uni\u002da","type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:42","degree":"\u0042Sc"}}`},
		{"crlf and tabs", "{\r\n\t\"issuer\": \"uni-a\",\r\n\t\"credentialSubject\": {\"degree\": \"BSc\", \"id\": \"did:example:42\"},\r\n\t\"type\": [\"VerifiableCredential\"]\r\n}\r\n"},
		{"surrounding whitespace", " \n\t" + credential + "\n\n"},
		{"byte order mark", "\ufeff" + credential},
		{"byte order mark and whitespace", "\ufeff\n" + credential + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, canonical, err := Sum([]byte(tc.data))
			require.NoError(t, err)
			require.True(t, canonical)
			require.Equal(t, want, hash)
		})
	}
}

func TestHashCredentialJSONScalars(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      string
		canonical string
	}{
		{"string", ` "abc" `, `"abc"`},
		{"number", "4.50\n", "4.5"},
		{"exponent", "1E30", "1e+30"},
		{"negative zero", "-0", "0"},
		{"null", "null", "null"},
		{"true", "\ttrue", "true"},
		{"empty array", "[ ]", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, canonical, err := Sum([]byte(tc.data))
			require.NoError(t, err)
			require.True(t, canonical)
			require.Equal(t, sha256.Sum256([]byte(tc.canonical)), hash)
		})
	}
}

func TestHashCredentialRawBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"nil", nil},
		{"whitespace only", []byte(" \n")},
		{"byte order mark only", []byte("\ufeff")},
		{"text", []byte("Diploma: BSc, Jane Doe\n")},
		{"pdf header", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")},
		{"binary", []byte{0x00, 0xff, 0x10, 0x80}},
		{"truncated json", []byte(`{"issuer":"uni-a"`)},
		{"trailing comma", []byte(`[1,2,]`)},
		{"two documents", []byte(`{} {}`)},
		{"byte order mark before text", []byte("\ufeffhello")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, canonical, err := Sum(tc.data)
			require.NoError(t, err)
			require.False(t, canonical)
			require.Equal(t, sha256.Sum256(tc.data), hash)
		})
	}
}

func TestHashCredentialRawBytesAreExact(t *testing.T) {
	a, _, err := Sum([]byte("not json"))
	require.NoError(t, err)
	b, _, err := Sum([]byte("not json\n"))
	require.NoError(t, err)
	require.NotEqual(t, a, b, "raw bytes must be hashed as given, whitespace included")

	empty, _, err := Sum(nil)
	require.NoError(t, err)
	require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex.EncodeToString(empty[:]))
}

func TestHashCredentialUncanonicalizableJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"duplicate key", `{"a":1,"a":2}`},
		{"invalid utf-8", "\"\xff\""},
		{"lone surrogate", `"\ud800"`},
		{"number out of range", `[1e400]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, json.Valid([]byte(tc.data)), "test input must be valid JSON")
			_, _, err := Sum([]byte(tc.data))
			require.ErrorIs(t, err, ErrCanonicalization)
		})
	}
}

func TestHashFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	jsonPath := write("cred.json", "{\n  \"type\": [\"VerifiableCredential\"], \"issuer\": \"uni-a\",\n  \"credentialSubject\": {\"id\": \"did:example:42\", \"degree\": \"BSc\"}\n}\n")
	textPath := write("cred.txt", "Diploma: BSc\n")
	dupPath := write("dup.json", `{"a":1,"a":2}`)

	for _, tc := range []struct {
		name      string
		path      string
		want      FileHash
		errIs     error
		errSubstr []string
	}{
		{
			name: "json", path: jsonPath,
			want: FileHash{Path: jsonPath, Hash: sha256.Sum256([]byte(credential)), CanonicalJSON: true},
		},
		{
			name: "raw", path: textPath,
			want: FileHash{Path: textPath, Hash: sha256.Sum256([]byte("Diploma: BSc\n"))},
		},
		{
			name: "missing", path: filepath.Join(dir, "nope.json"),
			errIs: fs.ErrNotExist, errSubstr: []string{"nope.json", "does not exist", "check the path"},
		},
		{
			name: "directory", path: dir,
			errSubstr: []string{dir, "readable file"},
		},
		{
			name: "uncanonicalizable", path: dupPath,
			errIs: ErrCanonicalization, errSubstr: []string{"dup.json", "Duplicate key"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := File(tc.path)
			if tc.errSubstr != nil || tc.errIs != nil {
				require.Error(t, err)
				if tc.errIs != nil {
					require.ErrorIs(t, err, tc.errIs)
				}
				for _, s := range tc.errSubstr {
					require.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzHashCredential(f *testing.F) {
	for _, name := range jcsVectors(f) {
		input, err := os.ReadFile(filepath.Join("testdata", "jcs", "input", name))
		require.NoError(f, err)
		f.Add(input)
	}
	for _, s := range []string{
		"", " ", "\ufeff", "\ufeff{}", credential, "null", "-0", "1E30", "4.50", `"\u20ac"`,
		`{"a":1,"a":2}`, "\"\xff\"", `"\ud800"`, `"\ud83d\ude02"`, "[1e400]", "[1,]", "{} {}",
		strings.Repeat("[", 50) + strings.Repeat("]", 50), "\x00\x01\x02", "%PDF-1.7",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hash, canonical, err := Sum(data)
		body := data
		if len(body) >= 3 && string(body[:3]) == "\ufeff" {
			body = body[3:]
		}
		if err != nil {
			require.ErrorIs(t, err, ErrCanonicalization)
			require.True(t, json.Valid(body), "only valid JSON may fail to hash")
			return
		}
		if !canonical {
			require.False(t, json.Valid(body), "valid JSON hashed as raw bytes")
			require.Equal(t, sha256.Sum256(data), hash)
			return
		}
		// idempotence: hashing the canonical form gives the same hash
		form, err := jcs.Transform(body)
		require.NoError(t, err)
		require.Equal(t, sha256.Sum256(form), hash)
		again, canonicalAgain, err := Sum(form)
		require.NoError(t, err)
		require.True(t, canonicalAgain, "canonical form %q is not JSON", form)
		require.Equal(t, hash, again, "canonical form %q hashes differently", form)
	})
}
