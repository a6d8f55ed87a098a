package node

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/credledger/credledger/app"
	"github.com/credledger/credledger/types"
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
func (c *Client) SubmitOne(ctx context.Context, key *KeyFile, msg func(*types.TxBody), timeout time.Duration) (*TxOutcome, error) {
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
		return nil, c.unreachable(err)
	}
	if res.Code != 0 {
		return nil, &types.TxError{Code: types.Code(res.Code), Msg: res.Log}
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
	res, err := c.query(ctx, app.PathProposal, types.EncodeSequence(id), height)
	if err != nil {
		return nil, err
	}
	if len(res.Response.Value) == 0 {
		return nil, fmt.Errorf("there is no proposal %d", id)
	}
	var p types.Proposal
	if err := p.Unmarshal(res.Response.Value); err != nil {
		return nil, fmt.Errorf("decode proposal %d: %w", id, err)
	}
	return c.withTally(ctx, &p, res.Response.Height)
}

func (c *Client) withTally(ctx context.Context, p *types.Proposal, height int64) (*ProposalView, error) {
	issuers, err := c.IssuersAt(ctx, height)
	if err != nil {
		return nil, err
	}
	return newProposalView(p, issuers), nil
}

// Proposals returns every proposal with its tally.
func (c *Client) Proposals(ctx context.Context) ([]*ProposalView, error) {
	res, err := c.query(ctx, app.PathProposals, nil, 0)
	if err != nil {
		return nil, err
	}
	var list types.ProposalList
	if err := list.Unmarshal(res.Response.Value); err != nil {
		return nil, fmt.Errorf("decode proposal list: %w", err)
	}
	issuers, err := c.IssuersAt(ctx, res.Response.Height)
	if err != nil {
		return nil, err
	}
	out := make([]*ProposalView, len(list.Proposals))
	for i, p := range list.Proposals {
		out[i] = newProposalView(p, issuers)
	}
	return out, nil
}

// IssuersAt returns every issuer record as of height (0: latest).
func (c *Client) IssuersAt(ctx context.Context, height int64) ([]*types.Issuer, error) {
	res, err := c.query(ctx, app.PathIssuers, nil, height)
	if err != nil {
		return nil, err
	}
	var list types.IssuerList
	if err := list.Unmarshal(res.Response.Value); err != nil {
		return nil, fmt.Errorf("decode issuer list: %w", err)
	}
	return list.Issuers, nil
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
	res, err := c.query(ctx, app.PathIssuer, []byte(id), h)
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
	if !ok || res.Response.ProofOps == nil || len(res.Response.ProofOps.Ops) != 1 {
		return nil, fmt.Errorf("%w: no proof or header for issuer %q", types.ErrMalformedAnswer, id)
	}
	is, err := types.VerifyIssuer(id, res.Response.Value, res.Response.ProofOps.Ops[0].Data, appHash)
	if err != nil {
		return nil, err
	}
	if is == nil {
		return nil, fmt.Errorf("there is no issuer %q", id)
	}
	return is, nil
}

// ParsePubKey decodes a 32-byte ed25519 public key given as 64 hex digits
// or as base64 (the form CometBFT's priv_validator_key.json uses).
func ParsePubKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("%q is not a 32-byte ed25519 public key in hex (64 digits) or base64", s)
}
