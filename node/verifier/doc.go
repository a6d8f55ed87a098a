// Package verifier is the verifier HTTP service: it answers "what does the
// chain say about this credential?" over HTTP from one warm light client
// (node/light), so that a browser or a script can check a credential
// without running the CLI or trusting any one node. Every verdict it
// serves was checked by the light client against a header verified from
// the trust root and cross-checked with the witnesses; a node that lies,
// or that cannot be reached, gives an error, never a verdict.
//
// Routes (see Server.Handler):
//
//	GET  /v1/credentials/{hash}[?issuer=ID][&at_height=N]  the verdict as JSON (VerdictJSON)
//	POST /v1/verify[?issuer=ID][&at_height=N]              the verdict for the credential in the body, with its checks (VerifyJSON)
//	GET  /v1/credentials/{hash}/bundle[?at_height=N]       the proof bundle, as "credledger prove" writes it
//	GET  /healthz                                          readiness: the newest verified header (HealthJSON)
//	GET  /metrics                                          Prometheus metrics (a registry of the Server's own)
//
// Errors are {"error": "..."} (ErrorJSON) with a status code that says
// whose fault it is: 400, 404, 405, 409, 413 and 415 for the request,
// 502 for a primary or witness that lies or cannot be reached, 503 when
// no witness answers, the chain looks stuck or the server is stopping,
// 504 for a timeout, and 500 only for a bug in the server.
//
// GET / is the web page (page.go: assets embedded from web/, the bundle
// checker node/verifier/wasm built to WebAssembly by scripts/wasmgen.sh);
// with WithGenesis it checks each proof bundle in the browser against that
// genesis, and /genesis.json serves it. WritePage writes the page as
// static files that check bundle files with no server. Any other path
// answers 404 with a JSON error.
//
// It imports node/light, node/bundle and the types packages; never the
// app, IAVL, node/client or the full node.
package verifier
