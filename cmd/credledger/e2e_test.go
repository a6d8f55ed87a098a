package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// statusOut is the JSON contract of `credledger status --output json`,
// written down independently of the command's own struct.
type statusOut struct {
	Hash           string  `json:"hash"`
	File           string  `json:"file"`
	Verdict        string  `json:"verdict"`
	Issuer         string  `json:"issuer"`
	Height         int64   `json:"height"`
	AnchoredHeight int64   `json:"anchored_height"`
	AnchoredTime   *string `json:"anchored_time"`
	Reason         string  `json:"reason"`
	StatusIssuer   string  `json:"status_issuer"`
	StatusHeight   int64   `json:"status_height"`
	ChainID        string  `json:"chain_id"`
	HeaderHeight   int64   `json:"header_height"`
	HeaderTime     string  `json:"header_time"`
	AppHash        string  `json:"app_hash"`
}

// txOut is one line of `anchor|revoke|... --output json`.
type txOut struct {
	Hash   string `json:"hash"`
	File   string `json:"file"`
	Height int64  `json:"height"`
	Tx     string `json:"tx"`
	Error  string `json:"error"`
}

var (
	hex64    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hex64Up  = regexp.MustCompile(`^[0-9A-F]{64}$`)
	hashLine = regexp.MustCompile(`^([0-9a-f]{64})  (.+)$`)
	txLineRe = regexp.MustCompile(`^([0-9a-f]{64})  height=([0-9]+)  tx=([0-9A-F]{64})\s*(.*)$`)
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func randomHex(t *testing.T) string {
	t.Helper()
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// anchoredLine is one parsed line of a successful tx command in text mode.
type anchoredLine struct {
	hash   string
	height int64
	tx     string
	file   string
}

// runTxOK runs a tx command that must succeed and parses its text output.
func runTxOK(t *testing.T, bin string, args ...string) []anchoredLine {
	t.Helper()
	res := runCLI(t, bin, args...)
	require.Equal(t, 0, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stderr, "a successful tx command prints nothing on stderr")
	var out []anchoredLine
	for _, l := range res.stdoutLines() {
		m := txLineRe.FindStringSubmatch(l)
		require.NotNil(t, m, "unexpected output line %q", l)
		h, err := strconv.ParseInt(m[2], 10, 64)
		require.NoError(t, err)
		require.Positive(t, h, "line %q", l)
		out = append(out, anchoredLine{hash: m[1], height: h, tx: m[3], file: m[4]})
	}
	return out
}

// runTxFail runs a tx command that must be rejected: exit 1, nothing on
// stdout, and every wanted phrase on stderr.
func runTxFail(t *testing.T, bin string, want []string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, bin, args...)
	require.Equal(t, 1, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stdout, "credledger %s", strings.Join(args, " "))
	for _, w := range want {
		require.Contains(t, res.stderr, w, "credledger %s", strings.Join(args, " "))
	}
	return res
}

// runStatus runs `status TARGET... --output json` and checks the exit code,
// the verdict and the invariants every answer must satisfy.
func runStatus(t *testing.T, bin, nodeURL string, wantCode int, wantVerdict string, target ...string) statusOut {
	t.Helper()
	args := append(append([]string{"status"}, target...), "--node", nodeURL, "--output", "json")
	res := runCLI(t, bin, args...)
	require.Equal(t, wantCode, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stderr, "a verdict is not an error: nothing on stderr")
	out := res.stdoutLines()
	require.Len(t, out, 1, "status prints one JSON object: %s", res)
	var st statusOut
	require.NoError(t, json.Unmarshal([]byte(out[0]), &st), "status JSON %q", out[0])
	require.Equal(t, wantVerdict, st.Verdict, "status JSON %s", out[0])
	require.Regexp(t, hex64, st.Hash)
	require.Regexp(t, hex64, st.AppHash)
	require.Equal(t, node.DefaultChainID, st.ChainID)
	require.Positive(t, st.Height)
	require.Contains(t, []int64{st.Height, st.Height + 1}, st.HeaderHeight, "the proving header is Height+1 (or Height when block Height changed nothing)")
	if st.Verdict == "not_anchored" {
		require.Zero(t, st.AnchoredHeight)
		require.Nil(t, st.AnchoredTime)
	}
	return st
}

func TestCLIWalkthrough(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}

	cred := writeFile(t, dir, "cred.json", `{"name":"Ada","degree":"BSc","grade":4.50}`)
	pretty := writeFile(t, dir, "cred-pretty.json", "{\n  \"grade\": 4.5,\n  \"degree\": \"BSc\",\n  \"name\": \"\\u0041da\"\n}\n")
	raw := writeFile(t, dir, "diploma.txt", "Ada Lovelace, BSc {not json\n")
	// RFC 8785: sorted members, shortest number form, no whitespace
	credHash := sha256Hex(`{"degree":"BSc","grade":4.5,"name":"Ada"}`)
	rawHash := sha256Hex("Ada Lovelace, BSc {not json\n")

	var anchorHeight int64
	var rawTx txOut
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"hash", func(t *testing.T) {
			res := runCLI(t, bin, "hash", cred, pretty, raw)
			require.Equal(t, 0, res.code, "%s", res)
			require.Empty(t, res.stderr)
			got := map[string]string{}
			for _, l := range res.stdoutLines() {
				m := hashLine.FindStringSubmatch(l)
				require.NotNil(t, m, "hash line %q", l)
				got[m[2]] = m[1]
			}
			require.Equal(t, map[string]string{cred: credHash, pretty: credHash, raw: rawHash}, got)
			bz, err := os.ReadFile(cred)
			require.NoError(t, err)
			require.NotEqual(t, sha256Hex(string(bz)), credHash, "JSON is hashed in canonical form, not as raw bytes")
		}},
		{"anchor", func(t *testing.T) {
			l := runTxOK(t, bin, append([]string{"anchor", cred}, from...)...)
			require.Len(t, l, 1)
			require.Equal(t, credHash, l[0].hash)
			require.Equal(t, cred, l[0].file)
			anchorHeight = l[0].height
		}},
		{"anchor json output", func(t *testing.T) {
			res := runCLI(t, bin, append([]string{"anchor", raw, "--output", "json"}, from...)...)
			require.Equal(t, 0, res.code, "%s", res)
			require.Empty(t, res.stderr)
			out := res.stdoutLines()
			require.Len(t, out, 1, "%s", res)
			var obj map[string]any
			require.NoError(t, json.Unmarshal([]byte(out[0]), &obj), "%q", out[0])
			for _, k := range []string{"hash", "height", "tx"} {
				require.Contains(t, obj, k, "anchor JSON %s", out[0])
			}
			require.NoError(t, json.Unmarshal([]byte(out[0]), &rawTx))
			require.Equal(t, rawHash, rawTx.Hash)
			require.Positive(t, rawTx.Height)
			require.Regexp(t, hex64Up, rawTx.Tx)
			require.Empty(t, rawTx.Error)
		}},
		{"tx_search finds the tx by issuer, its event counts the credentials", func(t *testing.T) {
			res, err := n.client().RPC().TxSearch(t.Context(), fmt.Sprintf("anchor.issuer='%s'", node.DefaultIssuerID), false, nil, nil, "")
			require.NoError(t, err)
			var found bool
			for _, tx := range res.Txs {
				if strings.ToUpper(hex.EncodeToString(tx.Hash)) != rawTx.Tx {
					continue
				}
				found = true
				require.Equal(t, rawTx.Height, tx.Height)
				require.Len(t, tx.TxResult.Events, 1)
				ev := tx.TxResult.Events[0]
				require.Equal(t, "anchor", ev.Type)
				require.Equal(t, []abcitypes.EventAttribute{
					{Key: "issuer", Value: node.DefaultIssuerID, Index: true},
					{Key: "credentials", Value: "1"},
				}, ev.Attributes, "no attribute per credential (issue 10: 210 B per credential in the tx index)")
			}
			require.True(t, found, "tx %s among the issuer's %d txs", rawTx.Tx, len(res.Txs))
			none, err := n.client().RPC().TxSearch(t.Context(), fmt.Sprintf("revoke.issuer='%s'", node.DefaultIssuerID), false, nil, nil, "")
			require.NoError(t, err)
			require.Empty(t, none.Txs, "no revoke yet")
		}},
		{"status valid", func(t *testing.T) {
			st := runStatus(t, bin, n.url, 0, "valid", cred)
			require.Equal(t, credHash, st.Hash)
			require.Equal(t, cred, st.File)
			require.Equal(t, node.DefaultIssuerID, st.Issuer)
			require.Equal(t, anchorHeight, st.AnchoredHeight)
			require.GreaterOrEqual(t, st.Height, st.AnchoredHeight)
			require.NotNil(t, st.AnchoredTime)
			require.Empty(t, st.Reason)

			st = runStatus(t, bin, n.url, 0, "valid", "--hash", rawHash)
			require.Equal(t, rawTx.Height, st.AnchoredHeight)

			res := runCLI(t, bin, "status", pretty, "--node", n.url)
			require.Equal(t, 0, res.code, "a re-formatted copy is the same credential: %s", res)
			require.Contains(t, res.stdout, "verdict:  valid")
		}},
		{"anchor again", func(t *testing.T) {
			runTxFail(t, bin, []string{"already anchored", `"issuer0"`, credHash}, append([]string{"anchor", pretty}, from...)...)
		}},
		{"unknown hash", func(t *testing.T) {
			h := randomHex(t)
			st := runStatus(t, bin, n.url, 4, "not_anchored", "--hash", h)
			require.Equal(t, h, st.Hash)
			require.Empty(t, st.Issuer)
			res := runCLI(t, bin, "status", "--hash", h, "--node", n.url)
			require.Equal(t, 4, res.code, "%s", res)
			require.Contains(t, res.stdout, "verdict:  not_anchored")
		}},
		{"lifecycle", func(t *testing.T) { testLifecycle(t, bin, n, cred, credHash, anchorHeight) }},
		{"several files", func(t *testing.T) {
			var files []string
			want := map[string]string{}
			for i := range 5 {
				f := writeFile(t, dir, fmt.Sprintf("student%d.json", i), fmt.Sprintf(`{"name":"Student %d","degree":"MSc"}`, i))
				files = append(files, f)
				want[f] = sha256Hex(fmt.Sprintf(`{"degree":"MSc","name":"Student %d"}`, i))
			}
			l := runTxOK(t, bin, append(append([]string{"anchor"}, files...), from...)...)
			require.Len(t, l, len(files))
			got := map[string]string{}
			for _, x := range l {
				got[x.file] = x.hash
				require.Equal(t, l[0].tx, x.tx, "5 hashes fit one batch: one tx")
				require.Equal(t, l[0].height, x.height)
			}
			require.Equal(t, want, got)
			for _, f := range files {
				st := runStatus(t, bin, n.url, 0, "valid", f)
				require.Equal(t, l[0].height, st.AnchoredHeight)
			}
		}},
		{"hash flags", func(t *testing.T) { testHashFlags(t, bin, n, dir) }},
		{"keys", func(t *testing.T) {
			res := runCLI(t, bin, "keys", "add", "other", "--home", n.home)
			require.Equal(t, 0, res.code, "%s", res)
			require.Empty(t, res.stderr)
			res = runCLI(t, bin, "keys", "show", "other", "--home", n.home, "--output", "json")
			require.Equal(t, 0, res.code, "%s", res)
			require.Len(t, res.stdoutLines(), 1)
			var k map[string]any
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &k), "%s", res.stdout)
			require.Equal(t, "other", k["name"])
			pub, _ := k["pubkey"].(string)
			require.Regexp(t, hex64, pub)
			require.Contains(t, runCLI(t, bin, "keys", "show", "other", "--home", n.home).stdout, pub)

			res = runCLI(t, bin, "keys", "list", "--home", n.home)
			require.Equal(t, 0, res.code, "%s", res)
			l := res.stdoutLines()
			require.Len(t, l, 2, "%s", res)
			require.True(t, strings.HasPrefix(l[0], node.DefaultIssuerID+"\t"), "sorted by name: %q", l[0])
			require.True(t, strings.HasPrefix(l[1], "other\t"), "%q", l[1])
			require.Contains(t, l[1], pub)

			res = runCLI(t, bin, "keys", "list", "--home", n.home, "--output", "json")
			require.Equal(t, 0, res.code, "%s", res)
			require.Len(t, res.stdoutLines(), 2, "one JSON object per key: %s", res)

			runTxFail(t, bin, []string{"already"}, "keys", "add", "other", "--home", n.home)
		}},
		{"not an issuer", func(t *testing.T) {
			f := writeFile(t, dir, "forged.json", `{"name":"Mallory","degree":"PhD"}`)
			runTxFail(t, bin, []string{"unknown issuer", `"other"`}, "anchor", f, "--from", "other", "--home", n.home)
			runStatus(t, bin, n.url, 4, "not_anchored", f)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.FailNow()
		}
	}
}

// testLifecycle walks cred (anchored by issuer0 at anchorHeight) through
// suspend, reinstate and revoke, checking the verdict after each step.
func testLifecycle(t *testing.T, bin string, n *testNode, cred, credHash string, anchorHeight int64) {
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	for _, tc := range []struct {
		name string
		args []string
		// failWith, if set, means the tx must be rejected with these phrases
		failWith []string
		code     int
		verdict  string
		reason   string
	}{
		{name: "suspend", args: []string{"suspend", cred, "--reason", "under review"}, code: 3, verdict: "suspended", reason: "under review"},
		{name: "suspend again", args: []string{"suspend", cred, "--reason", "still under review"}, failWith: []string{"already suspended"}, code: 3, verdict: "suspended", reason: "under review"},
		{name: "reinstate", args: []string{"reinstate", cred, "--reason", "checked"}, code: 0, verdict: "valid", reason: "checked"},
		{name: "reinstate not suspended", args: []string{"reinstate", cred}, failWith: []string{"not suspended"}, code: 0, verdict: "valid", reason: "checked"},
		{name: "revoke", args: []string{"revoke", cred, "--reason", "issued in error"}, code: 2, verdict: "revoked", reason: "issued in error"},
		{name: "reinstate after revoke", args: []string{"reinstate", cred}, failWith: []string{"revocation is final"}, code: 2, verdict: "revoked", reason: "issued in error"},
		{name: "revoke again", args: []string{"revoke", cred, "--reason", "twice"}, failWith: []string{"revocation is final"}, code: 2, verdict: "revoked", reason: "issued in error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(slices.Clone(tc.args), from...)
			var height int64
			if tc.failWith != nil {
				runTxFail(t, bin, tc.failWith, args...)
			} else {
				l := runTxOK(t, bin, args...)
				require.Len(t, l, 1)
				require.Equal(t, credHash, l[0].hash)
				height = l[0].height
			}
			st := runStatus(t, bin, n.url, tc.code, tc.verdict, cred)
			require.Equal(t, tc.reason, st.Reason)
			require.Equal(t, node.DefaultIssuerID, st.Issuer)
			require.Equal(t, node.DefaultIssuerID, st.StatusIssuer)
			require.Equal(t, anchorHeight, st.AnchoredHeight, "a status change keeps the anchor")
			if height > 0 {
				require.Equal(t, height, st.StatusHeight)
			}
			require.GreaterOrEqual(t, st.Height, st.StatusHeight)
		})
	}
}

// testHashFlags anchors with --hash and --hash-file and revokes a hash that
// was never anchored (a credential issued off-ledger).
func testHashFlags(t *testing.T, bin string, n *testNode, dir string) {
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	h1, h2, h3, h4 := randomHex(t), randomHex(t), randomHex(t), randomHex(t)
	hf := writeFile(t, dir, "hashes.txt", "# bulk\n"+h1+"\n\n"+h2+"  first.pdf\n")

	res := runCLI(t, bin, append([]string{"anchor", "--hash-file", hf, "--output", "json"}, from...)...)
	require.Equal(t, 0, res.code, "%s", res)
	var got []string
	for _, l := range res.stdoutLines() {
		var o txOut
		require.NoError(t, json.Unmarshal([]byte(l), &o), "%q", l)
		require.Positive(t, o.Height)
		require.Empty(t, o.Error)
		got = append(got, o.Hash)
	}
	require.ElementsMatch(t, []string{h1, h2}, got)

	l := runTxOK(t, bin, append([]string{"anchor", "--hash", h3, "--hash", strings.ToUpper(h4)}, from...)...)
	require.Len(t, l, 2)
	require.ElementsMatch(t, []string{h3, h4}, []string{l[0].hash, l[1].hash})
	for _, h := range []string{h1, h2, h3, h4} {
		runStatus(t, bin, n.url, 0, "valid", "--hash", h)
	}

	off := randomHex(t)
	runTxOK(t, bin, append([]string{"revoke", "--hash", off, "--reason", "issued off-ledger"}, from...)...)
	st := runStatus(t, bin, n.url, 2, "revoked", "--hash", off)
	require.Equal(t, "issued off-ledger", st.Reason)
	require.Equal(t, node.DefaultIssuerID, st.Issuer, "the revoking issuer, as the hash has no anchor")
	require.Zero(t, st.AnchoredHeight)
	// the issuer's own off-ledger revocation stands: it cannot anchor the hash later
	runTxFail(t, bin, []string{"already revoked it at height", "before anchoring it"}, append([]string{"anchor", "--hash", off}, from...)...)
}

func TestCLIBadInput(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	res := runCLI(t, bin, "init", "--home", home, "--base-port", strconv.Itoa(freeBasePort(t)))
	require.Equal(t, 0, res.code, "%s", res)
	// no node runs for home; its config points at a port nobody listens on
	closed := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
	good := randomHex(t)
	file := writeFile(t, dir, "cred.json", `{"name":"Ada"}`)
	missing := filepath.Join(dir, "no-such-file.json")
	badHashFile := writeFile(t, dir, "bad-hashes.txt", good+"\nnot-a-hash\n")
	from := []string{"--from", node.DefaultIssuerID, "--home", home}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"status malformed hex", []string{"status", "--hash", "zz" + good[2:], "--node", closed}, "not hex"},
		{"status short hash", []string{"status", "--hash", "abcd", "--node", closed}, "is 2 bytes, want 32"},
		{"anchor malformed hex", append([]string{"anchor", "--hash", "zz" + good[2:]}, from...), "not hex"},
		{"revoke long hash", append([]string{"revoke", "--hash", good + "00", "--reason", "x"}, from...), "want 32"},
		{"revoke without reason", append([]string{"revoke", "--hash", good}, from...), "--reason is required for revoke"},
		{"suspend with blank reason", append([]string{"suspend", "--hash", good, "--reason", "  "}, from...), "--reason is required for suspend"},
		{"status missing file", []string{"status", missing, "--node", closed}, "does not exist"},
		{"anchor missing file", append([]string{"anchor", missing}, from...), "does not exist"},
		{"anchor missing hash file", append([]string{"anchor", "--hash-file", missing}, from...), "--hash-file"},
		{"anchor bad hash file line", append([]string{"anchor", "--hash-file", badHashFile}, from...), "line 2"},
		{"missing key", []string{"anchor", "--hash", good, "--from", "nobody", "--home", home}, `no key named "nobody"`},
		{"status unreachable node", []string{"status", "--hash", good, "--node", closed}, "node unreachable"},
		{"anchor unreachable node", append([]string{"anchor", file, "--node", closed}, from...), "node unreachable"},
		{"anchor unreachable node from config", append([]string{"suspend", file, "--reason", "x"}, from...), "node unreachable"},
		{"node without scheme", []string{"status", file, "--node", strings.TrimPrefix(closed, "http://")}, "want a URL"},
		{"missing --from", []string{"anchor", file, "--home", home}, "--from is required"},
		{"missing --home", []string{"anchor", file, "--from", node.DefaultIssuerID}, "--home is required"},
		{"keys missing --home", []string{"keys", "list"}, "--home is required"},
		{"status file and hash", []string{"status", file, "--hash", good, "--node", closed}, "not both"},
		{"status nothing", []string{"status", "--node", closed}, "give a credential FILE or --hash"},
		{"anchor nothing", append([]string{"anchor"}, from...), "nothing to do"},
		{"status unknown output", []string{"status", file, "--output", "yaml", "--node", closed}, `--output "yaml"`},
		{"anchor unknown output", append([]string{"anchor", file, "--output", "xml"}, from...), `--output "xml"`},
		{"keys unknown output", []string{"keys", "list", "--home", home, "--output", "csv"}, `--output "csv"`},
		{"keys show missing", []string{"keys", "show", "nobody", "--home", home}, `no key named "nobody"`},
		{"keys add bad name", []string{"keys", "add", "../evil", "--home", home}, "key name"},
		{"init existing home", []string{"init", "--home", home}, "already initialised"},
		{"start without node", []string{"start", "--home", filepath.Join(dir, "empty")}, "credledger init"},
		{"propose-add bad issuer key", append([]string{"issuer", "propose-add", "--id", "x", "--name", "X", "--issuer-pubkey", "zz", "--validator-pubkey", good}, from...), "--issuer-pubkey"},
		{"propose-add short validator key", append([]string{"issuer", "propose-add", "--id", "x", "--name", "X", "--issuer-pubkey", good, "--validator-pubkey", "abcd"}, from...), "--validator-pubkey"},
		{"propose-add bad id", append([]string{"issuer", "propose-add", "--id", "a b", "--name", "X", "--issuer-pubkey", good, "--validator-pubkey", good}, from...), "issuer id"},
		{"propose-add zero power", append([]string{"issuer", "propose-add", "--id", "x", "--name", "X", "--issuer-pubkey", good, "--validator-pubkey", good, "--power", "0"}, from...), "power 0"},
		{"propose-remove no id", append([]string{"issuer", "propose-remove"}, from...), "--id"},
		{"propose-add bad identifier", append([]string{"issuer", "propose-add", "--id", "x", "--name", "X", "--issuer-pubkey", good, "--validator-pubkey", good, "--identifier", "x.example"}, from...), "want a DID"},
		{"propose-identifiers bad identifier", append([]string{"issuer", "propose-identifiers", "--id", "issuer0", "--identifier", "did:web:"}, from...), "want a DID"},
		{"propose-replace-key bad key", append([]string{"issuer", "propose-replace-key", "--id", "issuer0", "--issuer-pubkey", "zz"}, from...), "--issuer-pubkey"},
		{"propose-replace-key bad id", append([]string{"issuer", "propose-replace-key", "--id", "a b", "--issuer-pubkey", good}, from...), "issuer id"},
		{"vote neither yes nor no", append([]string{"issuer", "vote", "--proposal", "1"}, from...), "--yes or --no"},
		{"vote both", append([]string{"issuer", "vote", "--proposal", "1", "--yes", "--no"}, from...), "--yes or --no"},
		{"vote no proposal", append([]string{"issuer", "vote", "--yes"}, from...), "--proposal is required"},
		{"rotate-key missing new key", append([]string{"issuer", "rotate-key", "--new-key", "nobody"}, from...), `no key named "nobody"`},
		{"proposal show not a number", []string{"proposal", "show", "abc", "--node", closed}, "want a positive number"},
		{"issuer show bad id", []string{"issuer", "show", "a/b", "--node", closed}, "issuer id"},
		{"issuer list unreachable", []string{"issuer", "list", "--node", closed}, "node unreachable"},
		{"testnet no output", []string{"testnet", "--validators", "2"}, "--output is required"},
		{"testnet zero validators", []string{"testnet", "--validators", "0", "--output", filepath.Join(dir, "tn")}, "want 1..100"},
		{"init bad peers", []string{"init", "--home", filepath.Join(dir, "joiner"), "--genesis", filepath.Join(home, "config", "genesis.json"), "--peers", "nonsense"}, "--peers"},
		{"init missing genesis", []string{"init", "--home", filepath.Join(dir, "joiner2"), "--genesis", missing}, "--genesis"},
		{"init bad identifier", []string{"init", "--home", filepath.Join(dir, "ident"), "--identifier", "not a did"}, "--identifier"},
		{"init identifier when joining", []string{"init", "--home", filepath.Join(dir, "ident2"), "--genesis", filepath.Join(home, "config", "genesis.json"), "--identifier", "did:web:x.test"}, "--identifier does not apply with --genesis"},
		{"show-validator no node", []string{"show-validator", "--home", filepath.Join(dir, "empty")}, "no validator key"},
		{"unknown flag", []string{"status", "--bogus"}, "unknown flag: --bogus"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := runCLI(t, bin, tc.args...)
			require.Equal(t, 1, res.code, "credledger %s: %s", strings.Join(tc.args, " "), res)
			require.Empty(t, res.stdout, "nothing on stdout: %s", res)
			l := res.stderrLines()
			require.Len(t, l, 1, "exactly one line on stderr: %s", res)
			require.True(t, strings.HasPrefix(l[0], "credledger: "), "stderr %q", l[0])
			require.Contains(t, l[0], tc.want)
			require.Less(t, time.Since(start), 10*time.Second, "bad input fails fast")
		})
	}
}

// crashBatch is one committed tx of the crash test.
type crashBatch struct {
	hashes [][]byte
	height int64
}

// crashLedger is what the crash test knows to be committed.
type crashLedger struct {
	batches []crashBatch
	txs     uint64           // committed anchor txs of issuer0
	headers map[int64][]byte // app hash of the header at a height, as first seen
}

func (l *crashLedger) add(hashes [][]byte, height int64) {
	l.batches = append(l.batches, crashBatch{hashes: hashes, height: height})
	l.txs++
}

func (l *crashLedger) maxHeight() int64 {
	var m int64
	for _, b := range l.batches {
		m = max(m, b.height)
	}
	return m
}

// killWhen is when a crash round SIGKILLs the node during a submission.
type killWhen int

const (
	// killAfterFirstCommit: once Submit reports the first batch committed.
	killAfterFirstCommit killWhen = iota
	// killDuringStateWrite: as soon as the app's state database grows by a
	// flush of a large version, i.e. in the middle of a Commit.
	killDuringStateWrite
	// killAfterDelay: after a random delay.
	killAfterDelay
)

func (k killWhen) String() string {
	return [...]string{"after the first commit", "during a state write", "after a random delay"}[k]
}

const (
	crashBatchSize    = 2000
	crashFirstBatches = 5
	crashFlightBatch  = 20
	// stateWriteGrowth is how much the state journal must grow before a
	// killDuringStateWrite kill: more than a commit of an empty block
	// writes, less than iavl's flush threshold (100 KB)
	stateWriteGrowth = 64 << 10
)

func randomHashes(t *testing.T, n int) [][]byte {
	t.Helper()
	buf := make([]byte, 32*n)
	_, err := rand.Read(buf)
	require.NoError(t, err)
	out := make([][]byte, n)
	for i := range out {
		out[i] = buf[32*i : 32*(i+1) : 32*(i+1)]
	}
	return out
}

func committed(r client.BatchResult) bool { return r.Err == nil && r.Height > 0 }

// TestCrashRecovery SIGKILLs a node while it takes a stream of anchor
// batches, restarts it from the same home, and checks that nothing it
// reported as committed was lost or changed, that each tx is all or
// nothing, that the issuer's sequence continues, and that the node keeps
// committing. It does so three times, killing at different moments.
func TestCrashRecovery(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	ctx := t.Context()
	c := n.client()
	key, err := keys.Load(n.home, node.DefaultIssuerID)
	require.NoError(t, err)
	seq0, err := c.Sequence(ctx, key.Issuer)
	require.NoError(t, err)
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 1))

	led := &crashLedger{headers: map[int64][]byte{}}
	opts := client.SubmitOptions{BatchSize: crashBatchSize, CommitTimeout: 60 * time.Second}
	results, err := c.Submit(ctx, key, types.ActionAnchor, randomHashes(t, crashFirstBatches*crashBatchSize), opts)
	require.NoError(t, err)
	require.Len(t, results, crashFirstBatches)
	for i, r := range results {
		require.True(t, committed(r), "batch %d: %v", i, r.Err)
		led.add(r.Hashes, r.Height)
	}
	// the header proving the state after the last batch
	waitHeight(t, c, led.maxHeight()+1)
	recordHeaders(t, c, led)

	rounds := []killWhen{killAfterFirstCommit, killDuringStateWrite, killAfterDelay}
	for i, when := range rounds {
		t.Logf("round %d: %d batches committed so far, up to height %d; kill %s", i+1, len(led.batches), led.maxHeight(), when)
		pending := crashInFlight(t, n, c, key, led, when, rng)
		n.restart()
		testAfterRestart(t, c, key, led, pending, seq0, rng)
		// after the kills most likely to interrupt a commit, fully check the
		// newest batch from before the restart (the one in that commit)
		var full []int
		if when != killAfterFirstCommit {
			full = []int{len(led.batches) - 2}
		}
		checkCommitted(t, c, led, full, rng)
	}
}

// crashInFlight starts a background submission of crashFlightBatch batches,
// SIGKILLs the node while it is in flight, records the batches reported
// committed and returns the others, in submission order.
func crashInFlight(t *testing.T, n *testNode, c *client.Client, key *keys.Key, led *crashLedger, when killWhen, rng *mrand.Rand) []client.BatchResult {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	hashes := randomHashes(t, crashFlightBatch*crashBatchSize)
	firstCommit := make(chan struct{}, 1)
	opts := client.SubmitOptions{BatchSize: crashBatchSize, CommitTimeout: 60 * time.Second,
		Progress: func(int, int, int64) {
			select {
			case firstCommit <- struct{}{}:
			default:
			}
		}}
	var trigger <-chan struct{}
	var timer <-chan time.Time
	switch when {
	case killAfterFirstCommit:
		trigger = firstCommit
	case killDuringStateWrite:
		dir := filepath.Join(n.home, "data", "app.db")
		require.DirExists(t, dir, "the app's state database")
		trigger = watchJournal(ctx, dir, stateWriteGrowth)
	case killAfterDelay:
		delay := time.Duration(200+rng.IntN(1800)) * time.Millisecond
		t.Logf("kill %s after the submission starts", delay)
		timer = time.After(delay)
	}
	type submitted struct {
		results []client.BatchResult
		err     error
	}
	done := make(chan submitted, 1)
	start := time.Now()
	go func() {
		r, err := c.Submit(ctx, key, types.ActionAnchor, hashes, opts)
		done <- submitted{r, err}
	}()
	var sub submitted
	select {
	case <-trigger:
	case <-timer:
	case sub = <-done:
		t.Logf("submission finished before the kill")
	case <-time.After(90 * time.Second):
		t.Fatalf("kill %s: not triggered within 90s", when)
	}
	n.kill()
	t.Logf("node killed %s after the submission started", time.Since(start).Round(time.Millisecond))
	if sub.results == nil && sub.err == nil {
		select {
		case sub = <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("Submit did not return within 60s of the node's death")
		}
	}
	var pending []client.BatchResult
	for _, r := range sub.results {
		var te *types.CodeError
		require.False(t, errors.As(r.Err, &te), "in-flight batch rejected by the node: %v", r.Err)
		if committed(r) {
			require.Empty(t, pending, "batch committed after one that was not")
			led.add(r.Hashes, r.Height)
			continue
		}
		pending = append(pending, r)
	}
	t.Logf("%d of %d batches broadcast, %d confirmed committed (submit error: %v)",
		len(sub.results), crashFlightBatch, len(sub.results)-len(pending), sub.err)
	return pending
}

// watchJournal returns a channel that is closed once a leveldb journal
// (*.log) in dir has grown by at least growth bytes. Only a Commit writes
// to the app's state database, so that happens in the middle of one.
func watchJournal(ctx context.Context, dir string, growth int64) <-chan struct{} {
	sizes := func() map[string]int64 {
		m := map[string]int64{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".log") {
				continue
			}
			if fi, err := e.Info(); err == nil {
				m[e.Name()] = fi.Size()
			}
		}
		return m
	}
	base := sizes()
	fired := make(chan struct{})
	go func() {
		// bounded: at most 90 s of 1 ms polls
		for range 90_000 {
			for name, size := range sizes() {
				if size-base[name] >= growth {
					close(fired)
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return fired
}

// testAfterRestart checks the restarted node: it commits a new batch, the
// unconfirmed in-flight batches are each all or nothing and form a prefix,
// the issuer's sequence counts every committed tx, the recorded headers
// are unchanged, and the restarted app proves every batch at its height
// against the header recorded for it.
func testAfterRestart(t *testing.T, c *client.Client, key *keys.Key, led *crashLedger, pending []client.BatchResult, seq0 uint64, rng *mrand.Rand) {
	ctx := t.Context()
	before := led.maxHeight()
	post := anchorAfterRestart(t, c, key)

	// unconfirmed batches: all or nothing each, and a prefix of them got in
	landed := 0
	for i, r := range pending {
		v := verdictOf(t, c, r.Hashes[0])
		for _, j := range []int{len(r.Hashes) - 1, rng.IntN(len(r.Hashes)), rng.IntN(len(r.Hashes))} {
			require.Equal(t, v.Verdict, verdictOf(t, c, r.Hashes[j]).Verdict, "unconfirmed batch %d is not all or nothing", i)
		}
		switch v.Verdict {
		case types.VerdictValid:
			require.Equal(t, landed, i, "unconfirmed batch %d was committed, but batch %d was not", i, landed)
			landed++
			require.LessOrEqual(t, v.Anchor.Height, post.Height)
			led.add(r.Hashes, v.Anchor.Height)
		case types.VerdictNotAnchored:
		default:
			t.Fatalf("unconfirmed batch %d: verdict %s", i, v.Verdict)
		}
	}
	t.Logf("after restart: %d unconfirmed batches, %d of them were committed anyway; new batch at height %d", len(pending), landed, post.Height)
	require.Greater(t, post.Height, before, "the new batch is in a new block")
	led.add(post.Hashes, post.Height)
	seq, err := c.Sequence(ctx, key.Issuer)
	require.NoError(t, err)
	require.Equal(t, seq0+led.txs, seq, "the sequence counts every committed anchor tx")

	for h, want := range led.headers {
		require.Equal(t, want, appHashAt(t, c, h), "app hash of header %d changed across the crash", h)
	}
	waitHeight(t, c, post.Height+1)
	recordHeaders(t, c, led)
	for i, b := range led.batches {
		checkHistoricalProof(t, c, b.hashes[rng.IntN(len(b.hashes))], b.height, led.headers[b.height+1], i)
	}
}

// anchorAfterRestart anchors one new batch and returns its result. A tx
// sent while the restarted node still finishes a block left in its
// consensus WAL can be accepted on the old state and then dropped (its
// sequence was taken by that block), so this waits for the app to catch
// up with the block store first and retries a dropped tx twice.
func anchorAfterRestart(t *testing.T, c *client.Client, key *keys.Key) client.BatchResult {
	hashes := randomHashes(t, crashBatchSize)
	for attempt := 1; ; attempt++ {
		waitAppCaughtUp(t, c)
		results, err := c.Submit(t.Context(), key, types.ActionAnchor, hashes, client.SubmitOptions{CommitTimeout: 20 * time.Second})
		require.NoError(t, err, "anchor after restart")
		require.Len(t, results, 1)
		r := results[0]
		if committed(r) {
			return r
		}
		var te *types.CodeError
		dropped := !errors.As(r.Err, &te) || te.Code == types.CodeSequenceReplayed
		require.True(t, dropped && attempt < 3, "anchor after restart, attempt %d: %v", attempt, r.Err)
		t.Logf("anchor after restart, attempt %d: %v; retrying", attempt, r.Err)
	}
}

// waitAppCaughtUp waits (bounded) until the app's committed height equals
// the block store's height in two polls 200 ms apart.
func waitAppCaughtUp(t *testing.T, c *client.Client) {
	t.Helper()
	var last string
	stable := 0
	for range 150 {
		info, err := c.Status(t.Context())
		require.NoError(t, err)
		abci, err := c.RPC().ABCIInfo(t.Context())
		require.NoError(t, err)
		last = fmt.Sprintf("block store at %d, app at %d", info.LatestHeight, abci.Response.LastBlockHeight)
		if info.LatestHeight == abci.Response.LastBlockHeight {
			if stable++; stable == 2 {
				return
			}
		} else {
			stable = 0
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("app did not catch up with the block store within 30s: %s", last)
}

// checkCommitted checks with VerifiedStatus that every hash of the batches
// numbered full, and 200 random hashes of the others, are valid and
// anchored by issuer0 at their batch's height.
func checkCommitted(t *testing.T, c *client.Client, led *crashLedger, full []int, rng *mrand.Rand) {
	type item struct {
		hash   []byte
		height int64
	}
	var items, rest []item
	for i, b := range led.batches {
		for _, h := range b.hashes {
			if slices.Contains(full, i) {
				items = append(items, item{h, b.height})
			} else {
				rest = append(rest, item{h, b.height})
			}
		}
	}
	for range 200 {
		items = append(items, rest[rng.IntN(len(rest))])
	}
	start := time.Now()
	var mu sync.Mutex
	var failures []string
	work := make(chan item)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				rep, err := c.CredentialStatus(t.Context(), it.hash, 20*time.Second)
				var msg string
				switch {
				case err != nil:
					msg = err.Error()
				case rep.Verdict != types.VerdictValid:
					msg = "verdict " + string(rep.Verdict)
				case rep.Anchor.IssuerId != node.DefaultIssuerID || rep.Anchor.Height != it.height:
					msg = fmt.Sprintf("anchored by %q at %d, want %q at %d", rep.Anchor.IssuerId, rep.Anchor.Height, node.DefaultIssuerID, it.height)
				}
				if msg != "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%x: %s", it.hash, msg))
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	t.Logf("checked %d hashes (batches %v fully) with VerifiedStatus in %s", len(items), full, time.Since(start).Round(time.Millisecond))
	if len(failures) > 0 {
		t.Fatalf("%d of %d committed hashes do not verify as valid, e.g.:\n%s", len(failures), len(items), strings.Join(failures[:min(10, len(failures))], "\n"))
	}
}

func verdictOf(t *testing.T, c *client.Client, hash []byte) *types.Report {
	t.Helper()
	rep, err := c.CredentialStatus(t.Context(), hash, 20*time.Second)
	require.NoError(t, err, "status of %x", hash)
	return rep
}

// checkHistoricalProof queries hash at state height h and checks the
// answer against appHash, the app hash of header h+1 as first seen.
func checkHistoricalProof(t *testing.T, c *client.Client, hash []byte, h int64, appHash []byte, batch int) {
	t.Helper()
	require.NotEmpty(t, appHash, "no header %d recorded", h+1)
	p, err := c.QueryCredential(t.Context(), hash, h)
	require.NoError(t, err, "batch %d: query %x at height %d", batch, hash, h)
	require.Equal(t, h, p.Height)
	res, err := types.VerifyCredential(hash, &p.Answer, p.Proof, appHash)
	require.NoError(t, err, "batch %d: state %d served after the crash does not match header %d", batch, h, h+1)
	require.Equal(t, types.VerdictValid, res.Verdict)
	require.Equal(t, h, res.Anchor.Height)
}

// recordHeaders records the app hash of headers h and h+1 for every batch
// height h, where the node has them and they are not recorded yet.
func recordHeaders(t *testing.T, c *client.Client, led *crashLedger) {
	t.Helper()
	info, err := c.Status(t.Context())
	require.NoError(t, err)
	for _, b := range led.batches {
		for _, h := range []int64{b.height, b.height + 1} {
			if _, ok := led.headers[h]; !ok && h <= info.LatestHeight {
				led.headers[h] = appHashAt(t, c, h)
			}
		}
	}
}

func appHashAt(t *testing.T, c *client.Client, h int64) []byte {
	t.Helper()
	res, err := c.RPC().Commit(t.Context(), &h)
	require.NoError(t, err, "header %d", h)
	require.NotNil(t, res.SignedHeader.Header)
	require.Equal(t, h, res.SignedHeader.Header.Height)
	return res.SignedHeader.Header.AppHash
}

// waitHeight waits (bounded) until the node has a block at height h.
func waitHeight(t *testing.T, c *client.Client, h int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for range 300 {
		info, err := c.Status(t.Context())
		if err == nil && info.LatestHeight >= h {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no block at height %d within 30s", h)
}
