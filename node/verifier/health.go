package verifier

import (
	"context"
	"time"

	"github.com/credledger/credledger/types"
)

// HealthJSON is the answer of /healthz.
type HealthJSON struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Error says why the status is unavailable.
	Error   string `json:"error,omitempty"`
	ChainID string `json:"chain_id,omitempty"`
	// GenesisSHA256 is the fingerprint of the trusted genesis, if known
	// (WithGenesisSHA256).
	GenesisSHA256 string `json:"genesis_sha256,omitempty"`
	// Height is the state height the newest verified header proves, and
	// HeaderHeight and HeaderTime that header's (absent before one is
	// verified).
	Height       int64  `json:"height,omitempty"`
	HeaderHeight int64  `json:"header_height,omitempty"`
	HeaderTime   string `json:"header_time,omitempty"`
	AgeSeconds   int64  `json:"age_seconds,omitempty"`
}

// Ready reports whether the server can give latest-state verdicts: it
// verifies the latest state (of the all-zero hash) unless a latest-state
// verdict was verified within the health interval, and checks the newest
// verified header against the max age. It returns that header's health,
// with the error if not ready. The first call warms the light client up.
func (s *Server) Ready(ctx context.Context) (HealthJSON, error) {
	err := s.refresh(ctx)
	h := HealthJSON{Status: "ok", GenesisSHA256: s.cfg.genesisSHA256}
	s.mu.Lock()
	newest := s.newest
	s.mu.Unlock()
	if newest != nil {
		h.ChainID, h.Height, h.HeaderHeight = newest.ChainID, newest.Height, newest.HeaderHeight
		h.HeaderTime, h.AgeSeconds = timeString(newest.HeaderTime), int64(time.Since(newest.HeaderTime)/time.Second)
		if err == nil {
			err = s.checkAge(newest)
		}
	}
	if err != nil {
		h.Status, h.Error = "unavailable", err.Error()
	}
	return h, err
}

// refresh verifies the latest state unless it was within the health
// interval.
func (s *Server) refresh(ctx context.Context) error {
	select {
	case <-s.stopped:
		return ErrStopped
	default:
	}
	fresh := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.checked.IsZero() && time.Since(s.checked) < s.cfg.healthInterval
	}
	if fresh() {
		return nil
	}
	return s.useClient(ctx, "verify", func(ctx context.Context) error {
		if fresh() { // another request verified while this one waited
			return nil
		}
		// any hash does; the all-zero one is simply not anchored
		rep, err := s.lc.Verify(ctx, make([]byte, types.HashSize), 0)
		if err != nil {
			return err
		}
		s.noteHeader(rep, true)
		return nil
	})
}
