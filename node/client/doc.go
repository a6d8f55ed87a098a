// Package client is the RPC client of issuers and operators: it builds,
// signs, batches and broadcasts transactions and waits until they are
// committed (Submit, SubmitOne), reads and tallies governance proposals,
// lists issuers, and answers `credledger status` (CredentialStatus).
//
// A Client trusts the node it talks to. Where it checks a Merkle proof, it
// checks it against a header fetched from that same node, which catches a
// corrupted answer but not a node that lies consistently. Verifiers that
// must not trust any single node use node/light instead.
//
// It imports the types packages, node/keys and CometBFT's RPC client; never
// the app, IAVL or a database.
package client
