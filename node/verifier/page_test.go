package verifier_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/verifier"
)

const goldenGenesis = "../bundle/testdata/genesis.json"

// rawGet sends GET path with the given headers, without the transparent
// gunzip of http.DefaultClient.
func rawGet(t *testing.T, method, url string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	for k, vs := range h {
		req.Header[k] = vs
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// wasmStamp reads web/credledger.wasm.txt, written by scripts/wasmgen.sh.
func wasmStamp(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("web/credledger.wasm.txt")
	require.NoError(t, err)
	defer f.Close()
	stamp := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			stamp[k] = v
		}
	}
	require.NoError(t, sc.Err())
	return stamp
}

func gunzip(t *testing.T, bz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(bz))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// TestEmbeddedWasm checks that the committed checker is the one its stamp
// names, a WebAssembly module. (make wasm-check, in make test, checks
// that the source and toolchain build exactly that.)
func TestEmbeddedWasm(t *testing.T) {
	stamp := wasmStamp(t)
	gz, err := os.ReadFile("web/credledger.wasm.gz")
	require.NoError(t, err)
	wasm := gunzip(t, gz)
	require.True(t, bytes.HasPrefix(wasm, []byte("\x00asm")), "not a WebAssembly module")
	sum := sha256.Sum256(wasm)
	require.Equal(t, stamp["sha256"], hex.EncodeToString(sum[:]), "credledger.wasm.gz does not hold the wasm its stamp names: run scripts/wasmgen.sh")
	require.Equal(t, stamp["size"], strconv.Itoa(len(wasm)))
	require.NotEmpty(t, stamp["go"])
	exec, err := os.ReadFile("web/wasm_exec.js")
	require.NoError(t, err)
	require.Contains(t, string(exec), "globalThis.Go = class", "wasm_exec.js should be Go's loader")
}

func TestPageServed(t *testing.T) {
	genesis, err := os.ReadFile(goldenGenesis)
	require.NoError(t, err)
	_, url := newFakeServer(t, &fakeClient{}, verifier.WithGenesis(genesis))

	resp, body := rawGet(t, http.MethodGet, url+"/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	for _, id := range []string{`id="credential-file"`, `id="drop-zone"`, `id="hash-input"`, `id="verdict"`, `id="steps"`, `id="bundle-file"`} {
		require.Contains(t, string(body), id)
	}

	for _, tc := range []struct {
		path, contentType string
		want              []byte // nil: not compared
	}{
		{"/app.js", "text/javascript; charset=utf-8", readWeb(t, "app.js")},
		{"/style.css", "text/css; charset=utf-8", readWeb(t, "style.css")},
		{"/wasm_exec.js", "text/javascript; charset=utf-8", readWeb(t, "wasm_exec.js")},
		{"/genesis.json", "application/json", genesis},
		{"/config.js", "text/javascript; charset=utf-8", nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := rawGet(t, http.MethodGet, url+tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			if tc.want != nil {
				require.Equal(t, tc.want, body)
			}
		})
	}

	t.Run("config", func(t *testing.T) {
		_, body := rawGet(t, http.MethodGet, url+"/config.js", nil)
		js, ok := strings.CutPrefix(string(body), "globalThis.credledgerConfig = ")
		require.True(t, ok, "%s", body)
		var pc verifier.PageConfig
		require.NoError(t, json.Unmarshal([]byte(strings.TrimSuffix(js, ";\n")), &pc))
		sum := sha256.Sum256(genesis)
		require.Equal(t, verifier.PageConfig{Service: true, Wasm: "credledger.wasm", Genesis: string(genesis),
			GenesisSHA256: hex.EncodeToString(sum[:]), ChainID: "light-test"}, pc)
	})

	t.Run("wasm", func(t *testing.T) {
		gz := readWeb(t, "credledger.wasm.gz")
		resp, body := rawGet(t, http.MethodGet, url+"/credledger.wasm", http.Header{"Accept-Encoding": {"br, gzip"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		require.Equal(t, gz, body)

		resp, body = rawGet(t, http.MethodGet, url+"/credledger.wasm", http.Header{"Accept-Encoding": {"gzip;q=0"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, resp.Header.Get("Content-Encoding"))
		require.Equal(t, gunzip(t, gz), body)

		resp, body = rawGet(t, http.MethodGet, url+"/credledger.wasm", http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
		require.Equal(t, http.StatusNotModified, resp.StatusCode)
		require.Empty(t, body)
	})

	t.Run("HEAD", func(t *testing.T) {
		resp, body := rawGet(t, http.MethodHead, url+"/", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, body)
	})
	t.Run("POST", func(t *testing.T) {
		a := do(t, http.MethodPost, url+"/", []byte("x"), "")
		requireError(t, a, http.StatusMethodNotAllowed, "use GET")
		resp, _ := rawGet(t, http.MethodDelete, url+"/app.js", nil)
		require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	})
	for _, path := range []string{"/index.html", "/nope", "/web/app.js", "/credledger.wasm.gz", "/app.js/"} {
		t.Run("404 "+path, func(t *testing.T) {
			requireError(t, get(t, url+path), http.StatusNotFound, "no such route")
		})
	}
}

// TestPageWithoutGenesis checks the page of a server that pins no
// genesis: no /genesis.json, and the page is told so.
func TestPageWithoutGenesis(t *testing.T) {
	_, url := newFakeServer(t, &fakeClient{})
	requireError(t, get(t, url+"/genesis.json"), http.StatusNotFound, "no such route")
	a := get(t, url+"/config.js")
	require.Equal(t, http.StatusOK, a.code)
	require.Equal(t, `globalThis.credledgerConfig = {"service":true,"wasm":"credledger.wasm"};`+"\n", string(a.raw))
	require.Equal(t, http.StatusOK, get(t, url+"/").code)
}

// TestPageNoExternalHosts checks that the page loads nothing from another
// host: no URL with a scheme or protocol-relative URL in its files.
func TestPageNoExternalHosts(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		bz := readWeb(t, name)
		for _, s := range []string{"http:", "https:", "//cdn", "src=\"//", "href=\"//", "url("} {
			require.NotContains(t, string(bz), s, "%s refers to another host", name)
		}
	}
}

func TestWritePage(t *testing.T) {
	genesis, err := os.ReadFile(goldenGenesis)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "page")
	require.NoError(t, verifier.WritePage(dir, genesis))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"index.html", "app.js", "style.css", "wasm_exec.js", "config.js", "credledger-wasm.js", "genesis.json"}, names)
	for _, name := range []string{"index.html", "app.js", "style.css", "wasm_exec.js"} {
		bz, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, readWeb(t, name), bz, name)
	}
	bz, err := os.ReadFile(filepath.Join(dir, "genesis.json"))
	require.NoError(t, err)
	require.Equal(t, genesis, bz)

	bz, err = os.ReadFile(filepath.Join(dir, "config.js"))
	require.NoError(t, err)
	require.Contains(t, string(bz), `"service":false,"wasm_script":"credledger-wasm.js"`)
	require.Contains(t, string(bz), `"chain_id":"light-test"`)

	bz, err = os.ReadFile(filepath.Join(dir, "credledger-wasm.js"))
	require.NoError(t, err)
	b64, ok := strings.CutPrefix(strings.TrimSuffix(string(bz), "\";\n"), "globalThis.credledgerWasmGzip = \"")
	require.True(t, ok)
	gz, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	require.Equal(t, readWeb(t, "credledger.wasm.gz"), gz)

	// again, over the files
	require.NoError(t, verifier.WritePage(dir, genesis))
	require.ErrorContains(t, verifier.WritePage(dir, nil), "no genesis")
}

func readWeb(t *testing.T, name string) []byte {
	t.Helper()
	bz, err := os.ReadFile(filepath.Join("web", name))
	require.NoError(t, err)
	return bz
}
