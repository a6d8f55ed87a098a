// Package query is the contract of credledger's ABCI queries: the paths the
// app answers, what each takes, and the pure functions that decode an
// answer and check its form (the proof ops it must carry) before
// types.VerifyCredential or types.VerifyIssuer checks the proofs.
//
// The app (the answering side), node/client (a client that trusts its node)
// and node/light (the verifier) all use it. It does no I/O; it imports the
// types package and CometBFT's ABCI types only, never the app, IAVL or a
// database.
package query
