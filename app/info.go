package app

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

// Info reports the last committed height and app hash, so that CometBFT
// replays exactly the blocks the app has not committed. Like Query, it
// reads the committed state without waiting for block execution.
func (app *Application) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	h, hash := app.store.LastCommitted()
	resp := &abci.ResponseInfo{
		Data:             "credledger",
		Version:          Version,
		AppVersion:       AppVersion,
		LastBlockHeight:  h,
		LastBlockAppHash: nil,
	}
	if h > 0 {
		resp.LastBlockAppHash = hash
	}
	return resp, nil
}

// InitChain writes the consortium from the genesis app_state (params and
// issuers) and sets the validator set from the issuers. If the genesis
// validators list is not empty it must name exactly the issuers' validators.
func (app *Application) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	app.mu.Lock()
	defer app.mu.Unlock()
	g, err := types.DecodeGenesisState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	app.store.SetInitialVersion(req.InitialHeight)
	st := newOverlay(app.store)
	st.set(types.ChainIDKey(), []byte(req.ChainId))
	params := g.Params.Params()
	if err := setRecord(st, types.ParamsKey(), &params); err != nil {
		return nil, err
	}
	vals := make([]abci.ValidatorUpdate, 0, len(g.Issuers))
	ids := make([]string, 0, len(g.Issuers))
	for _, gi := range g.Issuers {
		ids = append(ids, gi.ID)
		is := gi.Issuer()
		if err := setRecord(st, types.IssuerKey(is.Id), &is); err != nil {
			return nil, err
		}
		reserveIdentifiers(st, is.Id, is.Identifiers)
		vals = append(vals, abci.Ed25519ValidatorUpdate(is.ValidatorPubkey, is.Power))
	}
	if err := setIssuerIndex(st, ids); err != nil {
		return nil, err
	}
	if len(req.Validators) > 0 {
		if err := sameValidators(req.Validators, vals); err != nil {
			return nil, err
		}
	}
	hash, err := app.store.Apply(st.kvs())
	if err != nil {
		return nil, err
	}
	if err := app.resetCheckState(); err != nil {
		return nil, err
	}
	app.logger.Info("initialised consortium", "chain_id", req.ChainId, "issuers", len(g.Issuers), "app_hash", fmt.Sprintf("%X", hash))
	return &abci.ResponseInitChain{Validators: vals, AppHash: hash}, nil
}

func sameValidators(genesis, fromIssuers []abci.ValidatorUpdate) error {
	if len(genesis) != len(fromIssuers) {
		return fmt.Errorf("genesis lists %d validators but app_state has %d issuers", len(genesis), len(fromIssuers))
	}
	want := make(map[string]int64, len(fromIssuers))
	for _, v := range fromIssuers {
		want[v.PubKey.String()] = v.Power
	}
	for _, v := range genesis {
		p, ok := want[v.PubKey.String()]
		if !ok || p != v.Power {
			return fmt.Errorf("genesis validator %s (power %d) is not an issuer of app_state with that power", v.PubKey.String(), v.Power)
		}
	}
	return nil
}
