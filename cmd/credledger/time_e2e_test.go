package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// After an idle chain restarts, the first block's time is the median of the
// votes of the block before the restart, so a tx submitted now lands in a
// block dated in the past. anchored_time and status_time are the times of
// the headers that committed the records instead, which never precede the
// submission.
func TestCLIRecordTimesAfterIdleRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	n.kill()
	time.Sleep(3 * time.Second) // the chain is down: the next block's time is from before this
	require.NoError(t, n.start(), "restart node")

	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	h := randomHex(t)
	submitted := time.Now()
	anchored := runTxOK(t, bin, append([]string{"anchor", "--hash", h}, from...)...)[0].height
	blockTime := blockTimeAt(t, n, anchored)
	require.True(t, blockTime.Before(submitted), "the scenario needs a block dated before the submission: block %d is at %s, submitted at %s", anchored, blockTime, submitted)

	res := runCLI(t, bin, "status", "--hash", h, "--home", n.home, "--output", "json")
	require.Equal(t, 0, res.code, "%s", res)
	var j statusJSON
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &j))
	require.Equal(t, anchored, j.AnchoredHeight)
	at, err := time.Parse(time.RFC3339Nano, *j.AnchoredTime)
	require.NoError(t, err)
	require.False(t, at.Before(submitted), "anchored_time %s precedes the submission at %s", at, submitted)
	require.Equal(t, blockTimeAt(t, n, anchored+1), at, "anchored_time is the time of the header that committed the anchor")

	revokedAt := time.Now()
	runTxOK(t, bin, append([]string{"revoke", "--hash", h, "--reason", "test"}, from...)...)
	res = runCLI(t, bin, "status", "--hash", h, "--home", n.home, "--output", "json")
	require.Equal(t, 2, res.code, "%s", res)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &j))
	st, err := time.Parse(time.RFC3339Nano, *j.StatusTime)
	require.NoError(t, err)
	require.False(t, st.Before(revokedAt), "status_time %s precedes the revocation at %s", st, revokedAt)
	require.Equal(t, blockTimeAt(t, n, j.StatusHeight+1), st)
}

// blockTimeAt returns the time in the header of block h, from the node.
func blockTimeAt(t *testing.T, n *testNode, h int64) time.Time {
	t.Helper()
	res, err := n.client().RPC().Header(t.Context(), &h)
	require.NoError(t, err)
	return res.Header.Time
}
