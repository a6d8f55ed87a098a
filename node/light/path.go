package light

import (
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/credledger/credledger/node/bundle"
)

// buildPath returns light blocks from the one at rootHeight through each of
// stops (ascending; duplicates and the root itself are skipped) to the last
// stop, each verifying from the one before with step, chosen among cands
// (sorted by height): the blocks the light client fetched while it verified
// the stops.
func buildPath(cands []*cmttypes.LightBlock, rootHeight int64, stops []int64, step func(trusted, untrusted *cmttypes.LightBlock) error) ([]*cmttypes.LightBlock, error) {
	if len(stops) == 0 {
		return nil, fmt.Errorf("no header to build a path to")
	}
	from := rootHeight
	var path []*cmttypes.LightBlock
	for i, stop := range stops {
		if i > 0 && stop < stops[i-1] {
			return nil, fmt.Errorf("headers %d and %d are out of order", stops[i-1], stop)
		}
		if stop == from && path != nil {
			continue
		}
		seg, err := buildSegment(cands, from, stop, step)
		if err != nil {
			return nil, err
		}
		if path != nil {
			seg = seg[1:]
		}
		path = append(path, seg...)
		from = stop
	}
	return path, nil
}

// buildSegment returns light blocks from the one at rootHeight to the one
// at targetHeight, each verifying from the one before with step, chosen
// among cands. It prefers long jumps and backtracks on dead ends.
func buildSegment(cands []*cmttypes.LightBlock, rootHeight, targetHeight int64, step func(trusted, untrusted *cmttypes.LightBlock) error) ([]*cmttypes.LightBlock, error) {
	var root, target *cmttypes.LightBlock
	for _, lb := range cands {
		switch lb.Height {
		case rootHeight:
			root = lb
		case targetHeight:
			target = lb
		}
	}
	switch {
	case targetHeight < rootHeight:
		return nil, fmt.Errorf("header %d is below the trust root at height %d: a bundle only goes forward from its root", targetHeight, rootHeight)
	case root == nil:
		return nil, fmt.Errorf("the trust root block %d was not fetched", rootHeight)
	case targetHeight == rootHeight:
		return []*cmttypes.LightBlock{root}, nil
	case target == nil:
		return nil, fmt.Errorf("header %d was not fetched", targetHeight)
	}
	dead := map[int64]bool{}
	var from func(cur *cmttypes.LightBlock) []*cmttypes.LightBlock
	from = func(cur *cmttypes.LightBlock) []*cmttypes.LightBlock {
		if step(cur, target) == nil {
			return []*cmttypes.LightBlock{cur, target}
		}
		for i := len(cands) - 1; i >= 0; i-- {
			next := cands[i]
			if next.Height <= cur.Height || next.Height >= targetHeight || dead[next.Height] || step(cur, next) != nil {
				continue
			}
			if rest := from(next); rest != nil {
				return append([]*cmttypes.LightBlock{cur}, rest...)
			}
		}
		dead[cur.Height] = true
		return nil
	}
	path := from(root)
	if path == nil {
		return nil, fmt.Errorf("%w: no chain of verifiable headers from %d to %d among the %d fetched", bundle.ErrHeaderNotVerified, rootHeight, targetHeight, len(cands))
	}
	return path, nil
}
