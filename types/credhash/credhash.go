package credhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// MaxJSONSize is the largest credential, in bytes, that is canonicalised as
// JSON: 64 MiB. A JSON credential is parsed in memory, so input that must be
// JSON (see Sum) and is larger than this is refused with an error wrapping
// ErrTooLarge; hash it raw (WithRaw) instead. Input that does not look like
// JSON and is larger than this is hashed as raw bytes, streamed, whatever it
// contains.
const MaxJSONSize = 64 << 20

// utf8BOM is the byte order mark some editors put at the start of UTF-8 text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

var (
	// ErrEmpty is wrapped by the error for a credential that is empty: no
	// bytes, or nothing but a UTF-8 byte order mark and JSON whitespace
	// (space, tab, line feed, carriage return). Such input is refused, with
	// or without WithRaw, rather than hashed: its hash would anchor nothing.
	ErrEmpty = errors.New("nothing to hash")

	// ErrCanonicalization is wrapped by the error for input that is valid
	// JSON but has no RFC 8785 canonical form, such as an object with a
	// duplicate key, a string with invalid UTF-8 or a lone surrogate, or a
	// number outside the range of an IEEE 754 double.
	ErrCanonicalization = errors.New("json credential has no RFC 8785 canonical form")

	// ErrTooLarge is wrapped by the error for input that must be JSON (see
	// Sum) and is larger than MaxJSONSize.
	ErrTooLarge = errors.New("too large to canonicalise")

	// ErrNotJSON is wrapped by the error Canonical and CanonicalFile return
	// for input that is not JSON, whose credential hash is that of its raw
	// bytes.
	ErrNotJSON = errors.New("not JSON: its raw bytes are hashed, so it has no canonical form")
)

// SyntaxError reports input that must be JSON (see Sum) but does not parse.
// Line and Column locate the byte at which parsing failed, or the last byte
// for input that ends too early.
type SyntaxError struct {
	// Line is the line number, from 1; lines end at line feeds.
	Line int
	// Column is the column in that line, from 1, counted in UTF-8
	// characters (an invalid byte counts as one).
	Column int
	// Offset is the byte offset in the input, from 0, not counting a leading
	// byte order mark.
	Offset int64
	// Err is the error of the JSON parser.
	Err *json.SyntaxError
}

// Error returns "not valid JSON at line L, column C: " and the parser's message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("not valid JSON at line %d, column %d: %s", e.Line, e.Column, e.Err.Error())
}

// Unwrap returns the parser's error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Option changes how a credential is hashed.
type Option func(*options)

type options struct{ raw bool }

// WithRaw makes Sum, SumReader and File hash the input's exact bytes, even if
// it is or looks like JSON: nothing is canonicalised or parsed, so only an
// empty input (ErrEmpty) is an error. WithRaw(false) is the default.
func WithRaw(raw bool) Option { return func(o *options) { o.raw = raw } }

func applyOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// FileHash is the credential hash of one file.
type FileHash struct {
	// Path is the path the file was read from, as given to File.
	Path string
	// Hash is the SHA-256 credential hash (see Sum).
	Hash [32]byte
	// CanonicalJSON reports whether the file was JSON and Hash is the hash of
	// its RFC 8785 canonical form rather than of its raw bytes.
	CanonicalJSON bool
}

// Sum returns the credential hash of data, the value credledger
// anchors on chain.
//
// Empty input (no bytes, or only a byte order mark and JSON whitespace) is
// an error wrapping ErrEmpty.
//
// Input looks like JSON if its first byte other than JSON whitespace, after
// an optional UTF-8 byte order mark, is '{' or '['. Such input must be JSON:
// if it does not parse, the error is a *SyntaxError giving the line and
// column, never a fallback to the raw bytes (a credential with a trailing
// comma hashed raw would get a hash no verifier reproduces). If it is larger
// than MaxJSONSize, the error wraps ErrTooLarge.
//
// If data is a JSON text (any JSON value: object, array, string, number,
// true, false or null, as accepted by encoding/json.Valid), the hash is the
// SHA-256 of its RFC 8785 (JCS) canonical form and canonicalJSON is true. So
// whitespace, including leading and trailing whitespace and a final newline,
// the order of object members, escape sequences and number spellings such as
// 4.50 versus 4.5 do not change the hash. A single leading UTF-8 byte order
// mark is ignored when it is followed by JSON (RFC 8259 section 8.1 allows a
// parser to ignore it), so saving a credential with or without one gives the
// same hash. Valid JSON that has no canonical form is an error wrapping
// ErrCanonicalization rather than a fallback to the raw bytes, since the same
// credential re-formatted would then hash differently.
//
// Any other input, that is input that does not look like JSON and is not a
// JSON scalar of at most MaxJSONSize bytes, is hashed as its raw bytes,
// exactly as given (byte order mark and whitespace included), and
// canonicalJSON is false. With WithRaw(true), all non-empty input is.
//
// Sum does not modify data and is safe for concurrent use.
func Sum(data []byte, opts ...Option) (hash [32]byte, canonicalJSON bool, err error) {
	r := rules{raw: applyOptions(opts).raw, limit: MaxJSONSize}
	res, err := sumBytes(data, r, "credential")
	return res.hash, res.canonical != nil, err
}

// SumReader returns the credential hash of the bytes r yields, as Sum would
// for the same bytes, reading r to its end. Raw input is streamed through
// SHA-256 with a fixed-size buffer, so memory use does not grow with its
// size. Input that looks like JSON, or may be a JSON scalar, is kept in
// memory until it is decided, in the order of MaxJSONSize bytes at most:
// input that must be JSON is read no further once it is known to be too
// large (ErrTooLarge). An error reading r is returned wrapped.
//
// SumReader is safe for concurrent use with different readers.
func SumReader(r io.Reader, opts ...Option) (hash [32]byte, canonicalJSON bool, err error) {
	res, err := sumStream(r, rules{raw: applyOptions(opts).raw, limit: MaxJSONSize}, "credential")
	var re *readError
	if errors.As(err, &re) {
		return [32]byte{}, false, fmt.Errorf("read credential: %w", re.err)
	}
	return res.hash, res.canonical != nil, err
}

// File returns the credential hash of the file at path, as Sum would for its
// contents, with one more rule: a file whose name ends in ".json" (in any
// case) must be JSON, like input that looks like JSON. Raw files are
// streamed through SHA-256, so memory use does not grow with their size;
// only a JSON file (at most MaxJSONSize bytes) is held in memory. Errors
// name the path.
func File(path string, opts ...Option) (FileHash, error) {
	res, err := file(path, rules{raw: applyOptions(opts).raw, limit: MaxJSONSize})
	if err != nil {
		return FileHash{}, err
	}
	return FileHash{Path: path, Hash: res.hash, CanonicalJSON: res.canonical != nil}, nil
}

// Canonical returns the RFC 8785 canonical form of data, the exact bytes
// whose SHA-256 Sum returns when data is JSON. For input Sum hashes raw the
// error wraps ErrNotJSON; Sum's errors apply too.
func Canonical(data []byte) ([]byte, error) {
	res, err := sumBytes(data, rules{limit: MaxJSONSize}, "credential")
	if err != nil {
		return nil, err
	}
	if res.canonical == nil {
		return nil, fmt.Errorf("credential is %w", ErrNotJSON)
	}
	return res.canonical, nil
}

// CanonicalFile returns the RFC 8785 canonical form of the file at path, the
// exact bytes whose SHA-256 File returns when the file is JSON. For a file
// File hashes raw the error wraps ErrNotJSON; File's errors apply too.
func CanonicalFile(path string) ([]byte, error) {
	res, err := file(path, rules{limit: MaxJSONSize})
	if err != nil {
		return nil, err
	}
	if res.canonical == nil {
		return nil, fmt.Errorf("credential file %q is %w", path, ErrNotJSON)
	}
	return res.canonical, nil
}

// file opens path and hashes it by the rules, with the name rule added.
func file(path string, r rules) (result, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return result{}, fmt.Errorf("credential file %q does not exist; check the path: %w", path, err)
		}
		return result{}, fmt.Errorf("read credential file %q; check that it is a readable file: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // read only
	r.jsonName = strings.EqualFold(filepath.Ext(path), ".json")
	res, err := sumStream(f, r, fmt.Sprintf("credential file %q", path))
	var re *readError
	if errors.As(err, &re) {
		return result{}, fmt.Errorf("read credential file %q; check that it is a readable file: %w", path, re.err)
	}
	return res, err
}

// result is the outcome of hashing one credential.
type result struct {
	hash [32]byte
	// canonical is the RFC 8785 form hashed; nil if the raw bytes were
	canonical []byte
}

// rules are what decides how input is hashed, besides its bytes.
type rules struct {
	raw      bool  // hash the bytes as they are
	jsonName bool  // the input is a file named *.json, so it must be JSON
	limit    int64 // MaxJSONSize; smaller in tests
}

// sumBytes hashes data by the rules; subject names data in errors. It is
// the reference that sumStream must agree with.
func sumBytes(data []byte, r rules, subject string) (result, error) {
	body := bytes.TrimPrefix(data, utf8BOM)
	first := bytes.TrimLeft(body, jsonSpace)
	if len(first) == 0 {
		return result{}, emptyError(subject, int64(len(data)))
	}
	if r.raw {
		return result{hash: sha256.Sum256(data)}, nil
	}
	mustBeJSON := r.jsonName || looksJSON(first[0])
	switch {
	case mustBeJSON && int64(len(data)) > r.limit:
		return result{}, tooLargeError(subject, r.limit)
	case mustBeJSON:
		if err := syntaxError(body); err != nil {
			return result{}, fmt.Errorf("%s is %w", subject, err)
		}
	case int64(len(data)) > r.limit || !json.Valid(body):
		return result{hash: sha256.Sum256(data)}, nil
	}
	canonical, err := jcs.Transform(body)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w: %w", subject, ErrCanonicalization, err)
	}
	return result{hash: sha256.Sum256(canonical), canonical: canonical}, nil
}

// jsonSpace is the whitespace RFC 8259 allows around JSON values.
const jsonSpace = " \t\n\r"

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// looksJSON reports whether the first significant byte of an input opens a
// JSON object or array.
func looksJSON(first byte) bool { return first == '{' || first == '[' }

func emptyError(subject string, size int64) error {
	if size == 0 {
		return fmt.Errorf("%s is empty (0 bytes): %w", subject, ErrEmpty)
	}
	return fmt.Errorf("%s is empty (only whitespace, %d bytes): %w", subject, size, ErrEmpty)
}

func tooLargeError(subject string, limit int64) error {
	size := fmt.Sprintf("%d bytes", limit)
	if limit%(1<<20) == 0 {
		size = fmt.Sprintf("%d MiB", limit>>20)
	}
	return fmt.Errorf("%s looks like JSON and is larger than the %s limit for JSON: %w", subject, size, ErrTooLarge)
}

// syntaxError returns nil if body is valid JSON, else a *SyntaxError
// locating the first error.
func syntaxError(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	// Unmarshal checks the whole input before decoding anything, so on
	// invalid input it returns the scanner's error and allocates nothing
	var raw json.RawMessage
	err := json.Unmarshal(body, &raw)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		// unreachable: json.Valid and Unmarshal use the same scanner
		return fmt.Errorf("not valid JSON: %w", err)
	}
	// Offset counts the bytes read up to and including the bad one; for
	// input that ends early, it is the length, so this is the last byte
	pos := max(se.Offset-1, 0)
	pos = min(pos, int64(len(body)))
	before := body[:pos]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return &SyntaxError{
		Line:   bytes.Count(before, []byte{'\n'}) + 1,
		Column: utf8.RuneCount(before[lineStart:]) + 1,
		Offset: pos,
		Err:    se,
	}
}
