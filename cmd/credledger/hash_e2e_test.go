package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
	"github.com/credledger/credledger/types/credhash"
)

// brokenCredential is a credential with a trailing comma: it looks like
// JSON but does not parse.
const brokenCredential = "{\n  \"name\": \"Ada\",\n  \"degree\": \"BSc\",\n}\n"

// rawHint ends the error for a file that looks like JSON but is not.
const rawHint = "; fix it, or pass --raw to hash the file's bytes as they are"

// requireOneLineError checks that a run failed with exit 1, printed nothing
// on stdout and one line "credledger: ..." containing every wanted phrase
// on stderr.
func requireOneLineError(t *testing.T, res cliResult, args []string, want ...string) {
	t.Helper()
	require.Equal(t, 1, res.code, "credledger %s: %s", strings.Join(args, " "), res)
	require.Empty(t, res.stdout, "nothing on stdout: %s", res)
	l := res.stderrLines()
	require.Len(t, l, 1, "exactly one line on stderr: %s", res)
	require.True(t, strings.HasPrefix(l[0], "credledger: "), "stderr %q", l[0])
	for _, w := range want {
		require.Contains(t, l[0], w)
	}
}

// TestCLIHashBadCredentialFiles checks that every command that hashes a
// credential file refuses an empty file and a file that looks like JSON but
// does not parse, with one line naming the file (and the line and column),
// before it contacts any node; and that --raw lets the latter through but
// not the former.
func TestCLIHashBadCredentialFiles(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	res := runCLI(t, bin, "init", "--home", home, "--base-port", strconv.Itoa(freeBasePort(t)))
	require.Equal(t, 0, res.code, "%s", res)
	closed := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
	genesis := filepath.Join(home, "config", "genesis.json")
	from := []string{"--from", node.DefaultIssuerID, "--home", home}

	empty := writeFile(t, dir, "empty.json", "")
	blank := writeFile(t, dir, "blank.txt", "  \n\t\n")
	comma := writeFile(t, dir, "comma.json", brokenCredential)
	commaTxt := writeFile(t, dir, "comma.txt", brokenCredential)
	text := writeFile(t, dir, "notes.JSON", "Diploma: BSc\n")

	commands := map[string]func(file string) []string{
		"hash":      func(f string) []string { return []string{"hash", f} },
		"anchor":    func(f string) []string { return append([]string{"anchor", f}, from...) },
		"revoke":    func(f string) []string { return append([]string{"revoke", f, "--reason", "void"}, from...) },
		"suspend":   func(f string) []string { return append([]string{"suspend", f, "--reason", "check"}, from...) },
		"reinstate": func(f string) []string { return append([]string{"reinstate", f}, from...) },
		"status":    func(f string) []string { return []string{"status", f, "--node", closed} },
		"verify":    func(f string) []string { return []string{"verify", f, "--node", closed, "--genesis", genesis} },
		"prove": func(f string) []string {
			return []string{"prove", f, "--node", closed, "--genesis", genesis, "-o", filepath.Join(dir, "b.json")}
		},
	}
	for _, tc := range []struct {
		name string
		file string
		want []string
		// rawOK: with --raw the file is hashed (and the command gets further)
		rawOK bool
	}{
		{name: "empty", file: empty, want: []string{fmt.Sprintf("credential file %q is empty (0 bytes): nothing to hash", empty)}},
		{name: "whitespace only", file: blank, want: []string{fmt.Sprintf("credential file %q is empty (only whitespace, 5 bytes): nothing to hash", blank)}},
		{
			name: "trailing comma", file: comma, rawOK: true,
			want: []string{fmt.Sprintf("credential file %q is not valid JSON at line 4, column 1: invalid character '}' looking for beginning of object key string"+rawHint, comma)},
		},
		{
			name: "looks like JSON", file: commaTxt, rawOK: true,
			want: []string{fmt.Sprintf("credential file %q is not valid JSON at line 4, column 1: ", commaTxt), rawHint},
		},
		{
			name: "named .JSON", file: text, rawOK: true,
			want: []string{fmt.Sprintf("credential file %q is not valid JSON at line 1, column 1: invalid character 'D' looking for beginning of value", text), rawHint},
		},
	} {
		for name, args := range commands {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				start := time.Now()
				a := args(tc.file)
				requireOneLineError(t, runCLI(t, bin, a...), a, tc.want...)

				a = append(a, "--raw")
				res := runCLI(t, bin, a...)
				if !tc.rawOK {
					requireOneLineError(t, res, a, tc.want...)
				} else if name == "hash" {
					require.Equal(t, 0, res.code, "%s", res)
				} else {
					// hashed: it fails later, for want of a node or a trust root
					require.NotContains(t, res.stderr, "credential file", "%s", res)
				}
				require.Less(t, time.Since(start), 10*time.Second, "bad input fails fast")
			})
		}
	}
}

// TestCLIHashRaw checks that hash --raw prints the SHA-256 of the files'
// exact bytes, JSON or not.
func TestCLIHashRaw(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	cred := writeFile(t, dir, "cred.json", "{\"name\": \"Ada\", \"degree\": \"BSc\"}\n")
	broken := writeFile(t, dir, "broken.json", brokenCredential)
	text := writeFile(t, dir, "diploma.txt", "Ada Lovelace, BSc\n")

	res := runCLI(t, bin, "hash", "--raw", cred, broken, text)
	require.Equal(t, 0, res.code, "%s", res)
	require.Empty(t, res.stderr)
	require.Equal(t, []string{
		sha256Hex("{\"name\": \"Ada\", \"degree\": \"BSc\"}\n") + "  " + cred,
		sha256Hex(brokenCredential) + "  " + broken,
		sha256Hex("Ada Lovelace, BSc\n") + "  " + text,
	}, res.stdoutLines())

	res = runCLI(t, bin, "hash", cred, text)
	require.Equal(t, 0, res.code, "%s", res)
	require.Equal(t, []string{
		sha256Hex(`{"degree":"BSc","name":"Ada"}`) + "  " + cred,
		sha256Hex("Ada Lovelace, BSc\n") + "  " + text,
	}, res.stdoutLines(), "without --raw JSON is hashed in canonical form")

	// one bad file fails the whole command, printing no hash
	a := []string{"hash", cred, broken}
	requireOneLineError(t, runCLI(t, bin, a...), a, "broken.json", "line 4, column 1", rawHint)
}

// TestCLIHashTooLargeJSON checks that a JSON file over the 64 MiB limit is
// refused, saying so and suggesting --raw, which hashes it.
func TestCLIHashTooLargeJSON(t *testing.T) {
	bin := e2eBinary(t)
	data := bytes.Repeat([]byte(" "), credhash.MaxJSONSize+1)
	data[0], data[len(data)-1] = '[', ']'
	path := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))

	a := []string{"hash", path}
	requireOneLineError(t, runCLI(t, bin, a...), a,
		fmt.Sprintf("credential file %q looks like JSON and is larger than the 64 MiB limit for JSON: too large to canonicalise; pass --raw to hash the file's bytes as they are", path))

	res := runCLI(t, bin, "hash", "--raw", path)
	require.Equal(t, 0, res.code, "%s", res)
	sum := sha256.Sum256(data)
	require.Equal(t, []string{hex.EncodeToString(sum[:]) + "  " + path}, res.stdoutLines())
}

// TestCLIHashCanonical checks that hash --canonical prints exactly the bytes
// hashed, and refuses what has no canonical form.
func TestCLIHashCanonical(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	cred := writeFile(t, dir, "cred.json", "\ufeff{\n  \"name\": \"\\u0041da\",\n  \"grade\": 4.50,\n  \"degree\": \"BSc\"\n}\n")
	text := writeFile(t, dir, "diploma.txt", "Ada Lovelace, BSc\n")
	broken := writeFile(t, dir, "broken.json", brokenCredential)
	dup := writeFile(t, dir, "dup.json", `{"a":1,"a":2}`)

	res := runCLI(t, bin, "hash", "--canonical", cred)
	require.Equal(t, 0, res.code, "%s", res)
	require.Empty(t, res.stderr)
	require.Equal(t, `{"degree":"BSc","grade":4.5,"name":"Ada"}`, res.stdout, "the canonical form, no newline added")
	hashed := runCLI(t, bin, "hash", cred)
	require.Equal(t, 0, hashed.code, "%s", hashed)
	require.Equal(t, []string{sha256Hex(res.stdout) + "  " + cred}, hashed.stdoutLines(), "the hash is the SHA-256 of what --canonical prints")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not JSON", []string{"hash", "--canonical", text}, fmt.Sprintf("credential file %q is not JSON: its raw bytes are hashed, so it has no canonical form", text)},
		{"broken JSON", []string{"hash", "--canonical", broken}, fmt.Sprintf("credential file %q is not valid JSON at line 4, column 1", broken)},
		{"no canonical form", []string{"hash", "--canonical", dup}, "has no RFC 8785 canonical form"},
		{"two files", []string{"hash", "--canonical", cred, text}, "--canonical takes one FILE, not 2"},
		{"with --raw", []string{"hash", "--canonical", "--raw", cred}, "--canonical and --raw exclude each other"},
		{"missing file", []string{"hash", "--canonical", filepath.Join(dir, "nope.json")}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireOneLineError(t, runCLI(t, bin, tc.args...), tc.args, tc.want)
		})
	}
}

// TestCLIRawFlagEndToEnd anchors a credential that is not valid JSON with
// --raw, then finds it with status, verify and prove --raw, and revokes it
// with revoke --raw: every command hashes the file's bytes alike.
func TestCLIRawFlagEndToEnd(t *testing.T) {
	bin := e2eBinary(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	genesis := filepath.Join(n.home, "config", "genesis.json")
	broken := writeFile(t, dir, "broken.json", brokenCredential)
	rawHash := sha256Hex(brokenCredential)

	runTxFail(t, bin, []string{"not valid JSON at line 4, column 1", rawHint}, append([]string{"anchor", broken}, from...)...)
	l := runTxOK(t, bin, append([]string{"anchor", broken, "--raw"}, from...)...)
	require.Len(t, l, 1)
	require.Equal(t, rawHash, l[0].hash)
	require.Equal(t, broken, l[0].file)

	st := runStatus(t, bin, n.url, 0, "valid", broken, "--raw")
	require.Equal(t, rawHash, st.Hash)
	require.Equal(t, broken, st.File)
	a := []string{"status", broken, "--node", n.url}
	requireOneLineError(t, runCLI(t, bin, a...), a, "not valid JSON", rawHint)

	online := []string{"--node", n.url, "--witness", n.url, "--genesis", genesis}
	res := runCLI(t, bin, append([]string{"verify", broken, "--raw", "--output", "json", "--light-home", filepath.Join(dir, "light")}, online...)...)
	require.Equal(t, 0, res.code, "%s", res)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), "%s", res)
	require.Equal(t, "valid", out["verdict"])
	require.Equal(t, rawHash, out["hash"])

	bundlePath := filepath.Join(dir, "broken.bundle.json")
	res = runCLI(t, bin, append([]string{"prove", broken, "--raw", "-o", bundlePath}, online...)...)
	require.Equal(t, 0, res.code, "%s", res)
	res = runCLI(t, bin, "verify", "--bundle", bundlePath, broken, "--raw", "--genesis", genesis)
	require.Equal(t, 0, res.code, "the bundle is about the raw hash: %s", res)

	runTxOK(t, bin, append([]string{"revoke", broken, "--raw", "--reason", "void"}, from...)...)
	st = runStatus(t, bin, n.url, 2, "revoked", "--hash", rawHash)
	require.Equal(t, "void", st.Reason)
}
