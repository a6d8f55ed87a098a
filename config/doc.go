// Package config holds credledger's own node settings, kept in
// HOME/config/credledger.toml next to CometBFT's config.toml. Consensus
// parameters (batch limits, proposal expiry) are not here: every node must
// agree on them, so they live in the genesis app_state.
package config
