package app

import (
	"math/rand/v2"
	"testing"

	"github.com/cosmos/iavl"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/query"
)

// A node that keeps only the newest few state versions still proves every
// past status: for every hash, issuer and height, the record as of that
// height (CredentialResult.AsOf on the latest state of a pruning node)
// says what the state of that very height said on a node that kept every
// version — the same anchor and the same status change in force — except
// where an issuer's bounded history dropped the change in force, which
// AsOf reports as ErrHistoryNotRetained. Both nodes compute the same app
// hash at every height, and the pruning node refuses old versions.
func TestPruningKeepsPastStatusAnswerable(t *testing.T) {
	const keep, blocks, pool = 3, 90, 6
	full := newTestChain(t, NewApplication(keepingStore(0)), 2)
	pruned := newTestChain(t, NewApplication(keepingStore(keep)), 2)
	rng := rand.New(rand.NewPCG(7, 11))
	appHashes := map[int64][]byte{}
	hashes := make([][]byte, pool)
	for i := range hashes {
		hashes[i] = testHash(900 + i)
	}
	msgs := []func(h []byte) any{
		func(h []byte) any { return anchorMsg(h) },
		func(h []byte) any { return suspendMsg("audit", h) },
		func(h []byte) any { return reinstateMsg("cleared", h) },
		func(h []byte) any { return revokeMsg("fraud", h) },
	}
	var okTxs int
	for b := 0; b < blocks; b++ {
		var txs [][]byte
		for _, is := range full.issuers {
			if rng.IntN(3) == 0 {
				continue
			}
			// hash 0 flips between suspended and reinstated, to overflow
			// issuer0's bounded history
			h := hashes[rng.IntN(pool)]
			msg := msgs[rng.IntN(3)](h) // anchor, suspend, reinstate
			if is == full.issuers[0] && b%2 == 1 {
				h = hashes[0]
				msg = msgs[1+(b/2)%2](h)
			}
			if rng.IntN(25) == 0 {
				msg = msgs[3](h)
			}
			tx := full.tx(is, msg)
			if r := full.checkTx(tx); r.Code != 0 {
				is.seq-- // not sent; the sequence is free again
				continue
			}
			txs = append(txs, tx)
		}
		res, hash := full.finalize(txs...)
		_, prunedHash := pruned.finalize(txs...)
		require.Equal(t, hash, prunedHash, "height %d", full.height)
		appHashes[full.height] = hash
		for _, r := range res {
			if r.Code == 0 {
				okTxs++
			}
		}
	}
	latest := full.height
	require.Greater(t, okTxs, blocks/2)

	var compared, notRetained int
	for _, hash := range hashes {
		p := pruned.credential(hash, 0)
		require.Equal(t, latest, p.Height)
		for h := int64(1); h <= latest; h++ {
			now, err := types.VerifyCredential(hash, &p.Answer, p.Proof, appHashes[latest])
			require.NoError(t, err)
			err = now.AsOf(h)
			then := full.credential(hash, h)
			old, verr := types.VerifyCredential(hash, &then.Answer, then.Proof, appHashes[h])
			require.NoError(t, verr)
			if err != nil {
				require.ErrorIs(t, err, types.ErrHistoryNotRetained)
				notRetained++
				continue
			}
			require.Equal(t, old.Issuers(), now.Issuers(), "hash %x at %d", hash[:4], h)
			for i, e := range old.Entries {
				got := now.Entries[i]
				require.Equal(t, e.Anchor, got.Anchor, "anchor of %s's record of %x at %d", e.IssuerId, hash[:4], h)
				require.Equal(t, e.Status, got.Status, "status of %s's record of %x at %d", e.IssuerId, hash[:4], h)
			}
			compared++
		}
	}
	t.Logf("%d txs, %d (hash, height) pairs compared, %d not retained", okTxs, compared, notRetained)
	require.Positive(t, notRetained, "the run never overflowed a history: change the generator")
	require.Greater(t, compared, pool*int(latest)/2)

	// old versions are gone from the pruning node, recent ones are there
	r := pruned.query(query.PathCredential, hashes[0], latest-keep-1)
	require.Equal(t, uint32(types.CodeHeightUnavailable), r.Code, r.Log)
	require.Contains(t, r.Log, "pruned")
	r = pruned.query(query.PathCredential, hashes[0], latest-keep+1)
	require.Zero(t, r.Code, r.Log)
}

// keepingStore returns an in-memory store keeping keep versions (0: all).
func keepingStore(keep int64) *Store {
	return NewMemStore(WithCacheSize(10_000), WithKeepRecent(keep))
}

// The background pruner deletes old versions from the database (not only
// from what readers may ask for): after it has run, a store reopened on the
// same database finds no root of a pruned version.
func TestPrunerDeletesOldVersions(t *testing.T) {
	dir := t.TempDir()
	a, err := NewPersistentApplication(dir, []StoreOption{WithCacheSize(10_000), WithKeepRecent(2)})
	require.NoError(t, err)
	c := newTestChain(t, a, 1)
	for i := range 12 {
		c.commitOK(c.tx(c.issuers[0], anchorMsg(testHashes(100*i, 100)...)))
	}
	require.NoError(t, a.Close()) // waits for the pruner
	s, err := OpenStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	_, err = s.reader.GetImmutable(c.height - 5)
	require.ErrorIs(t, err, iavl.ErrVersionDoesNotExist, "version %d was pruned", c.height-5)
	_, err = s.reader.GetImmutable(c.height - 1)
	require.NoError(t, err, "a kept version")
}
