package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The settings new homes get beyond CometBFT's defaults, each for a reason
// given in CometConfig.
func TestCometConfigSettings(t *testing.T) {
	cfg := CometConfig(t.TempDir(), "n", 0)
	require.True(t, cfg.Consensus.CreateEmptyBlocks)
	require.Equal(t, 30*time.Second, cfg.Consensus.CreateEmptyBlocksInterval, "a header at least every 30 s for verifiers")
	require.Equal(t, 2*time.Second, cfg.Consensus.TimeoutPropose, "a down validator's turn costs 2 s")
	require.True(t, cfg.Storage.DiscardABCIResponses, "nothing reads past ABCI responses")
	require.True(t, cfg.Instrumentation.Prometheus)
}
