package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// govFlags are the flags of every signed governance command.
type govFlags struct {
	signFlags
	timeout time.Duration
}

func (g *govFlags) register(cmd *cobra.Command) {
	g.signFlags.register(cmd, "name of the signing key (an active issuer's)", "")
	cmd.Flags().DurationVar(&g.timeout, "timeout", 0, "how long to wait for the tx to be committed (default: the home's config, 60s)")
}

// prepare checks the flags and returns the signing key and a client.
func (g *govFlags) prepare() (*keys.Key, *client.Client, error) {
	key, c, cfg, err := g.signFlags.prepare()
	if err != nil {
		return nil, nil, err
	}
	if g.timeout <= 0 {
		g.timeout = cfg.Client.CommitTimeout.Duration
	}
	return key, c, nil
}

func newIssuerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "issuer", Short: "Consortium membership: list issuers, propose admissions and removals, vote, rotate keys"}
	cmd.AddCommand(newIssuerListCmd(), newIssuerShowCmd(), newProposeAddCmd(), newProposeRemoveCmd(), newProposeReplaceKeyCmd(), newProposeIdentifiersCmd(), newProposeVoidCmd(), newProposeStatusCmd(), newVoteCmd(), newRotateKeyCmd())
	return cmd
}

type issuerJSON struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Power           int64  `json:"power"`
	JoinedHeight    int64  `json:"joined_height"`
	LeftHeight      int64  `json:"left_height"`
	SigningPubKey   string `json:"signing_pubkey"`
	ValidatorPubKey string `json:"validator_pubkey"`
	KeyHeight       int64  `json:"signing_key_height"`
	// Identifiers are the DIDs or URLs its credentials name.
	Identifiers  []string `json:"identifiers"`
	PreviousKeys []struct {
		PubKey string `json:"pubkey"`
		From   int64  `json:"from_height"`
		Until  int64  `json:"until_height"`
	} `json:"previous_keys"`
}

func newIssuerJSON(is *types.Issuer) issuerJSON {
	j := issuerJSON{
		ID: is.Id, Name: is.Name, Status: is.Status.StatusWord(), Power: is.Power, JoinedHeight: is.JoinedHeight,
		LeftHeight: is.LeftHeight, SigningPubKey: hex.EncodeToString(is.SigningPubkey),
		ValidatorPubKey: hex.EncodeToString(is.ValidatorPubkey), KeyHeight: is.SigningKeyHeight,
		Identifiers: append([]string{}, is.Identifiers...),
	}
	j.PreviousKeys = make([]struct {
		PubKey string `json:"pubkey"`
		From   int64  `json:"from_height"`
		Until  int64  `json:"until_height"`
	}, len(is.PreviousKeys))
	for i, pk := range is.PreviousKeys {
		j.PreviousKeys[i].PubKey, j.PreviousKeys[i].From, j.PreviousKeys[i].Until = hex.EncodeToString(pk.Pubkey), pk.FromHeight, pk.UntilHeight
	}
	return j
}

func issuerLine(is *types.Issuer) string {
	left := "-"
	if is.LeftHeight > 0 {
		left = fmt.Sprint(is.LeftHeight)
	}
	idents := "-"
	if len(is.Identifiers) > 0 {
		idents = strings.Join(is.Identifiers, ",")
	}
	return fmt.Sprintf("%-20s %-24q %-8s power=%-6d joined=%-6d left=%-6s identifiers=%s", is.Id, is.Name, is.Status.StatusWord(), is.Power, is.JoinedHeight, left, idents)
}

func newIssuerListCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "list [--node URL | --home DIR] [--output json]",
		Short: "List every issuer: id, name, status, power, joined and left heights",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.client()
			if err != nil {
				return err
			}
			issuers, err := c.IssuersAt(cmd.Context(), 0)
			if err != nil {
				return err
			}
			if f.json() {
				out := make([]issuerJSON, len(issuers))
				for i, is := range issuers {
					out[i] = newIssuerJSON(is)
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			for _, is := range issuers {
				fmt.Fprintln(cmd.OutOrStdout(), issuerLine(is))
			}
			return nil
		},
	}
	f.register(cmd, "use the node configured in this home", "")
	return cmd
}

func newIssuerShowCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "show ID [--node URL | --home DIR] [--output json]",
		Short: "Show one issuer (checked against a Merkle proof), with its key history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := types.ValidateIssuerID(args[0]); err != nil {
				return err
			}
			c, _, err := f.client()
			if err != nil {
				return err
			}
			is, err := c.Issuer(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			j := newIssuerJSON(is)
			if f.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(j)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, issuerLine(is))
			fmt.Fprintf(w, "signing key:   %s (since height %d)\nvalidator key: %s\n", j.SigningPubKey, j.KeyHeight, j.ValidatorPubKey)
			for _, pk := range j.PreviousKeys {
				fmt.Fprintf(w, "previous key:  %s (heights %d..%d)\n", pk.PubKey, pk.From, pk.Until)
			}
			return nil
		},
	}
	f.register(cmd, "use the node configured in this home", "")
	return cmd
}

func newProposeAddCmd() *cobra.Command {
	var g govFlags
	var m types.MsgProposeAdmission
	var issuerPub, validatorPub string
	cmd := &cobra.Command{
		Use:   "propose-add --id ID --name NAME --issuer-pubkey HEX --validator-pubkey KEY --power N --from NAME --home DIR",
		Short: "Propose to admit an issuer (and its validator); counts as your yes vote",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if m.SigningPubkey, err = keys.ParsePubKey(issuerPub); err != nil {
				return fmt.Errorf("--issuer-pubkey: %w", err)
			}
			if m.ValidatorPubkey, err = keys.ParsePubKey(validatorPub); err != nil {
				return fmt.Errorf("--validator-pubkey: %w", err)
			}
			if err := m.ValidateBasic(); err != nil {
				return err
			}
			return submitGov(cmd, &g, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: &m} })
		},
	}
	f := cmd.Flags()
	f.StringVar(&m.IssuerId, "id", "", "the new issuer's id")
	f.StringVar(&m.Name, "name", "", "the new issuer's display name")
	f.StringVar(&issuerPub, "issuer-pubkey", "", "its tx signing key (hex; from \"credledger keys show NAME\" on its side)")
	f.StringVar(&validatorPub, "validator-pubkey", "", "its validator key (hex or base64; from \"credledger show-validator\" on its side)")
	f.Int64Var(&m.Power, "power", 10, "its voting power")
	f.StringSliceVar(&m.Identifiers, "identifier", nil, "a DID or URL its credentials name in their issuer field (repeatable)")
	g.register(cmd)
	return cmd
}

func newProposeRemoveCmd() *cobra.Command {
	var g govFlags
	var id string
	cmd := &cobra.Command{
		Use:   "propose-remove --id ID --from NAME --home DIR",
		Short: "Propose to remove an issuer (and its validator); counts as your yes vote",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := types.ValidateIssuerID(id); err != nil {
				return fmt.Errorf("--id: %w", err)
			}
			return submitGov(cmd, &g, func(b *types.TxBody) {
				b.Msg = &types.TxBody_ProposeRemoval{ProposeRemoval: &types.MsgProposeRemoval{IssuerId: id}}
			})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the issuer to remove")
	g.register(cmd)
	return cmd
}

func newProposeReplaceKeyCmd() *cobra.Command {
	var g govFlags
	var m types.MsgProposeReplaceKey
	var pub string
	cmd := &cobra.Command{
		Use:   "propose-replace-key --id ID --issuer-pubkey HEX --from NAME --home DIR",
		Short: "Propose that the consortium replace an issuer's signing key (a stolen key); counts as your yes vote",
		Long: `Propose to replace issuer ID's tx signing key with the key its owner now holds
(create it on the owner's side with "credledger keys add NEW --issuer ID" and
send its public key). Use it when the key was stolen: a thief that rotated
the key cannot lock the owner out. The other members decide: ID may vote,
but its power is left out of the tally.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if m.NewSigningPubkey, err = keys.ParsePubKey(pub); err != nil {
				return fmt.Errorf("--issuer-pubkey: %w", err)
			}
			if err := m.ValidateBasic(); err != nil {
				return err
			}
			return submitGov(cmd, &g, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeReplaceKey{ProposeReplaceKey: &m} })
		},
	}
	cmd.Flags().StringVar(&m.IssuerId, "id", "", "the issuer whose key is replaced")
	cmd.Flags().StringVar(&pub, "issuer-pubkey", "", "its owner's new tx signing key (hex; from \"credledger keys show NAME\" on the owner's side)")
	g.register(cmd)
	return cmd
}

func newProposeIdentifiersCmd() *cobra.Command {
	var g govFlags
	var m types.MsgProposeIdentifiers
	cmd := &cobra.Command{
		Use:   "propose-identifiers --id ID --identifier DID_OR_URL... --from NAME --home DIR",
		Short: "Propose to set an issuer's identifiers (the DIDs or URLs its credentials name); counts as your yes vote",
		Long: `Propose to set issuer ID's identifiers to exactly the --identifier values given:
the DIDs or URLs that its credentials name in their issuer field, which
verify checks. Identifiers are unique across members, and one an issuer
gives up stays reserved to it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.ValidateBasic(); err != nil {
				return err
			}
			return submitGov(cmd, &g, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeIdentifiers{ProposeIdentifiers: &m} })
		},
	}
	cmd.Flags().StringVar(&m.IssuerId, "id", "", "the issuer whose identifiers are set")
	cmd.Flags().StringSliceVar(&m.Identifiers, "identifier", nil, "a DID or URL (repeatable; the new list replaces the old one)")
	g.register(cmd)
	return cmd
}

func newProposeVoidCmd() *cobra.Command {
	var g govFlags
	var m types.MsgProposeVoid
	cmd := &cobra.Command{
		Use:   "propose-void --id ID --from-height H --from NAME --home DIR",
		Short: "Propose to void every record an issuer made from height H on (a stolen key); counts as your yes vote",
		Long: `Propose that every anchor and status change issuer ID made from height H until
the proposal passes be void: verify then says voided (exit 6) for such an
anchor, and a status change in that range no longer counts (a credential the
thief revoked is valid again). Replace the key first (propose-replace-key),
or in the same block: records made after the void passed count again. The
other members decide: ID may vote, but its power is left out of the tally.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.ValidateBasic(); err != nil {
				return err
			}
			return submitGov(cmd, &g, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeVoid{ProposeVoid: &m} })
		},
	}
	cmd.Flags().StringVar(&m.IssuerId, "id", "", "the issuer whose records are voided")
	cmd.Flags().Int64Var(&m.FromHeight, "from-height", 0, "the first height whose records are void (when the key was stolen)")
	g.register(cmd)
	return cmd
}

func newProposeStatusCmd() *cobra.Command {
	var g govFlags
	var m types.MsgProposeStatus
	var hashHex string
	cmd := &cobra.Command{
		Use:   "propose-status --id ID --hash HEX --status revoked|suspended|reinstated --reason TEXT --from NAME --home DIR",
		Short: "Propose that the consortium revoke or suspend a credential of a removed issuer; counts as your yes vote",
		Long: `A removed issuer can no longer sign, so the consortium changes the status of
one of its credentials by proposal. Verifiers see that the consortium made
the change (status_by_proposal).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := types.ParseHash(hashHex)
			if err != nil {
				return fmt.Errorf("--hash: %w", err)
			}
			m.Hash = h
			params := types.DefaultParams()
			if err := m.ValidateBasic(params); err != nil {
				return err
			}
			return submitGov(cmd, &g, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeStatus{ProposeStatus: &m} })
		},
	}
	cmd.Flags().StringVar(&m.IssuerId, "id", "", "the removed issuer whose credential it is")
	cmd.Flags().StringVar(&hashHex, "hash", "", "the credential hash (64 hex digits)")
	cmd.Flags().StringVar(&m.Status, "status", "", "revoked, suspended or reinstated")
	cmd.Flags().StringVar(&m.Reason, "reason", "", "why (required): recorded with the change")
	g.register(cmd)
	return cmd
}

func newVoteCmd() *cobra.Command {
	var g govFlags
	var id uint64
	var yes, no bool
	cmd := &cobra.Command{
		Use:   "vote --proposal N (--yes|--no) --from NAME --home DIR",
		Short: "Vote on an open proposal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if yes == no {
				return fmt.Errorf("give exactly one of --yes or --no")
			}
			if id == 0 {
				return fmt.Errorf("--proposal is required (see `credledger proposal list`)")
			}
			return submitGov(cmd, &g, func(b *types.TxBody) {
				b.Msg = &types.TxBody_Vote{Vote: &types.MsgVote{ProposalId: id, Yes: yes}}
			})
		},
	}
	cmd.Flags().Uint64Var(&id, "proposal", 0, "proposal id")
	cmd.Flags().BoolVar(&yes, "yes", false, "vote yes")
	cmd.Flags().BoolVar(&no, "no", false, "vote no")
	g.register(cmd)
	return cmd
}

func newRotateKeyCmd() *cobra.Command {
	var g govFlags
	var newName string
	cmd := &cobra.Command{
		Use:   "rotate-key --new-key NAME --from NAME --home DIR",
		Short: "Replace your issuer's signing key with key NEW (create it first with keys add NEW --issuer ID)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if newName == "" {
				return fmt.Errorf("--new-key is required: create it with credledger keys add NEW --issuer ID --home DIR")
			}
			if err := requireHome(g.home); err != nil {
				return err
			}
			newKey, err := keys.Load(g.home, newName)
			if err != nil {
				return err
			}
			old, err := keys.Load(g.home, g.from)
			if err == nil && newKey.Issuer != old.Issuer {
				return fmt.Errorf("key %q signs for issuer %q, but %q is issuer %q's; create the new key with --issuer %s", newName, newKey.Issuer, g.from, old.Issuer, old.Issuer)
			}
			return submitGov(cmd, &g, func(b *types.TxBody) {
				b.Msg = &types.TxBody_RotateKey{RotateKey: &types.MsgRotateKey{NewSigningPubkey: newKey.PublicKey()}}
			})
		},
	}
	cmd.Flags().StringVar(&newName, "new-key", "", "name of the new signing key in HOME/keys")
	g.register(cmd)
	return cmd
}

// govResult is the JSON output of a governance command.
type govResult struct {
	Tx       string        `json:"tx"`
	Height   int64         `json:"height"`
	Proposal *proposalJSON `json:"proposal,omitempty"`
}

func submitGov(cmd *cobra.Command, g *govFlags, msg func(*types.TxBody)) error {
	key, c, err := g.prepare()
	if err != nil {
		return err
	}
	out, err := c.SubmitOne(cmd.Context(), key, msg, g.timeout)
	if err != nil {
		return err
	}
	res := govResult{Tx: fmt.Sprintf("%X", out.TxHash), Height: out.Height}
	if out.Proposal != nil {
		p := newProposalJSON(out.Proposal)
		res.Proposal = &p
	}
	if g.json() {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
	}
	w := cmd.OutOrStdout()
	if res.Proposal == nil {
		fmt.Fprintf(w, "committed at height %d (tx %s); sign later txs with the new key\n", res.Height, res.Tx)
		return nil
	}
	fmt.Fprintf(w, "%s\ncommitted at height %d (tx %s)\n", proposalSummary(res.Proposal), res.Height, res.Tx)
	return nil
}
