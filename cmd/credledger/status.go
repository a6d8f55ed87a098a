package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/types"
)

func newStatusCmd() *cobra.Command {
	var f nodeFlags
	var hashHex, issuer string
	var raw bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status (FILE | --hash HEX) [--node URL | --home DIR]",
		Short: "Check a credential with a Merkle proof against the node's header",
		Long: `Query a credential with proofs, fetch the header that commits to that state
from the same node, check the proofs against its app hash and print the verdict.
A JSON credential's issuer field and validity dates are checked too (see
verify). Exit codes: 0 valid, 2 revoked, 3 suspended, 4 not anchored,
5 issuer mismatch, 6 voided, 7 expired or not yet valid, 1 error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := oneTarget(args, hashHex, raw, issuer)
			if err != nil {
				return err
			}
			c, _, err := f.client()
			if err != nil {
				return err
			}
			rep, err := c.CredentialStatus(cmd.Context(), target.hash, wait)
			if err != nil {
				return err
			}
			if err := rep.ApplyClaims(target.claims); err != nil {
				return err
			}
			if err := printStatus(cmd, rep, target.file, f.output); err != nil {
				return err
			}
			if code := rep.Verdict.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f.register(cmd, "use the node configured in this home", "")
	cmd.Flags().StringVar(&hashHex, "hash", "", "credential hash as 64 hex digits")
	cmd.Flags().BoolVar(&raw, "raw", false, rawUsage)
	cmd.Flags().StringVar(&issuer, "issuer", "", issuerUsage)
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Second, "how long to wait for the header that proves the latest state")
	return cmd
}

// statusJSON is the JSON contract of status; verify adds to it (verifyJSON).
type statusJSON struct {
	Hash    string `json:"hash"`
	File    string `json:"file,omitempty"`
	Verdict string `json:"verdict"`
	Issuer  string `json:"issuer"`
	Height  int64  `json:"height"`
	// AtHeight is the past state height the verdict is about (verify
	// --at-height/--at-time), proven from the records of state Height;
	// AtTime is when it was committed (the time of header at_height+1).
	// Both are absent for a verdict about state Height itself.
	AtHeight       int64   `json:"at_height,omitempty"`
	AtTime         *string `json:"at_time,omitempty"`
	AnchoredHeight int64   `json:"anchored_height"`
	// AnchoredTime is when the anchor was committed: the time of header
	// anchored_height+1 (types.CredentialResult.CommitHeaders).
	AnchoredTime *string `json:"anchored_time"`
	Reason       string  `json:"reason"`
	StatusIssuer string  `json:"status_issuer,omitempty"`
	StatusHeight int64   `json:"status_height,omitempty"`
	// StatusTime is when the status change was committed: the time of
	// header status_height+1.
	StatusTime   *string `json:"status_time,omitempty"`
	ChainID      string  `json:"chain_id"`
	HeaderHeight int64   `json:"header_height"`
	HeaderTime   string  `json:"header_time"`
	AppHash      string  `json:"app_hash"`
	// Issuers are the ids of every issuer with a record of the hash; the
	// verdict is about Issuer's.
	Issuers []string `json:"issuers"`
	// IssuerIdentifiers are the identifiers of the issuer the verdict
	// names (null when its record was not read).
	IssuerIdentifiers []string `json:"issuer_identifiers"`
	// NamedIssuer is the issuer the credential names (its issuer field, or
	// --issuer); ValidFrom and ValidUntil its validity period.
	NamedIssuer string `json:"named_issuer,omitempty"`
	// StatusByProposal is the proposal by which the consortium made the
	// status change (0: the issuer made it).
	StatusByProposal uint64 `json:"status_by_proposal,omitempty"`
	// VoidedByProposal and VoidedFromHeight name the consortium's void of
	// the issuer's records that changed the verdict.
	VoidedByProposal uint64  `json:"voided_by_proposal,omitempty"`
	VoidedFromHeight int64   `json:"voided_from_height,omitempty"`
	ValidFrom        *string `json:"valid_from,omitempty"`
	ValidUntil       *string `json:"valid_until,omitempty"`
}

// timeString formats t for the JSON output (RFC 3339, UTC).
func timeString(t time.Time) *string {
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func newStatusJSON(rep *types.Report, file string) statusJSON {
	j := statusJSON{
		Hash: hex.EncodeToString(rep.Hash), File: file, Verdict: string(rep.Verdict), Issuer: rep.Issuer(),
		Height: rep.Height, ChainID: rep.ChainID, HeaderHeight: rep.HeaderHeight,
		HeaderTime: rep.HeaderTime.UTC().Format(time.RFC3339Nano), AppHash: hex.EncodeToString(rep.AppHash),
	}
	if rep.AsOfHeight > 0 {
		j.AtHeight, j.AtTime = rep.AsOfHeight, timeString(rep.AsOfTime)
	}
	if a := rep.Anchor; a != nil {
		j.AnchoredHeight, j.AnchoredTime = a.Height, timeString(rep.AnchorTime)
	}
	if s := rep.Status; s != nil {
		j.Reason, j.StatusIssuer, j.StatusHeight, j.StatusTime = s.Reason, s.IssuerId, s.Height, timeString(rep.StatusTime)
	}
	j.Issuers = rep.Issuers()
	if rep.Status != nil {
		j.StatusByProposal = rep.Status.ProposalId
	}
	if v := rep.Void; v != nil {
		j.VoidedByProposal, j.VoidedFromHeight = v.ProposalId, v.FromHeight
	}
	if is := rep.IssuerRecord; is != nil {
		j.IssuerIdentifiers = append([]string{}, is.Identifiers...)
	}
	j.NamedIssuer = rep.Claims.Issuer
	if !rep.Claims.ValidFrom.IsZero() {
		j.ValidFrom = timeString(rep.Claims.ValidFrom)
	}
	if !rep.Claims.ValidUntil.IsZero() {
		j.ValidUntil = timeString(rep.Claims.ValidUntil)
	}
	return j
}

func printStatus(cmd *cobra.Command, rep *types.Report, file, output string) error {
	j := newStatusJSON(rep, file)
	if output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(j)
	}
	w := cmd.OutOrStdout()
	name := j.Hash
	if file != "" {
		name += "  " + file
	}
	fmt.Fprintf(w, "%s\nverdict:  %s\n", name, j.Verdict)
	if j.AtTime != nil {
		fmt.Fprintf(w, "at:       state %d, committed by %s (what the records of state %d say about then)\n", j.AtHeight, *j.AtTime, j.Height)
	}
	if len(j.Issuers) > 1 {
		fmt.Fprintf(w, "records:  issuers %s each have their own record; the verdict is about %s's\n", strings.Join(j.Issuers, ", "), j.Issuer)
	}
	if rep.Anchor != nil {
		fmt.Fprintf(w, "anchored: by %s at height %d (%s)\n", rep.Anchor.IssuerId, j.AnchoredHeight, *j.AnchoredTime)
	}
	if rep.Status != nil {
		by := j.StatusIssuer
		if j.StatusByProposal != 0 {
			by = fmt.Sprintf("the consortium (proposal %d) for %s", j.StatusByProposal, j.StatusIssuer)
		}
		fmt.Fprintf(w, "status:   %s by %s at height %d (%s), reason: %q\n",
			rep.Status.Status.StatusWord(), by, j.StatusHeight, *j.StatusTime, j.Reason)
	}
	if v := rep.Void; v != nil {
		fmt.Fprintf(w, "voided:   the consortium voided %s's records from height %d to %d (proposal %d)\n", rep.Issuer(), v.FromHeight, v.Height, v.ProposalId)
	}
	if j.NamedIssuer != "" {
		how := "matches"
		if rep.Verdict == types.VerdictIssuerMismatch {
			how = "is not"
		}
		fmt.Fprintf(w, "names:    issuer %s, which %s %s (identifiers: %s)\n", j.NamedIssuer, how, rep.Issuer(), strings.Join(j.IssuerIdentifiers, ", "))
	}
	if j.ValidFrom != nil || j.ValidUntil != nil {
		fmt.Fprintf(w, "validity: from %s until %s\n", orDash(j.ValidFrom), orDash(j.ValidUntil))
	}
	fmt.Fprintf(w, "proof:    checked against app hash %s of header %d (chain %s, %s)\n", j.AppHash, j.HeaderHeight, j.ChainID, j.HeaderTime)
	return nil
}

// orDash returns *s, or "-" for nil.
func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
