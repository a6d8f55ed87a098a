package types_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

func genesisIssuer(id string) types.GenesisIssuer {
	return types.GenesisIssuer{
		ID: id, Name: "Issuer " + id, Power: 10,
		SigningPubKey:   types.HexBytes(testKey("sign-" + id).Public().(ed25519.PublicKey)),
		ValidatorPubKey: types.HexBytes(testKey("val-" + id).Public().(ed25519.PublicKey)),
	}
}

// validGenesis returns a genesis state with three issuers that validates.
func validGenesis() types.GenesisState {
	return types.GenesisState{
		Params:  types.NewGenesisParams(types.DefaultParams()),
		Issuers: []types.GenesisIssuer{genesisIssuer("a"), genesisIssuer("b"), genesisIssuer("c")},
	}
}

func TestDecodeGenesisState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		malleate func(g *types.GenesisState)
		wantErr  string // substring of the error; "" means valid
	}{
		{"valid", func(*types.GenesisState) {}, ""},
		{"one issuer", func(g *types.GenesisState) { g.Issuers = g.Issuers[:1] }, ""},
		{"name at limit", func(g *types.GenesisState) { g.Issuers[0].Name = strings.Repeat("n", types.MaxIssuerNameLength) }, ""},
		{"empty name", func(g *types.GenesisState) { g.Issuers[0].Name = "" }, ""},
		{"batch size at limit", func(g *types.GenesisState) { g.Params.MaxBatchSize = types.MaxBatchSizeLimit }, ""},
		{"reason length at limit", func(g *types.GenesisState) { g.Params.MaxReasonLength = types.MaxReasonLengthLimit }, ""},
		{"reason length zero", func(g *types.GenesisState) { g.Params.MaxReasonLength = 0 }, ""},
		{"no issuers", func(g *types.GenesisState) { g.Issuers = nil }, "no issuers"},
		{"empty issuers", func(g *types.GenesisState) { g.Issuers = []types.GenesisIssuer{} }, "no issuers"},
		{"duplicate id", func(g *types.GenesisState) { g.Issuers[2].ID = "a" }, "repeats an id or key"},
		{"duplicate signing key", func(g *types.GenesisState) { g.Issuers[1].SigningPubKey = g.Issuers[0].SigningPubKey }, "repeats an id or key"},
		{"duplicate validator key", func(g *types.GenesisState) { g.Issuers[2].ValidatorPubKey = g.Issuers[0].ValidatorPubKey }, "repeats an id or key"},
		{"issuer listed twice", func(g *types.GenesisState) { g.Issuers = append(g.Issuers, g.Issuers[1]) }, "repeats an id or key"},
		{"signing key 31 bytes", func(g *types.GenesisState) { g.Issuers[1].SigningPubKey = g.Issuers[1].SigningPubKey[:31] }, "signing_pubkey is 31 bytes"},
		{"signing key 33 bytes", func(g *types.GenesisState) {
			g.Issuers[1].SigningPubKey = append(bytes.Clone(g.Issuers[1].SigningPubKey), 0)
		}, "signing_pubkey is 33 bytes"},
		{"signing key missing", func(g *types.GenesisState) { g.Issuers[0].SigningPubKey = nil }, "signing_pubkey is 0 bytes"},
		{"validator key 64 bytes", func(g *types.GenesisState) {
			g.Issuers[2].ValidatorPubKey = types.HexBytes(testKey("x"))
		}, "validator_pubkey is 64 bytes"},
		{"validator key missing", func(g *types.GenesisState) { g.Issuers[0].ValidatorPubKey = nil }, "validator_pubkey is 0 bytes"},
		{"identifiers", func(g *types.GenesisState) {
			g.Issuers[0].Identifiers = []string{"did:web:a.test", "https://a.test/issuer"}
			g.Issuers[1].Identifiers = []string{"did:web:b.test"}
		}, ""},
		{"identifier of another issuer", func(g *types.GenesisState) {
			g.Issuers[0].Identifiers = []string{"did:web:a.test"}
			g.Issuers[2].Identifiers = []string{"did:web:a.test"}
		}, "is another issuer's"},
		{"identifier not a DID or URL", func(g *types.GenesisState) { g.Issuers[1].Identifiers = []string{"b.test"} }, "want a DID"},
		{"identifier repeated", func(g *types.GenesisState) { g.Issuers[1].Identifiers = []string{"did:web:b", "did:web:b"} }, "given twice"},
		{"zero power", func(g *types.GenesisState) { g.Issuers[1].Power = 0 }, "power 0"},
		{"negative power", func(g *types.GenesisState) { g.Issuers[1].Power = -5 }, "power -5"},
		{"empty id", func(g *types.GenesisState) { g.Issuers[0].ID = "" }, "issuer id is empty"},
		{"bad id", func(g *types.GenesisState) { g.Issuers[0].ID = "a b" }, "outside [A-Za-z0-9._-]"},
		{"name too long", func(g *types.GenesisState) { g.Issuers[0].Name = strings.Repeat("n", types.MaxIssuerNameLength+1) }, "name is 129 bytes"},
		{"batch size zero", func(g *types.GenesisState) { g.Params.MaxBatchSize = 0 }, "max_batch_size 0"},
		{"batch size over limit", func(g *types.GenesisState) { g.Params.MaxBatchSize = types.MaxBatchSizeLimit + 1 }, "max_batch_size 100001"},
		{"reason length over limit", func(g *types.GenesisState) { g.Params.MaxReasonLength = types.MaxReasonLengthLimit + 1 }, "max_reason_length 4097"},
		{"expiry zero", func(g *types.GenesisState) { g.Params.ProposalExpiryBlocks = 0 }, "proposal_expiry_blocks 0"},
		{"expiry negative", func(g *types.GenesisState) { g.Params.ProposalExpiryBlocks = -1 }, "proposal_expiry_blocks -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := validGenesis()
			tc.malleate(&g)
			bz, err := json.Marshal(g)
			require.NoError(t, err)
			got, err := types.DecodeGenesisState(bz)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, &g, got)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidGenesis)
			require.ErrorContains(t, err, tc.wantErr)
			require.Nil(t, got)
		})
	}
}

func TestDecodeGenesisStateJSON(t *testing.T) {
	key := strings.Repeat("ab", 32)
	issuer := func(sign string) string {
		return `{"id":"a","name":"A","signing_pubkey":"` + sign + `","validator_pubkey":"` + key + `","power":1}`
	}
	params := `"params":{"max_batch_size":10,"max_reason_length":20,"proposal_expiry_blocks":30}`
	for _, tc := range []struct {
		name string
		json string
		ok   bool
	}{
		{"valid", `{` + params + `,"issuers":[` + issuer(strings.Repeat("cd", 32)) + `]}`, true},
		{"uppercase hex", `{` + params + `,"issuers":[` + issuer(strings.Repeat("CD", 32)) + `]}`, true},
		{"empty", ``, false},
		{"null", `null`, false},
		{"not an object", `[]`, false},
		{"truncated", `{` + params, false},
		{"no params", `{"issuers":[` + issuer(strings.Repeat("cd", 32)) + `]}`, false},
		{"key not hex", `{` + params + `,"issuers":[` + issuer(strings.Repeat("zz", 32)) + `]}`, false},
		{"key odd length", `{` + params + `,"issuers":[` + issuer(strings.Repeat("c", 63)) + `]}`, false},
		{"key not a string", `{` + params + `,"issuers":[{"id":"a","signing_pubkey":5}]}`, false},
		{"key null", `{` + params + `,"issuers":[{"id":"a","signing_pubkey":null,"validator_pubkey":"` + key + `","power":1}]}`, false},
		{"power not a number", `{` + params + `,"issuers":[{"id":"a","power":"1"}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := types.DecodeGenesisState([]byte(tc.json))
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, types.Params{MaxBatchSize: 10, MaxReasonLength: 20, ProposalExpiryBlocks: 30}, g.Params.Params())
				require.Len(t, g.Issuers, 1)
				require.Equal(t, bytes.Repeat([]byte{0xcd}, 32), []byte(g.Issuers[0].SigningPubKey))
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidGenesis)
			require.Nil(t, g)
		})
	}
}

func TestHexBytesJSON(t *testing.T) {
	bz, err := json.Marshal(types.HexBytes{0x00, 0xab, 0xff})
	require.NoError(t, err)
	require.Equal(t, `"00abff"`, string(bz))
	var h types.HexBytes
	require.NoError(t, json.Unmarshal(bz, &h))
	require.Equal(t, types.HexBytes{0x00, 0xab, 0xff}, h)
	bz, err = json.Marshal(types.HexBytes(nil))
	require.NoError(t, err)
	require.Equal(t, `""`, string(bz))
}

func TestParamsValidateBasic(t *testing.T) {
	require.NoError(t, types.DefaultParams().ValidateBasic())
	for _, tc := range []struct {
		name string
		p    types.Params
		ok   bool
	}{
		{"minimal", types.Params{MaxBatchSize: 1, ProposalExpiryBlocks: 1}, true},
		{"maximal", types.Params{MaxBatchSize: types.MaxBatchSizeLimit, MaxReasonLength: types.MaxReasonLengthLimit, ProposalExpiryBlocks: 1 << 62}, true},
		{"zero", types.Params{}, false},
		{"no expiry", types.Params{MaxBatchSize: 1}, false},
		{"batch too large", types.Params{MaxBatchSize: types.MaxBatchSizeLimit + 1, ProposalExpiryBlocks: 1}, false},
		{"reason too long", types.Params{MaxBatchSize: 1, MaxReasonLength: types.MaxReasonLengthLimit + 1, ProposalExpiryBlocks: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.ValidateBasic()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			require.Equal(t, tc.p, types.NewGenesisParams(tc.p).Params(), "JSON form must round-trip")
		})
	}
}

func TestGenesisIssuerRecord(t *testing.T) {
	gi := genesisIssuer("a")
	is := gi.Issuer()
	require.Equal(t, types.Issuer{
		Id: "a", Name: "Issuer a", SigningPubkey: gi.SigningPubKey, ValidatorPubkey: gi.ValidatorPubKey,
		Power: 10, Status: types.IssuerStatus_ISSUER_STATUS_ACTIVE,
	}, is)
	require.Zero(t, is.JoinedHeight)
	require.Zero(t, is.LeftHeight)
}
