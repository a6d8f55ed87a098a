package node_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/credledger/credledger"

// databases are the storage packages a verifier-side package must not
// pull in (node/light may use goleveldb through cometbft-db, for CometBFT's
// light store).
var databases = []string{
	"github.com/cosmos/iavl", "github.com/cosmos/cosmos-db", "github.com/cometbft/cometbft-db",
	"github.com/syndtr/goleveldb", "github.com/cockroachdb/pebble", "github.com/dgraph-io/badger",
	"go.etcd.io/bbolt", "github.com/linxGnu/grocksdb", "database/sql",
}

// goList returns the packages pkg depends on (itself included), built for
// the given extra environment.
func goList(t *testing.T, pkg string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list -deps %s: %s", pkg, out)
	return strings.Fields(string(out))
}

// reaches reports whether dep is the forbidden package f: a module path
// (with a dot) forbids everything under it, a standard library path only
// itself (net, but not the pure net/netip).
func reaches(dep, f string) bool {
	if strings.Contains(f, ".") {
		return dep == f || strings.HasPrefix(dep, f+"/")
	}
	return dep == f
}

// TestLayout checks the import rules of STYLE.md and the house issue:
// dependencies point down the table, the verifier side (types, node/light,
// node/bundle) never reaches the app, IAVL or a database beyond the light
// store, and node/bundle has no networking.
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list: skipped in -short mode")
	}
	for _, tc := range []struct {
		pkg string
		// ours lists the only credledger packages pkg may import (besides
		// itself); forbidden lists import path prefixes it must not reach
		ours      []string
		forbidden []string
	}{
		{"./types", nil, databases},
		{"./types/query", []string{"types"}, databases},
		{"./types/credhash", nil, databases},
		{"./types/credential", []string{"types"}, append([]string{"github.com/cometbft/cometbft"}, databases...)},
		{"./config", []string{"types"}, databases},
		{"./node/keys", []string{"types"}, append([]string{"net", "github.com/cometbft/cometbft"}, databases...)},
		{"./node/bundle", []string{"types"}, append([]string{"github.com/cometbft/cometbft/light", "github.com/cometbft/cometbft/rpc", "github.com/cometbft/cometbft/p2p"}, databases...)},
		{"./node/light", []string{"types", "types/query", "node/bundle"}, []string{"github.com/cosmos/iavl", "github.com/cockroachdb/pebble", "github.com/dgraph-io/badger", "database/sql"}},
		{"./node/client", []string{"types", "types/query", "types/credhash", "node/keys"}, []string{"github.com/cosmos/iavl"}},
		{"./node/verifier", []string{"types", "types/query", "types/credhash", "types/credential", "node/light", "node/bundle"}, []string{"github.com/cosmos/iavl", "github.com/cockroachdb/pebble", "github.com/dgraph-io/badger", "database/sql"}},
		{"./app", []string{"types", "types/query"}, nil},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			self := module + strings.TrimPrefix(tc.pkg, ".")
			for _, dep := range goList(t, tc.pkg) {
				if dep == self {
					continue
				}
				if own, ok := strings.CutPrefix(dep, module+"/"); ok {
					require.Truef(t, slices.Contains(tc.ours, own), "%s imports %s (allowed: %v)", tc.pkg, dep, tc.ours)
					continue
				}
				for _, f := range tc.forbidden {
					require.Falsef(t, reaches(dep, f), "%s depends on %s", tc.pkg, dep)
				}
			}
		})
	}
}

// TestBundleImportsNoNetworking checks that the offline checker itself
// imports no networking package. (CometBFT's types package, which it needs
// for light blocks, reaches net/http through gRPC code of abci/types that
// the checker never calls; TestLayout keeps CometBFT's RPC, p2p and light
// client out.)
func TestBundleImportsNoNetworking(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list: skipped in -short mode")
	}
	cmd := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./node/bundle")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, imp := range strings.Fields(string(out)) {
		require.False(t, imp == "net" || strings.HasPrefix(imp, "net/") || imp == "crypto/tls" || strings.Contains(imp, "/rpc"),
			"node/bundle imports %s", imp)
	}
}

// TestBundleBuildsForWasm checks that the offline checker builds for the
// browser.
func TestBundleBuildsForWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles: skipped in -short mode")
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, "./node/bundle")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "GOOS=js GOARCH=wasm go build ./node/bundle: %s", out)
}
