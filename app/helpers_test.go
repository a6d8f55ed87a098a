package app

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

const testChainID = "credledger-test"

// testIssuer is an issuer with its signing key and next sequence.
type testIssuer struct {
	id  string
	key ed25519.PrivateKey
	seq uint64
}

// testChain drives an Application block by block, like CometBFT would.
type testChain struct {
	t       testing.TB
	app     *Application
	issuers []*testIssuer
	height  int64
	genesis time.Time
}

// deterministicKey derives an ed25519 key from a label, so tests are repeatable.
func deterministicKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("credledger-test-key/" + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// testHash returns a deterministic credential hash for n.
func testHash(n int) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("credential-%d", n)))
	return h[:]
}

// testGenesis returns an app_state with n issuers issuer0..issuer{n-1}.
func testGenesis(t testing.TB, n int, params types.Params) ([]byte, []*testIssuer) {
	t.Helper()
	g := types.GenesisState{Params: types.NewGenesisParams(params)}
	var issuers []*testIssuer
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("issuer%d", i)
		key := deterministicKey(id)
		val := deterministicKey("validator-" + id)
		g.Issuers = append(g.Issuers, types.GenesisIssuer{
			ID: id, Name: "Issuer " + id, Power: 10,
			SigningPubKey:   types.HexBytes(key.Public().(ed25519.PublicKey)),
			ValidatorPubKey: types.HexBytes(val.Public().(ed25519.PublicKey)),
		})
		issuers = append(issuers, &testIssuer{id: id, key: key})
	}
	bz, err := json.Marshal(g)
	require.NoError(t, err)
	return bz, issuers
}

// newTestChain initialises app (in memory when nil) with n issuers.
func newTestChain(t testing.TB, app *Application, n int) *testChain {
	t.Helper()
	if app == nil {
		app = NewInMemoryApplication()
	}
	appState, issuers := testGenesis(t, n, types.DefaultParams())
	_, err := app.InitChain(t.Context(), &abci.RequestInitChain{ChainId: testChainID, AppStateBytes: appState, InitialHeight: 1})
	require.NoError(t, err)
	return &testChain{t: t, app: app, issuers: issuers, genesis: time.Unix(1_700_000_000, 0).UTC()}
}

// body returns a body for issuer with its next sequence (not yet consumed).
func (c *testChain) body(is *testIssuer, msg any) *types.TxBody {
	b := &types.TxBody{ChainId: testChainID, IssuerId: is.id, Sequence: is.seq}
	switch m := msg.(type) {
	case *types.TxBody_Anchor:
		b.Msg = m
	case *types.TxBody_Revoke:
		b.Msg = m
	case *types.TxBody_Suspend:
		b.Msg = m
	case *types.TxBody_Reinstate:
		b.Msg = m
	case *types.TxBody_RotateKey:
		b.Msg = m
	case func(*types.TxBody): // a governance message (govTx's setters)
		m(b)
	case nil:
	default:
		c.t.Fatalf("unknown msg %T", msg)
	}
	return b
}

// sign encodes and signs body with is's key.
func (c *testChain) sign(is *testIssuer, body *types.TxBody) []byte {
	c.t.Helper()
	tx, err := types.SignTx(body, is.key)
	require.NoError(c.t, err)
	return tx
}

// tx builds a signed tx for msg with is's next sequence, and consumes it.
func (c *testChain) tx(is *testIssuer, msg any) []byte {
	tx := c.sign(is, c.body(is, msg))
	is.seq++
	return tx
}

func anchorMsg(hashes ...[]byte) *types.TxBody_Anchor {
	return &types.TxBody_Anchor{Anchor: &types.MsgAnchor{Hashes: hashes}}
}

func revokeMsg(reason string, hashes ...[]byte) *types.TxBody_Revoke {
	return &types.TxBody_Revoke{Revoke: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

func suspendMsg(reason string, hashes ...[]byte) *types.TxBody_Suspend {
	return &types.TxBody_Suspend{Suspend: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

func reinstateMsg(reason string, hashes ...[]byte) *types.TxBody_Reinstate {
	return &types.TxBody_Reinstate{Reinstate: &types.MsgSetStatus{Hashes: hashes, Reason: reason}}
}

// blockTime is the deterministic block time of height h.
func (c *testChain) blockTime(h int64) time.Time {
	return c.genesis.Add(time.Duration(h) * time.Second)
}

// finalize runs FinalizeBlock and Commit for the next height and returns the
// tx results and the app hash.
func (c *testChain) finalize(txs ...[]byte) ([]*abci.ExecTxResult, []byte) {
	c.t.Helper()
	c.height++
	resp, err := c.app.FinalizeBlock(c.t.Context(), &abci.RequestFinalizeBlock{Height: c.height, Time: c.blockTime(c.height), Txs: txs})
	require.NoError(c.t, err)
	_, err = c.app.Commit(c.t.Context(), &abci.RequestCommit{})
	require.NoError(c.t, err)
	return resp.TxResults, resp.AppHash
}

// checkTx runs CheckTx and returns the response.
func (c *testChain) checkTx(tx []byte) *abci.ResponseCheckTx {
	c.t.Helper()
	resp, err := c.app.CheckTx(c.t.Context(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
	require.NoError(c.t, err)
	return resp
}

// query runs an ABCI query.
func (c *testChain) query(path string, data []byte, height int64) *abci.ResponseQuery {
	c.t.Helper()
	resp, err := c.app.Query(c.t.Context(), &abci.RequestQuery{Path: path, Data: data, Height: height})
	require.NoError(c.t, err)
	return resp
}

// credential queries hash at height (0: latest) and checks the shape of
// the answer: the hash, one ICS23 proof op for types.CredentialKey(hash).
func (c *testChain) credential(hash []byte, height int64) *query.CredentialProof {
	c.t.Helper()
	resp := c.query(query.PathCredential, hash, height)
	require.Zero(c.t, resp.Code, resp.Log)
	require.Equal(c.t, hash, resp.Key)
	p, err := query.DecodeCredential(hash, resp)
	require.NoError(c.t, err)
	require.Len(c.t, resp.ProofOps.Ops, 1)
	require.Equal(c.t, types.ProofOpType, resp.ProofOps.Ops[0].Type)
	require.Equal(c.t, types.CredentialKey(hash), resp.ProofOps.Ops[0].Key)
	return p
}

// verdict queries hash at the latest height and checks the proof against
// the store's committed hash (what header H+1 would carry). The result's
// subject is the single issuer with a record of hash; with several it is
// undecided (see verdictOf).
func (c *testChain) verdict(hash []byte) *types.CredentialResult {
	c.t.Helper()
	p := c.credential(hash, 0)
	res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, c.app.Store().Hash())
	require.NoError(c.t, err)
	return res
}

// verdictOf is verdict about issuer's own record of hash, which must exist.
func (c *testChain) verdictOf(hash []byte, issuer string) *types.CredentialResult {
	c.t.Helper()
	res := c.verdict(hash)
	require.Truef(c.t, res.Choose(issuer), "issuer %q has no record of %x (issuers: %v)", issuer, hash, res.Issuers())
	require.Equal(c.t, issuer, res.Issuer())
	return res
}

// entry returns issuer's proven entry of hash at the latest height, or nil
// if it has none.
func (c *testChain) entry(hash []byte, issuer string) *types.CredentialEntry {
	c.t.Helper()
	for _, e := range c.verdict(hash).Entries {
		if e.IssuerId == issuer {
			return e
		}
	}
	return nil
}

// finalizeAt runs FinalizeBlock at the next height with block time tm, then
// Commit, and returns the tx results and the app hash.
func (c *testChain) finalizeAt(tm time.Time, txs ...[]byte) ([]*abci.ExecTxResult, []byte) {
	c.t.Helper()
	c.height++
	resp, err := c.app.FinalizeBlock(c.t.Context(), &abci.RequestFinalizeBlock{Height: c.height, Time: tm, Txs: txs})
	require.NoError(c.t, err)
	_, err = c.app.Commit(c.t.Context(), &abci.RequestCommit{})
	require.NoError(c.t, err)
	return resp.TxResults, resp.AppHash
}

// commitOK finalizes and commits a block whose txs must all succeed, and
// returns the app hash.
func (c *testChain) commitOK(txs ...[]byte) []byte {
	c.t.Helper()
	res, hash := c.finalize(txs...)
	for i, r := range res {
		require.Zerof(c.t, r.Code, "tx %d of block %d: %s", i, c.height, r.Log)
	}
	return hash
}

// prepare runs PrepareProposal for the next height at its block time and
// returns the txs the app keeps.
func (c *testChain) prepare(maxTxBytes int64, txs ...[]byte) [][]byte {
	c.t.Helper()
	h := c.height + 1
	resp, err := c.app.PrepareProposal(c.t.Context(), &abci.RequestPrepareProposal{
		MaxTxBytes: maxTxBytes, Txs: txs, Height: h, Time: c.blockTime(h),
	})
	require.NoError(c.t, err)
	return resp.Txs
}

// process runs ProcessProposal for the next height at its block time.
func (c *testChain) process(txs ...[]byte) abci.ResponseProcessProposal_ProposalStatus {
	c.t.Helper()
	return c.processAt(c.blockTime(c.height+1), txs...)
}

// processAt runs ProcessProposal for the next height with block time tm.
func (c *testChain) processAt(tm time.Time, txs ...[]byte) abci.ResponseProcessProposal_ProposalStatus {
	c.t.Helper()
	resp, err := c.app.ProcessProposal(c.t.Context(), &abci.RequestProcessProposal{Height: c.height + 1, Time: tm, Txs: txs})
	require.NoError(c.t, err)
	return resp.Status
}

// recheckTx runs CheckTx of type Recheck, as the mempool does after Commit.
func (c *testChain) recheckTx(tx []byte) *abci.ResponseCheckTx {
	c.t.Helper()
	resp, err := c.app.CheckTx(c.t.Context(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_Recheck})
	require.NoError(c.t, err)
	return resp
}

// committedSeq returns the next sequence of issuer id in the committed state.
func (c *testChain) committedSeq(id string) uint64 {
	c.t.Helper()
	resp := c.query(query.PathSequence, []byte(id), 0)
	require.Zero(c.t, resp.Code, resp.Log)
	seq, err := types.DecodeSequence(resp.Value)
	require.NoError(c.t, err)
	return seq
}

// records returns what queries at height (0: latest) answer about hashes and
// about every issuer of the chain (its record and next sequence), keyed by
// a readable name. Two equal results mean the queried state is the same.
func (c *testChain) records(height int64, hashes ...[]byte) map[string][]byte {
	c.t.Helper()
	out := make(map[string][]byte)
	for _, h := range hashes {
		resp := c.query(query.PathCredential, h, height)
		require.Zero(c.t, resp.Code, resp.Log)
		out[fmt.Sprintf("credential %x", h)] = resp.Value
	}
	for _, is := range c.issuers {
		for _, path := range []string{query.PathIssuer, query.PathSequence} {
			resp := c.query(path, []byte(is.id), height)
			require.Zero(c.t, resp.Code, resp.Log)
			out[path+" "+is.id] = resp.Value
		}
	}
	resp := c.query(query.PathParams, nil, height)
	require.Zero(c.t, resp.Code, resp.Log)
	out[query.PathParams] = resp.Value
	return out
}

// signRaw signs body bytes exactly as given (canonical or not) with is's key
// and returns the encoded envelope.
func signRaw(t testing.TB, is *testIssuer, body []byte) []byte {
	t.Helper()
	env := &types.Tx{Body: body, Signature: ed25519.Sign(is.key, types.SignBytes(body))}
	bz, err := env.Marshal()
	require.NoError(t, err)
	return bz
}

// mutateEnvelope decodes a tx envelope, applies fn and re-encodes it.
func mutateEnvelope(t testing.TB, tx []byte, fn func(env *types.Tx)) []byte {
	t.Helper()
	var env types.Tx
	require.NoError(t, env.Unmarshal(tx))
	fn(&env)
	bz, err := env.Marshal()
	require.NoError(t, err)
	return bz
}

// testHashes returns n distinct hashes testHash(from)..testHash(from+n-1).
func testHashes(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = testHash(from + i)
	}
	return out
}

// mutateRecord decodes an encoded CredentialRecord, applies fn and
// re-encodes it.
func mutateRecord(t testing.TB, bz []byte, fn func(r *types.CredentialRecord)) []byte {
	t.Helper()
	var r types.CredentialRecord
	require.NoError(t, r.Unmarshal(bz))
	fn(&r)
	out, err := r.Marshal()
	require.NoError(t, err)
	return out
}
