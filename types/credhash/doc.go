// Package credhash computes the credential hash credledger anchors: the
// SHA-256 of a JSON credential's RFC 8785 (JCS) canonical form, or of the
// raw bytes of any other file. Issuers (credledger hash, anchor) and
// verifiers (status, verify, the verifier service) hash with it, so both
// sides get the same 32 bytes for the same credential.
//
// It is pure apart from reading the file it is asked to hash: it imports
// the standard library and an RFC 8785 canonicaliser only.
package credhash
