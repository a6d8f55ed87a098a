// Package types defines credledger's wire formats and the pure functions that
// interpret them: the signed transaction envelope and its messages, the state
// records and their keys in the IAVL tree, ABCI result codes, genesis state,
// and the one proof checker that turns a /credential answer plus an app hash
// into a verdict.
//
// Package types does no I/O and keeps no state; it imports only the standard
// library, the generated protobuf code and ics23.
package types
