package client

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// TxOutcome is a committed governance tx.
type TxOutcome struct {
	TxHash []byte
	Height int64
	// Proposal is the proposal the tx created or voted on, as decided by
	// the tx (nil for a key rotation).
	Proposal *ProposalView
}

// ProposalView is a proposal with its tally against the current issuers.
type ProposalView struct {
	*types.Proposal
	Tally types.Tally
}

// SubmitOne signs one tx whose message is set by msg with key's issuer and
// next sequence, broadcasts it and waits until it is committed.
func (c *Client) SubmitOne(ctx context.Context, key *keys.Key, msg func(*types.TxBody), timeout time.Duration) (*TxOutcome, error) {
	info, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := c.Sequence(ctx, key.Issuer)
	if err != nil {
		return nil, fmt.Errorf("read sequence of issuer %q: %w", key.Issuer, err)
	}
	body := &types.TxBody{ChainId: info.ChainID, IssuerId: key.Issuer, Sequence: seq}
	msg(body)
	tx, err := types.SignTx(body, key.PrivateKey())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(tx)
	res, err := c.rpc.BroadcastTxSync(ctx, tx)
	if err != nil {
		return nil, c.rpcFailure(err)
	}
	if res.Code != 0 {
		return nil, &types.CodeError{Code: types.Code(res.Code), Msg: res.Log}
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	committed, err := c.waitCommitted(ctx, sum[:], timeout)
	if err != nil {
		return nil, err
	}
	out := &TxOutcome{TxHash: sum[:], Height: committed.Height}
	for _, ev := range committed.TxResult.Events {
		if ev.Type != "proposal" {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == "id" {
				id, err := strconv.ParseUint(a.Value, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("proposal event has id %q: %w", a.Value, err)
				}
				if out.Proposal, err = c.Proposal(ctx, id, committed.Height); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// newProposalView tallies an open proposal against issuers; a decided one
// keeps the tally it was decided with.
func newProposalView(p *types.Proposal, issuers []*types.Issuer) *ProposalView {
	if p.Status != types.ProposalStatus_PROPOSAL_STATUS_OPEN {
		return &ProposalView{Proposal: p, Tally: types.Tally{Yes: p.FinalYesPower, No: p.FinalNoPower, Total: p.FinalTotalPower}}
	}
	return &ProposalView{Proposal: p, Tally: types.TallyProposal(p, issuers)}
}

// Proposal returns proposal id as of height (0: latest) with its tally.
func (c *Client) Proposal(ctx context.Context, id uint64, height int64) (*ProposalView, error) {
	res, err := c.query(ctx, query.PathProposal, types.EncodeProposalID(id), height)
	if err != nil {
		return nil, err
	}
	p, err := query.DecodeProposal(id, &res.Response)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("there is no proposal %d", id)
	}
	return c.withTally(ctx, p, res.Response.Height)
}

func (c *Client) withTally(ctx context.Context, p *types.Proposal, height int64) (*ProposalView, error) {
	issuers, err := c.IssuersAt(ctx, height)
	if err != nil {
		return nil, err
	}
	return newProposalView(p, issuers), nil
}

// Proposals returns every proposal with its tally, reading every page of
// /proposals from one state.
func (c *Client) Proposals(ctx context.Context) ([]*ProposalView, error) {
	var proposals []*types.Proposal
	height, err := c.pages(ctx, query.PathProposals, 0, func(r *abci.ResponseQuery) ([]byte, error) {
		page, next, err := query.DecodeProposalPage(r)
		proposals = append(proposals, page...)
		return next, err
	})
	if err != nil {
		return nil, err
	}
	issuers, err := c.IssuersAt(ctx, height)
	if err != nil {
		return nil, err
	}
	out := make([]*ProposalView, len(proposals))
	for i, p := range proposals {
		out[i] = newProposalView(p, issuers)
	}
	return out, nil
}

// IssuersAt returns every issuer record as of height (0: latest), reading
// every page of /issuers from that state.
func (c *Client) IssuersAt(ctx context.Context, height int64) ([]*types.Issuer, error) {
	var issuers []*types.Issuer
	_, err := c.pages(ctx, query.PathIssuers, height, func(r *abci.ResponseQuery) ([]byte, error) {
		page, next, err := query.DecodeIssuerPage(r)
		issuers = append(issuers, page...)
		return next, err
	})
	return issuers, err
}

// maxPages bounds the pages pages reads of one list (a million entries).
const maxPages = 1000

// pages reads a list query page by page at height (0: the latest state,
// then every page from the state of the first), passing each answer to
// add, which returns where the next page starts (nil: done). It returns
// the height read.
func (c *Client) pages(ctx context.Context, path string, height int64, add func(*abci.ResponseQuery) ([]byte, error)) (int64, error) {
	var after []byte
	for range maxPages {
		res, err := c.query(ctx, path, query.Page(after, query.MaxPageSize), height)
		if err != nil {
			return 0, err
		}
		height = res.Response.Height
		next, err := add(&res.Response)
		if err != nil {
			return 0, err
		}
		if len(next) == 0 {
			return height, nil
		}
		after = next
	}
	return 0, fmt.Errorf("%s: more than %d pages", path, maxPages)
}

// Issuer returns one issuer record, checked against the app hash of the
// header that commits to it (from the same node), or an error if unknown.
func (c *Client) Issuer(ctx context.Context, id string) (*types.Issuer, error) {
	info, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	// state info.LatestHeight-1 is proven by header info.LatestHeight
	h := max(info.LatestHeight-1, 1)
	res, err := c.query(ctx, query.PathIssuer, []byte(id), h)
	if err != nil {
		return nil, err
	}
	appHash, _, ok, err := c.appHashAt(ctx, res.Response.Height+1, info.ChainID)
	if err == nil && !ok {
		// a chain at height 1 has no header proving state 1 yet; header 1
		// proves the genesis state, which is state 1 if block 1 changed
		// nothing (VerifyIssuer fails otherwise)
		appHash, _, ok, err = c.appHashAt(ctx, res.Response.Height, info.ChainID)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no header proves state %d", types.ErrMalformedAnswer, res.Response.Height)
	}
	p, err := query.DecodeIssuer(id, &res.Response)
	if err != nil {
		return nil, err
	}
	is, err := types.VerifyIssuer(id, p.Value, p.Proof, appHash)
	if err != nil {
		return nil, err
	}
	if is == nil {
		return nil, fmt.Errorf("there is no issuer %q", id)
	}
	return is, nil
}
