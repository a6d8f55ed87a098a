// Package bundle owns the proof-bundle format (credledger prove writes it,
// verify --bundle reads it) and its pure offline checker: Verify checks a
// bundle against a trust root (a genesis file or a trusted header) with no
// network and no database, stepping from header to header as CometBFT's
// light client does (VerifyStep) and checking the Merkle proofs with the
// types package.
//
// It must build with GOOS=js GOARCH=wasm, for the browser: it imports the
// types package and CometBFT's pure types only, never node/light, the app,
// IAVL, a database, networking or CometBFT's light package (a test checks
// this).
package bundle
