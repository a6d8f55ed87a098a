package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/node/verifier"
)

// verifierShutdownTimeout bounds the wait for requests in flight at
// SIGINT/SIGTERM.
const verifierShutdownTimeout = 10 * time.Second

func newVerifierCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verifier",
		Short: "Run the verifier HTTP service and its web page, or export the page as static files",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newVerifierServeCmd(), newVerifierExportCmd())
	return cmd
}

// serveFlags are the flags of verifier serve besides the light client's.
type serveFlags struct {
	lightHome, listen string
	maxBody           int64
	maxAge            time.Duration
}

func newVerifierServeCmd() *cobra.Command {
	var f lightFlags
	var sf serveFlags
	cmd := &cobra.Command{
		Use: "serve --node URL --witness URL[,URL] (--genesis FILE | --trust-height N --trust-hash HEX) [--listen ADDR]",
		Example: `  credledger verifier serve --node http://n1:26657 --witness http://n2:26657 --genesis genesis.json
  curl http://127.0.0.1:8080/v1/credentials/5f0c…e1
  curl --data-binary @cred.json -H 'Content-Type: application/json' http://127.0.0.1:8080/v1/verify`,
		Short: "Serve credential verdicts over HTTP from one warm light client",
		Long: `Serve what "credledger verify" answers, over HTTP, from one light client kept warm
in --light-home (default ~/.credledger-light/CHAIN_ID): every verdict is checked
against a header verified from the trust root and cross-checked with the
witnesses. Requests share the light client, one at a time.

  GET  /                                                 the web page: pick a credential file, see its
                                                         verdict and steps; with --genesis the page checks
                                                         the proof bundle in the browser against that genesis
  GET  /v1/credentials/{hash}[?issuer=ID][&at_height=N]  the verdict (verify --output json's fields)
  POST /v1/verify[?issuer=ID][&at_height=N]              the verdict for the JSON credential in the body, with its checks
  GET  /v1/credentials/{hash}/bundle[?at_height=N]       the proof bundle, as "credledger prove" writes it
  GET  /healthz                                          200 once a header is verified, else 503
  GET  /metrics                                          Prometheus metrics

Errors are {"error": "..."}: 4xx for a bad request, 409 when several issuers
have records and none is named, 502 when a node lies or cannot be reached,
503 when no witness answers or the newest header is older than --max-age,
504 on timeout. SIGINT or SIGTERM stops the service (exit 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serveVerifier(cmd, &f, sf) },
	}
	fs := cmd.Flags()
	f.trustFlags.register(fs)
	fs.StringVar(&f.nodeURL, "node", client.DefaultNodeURL, "RPC address of the primary node (answers and headers)")
	fs.StringSliceVar(&f.witnesses, "witness", nil, "RPC address of a witness node that cross-checks the primary's headers (repeatable, or comma-separated)")
	fs.DurationVar(&f.wait, "wait", light.DefaultHeaderWait, "how long to wait for the header that proves the state")
	fs.StringVar(&sf.lightHome, "light-home", "", "directory of the trusted header store (default ~/.credledger-light/CHAIN_ID)")
	fs.StringVar(&sf.listen, "listen", "127.0.0.1:8080", "address to serve HTTP on (port 0: any free port)")
	fs.Int64Var(&sf.maxBody, "max-body", verifier.DefaultMaxBody, "largest credential POST /v1/verify accepts, in bytes (larger: 413)")
	fs.DurationVar(&sf.maxAge, "max-age", verifier.DefaultMaxAge, "answer 503 rather than a latest-state verdict whose header is older than this; 0: no limit")
	return cmd
}

// serveVerifier runs the service until SIGINT or SIGTERM.
func serveVerifier(cmd *cobra.Command, f *lightFlags, sf serveFlags) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var opts []light.Option
	if sf.lightHome != "" {
		opts = append(opts, light.WithHome(sf.lightHome))
	}
	lc, err := f.client(cmd, opts...)
	if err != nil {
		return err
	}
	inUse := false // set if the light client may still be in use on return
	defer func() {
		if !inUse {
			_ = lc.Close()
		}
	}()
	logger, err := newLogger("info")
	if err != nil {
		return err
	}
	vopts := []verifier.Option{verifier.WithMaxBody(sf.maxBody), verifier.WithMaxAge(sf.maxAge), verifier.WithLogger(logger.With("module", "verifier"))}
	if f.genesis != "" {
		genesis, err := os.ReadFile(f.genesis)
		if err != nil {
			return fmt.Errorf("read genesis %s: %w", f.genesis, err)
		}
		sum := sha256.Sum256(genesis)
		vopts = append(vopts, verifier.WithGenesisSHA256(hex.EncodeToString(sum[:])), verifier.WithGenesis(genesis))
	}
	srv, err := verifier.New(lc, vopts...)
	if err != nil {
		return err
	}
	chainID, err := verifierChainID(ctx, f)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", sf.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	// no write timeout: each request's use of the light client is bounded
	// by the server (verifier.DefaultTimeout)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(cmd.ErrOrStderr(), "verifier listening on http://%s (chain %s)\n", ln.Addr(), chainID)
	warmed := make(chan struct{})
	go func() { // warm the light client up, so /healthz is soon 200
		defer close(warmed)
		if _, err := srv.Ready(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "credledger: warning: not ready yet:", err)
		}
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	err = shutDownVerifier(cmd, hs, srv, warmed)
	inUse = err != nil
	return err
}

// shutDownVerifier stops accepting requests, waits (a while) for those in
// flight and for the light client to be idle, so that it can be closed.
func shutDownVerifier(cmd *cobra.Command, hs *http.Server, srv *verifier.Server, warmed <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), verifierShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "credledger: warning: requests still running at shutdown were cut off:", err)
		_ = hs.Close()
	}
	<-warmed // its context is done
	if err := srv.Stop(ctx); err != nil {
		return fmt.Errorf("stop the verifier: %w", err)
	}
	return nil
}

// verifierChainID returns the chain the trust root names (for a trusted
// header, the one the primary says it is on: the light client checks it
// against the header on its first verification).
func verifierChainID(ctx context.Context, f *lightFlags) (string, error) {
	root, err := f.root()
	if err != nil {
		return "", err
	}
	if root.Genesis != nil {
		return root.Genesis.ChainID, nil
	}
	c, err := client.New(f.nodeURL)
	if err != nil {
		return "", err
	}
	info, err := c.Status(ctx)
	if err != nil {
		return "", fmt.Errorf("ask the primary for its chain id: %w", err)
	}
	return info.ChainID, nil
}

func newVerifierExportCmd() *cobra.Command {
	var genesis, dir string
	cmd := &cobra.Command{
		Use: "export --genesis FILE -o DIR",
		Example: `  credledger verifier export --genesis genesis.json -o verifier-page
  xdg-open verifier-page/index.html`,
		Short: "Write the verifier's web page as static files that check proof bundles in the browser, with no server",
		Long: `Write the verifier's web page into DIR as static files: index.html, its scripts
and style, the bundle checker (the code of "verify --bundle", compiled to
WebAssembly) and the pinned genesis.json. Open DIR/index.html in a browser (from
the file, or from any static web server), choose a proof bundle file (from
"credledger prove" or GET /v1/credentials/{hash}/bundle) and, optionally, the
credential it is about: the page checks the bundle against FILE's genesis in
the browser and shows its verdict, or "error" if the bundle does not verify.
Existing files of the same names in DIR are replaced.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if genesis == "" || dir == "" {
				return errors.New("give the genesis to pin (--genesis FILE) and the directory to write (-o DIR)")
			}
			if _, err := bundle.LoadGenesisTrustRoot(genesis); err != nil {
				return err
			}
			bz, err := os.ReadFile(genesis)
			if err != nil {
				return fmt.Errorf("read genesis %s: %w", genesis, err)
			}
			if err := verifier.WritePage(dir, bz); err != nil {
				return err
			}
			sum := sha256.Sum256(bz)
			fmt.Fprintf(cmd.OutOrStdout(), "wrote the verifier page to %s (genesis SHA-256 %x): open %s\n", dir, sum, filepath.Join(dir, "index.html"))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&genesis, "genesis", "", "genesis file of the chain whose bundles the page checks (pinned into the page)")
	fs.StringVarP(&dir, "output", "o", "", "directory to write the page into (created if need be)")
	return cmd
}
