// Package credhash computes the credential hash credledger anchors: the
// SHA-256 of a JSON credential's RFC 8785 (JCS) canonical form, or of the
// raw bytes of any other file. Issuers (credledger hash, anchor) and
// verifiers (status, verify, the verifier service) hash with it, so both
// sides get the same 32 bytes for the same credential.
//
// The rules, in order (Sum has the details):
//
//   - Empty input, no bytes or only a UTF-8 byte order mark and JSON
//     whitespace, is refused (ErrEmpty), also when hashing raw.
//   - With WithRaw(true), the exact bytes are hashed; nothing is parsed.
//   - Input that looks like JSON (its first byte other than whitespace, after
//     an optional byte order mark, is '{' or '['), or a file named *.json,
//     must be JSON: a syntax error is a *SyntaxError with its line and column,
//     more than MaxJSONSize bytes is ErrTooLarge, and JSON with no canonical
//     form is ErrCanonicalization. Otherwise the hash is that of the
//     canonical form, which Canonical and CanonicalFile return.
//   - Any other input is hashed as its raw bytes, unless it is a single JSON
//     scalar (a string, number, true, false or null) of at most MaxJSONSize
//     bytes, which is canonicalised.
//
// Sum hashes bytes in memory; SumReader and File stream, so raw input of
// any size is hashed in constant memory, and they give the same hash as Sum
// for the same bytes (or File fails, for a *.json file that is not JSON).
//
// It is pure apart from reading the file it is asked to hash: it imports
// the standard library and an RFC 8785 canonicaliser only.
package credhash
