package app

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// /anchored_by answers, for up to a thousand hashes in one query, whether
// the issuer's own entry of each has an anchor: another issuer's anchor of
// the same hash does not count, and bad requests are refused with
// CodeBadQuery.
func TestQueryAnchoredBy(t *testing.T) {
	c := newTestChain(t, NewInMemoryApplication(), 2)
	a, b := c.issuers[0], c.issuers[1]
	mine, theirs, both, none := testHash(9001), testHash(9002), testHash(9003), testHash(9004)
	res0, _ := c.finalize(c.tx(a, anchorMsg(mine, both)), c.tx(b, anchorMsg(theirs, both)))
	for _, r := range res0 {
		require.Zero(t, r.Code, r.Log)
	}

	res := c.query(query.PathAnchoredBy, query.EncodeAnchoredByRequest(a.id, [][]byte{mine, theirs, both, none}), 0)
	require.Zero(t, res.Code, res.Log)
	require.Equal(t, []byte{1, 0, 1, 0}, res.Value)
	require.Equal(t, c.app.Store().Height(), res.Height)
	res = c.query(query.PathAnchoredBy, query.EncodeAnchoredByRequest(b.id, [][]byte{mine, theirs, both, none}), 0)
	require.Zero(t, res.Code, res.Log)
	require.Equal(t, []byte{0, 1, 1, 0}, res.Value)

	many := testHashes(20_000, query.MaxAnchoredByHashes)
	res = c.query(query.PathAnchoredBy, query.EncodeAnchoredByRequest(a.id, many), 0)
	require.Zero(t, res.Code, res.Log)
	require.Equal(t, make([]byte, query.MaxAnchoredByHashes), res.Value)

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"issuer longer than the data", []byte{20, 'a'}},
		{"bad issuer id", query.EncodeAnchoredByRequest("Not An Id!", [][]byte{mine})},
		{"no hashes", query.EncodeAnchoredByRequest(a.id, nil)},
		{"a short hash", append(query.EncodeAnchoredByRequest(a.id, [][]byte{mine}), 1, 2, 3)},
		{"too many hashes", query.EncodeAnchoredByRequest(a.id, testHashes(30_000, query.MaxAnchoredByHashes+1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.query(query.PathAnchoredBy, tc.data, 0)
			require.Equal(t, uint32(types.CodeBadQuery), res.Code, res.Log)
		})
	}
}

// FuzzDecodeAnchoredByRequest: any bytes decode or are refused; what
// decodes encodes back to the same bytes.
func FuzzDecodeAnchoredByRequest(f *testing.F) {
	f.Add(query.EncodeAnchoredByRequest("issuer0", [][]byte{testHash(1), testHash(2)}))
	f.Add([]byte{})
	f.Add([]byte{7, 'i', 's', 's', 'u', 'e', 'r'})
	f.Fuzz(func(t *testing.T, bz []byte) {
		issuer, hashes, err := query.DecodeAnchoredByRequest(bz)
		if err != nil {
			require.Equal(t, types.CodeBadQuery, types.CodeOf(err))
			return
		}
		require.NotEmpty(t, hashes)
		require.LessOrEqual(t, len(hashes), query.MaxAnchoredByHashes)
		require.True(t, bytes.Equal(bz, query.EncodeAnchoredByRequest(issuer, hashes)))
	})
}

// /pending_sequence counts the issuer's txs CheckTx accepted into the
// mempool; /sequence only the committed ones.
func TestQueryPendingSequence(t *testing.T) {
	c := newTestChain(t, NewInMemoryApplication(), 2)
	c.finalize() // a committed state to query
	a := c.issuers[0]
	seqOf := func(path string) uint64 {
		t.Helper()
		res := c.query(path, []byte(a.id), 0)
		require.Zero(t, res.Code, res.Log)
		seq, err := types.DecodeSequence(res.Value)
		require.NoError(t, err)
		return seq
	}
	committed := seqOf(query.PathSequence)
	require.Equal(t, committed, seqOf(query.PathPendingSequence))
	tx1, tx2 := c.tx(a, anchorMsg(testHash(9101))), c.tx(a, anchorMsg(testHash(9102)))
	for _, tx := range [][]byte{tx1, tx2} {
		require.Zero(t, c.checkTx(tx).Code)
	}
	require.Equal(t, committed, seqOf(query.PathSequence))
	require.Equal(t, committed+2, seqOf(query.PathPendingSequence))
	res, _ := c.finalize(tx1, tx2)
	for _, r := range res {
		require.Zero(t, r.Code, r.Log)
	}
	require.Equal(t, committed+2, seqOf(query.PathSequence))
	require.Equal(t, committed+2, seqOf(query.PathPendingSequence))

	bad := c.query(query.PathPendingSequence, []byte(a.id), 1)
	require.Equal(t, uint32(types.CodeBadQuery), bad.Code, bad.Log)
	bad = c.query(query.PathPendingSequence, []byte("No Such Id!"), 0)
	require.Equal(t, uint32(types.CodeBadQuery), bad.Code, bad.Log)
}
