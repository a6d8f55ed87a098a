package app

import (
	"strconv"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
)

func TestCredentialEvents(t *testing.T) {
	c := newTestChain(t, nil, 1)
	is := c.issuers[0]
	h1, h2, h3 := testHash(1), testHash(2), testHash(3)
	for _, tc := range []struct {
		name   string
		tx     []byte
		action string
		hashes [][]byte
	}{
		{"anchor", c.tx(is, anchorMsg(h1, h2, h3)), "anchor", [][]byte{h1, h2, h3}},
		{"suspend", c.tx(is, suspendMsg("audit", h2)), "suspend", [][]byte{h2}},
		{"reinstate", c.tx(is, reinstateMsg("ok", h2)), "reinstate", [][]byte{h2}},
		{"revoke", c.tx(is, revokeMsg("fraud", h1, h3)), "revoke", [][]byte{h1, h3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := c.finalize(tc.tx)
			require.Zero(t, res[0].Code, res[0].Log)
			want := []abci.EventAttribute{
				{Key: AttrIssuer, Value: is.id, Index: true},
				{Key: AttrCredentials, Value: strconv.Itoa(len(tc.hashes))},
			}
			require.Equal(t, []abci.Event{{Type: tc.action, Attributes: want}}, res[0].Events)
		})
	}
}
