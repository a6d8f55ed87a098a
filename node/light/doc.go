// Package light is the verifier: a Client answers "what does the chain say
// about this credential?" without trusting any one node. It runs CometBFT's
// light client (skipping verification, trust level 1/3) from a trust root
// (a genesis file or a trusted header), fetches headers from a primary and
// cross-checks them against witnesses, keeps verified headers in a trusted
// store (the light home), and checks the primary's answers (ICS23 proofs)
// against the verified app hash with the types package. Prove also writes
// the proof bundle that node/bundle checks offline.
//
// It imports the types packages, node/bundle, CometBFT's light client, its
// RPC client and the light client's store database; never the app, IAVL,
// node/client or the full node (a test checks this).
package light
