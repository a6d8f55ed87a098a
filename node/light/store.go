package light

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/types"
)

// errOtherRoot means a light home was started from another trust root. It
// wraps bundle.ErrTrustRoot.
var errOtherRoot = fmt.Errorf("%w (light home)", bundle.ErrTrustRoot)

// trustRecord is the light home's note of the trust root it started from.
type trustRecord struct {
	ChainID string         `json:"chain_id"`
	Height  int64          `json:"height"`
	Hash    types.HexBytes `json:"hash"`
	// GenesisValidatorsHash is set when the root was a genesis file.
	GenesisValidatorsHash types.HexBytes `json:"genesis_validators_hash,omitempty"`
}

// loadTrustRecord returns the light home's trust record (nil if the home is
// new) and fails if it was started from another chain or root.
func (c *Client) loadTrustRecord(home string) (*trustRecord, error) {
	path := filepath.Join(home, trustRecordFile)
	bz, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read light home: %w", err)
	}
	var rec trustRecord
	if err := json.Unmarshal(bz, &rec); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	same := rec.ChainID == c.chainID
	if c.root.Genesis != nil {
		vals, err := bundle.GenesisValidatorSet(c.root.Genesis)
		if err != nil {
			return nil, err
		}
		same = same && bytes.Equal(rec.GenesisValidatorsHash, vals.Hash())
	} else {
		same = same && rec.Height == c.root.Height && bytes.Equal(rec.Hash, c.root.Hash)
	}
	if !same {
		return nil, fmt.Errorf("%w: light home %s was started from header %d (%X) of chain %q, not from %s; use another --light-home or remove it",
			errOtherRoot, home, rec.Height, []byte(rec.Hash), rec.ChainID, c.root)
	}
	return &rec, nil
}

func (c *Client) saveTrustRecord(home string, s *lightSession) error {
	root, err := s.lc.TrustedLightBlock(c.root.RootHeight())
	if err != nil {
		return fmt.Errorf("read trusted root block: %w", err)
	}
	rec := trustRecord{ChainID: c.chainID, Height: root.Height, Hash: types.HexBytes(root.Hash())}
	if c.root.Genesis != nil {
		vals, err := bundle.GenesisValidatorSet(c.root.Genesis)
		if err != nil {
			return err
		}
		rec.GenesisValidatorsHash = vals.Hash()
	}
	bz, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode trust record: %w", err)
	}
	if err := os.WriteFile(filepath.Join(home, trustRecordFile), append(bz, '\n'), 0o600); err != nil {
		return fmt.Errorf("write trust record: %w", err)
	}
	return nil
}
