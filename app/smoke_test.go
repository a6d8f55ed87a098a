package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

func TestLifecycleVerdicts(t *testing.T) {
	c := newTestChain(t, nil, 2)
	a := c.issuers[0]
	h1, h2, h3 := testHash(1), testHash(2), testHash(3)
	c.finalize()
	require.Equal(t, types.VerdictNotAnchored, c.verdict(h1).Verdict)

	res, _ := c.finalize(c.tx(a, anchorMsg(h1, h2)))
	require.Zero(t, res[0].Code, res[0].Log)
	require.Equal(t, types.VerdictValid, c.verdict(h1).Verdict)
	require.Equal(t, "issuer0", c.verdict(h1).Issuer())

	res, _ = c.finalize(c.tx(a, revokeMsg("fraud", h1)), c.tx(a, suspendMsg("audit", h2)), c.tx(c.issuers[1], revokeMsg("off-ledger", h3)))
	for _, r := range res {
		require.Zero(t, r.Code, r.Log)
	}
	require.Equal(t, types.VerdictRevoked, c.verdict(h1).Verdict)
	require.Equal(t, "fraud", c.verdict(h1).Status.Reason)
	require.Equal(t, types.VerdictSuspended, c.verdict(h2).Verdict)
	require.Equal(t, types.VerdictRevoked, c.verdict(h3).Verdict)
	require.Equal(t, "issuer1", c.verdict(h3).Issuer())

	res, _ = c.finalize(c.tx(a, reinstateMsg("cleared", h2)))
	require.Zero(t, res[0].Code, res[0].Log)
	require.Equal(t, types.VerdictValid, c.verdict(h2).Verdict)
}
