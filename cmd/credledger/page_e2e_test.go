package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node"
)

// browserTimeout bounds each wait on the browser: its start, a page load,
// one verdict (which may load the 32 MB checker first).
const browserTimeout = 90 * time.Second

// chromiumPath returns the Chromium to drive: $CREDLEDGER_CHROMIUM, or
// Debian's chromium. Without one the test is skipped, or fails when CI is
// set (.ci/run installs chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CREDLEDGER_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium found, and CI is set: install it (apt-get install -y chromium, as .ci/run does) or set CREDLEDGER_CHROMIUM")
	}
	t.Skip("browser test skipped: no chromium found (apt-get install -y chromium, or set CREDLEDGER_CHROMIUM)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile; it is
// stopped in t.Cleanup. The page's console messages and exceptions are
// logged.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1400),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// the first Run starts the browser, which lives as long as that Run's
	// context: bound the start from outside
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			cancel()
			cancelAlloc()
		}
		require.NoError(t, err, "start chromium %s", path)
	case <-time.After(browserTimeout):
		cancel()
		cancelAlloc()
		t.Fatalf("chromium %s did not start within %s", path, browserTimeout)
	}
	messages := chromedp.Console(ctx)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("browser console %s: %s", m.Type, m.Text)
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-logged
	})
	return ctx
}

// browse runs actions in the browser, bounded by browserTimeout.
func browse(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(tctx, actions...), "browser: %s", what)
}

// browseValue runs action in the browser, bounded by browserTimeout, and
// returns its value.
func browseValue[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, action)
	require.NoError(t, err, "browser: %s", what)
	return v
}

// pageVerdict is what #verdict shows once a check is done.
type pageVerdict struct {
	text     string
	verified bool   // data-verified-in-browser="true"
	steps    string // the steps' data-step=data-ok pairs, in order
}

// word returns the verdict word: the text up to the first space.
func (v pageVerdict) word() string {
	w, _, _ := strings.Cut(v.text, " ")
	return w
}

// upload picks file in the file input sel and waits for the page's
// verdict.
func upload(t *testing.T, ctx context.Context, sel, file string) pageVerdict {
	t.Helper()
	return awaitVerdict(t, ctx, "upload "+filepath.Base(file)+" in "+sel, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{file}))
}

// awaitVerdict runs actions, which start a check, and waits for the
// verdict.
func awaitVerdict(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) pageVerdict {
	t.Helper()
	// forget the state of the last check, so that its "done" does not count
	browse(t, ctx, what, append([]chromedp.Action[chromedp.Void]{
		chromedp.RemoveAttribute(chromedp.CSS("#verdict"), "data-state"),
	}, append(actions, chromedp.WaitVisible(chromedp.CSS(`#verdict[data-state="done"]`)))...)...)
	var v pageVerdict
	v.text = browseValue(t, ctx, what, chromedp.Text(chromedp.CSS("#verdict")))
	attr := browseValue(t, ctx, what, chromedp.AttributeValue(chromedp.CSS("#verdict"), "data-verified-in-browser"))
	v.verified = attr.Exists && attr.Value == "true"
	v.steps = browseValue(t, ctx, what, chromedp.Evaluate[string](`[...document.querySelectorAll("#steps li")].map(li => li.dataset.step + "=" + li.dataset.ok).join(" ")`))
	t.Logf("%s: %q (verified in browser: %t; steps %s)", what, v.text, v.verified, v.steps)
	return v
}

// pageCredential is a W3C VC / Open Badges 3.0 credential naming issuer.
func pageCredential(name, issuer string) []byte {
	bz, err := json.MarshalIndent(map[string]any{
		"@context": []string{"https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"},
		"type":     []string{"VerifiableCredential", "OpenBadgeCredential"},
		"name":     name,
		"issuer":   map[string]any{"id": issuer, "type": []string{"Profile"}, "name": "Example University"},
		"credentialSubject": map[string]any{
			"id": "urn:e2e:ada", "name": "Ada Lovelace", "type": []string{"AchievementSubject"},
			"achievement": map[string]any{"id": "urn:e2e:achievement", "type": []string{"Achievement"}, "name": "Analytical Engines 101"},
		},
		"validFrom":  "2020-01-01T00:00:00Z",
		"validUntil": "2999-01-01T00:00:00Z",
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return bz
}

// TestCLIVerifierPage drives the page of "credledger verifier serve" in
// a headless Chromium: a valid, a revoked and a tampered credential file
// picked in #credential-file get their verdicts, the first two checked in
// the browser from the service's proof bundle against the pinned genesis;
// a pasted hash works too. It saves a screenshot of the valid case as
// build/verifier-page.png.
func TestCLIVerifierPage(t *testing.T) {
	bin := e2eBinary(t) // skips in -short mode
	chromium := chromiumPath(t)
	n := startTestNode(t, bin)
	dir := t.TempDir()
	genesis := filepath.Join(n.home, "config", "genesis.json")
	files := map[string]string{}
	for name, cred := range map[string][]byte{
		"valid":    pageCredential("Certificate in Analytical Engines", node.DefaultIssuerID),
		"revoked":  pageCredential("Certificate in Difference Engines", node.DefaultIssuerID),
		"tampered": pageCredential("Certificate in Analytical Engines (with honours)", node.DefaultIssuerID),
	} {
		files[name] = filepath.Join(dir, name+".json")
		require.NoError(t, os.WriteFile(files[name], cred, 0o600))
	}
	from := []string{"--from", node.DefaultIssuerID, "--home", n.home}
	lines := runTxOK(t, bin, append([]string{"anchor", files["valid"], files["revoked"]}, from...)...)
	require.Len(t, lines, 2)
	revokedHash := lines[1].hash
	runTxOK(t, bin, append([]string{"revoke", "--hash", revokedHash, "--reason", "issued in error"}, from...)...)

	v := startVerifier(t, bin, "--node", n.url, "--witness", n.url, "--genesis", genesis, "--light-home", filepath.Join(dir, "light"))
	require.Eventually(t, func() bool {
		code, _ := v.call(t, http.MethodGet, "/healthz", nil)
		return code == http.StatusOK
	}, verifierStartTimeout, 200*time.Millisecond, "/healthz did not answer 200:\n%s", v.stderrText())

	ctx := newBrowser(t, chromium)
	browse(t, ctx, "open the page", chromedp.Navigate(v.url+"/"), chromedp.WaitVisible(chromedp.CSS("#drop-zone")))

	t.Run("valid", func(t *testing.T) {
		got := upload(t, ctx, "#credential-file", files["valid"])
		require.Equal(t, "valid", got.word(), got.text)
		require.True(t, got.verified, "checked in the browser")
		require.Equal(t, "parsed=true anchored=true issuer=true not_voided=true status=true dates=true browser=true", got.steps)
		fields := browseValue(t, ctx, "read the credential's fields", chromedp.Text(chromedp.CSS("#credential-fields")))
		for _, want := range []string{"Certificate in Analytical Engines", "Analytical Engines 101", "Ada Lovelace", "Example University", "2999-01-01 00:00:00 UTC"} {
			require.Contains(t, fields, want)
		}
		png := browseValue(t, ctx, "screenshot", chromedp.FullScreenshot(100))
		out := filepath.Join("..", "..", "build", "verifier-page.png")
		require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
		require.NoError(t, os.WriteFile(out, png, 0o644)) //nolint:gosec // a screenshot for people
		t.Logf("screenshot of the valid case: %s", out)
	})
	t.Run("revoked", func(t *testing.T) {
		got := upload(t, ctx, "#credential-file", files["revoked"])
		require.Equal(t, "revoked", got.word(), got.text)
		require.Contains(t, got.text, "issued in error", "the reason is shown")
		require.True(t, got.verified, "checked in the browser")
		require.Equal(t, "parsed=true anchored=true issuer=true not_voided=true status=false dates=true browser=true", got.steps)
	})
	t.Run("tampered", func(t *testing.T) {
		got := upload(t, ctx, "#credential-file", files["tampered"])
		require.Equal(t, "not_anchored", got.word(), got.text)
		require.True(t, got.verified, "the bundle proves the absence, checked in the browser")
	})
	// a service that lies, behind a proxy that changes its answers: the
	// page shows error, never the service's verdict
	for _, tc := range []struct {
		name, path, want string
		lie              func(t *testing.T, body []byte) []byte
	}{
		{"tampered bundle", "/bundle", "did not verify in this browser", flipLastLightBlock},
		{"verdict changed", "/v1/verify", "disagree", func(t *testing.T, body []byte) []byte {
			require.Contains(t, string(body), `"verdict":"revoked"`)
			return []byte(strings.Replace(string(body), `"verdict":"revoked"`, `"verdict":"valid"`, 1))
		}},
	} {
		t.Run("lying service: "+tc.name, func(t *testing.T) {
			proxy := lyingProxy(t, v.url, tc.path, tc.lie)
			browse(t, ctx, "open the page behind the proxy", chromedp.Navigate(proxy+"/"), chromedp.WaitVisible(chromedp.CSS("#drop-zone")))
			got := upload(t, ctx, "#credential-file", files["revoked"])
			require.Equal(t, "error", got.word(), got.text)
			require.Contains(t, got.text, tc.want)
			require.False(t, got.verified)
			require.Contains(t, got.steps, "browser=false")
		})
	}
	browse(t, ctx, "open the page again", chromedp.Navigate(v.url+"/"), chromedp.WaitVisible(chromedp.CSS("#drop-zone")))

	t.Run("pasted hash", func(t *testing.T) {
		got := awaitVerdict(t, ctx, "paste the revoked hash",
			chromedp.SetValue(chromedp.CSS("#hash-input"), revokedHash),
			chromedp.Click(chromedp.CSS("#hash-form button")))
		require.Equal(t, "revoked", got.word(), got.text)
		require.True(t, got.verified)
	})
}

// lyingProxy serves target's routes on a new port of 127.0.0.1, with the
// body of every answer whose path ends in suffix changed by lie.
func lyingProxy(t *testing.T, target, suffix string, lie func(t *testing.T, body []byte) []byte) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.URL.Path, suffix) || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		body = lie(t, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	hs := httptest.NewServer(rp)
	t.Cleanup(hs.Close)
	return hs.URL
}

// flipLastLightBlock changes one base64 digit in the middle of the last
// light block of a bundle.
func flipLastLightBlock(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(bundle, &m))
	lbs := m["light_blocks"].([]any)
	last := lbs[len(lbs)-1].(string)
	i := len(last) / 2
	swap := "A"
	if last[i] == 'A' {
		swap = "B"
	}
	lbs[len(lbs)-1] = last[:i] + swap + last[i+1:]
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// TestCLIVerifierExportPage opens the page "credledger verifier export"
// writes from its file, with no server, and checks bundle files in it:
// the golden bundle of node/bundle gets its verdict, checked in the
// browser, also with the credential it is about; a tampered bundle, or
// a credential it is not about, gets error and no verdict.
func TestCLIVerifierExportPage(t *testing.T) {
	bin := e2eBinary(t) // skips in -short mode
	chromium := chromiumPath(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "page")
	golden := filepath.Join("..", "..", "node", "bundle", "testdata")
	res := runCLI(t, bin, "verifier", "export", "--genesis", filepath.Join(golden, "genesis.json"), "-o", page)
	require.Equal(t, 0, res.code, "%s", res)
	require.Contains(t, res.stdout, "wrote the verifier page to "+page)
	for _, name := range []string{"index.html", "app.js", "style.css", "wasm_exec.js", "config.js", "credledger-wasm.js", "genesis.json"} {
		require.FileExists(t, filepath.Join(page, name))
	}

	good, err := os.ReadFile(filepath.Join(golden, "revoked.json"))
	require.NoError(t, err)
	files := map[string][]byte{
		"good.bundle.json":     good,
		"tampered.bundle.json": flipLastLightBlock(t, good),
		// the same proofs, presented as a verdict about an earlier state
		// (an as-of bundle): the page asks about the latest state
		"past.bundle.json": bytes.Replace(good, []byte(`"height": `), []byte(`"as_of_height": 3, "height": `), 1),
		"revoked.txt":      []byte("revoked"), // the credential the golden bundle is about, hashed raw
		"other.txt":        []byte("another credential"),
	}
	for name, bz := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), bz, 0o600))
	}

	ctx := newBrowser(t, chromium)
	browse(t, ctx, "open the exported page", chromedp.Navigate("file://"+filepath.Join(page, "index.html")), chromedp.WaitReady(chromedp.CSS("#bundle-file")))

	got := upload(t, ctx, "#bundle-file", filepath.Join(dir, "good.bundle.json"))
	require.Equal(t, "revoked", got.word(), got.text)
	require.True(t, got.verified)
	require.Contains(t, got.steps, "browser=true")

	got = upload(t, ctx, "#bundle-file", filepath.Join(dir, "tampered.bundle.json"))
	require.Equal(t, "error", got.word(), got.text)
	require.False(t, got.verified)
	require.Contains(t, got.text, "did not verify")

	got = upload(t, ctx, "#bundle-file", filepath.Join(dir, "past.bundle.json"))
	require.Equal(t, "error", got.word(), got.text)
	require.False(t, got.verified)
	require.Contains(t, got.text, "the bundle is about past state 3")

	got = upload(t, ctx, "#credential-file", filepath.Join(dir, "other.txt")) // checks the tampered bundle again
	require.Equal(t, "error", got.word(), got.text)

	got = upload(t, ctx, "#bundle-file", filepath.Join(dir, "good.bundle.json")) // against other.txt
	require.Equal(t, "error", got.word(), got.text)
	require.Contains(t, got.text, "the bundle is about credential")
	require.False(t, got.verified)

	got = upload(t, ctx, "#credential-file", filepath.Join(dir, "revoked.txt"))
	require.Equal(t, "revoked", got.word(), got.text)
	require.True(t, got.verified)
	require.Equal(t, "parsed=true anchored=true issuer=true not_voided=true status=false dates=true browser=true", got.steps)
}
