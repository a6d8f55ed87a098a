package main

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// livenessRounds is how many times TestLivenessValidatorRestart plays the
// reproduction; livenessMaxCommit bounds each tx's commit after the
// restart (the empty-block interval the stall used to wait is 30 s).
const (
	livenessRounds    = 5
	livenessMaxCommit = 15 * time.Second
)

// TestLivenessValidatorRestart plays issue 12's reproduction on the shipped
// block timing (a block per 30 s when idle): validator 3 is down while
// issuer3 anchors through node0, validator 2 is stopped (SIGSTOP), issuer3
// sends its next tx through node0, and validator 3 restarts. Only 0, 1 and
// 3 can make 2/3, so the tx commits only once validator 3 votes. Validator
// 3 used to refuse the tx its peers gossiped while it was catching up (a
// sequence gap in its stale state), then, its mempool empty, wait the
// whole empty-block interval before proposing or voting in round 0: ~39 s.
// Now it holds the tx and the chain commits it within a few rounds.
func TestLivenessValidatorRestart(t *testing.T) {
	tn := startLocalNet(t, netOptions{validators: 4})
	n0, n2, n3 := tn.nodes[0], tn.nodes[2], tn.nodes[3]
	key := n3.loadKey(t, "issuer3")
	t.Cleanup(func() {
		if n2.running() {
			_ = n2.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
	var latencies []time.Duration
	for round := range livenessRounds {
		n3.kill()
		before := n0.submitAnchors(t, key, netRandomHashes(t, 1), 1)

		require.NoError(t, n2.cmd.Process.Signal(syscall.SIGSTOP))
		hashes := netRandomHashes(t, 1)
		sub := netSubmitAsync(t, n0, key, hashes, 1)
		netEventually(t, 20*time.Second, "the tx accepted into node0's mempool", func() error {
			if k, err := n0.mempoolSize(); err != nil || k < 1 {
				return fmt.Errorf("node0 mempool size %d (%v)", k, err)
			}
			return nil
		})

		restarted := time.Now()
		require.NoError(t, n3.start())
		s := netAwait(t, sub, 2*time.Minute)
		latency := time.Since(restarted)
		require.NoError(t, s.err)
		committed := netCommitted(t, s.results, 1)
		latencies = append(latencies, latency)
		t.Logf("liveness round %d: tx committed %.1f s after validator 3 restarted", round+1, latency.Seconds())

		require.NoError(t, n2.cmd.Process.Signal(syscall.SIGCONT))
		var last int64
		for _, h := range committed {
			last = max(last, h)
		}
		tn.waitHeight(t, tn.nodes, last, 60*time.Second)
		netCheckAgree(t, tn.nodes, 1, last)
		n3.checkValid(t, "issuer3", before)
		n3.checkValid(t, "issuer3", committed)
	}
	slices.Sort(latencies)
	t.Logf("liveness: commit after restart over %d rounds: min %.1f s, max %.1f s", len(latencies), latencies[0].Seconds(), latencies[len(latencies)-1].Seconds())
	for i, l := range latencies {
		require.LessOrEqualf(t, l, livenessMaxCommit, "round %d (sorted): the tx waited %.1f s for the restarted validator", i, l.Seconds())
	}
}
