// Package node runs a credledger full node: it opens the databases, builds
// the app.Application, connects it to CometBFT through a local ABCI client
// and starts and stops the node (FullNode). It also creates node homes
// (InitHome: CometBFT config, node and validator keys, the issuer's signing
// key, genesis) and local multi-validator testnets (InitTestnet).
//
// The clients live in subpackages: node/client (issuers and operators,
// trusts its node), node/keys (key files), node/light (the verifier) and
// node/bundle (proof bundles and their offline checker).
package node
