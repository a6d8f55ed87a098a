// Command querylat measures the latency of proven /credential ABCI queries
// against one node's RPC, for scripts/bench-scale.sh. It sends abci_query
// (path query.PathCredential, prove=true, height 0) at a fixed rate, open
// loop (a slow answer does not delay the next query), until -duration
// passes or it gets SIGINT/SIGTERM; then it waits for the queries in flight
// and prints one line of key=value pairs on stdout:
//
//	queries=N errors=E wrong=W skipped=S p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
//
// Each query asks about a hash from -hashes (anchored before the run: the
// answer must hold a record) or, with probability -missing, a random hash
// never anchored (the answer must hold none). errors counts failed queries
// (RPC failure, non-zero code, an answer without its proof op); wrong counts
// answers that decode but say the opposite of what is expected. Latencies
// are of every query sent, errors included (a query times out after 30 s).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/credledger/credledger/types/query"
)

// maxInFlight bounds the queries waiting for an answer; a tick that finds
// this many is skipped (and counted).
const maxInFlight = 1000

// queryTimeout bounds one query.
const queryTimeout = 30 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "querylat:", err)
		os.Exit(1)
	}
}

func run() error {
	rpc := flag.String("rpc", "http://127.0.0.1:26657", "the node's RPC URL")
	hashFile := flag.String("hashes", "", "file of anchored hashes, one hex hash per line (empty: only never-anchored hashes are asked)")
	rate := flag.Float64("rate", 20, "queries per second")
	duration := flag.Duration("duration", 0, "how long to run (0: until SIGINT or SIGTERM)")
	missing := flag.Float64("missing", 0.1, "fraction of queries about hashes never anchored")
	flag.Parse()
	if *rate <= 0 {
		return fmt.Errorf("-rate %g: must be positive", *rate)
	}
	anchored, err := readHashes(*hashFile)
	if err != nil {
		return err
	}
	c, err := rpchttp.New(*rpc, "/websocket")
	if err != nil {
		return fmt.Errorf("rpc client for %s: %w", *rpc, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	r := &runner{c: c, anchored: anchored, missing: *missing}
	r.loop(ctx, time.Duration(float64(time.Second) / *rate))
	fmt.Println(r.summary())
	return nil
}

// readHashes reads the hex hashes of path, one per line.
func readHashes(path string) ([][]byte, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open hashes: %w", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		h, err := hex.DecodeString(line)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%s line %d: want 64 hex digits, got %q", path, n, line)
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// runner sends the queries and collects their results. Its fields after mu
// are shared by the query goroutines and guarded by mu.
type runner struct {
	c        *rpchttp.HTTP
	anchored [][]byte
	missing  float64

	mu        sync.Mutex
	latencies []time.Duration
	errs      int
	wrong     int
	skipped   int
	firstErr  error
}

// loop starts a query every interval until ctx is done, then waits for the
// queries in flight.
func (r *runner) loop(ctx context.Context, interval time.Duration) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			r.mu.Lock()
			r.skipped++
			r.mu.Unlock()
			continue
		}
		hash, want := r.pick()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r.ask(hash, want)
		}()
	}
}

// pick returns a hash to ask about and whether it is anchored.
func (r *runner) pick() ([]byte, bool) {
	if len(r.anchored) == 0 || mrand.Float64() < r.missing {
		h := make([]byte, 32)
		_, _ = rand.Read(h) // never fails (crypto/rand)
		return h, false
	}
	return r.anchored[mrand.IntN(len(r.anchored))], true
}

// ask sends one proven query about hash and records its latency and result.
func (r *runner) ask(hash []byte, wantRecord bool) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	start := time.Now()
	res, err := r.c.ABCIQueryWithOptions(ctx, query.PathCredential, hash, rpcclient.ABCIQueryOptions{Height: 0, Prove: true})
	took := time.Since(start)
	wrong := false
	switch {
	case err != nil:
	case res.Response.Code != 0:
		err = fmt.Errorf("code %d: %s", res.Response.Code, res.Response.Log)
	default:
		var p *query.CredentialProof
		if p, err = query.DecodeCredential(hash, &res.Response); err == nil {
			wrong = (len(p.Answer.Record) > 0) != wantRecord
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, took) // a query that timed out counts as queryTimeout
	if err != nil {
		r.errs++
		if r.firstErr == nil {
			r.firstErr = err
			fmt.Fprintf(os.Stderr, "querylat: first error: %s\n", err)
		}
	}
	if wrong {
		r.wrong++
	}
}

// summary is the result line. It is called after loop returns.
func (r *runner) summary() string {
	slices.Sort(r.latencies)
	return fmt.Sprintf("queries=%d errors=%d wrong=%d skipped=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f",
		len(r.latencies), r.errs, r.wrong, r.skipped,
		ms(percentile(r.latencies, 0.50)), ms(percentile(r.latencies, 0.90)),
		ms(percentile(r.latencies, 0.99)), ms(percentile(r.latencies, 1)))
}

// percentile returns the nearest-rank p-quantile of sorted (0 if empty).
// Requires 0 < p <= 1.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
