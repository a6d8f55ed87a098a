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
		target  int64
		wantLen int // 0: error
	}{
		{"the bundle's own blocks", b.LightBlocks, targetH, len(b.LightBlocks)},
		{"root only", b.LightBlocks[:1], rootH, 1},
		{"no intermediate set", []*cmttypes.LightBlock{b.LightBlocks[0], b.LightBlocks[len(b.LightBlocks)-1]}, targetH, 0},
		{"target below the root", b.LightBlocks, rootH - 1, 0},
		{"no root", b.LightBlocks[1:], targetH, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := buildPath(tc.cands, rootH, tc.target, step)
			if tc.wantLen == 0 {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Len(t, path, tc.wantLen)
		})
	}
}
