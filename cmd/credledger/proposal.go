package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/client"
)

type voteJSON struct {
	Issuer string `json:"issuer"`
	Yes    bool   `json:"yes"`
	Height int64  `json:"height"`
}

type proposalJSON struct {
	ID            uint64     `json:"id"`
	Action        string     `json:"action"`
	Status        string     `json:"status"`
	Proposer      string     `json:"proposer"`
	CreatedHeight int64      `json:"created_height"`
	ExpiresHeight int64      `json:"expires_height"`
	DecidedHeight int64      `json:"decided_height"`
	YesPower      int64      `json:"yes_power"`
	NoPower       int64      `json:"no_power"`
	TotalPower    int64      `json:"total_power"`
	Votes         []voteJSON `json:"votes"`
}

func newProposalJSON(p *client.ProposalView) proposalJSON {
	j := proposalJSON{
		ID: p.Id, Action: p.Describe(), Status: p.Status.StatusWord(), Proposer: p.Proposer,
		CreatedHeight: p.CreatedHeight, ExpiresHeight: p.ExpiresHeight, DecidedHeight: p.DecidedHeight,
		YesPower: p.Tally.Yes, NoPower: p.Tally.No, TotalPower: p.Tally.Total,
	}
	for _, v := range p.Votes {
		j.Votes = append(j.Votes, voteJSON{Issuer: v.IssuerId, Yes: v.Yes, Height: v.Height})
	}
	return j
}

// proposalSummary says in words where a proposal stands.
func proposalSummary(p *proposalJSON) string {
	switch p.Status {
	case "open":
		return fmt.Sprintf("proposal %d (%s): pending, yes %d / no %d of %d power (passes with yes above 2/3 of the power); open until height %d",
			p.ID, p.Action, p.YesPower, p.NoPower, p.TotalPower, p.ExpiresHeight)
	}
	return fmt.Sprintf("proposal %d (%s): %s at height %d, yes %d / no %d of %d power",
		p.ID, p.Action, p.Status, p.DecidedHeight, p.YesPower, p.NoPower, p.TotalPower)
}

func newProposalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "proposal", Short: "Governance proposals with their tallies"}
	var lf, sf nodeFlags
	list := &cobra.Command{
		Use:   "list [--node URL | --home DIR] [--output json]",
		Short: "List every proposal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := lf.client()
			if err != nil {
				return err
			}
			ps, err := c.Proposals(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]proposalJSON, len(ps))
			for i, p := range ps {
				out[i] = newProposalJSON(p)
			}
			if lf.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			for i := range out {
				fmt.Fprintln(cmd.OutOrStdout(), proposalSummary(&out[i]))
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show N [--node URL | --home DIR] [--output json]",
		Short: "Show one proposal with its votes and tally",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("proposal id %q: want a positive number", args[0])
			}
			c, _, err := sf.client()
			if err != nil {
				return err
			}
			p, err := c.Proposal(cmd.Context(), id, 0)
			if err != nil {
				return err
			}
			j := newProposalJSON(p)
			if sf.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(j)
			}
			fmt.Fprintln(cmd.OutOrStdout(), proposalSummary(&j))
			for _, v := range j.Votes {
				fmt.Fprintf(cmd.OutOrStdout(), "  %s voted %s at height %d\n", v.Issuer, map[bool]string{true: "yes", false: "no"}[v.Yes], v.Height)
			}
			return nil
		},
	}
	lf.register(list, "use the node configured in this home", "")
	sf.register(show, "use the node configured in this home", "")
	cmd.AddCommand(list, show)
	return cmd
}
