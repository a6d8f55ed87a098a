package verifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/node/verifier"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credhash"
	"github.com/credledger/credledger/types/query"
)

// identifier0 is issuer0's identifier, which the test credentials name.
const identifier0 = "did:web:issuer0.test"

// testChain is a one-validator chain with credentials in every state the
// verifier reports. issuer1 is a member too (admitted with power 1, its
// validator never runs), so that a hash can have records of two issuers.
type testChain struct {
	url     string
	genesis string
	root    bundle.TrustRoot
	// credentials (JSON bodies) and their hashes
	creds  map[string][]byte
	hashes map[string]string
	// shared is anchored by issuer0 and issuer1; validHeight is the
	// height that anchored creds["valid"]
	shared      string
	validHeight int64
}

var (
	chainOnce sync.Once
	chainErr  error
	theChain  *testChain
	chainStop []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(chainStop) - 1; i >= 0; i-- {
		chainStop[i]()
	}
	os.Exit(code)
}

// sharedChain starts the chain once per test binary (TestMain stops it). It
// skips the test in -short mode.
func sharedChain(t *testing.T) *testChain {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node: skipped in -short mode")
	}
	chainOnce.Do(func() { theChain, chainErr = startChain() })
	require.NoError(t, chainErr)
	return theChain
}

// credential returns a JSON credential naming issuer, with extra members.
func credential(name, issuer, extra string) []byte {
	return []byte(fmt.Sprintf(`{
  "@context": ["https://www.w3.org/ns/credentials/v2"],
  "type": ["VerifiableCredential"],
  "issuer": %q,
  "credentialSubject": {"id": "urn:test:%s"}%s
}
`, issuer, name, extra))
}

func startChain() (*testChain, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "credledger-verifier-")
	if err != nil {
		return nil, err
	}
	chainStop = append(chainStop, func() { _ = os.RemoveAll(dir) })
	home0, home1 := filepath.Join(dir, "node0"), filepath.Join(dir, "node1")
	if _, err := node.InitHome(node.InitOptions{Home: home0, ChainID: "verifier-test", IssuerID: "issuer0", BasePort: 30000,
		Identifiers: []string{identifier0}}); err != nil {
		return nil, err
	}
	n, err := startHomeNode(home0)
	if err != nil {
		return nil, err
	}
	tc := &testChain{url: n.RPCURL(), genesis: n.Config.GenesisFile(), creds: map[string][]byte{}, hashes: map[string]string{}}
	if tc.root, err = bundle.LoadGenesisTrustRoot(tc.genesis); err != nil {
		return nil, err
	}
	c, err := client.New(tc.url)
	if err != nil {
		return nil, err
	}
	key0, err := keys.Load(home0, "issuer0")
	if err != nil {
		return nil, err
	}
	if err := waitHeight(ctx, c, 2); err != nil {
		return nil, err
	}
	key1, err := admitIssuer1(ctx, c, key0, home1, tc.genesis)
	if err != nil {
		return nil, err
	}
	for name, cred := range map[string][]byte{
		"valid":    credential("valid", identifier0, ""),
		"revoked":  credential("revoked", identifier0, ""),
		"expired":  credential("expired", identifier0, `, "validUntil": "2001-01-01T00:00:00Z"`),
		"notyet":   credential("notyet", identifier0, `, "validFrom": "2999-01-01T00:00:00Z"`),
		"mismatch": credential("mismatch", "did:web:someone-else.test", ""),
		"noissuer": []byte(`{"credentialSubject": {"id": "urn:test:noissuer"}}`),
		"unknown":  credential("unknown", identifier0, ""),
		"shared":   []byte(`{"credentialSubject": {"id": "urn:test:shared"}}`),
	} {
		sum, _, err := credhash.Sum(cred)
		if err != nil {
			return nil, err
		}
		tc.creds[name], tc.hashes[name] = cred, fmt.Sprintf("%x", sum)
	}
	tc.shared = tc.hashes["shared"]
	steps := []struct {
		key    *keys.Key
		action string
		hash   string
	}{
		{key0, types.ActionAnchor, tc.hashes["valid"]}, {key0, types.ActionAnchor, tc.hashes["revoked"]},
		{key0, types.ActionAnchor, tc.hashes["expired"]}, {key0, types.ActionAnchor, tc.hashes["notyet"]},
		{key0, types.ActionAnchor, tc.hashes["mismatch"]}, {key0, types.ActionAnchor, tc.hashes["noissuer"]},
		{key0, types.ActionAnchor, tc.shared}, {key1, types.ActionAnchor, tc.shared},
		{key0, types.ActionRevoke, tc.hashes["revoked"]},
	}
	for _, st := range steps {
		h, err := types.ParseHash(st.hash)
		if err != nil {
			return nil, err
		}
		res, err := c.Submit(ctx, st.key, st.action, [][]byte{h}, client.SubmitOptions{Reason: "key compromised"})
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", st.action, st.hash, err)
		}
		if res[0].Err != nil {
			return nil, fmt.Errorf("%s %s: %w", st.action, st.hash, res[0].Err)
		}
		if st.hash == tc.hashes["valid"] {
			tc.validHeight = res[0].Height
		}
	}
	return tc, nil
}

// admitIssuer1 makes a home for issuer1 (never started: only its keys are
// used) and admits issuer1 with power 1, so that issuer0's validator keeps
// more than 2/3 of the power.
func admitIssuer1(ctx context.Context, c *client.Client, key0 *keys.Key, home1, genesis string) (*keys.Key, error) {
	r1, err := node.InitHome(node.InitOptions{Home: home1, IssuerID: "issuer1", Genesis: genesis, BasePort: 30010})
	if err != nil {
		return nil, err
	}
	sign, err := keys.ParsePubKey(r1.SigningPubKey)
	if err != nil {
		return nil, err
	}
	val, err := keys.ParsePubKey(r1.ValidatorPubKey)
	if err != nil {
		return nil, err
	}
	add := &types.MsgProposeAdmission{IssuerId: "issuer1", Name: "issuer1", SigningPubkey: sign, ValidatorPubkey: val, Power: 1,
		Identifiers: []string{"did:web:issuer1.test"}}
	out, err := c.SubmitOne(ctx, key0, func(b *types.TxBody) { b.Msg = &types.TxBody_ProposeAdmission{ProposeAdmission: add} }, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("admit issuer1: %w", err)
	}
	if out.Proposal.Status != types.ProposalStatus_PROPOSAL_STATUS_PASSED {
		return nil, fmt.Errorf("admission of issuer1 did not pass: %s", out.Proposal.Status.StatusWord())
	}
	return keys.Load(home1, "issuer1")
}

// usedPorts keeps nodes of one run from picking the same ports.
var usedPorts = map[int]bool{}

// freeBasePort returns a port p such that p and p+1 were free a moment ago,
// from 29900..30000 and 32700..32760: below the kernel's ephemeral range
// and apart from the ranges the cmd/credledger (10000..29900) and
// node/light (30000..32700) tests use.
func freeBasePort() (int, error) {
	ranges := [][2]int{{29900, 30000}, {32700, 32760}}
	for _, r := range ranges {
		start := r[0] + rand.IntN(r[1]-r[0])
		for i := range (r[1] - r[0]) / 2 {
			p := r[0] + (start-r[0]+2*i)%(r[1]-r[0])
			if usedPorts[p] || usedPorts[p+1] || !canListen(p) || !canListen(p+1) {
				continue
			}
			usedPorts[p], usedPorts[p+1] = true, true
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free pair of ports in %v", ranges)
}

func canListen(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// startHomeNode points home at fresh ports, speeds up consensus and starts
// the node, retrying (3 times) when a port was taken meanwhile.
func startHomeNode(home string) (*node.FullNode, error) {
	var lastErr error
	for range 3 {
		port, err := freeBasePort()
		if err != nil {
			return nil, err
		}
		cfg, err := node.LoadCometConfig(home)
		if err != nil {
			return nil, err
		}
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port)
		cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port+1)
		cfg.Instrumentation.Prometheus = false // in-process nodes share the default registry
		cfg.Consensus.TimeoutPropose = 1 * time.Second
		cfg.Consensus.TimeoutCommit = 150 * time.Millisecond
		cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)
		n, err := node.NewFullNode(home, log.NewNopLogger())
		if err != nil {
			return nil, err
		}
		if lastErr = n.Start(); lastErr == nil {
			chainStop = append(chainStop, func() { _ = n.Stop() })
			return n, nil
		}
		_ = n.Stop()
	}
	return nil, lastErr
}

func waitHeight(ctx context.Context, c *client.Client, h int64) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st, err := c.Status(ctx); err == nil && st.LatestHeight >= h {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the node did not reach height %d within a minute", h)
}

// newServer starts a verifier, with a cold in-memory light client on
// primary (default: the node), behind an httptest server.
func (tc *testChain) newServer(t *testing.T, primary string, opts ...verifier.Option) *httptest.Server {
	t.Helper()
	if primary == "" {
		primary = tc.url
	}
	lc, err := light.New(t.Context(), primary, []string{tc.url}, tc.root, light.WithInMemoryStore())
	require.NoError(t, err)
	srv, err := verifier.New(lc, opts...)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
		require.NoError(t, lc.Close())
	})
	return hs
}

// answer is one HTTP answer, its body decoded as a JSON object.
type answer struct {
	code int
	ct   string
	raw  []byte
	json map[string]any
}

// do sends a request; body nil means none, contentType "" none.
func do(t *testing.T, method, url string, body []byte, contentType string) answer {
	t.Helper()
	a, err := send(t.Context(), method, url, body, contentType)
	require.NoError(t, err)
	return a
}

// send is do for any goroutine.
func send(ctx context.Context, method, url string, body []byte, contentType string) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{code: resp.StatusCode, ct: resp.Header.Get("Content-Type"), raw: raw}
	if strings.HasPrefix(a.ct, "application/json") {
		if err := json.Unmarshal(raw, &a.json); err != nil {
			return a, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return a, nil
}

func get(t *testing.T, url string) answer { return do(t, http.MethodGet, url, nil, "") }

// requireVerdict checks that a is a verdict, not an error, and returns it.
func requireVerdict(t *testing.T, a answer, verdict types.Verdict) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
	require.NotContains(t, a.json, "error")
	require.Equal(t, string(verdict), a.json["verdict"], "%s", a.raw)
	require.Equal(t, true, a.json["verified"])
	require.Equal(t, verifier.SourceLightClient, a.json["source"])
	require.Equal(t, "verifier-test", a.json["chain_id"])
	return a.json
}

// requireError checks that a is an error answer with code whose message
// contains msg.
func requireError(t *testing.T, a answer, code int, msg string) {
	t.Helper()
	require.Equal(t, code, a.code, "%s", a.raw)
	require.Equal(t, "application/json", a.ct)
	require.NotContains(t, a.json, "verdict", "an error, never a verdict")
	require.Contains(t, a.json["error"], msg, "%s", a.raw)
}

func TestCredentialVerdicts(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	for _, c := range []struct {
		name    string
		hash    string
		query   string
		verdict types.Verdict
	}{
		{"valid", tc.hashes["valid"], "", types.VerdictValid},
		{"revoked", tc.hashes["revoked"], "", types.VerdictRevoked},
		{"not anchored", tc.hashes["unknown"], "", types.VerdictNotAnchored},
		{"upper-case hex", strings.ToUpper(tc.hashes["valid"]), "", types.VerdictValid},
		{"issuer by identifier", tc.hashes["valid"], "?issuer=" + identifier0, types.VerdictValid},
		{"issuer by member id", tc.hashes["valid"], "?issuer=issuer0", types.VerdictValid},
		{"issuer mismatch", tc.hashes["valid"], "?issuer=did:web:someone-else.test", types.VerdictIssuerMismatch},
		{"several issuers, one named", tc.shared, "?issuer=did:web:issuer1.test", types.VerdictValid},
		{"several issuers, none of them named", tc.shared, "?issuer=did:web:nobody.test", types.VerdictIssuerMismatch},
		{"before the anchor", tc.hashes["valid"], fmt.Sprintf("?at_height=%d", tc.validHeight-1), types.VerdictNotAnchored},
		{"at the anchor", tc.hashes["valid"], fmt.Sprintf("?at_height=%d&issuer=issuer0", tc.validHeight), types.VerdictValid},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := requireVerdict(t, get(t, hs.URL+"/v1/credentials/"+c.hash+c.query), c.verdict)
			require.Equal(t, strings.ToLower(c.hash), j["hash"])
			if strings.Contains(c.query, "at_height") {
				// about the past height, proven from the latest state
				require.Equal(t, strings.TrimPrefix(strings.Split(c.query, "&")[0], "?at_height="), fmt.Sprint(j["at_height"]))
				require.NotEmpty(t, j["at_time"])
				require.Greater(t, j["height"], j["at_height"])
			}
		})
	}
	t.Run("revoked fields", func(t *testing.T) {
		j := requireVerdict(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["revoked"]), types.VerdictRevoked)
		require.Equal(t, "key compromised", j["reason"])
		require.Equal(t, "issuer0", j["status_issuer"])
		require.Equal(t, "issuer0", j["issuer"])
		require.Equal(t, []any{identifier0}, j["issuer_identifiers"])
		require.Equal(t, "active", j["issuer_status"])
		require.NotEmpty(t, j["status_time"])
		require.NotEmpty(t, j["anchored_time"])
	})
	t.Run("several issuers and none named", func(t *testing.T) {
		a := get(t, hs.URL+"/v1/credentials/"+tc.shared)
		requireError(t, a, http.StatusConflict, "issuer0, issuer1")
		require.Contains(t, a.json["error"], "?issuer=ID")
		require.Equal(t, []any{"issuer0", "issuer1"}, a.json["issuers"])
	})
}

// TestVerdictJSONFields pins the field names (the CLI's; the e2e test of
// "credledger verifier serve" compares them with verify --output json).
func TestVerdictJSONFields(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	a := do(t, http.MethodPost, hs.URL+"/v1/verify", tc.creds["revoked"], "application/json")
	j := requireVerdict(t, a, types.VerdictRevoked)
	var keys []string
	for k := range j {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{
		"hash", "verdict", "issuer", "issuers", "height", "anchored_height", "anchored_time", "reason",
		"status_issuer", "status_height", "status_time", "chain_id", "header_height", "header_time", "app_hash",
		"issuer_identifiers", "named_issuer", "issuer_status", "issuer_status_height", "header_hash", "as_of",
		"age_seconds", "verified", "source", "checks",
	}, keys)
}

func TestVerifyCredential(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	names := []string{verifier.CheckParsed, verifier.CheckAnchored, verifier.CheckIssuer, verifier.CheckNotVoided, verifier.CheckStatus, verifier.CheckDates}
	for _, c := range []struct {
		cred    string
		query   string
		verdict types.Verdict
		failing []string // the checks that are not ok
		details map[string]string
	}{
		{cred: "valid", verdict: types.VerdictValid, details: map[string]string{verifier.CheckIssuer: "an identifier of issuer0"}},
		{cred: "noissuer", verdict: types.VerdictValid, details: map[string]string{verifier.CheckIssuer: "names no issuer"}},
		{cred: "noissuer", query: "?issuer=issuer0", verdict: types.VerdictValid, details: map[string]string{verifier.CheckIssuer: "member issuer0"}},
		{cred: "revoked", verdict: types.VerdictRevoked, failing: []string{verifier.CheckStatus},
			details: map[string]string{verifier.CheckStatus: `revoked by issuer0 at height`}},
		{cred: "expired", verdict: types.VerdictExpired, failing: []string{verifier.CheckDates},
			details: map[string]string{verifier.CheckDates: "valid until 2001-01-01T00:00:00Z: expired at"}},
		{cred: "notyet", verdict: types.VerdictNotYetValid, failing: []string{verifier.CheckDates},
			details: map[string]string{verifier.CheckDates: "not yet valid"}},
		{cred: "mismatch", verdict: types.VerdictIssuerMismatch, failing: []string{verifier.CheckIssuer, verifier.CheckNotVoided, verifier.CheckStatus},
			details: map[string]string{
				verifier.CheckIssuer:    "names did:web:someone-else.test, which is neither the id nor an identifier of issuer0 (identifiers " + identifier0 + ")",
				verifier.CheckNotVoided: "not checked: ", verifier.CheckStatus: "not checked: ",
			}},
		{cred: "unknown", verdict: types.VerdictNotAnchored, failing: []string{verifier.CheckAnchored, verifier.CheckIssuer, verifier.CheckNotVoided, verifier.CheckStatus},
			details: map[string]string{verifier.CheckAnchored: "no issuer has a record", verifier.CheckStatus: "not checked: no issuer has a record"}},
	} {
		t.Run(c.cred+c.query, func(t *testing.T) {
			var v verifier.VerifyJSON
			for _, ct := range []string{"application/json", "", "application/vc+ld+json", "application/json; charset=utf-8"} {
				a := do(t, http.MethodPost, hs.URL+"/v1/verify"+c.query, tc.creds[c.cred], ct)
				requireVerdict(t, a, c.verdict)
				require.NoError(t, json.Unmarshal(a.raw, &v))
			}
			require.Equal(t, tc.hashes[c.cred], v.Hash)
			require.Len(t, v.Checks, len(names))
			var failing []string
			for i, ch := range v.Checks {
				require.Equal(t, names[i], ch.Name)
				require.NotEmpty(t, ch.Detail)
				if !ch.OK {
					failing = append(failing, ch.Name)
				}
			}
			require.Equal(t, c.failing, failing, "%+v", v.Checks)
			require.Equal(t, c.verdict == types.VerdictValid, len(failing) == 0, "valid exactly when every check is ok")
			require.Contains(t, v.Checks[0].Detail, tc.hashes[c.cred])
			for i, name := range names {
				if want, ok := c.details[name]; ok {
					require.Contains(t, v.Checks[i].Detail, want)
				}
			}
		})
	}
	t.Run("several issuers, none named", func(t *testing.T) {
		a := do(t, http.MethodPost, hs.URL+"/v1/verify", tc.creds["shared"], "")
		requireError(t, a, http.StatusConflict, "several issuers (issuer0, issuer1): the credential names no issuer: name one with ?issuer=ID")
		a = do(t, http.MethodPost, hs.URL+"/v1/verify?issuer=issuer1", tc.creds["shared"], "")
		requireVerdict(t, a, types.VerdictValid)
		require.Equal(t, "issuer1", a.json["issuer"])
	})
}

func TestBadInput(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "", verifier.WithMaxBody(1024))
	valid := tc.hashes["valid"]
	big := credential("big", identifier0, fmt.Sprintf(`, "padding": %q`, strings.Repeat("x", 2048)))
	for _, c := range []struct {
		name        string
		method      string
		path        string
		body        []byte
		contentType string
		code        int
		msg         string
	}{
		{"hash not hex", "GET", "/v1/credentials/" + strings.Repeat("zz", 32), nil, "", 400, "64 hex digits"},
		{"hash too short", "GET", "/v1/credentials/" + valid[:62], nil, "", 400, "is 31 bytes"},
		{"hash too long", "GET", "/v1/credentials/" + valid + "00", nil, "", 400, "is 33 bytes"},
		{"bundle of a bad hash", "GET", "/v1/credentials/xyz/bundle", nil, "", 400, "64 hex digits"},
		{"at_height zero", "GET", "/v1/credentials/" + valid + "?at_height=0", nil, "", 400, "positive integer"},
		{"at_height negative", "GET", "/v1/credentials/" + valid + "?at_height=-3", nil, "", 400, "positive integer"},
		{"at_height not a number", "GET", "/v1/credentials/" + valid + "?at_height=abc", nil, "", 400, "positive integer"},
		{"at_height with a sign", "GET", "/v1/credentials/" + valid + "?at_height=%2B5", nil, "", 400, "positive integer"},
		{"at_height empty", "GET", "/v1/credentials/" + valid + "?at_height=", nil, "", 400, "positive integer"},
		{"at_height overflows", "GET", "/v1/credentials/" + valid + "?at_height=99999999999999999999", nil, "", 400, "positive integer"},
		{"at_height beyond the chain", "GET", "/v1/credentials/" + valid + "?at_height=999999999", nil, "", 404, "at_height 999999999: there is no such state: height 999999999 is above the latest state"},
		{"bundle beyond the chain", "GET", "/v1/credentials/" + valid + "/bundle?at_height=999999999", nil, "", 404, "at_height 999999999"},
		{"verify beyond the chain", "POST", "/v1/verify?at_height=999999999", tc.creds["valid"], "", 404, "at_height 999999999"},
		{"issuer empty", "GET", "/v1/credentials/" + valid + "?issuer=", nil, "", 400, "issuer is empty"},
		{"unknown parameter", "GET", "/v1/credentials/" + valid + "?height=3", nil, "", 400, `unknown query parameter "height"`},
		{"parameter twice", "GET", "/v1/credentials/" + valid + "?issuer=a&issuer=b", nil, "", 400, "given 2 times"},
		{"bad query string", "GET", "/v1/credentials/" + valid + "?issuer=%zz", nil, "", 400, "query string"},
		{"issuer on the bundle", "GET", "/v1/credentials/" + valid + "/bundle?issuer=issuer0", nil, "", 400, `unknown query parameter "issuer"`},
		{"parameter on healthz", "GET", "/healthz?verbose=1", nil, "", 400, "takes no query parameters"},
		{"malformed JSON", "POST", "/v1/verify", []byte("{\n  \"issuer\": \"x\",\n}"), "application/json", 400, "not valid JSON at line 3, column 1"},
		{"empty body", "POST", "/v1/verify", []byte{}, "application/json", 400, "nothing to hash"},
		{"whitespace body", "POST", "/v1/verify", []byte(" \n\t"), "", 400, "nothing to hash"},
		{"no body", "POST", "/v1/verify", nil, "", 400, "nothing to hash"},
		{"not JSON", "POST", "/v1/verify", []byte("hello"), "", 400, "not JSON"},
		{"duplicate key", "POST", "/v1/verify", []byte(`{"a":1,"a":2}`), "", 400, "canonical form"},
		{"bad date", "POST", "/v1/verify", []byte(`{"issuer":"x","validUntil":"tomorrow"}`), "", 400, "validUntil"},
		{"bad issuer field", "POST", "/v1/verify", []byte(`{"issuer":42}`), "", 400, "issuer must be"},
		{"issuer parameter disagrees", "POST", "/v1/verify?issuer=issuer1", tc.creds["valid"], "", 400, `the credential names issuer "` + identifier0 + `"`},
		{"oversized body", "POST", "/v1/verify", big, "application/json", 413, "limit of 1024 bytes"},
		{"wrong content type", "POST", "/v1/verify", tc.creds["valid"], "text/plain", 415, "application/json"},
		{"bad content type", "POST", "/v1/verify", tc.creds["valid"], "application/", 415, "content type"},
		{"form", "POST", "/v1/verify", []byte("a=b"), "application/x-www-form-urlencoded", 415, "content type"},
		{"unknown parameter on verify", "POST", "/v1/verify?hash=" + valid, tc.creds["valid"], "", 400, `unknown query parameter "hash"`},
		{"GET verify", "GET", "/v1/verify", nil, "", 405, "use POST"},
		{"POST credentials", "POST", "/v1/credentials/" + valid, tc.creds["valid"], "", 405, "use GET"},
		{"DELETE healthz", "DELETE", "/healthz", nil, "", 405, "use GET"},
		{"no such route", "GET", "/v2/credentials/" + valid, nil, "", 404, "no such route"},
		{"trailing slash", "GET", "/v1/credentials/" + valid + "/", nil, "", 404, "no such route"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, c.method, hs.URL+c.path, c.body, c.contentType)
			requireError(t, a, c.code, c.msg)
		})
	}
	t.Run("405 says what is allowed", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, hs.URL+"/v1/verify", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		require.Equal(t, "POST", resp.Header.Get("Allow"))
	})
	t.Run("body at the limit is read", func(t *testing.T) {
		body := credential("limit", identifier0, "")
		body = append(body, bytes.Repeat([]byte(" "), 1024-len(body))...)
		requireVerdict(t, do(t, http.MethodPost, hs.URL+"/v1/verify", body, ""), types.VerdictNotAnchored)
	})
	t.Run("oversized body without a length", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(big)
			_ = pw.Close()
		}()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, hs.URL+"/v1/verify", pr)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
}

func TestBundleEndpoint(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	for _, c := range []struct {
		name    string
		hash    string
		verdict types.Verdict
	}{
		{"revoked", tc.hashes["revoked"], types.VerdictRevoked},
		{"not anchored", tc.hashes["unknown"], types.VerdictNotAnchored},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := get(t, hs.URL+"/v1/credentials/"+c.hash+"/bundle")
			require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
			require.Equal(t, "application/json", a.ct)
			require.Equal(t, bundle.Format, a.json["format"])
			b, err := bundle.Decode(a.raw)
			require.NoError(t, err)
			rep, err := bundle.Verify(b, tc.root, time.Now(), bundle.DefaultTrustingPeriod)
			require.NoError(t, err)
			require.NoError(t, rep.ApplyClaims(types.Claims{}))
			require.Equal(t, c.verdict, rep.Verdict)
			require.Equal(t, c.hash, fmt.Sprintf("%x", rep.Hash))
			again, err := b.Encode()
			require.NoError(t, err)
			require.Equal(t, string(again), string(a.raw), "the bytes prove writes")
		})
	}
	t.Run("at a height", func(t *testing.T) {
		a := get(t, fmt.Sprintf("%s/v1/credentials/%s/bundle?at_height=%d", hs.URL, tc.hashes["valid"], tc.validHeight-1))
		require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
		require.Equal(t, float64(tc.validHeight-1), a.json["as_of_height"])
		require.Greater(t, a.json["height"], a.json["as_of_height"], "proven from the latest state")
		b, err := bundle.Decode(a.raw)
		require.NoError(t, err)
		rep, err := bundle.Verify(b, tc.root, time.Now(), bundle.DefaultTrustingPeriod)
		require.NoError(t, err)
		require.NoError(t, rep.ApplyClaims(types.Claims{}))
		require.Equal(t, types.VerdictNotAnchored, rep.Verdict, "before the anchor")
	})
}

func TestHealthAndMetrics(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	a := get(t, hs.URL+"/healthz")
	require.Equal(t, http.StatusOK, a.code, "%s", a.raw)
	require.Equal(t, "ok", a.json["status"])
	require.Equal(t, "verifier-test", a.json["chain_id"])
	require.Greater(t, a.json["height"], float64(0))
	require.Equal(t, a.json["height"].(float64)+1, a.json["header_height"])
	require.NotEmpty(t, a.json["header_time"])

	requireVerdict(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["valid"]), types.VerdictValid)
	requireVerdict(t, do(t, http.MethodPost, hs.URL+"/v1/verify", tc.creds["revoked"], ""), types.VerdictRevoked)
	requireError(t, get(t, hs.URL+"/v1/credentials/nothex"), http.StatusBadRequest, "hex")
	m := get(t, hs.URL+"/metrics")
	require.Equal(t, http.StatusOK, m.code)
	for _, series := range []string{
		`credledger_verifier_requests_total{code="200",route="/healthz",verdict=""} 1`,
		`credledger_verifier_requests_total{code="200",route="/v1/credentials/{hash}",verdict="valid"} 1`,
		`credledger_verifier_requests_total{code="200",route="/v1/verify",verdict="revoked"} 1`,
		`credledger_verifier_requests_total{code="400",route="/v1/credentials/{hash}",verdict=""} 1`,
		`credledger_verifier_light_client_seconds_bucket{op="verify",le="+Inf"} 3`,
		`credledger_verifier_light_client_seconds_count{op="verify"} 3`,
		"credledger_verifier_verified_height ",
		"credledger_verifier_verified_header_age_seconds ",
	} {
		require.Contains(t, string(m.raw), series)
	}
}

func TestConcurrentRequests(t *testing.T) {
	tc := sharedChain(t)
	hs := tc.newServer(t, "")
	type request struct {
		method, path string
		body         []byte
		codes        []int
	}
	requests := []request{
		{"GET", "/v1/credentials/" + tc.hashes["valid"], nil, []int{200}},
		{"GET", "/v1/credentials/" + tc.hashes["revoked"] + "?issuer=issuer0", nil, []int{200}},
		{"GET", "/v1/credentials/" + tc.shared, nil, []int{409}},
		{"POST", "/v1/verify", tc.creds["expired"], []int{200}},
		{"POST", "/v1/verify", []byte("{"), []int{400}},
		{"GET", "/healthz", nil, []int{200}},
		{"GET", "/metrics", nil, []int{200}},
		{"GET", "/v1/credentials/nothex", nil, []int{400}},
	}
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				r := requests[(g+i)%len(requests)]
				if g == 7 && i == 0 {
					r = request{"GET", "/v1/credentials/" + tc.hashes["revoked"] + "/bundle", nil, []int{200}}
				}
				a, err := send(t.Context(), r.method, hs.URL+r.path, r.body, "")
				if err != nil || !slices.Contains(r.codes, a.code) {
					t.Errorf("%s %s: %d %s (%v)", r.method, r.path, a.code, a.raw, err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestLyingPrimary(t *testing.T) {
	tc := sharedChain(t)
	for _, c := range []struct {
		name   string
		mutate mutateFn
		msg    string
	}{
		{"tampered credential proof", onQuery(query.PathCredential, func(r *coretypes.ResultABCIQuery) bool {
			data := r.Response.ProofOps.Ops[0].Data
			data[len(data)/2] ^= 1
			return true
		}), "does not verify"},
		{"hidden revocation", onQuery(query.PathCredential, func(r *coretypes.ResultABCIQuery) bool {
			var ans types.CredentialAnswer
			if err := ans.Unmarshal(r.Response.Value); err != nil || len(ans.Record) == 0 {
				return false
			}
			var rec types.CredentialRecord
			if err := rec.Unmarshal(ans.Record); err != nil {
				panic(err)
			}
			for _, e := range rec.Entries {
				e.Status, e.History = nil, nil
			}
			ans.Record, _ = rec.Marshal()
			r.Response.Value, _ = ans.Marshal()
			return true
		}), "does not verify"},
		{"answer for another height", func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
			if method != "abci_query" || paramString(params, "path") != query.PathCredential {
				return nil
			}
			return rewrite(result, func(r *coretypes.ResultABCIQuery) bool {
				r.Response.Height--
				return true
			})
		}, "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy := newRPCProxy(t, tc.url, c.mutate)
			hs := tc.newServer(t, proxy.URL())
			requireError(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["revoked"]), http.StatusBadGateway, c.msg)
			requireError(t, do(t, http.MethodPost, hs.URL+"/v1/verify", tc.creds["revoked"], ""), http.StatusBadGateway, c.msg)
			requireError(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["revoked"]+"/bundle"), http.StatusBadGateway, c.msg)
			m := get(t, hs.URL+"/metrics")
			require.Contains(t, string(m.raw), `credledger_verifier_requests_total{code="502",route="/v1/credentials/{hash}",verdict=""} 1`)
		})
	}
	t.Run("unreachable primary", func(t *testing.T) {
		proxy := newRPCProxy(t, tc.url, nil)
		hs := tc.newServer(t, proxy.URL())
		requireVerdict(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["valid"]), types.VerdictValid)
		proxy.srv.Close()
		requireError(t, get(t, hs.URL+"/v1/credentials/"+tc.hashes["valid"]), http.StatusBadGateway, "unreachable")
	})
}
