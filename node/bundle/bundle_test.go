package bundle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// The golden bundle proves that testHash("revoked") is revoked, from the
// genesis of a chain whose validator set went {issuer0} -> {issuer0,
// issuer1} -> {issuer1}. Regenerate it with:
//
//	go test ./node/light -run TestLightProveAcrossValidatorChange -update-bundle
//
// and update the heights in ExampleVerify.
const (
	goldenBundle  = "testdata/revoked.json"
	goldenGenesis = "testdata/genesis.json"
)

func timeNow() time.Time { return time.Now() }

// testHash returns the SHA-256 of s, as the light tests' credentials.
func testHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// loadGolden returns a fresh copy of the golden bundle and its genesis root.
func loadGolden(t testing.TB) (*Bundle, TrustRoot) {
	t.Helper()
	b, err := Load(goldenBundle)
	require.NoError(t, err)
	root, err := LoadGenesisTrustRoot(goldenGenesis)
	require.NoError(t, err)
	return b, root
}

func ExampleVerify() {
	b, err := Load("testdata/revoked.json")
	if err != nil {
		panic(err)
	}
	root, err := LoadGenesisTrustRoot("testdata/genesis.json")
	if err != nil {
		panic(err)
	}
	rep, err := Verify(b, root, time.Now(), DefaultTrustingPeriod)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s by %s, as of state %d (header %d, %d light blocks)\n", rep.Verdict, rep.Issuer(), rep.Height, rep.HeaderHeight, len(b.LightBlocks))
	// Output: revoked by issuer0, as of state 11 (header 12, 5 light blocks)
}

func TestVerifyBundleGolden(t *testing.T) {
	b, root := loadGolden(t)
	rep, err := Verify(b, root, timeNow(), DefaultTrustingPeriod)
	require.NoError(t, err)
	require.Equal(t, types.VerdictRevoked, rep.Verdict)
	require.Equal(t, testHash("revoked"), rep.Hash)
	require.Equal(t, "issuer0", rep.Issuer())
	st, since := rep.IssuerStatus()
	require.Equal(t, "removed", st)
	require.Positive(t, since)
	require.Equal(t, b.HeaderHeight(), rep.HeaderHeight)
	require.Equal(t, b.Height, rep.Height)
	require.Equal(t, b.LightBlocks[len(b.LightBlocks)-1].Time, rep.HeaderTime)
	// the records are dated by the headers that committed them, which are
	// in the bundle, and never before their own block's time
	require.Equal(t, []int64{rep.Anchor.Height + 1, rep.Status.Height + 1}, rep.CommitHeaders())
	require.Equal(t, b.LightBlocks[1].Height, rep.Anchor.Height+1)
	require.Equal(t, b.LightBlocks[1].Time, rep.AnchorTime)
	require.Equal(t, b.LightBlocks[2].Height, rep.Status.Height+1)
	require.Equal(t, b.LightBlocks[2].Time, rep.StatusTime)
	require.True(t, rep.AnchorTime.After(time.Unix(0, rep.Anchor.TimeUnixNano)))
	require.True(t, rep.StatusTime.After(time.Unix(0, rep.Status.TimeUnixNano)))
	require.GreaterOrEqual(t, len(b.LightBlocks), 3, "the golden bundle crosses a validator set change")

	// a header root naming the bundle's first header works as well
	first := b.LightBlocks[0]
	hroot := TrustRoot{Height: first.Height, Hash: first.Hash()}
	_, err = Verify(b, hroot, timeNow(), DefaultTrustingPeriod)
	require.NoError(t, err)

	// encoding round trip
	bz, err := b.Encode()
	require.NoError(t, err)
	again, err := Decode(bz)
	require.NoError(t, err)
	bz2, err := again.Encode()
	require.NoError(t, err)
	require.Equal(t, string(bz), string(bz2))
}

// withoutStatus returns the encoded credential record with every entry's
// status change removed (a revocation hidden).
func withoutStatus(t *testing.T, record []byte) []byte {
	t.Helper()
	var rec types.CredentialRecord
	require.NoError(t, rec.Unmarshal(record))
	for _, e := range rec.Entries {
		e.Status, e.History = nil, nil
	}
	bz, err := rec.Marshal()
	require.NoError(t, err)
	return bz
}

// flip changes one bit of bz[i] (bz must be non-empty).
func flip(bz []byte, i int) { bz[i%len(bz)] ^= 0x01 }

func TestVerifyBundleTampered(t *testing.T) {
	last := func(b *Bundle) *cmttypes.LightBlock { return b.LightBlocks[len(b.LightBlocks)-1] }
	for _, tc := range []struct {
		name    string
		mutate  func(b *Bundle)
		wantErr error
	}{
		{"credential record", func(b *Bundle) { flip(b.Record, 3) }, types.ErrProofInvalid},
		{"credential proof", func(b *Bundle) { flip(b.RecordProof, 40) }, types.ErrProofInvalid},
		{"record hidden", func(b *Bundle) { b.Record = nil }, types.ErrProofInvalid},
		{"revocation hidden", func(b *Bundle) { b.Record = withoutStatus(t, b.Record) }, types.ErrProofInvalid},
		{"issuer record", func(b *Bundle) { flip(b.Issuers[0].Record, 5) }, types.ErrProofInvalid},
		{"issuer proof", func(b *Bundle) { flip(b.Issuers[0].Proof, 40) }, types.ErrProofInvalid},
		{"issuer record left out", func(b *Bundle) { b.Issuers = nil }, ErrMalformed},
		{"issuer id", func(b *Bundle) { b.Issuers[0].ID = "issuer1" }, ErrMalformed},
		{"hash", func(b *Bundle) { flip(b.Hash, 0) }, types.ErrProofInvalid},
		{"height", func(b *Bundle) { b.Height-- }, ErrMalformed},
		{"format", func(b *Bundle) { b.Format = "credledger-proof-bundle/0" }, ErrMalformed},
		{"chain id", func(b *Bundle) { b.ChainID = "other-chain" }, ErrMalformed},
		{"app hash of the proving header", func(b *Bundle) { flip(last(b).AppHash, 0) }, ErrMalformed},
		{"app hash, commit re-pointed", func(b *Bundle) {
			flip(last(b).AppHash, 0)
			last(b).Commit.BlockID.Hash = last(b).Header.Hash()
		}, ErrHeaderNotVerified},
		{"time of an intermediate header, commit re-pointed", func(b *Bundle) {
			lb := b.LightBlocks[1]
			lb.Time = lb.Time.Add(time.Second)
			lb.Commit.BlockID.Hash = lb.Header.Hash()
		}, ErrHeaderNotVerified},
		{"root header, commit re-pointed", func(b *Bundle) {
			lb := b.LightBlocks[0]
			flip(lb.AppHash, 1)
			lb.Commit.BlockID.Hash = lb.Header.Hash()
		}, ErrTrustRoot},
		{"signature of the root", func(b *Bundle) { flip(b.LightBlocks[0].Commit.Signatures[0].Signature, 7) }, ErrTrustRoot},
		{"signature of an intermediate header", func(b *Bundle) {
			for i := range b.LightBlocks[1].Commit.Signatures {
				if sig := b.LightBlocks[1].Commit.Signatures[i].Signature; len(sig) > 0 {
					flip(sig, 9)
				}
			}
		}, ErrHeaderNotVerified},
		{"signature of the proving header", func(b *Bundle) { flip(last(b).Commit.Signatures[0].Signature, 63) }, ErrHeaderNotVerified},
		{"validator power", func(b *Bundle) { b.LightBlocks[1].ValidatorSet.Validators[0].VotingPower++ }, ErrMalformed},
		{"intermediate header left out", func(b *Bundle) {
			i := slices.IndexFunc(b.LightBlocks, func(lb *cmttypes.LightBlock) bool { return lb.ValidatorSet.Size() == 2 })
			b.LightBlocks = slices.Delete(b.LightBlocks, i, i+1)
		}, ErrHeaderNotVerified},
		{"header dating the anchor left out", func(b *Bundle) {
			b.LightBlocks = slices.Delete(b.LightBlocks, 1, 2) // header 4 commits the anchor of block 3
		}, ErrMalformed},
		{"header dating the revocation left out", func(b *Bundle) {
			b.LightBlocks = slices.Delete(b.LightBlocks, 2, 3) // header 6 commits the revocation of block 5
		}, ErrMalformed},
		{"headers out of order", func(b *Bundle) {
			b.LightBlocks[0], b.LightBlocks[1] = b.LightBlocks[1], b.LightBlocks[0]
		}, ErrMalformed},
		{"root left out", func(b *Bundle) { b.LightBlocks = b.LightBlocks[1:] }, ErrTrustRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, root := loadGolden(t)
			_, err := Verify(b, root, timeNow(), DefaultTrustingPeriod)
			require.NoError(t, err, "the unmodified bundle verifies")
			tc.mutate(b)
			_, err = Verify(b, root, timeNow(), DefaultTrustingPeriod)
			require.ErrorIs(t, err, tc.wantErr)
			// the same change survives encoding, or is refused by the decoder
			if bz, encErr := b.Encode(); encErr == nil {
				if decoded, decErr := Decode(bz); decErr == nil {
					_, err = Verify(decoded, root, timeNow(), DefaultTrustingPeriod)
					require.Error(t, err)
				}
			}
		})
	}
}

// TestVerifyBundleTamperedJSON edits the bundle file itself.
func TestVerifyBundleTamperedJSON(t *testing.T) {
	raw, err := os.ReadFile(goldenBundle)
	require.NoError(t, err)
	_, root := loadGolden(t)
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"credential.proof", func(m map[string]any) { editB64(m["credential"].(map[string]any), "proof") }},
		{"credential.record", func(m map[string]any) { editB64(m["credential"].(map[string]any), "record") }},
		{"issuers[0].record", func(m map[string]any) { editB64(m["issuers"].([]any)[0].(map[string]any), "record") }},
		{"last header app_hash", func(m map[string]any) {
			editLightBlock(m, -1, func(pb *cmtproto.LightBlock) {
				h := pb.SignedHeader.Header
				flip(h.AppHash, len(h.AppHash)/2)
			})
		}},
		{"last commit signature", func(m map[string]any) {
			editLightBlock(m, -1, func(pb *cmtproto.LightBlock) {
				sig := pb.SignedHeader.Commit.Signatures[0].Signature
				flip(sig, len(sig)/2)
			})
		}},
		{"root validator pub_key", func(m map[string]any) {
			editLightBlock(m, 0, func(pb *cmtproto.LightBlock) {
				pk := pb.ValidatorSet.Validators[0].PubKey.GetEd25519()
				flip(pk, len(pk)/2)
			})
		}},
		{"last light block truncated", func(m map[string]any) {
			lbs := m["light_blocks"].([]any)
			s := lbs[len(lbs)-1].(string)
			lbs[len(lbs)-1] = s[:len(s)/2]
		}},
		{"root light block not base64", func(m map[string]any) { m["light_blocks"].([]any)[0] = "!not base64!" }},
		{"header_height", func(m map[string]any) { m["header_height"] = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			tc.edit(m)
			bz, err := json.Marshal(m)
			require.NoError(t, err)
			b, err := Decode(bz)
			if err == nil {
				_, err = Verify(b, root, timeNow(), DefaultTrustingPeriod)
			}
			require.Error(t, err)
		})
	}
}

// TestDecodeBundleFormat1 checks that a bundle of the old format, with
// light blocks in RPC JSON, is refused with an error that names the format.
func TestDecodeBundleFormat1(t *testing.T) {
	raw, err := os.ReadFile(goldenBundle)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m["format"] = "credledger-proof-bundle/1"
	m["light_blocks"] = []any{map[string]any{"signed_header": map[string]any{}, "validator_set": map[string]any{}}}
	bz, err := json.Marshal(m)
	require.NoError(t, err)
	_, err = Decode(bz)
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, `format "credledger-proof-bundle/1" is no longer supported`)
}

// A /3 bundle (the one-record layout) is refused by name, like /2 (no
// headers dating the records).
func TestDecodeBundleFormat3(t *testing.T) {
	raw, err := os.ReadFile(goldenBundle)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m["format"] = "credledger-proof-bundle/3"
	bz, err := json.Marshal(m)
	require.NoError(t, err)
	_, err = Decode(bz)
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, `format "credledger-proof-bundle/3" is no longer supported; make the bundle again with credledger prove`)
}

// editLightBlock decodes light block i (from the end if negative) of the
// bundle JSON m, lets edit change its protobuf form and re-encodes it.
func editLightBlock(m map[string]any, i int, edit func(pb *cmtproto.LightBlock)) {
	lbs := m["light_blocks"].([]any)
	if i < 0 {
		i += len(lbs)
	}
	bz, err := base64.StdEncoding.DecodeString(lbs[i].(string))
	if err != nil {
		panic(err)
	}
	var pb cmtproto.LightBlock
	if err := pb.Unmarshal(bz); err != nil {
		panic(err)
	}
	edit(&pb)
	if bz, err = pb.Marshal(); err != nil {
		panic(err)
	}
	lbs[i] = base64.StdEncoding.EncodeToString(bz)
}

// editB64 flips one bit of the base64 field key of m.
func editB64(m map[string]any, key string) {
	bz, err := base64.StdEncoding.DecodeString(m[key].(string))
	if err != nil || len(bz) == 0 {
		panic("not base64: " + key)
	}
	flip(bz, len(bz)/2)
	m[key] = base64.StdEncoding.EncodeToString(bz)
}

// TestVerifyBundleEveryByte flips every byte of every record and proof
// (checked against the verified proving header), of every signature and of
// every header's protobuf encoding (the form the bundle stores it in).
func TestVerifyBundleEveryByte(t *testing.T) {
	b, root := loadGolden(t)
	target := b.LightBlocks[len(b.LightBlocks)-1]
	_, err := checkAnswer(b, target)
	require.NoError(t, err)
	for name, field := range map[string][]byte{
		"credential record": b.Record, "credential proof": b.RecordProof,
		"issuer record": b.Issuers[0].Record, "issuer proof": b.Issuers[0].Proof,
	} {
		for i := range field {
			for _, mask := range []byte{0x01, 0x80} {
				field[i] ^= mask
				_, err := checkAnswer(b, target)
				field[i] ^= mask
				require.Error(t, err, "%s byte %d ^ %#x still verifies", name, i, mask)
			}
		}
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	for bi, lb := range b.LightBlocks {
		for si, cs := range lb.Commit.Signatures {
			for i := 0; i < len(cs.Signature); i += step {
				cs.Signature[i] ^= 0x01
				_, err := Verify(b, root, timeNow(), DefaultTrustingPeriod)
				cs.Signature[i] ^= 0x01
				require.Error(t, err, "light block %d signature %d byte %d", bi, si, i)
			}
		}
	}
	checked := 0 // header flips that still decode, so Verify must catch them
	for bi, lb := range b.LightBlocks {
		orig := lb.Header
		hbz, err := orig.ToProto().Marshal()
		require.NoError(t, err)
		for i := 0; i < len(hbz); i += step {
			hbz[i] ^= 0x01
			var pb cmtproto.Header
			if pb.Unmarshal(hbz) == nil {
				if h, err := cmttypes.HeaderFromProto(&pb); err == nil {
					lb.Header = &h
					checked++
					_, err = Verify(b, root, timeNow(), DefaultTrustingPeriod)
					lb.Header = orig
					require.Error(t, err, "light block %d header byte %d", bi, i)
				}
			}
			hbz[i] ^= 0x01
		}
	}
	t.Logf("%d header flips decoded and were refused by Verify", checked)
	require.Positive(t, checked)
}

func TestVerifyBundleWrongRoot(t *testing.T) {
	b, root := loadGolden(t)
	first := b.LightBlocks[0]
	otherKey := cmted25519.GenPrivKey().PubKey()
	for _, tc := range []struct {
		name string
		root func() TrustRoot
	}{
		{"genesis with another validator", func() TrustRoot {
			doc := *root.Genesis
			doc.Validators = []cmttypes.GenesisValidator{{Address: otherKey.Address(), PubKey: otherKey, Power: 10, Name: "other"}}
			return TrustRoot{Genesis: &doc}
		}},
		{"genesis with an extra validator", func() TrustRoot {
			doc := *root.Genesis
			doc.Validators = append([]cmttypes.GenesisValidator{{Address: otherKey.Address(), PubKey: otherKey, Power: 100, Name: "other"}}, doc.Validators...)
			return TrustRoot{Genesis: &doc}
		}},
		{"genesis of another chain", func() TrustRoot {
			doc := *root.Genesis
			doc.ChainID = "other-chain"
			return TrustRoot{Genesis: &doc}
		}},
		{"genesis starting at another height", func() TrustRoot {
			doc := *root.Genesis
			doc.InitialHeight = 5
			return TrustRoot{Genesis: &doc}
		}},
		{"wrong trusted hash", func() TrustRoot {
			h := append([]byte(nil), first.Hash()...)
			flip(h, 0)
			return TrustRoot{Height: first.Height, Hash: h}
		}},
		{"trusted hash of another height", func() TrustRoot {
			return TrustRoot{Height: b.LightBlocks[1].Height, Hash: b.LightBlocks[1].Hash()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(b, tc.root(), timeNow(), DefaultTrustingPeriod)
			require.ErrorIs(t, err, ErrTrustRoot)
		})
	}
}

func TestVerifyBundleTrustingPeriod(t *testing.T) {
	b, root := loadGolden(t)
	rootTime := b.LightBlocks[0].Time
	for _, tc := range []struct {
		name    string
		now     time.Time
		period  time.Duration
		wantErr error
	}{
		{"now, default period", timeNow(), DefaultTrustingPeriod, nil},
		{"eleven years on, default period", rootTime.Add(11 * 365 * 24 * time.Hour), DefaultTrustingPeriod, ErrHeaderNotVerified},
		{"eleven years on, longer period", rootTime.Add(11 * 365 * 24 * time.Hour), 20 * 365 * 24 * time.Hour, nil},
		{"period shorter than the bundle's age", timeNow(), time.Since(rootTime) / 2, ErrHeaderNotVerified},
		{"clock before the headers", rootTime.Add(-time.Hour), DefaultTrustingPeriod, ErrHeaderNotVerified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(b, root, tc.now, tc.period)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func FuzzDecodeBundle(f *testing.F) {
	golden, err := os.ReadFile(goldenBundle)
	require.NoError(f, err)
	_, root := loadGolden(f)
	f.Add(golden)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"credledger-proof-bundle/1","chain_id":"x","hash":"00","light_blocks":[{}]}`))
	f.Add([]byte(`{"format":"credledger-proof-bundle/5","chain_id":"x","hash":"00","light_blocks":[""]}`))
	f.Add([]byte(`{"format":"credledger-proof-bundle/2","chain_id":"x","hash":"00","light_blocks":[""]}`))
	f.Add([]byte(`{"format":"credledger-proof-bundle/5","chain_id":"x","hash":"00","light_blocks":["CgA=","EgA=","CgIKAA=="]}`))
	f.Add([]byte(`{"format":"credledger-proof-bundle/5","chain_id":"x","hash":"00","issuers":[null,{"id":""}],"light_blocks":["CgA="]}`))
	f.Add([]byte(`{"light_blocks":[{"signed_header":{"header":{},"commit":{}},"validator_set":{"validators":[null]}}]}`))
	f.Add([]byte(`{"light_blocks":[null]}`))
	f.Add(golden[:len(golden)/2])
	now := timeNow()
	f.Fuzz(func(t *testing.T, bz []byte) {
		b, err := Decode(bz)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		// a decodable bundle re-encodes, and checking it never panics
		enc, err := b.Encode()
		require.NoError(t, err)
		_, err = Decode(enc)
		require.NoError(t, err)
		_, _ = Verify(b, root, now, DefaultTrustingPeriod)
	})
}

// A genesis given as bytes (the browser has no files) is the same root as
// the file.
func TestNewGenesisTrustRoot(t *testing.T) {
	b, fromFile := loadGolden(t)
	bz, err := os.ReadFile(goldenGenesis)
	require.NoError(t, err)
	fromBytes, err := NewGenesisTrustRoot(bz)
	require.NoError(t, err)
	want, err := Verify(b, fromFile, timeNow(), DefaultTrustingPeriod)
	require.NoError(t, err)
	got, err := Verify(b, fromBytes, timeNow(), DefaultTrustingPeriod)
	require.NoError(t, err)
	require.Equal(t, want, got)
	for _, bad := range [][]byte{nil, []byte("{}"), []byte(`{"chain_id":"x","validators":[]}`), bz[:len(bz)/2]} {
		_, err := NewGenesisTrustRoot(bad)
		require.Error(t, err, "%q", bad)
	}
}

// A bundle about a past state is accepted only when that state is asked
// about: handing over a bundle from before a revocation does not pass it
// off as a current verdict.
func TestCheckAsked(t *testing.T) {
	latest := &Bundle{Height: 40}
	past := &Bundle{Height: 40, AsOfHeight: 12}
	for _, tc := range []struct {
		name     string
		b        *Bundle
		atHeight int64
		ok       bool
	}{
		{"latest, nothing asked", latest, 0, true},
		{"latest, its state asked", latest, 40, true},
		{"latest, another state asked", latest, 39, false},
		{"past, nothing asked", past, 0, false},
		{"past, its state asked", past, 12, true},
		{"past, another state asked", past, 13, false},
		{"past, the proving state asked", past, 40, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.CheckAsked(tc.atHeight)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
