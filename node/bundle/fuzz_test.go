package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// verdictOf is what a verified report tells its reader about the
// credential, whatever header proves it: a bundle may legitimately prove
// the same state against another of its headers with the same app hash.
type verdictOf struct {
	Verdict                types.Verdict
	Hash                   types.HexBytes
	ChainID, Issuer        string
	IssuerStatus           string
	IssuerSince            int64
	AsOfHeight             int64
	AsOfTime               time.Time
	AnchorTime, StatusTime time.Time
	Void                   *types.Void
}

func verdictView(rep *types.Report) verdictOf {
	st, since := rep.IssuerStatus()
	return verdictOf{
		Verdict: rep.Verdict, Hash: rep.Hash, ChainID: rep.ChainID, Issuer: rep.Issuer(),
		IssuerStatus: st, IssuerSince: since, AsOfHeight: rep.AsOfHeight, AsOfTime: rep.AsOfTime,
		AnchorTime: rep.AnchorTime, StatusTime: rep.StatusTime, Void: rep.Void,
	}
}

// goldenVariants returns encodings of bundles made from the golden one:
// same are the same bundle compact, and with an upper-case hash and its
// members in another order, which must verify as it does; other are
// bundles with each light block but the first and last left out, the last
// left out, the issuer records left out, two light blocks swapped, the
// issuer's proof as the credential's, and the golden bundle as of the
// state before each of its headers, which may or may not verify.
func goldenVariants(tb testing.TB, golden []byte) (same, other [][]byte) {
	tb.Helper()
	var compact bytes.Buffer
	require.NoError(tb, json.Compact(&compact, golden))
	var m map[string]any
	require.NoError(tb, json.Unmarshal(golden, &m))
	m["hash"] = strings.ToUpper(m["hash"].(string))
	upper, err := json.Marshal(m) // members sorted by name
	require.NoError(tb, err)
	same = [][]byte{compact.Bytes(), upper}

	encode := func(edit func(b *Bundle)) {
		b, err := Decode(golden)
		require.NoError(tb, err)
		edit(b)
		bz, err := b.Encode()
		require.NoError(tb, err)
		other = append(other, bz)
	}
	n := len(loadBundle(tb, golden).LightBlocks)
	for i := 1; i < n-1; i++ {
		encode(func(b *Bundle) { b.LightBlocks = slices.Delete(b.LightBlocks, i, i+1) })
	}
	encode(func(b *Bundle) { b.LightBlocks = b.LightBlocks[:n-1]; b.Height = b.HeaderHeight() - 1 })
	encode(func(b *Bundle) { b.Issuers = nil })
	encode(func(b *Bundle) { b.LightBlocks[1], b.LightBlocks[2] = b.LightBlocks[2], b.LightBlocks[1] })
	encode(func(b *Bundle) { b.Record, b.RecordProof = b.Issuers[0].Record, b.Issuers[0].Proof })
	for i := 1; i < n; i++ {
		encode(func(b *Bundle) { b.AsOfHeight = b.LightBlocks[i].Height - 1 })
	}
	return same, other
}

// loadBundle decodes bz, which must be a bundle.
func loadBundle(tb testing.TB, bz []byte) *Bundle {
	tb.Helper()
	b, err := Decode(bz)
	require.NoError(tb, err)
	return b
}

// bundleOracle checks bundles against the golden one (see FuzzVerifyBundle).
type bundleOracle struct {
	golden []byte
	bundle *Bundle
	roots  []TrustRoot
	now    time.Time
	// headers are the golden bundle's light blocks by header hash
	headers map[string]*cmttypes.LightBlock
	last    *cmttypes.LightBlock
	// want caches the golden bundle's verification from a root as of a
	// height (see wantAsOf)
	want map[wantKey]wantResult
}

type wantKey struct {
	root int
	asOf int64
}

type wantResult struct {
	rep *types.Report
	err error
}

// newBundleOracle verifies the golden bundle from its genesis and from its
// first header, at a fixed time (so a crasher reproduces whenever it runs).
func newBundleOracle(tb testing.TB) *bundleOracle {
	tb.Helper()
	golden, err := os.ReadFile(goldenBundle)
	require.NoError(tb, err)
	b, genesis := loadGolden(tb)
	first, last := b.LightBlocks[0], b.LightBlocks[len(b.LightBlocks)-1]
	o := &bundleOracle{
		golden: golden, bundle: b, roots: []TrustRoot{genesis, {Height: first.Height, Hash: first.Hash()}},
		now: last.Time.Add(time.Hour), headers: map[string]*cmttypes.LightBlock{}, last: last,
		want: map[wantKey]wantResult{},
	}
	for i := range o.roots {
		_, err := o.wantAsOf(i, b.AsOfHeight)
		require.NoError(tb, err)
	}
	for _, lb := range b.LightBlocks {
		o.headers[string(lb.Hash())] = lb
	}
	return o
}

// wantAsOf returns the golden bundle's report from root i as of state
// height asOf (0: its own), the verdict a bundle with that as_of_height
// must give if it verifies.
func (o *bundleOracle) wantAsOf(i int, asOf int64) (*types.Report, error) {
	k := wantKey{i, asOf}
	if w, ok := o.want[k]; ok {
		return w.rep, w.err
	}
	b := *o.bundle
	b.AsOfHeight = asOf
	rep, err := Verify(&b, o.roots[i], o.now, DefaultTrustingPeriod)
	o.want[k] = wantResult{rep, err}
	return rep, err
}

// check decodes bz and verifies it from each root, as credledger verify
// --bundle does: it must be an error or the golden bundle's verdict as of
// the same height.
func (o *bundleOracle) check(t *testing.T, bz []byte) {
	t.Helper()
	got, err := Decode(bz)
	if err != nil {
		require.ErrorIs(t, err, ErrMalformed)
		return
	}
	for i, root := range o.roots {
		rep, err := Verify(got, root, o.now, DefaultTrustingPeriod)
		if err != nil {
			requireKnownError(t, err)
			continue
		}
		lb := o.headers[string(rep.HeaderHash)]
		require.NotNilf(t, lb, "verified against header %d %X, which is not in the golden bundle", rep.HeaderHeight, rep.HeaderHash)
		require.Equal(t, lb.Height, rep.HeaderHeight)
		require.Equal(t, []byte(lb.AppHash), rep.AppHash)
		want, err := o.wantAsOf(i, got.AsOfHeight)
		require.NoErrorf(t, err, "the bundle verifies as of height %d, the golden bundle does not", got.AsOfHeight)
		require.Equal(t, verdictView(want), verdictView(rep), "another verdict than the golden bundle's")
		if lb == o.last {
			require.Equal(t, want, rep, "another report from the golden bundle's proving header")
		}
	}
}

// FuzzVerifyBundle decodes arbitrary bytes as a bundle and checks what
// decodes offline, as credledger verify --bundle does (Decode, then Verify),
// against two fixed trust roots: the golden bundle's genesis and its first
// header. It must never panic; an error must say what failed (wrap one of
// the sentinel errors); and a bundle that verifies must give the golden
// bundle's verdict, proven by one of its headers (no input can make another
// header verify), and exactly the golden report when it is the same
// header. So any change to the golden bundle either keeps the verdict (JSON
// spacing, member order, hex case, a light block that is not needed) or is
// an error, never another verdict.
func FuzzVerifyBundle(f *testing.F) {
	o := newBundleOracle(f)
	same, other := goldenVariants(f, o.golden)
	for _, bz := range append([][]byte{o.golden}, same...) {
		for i, root := range o.roots {
			rep, err := Verify(loadBundle(f, bz), root, o.now, DefaultTrustingPeriod)
			require.NoError(f, err)
			want, _ := o.wantAsOf(i, 0)
			require.Equal(f, want, rep)
		}
		f.Add(bz)
	}
	for _, bz := range other {
		f.Add(bz)
	}
	f.Add(o.golden[:len(o.golden)/2])
	f.Add([]byte(`{"format":"credledger-proof-bundle/4"}`))

	f.Fuzz(o.check)
}

// FuzzVerifyBundleParts is FuzzVerifyBundle with the fuzzer's bytes put
// into one of the golden bundle's binary parts rather than into its JSON,
// which the fuzzer rarely keeps valid: part (modulo their number) is the
// credential record, its proof, the issuer record, its proof, or one of the
// light blocks in its protobuf encoding. The bundle is then encoded as
// JSON, decoded and verified by the same path, with the same property.
func FuzzVerifyBundleParts(f *testing.F) {
	o := newBundleOracle(f)
	var j bundleJSON
	require.NoError(f, json.Unmarshal(o.golden, &j))
	parts := func(v *bundleJSON) []*[]byte {
		out := []*[]byte{&v.Credential.Record, &v.Credential.Proof, &v.Issuers[0].Record, &v.Issuers[0].Proof}
		for i := range v.LightBlocks {
			out = append(out, &v.LightBlocks[i])
		}
		return out
	}
	golden := parts(&j)
	for i, p := range golden {
		f.Add(uint8(i), *p)
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), *golden[(i+1)%len(golden)])
	}

	f.Fuzz(func(t *testing.T, part uint8, data []byte) {
		v := j
		v.Issuers = slices.Clone(j.Issuers)
		v.LightBlocks = slices.Clone(j.LightBlocks)
		p := parts(&v)
		*p[int(part)%len(p)] = data
		bz, err := json.Marshal(v)
		require.NoError(t, err)
		o.check(t, bz)
	})
}

// requireKnownError checks that a Verify error wraps one of the errors it
// documents, so that a caller can tell what failed.
func requireKnownError(t *testing.T, err error) {
	t.Helper()
	for _, known := range []error{
		ErrMalformed, ErrTrustRoot, ErrHeaderNotVerified,
		types.ErrProofInvalid, types.ErrMalformedAnswer, types.ErrBadHash, types.ErrHistoryNotRetained,
	} {
		if errors.Is(err, known) {
			return
		}
	}
	t.Fatalf("Verify error wraps no sentinel error: %v", err)
}
