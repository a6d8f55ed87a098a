package light

import (
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/bundle"
)

func TestBuildPath(t *testing.T) {
	b, err := bundle.Load(goldenBundle)
	require.NoError(t, err)
	now := time.Now()
	step := func(a, c *cmttypes.LightBlock) error {
		return bundle.VerifyStep(a, c, bundle.DefaultTrustingPeriod, now)
	}
	rootH, targetH := b.LightBlocks[0].Height, b.HeaderHeight()
	for _, tc := range []struct {
		name    string
		cands   []*cmttypes.LightBlock
		stops   []int64
		wantLen int // 0: error
	}{
		// root, the header of the intermediate set, target: the headers
		// that date the records are skipped unless they are stops
		{"to the target", b.LightBlocks, []int64{targetH}, 3},
		{"root only", b.LightBlocks[:1], []int64{rootH}, 1},
		{"no intermediate set", []*cmttypes.LightBlock{b.LightBlocks[0], b.LightBlocks[len(b.LightBlocks)-1]}, []int64{targetH}, 0},
		{"target below the root", b.LightBlocks, []int64{rootH - 1}, 0},
		{"no root", b.LightBlocks[1:], []int64{targetH}, 0},
		{"through every block", b.LightBlocks, heights(b.LightBlocks), len(b.LightBlocks)},
		{"through the root and a repeated stop", b.LightBlocks, []int64{rootH, targetH, targetH}, 3},
		{"a stop that was not fetched", b.LightBlocks, []int64{targetH - 1, targetH}, 0},
		{"stops out of order", b.LightBlocks, []int64{targetH, b.LightBlocks[1].Height}, 0},
		{"no stops", b.LightBlocks, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := buildPath(tc.cands, rootH, tc.stops, step)
			if tc.wantLen == 0 {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Len(t, path, tc.wantLen)
		})
	}
}

func heights(lbs []*cmttypes.LightBlock) []int64 {
	out := make([]int64, len(lbs))
	for i, lb := range lbs {
		out[i] = lb.Height
	}
	return out
}
