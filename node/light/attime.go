package light

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/credledger/credledger/types"
)

// HeightAt returns the newest state height that was committed by time t:
// the largest N whose committing header N+1 has a time at or before t
// (the times a verdict reports records by, see types.Report.AnchorTime).
// It searches the primary's header times (a witness's for headers the
// primary does not keep), which are not trusted, and then
// light-verifies the two headers that decide (N+1 at or before t, N+2
// after it; BFT time only grows), so a lying primary yields an error, not
// another height. If header N+2 is not out yet, N is the latest state the
// primary has.
func (c *Client) HeightAt(ctx context.Context, t time.Time) (int64, error) {
	if c.sess == nil {
		s, err := c.openSession(ctx)
		if err != nil {
			return 0, err
		}
		c.sess = s
	}
	latest, err := c.freshHeight(ctx)
	if err != nil {
		return 0, err
	}
	if latest < 2 {
		return 0, types.Errorf(types.CodeHeightUnavailable, "the chain has no committed state yet (latest block %d)", latest)
	}
	timeOf := func(h int64) (time.Time, error) { return c.headerTime(ctx, h) }
	first, err := timeOf(2)
	if err != nil {
		return 0, err
	}
	if first.After(t) {
		return 0, types.Errorf(types.CodeHeightUnavailable, "%s is before the chain's first state was committed (header 2 at %s)",
			t.UTC().Format(time.RFC3339), first.UTC().Format(time.RFC3339))
	}
	// largest h in [2, latest] with time(h) <= t
	lo, hi := int64(2), latest
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		tm, err := timeOf(mid)
		if err != nil {
			return 0, err
		}
		if tm.After(t) {
			hi = mid - 1
		} else {
			lo = mid
		}
	}
	n := lo - 1
	before, err := c.sess.verifyHeader(ctx, n+1)
	if err != nil {
		return 0, err
	}
	if before.Time.After(t) {
		return 0, fmt.Errorf("%w: primary %s gave header %d a time at or before %s, but its verified time is %s", ErrHeaderTimes, c.primary.url, n+1, t.UTC().Format(time.RFC3339), before.Time.UTC().Format(time.RFC3339Nano))
	}
	if n+2 <= latest {
		after, err := c.sess.verifyHeader(ctx, n+2)
		if err != nil {
			return 0, err
		}
		if !after.Time.After(t) {
			return 0, fmt.Errorf("%w: primary %s gave header %d a time after %s, but its verified time is %s", ErrHeaderTimes, c.primary.url, n+2, t.UTC().Format(time.RFC3339), after.Time.UTC().Format(time.RFC3339Nano))
		}
	}
	return n, nil
}

// headerTime returns the time of header h as the primary says, or as the
// first witness that has it says if the primary does not keep it (a node
// that joined by state sync starts after genesis). Unverified.
func (c *Client) headerTime(ctx context.Context, h int64) (time.Time, error) {
	t, err := c.primary.headerTime(ctx, h)
	if err == nil || !headerNotKept(err) {
		return t, err
	}
	for _, w := range c.witnesses {
		if wt, werr := w.headerTime(ctx, h); werr == nil {
			return wt, nil
		}
	}
	return t, err
}

// headerNotKept reports whether a node's RPC error says it does not keep
// that height (CometBFT: "height H is not available, lowest height is L").
func headerNotKept(err error) bool {
	return strings.Contains(err.Error(), "is not available")
}
