package app

import (
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"

	"github.com/credledger/credledger/types"
)

// MetricsNamespace is the Prometheus namespace of the app's metrics.
const MetricsNamespace = "credledger"

// Metric names (without the namespace) and label names. The full names are
// MetricsNamespace + "_" + name, e.g. credledger_anchored_credentials_total.
const (
	MetricAnchoredCredentials = "anchored_credentials_total"
	MetricStatusChanges       = "status_changes_total"
	MetricRejectedTxs         = "rejected_txs_total"
	MetricIssuers             = "issuers"
	MetricOpenProposals       = "open_proposals"

	// LabelStatus is the label of MetricStatusChanges: "revoked",
	// "suspended" or "reinstated".
	LabelStatus = "status"
	// LabelCode is the label of MetricRejectedTxs: the numeric ABCI code
	// of types/codes.go in decimal ("13" is types.CodeAlreadyAnchored).
	LabelCode = "code"
	// LabelState is the label of MetricIssuers: "active" or "removed".
	LabelState = "state"
)

// Metrics are the app's metrics, in the style of CometBFT's own
// (mempool.Metrics and friends): go-kit interfaces that node/ backs with
// Prometheus collectors. They are observations only: they never touch
// state or the app hash, are updated after Commit (from the committed
// block) and by CheckTx of new txs, and are safe for concurrent use as
// far as the implementations are (go-kit's are).
type Metrics struct {
	// AnchoredCredentials counts the credentials anchored in committed
	// blocks (one per hash of every successful anchor tx).
	AnchoredCredentials metrics.Counter
	// StatusChanges counts the status changes issuers made in committed
	// blocks, one per hash, labelled LabelStatus. Status changes made by
	// a passing consortium proposal are not counted.
	StatusChanges metrics.Counter
	// RejectedTxs counts txs rejected by CheckTx of a new tx (rechecks
	// are not counted) and failing txs of committed blocks, labelled
	// LabelCode.
	RejectedTxs metrics.Counter
	// Issuers is the number of issuer records in the committed state,
	// labelled LabelState.
	Issuers metrics.Gauge
	// OpenProposals is the number of open governance proposals in the
	// committed state.
	OpenProposals metrics.Gauge
}

// NopMetrics returns metrics that discard everything (the default).
func NopMetrics() *Metrics {
	return &Metrics{
		AnchoredCredentials: discard.NewCounter(),
		StatusChanges:       discard.NewCounter(),
		RejectedTxs:         discard.NewCounter(),
		Issuers:             discard.NewGauge(),
		OpenProposals:       discard.NewGauge(),
	}
}

// statusOfAction maps the event type of an issuer's status change tx to
// the status it sets.
var statusOfAction = map[string]types.CredentialStatus{
	types.ActionRevoke:    types.CredentialStatus_CREDENTIAL_STATUS_REVOKED,
	types.ActionSuspend:   types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED,
	types.ActionReinstate: types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED,
}

// observeRejection counts a rejected tx with code.
func (m *Metrics) observeRejection(code uint32) {
	m.RejectedTxs.With(LabelCode, strconv.FormatUint(uint64(code), 10)).Add(1)
}

// observeBlock counts the anchors, status changes and failing txs of a
// committed block's results, from their events (AttrCredentials).
func (m *Metrics) observeBlock(results []*abci.ExecTxResult) {
	var anchored int
	changes := make(map[types.CredentialStatus]int, len(statusOfAction))
	for _, r := range results {
		if r.Code != uint32(types.CodeOK) {
			m.observeRejection(r.Code)
			continue
		}
		for _, ev := range r.Events {
			if ev.Type == types.ActionAnchor {
				anchored += countCredentials(ev)
			} else if to, ok := statusOfAction[ev.Type]; ok {
				changes[to] += countCredentials(ev)
			}
		}
	}
	if anchored > 0 {
		m.AnchoredCredentials.Add(float64(anchored))
	}
	for _, to := range []types.CredentialStatus{
		types.CredentialStatus_CREDENTIAL_STATUS_REVOKED,
		types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED,
		types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED,
	} {
		if n := changes[to]; n > 0 {
			m.StatusChanges.With(LabelStatus, to.StatusWord()).Add(float64(n))
		}
	}
}

// countCredentials returns an event's AttrCredentials (0 if absent: the
// app writes it on every credential event).
func countCredentials(ev abci.Event) int {
	for _, a := range ev.Attributes {
		if a.Key == AttrCredentials {
			n, err := strconv.Atoi(a.Value)
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// observeState sets the gauges from the committed state r: the issuer
// records (by status) and the open-proposal list.
func (m *Metrics) observeState(r reader) error {
	issuers, err := allIssuers(r)
	if err != nil {
		return err
	}
	count := map[string]int{"active": 0, "removed": 0}
	for _, is := range issuers {
		count[is.Status.StatusWord()]++
	}
	open, err := getOpenProposals(r)
	if err != nil {
		return err
	}
	for _, state := range []string{"active", "removed"} {
		m.Issuers.With(LabelState, state).Set(float64(count[state]))
	}
	m.OpenProposals.Set(float64(len(open)))
	return nil
}
