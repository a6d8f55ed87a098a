// Package node is what a user runs against a credledger network: the full
// node (CometBFT plus the app through a local ABCI client), node homes and
// genesis files, the issuer client that signs, batches and broadcasts
// transactions and waits for them, and the status client that fetches
// Merkle-proven answers and checks them with types.VerifyCredential.
package node
