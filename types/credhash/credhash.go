package credhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gowebpki/jcs"
)

// utf8BOM is the byte order mark some editors put at the start of UTF-8 text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ErrCanonicalization is wrapped by the error Sum returns for input
// that is valid JSON but has no RFC 8785 canonical form, such as an object
// with a duplicate key, a string with invalid UTF-8 or a lone surrogate, or a
// number outside the range of an IEEE 754 double.
var ErrCanonicalization = errors.New("json credential has no RFC 8785 canonical form")

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
// If data is a JSON text (any JSON value: object, array, string, number,
// true, false or null, as accepted by encoding/json.Valid), the hash is the
// SHA-256 of its RFC 8785 (JCS) canonical form and canonicalJSON is true. So
// whitespace, including leading and trailing whitespace and a final newline,
// the order of object members, escape sequences and number spellings such as
// 4.50 versus 4.5 do not change the hash. A single leading UTF-8 byte order
// mark is ignored when it is followed by JSON (RFC 8259 section 8.1 allows a
// parser to ignore it), so saving a credential with or without one gives the
// same hash.
//
// Any other input, including empty input, whitespace alone and JSON nested
// deeper than encoding/json accepts, is not JSON: its hash is the SHA-256 of
// the raw bytes, exactly as given (byte order mark and whitespace included),
// and canonicalJSON is false. Empty input hashes to the SHA-256 of no bytes,
// e3b0c442...b855; callers that consider an empty credential a mistake must
// check for it themselves.
//
// Valid JSON that has no canonical form is an error wrapping
// ErrCanonicalization rather than a fallback to the raw bytes, since the same
// credential re-formatted would then hash differently.
//
// Sum does not modify data and is safe for concurrent use.
func Sum(data []byte) (hash [32]byte, canonicalJSON bool, err error) {
	body := bytes.TrimPrefix(data, utf8BOM)
	if !json.Valid(body) {
		return sha256.Sum256(data), false, nil
	}
	canonical, err := jcs.Transform(body)
	if err != nil {
		return [32]byte{}, false, fmt.Errorf("%w: %w", ErrCanonicalization, err)
	}
	return sha256.Sum256(canonical), true, nil
}

// File reads the file at path and returns its credential hash as computed
// by Sum. The whole file is read into memory.
func File(path string) (FileHash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return FileHash{}, fmt.Errorf("credential file %q does not exist; check the path: %w", path, err)
		}
		return FileHash{}, fmt.Errorf("read credential file %q; check that it is a readable file: %w", path, err)
	}
	hash, canonical, err := Sum(data)
	if err != nil {
		return FileHash{}, fmt.Errorf("hash credential file %q: %w", path, err)
	}
	return FileHash{Path: path, Hash: hash, CanonicalJSON: canonical}, nil
}
