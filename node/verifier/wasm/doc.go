// Command wasm is the proof-bundle checker of the verifier's web page,
// compiled to WebAssembly (GOOS=js GOARCH=wasm, scripts/wasmgen.sh): the
// same Go code as "credledger verify --bundle" (node/bundle, types), so
// that a browser checks a bundle against the genesis the page pins instead
// of trusting the service's verdict.
//
// It sets two functions on the JavaScript global object, each returning a
// JSON string, or {"error": "..."}:
//
//	credledgerHash(credential: Uint8Array)                       HashJSON: the hash "credledger hash" computes, and the credential's claims
//	credledgerVerifyBundle(bundle, genesis: Uint8Array, target)  VerdictJSON: bundle.Decode, bundle.Verify, Report.ApplyClaims
//
// where target is {credential?: Uint8Array, hash?: string, issuer?:
// string}: the bundle must be about that credential (or hash), and its
// issuer and validity period are applied.
//
// It imports node/bundle and the types packages only (a test checks
// this). Built for another platform it only says how to build it.
package main
