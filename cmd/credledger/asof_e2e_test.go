package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// verify --at-height and --at-time answer about a past state from the
// latest state's records (nodes prune old states), and a bundle about a
// past state passes only when that state is asked about: a bundle from
// before a revocation cannot be passed off as a current verdict.
func TestCLIVerifyPastStates(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	genesis := filepath.Join(n.home, "config", "genesis.json")
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	h := randomHex(t)
	anchored := runTxOK(t, bin, append([]string{"anchor", "--hash", h}, from...)...)[0].height
	revoked := runTxOK(t, bin, append([]string{"revoke", "--hash", h, "--reason", "fraud"}, from...)...)[0].height
	online := []string{"--hash", h, "--node", n.url, "--witness", n.url, "--genesis", genesis, "--light-home", filepath.Join(dir, "light")}

	verifyJSON := func(t *testing.T, wantCode int, args ...string) map[string]any {
		t.Helper()
		res := runCLI(t, bin, append(append([]string{"verify"}, args...), "--output", "json")...)
		require.Equal(t, wantCode, res.code, "%s", res)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), "%s", res)
		return out
	}

	var anchoredAt string
	t.Run("at the anchor: valid then, proven from the latest state", func(t *testing.T) {
		out := verifyJSON(t, 0, append(online, "--at-height", fmt.Sprint(anchored))...)
		require.Equal(t, "valid", out["verdict"])
		require.Equal(t, float64(anchored), out["at_height"])
		require.GreaterOrEqual(t, out["height"], float64(revoked), "the proof is of a state with the revocation in it")
		anchoredAt = out["at_time"].(string)
		require.NotEmpty(t, anchoredAt)
		require.Equal(t, out["anchored_time"], out["at_time"], "state %d was committed by the header that dates the anchor", anchored)
	})
	t.Run("before the anchor", func(t *testing.T) {
		out := verifyJSON(t, 4, append(online, "--at-height", fmt.Sprint(anchored-1))...)
		require.Equal(t, "not_anchored", out["verdict"])
	})
	t.Run("now", func(t *testing.T) {
		out := verifyJSON(t, 2, online...)
		require.Equal(t, "revoked", out["verdict"])
		require.NotContains(t, out, "at_height")
	})
	t.Run("at a time", func(t *testing.T) {
		out := verifyJSON(t, 0, append(online, "--at-time", anchoredAt)...)
		require.Equal(t, float64(anchored), out["at_height"])
		require.Equal(t, "valid", out["verdict"])
		res := runCLI(t, bin, append(append([]string{"verify"}, online...), "--at-time", anchoredAt)...)
		require.Equal(t, 0, res.code, "%s", res)
		require.Contains(t, res.stdout, fmt.Sprintf("at:       state %d, committed by %s", anchored, anchoredAt))
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"before the chain", []string{"--at-time", "2001-01-01T00:00:00Z"}, "before the chain's first state was committed"},
		{"not a time", []string{"--at-time", "yesterday"}, "want an RFC 3339 time"},
		{"both", []string{"--at-time", "2001-01-01T00:00:00Z", "--at-height", "3"}, "not both"},
		{"beyond the chain", []string{"--at-height", "99999999"}, "above the latest state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, bin, append(append([]string{"verify"}, online...), tc.args...)...)
			require.Equal(t, 1, res.code, "%s", res)
			require.Empty(t, res.stdout)
			require.Contains(t, res.stderr, tc.want)
		})
	}

	t.Run("a bundle about the past", func(t *testing.T) {
		out := filepath.Join(dir, "past.json")
		res := runCLI(t, bin, append(append([]string{"prove"}, online[:len(online)-2]...), "--at-height", fmt.Sprint(anchored), "-o", out, "--output", "json")...)
		require.Equal(t, 0, res.code, "%s", res)
		var j map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &j))
		require.Equal(t, float64(anchored), j["at_height"])
		// handed over as if current: refused
		res = runCLI(t, bin, "verify", "--bundle", out, "--genesis", genesis)
		require.Equal(t, 1, res.code, "%s", res)
		require.Empty(t, res.stdout)
		require.Contains(t, res.stderr, fmt.Sprintf("the bundle is about past state %d", anchored))
		require.Contains(t, res.stderr, fmt.Sprintf("--at-height %d", anchored))
		// asked about that state: the verdict about then
		got := verifyJSON(t, 0, "--bundle", out, "--genesis", genesis, "--at-height", fmt.Sprint(anchored))
		require.Equal(t, "valid", got["verdict"])
		require.Equal(t, float64(anchored), got["at_height"])
		res = runCLI(t, bin, "verify", "--bundle", out, "--genesis", genesis, "--at-height", fmt.Sprint(anchored+1))
		require.Equal(t, 1, res.code, "%s", res)
		require.Contains(t, res.stderr, fmt.Sprintf("the bundle is about state %d, not %d", anchored, anchored+1))
	})
}
