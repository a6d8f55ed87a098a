package node

import (
	"errors"
	"fmt"

	"github.com/go-kit/kit/metrics/prometheus"
	stdprometheus "github.com/prometheus/client_golang/prometheus"

	"github.com/credledger/credledger/app"
	"github.com/credledger/credledger/types"
)

// PrometheusAppMetrics returns the app's metrics (app.Metrics) backed by
// Prometheus collectors registered on reg. A node passes
// stdprometheus.DefaultRegisterer, whose registry CometBFT serves on
// instrumentation.prometheus_listen_addr next to its own metrics. A
// collector that reg already holds (another node of this process, or an
// earlier call) is reused rather than registered again, so several nodes
// in one process share the series instead of panicking; any other
// registration error is returned. The labelled series of a known value
// (status, issuer state) and the unlabelled ones start at 0, so they
// appear before the first event.
func PrometheusAppMetrics(reg stdprometheus.Registerer) (*app.Metrics, error) {
	anchored, err := registerVec(reg, stdprometheus.NewCounterVec(stdprometheus.CounterOpts{
		Namespace: app.MetricsNamespace,
		Name:      app.MetricAnchoredCredentials,
		Help:      "Credentials anchored in committed blocks (one per hash).",
	}, nil))
	if err != nil {
		return nil, err
	}
	changes, err := registerVec(reg, stdprometheus.NewCounterVec(stdprometheus.CounterOpts{
		Namespace: app.MetricsNamespace,
		Name:      app.MetricStatusChanges,
		Help:      "Status changes issuers made in committed blocks (one per hash), by new status: revoked, suspended or reinstated.",
	}, []string{app.LabelStatus}))
	if err != nil {
		return nil, err
	}
	rejected, err := registerVec(reg, stdprometheus.NewCounterVec(stdprometheus.CounterOpts{
		Namespace: app.MetricsNamespace,
		Name:      app.MetricRejectedTxs,
		Help:      "Txs rejected by CheckTx (new txs, not rechecks) and failing txs of committed blocks, by numeric ABCI code (types/codes.go).",
	}, []string{app.LabelCode}))
	if err != nil {
		return nil, err
	}
	issuers, err := registerVec(reg, stdprometheus.NewGaugeVec(stdprometheus.GaugeOpts{
		Namespace: app.MetricsNamespace,
		Name:      app.MetricIssuers,
		Help:      "Issuers of the consortium in the committed state, by state: active or removed.",
	}, []string{app.LabelState}))
	if err != nil {
		return nil, err
	}
	open, err := registerVec(reg, stdprometheus.NewGaugeVec(stdprometheus.GaugeOpts{
		Namespace: app.MetricsNamespace,
		Name:      app.MetricOpenProposals,
		Help:      "Open governance proposals in the committed state.",
	}, nil))
	if err != nil {
		return nil, err
	}
	anchored.WithLabelValues()
	for _, s := range []types.CredentialStatus{
		types.CredentialStatus_CREDENTIAL_STATUS_REVOKED,
		types.CredentialStatus_CREDENTIAL_STATUS_SUSPENDED,
		types.CredentialStatus_CREDENTIAL_STATUS_REINSTATED,
	} {
		changes.WithLabelValues(s.StatusWord())
	}
	for _, s := range []types.IssuerStatus{types.IssuerStatus_ISSUER_STATUS_ACTIVE, types.IssuerStatus_ISSUER_STATUS_REMOVED} {
		issuers.WithLabelValues(s.StatusWord())
	}
	open.WithLabelValues()
	return &app.Metrics{
		AnchoredCredentials: prometheus.NewCounter(anchored),
		StatusChanges:       prometheus.NewCounter(changes),
		RejectedTxs:         prometheus.NewCounter(rejected),
		Issuers:             prometheus.NewGauge(issuers),
		OpenProposals:       prometheus.NewGauge(open),
	}, nil
}

// registerVec registers c on reg and returns it, or returns the equal
// collector reg already holds.
func registerVec[C stdprometheus.Collector](reg stdprometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are stdprometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &are):
		existing, ok := are.ExistingCollector.(C)
		if !ok {
			return c, fmt.Errorf("register metric: another kind of collector (%T) is registered under the same name", are.ExistingCollector)
		}
		return existing, nil
	}
	return c, fmt.Errorf("register metric: %w", err)
}
