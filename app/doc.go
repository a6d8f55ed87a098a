// Package app implements credledger's ABCI 2.0 state machine.
//
// Application keeps all state in one IAVL tree (see store.go, the only file
// that touches IAVL); the tree's root hash is the app hash that validators
// sign in every block header, and IAVL version N is the state after block N.
//
// # Key layout
//
// The key layout is part of the proof format: verifiers recompute these keys
// (types.CredentialKey and friends) to check ICS23 proofs. Never change a
// prefix: retire it and take a new one.
//
//	0x00                 -> chain id (UTF-8)
//	0x01, 0x02           -> retired (the one-record layout's anchor and status keys; no longer written)
//	0x03 | issuer id     -> types.Issuer (id, name, keys, power, status, joined/left heights, identifiers)
//	0x04 | issuer id     -> next sequence number of the issuer (uint64 big-endian)
//	0x05                 -> types.Params
//	0x06 | id(8, BE)     -> types.Proposal (governance: admission or removal, votes, status, final tally)
//	0x07                 -> last proposal id (uint64 big-endian; ids start at 1)
//	0x08                 -> types.ProposalIDs: the open proposals, sorted
//	0x09                 -> types.IDList: every issuer id, sorted
//	0x0A | identifier    -> issuer id: the member whose credentials name that DID or URL (entries are never removed: an identifier stays reserved to its issuer)
//	0x0B | hash(32)      -> types.CredentialRecord: every issuer's own record of the hash (anchor, latest status, up to types.MaxStatusHistory earlier statuses), sorted by issuer id
//
// Values are canonical gogoproto encodings (deterministic: no maps).
//
// # Execution
//
// A block is executed against an overlay on the last committed version; each
// tx runs in its own overlay that is merged only if the whole tx succeeds,
// so a rejected tx writes nothing. At the end of the block the writes are
// applied to the tree in sorted key order, which is deterministic and the
// cheapest order for IAVL. Governance (governance.go) admits and removes
// issuers by vote; the validator updates of a block are derived from the
// issuer records it changed. PrepareProposal drops txs that would fail
// (a tx ahead of its issuer's sequence waits for its predecessor instead),
// ProcessProposal rejects a block that contains one, and the execution done
// in ProcessProposal is reused by FinalizeBlock for the same block.
//
// # Mempool
//
// CheckTx executes each new tx on a CheckTx state over the committed one.
// A correctly signed tx ahead of its issuer's sequence is held in the
// mempool rather than refused (what a validator that is catching up
// receives from its peers); see CheckTx for why and for the bounds.
//
// # Concurrency
//
// Application is safe for concurrent use and is driven through CometBFT's
// proxy.NewConnSyncLocalClientCreator, which serialises each ABCI
// connection on its own. The calls that execute or change state take the
// application's mutex, so consensus and mempool calls run one at a time;
// Query and Info take no lock: they read immutable trees of committed
// versions (Store's read methods), so a verifier's proven query is not
// held up by block execution or Commit.
package app
