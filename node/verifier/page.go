package verifier

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// web holds the page and its assets: index.html, app.js, style.css,
// Go's wasm_exec.js and the bundle checker (node/verifier/wasm) built
// by scripts/wasmgen.sh into credledger.wasm.gz, with its stamp
// credledger.wasm.txt.
//
//go:embed web
var web embed.FS

// the names of the page's files
const (
	wasmGzipFile   = "credledger.wasm.gz"
	wasmFile       = "credledger.wasm"
	wasmScriptFile = "credledger-wasm.js" // the exported page's wasm, as a script
	configFile     = "config.js"
	genesisFile    = "genesis.json"
)

// staticFiles are the page's files that are served and exported as they
// are, with their content types.
var staticFiles = map[string]string{
	"index.html":   "text/html; charset=utf-8",
	"app.js":       "text/javascript; charset=utf-8",
	"style.css":    "text/css; charset=utf-8",
	"wasm_exec.js": "text/javascript; charset=utf-8",
}

// pageCSP keeps the served page to its own origin: no other host, no
// inline script; 'wasm-unsafe-eval' lets it compile the checker.
const pageCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// WithGenesis pins the genesis file the web page checks proof bundles
// against, in the browser: the page gets it with its code, and
// /genesis.json serves it (default: none, and the page shows the
// service's verdicts unchecked). Requires the contents of the genesis file
// the light client trusts (bundle.NewGenesisTrustRoot accepts them).
func WithGenesis(genesisJSON []byte) Option {
	return func(c *config) { c.genesis = bytes.Clone(genesisJSON) }
}

// PageConfig is what the page's config.js tells the page's code.
type PageConfig struct {
	// Service is true for the page a Server serves: it asks the service's
	// routes; false for the exported page, which checks bundle files only.
	Service bool `json:"service"`
	// Wasm is the URL of the checker; WasmScript, instead, a script that
	// sets credledgerWasmGzip to the gzipped checker in base64 (a page
	// opened from a file cannot fetch).
	Wasm       string `json:"wasm,omitempty"`
	WasmScript string `json:"wasm_script,omitempty"`
	// Genesis is the genesis file's contents ("": none pinned).
	Genesis       string `json:"genesis,omitempty"`
	GenesisSHA256 string `json:"genesis_sha256,omitempty"`
	ChainID       string `json:"chain_id,omitempty"`
}

// newPageConfig returns the page's configuration, pinning genesis (nil:
// none).
func newPageConfig(service bool, genesis []byte) PageConfig {
	pc := PageConfig{Service: service}
	if genesis != nil {
		sum := sha256.Sum256(genesis)
		var doc struct {
			ChainID string `json:"chain_id"`
		}
		_ = json.Unmarshal(genesis, &doc) // a bad genesis fails in the checker, which says why
		pc.Genesis, pc.GenesisSHA256, pc.ChainID = string(genesis), hex.EncodeToString(sum[:]), doc.ChainID
	}
	return pc
}

// script returns config.js: the configuration as a global.
func (pc PageConfig) script() []byte {
	bz, err := json.Marshal(pc)
	if err != nil { // strings and a bool: cannot happen
		panic(err)
	}
	return []byte("globalThis.credledgerConfig = " + string(bz) + ";\n")
}

// asset is one file the page route serves.
type asset struct {
	body        []byte
	contentType string
	gzipped     bool // body is gzipped
	etag        string
}

// pageAssets returns the files the page route serves, by path.
func (s *Server) pageAssets() (map[string]asset, error) {
	assets := map[string]asset{}
	add := func(path string, body []byte, contentType string, gzipped bool) {
		sum := sha256.Sum256(body)
		assets[path] = asset{body: body, contentType: contentType, gzipped: gzipped, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	for name, ct := range staticFiles {
		bz, err := web.ReadFile("web/" + name)
		if err != nil {
			return nil, fmt.Errorf("embedded page: %w", err)
		}
		path := "/" + name
		if name == "index.html" {
			path = "/"
		}
		add(path, bz, ct, false)
	}
	wasm, err := web.ReadFile("web/" + wasmGzipFile)
	if err != nil {
		return nil, fmt.Errorf("embedded page: %w", err)
	}
	add("/"+wasmFile, wasm, "application/wasm", true)
	pc := newPageConfig(true, s.cfg.genesis)
	pc.Wasm = wasmFile
	add("/"+configFile, pc.script(), "text/javascript; charset=utf-8", false)
	if s.cfg.genesis != nil {
		add("/"+genesisFile, s.cfg.genesis, "application/json", false)
	}
	return assets, nil
}

// pageRoute returns the handler of every path the API routes do not
// match: the web page at GET /, its assets, and a 404 for anything else.
func (s *Server) pageRoute() handleFn {
	assets, err := s.pageAssets()
	return func(w http.ResponseWriter, r *http.Request) (*reply, error) {
		if err != nil { // the embedded files are missing: a broken build
			return nil, err
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			return nil, badRequest(http.StatusNotFound, "no such route %s %s: see / (the web page), /v1/credentials/{hash}, POST /v1/verify, /v1/credentials/{hash}/bundle, /healthz and /metrics", r.Method, r.URL.Path)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeJSON(w, http.StatusMethodNotAllowed, http.Header{"Allow": allowed(http.MethodGet)},
				ErrorJSON{Error: fmt.Sprintf("method %s not allowed on %s: use GET", r.Method, r.URL.Path)})
			return nil, nil
		}
		return a.reply(r)
	}
}

// reply answers r with the asset: 304 if the client has it, the gzipped
// body if the client takes gzip, else the body.
func (a asset) reply(r *http.Request) (*reply, error) {
	h := http.Header{}
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
	}
	if a.gzipped {
		h.Set("Vary", "Accept-Encoding")
	}
	if r.Header.Get("If-None-Match") == a.etag {
		return &reply{code: http.StatusNotModified, raw: []byte{}, header: h}, nil
	}
	if !a.gzipped {
		return &reply{raw: a.body, header: h}, nil
	}
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		return &reply{raw: a.body, header: h}, nil
	}
	body, err := gunzip(a.body)
	if err != nil {
		return nil, fmt.Errorf("embedded page: %w", err)
	}
	return &reply{raw: body, header: h}, nil
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip
// (without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func gunzip(bz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(bz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// WritePage writes the web page into dir (created if need be) as static
// files that check proof bundle files in the browser against genesisJSON,
// with no server: index.html (open it from the file, or serve the
// directory), its scripts and style, the checker, and genesis.json.
// Existing files of those names are replaced. Requires the contents of a
// genesis file (bundle.NewGenesisTrustRoot accepts them).
func WritePage(dir string, genesisJSON []byte) error {
	if len(genesisJSON) == 0 {
		return errors.New("no genesis: the page checks bundles against a genesis file")
	}
	files := map[string][]byte{}
	for name := range staticFiles {
		bz, err := web.ReadFile("web/" + name)
		if err != nil {
			return fmt.Errorf("embedded page: %w", err)
		}
		files[name] = bz
	}
	wasm, err := web.ReadFile("web/" + wasmGzipFile)
	if err != nil {
		return fmt.Errorf("embedded page: %w", err)
	}
	files[wasmScriptFile] = []byte("globalThis.credledgerWasmGzip = \"" + base64.StdEncoding.EncodeToString(wasm) + "\";\n")
	pc := newPageConfig(false, genesisJSON)
	pc.WasmScript = wasmScriptFile
	files[configFile] = pc.script()
	files[genesisFile] = genesisJSON
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, bz := range files {
		if err := os.WriteFile(filepath.Join(dir, name), bz, 0o644); err != nil { //nolint:gosec // a public web page
			return fmt.Errorf("write the page: %w", err)
		}
	}
	return nil
}
