package app

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/credledger/credledger/types"
)

// Governance: the consortium admits and removes issuers, and replaces an
// issuer's signing key, by vote. A proposal passes when the yes votes of
// active issuers hold more than 2/3 of the active voting power, leaving out
// the power of the proposal's target (types.Proposal.Target), and is rejected as soon as that can no longer happen
// (the no votes hold at least 1/3). It expires after Params.ProposalExpiryBlocks.
// Passing takes effect in the same block; the validator updates that follow
// are derived from the issuer records the block changed (validatorUpdates).

func getIssuerIndex(r reader) ([]string, error) {
	bz, err := r.Get(types.IssuerIndexKey())
	if err != nil {
		return nil, err
	}
	var l types.IDList
	if err := l.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("decode issuer index: %w", err)
	}
	return l.Ids, nil
}

func setIssuerIndex(st *overlay, ids []string) error {
	slices.Sort(ids)
	return setRecord(st, types.IssuerIndexKey(), &types.IDList{Ids: ids})
}

// allIssuers returns every issuer record, in id order.
func allIssuers(r reader) ([]*types.Issuer, error) {
	ids, err := getIssuerIndex(r)
	if err != nil {
		return nil, err
	}
	out := make([]*types.Issuer, 0, len(ids))
	for _, id := range ids {
		is, err := getIssuer(r, id)
		if err != nil {
			return nil, err
		}
		if is == nil {
			return nil, fmt.Errorf("issuer index names %q but there is no record", id)
		}
		out = append(out, is)
	}
	return out, nil
}

// checkKeysUnused rejects a signing key any issuer uses or used, and a
// validator key any issuer has.
func checkKeysUnused(r reader, signing, validator []byte) error {
	all, err := allIssuers(r)
	if err != nil {
		return err
	}
	for _, is := range all {
		used := bytes.Equal(is.SigningPubkey, signing) || validator != nil && bytes.Equal(is.ValidatorPubkey, validator)
		for _, pk := range is.PreviousKeys {
			used = used || bytes.Equal(pk.Pubkey, signing)
		}
		if used {
			return types.Errorf(types.CodeKeyInUse, "the key is already used by issuer %q; every issuer needs keys of its own", is.Id)
		}
	}
	return nil
}

func getProposal(r reader, id uint64) (*types.Proposal, error) {
	bz, err := r.Get(types.ProposalKey(id))
	if err != nil || bz == nil {
		return nil, err
	}
	var p types.Proposal
	if err := p.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("decode proposal %d: %w", id, err)
	}
	return &p, nil
}

func getOpenProposals(r reader) ([]uint64, error) {
	bz, err := r.Get(types.OpenProposalsKey())
	if err != nil {
		return nil, err
	}
	var l types.ProposalIDs
	if err := l.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("decode open proposals: %w", err)
	}
	return l.Ids, nil
}

func setOpenProposals(st *overlay, ids []uint64) error {
	slices.Sort(ids)
	return setRecord(st, types.OpenProposalsKey(), &types.ProposalIDs{Ids: ids})
}

// newProposal stores a proposal with the proposer's yes vote and decides it
// at once if that vote alone is enough.
//
// A member may have at most types.MaxOpenProposalsPerIssuer proposals open,
// so the open list that every block reads to expire proposals stays
// bounded by the consortium's size, whatever a member sends; another
// member's proposals never count against it.
func newProposal(st *overlay, bc *blockContext, proposer string, p *types.Proposal) ([]abci.Event, error) {
	if err := checkOpenProposalsOf(st, proposer); err != nil {
		return nil, err
	}
	bz, err := st.Get(types.LastProposalIDKey())
	if err != nil {
		return nil, err
	}
	id, err := types.DecodeProposalID(bz)
	if err != nil {
		return nil, fmt.Errorf("next proposal id: %w", err)
	}
	id++ // proposal ids start at 1
	st.set(types.LastProposalIDKey(), types.EncodeProposalID(id))
	p.Id, p.Proposer, p.CreatedHeight = id, proposer, bc.height
	p.ExpiresHeight = bc.height + bc.params.ProposalExpiryBlocks
	p.Status = types.ProposalStatus_PROPOSAL_STATUS_OPEN
	p.Votes = []*types.Vote{{IssuerId: proposer, Yes: true, Height: bc.height}}
	open, err := getOpenProposals(st)
	if err != nil {
		return nil, err
	}
	if err := setOpenProposals(st, append(open, id)); err != nil {
		return nil, err
	}
	return decide(st, bc, p)
}

// checkOpenProposalsOf refuses a new proposal of proposer if it has
// types.MaxOpenProposalsPerIssuer open already.
func checkOpenProposalsOf(r reader, proposer string) error {
	open, err := getOpenProposals(r)
	if err != nil {
		return err
	}
	n := 0
	for _, id := range open {
		p, err := getProposal(r, id)
		if err != nil {
			return err
		}
		if p != nil && p.Proposer == proposer {
			n++
		}
	}
	if n >= types.MaxOpenProposalsPerIssuer {
		return types.Errorf(types.CodeTooManyProposals, "issuer %q has %d proposals open, the most a member may have: let one be decided or expire first", proposer, n)
	}
	return nil
}

func proposeAdmission(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeAdmission) ([]abci.Event, error) {
	if err := checkAdmissible(st, m); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_Admission{Admission: m}})
}

// checkAdmissible rejects an admission whose id exists (or existed) or
// whose keys some issuer uses or used.
func checkAdmissible(r reader, m *types.MsgProposeAdmission) error {
	existing, err := getIssuer(r, m.IssuerId)
	if err != nil {
		return err
	}
	if existing != nil {
		return types.Errorf(types.CodeIssuerExists, "issuer id %q is already taken (status %s); ids are never reused", m.IssuerId, existing.Status.StatusWord())
	}
	if err := checkIdentifiersFree(r, m.IssuerId, m.Identifiers); err != nil {
		return err
	}
	return checkKeysUnused(r, m.SigningPubkey, m.ValidatorPubkey)
}

// checkIdentifiersFree rejects identifiers that a member other than owner
// holds or held (identifiers, like ids, are never reused).
func checkIdentifiersFree(r reader, owner string, ids []string) error {
	for _, id := range ids {
		holder, err := r.Get(types.IdentifierKey(id))
		if err != nil {
			return err
		}
		if holder != nil && string(holder) != owner {
			return types.Errorf(types.CodeIdentifierInUse, "identifier %q belongs to issuer %q; identifiers are unique across members", id, holder)
		}
	}
	return nil
}

// reserveIdentifiers points each identifier at issuer id in the identifier
// index. Entries are never removed: an identifier an issuer gives up stays
// reserved to it, so no other member can later take the name that its
// credentials carry.
func reserveIdentifiers(st *overlay, id string, idents []string) {
	for _, ident := range idents {
		st.set(types.IdentifierKey(ident), []byte(id))
	}
}

func proposeIdentifiers(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeIdentifiers) ([]abci.Event, error) {
	if err := checkIdentifiable(st, m); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_Identifiers{Identifiers: m}})
}

// activeIssuer returns issuer id's record, or a rejection if it is unknown
// or removed.
func activeIssuer(r reader, id string) (*types.Issuer, error) {
	is, err := getIssuer(r, id)
	if err != nil {
		return nil, err
	}
	if is == nil {
		return nil, types.Errorf(types.CodeUnknownIssuer, "unknown issuer %q", id)
	}
	if is.Status != types.IssuerStatus_ISSUER_STATUS_ACTIVE {
		return nil, types.Errorf(types.CodeIssuerNotActive, "issuer %q is not active (removed at height %d)", id, is.LeftHeight)
	}
	return is, nil
}

// checkIdentifiable rejects setting the identifiers of an unknown or
// removed issuer, or to identifiers another member holds.
func checkIdentifiable(r reader, m *types.MsgProposeIdentifiers) error {
	if _, err := activeIssuer(r, m.IssuerId); err != nil {
		return err
	}
	return checkIdentifiersFree(r, m.IssuerId, m.Identifiers)
}

func proposeRemoval(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeRemoval) ([]abci.Event, error) {
	if err := checkRemovable(st, m.IssuerId); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_Removal{Removal: m}})
}

func proposeReplaceKey(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeReplaceKey) ([]abci.Event, error) {
	if err := checkKeyReplaceable(st, m); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_ReplaceKey{ReplaceKey: m}})
}

// checkKeyReplaceable rejects replacing the key of an unknown or removed
// issuer, or with a key some issuer uses or used.
func checkKeyReplaceable(r reader, m *types.MsgProposeReplaceKey) error {
	if _, err := activeIssuer(r, m.IssuerId); err != nil {
		return err
	}
	return checkKeysUnused(r, m.NewSigningPubkey, nil)
}

func proposeVoid(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeVoid) ([]abci.Event, error) {
	if err := checkVoidable(st, bc, m); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_Void{Void: m}})
}

// checkVoidable rejects voiding the records of an unknown issuer, or from a
// height the chain has not reached.
func checkVoidable(r reader, bc *blockContext, m *types.MsgProposeVoid) error {
	target, err := getIssuer(r, m.IssuerId)
	if err != nil {
		return err
	}
	if target == nil {
		return types.Errorf(types.CodeUnknownIssuer, "unknown issuer %q", m.IssuerId)
	}
	if m.FromHeight > bc.height {
		return types.Errorf(types.CodeInvalidProposal, "from height %d is above the current height %d", m.FromHeight, bc.height)
	}
	return nil
}

func proposeStatus(st *overlay, bc *blockContext, proposer string, m *types.MsgProposeStatus) ([]abci.Event, error) {
	if err := checkStatusChange(st, m); err != nil {
		return nil, err
	}
	return newProposal(st, bc, proposer, &types.Proposal{Action: &types.Proposal_StatusChange{StatusChange: m}})
}

// checkStatusChange rejects a consortium status change for an issuer that
// is unknown or still active (it signs its own changes), of a credential
// it did not anchor, or that the issuer's own rules forbid.
func checkStatusChange(r reader, m *types.MsgProposeStatus) error {
	target, err := getIssuer(r, m.IssuerId)
	if err != nil {
		return err
	}
	switch {
	case target == nil:
		return types.Errorf(types.CodeUnknownIssuer, "unknown issuer %q", m.IssuerId)
	case target.Status == types.IssuerStatus_ISSUER_STATUS_ACTIVE:
		return types.Errorf(types.CodeInvalidProposal, "issuer %q is active and changes its credentials' status itself; the consortium does so only for a removed issuer", m.IssuerId)
	}
	to, err := types.StatusOf(m.Status)
	if err != nil {
		return err
	}
	rec, err := getCredential(r, m.Hash)
	if err != nil {
		return err
	}
	e, _ := types.EffectiveEntry(findEntry(rec, m.IssuerId), target)
	if e == nil || e.Anchor == nil {
		return types.HashErrorf(types.CodeNotAnchored, m.Hash, "is not anchored by issuer %q", m.IssuerId)
	}
	return checkTransition(m.Hash, m.IssuerId, e, to)
}

// checkRemovable rejects removing an unknown or inactive issuer, or the last
// active one (a chain needs at least one validator).
func checkRemovable(r reader, id string) error {
	if _, err := activeIssuer(r, id); err != nil {
		return err
	}
	all, err := allIssuers(r)
	if err != nil {
		return err
	}
	for _, is := range all {
		if is.Id != id && is.Status == types.IssuerStatus_ISSUER_STATUS_ACTIVE {
			return nil
		}
	}
	return types.Errorf(types.CodeLastIssuer, "issuer %q is the last active issuer; removing it would leave no validator", id)
}

func vote(st *overlay, bc *blockContext, voter string, m *types.MsgVote) ([]abci.Event, error) {
	p, err := getProposal(st, m.ProposalId)
	if err != nil {
		return nil, err
	}
	switch {
	case p == nil:
		return nil, types.Errorf(types.CodeUnknownProposal, "there is no proposal %d", m.ProposalId)
	case p.Status == types.ProposalStatus_PROPOSAL_STATUS_EXPIRED || p.Status == types.ProposalStatus_PROPOSAL_STATUS_OPEN && bc.height > p.ExpiresHeight:
		return nil, types.Errorf(types.CodeProposalExpired, "proposal %d expired at height %d", p.Id, p.ExpiresHeight)
	case p.Status != types.ProposalStatus_PROPOSAL_STATUS_OPEN:
		return nil, types.Errorf(types.CodeProposalDecided, "proposal %d was already decided: %s at height %d", p.Id, p.Status.StatusWord(), p.DecidedHeight)
	}
	for _, v := range p.Votes {
		if v.IssuerId == voter {
			return nil, types.Errorf(types.CodeAlreadyVoted, "issuer %q already voted on proposal %d (yes=%t)", voter, p.Id, v.Yes)
		}
	}
	p.Votes = append(p.Votes, &types.Vote{IssuerId: voter, Yes: m.Yes, Height: bc.height})
	return decide(st, bc, p)
}

// tallyProposal counts the votes of currently active issuers.
func tallyProposal(r reader, p *types.Proposal) (types.Tally, error) {
	all, err := allIssuers(r)
	if err != nil {
		return types.Tally{}, err
	}
	return types.TallyProposal(p, all), nil
}

// decide tallies p, applies it if it passed, and saves it.
func decide(st *overlay, bc *blockContext, p *types.Proposal) ([]abci.Event, error) {
	t, err := tallyProposal(st, p)
	if err != nil {
		return nil, err
	}
	switch {
	case t.Passed():
		if err := applyProposal(st, bc, p); err != nil {
			return nil, err
		}
	case t.Failed():
		p.Status = types.ProposalStatus_PROPOSAL_STATUS_REJECTED
	}
	if p.Status != types.ProposalStatus_PROPOSAL_STATUS_OPEN {
		p.DecidedHeight = bc.height
		p.FinalYesPower, p.FinalNoPower, p.FinalTotalPower = t.Yes, t.No, t.Total
		if err := closeProposal(st, p.Id); err != nil {
			return nil, err
		}
	}
	if err := setRecord(st, types.ProposalKey(p.Id), p); err != nil {
		return nil, err
	}
	return []abci.Event{proposalEvent(p, t)}, nil
}

// applyProposal carries out a passing proposal. A removal that would now
// leave no active issuer is rejected instead.
func applyProposal(st *overlay, bc *blockContext, p *types.Proposal) error {
	p.Status = types.ProposalStatus_PROPOSAL_STATUS_PASSED
	switch a := p.Action.(type) {
	case *types.Proposal_Admission:
		m := a.Admission
		// another admission may have taken the id or a key since this
		// proposal was made: then it cannot take effect
		if rejected, err := rejectIf(p, checkAdmissible(st, m)); rejected || err != nil {
			return err
		}
		is := &types.Issuer{
			Id: m.IssuerId, Name: m.Name, SigningPubkey: m.SigningPubkey, ValidatorPubkey: m.ValidatorPubkey,
			Power: m.Power, Status: types.IssuerStatus_ISSUER_STATUS_ACTIVE, JoinedHeight: bc.height, SigningKeyHeight: bc.height,
			Identifiers: types.SortedIdentifiers(m.Identifiers),
		}
		reserveIdentifiers(st, is.Id, is.Identifiers)
		ids, err := getIssuerIndex(st)
		if err != nil {
			return err
		}
		if err := setIssuerIndex(st, append(ids, is.Id)); err != nil {
			return err
		}
		return setRecord(st, types.IssuerKey(is.Id), is)
	case *types.Proposal_Removal:
		if rejected, err := rejectIf(p, checkRemovable(st, a.Removal.IssuerId)); rejected || err != nil {
			return err
		}
		is, err := getIssuer(st, a.Removal.IssuerId)
		if err != nil {
			return err
		}
		is.Status, is.LeftHeight = types.IssuerStatus_ISSUER_STATUS_REMOVED, bc.height
		return setRecord(st, types.IssuerKey(is.Id), is)
	case *types.Proposal_ReplaceKey:
		// the key may have been taken, or the issuer removed, meanwhile
		if rejected, err := rejectIf(p, checkKeyReplaceable(st, a.ReplaceKey)); rejected || err != nil {
			return err
		}
		return replaceSigningKey(st, bc, a.ReplaceKey.IssuerId, a.ReplaceKey.NewSigningPubkey)
	case *types.Proposal_Void:
		if rejected, err := rejectIf(p, checkVoidable(st, bc, a.Void)); rejected || err != nil {
			return err
		}
		is, err := getIssuer(st, a.Void.IssuerId)
		if err != nil {
			return err
		}
		is.Voids = append(is.Voids, &types.Void{FromHeight: a.Void.FromHeight, ProposalId: p.Id, Height: bc.height})
		return setRecord(st, types.IssuerKey(is.Id), is)
	case *types.Proposal_StatusChange:
		m := a.StatusChange
		if rejected, err := rejectIf(p, checkStatusChange(st, m)); rejected || err != nil {
			return err
		}
		to, err := types.StatusOf(m.Status)
		if err != nil {
			return err
		}
		rec, err := getCredential(st, m.Hash)
		if err != nil {
			return err
		}
		return writeStatus(st, m.Hash, rec, &types.StatusEntry{
			Status: to, IssuerId: m.IssuerId, Height: bc.height, TimeUnixNano: bc.timeNanos, Reason: m.Reason, ProposalId: p.Id,
		})
	case *types.Proposal_Identifiers:
		m := a.Identifiers
		if rejected, err := rejectIf(p, checkIdentifiable(st, m)); rejected || err != nil {
			return err
		}
		is, err := getIssuer(st, m.IssuerId)
		if err != nil {
			return err
		}
		is.Identifiers = types.SortedIdentifiers(m.Identifiers)
		reserveIdentifiers(st, is.Id, is.Identifiers)
		return setRecord(st, types.IssuerKey(is.Id), is)
	}
	return fmt.Errorf("proposal %d has no action", p.Id)
}

// rejectIf marks p rejected when check (run again as p passes: the state
// may have changed since it was proposed) is a rejection; an internal
// error is returned as it is.
func rejectIf(p *types.Proposal, check error) (rejected bool, err error) {
	switch {
	case check == nil:
		return false, nil
	case types.CodeOf(check) == types.CodeInternal:
		return false, check
	}
	p.Status = types.ProposalStatus_PROPOSAL_STATUS_REJECTED
	return true, nil
}

func closeProposal(st *overlay, id uint64) error {
	open, err := getOpenProposals(st)
	if err != nil {
		return err
	}
	return setOpenProposals(st, slices.DeleteFunc(open, func(x uint64) bool { return x == id }))
}

// expireProposals closes the open proposals whose voting period ended
// before this block. It runs at the start of every block.
func expireProposals(st *overlay, bc *blockContext) ([]abci.Event, error) {
	open, err := getOpenProposals(st)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	var events []abci.Event
	for _, id := range open {
		p, err := getProposal(st, id)
		if err != nil {
			return nil, err
		}
		if p == nil || bc.height <= p.ExpiresHeight {
			continue
		}
		t, err := tallyProposal(st, p)
		if err != nil {
			return nil, err
		}
		p.Status, p.DecidedHeight = types.ProposalStatus_PROPOSAL_STATUS_EXPIRED, bc.height
		p.FinalYesPower, p.FinalNoPower, p.FinalTotalPower = t.Yes, t.No, t.Total
		if err := closeProposal(st, id); err != nil {
			return nil, err
		}
		if err := setRecord(st, types.ProposalKey(id), p); err != nil {
			return nil, err
		}
		events = append(events, proposalEvent(p, t))
	}
	return events, nil
}

func rotateKey(st *overlay, bc *blockContext, signer string, m *types.MsgRotateKey) ([]abci.Event, error) {
	if err := checkKeysUnused(st, m.NewSigningPubkey, nil); err != nil {
		return nil, err
	}
	if err := replaceSigningKey(st, bc, signer, m.NewSigningPubkey); err != nil {
		return nil, err
	}
	return []abci.Event{{Type: "rotate_key", Attributes: []abci.EventAttribute{
		{Key: AttrIssuer, Value: signer, Index: true},
		{Key: "height", Value: strconv.FormatInt(bc.height, 10)},
	}}}, nil
}

// replaceSigningKey makes key the signing key of issuer id from this block
// on; the current key joins the issuer's previous keys.
func replaceSigningKey(st *overlay, bc *blockContext, id string, key []byte) error {
	is, err := getIssuer(st, id)
	if err != nil {
		return err
	}
	if is == nil {
		return fmt.Errorf("replace the key of issuer %q: no record", id)
	}
	is.PreviousKeys = append(is.PreviousKeys, &types.PreviousKey{Pubkey: is.SigningPubkey, FromHeight: is.SigningKeyHeight, UntilHeight: bc.height})
	is.SigningPubkey, is.SigningKeyHeight = key, bc.height
	return setRecord(st, types.IssuerKey(id), is)
}

func proposalEvent(p *types.Proposal, t types.Tally) abci.Event {
	kind, target := "admission", ""
	switch a := p.Action.(type) {
	case *types.Proposal_Admission:
		target = a.Admission.IssuerId
	case *types.Proposal_Removal:
		kind, target = "removal", a.Removal.IssuerId
	case *types.Proposal_ReplaceKey:
		kind, target = "replace_key", a.ReplaceKey.IssuerId
	case *types.Proposal_Identifiers:
		kind, target = "identifiers", a.Identifiers.IssuerId
	case *types.Proposal_Void:
		kind, target = "void", a.Void.IssuerId
	case *types.Proposal_StatusChange:
		kind, target = "status", a.StatusChange.IssuerId
	}
	return abci.Event{Type: "proposal", Attributes: []abci.EventAttribute{
		{Key: "id", Value: strconv.FormatUint(p.Id, 10), Index: true},
		{Key: "kind", Value: kind},
		{Key: "target", Value: target, Index: true},
		{Key: "status", Value: p.Status.StatusWord(), Index: true},
		{Key: "yes_power", Value: strconv.FormatInt(t.Yes, 10)},
		{Key: "no_power", Value: strconv.FormatInt(t.No, 10)},
		{Key: "total_power", Value: strconv.FormatInt(t.Total, 10)},
	}}
}

// validatorUpdates derives the block's validator updates from the issuer
// records it changed: an issuer whose effective power (0 when removed)
// differs from the committed one. Sorted by issuer key, so deterministic.
func validatorUpdates(base reader, block *overlay) ([]abci.ValidatorUpdate, error) {
	var keys []string
	for k := range block.writes {
		if len(k) > 0 && k[0] == types.PrefixIssuer {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []abci.ValidatorUpdate
	for _, k := range keys {
		id := k[1:]
		before, err := getIssuer(base, id)
		if err != nil {
			return nil, err
		}
		after, err := getIssuer(block, id)
		if err != nil {
			return nil, err
		}
		if p := effectivePower(after); p != effectivePower(before) {
			out = append(out, abci.Ed25519ValidatorUpdate(after.ValidatorPubkey, p))
		}
	}
	return out, nil
}

func effectivePower(is *types.Issuer) int64 {
	if is == nil || is.Status != types.IssuerStatus_ISSUER_STATUS_ACTIVE {
		return 0
	}
	return is.Power
}
