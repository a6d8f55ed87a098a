package credhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// namedReader is one way of reading the input.
type namedReader struct {
	name string
	r    io.Reader
}

// readers returns ways of reading data that split it differently.
func readers(data []byte) []namedReader {
	return []namedReader{
		{"whole", bytes.NewReader(data)},
		{"one byte", iotest.OneByteReader(bytes.NewReader(data))},
		{"half", iotest.HalfReader(bytes.NewReader(data))},
		{"data+EOF", iotest.DataErrReader(bytes.NewReader(data))},
	}
}

// requireSameResult checks that sumStream agrees with sumBytes on data.
func requireSameResult(t *testing.T, data []byte, r rules) {
	t.Helper()
	want, wantErr := sumBytes(data, r, "credential")
	for _, rd := range readers(data) {
		got, err := sumStream(rd.r, r, "credential")
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "%s reader, %+v, input %q", rd.name, r, data)
			continue
		}
		require.NoError(t, err, "%s reader, %+v, input %q", rd.name, r, data)
		require.Equal(t, want, got, "%s reader, %+v, input %q", rd.name, r, data)
	}
}

func TestSumReaderMatchesSum(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"credential", credential},
		{"indented credential", "\ufeff\n" + strings.ReplaceAll(credential, ",", ",\n  ") + "\n"},
		{"text", "Diploma: BSc, Jane Doe\n"},
		{"binary", "\x00\xff\x10\x80"},
		{"empty", ""},
		{"whitespace", " \r\n\t"},
		{"byte order mark only", "\ufeff"},
		{"half a byte order mark", "\xef\xbb"},
		{"trailing comma", "{\n  \"a\": 1,\n}\n"},
		{"duplicate key", `{"a":1,"a":2}`},
		{"string scalar", ` "abc" `},
		{"number scalar", "4.50\n"},
		{"literal", "\ttrue"},
		{"two scalars", `"a" "b"`},
		{"scalar then text", "true story"},
		{"number then text", "2024 transcript"},
		{"unterminated string", `"abc`},
		{"string with newline", "\"abc\ndef\""},
		{"quoted csv", "\"name\",\"degree\"\n"},
		{"lone closing brace", "}"},
		{"invalid utf-8 string", "\"\xff\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, raw := range []bool{false, true} {
				for _, jsonName := range []bool{false, true} {
					requireSameResult(t, []byte(tc.data), rules{raw: raw, jsonName: jsonName, limit: MaxJSONSize})
				}
			}
			for _, raw := range []bool{false, true} {
				hash, canonical, err := Sum([]byte(tc.data), WithRaw(raw))
				gotHash, gotCanonical, gotErr := SumReader(strings.NewReader(tc.data), WithRaw(raw))
				if err != nil {
					require.EqualError(t, gotErr, err.Error())
					continue
				}
				require.NoError(t, gotErr)
				require.Equal(t, hash, gotHash)
				require.Equal(t, canonical, gotCanonical)
			}
		})
	}
}

func TestSumReaderLimit(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name      string
		data      string
		jsonName  bool
		canonical string // the canonical form hashed; "" for the raw bytes
		errIs     error
	}{
		{name: "object at the limit", data: `{"a":1,  "b":22}`, canonical: `{"a":1,"b":22}`},
		{name: "object over the limit", data: `{"a":1,   "b":22}`, errIs: ErrTooLarge},
		{name: "broken object over the limit", data: `{"a":1,     "b":}`, errIs: ErrTooLarge},
		{name: "named json over the limit", data: "Diploma: BSc, Jane Doe", jsonName: true, errIs: ErrTooLarge},
		{name: "scalar at the limit", data: `"abcdefghijklmn"`, canonical: `"abcdefghijklmn"`},
		{name: "scalar over the limit", data: `"abcdefghijklmno"`},
		{name: "number over the limit", data: "12345678901234567"},
		{name: "whitespace over the limit", data: strings.Repeat(" ", 40), errIs: ErrEmpty},
		{name: "text over the limit", data: "Diploma: BSc, Jane Doe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rules{jsonName: tc.jsonName, limit: limit}
			requireSameResult(t, []byte(tc.data), r)
			got, err := sumStream(strings.NewReader(tc.data), r, "credential")
			if tc.errIs != nil {
				require.ErrorIs(t, err, tc.errIs)
				return
			}
			require.NoError(t, err)
			if tc.canonical != "" {
				require.Equal(t, tc.canonical, string(got.canonical))
				require.Equal(t, sha256.Sum256([]byte(tc.canonical)), got.hash)
				return
			}
			require.Nil(t, got.canonical)
			require.Equal(t, sha256.Sum256([]byte(tc.data)), got.hash)
		})
	}
	_, err := sumBytes(bytes.Repeat([]byte(" "), 4<<20), rules{jsonName: true, limit: 3 << 20}, "credential")
	require.ErrorIs(t, err, ErrEmpty)
	_, err = sumBytes(append([]byte("["), bytes.Repeat([]byte(" "), 3<<20)...), rules{limit: 3 << 20}, "credential")
	require.EqualError(t, err, "credential looks like JSON and is larger than the 3 MiB limit for JSON: too large to canonicalise")
}

// lazyReader yields size bytes of a repeating text without holding them,
// and records the largest read asked of it.
type lazyReader struct {
	prefix      string
	size, off   int64
	largestRead int
}

var lazyText = bytes.Repeat([]byte("Diploma: BSc, Jane Doe, 2024.\n"), 4<<10)

func (r *lazyReader) Read(p []byte) (int, error) {
	r.largestRead = max(r.largestRead, len(p))
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	n := 0
	if r.off < int64(len(r.prefix)) {
		n = copy(p, r.prefix[r.off:])
	}
	for n < len(p) {
		n += copy(p[n:], lazyText[(r.off+int64(n))%int64(len(lazyText)):])
	}
	r.off += int64(n)
	return n, nil
}

// allocated returns the bytes allocated on the heap while fn runs.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSumReaderStreamsRawInput(t *testing.T) {
	// 256 MiB per case, hashed twice, takes about a quarter of a second;
	// -short hashes 32 MiB
	size := int64(256 << 20)
	if testing.Short() {
		size = 32 << 20
	}
	for _, tc := range []struct {
		name   string
		prefix string
		raw    bool
	}{
		{name: "text", prefix: ""},
		{name: "starts like a scalar", prefix: "true "},
		{name: "looks like JSON, raw", prefix: "{", raw: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := sha256.New()
			_, err := io.CopyBuffer(want, &lazyReader{prefix: tc.prefix, size: size}, make([]byte, 1<<20))
			require.NoError(t, err)

			r := &lazyReader{prefix: tc.prefix, size: size}
			var hash [32]byte
			var canonical bool
			alloc := allocated(func() { hash, canonical, err = SumReader(r, WithRaw(tc.raw)) })
			require.NoError(t, err)
			require.False(t, canonical)
			require.Equal(t, want.Sum(nil), hash[:])
			require.Equal(t, size, r.off, "read to the end")
			// the buffers are 64 KiB; nothing grows with the input
			require.Less(t, alloc, uint64(1<<20), "allocated %d bytes to hash %d", alloc, size)
			require.LessOrEqual(t, r.largestRead, 1<<20, "reads through a bounded buffer")
		})
	}
}

func TestSumReaderStopsReadingTooLargeJSON(t *testing.T) {
	const limit = 1 << 20
	r := &lazyReader{prefix: "[", size: 1 << 40} // a terabyte: it must stop early
	_, err := sumStream(r, rules{limit: limit}, "credential")
	require.ErrorIs(t, err, ErrTooLarge)
	require.LessOrEqual(t, r.off, int64(limit+streamBufSize), "read no further than the limit")

	// a JSON scalar is given up as soon as it can no longer be one, and
	// the input is then streamed
	r = &lazyReader{prefix: `"`, size: 64 << 20}
	res, err := sumStream(r, rules{limit: limit}, "credential")
	require.NoError(t, err)
	require.Nil(t, res.canonical)
	require.Equal(t, r.size, r.off)
}

func TestHashFileStreamsRawFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scan.pdf")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(f, &lazyReader{prefix: "%PDF-1.7\n", size: 32 << 20})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	want := sha256.New()
	_, err = io.Copy(want, &lazyReader{prefix: "%PDF-1.7\n", size: 32 << 20})
	require.NoError(t, err)

	var fh FileHash
	alloc := allocated(func() { fh, err = File(path) })
	require.NoError(t, err)
	require.Equal(t, want.Sum(nil), fh.Hash[:])
	require.False(t, fh.CanonicalJSON)
	require.Less(t, alloc, uint64(1<<20), "File allocated %d bytes to hash a 32 MiB file", alloc)
}

func TestHashFileTooLargeJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB file")
	}
	path := filepath.Join(t.TempDir(), "big.json")
	data := bytes.Repeat([]byte(" "), MaxJSONSize+1)
	data[0], data[len(data)-1] = '[', ']'
	require.NoError(t, os.WriteFile(path, data, 0o600))

	_, err := File(path)
	require.ErrorIs(t, err, ErrTooLarge)
	require.EqualError(t, err, fmt.Sprintf("credential file %q looks like JSON and is larger than the 64 MiB limit for JSON: too large to canonicalise", path))
	_, _, err = Sum(data)
	require.ErrorIs(t, err, ErrTooLarge)

	fh, err := File(path, WithRaw(true))
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(data), fh.Hash)
	// TestSumReaderLimit checks the boundary with a smaller limit
}

// failingReader yields some bytes, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestSumReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		data string
	}{
		{"before anything", ""},
		{"in leading whitespace", "  \n"},
		{"in json", `{"a":`},
		{"in a scalar", `"abc`},
		{"in text", "Diploma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, raw := range []bool{false, true} {
				_, _, err := SumReader(&failingReader{data: []byte(tc.data), err: boom}, WithRaw(raw))
				require.ErrorIs(t, err, boom)
				require.EqualError(t, err, "read credential: disk on fire")
			}
		})
	}
}

func FuzzSumReader(f *testing.F) {
	for _, s := range []string{
		"", " ", "\ufeff", "\xef\xbb", credential, "{\n\"a\":1,\n}", "4.50", "true story", `"a" "b"`,
		`"abcdefghijklmnopqrstuvwxyz"`, "12345678901234567890", "Diploma: BSc", "\x00\x01", "}",
	} {
		f.Add([]byte(s), false, false, uint16(16))
		f.Add([]byte(s), true, false, uint16(MaxJSONSize>>20))
		f.Add([]byte(s), false, true, uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, jsonName, raw bool, limit uint16) {
		requireSameResult(t, data, rules{raw: raw, jsonName: jsonName, limit: int64(limit)})
	})
}

func ExampleSum() {
	indented := []byte(`{
  "type": ["VerifiableCredential"],
  "issuer": "uni-a",
  "credentialSubject": {"id": "did:example:42", "degree": "BSc"}
}
`)
	hash, canonical, err := Sum(indented)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hex.EncodeToString(hash[:]), canonical)

	_, _, err = Sum([]byte("{\n  \"issuer\": \"uni-a\",\n}\n"))
	fmt.Println(err)
	// Output:
	// d31f07793931829611690405ca5b7e3e86489427a8b7134f66f17223b96975f3 true
	// credential is not valid JSON at line 3, column 1: invalid character '}' looking for beginning of object key string
}
