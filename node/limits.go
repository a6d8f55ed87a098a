package node

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	cmtcfg "github.com/cometbft/cometbft/config"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/types"
)

// TxSizes are the sizes of the largest tx a chain's params allow, as the
// settings that admit it count them.
type TxSizes struct {
	// Params are the params the sizes are for.
	Params types.Params
	// Action is the message of the largest tx (types.ActionRevoke, ...).
	Action string
	// Tx is the length of the signed tx: what mempool.max_tx_bytes and
	// mempool.max_txs_bytes count.
	Tx int64
	// BlockData is the tx's size in a block's data, with its protobuf
	// framing, as CometBFT fits txs into consensus_params.block.max_bytes.
	BlockData int64
	// RPCBody is the size of the JSON-RPC request body that broadcasts the
	// tx over HTTP (the tx in base64, the envelope, the longest broadcast
	// method name and the widest request id): what rpc.max_body_bytes counts.
	RPCBody int64
}

// worst-case tx fields that the params do not bound
var (
	worstChainID = strings.Repeat("c", cmttypes.MaxChainIDLen)
	worstIssuer  = strings.Repeat("i", types.MaxIssuerIDLength)
	worstKey     = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
)

const (
	worstSequence = math.MaxUint64
	// worstRPCMethod is the longest of the broadcast_tx_* methods.
	worstRPCMethod = "broadcast_tx_commit"
	// worstRPCID is the widest id CometBFT's HTTP client sends (its ids
	// are a counter of type int).
	worstRPCID = rpctypes.JSONRPCIntID(math.MinInt64)
)

// LargestTx measures the largest tx that params allow by building and
// signing it: every message kind with the longest chain id and issuer id,
// the largest sequence and, for status changes, max_batch_size hashes and a
// reason of max_reason_length bytes. It is a pure function. Requires params
// that pass ValidateBasic.
func LargestTx(p types.Params) (TxSizes, error) {
	if err := p.ValidateBasic(); err != nil {
		return TxSizes{}, fmt.Errorf("largest tx: %w", err)
	}
	// a signed envelope grows with its body alone (the signature has a
	// fixed size), so only the largest body is validated and signed
	var worst *types.TxBody
	for _, b := range worstBodies(p) {
		if worst == nil || b.Size() > worst.Size() {
			worst = b
		}
	}
	if err := worst.ValidateBasic(p); err != nil {
		return TxSizes{}, fmt.Errorf("largest %s tx is not valid: %w", worst.Action(), err)
	}
	tx, err := types.SignTx(worst, worstKey)
	if err != nil {
		return TxSizes{}, fmt.Errorf("largest %s tx: %w", worst.Action(), err)
	}
	body, err := rpcBody(worstRPCID, worstRPCMethod, tx)
	if err != nil {
		return TxSizes{}, err
	}
	return TxSizes{
		Params: p, Action: worst.Action(), Tx: int64(len(tx)),
		BlockData: cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{tx}), RPCBody: int64(len(body)),
	}, nil
}

// worstBodies returns the largest body of each message kind under p.
func worstBodies(p types.Params) []*types.TxBody {
	hashes := make([][]byte, p.MaxBatchSize)
	for i := range hashes {
		hashes[i] = make([]byte, types.HashSize)
		binary.BigEndian.PutUint64(hashes[i], uint64(i)+1)
	}
	reason := strings.Repeat("r", int(p.MaxReasonLength))
	var bodies []*types.TxBody
	for _, action := range []string{types.ActionAnchor, types.ActionRevoke, types.ActionSuspend, types.ActionReinstate} {
		// NewTxBody fails only for an unknown action
		b, _ := types.NewTxBody(worstChainID, worstIssuer, worstSequence, action, hashes, reason)
		bodies = append(bodies, b)
	}
	key := make([]byte, ed25519.PublicKeySize)
	governance := func() *types.TxBody {
		return &types.TxBody{ChainId: worstChainID, IssuerId: worstIssuer, Sequence: worstSequence}
	}
	admission, removal, vote, rotate := governance(), governance(), governance(), governance()
	admission.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: &types.MsgProposeAdmission{
		IssuerId: worstIssuer, Name: strings.Repeat("n", types.MaxIssuerNameLength),
		SigningPubkey: key, ValidatorPubkey: key, Power: types.MaxPower,
	}}
	removal.Msg = &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: worstIssuer}}
	vote.Msg = &types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: math.MaxUint64, Yes: true}}
	rotate.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: key}}
	return append(bodies, admission, removal, vote, rotate)
}

// rpcBody returns the JSON-RPC request body that CometBFT's HTTP client
// (rpc/client/http) posts to broadcast tx with method and request id.
func rpcBody(id rpctypes.JSONRPCIntID, method string, tx []byte) ([]byte, error) {
	req, err := rpctypes.MapToRequest(id, method, map[string]any{"tx": cmttypes.Tx(tx)})
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	bz, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	return bz, nil
}

// commitValidators is the least number of validators whose commit a block
// is assumed to carry when checking that the largest tx fits in a block:
// the consortium may admit more issuers than its genesis has.
const commitValidators = 100

// LimitError says that a setting is too small for the largest tx the
// chain's params allow.
type LimitError struct {
	// Setting is the setting's name, e.g. "rpc.max_body_bytes".
	Setting string
	// File is the file that sets it.
	File string
	// Value is its value, and Need the least value that admits the tx.
	Value, Need int64
	// Largest describes what the setting must admit, e.g. "3412 KB".
	Largest string
	// MaxBatchSize is the chain's max_batch_size.
	MaxBatchSize uint32
	// Hint, if set, ends the message with how else to fix it.
	Hint string
}

// Error says which setting, where, and to what to raise it, in one line.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s = %d in %s is too small for the largest tx this chain allows (%s with max_batch_size %d): raise it to at least %d%s",
		e.Setting, e.Value, e.File, e.Largest, e.MaxBatchSize, e.Need, e.Hint)
}

// limitErrors is several LimitErrors in one line.
type limitErrors []error

func (es limitErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (es limitErrors) Unwrap() []error { return es }

// CheckLimits checks that the node settings in cfg and the consensus params
// in genesis admit the largest tx that the genesis params allow:
// rpc.max_body_bytes its broadcast request (unless the RPC is off),
// mempool.max_tx_bytes and mempool.max_txs_bytes the tx (unless the mempool
// is off), and consensus_params.block.max_bytes the tx besides the header,
// a commit of at least 100 validators and the most evidence a block may
// carry. It returns nil, an error about the genesis, a *LimitError or, if
// several settings are too small, an error in one line that unwraps to a
// *LimitError for each.
func CheckLimits(cfg *cmtcfg.Config, genesis *cmttypes.GenesisDoc) error {
	state, err := types.DecodeGenesisState(genesis.AppState)
	if err != nil {
		return fmt.Errorf("genesis %s: %w", cfg.GenesisFile(), err)
	}
	sizes, err := LargestTx(state.Params.Params())
	if err != nil {
		return err
	}
	configFile := filepath.Join(cfg.RootDir, "config", "config.toml")
	tooSmall := func(setting, file string, value, need int64, largest, hint string) error {
		return &LimitError{Setting: setting, File: file, Value: value, Need: need, Largest: largest, MaxBatchSize: sizes.Params.MaxBatchSize, Hint: hint}
	}
	txKB := kb(sizes.Tx)
	var errs limitErrors
	if cfg.RPC.ListenAddress != "" && cfg.RPC.MaxBodyBytes < sizes.RPCBody {
		errs = append(errs, tooSmall("rpc.max_body_bytes", configFile, cfg.RPC.MaxBodyBytes, sizes.RPCBody,
			kb(sizes.RPCBody)+" as a broadcast_tx request", ""))
	}
	if cfg.Mempool.Type != cmtcfg.MempoolTypeNop {
		if int64(cfg.Mempool.MaxTxBytes) < sizes.Tx {
			errs = append(errs, tooSmall("mempool.max_tx_bytes", configFile, int64(cfg.Mempool.MaxTxBytes), sizes.Tx, txKB, ""))
		}
		if cfg.Mempool.MaxTxsBytes < sizes.Tx {
			errs = append(errs, tooSmall("mempool.max_txs_bytes", configFile, cfg.Mempool.MaxTxsBytes, sizes.Tx, txKB, ""))
		}
	}
	if value, limit, need := blockMaxBytes(genesis, sizes); limit < need {
		errs = append(errs, tooSmall("consensus_params.block.max_bytes", cfg.GenesisFile(), value, need,
			txKB+", plus the block header, commit and evidence",
			" in the genesis of every node, or start a chain with a smaller max_batch_size"))
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errs
}

// blockMaxBytes returns the genesis block max_bytes, the block size it
// allows (-1 allows CometBFT's largest block) and the least size that fits
// the largest tx: its framed size plus CometBFT's block overhead, header, a
// commit of max(validators, commitValidators) validators and the evidence
// max_bytes (as cmttypes.MaxDataBytes counts them).
func blockMaxBytes(genesis *cmttypes.GenesisDoc, sizes TxSizes) (value, limit, need int64) {
	cp := genesis.ConsensusParams
	if cp == nil {
		cp = cmttypes.DefaultConsensusParams()
	}
	value, limit = cp.Block.MaxBytes, cp.Block.MaxBytes
	if limit == -1 {
		limit = cmttypes.MaxBlockSizeBytes
	}
	vals := max(len(genesis.Validators), commitValidators)
	need = sizes.BlockData + cmttypes.MaxOverheadForBlock + cmttypes.MaxHeaderBytes +
		cmttypes.MaxCommitBytes(vals) + cp.Evidence.MaxBytes
	return value, limit, need
}

// kb renders a size in kilobytes, rounded up.
func kb(n int64) string { return fmt.Sprintf("%d KB", (n+999)/1000) }

// mib is the unit RaiseLimits rounds settings up to.
const mib = 1 << 20

// RaiseLimits raises rpc.max_body_bytes, mempool.max_tx_bytes and
// mempool.max_txs_bytes in cfg to admit the largest tx that p allows, each
// rounded up to a whole MiB. It never lowers a setting. The genesis block
// max_bytes needs no raising: CometBFT's default (21 MiB) holds the largest
// tx of any params that pass ValidateBasic.
func RaiseLimits(cfg *cmtcfg.Config, p types.Params) error {
	sizes, err := LargestTx(p)
	if err != nil {
		return err
	}
	raiseLimits(cfg, sizes)
	return nil
}

// raiseLimits is RaiseLimits for measured sizes.
func raiseLimits(cfg *cmtcfg.Config, sizes TxSizes) {
	roundUp := func(n int64) int64 { return (n + mib - 1) / mib * mib }
	if cfg.RPC.MaxBodyBytes < sizes.RPCBody {
		cfg.RPC.MaxBodyBytes = roundUp(sizes.RPCBody)
	}
	if int64(cfg.Mempool.MaxTxBytes) < sizes.Tx {
		cfg.Mempool.MaxTxBytes = int(roundUp(sizes.Tx))
	}
	if cfg.Mempool.MaxTxsBytes < sizes.Tx {
		cfg.Mempool.MaxTxsBytes = roundUp(sizes.Tx)
	}
}
