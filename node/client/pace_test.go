package client

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPace(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sent     int
		rate     float64
		atLeast  time.Duration
		canceled bool
	}{
		{"no rate", 1000, 0, 0, false},
		{"first batch", 0, 10, 0, false},
		{"100 sent at 1000/s", 100, 1000, 100 * time.Millisecond, false},
		{"behind schedule", 1, 1e9, 0, false},
		{"canceled while waiting", 100, 1, 0, true},
		{"tiny rate waits, not overflows", 100, 1e-300, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.canceled {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			began := time.Now()
			err := pace(ctx, began, tc.sent, tc.rate)
			if tc.canceled {
				require.ErrorIs(t, err, context.Canceled)
				require.Less(t, time.Since(began), 100*time.Second, "returned when canceled, not after the 100 s pace")
				return
			}
			require.NoError(t, err)
			require.GreaterOrEqual(t, time.Since(began), tc.atLeast)
		})
	}
}
