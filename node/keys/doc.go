// Package keys owns issuers' signing key files, HOME/keys/NAME.json: it
// creates, loads, lists and saves them (atomically, mode 0600) and parses
// public keys given on the command line.
//
// It imports only the standard library and the types package: no network,
// no database, no CometBFT.
package keys
