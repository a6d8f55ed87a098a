package credhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
		// looksJSON: without WithRaw, the input must be JSON and is refused
		looksJSON bool
	}{
		{name: "text", data: []byte("Diploma: BSc, Jane Doe\n")},
		{name: "pdf header", data: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")},
		{name: "binary", data: []byte{0x00, 0xff, 0x10, 0x80}},
		{name: "truncated json", data: []byte(`{"issuer":"uni-a"`), looksJSON: true},
		{name: "trailing comma", data: []byte(`[1,2,]`), looksJSON: true},
		{name: "two documents", data: []byte(`{} {}`), looksJSON: true},
		{name: "byte order mark before text", data: []byte("\ufeffhello")},
		{name: "scalar then text", data: []byte("true story\n")},
		{name: "quoted csv", data: []byte("\"name\",\"degree\"\n\"Jane\",\"BSc\"\n")},
		{name: "number then text", data: []byte("2024 transcript")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, canonical, err := Sum(tc.data, WithRaw(true))
			require.NoError(t, err)
			require.False(t, canonical)
			require.Equal(t, sha256.Sum256(tc.data), hash)

			hash, canonical, err = Sum(tc.data)
			if tc.looksJSON {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				return
			}
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

	// the same holds for JSON hashed raw on request
	a, _, err = Sum([]byte(credential), WithRaw(true))
	require.NoError(t, err)
	b, _, err = Sum([]byte(credential+"\n"), WithRaw(true))
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256([]byte(credential)), a)
	require.NotEqual(t, a, b, "WithRaw must not canonicalise")
}

func TestHashCredentialEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"nil", nil, "credential is empty (0 bytes): nothing to hash"},
		{"empty", []byte{}, "credential is empty (0 bytes): nothing to hash"},
		{"whitespace only", []byte(" \n"), "credential is empty (only whitespace, 2 bytes): nothing to hash"},
		{"all json whitespace", []byte(" \t\r\n"), "only whitespace, 4 bytes"},
		{"byte order mark only", []byte("\ufeff"), "only whitespace, 3 bytes"},
		{"byte order mark and newline", []byte("\ufeff\n"), "only whitespace, 4 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, raw := range []bool{false, true} {
				_, _, err := Sum(tc.data, WithRaw(raw))
				require.ErrorIs(t, err, ErrEmpty, "raw=%v", raw)
				require.Contains(t, err.Error(), tc.msg)

				_, _, err = SumReader(bytes.NewReader(tc.data), WithRaw(raw))
				require.ErrorIs(t, err, ErrEmpty, "SumReader raw=%v", raw)
				require.Contains(t, err.Error(), tc.msg)
			}
			_, err := Canonical(tc.data)
			require.ErrorIs(t, err, ErrEmpty)
		})
	}
	// whitespace other than JSON's is content
	for _, data := range []string{"\f", "\v", "\u00a0", "\ufeff\ufeff"} {
		hash, canonical, err := Sum([]byte(data))
		require.NoError(t, err, "%q", data)
		require.False(t, canonical)
		require.Equal(t, sha256.Sum256([]byte(data)), hash)
	}
}

func TestHashCredentialSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		name         string
		data         string
		line, column int
		msg          string
	}{
		{
			name: "trailing comma in object",
			data: "{\n  \"issuer\": \"uni-a\",\n  \"type\": [\"VerifiableCredential\"],\n}\n",
			line: 4, column: 1,
			msg: "credential is not valid JSON at line 4, column 1: invalid character '}' looking for beginning of object key string",
		},
		{
			name: "trailing comma in array", data: `[1,2,]`, line: 1, column: 6,
			msg: "credential is not valid JSON at line 1, column 6: invalid character ']' looking for beginning of value",
		},
		{
			name: "column in characters", data: "{\"dégrée\":\"BSc\",}", line: 1, column: 17,
		},
		{
			name: "byte order mark not counted", data: "\ufeff{\n\"a\":1,}", line: 2, column: 7,
		},
		{
			name: "crlf", data: "{\r\n\"a\": tru\r\n}", line: 2, column: 9,
			msg: "invalid character '\\r' in literal true (expecting 'e')",
		},
		{
			name: "truncated", data: `{"issuer":"uni-a"`, line: 1, column: 17,
			msg: "unexpected end of JSON input",
		},
		{
			name: "truncated after newline", data: "[1,\n", line: 1, column: 4,
			msg: "unexpected end of JSON input",
		},
		{
			name: "two documents", data: "{}\n{}", line: 2, column: 1,
			msg: "after top-level value",
		},
		{
			name: "single quotes", data: "  ['a']", line: 1, column: 4,
		},
		{
			name: "nested too deep", data: strings.Repeat("[", 10001) + strings.Repeat("]", 10001), line: 1, column: 10001,
			msg: "exceeded max depth",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Sum([]byte(tc.data))
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.line, se.Line, "line: %v", err)
			require.Equal(t, tc.column, se.Column, "column: %v", err)
			require.Contains(t, err.Error(), fmt.Sprintf("not valid JSON at line %d, column %d: ", tc.line, tc.column))
			require.Contains(t, err.Error(), tc.msg)
			var jse *json.SyntaxError
			require.ErrorAs(t, err, &jse, "the parser's error is kept in the chain")

			_, _, streamErr := SumReader(strings.NewReader(tc.data))
			require.Equal(t, err.Error(), streamErr.Error(), "SumReader")
			_, canonErr := Canonical([]byte(tc.data))
			require.Equal(t, err.Error(), canonErr.Error(), "Canonical")

			hash, canonical, err := Sum([]byte(tc.data), WithRaw(true))
			require.NoError(t, err, "WithRaw hashes the bytes")
			require.False(t, canonical)
			require.Equal(t, sha256.Sum256([]byte(tc.data)), hash)
		})
	}
}

func TestCanonical(t *testing.T) {
	indented := "\ufeff{\n  \"type\": [\"VerifiableCredential\"],\n  \"issuer\": \"uni-a\",\n  \"credentialSubject\": {\"id\": \"did:example:42\", \"degree\": \"BSc\"}\n}\n"
	for _, tc := range []struct {
		name, data, want string
	}{
		{"indented credential", indented, credential},
		{"canonical credential", credential, credential},
		{"number scalar", " 4.50\n", "4.5"},
		{"string scalar", `"\u20ac"`, "\"\u20ac\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical([]byte(tc.data))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			hash, canonical, err := Sum([]byte(tc.data))
			require.NoError(t, err)
			require.True(t, canonical)
			require.Equal(t, sha256.Sum256(got), hash, "Canonical returns exactly the bytes hashed")
		})
	}
	for _, tc := range []struct {
		name, data string
		errIs      error
	}{
		{"text", "Diploma: BSc\n", ErrNotJSON},
		{"duplicate key", `{"a":1,"a":2}`, ErrCanonicalization},
		{"empty", "", ErrEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Canonical([]byte(tc.data))
			require.ErrorIs(t, err, tc.errIs)
		})
	}
	_, err := Canonical([]byte("Diploma"))
	require.EqualError(t, err, "credential is not JSON: its raw bytes are hashed, so it has no canonical form")
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
	emptyPath := write("empty.json", "")
	blankPath := write("blank.txt", "\n\n")
	commaPath := write("comma.txt", "{\n  \"issuer\": \"uni-a\",\n}\n")
	textJSONPath := write("notes.JSON", "Diploma: BSc\n")
	scalarPath := write("scalar.txt", " 4.50\n")
	scalarJSONPath := write("scalar.json", "true")

	for _, tc := range []struct {
		name      string
		path      string
		raw       bool
		want      FileHash
		errIs     error
		errSubstr []string
	}{
		{
			name: "json", path: jsonPath,
			want: FileHash{Path: jsonPath, Hash: sha256.Sum256([]byte(credential)), CanonicalJSON: true},
		},
		{
			name: "json raw", path: jsonPath, raw: true,
			want: FileHash{Path: jsonPath, Hash: sha256.Sum256([]byte("{\n  \"type\": [\"VerifiableCredential\"], \"issuer\": \"uni-a\",\n  \"credentialSubject\": {\"id\": \"did:example:42\", \"degree\": \"BSc\"}\n}\n"))},
		},
		{
			name: "raw", path: textPath,
			want: FileHash{Path: textPath, Hash: sha256.Sum256([]byte("Diploma: BSc\n"))},
		},
		{
			name: "scalar", path: scalarPath,
			want: FileHash{Path: scalarPath, Hash: sha256.Sum256([]byte("4.5")), CanonicalJSON: true},
		},
		{
			name: "scalar named json", path: scalarJSONPath,
			want: FileHash{Path: scalarJSONPath, Hash: sha256.Sum256([]byte("true")), CanonicalJSON: true},
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
		{
			name: "empty", path: emptyPath,
			errIs: ErrEmpty, errSubstr: []string{fmt.Sprintf("credential file %q is empty (0 bytes)", emptyPath)},
		},
		{
			name: "empty raw", path: emptyPath, raw: true,
			errIs: ErrEmpty, errSubstr: []string{fmt.Sprintf("credential file %q is empty (0 bytes)", emptyPath)},
		},
		{
			name: "blank", path: blankPath,
			errIs: ErrEmpty, errSubstr: []string{fmt.Sprintf("credential file %q is empty (only whitespace, 2 bytes)", blankPath)},
		},
		{
			name: "looks like json", path: commaPath,
			errSubstr: []string{fmt.Sprintf("credential file %q is not valid JSON at line 3, column 1: invalid character '}'", commaPath)},
		},
		{
			name: "looks like json raw", path: commaPath, raw: true,
			want: FileHash{Path: commaPath, Hash: sha256.Sum256([]byte("{\n  \"issuer\": \"uni-a\",\n}\n"))},
		},
		{
			name: "named json", path: textJSONPath,
			errSubstr: []string{fmt.Sprintf("credential file %q is not valid JSON at line 1, column 1: invalid character 'D' looking for beginning of value", textJSONPath)},
		},
		{
			name: "named json raw", path: textJSONPath, raw: true,
			want: FileHash{Path: textJSONPath, Hash: sha256.Sum256([]byte("Diploma: BSc\n"))},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := File(tc.path, WithRaw(tc.raw))
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

func TestCanonicalFile(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "cred.json")
	require.NoError(t, os.WriteFile(jsonPath, []byte("{\"issuer\": \"uni-a\", \"type\": [\"VerifiableCredential\"],\n \"credentialSubject\": {\"id\": \"did:example:42\", \"degree\": \"BSc\"}}\n"), 0o600))
	got, err := CanonicalFile(jsonPath)
	require.NoError(t, err)
	require.Equal(t, credential, string(got))
	fh, err := File(jsonPath)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(got), fh.Hash)

	textPath := filepath.Join(dir, "cred.txt")
	require.NoError(t, os.WriteFile(textPath, []byte("Diploma: BSc\n"), 0o600))
	_, err = CanonicalFile(textPath)
	require.ErrorIs(t, err, ErrNotJSON)
	require.EqualError(t, err, fmt.Sprintf("credential file %q is not JSON: its raw bytes are hashed, so it has no canonical form", textPath))

	_, err = CanonicalFile(filepath.Join(dir, "nope.json"))
	require.ErrorIs(t, err, fs.ErrNotExist)
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
		// empty, broken JSON and text that starts like a JSON scalar
		" \t\r\n", "\ufeff\n", "\f", "{\n  \"a\": 1,\n}\n", "\ufeff[1,2,]", "[", "{\"d\u00e9\":1,}",
		"true story", "2024 transcript", `"name","degree"`, `"a" "b"`, "nul", "-", "\"abc",
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hash, canonical, err := Sum(data)
		body := data
		if len(body) >= 3 && string(body[:3]) == "\ufeff" {
			body = body[3:]
		}
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		looksJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')

		rawHash, rawCanonical, rawErr := Sum(data, WithRaw(true))
		if len(trimmed) == 0 {
			require.ErrorIs(t, err, ErrEmpty, "empty input must be refused")
			require.ErrorIs(t, rawErr, ErrEmpty, "empty input must be refused, raw too")
			return
		}
		require.NoError(t, rawErr)
		require.False(t, rawCanonical)
		require.Equal(t, sha256.Sum256(data), rawHash, "WithRaw hashes the bytes as given")

		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				require.True(t, looksJSON, "only input that looks like JSON is refused for not parsing")
				require.False(t, json.Valid(body), "valid JSON refused as invalid")
				require.Positive(t, se.Line)
				require.Positive(t, se.Column)
				require.LessOrEqual(t, se.Offset, int64(len(body)))
				return
			}
			require.ErrorIs(t, err, ErrCanonicalization)
			require.True(t, json.Valid(body), "only valid JSON may fail to hash")
			return
		}
		if !canonical {
			require.False(t, looksJSON, "input that looks like JSON hashed as raw bytes")
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
		got, err := Canonical(data)
		require.NoError(t, err)
		require.Equal(t, form, got, "Canonical returns the bytes hashed")
	})
}
