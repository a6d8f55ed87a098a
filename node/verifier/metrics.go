package verifier

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a Server's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	lightSeconds *prometheus.HistogramVec
}

// newMetrics registers the Server's metrics in a new registry; header returns the newest verified header
// (ok false: none yet).
func newMetrics(header func() (height int64, at time.Time, ok bool)) (*metrics, error) {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "credledger", Subsystem: "verifier", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, status code and verdict (empty when the answer is not a verdict).",
		}, []string{"route", "code", "verdict"}),
		lightSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "credledger", Subsystem: "verifier", Name: "light_client_seconds",
			Help:    "Time the light client took to verify (op=verify) or prove (op=prove) an answer, waiting for it excluded, failures included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms to 41 s
		}, []string{"op"}),
	}
	// no Go runtime or process collectors: their package pulls in
	// database/sql, which the verifier side keeps out
	for _, c := range []prometheus.Collector{m.requests, m.lightSeconds, newHeaderCollector(header)} {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// headerCollector reports the newest verified header: its height, and its
// age at the time of the scrape. Both are absent until a header is verified.
type headerCollector struct {
	header      func() (int64, time.Time, bool)
	height, age *prometheus.Desc
}

func newHeaderCollector(header func() (int64, time.Time, bool)) *headerCollector {
	return &headerCollector{
		header: header,
		height: prometheus.NewDesc("credledger_verifier_verified_height",
			"Height of the newest header the light client verified.", nil, nil),
		age: prometheus.NewDesc("credledger_verifier_verified_header_age_seconds",
			"Age, at the time of the scrape, of the newest header the light client verified (from its header time).", nil, nil),
	}
}

// Describe sends the two metrics' descriptions.
func (c *headerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.height
	ch <- c.age
}

// Collect sends the height and age of the newest verified header, if any.
func (c *headerCollector) Collect(ch chan<- prometheus.Metric) {
	height, at, ok := c.header()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.height, prometheus.GaugeValue, float64(height))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(at).Seconds())
}
