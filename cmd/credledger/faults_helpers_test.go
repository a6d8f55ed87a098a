package main

// Helpers for TestFaults (faults_e2e_test.go): anchoring streams that run
// the anchor CLI continuously, a prober that times single txs, the ledger
// of every credential reported committed, and its check with proofs.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

// faultsMode is the size of a TestFaults run.
type faultsMode struct {
	name string
	// rounds is how many times the whole cycle of faults is run
	rounds int
	// fileA and fileB are the hashes per hash file of streams A and B;
	// killFile those of the files of stream A whose run is interrupted
	fileA, fileB, killFile int
	// batch is the anchor runs' --batch-size
	batch int
	// pause is the wait between two hash files of a stream
	pause time.Duration
	// down is how long a killed validator stays down; stopped how long a
	// validator stays SIGSTOPped (longer than a round: timeout_propose is 3s)
	down, stopped time.Duration
	// runTimeout bounds one anchor run
	runTimeout time.Duration
	// rateA and rateB are the --rate of the anchor runs of streams A and B
	// (credentials per second; 0: unpaced)
	rateA, rateB int
}

// faultsRateA and faultsRateB pace the long mode's streams: together 750
// credentials per second at most, so that the latency measured is more the
// faults' than a queue's. Four validators sharing 2 cores commit little at
// this chain's size: in kill-anchor-node (the /proc CPU times the run
// prints) each node spent 0.4-0.6 CPU-ms per credential (its CheckTx, the
// rechecks after each block, the execution and the commit), rising with
// the tree, so even 750/s kept the CPUs 89-93 % busy while the 100,000-hash
// rerun ran, in rounds 2 and 3. Measured p99 of probes sent while 3 of 4
// were up, one long run each: unpaced 11-13 s (three runs), 3,000 + 1,500/s
// 15.3 s, 1,500 + 750/s 11.4 and 19.5 s, 500 + 250/s 7.0 s (p50 0.8 s).
// With the state database's 128 MiB cache and 32 MiB write buffer (pruning
// had taken half of each node's CPU) the CPUs were 30-57 % busy in
// kill-anchor-node and 500 + 250/s gave p99 4.25 s (p50 0.71 s).
const faultsRateA, faultsRateB = 500, 250

var (
	faultsShort = faultsMode{name: "short", rounds: 1, fileA: 400, fileB: 200, killFile: 3000, batch: 20, pause: 2 * time.Second,
		down: 4 * time.Second, stopped: 6 * time.Second, runTimeout: 3 * time.Minute}
	faultsLong = faultsMode{name: "long", rounds: 3, fileA: 10_000, fileB: 5000, killFile: 100_000, batch: 500, pause: 15 * time.Second,
		down: 8 * time.Second, stopped: 12 * time.Second, runTimeout: 10 * time.Minute, rateA: faultsRateA, rateB: faultsRateB}
)

// faultsLedger is every credential reported committed (by an anchor run or
// the prober), with the issuer and height reported. It is safe for
// concurrent use.
type faultsLedger struct {
	mu sync.Mutex
	// committed maps a hash (hex) to where it was reported committed
	committed map[string]ledgerEntry
	// twice are the hashes reported committed by more than one run
	twice []string
}

type ledgerEntry struct {
	issuer string
	height int64
}

func newFaultsLedger() *faultsLedger {
	return &faultsLedger{committed: make(map[string]ledgerEntry)}
}

func (l *faultsLedger) add(hashHex, issuer string, height int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.committed[hashHex]; ok {
		l.twice = append(l.twice, hashHex)
		return
	}
	l.committed[hashHex] = ledgerEntry{issuer: issuer, height: height}
}

// snapshot returns a copy of the committed credentials.
func (l *faultsLedger) snapshot() map[string]ledgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]ledgerEntry, len(l.committed))
	for k, v := range l.committed {
		out[k] = v
	}
	return out
}

func (l *faultsLedger) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.committed)
}

func (l *faultsLedger) reportedTwice() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.twice)
}

// anchorRun is one run of `credledger anchor` by a stream.
type anchorRun struct {
	file    *hashFile
	attempt int // 0: the first run of the file; later ones add --skip-anchored
	start   time.Time
	elapsed time.Duration
	code    int // exit code (-1: not run or killed by the timeout)
	counts  map[string]int
	last    string // last line on stderr
	err     error  // the run could not be started or did not finish
}

// hashFile is a hash file a stream anchors.
type hashFile struct {
	path   string
	issuer string
	hashes []string
	// done: a run of it exited 0 (every hash committed or skipped)
	done bool
}

// anchorStream runs `credledger anchor --hash-file` through one node with
// one issuer, one hash file after another, until stopped; a file whose run
// fails is run again with --skip-anchored (once its node answers) until a
// run exits 0. Runs happen on the stream's goroutine; the accessors are
// safe for concurrent use.
type anchorStream struct {
	name    string
	bin     string
	node    *netNode
	issuer  string
	dir     string
	mode    faultsMode
	size    int
	rate    int // --rate of its runs (0: none)
	ledger  *faultsLedger
	stopped atomic.Bool
	done    chan struct{}
	// nextSize, if set, is the size of the next file (once)
	nextSize atomic.Int64
	// ctx is cancelled to abort the stream at once (cancel)
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	runs    []*anchorRun
	files   []*hashFile
	current *anchorRun // the run in progress (nil between runs)
	errs    []error
}

func newAnchorStream(name, bin string, n *netNode, dir string, mode faultsMode, size, rate int, ledger *faultsLedger) *anchorStream {
	ctx, cancel := context.WithCancel(context.Background())
	return &anchorStream{name: name, bin: bin, node: n, issuer: n.issuer, dir: dir, mode: mode, size: size, rate: rate, ledger: ledger,
		done: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// maxAttempts bounds the runs of one hash file.
const maxAttempts = 25

func (s *anchorStream) run() {
	defer close(s.done)
	for i := 0; !s.stopped.Load() && s.ctx.Err() == nil; i++ {
		f, err := s.newFile(i)
		if err != nil {
			s.fail(err)
			return
		}
		for attempt := 0; !f.done; attempt++ {
			if s.ctx.Err() != nil {
				return
			}
			if attempt == maxAttempts {
				s.fail(fmt.Errorf("%s: %s not anchored after %d runs", s.name, f.path, attempt))
				return
			}
			if attempt > 0 {
				s.waitNode()
			}
			r := s.runFile(f, attempt)
			if s.ctx.Err() != nil {
				return
			}
			if r.err != nil {
				s.fail(r.err)
				return
			}
		}
		s.sleep(s.mode.pause)
	}
}

// newFile writes hash file i of the stream.
func (s *anchorStream) newFile(i int) (*hashFile, error) {
	size := s.size
	if n := s.nextSize.Swap(0); n > 0 {
		size = int(n)
	}
	f := &hashFile{path: filepath.Join(s.dir, fmt.Sprintf("%s-%03d.txt", s.name, i)), issuer: s.issuer, hashes: make([]string, size)}
	var b strings.Builder
	for j := range f.hashes {
		f.hashes[j] = hex.EncodeToString(randomBytes(32))
		b.WriteString(f.hashes[j])
		b.WriteByte('\n')
	}
	if err := os.WriteFile(f.path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.files = append(s.files, f)
	s.mu.Unlock()
	return f, nil
}

// runFile runs anchor over f once and records what it reported.
func (s *anchorStream) runFile(f *hashFile, attempt int) *anchorRun {
	r := &anchorRun{file: f, attempt: attempt, start: time.Now(), code: -1}
	s.mu.Lock()
	s.current = r
	s.mu.Unlock()
	args := []string{"anchor", "--hash-file", f.path, "--from", s.issuer, "--home", s.node.home,
		"--batch-size", fmt.Sprint(s.mode.batch), "--output", "json"}
	if attempt > 0 {
		args = append(args, "--skip-anchored")
	}
	if s.rate > 0 {
		args = append(args, "--rate", fmt.Sprint(s.rate))
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.mode.runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r.elapsed = time.Since(r.start)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("%s: anchor %s did not finish within %s\nstderr:\n%s", s.name, f.path, s.mode.runTimeout, stderr.String())
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.err = fmt.Errorf("%s: run anchor: %w", s.name, err)
	}
	if l := lines(stderr.String()); len(l) > 0 {
		r.last = l[len(l)-1]
	}
	if r.err == nil {
		r.counts, r.err = s.record(f, stdout.String())
	}
	if r.err == nil && r.code == 0 {
		if r.counts["committed"]+r.counts["skipped"] != len(f.hashes) {
			r.err = fmt.Errorf("%s: anchor %s exited 0 with %v for %d hashes", s.name, f.path, r.counts, len(f.hashes))
		}
		f.done = true
	}
	s.mu.Lock()
	s.current = nil
	s.runs = append(s.runs, r)
	s.mu.Unlock()
	return r
}

// record adds the credentials a run reported committed to the ledger and
// returns the count of each result.
func (s *anchorStream) record(f *hashFile, stdout string) (map[string]int, error) {
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var o resultLine
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			return nil, fmt.Errorf("%s: anchor %s: line %q: %w", s.name, f.path, sc.Text(), err)
		}
		if o.Summary != nil {
			continue
		}
		counts[o.Result]++
		if o.Result == resultCommitted {
			if o.Height <= 0 {
				return nil, fmt.Errorf("%s: committed without a height: %q", s.name, sc.Text())
			}
			s.ledger.add(o.Hash, s.issuer, o.Height)
		}
	}
	return counts, sc.Err()
}

// waitNode waits (up to a minute) until the stream's node answers and is not
// catching up, as an operator would before resuming.
func (s *anchorStream) waitNode() {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && s.ctx.Err() == nil {
		ctx, cancel := netCtx()
		st, err := s.node.c.RPC().Status(ctx)
		cancel()
		if err == nil && !st.SyncInfo.CatchingUp {
			return
		}
		time.Sleep(netPoll)
	}
}

func (s *anchorStream) sleep(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end) && !s.stopped.Load() && s.ctx.Err() == nil; {
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *anchorStream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// stop asks the stream to finish its current file, and waits for it.
func (s *anchorStream) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	s.stopped.Store(true)
	select {
	case <-s.done:
	case <-time.After(timeout):
		t.Fatalf("stream %s did not finish its file within %s", s.name, timeout)
	}
}

// inProgress returns the run in progress, if any.
func (s *anchorStream) inProgress() *anchorRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// runsOf returns the finished runs of f.
func (s *anchorStream) runsOf(f *hashFile) []*anchorRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*anchorRun
	for _, r := range s.runs {
		if r.file == f {
			out = append(out, r)
		}
	}
	return out
}

// requireOK fails the test if the stream has failed.
func (s *anchorStream) requireOK(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NoError(t, errors.Join(s.errs...), "stream %s", s.name)
}

// stats returns the stream's files, runs, and failed runs.
func (s *anchorStream) stats() (files, runs, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		if r.code != 0 {
			failed++
		}
	}
	return len(s.files), len(s.runs), failed
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// probe is one tx the prober sent.
type probe struct {
	hash    string
	sent    time.Time     // when the node accepted it
	latency time.Duration // accepted to seen committed (0: not committed)
	height  int64
	fault   string // the fault in progress when it was sent ("" if none)
	// touched names every fault in progress at some moment between its
	// acceptance and the end of its wait (a tx sent just before kill-all
	// waits for the restart of all four)
	touched []string
	err     error
}

// faultMark is a change of the fault in progress.
type faultMark struct {
	at   time.Time
	name string
}

// prober anchors one hash at a time with its own issuer through one node
// and times each from acceptance to commit. It is safe for concurrent use.
type prober struct {
	node   *netNode
	key    *keys.Key
	ledger *faultsLedger
	fault  atomic.Pointer[string]
	done   chan struct{}
	// ctx is cancelled to stop the prober (cancel)
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	probes []probe
	marks  []faultMark
}

func newProber(n *netNode, key *keys.Key, ledger *faultsLedger) *prober {
	ctx, cancel := context.WithCancel(context.Background())
	return &prober{node: n, key: key, ledger: ledger, done: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// setFault names the fault in progress ("" when none).
func (p *prober) setFault(name string) {
	p.fault.Store(&name)
	p.mu.Lock()
	p.marks = append(p.marks, faultMark{at: time.Now(), name: name})
	p.mu.Unlock()
}

// faultsBetween returns the faults in progress at some moment in
// [from, to]. Requires p.mu.
func (p *prober) faultsBetween(from, to time.Time) []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for i, m := range p.marks {
		next := i+1 < len(p.marks) && !p.marks[i+1].at.After(from)
		if !next && !m.at.After(to) {
			add(m.name) // in progress at from, or begun before to
		}
	}
	return out
}

func (p *prober) currentFault() string {
	if f := p.fault.Load(); f != nil {
		return *f
	}
	return ""
}

func (p *prober) run() {
	defer close(p.done)
	for p.ctx.Err() == nil {
		pr := p.once()
		if p.ctx.Err() != nil {
			return // interrupted: not a figure
		}
		if pr.sent.IsZero() {
			time.Sleep(200 * time.Millisecond) // not accepted: node down or busy
			continue
		}
		p.mu.Lock()
		pr.touched = p.faultsBetween(pr.sent, time.Now())
		p.probes = append(p.probes, pr)
		p.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
}

// once sends one tx and waits for its commit (up to 2 minutes).
func (p *prober) once() probe {
	h := randomBytes(32)
	pr := probe{hash: hex.EncodeToString(h)}
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	opts := client.SubmitOptions{BatchSize: 1, CommitTimeout: 90 * time.Second, Sent: func(int, int) {
		pr.sent, pr.fault = time.Now(), p.currentFault()
	}}
	res, err := p.node.c.Submit(ctx, p.key, types.ActionAnchor, [][]byte{h}, opts)
	pr.err = err
	if len(res) != 1 || pr.sent.IsZero() {
		return pr
	}
	pr.err = errors.Join(err, res[0].Err)
	if res[0].Err != nil && !res[0].Rejected {
		// accepted, but the wait failed (node restarting, connection
		// reset): look for it until 90s after it was sent
		pr.height, pr.err = p.waitTx(ctx, res[0].TxHash, pr.sent.Add(90*time.Second))
	} else if res[0].Err == nil {
		pr.height = res[0].Height
	}
	if pr.height > 0 {
		pr.latency = time.Since(pr.sent)
		p.ledger.add(pr.hash, p.key.Issuer, pr.height)
	}
	return pr
}

// waitTx polls the prober's node for the tx until deadline and returns the
// height of its block.
func (p *prober) waitTx(ctx context.Context, txHash []byte, deadline time.Time) (int64, error) {
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rctx, cancel := netCtx()
		res, err := p.node.c.RPC().Tx(rctx, txHash, false)
		cancel()
		if err == nil {
			if res.TxResult.Code != 0 {
				return 0, fmt.Errorf("tx failed: code %d: %s", res.TxResult.Code, res.TxResult.Log)
			}
			return res.Height, nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	if last == nil { // the wait for its commit had used up the 90 s
		return 0, errors.New("not seen committed within 90s of its acceptance")
	}
	return 0, fmt.Errorf("not seen committed within 90s of its acceptance: %w", last)
}

// committed returns the number of probes committed.
func (p *prober) committed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, pr := range p.probes {
		if pr.latency > 0 {
			n++
		}
	}
	return n
}

// livedThrough names the faults the probe lived through, for a report.
func (pr probe) livedThrough() string {
	if len(pr.touched) == 0 {
		return "no fault"
	}
	return strings.Join(pr.touched, ", ")
}

// failures describes each probe accepted but not seen committed.
func (p *prober) failures() []string {
	return p.notCommitted(func(probe) bool { return true })
}

// droppedOutsideKillAll describes each probe accepted but not seen
// committed that did not live through a kill-all. Killing all four nodes
// loses their mempools, so a tx accepted just before may never commit
// (its sender is told "not committed yet"); with any other fault at least
// one node that holds it stays up, so it must commit.
func (p *prober) droppedOutsideKillAll() []string {
	return p.notCommitted(func(pr probe) bool { return !slices.Contains(pr.touched, "kill-all") })
}

// notCommitted describes each probe accepted but not seen committed that
// matches.
func (p *prober) notCommitted(match func(probe) bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, pr := range p.probes {
		if pr.latency != 0 || !match(pr) {
			continue
		}
		fault := pr.fault
		if fault == "" {
			fault = "no fault"
		}
		out = append(out, fmt.Sprintf("sent %s (%s; lived through %s): %v", pr.sent.Format("15:04:05.000"), fault, pr.livedThrough(), pr.err))
	}
	return out
}

// stop stops the prober, abandoning the tx it waits for.
func (p *prober) stop() {
	p.cancel()
	<-p.done
}

// latencies returns the commit latencies of the committed probes sent
// during a fault (duringFault) or outside faults, sorted, and the count of
// probes of that kind that were not committed.
func (p *prober) latencies(duringFault bool) (ds []time.Duration, failed int) {
	return p.latenciesOf(func(fault string) bool { return (fault != "") == duringFault })
}

// latenciesOf is latencies for the probes sent during the faults that
// match.
func (p *prober) latenciesOf(match func(fault string) bool) (ds []time.Duration, failed int) {
	return p.latenciesOfProbe(func(pr probe) bool { return match(pr.fault) })
}

// liveLatencies is latencies for the probes that lived only through
// faults that keep 2/3 of the power up (faultsLive): sent during one, and
// done before any kill-all began.
func (p *prober) liveLatencies() (ds []time.Duration, failed int) {
	return p.latenciesOfProbe(p.isLive)
}

// isLive reports whether pr lived only through faults that keep 2/3 of the
// power up (faultsLive): sent during one, and done before any kill-all
// began.
func (p *prober) isLive(pr probe) bool {
	return faultsLive(pr.fault) && !slices.ContainsFunc(pr.touched, func(f string) bool { return !faultsLive(f) })
}

// latenciesOfProbe is latencies for the probes that match.
func (p *prober) latenciesOfProbe(match func(probe) bool) (ds []time.Duration, failed int) {
	for _, pr := range p.matching(match) {
		if pr.latency == 0 {
			failed++
			continue
		}
		ds = append(ds, pr.latency)
	}
	slices.Sort(ds)
	return ds, failed
}

// percentile returns the q-th percentile (0 < q <= 100) of sorted ds.
func percentile(ds []time.Duration, q int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := (len(ds)*q + 99) / 100 // ceil(n*q/100)
	return ds[max(i, 1)-1]
}

// ledgerCheck is the outcome of checking credentials with proofs.
type ledgerCheck struct {
	checked, lost int
	// state is the height of the last state checked; its header is state+1
	state      int64
	lostHashes []string
}

// checkChunk is how many credentials checkLedger checks against one
// state: the nodes keep only their newest versions (50) queryable.
const checkChunk = 4000

// checkLedger checks each credential of want with a proof of a recent state
// against the app hash of the next header (the queries spread over nodes,
// which agree on that header; a new state for each checkChunk credentials):
// it must be anchored by the issuer recorded, at the height recorded (0: any
// height). Credentials that are not are counted lost; other failures fail
// the test.
func checkLedger(t *testing.T, nodes []*netNode, want map[string]ledgerEntry) ledgerCheck {
	t.Helper()
	hashes := make([]string, 0, len(want))
	for h := range want {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	var res ledgerCheck
	for start := 0; start < len(hashes); start += checkChunk {
		chunk := hashes[start:min(start+checkChunk, len(hashes))]
		res.state = pinState(t, nodes)
		appHash, _, err := nodes[0].appHash(res.state + 1)
		require.NoError(t, err)
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs []error
			next atomic.Int64
		)
		for w := range 4 * len(nodes) {
			n := nodes[w%len(nodes)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < len(chunk); i = int(next.Add(1) - 1) {
					ok, err := checkOne(n, chunk[i], want[chunk[i]], res.state, appHash)
					mu.Lock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case !ok:
						res.lost++
						res.lostHashes = append(res.lostHashes, chunk[i])
					}
					res.checked++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...), "check credentials")
	}
	return res
}

// pinState returns a state height every node has committed, once each has
// the header above it and they agree on that header's app hash.
func pinState(t *testing.T, nodes []*netNode) int64 {
	t.Helper()
	state := int64(-1)
	for _, n := range nodes {
		h, err := n.appHeight()
		require.NoError(t, err)
		if state < 0 || h < state {
			state = h
		}
	}
	netEventually(t, 30*time.Second, "headers above the checked state", func() error {
		for _, n := range nodes {
			if h, err := n.height(); err != nil || h <= state {
				return fmt.Errorf("%s at height %d (%v)", n.name, h, err)
			}
		}
		return nil
	})
	want, _, err := nodes[0].appHash(state + 1)
	require.NoError(t, err)
	for _, n := range nodes[1:] {
		got, _, err := n.appHash(state + 1)
		require.NoError(t, err)
		require.Equal(t, want, got, "app hash at %d on %s", state+1, n.name)
	}
	return state
}

// checkOne checks one credential; see checkLedger.
func checkOne(n *netNode, hashHex string, want ledgerEntry, state int64, appHash []byte) (bool, error) {
	h, err := hex.DecodeString(hashHex)
	if err != nil {
		return false, err
	}
	var p *proofAnswer
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p, err = queryCredential(ctx, n.c, h, state)
		cancel()
		if err == nil || try == 3 {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return false, fmt.Errorf("query %s at %d on %s: %w", hashHex, state, n.name, err)
	}
	res, err := types.VerifyCredential(h, p.answer, p.proof, appHash)
	if err != nil {
		return false, fmt.Errorf("proof of %s at %d on %s: %w", hashHex, state, n.name, err)
	}
	for _, e := range res.Entries {
		if e.IssuerId == want.issuer && e.Anchor != nil && (want.height == 0 || e.Anchor.Height == want.height) {
			return true, nil
		}
	}
	return false, nil
}

type proofAnswer struct {
	answer *types.CredentialAnswer
	proof  []byte
}

func queryCredential(ctx context.Context, c *client.Client, h []byte, state int64) (*proofAnswer, error) {
	p, err := c.QueryCredential(ctx, h, state)
	if err != nil {
		return nil, err
	}
	if p.Height != state {
		return nil, fmt.Errorf("answer for state %d, asked %d", p.Height, state)
	}
	return &proofAnswer{answer: &p.Answer, proof: p.Proof}, nil
}

// startPiped starts n like netNode.start, but with its output going
// through a pipe (copied to its log and kept in out), so that a file size
// limit on the process does not apply to its log.
func (n *netNode) startPiped(out *syncBuffer) error {
	if n.running() {
		return fmt.Errorf("%s is already running", n.name)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== start (piped) %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "start", "--home", n.home, "--log-level", "*:error")
	w := io.MultiWriter(logf, out)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pendingOf returns how many of the first 100 txs in n's mempool issuer
// signed.
func (n *netNode) pendingOf(issuer string) (int, error) {
	ctx, cancel := netCtx()
	defer cancel()
	limit := 100
	res, err := n.c.RPC().UnconfirmedTxs(ctx, &limit)
	if err != nil {
		return 0, err
	}
	k := 0
	for _, tx := range res.Txs {
		if d, err := types.DecodeTx(tx); err == nil && d.Body.IssuerId == issuer {
			k++
		}
	}
	return k, nil
}

// The faults a probe lived through are the one in progress when it was
// sent and every one begun before it was done.
func TestProberFaultsBetween(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	p := &prober{marks: []faultMark{{at(0), "kill-validator"}, {at(10), ""}, {at(20), "kill-anchor-node"}, {at(30), "kill-all"}, {at(40), ""}}}
	for _, tc := range []struct {
		from, to int
		want     []string
	}{
		{1, 2, []string{"kill-validator"}},
		{5, 15, []string{"kill-validator"}},
		{11, 12, nil},
		{12, 25, []string{"kill-anchor-node"}},
		{29, 31, []string{"kill-anchor-node", "kill-all"}},
		{35, 50, []string{"kill-all"}},
		{41, 50, nil},
	} {
		require.Equal(t, tc.want, p.faultsBetween(at(tc.from), at(tc.to)), "%d..%d", tc.from, tc.to)
	}
}

// Only a probe that lived through a kill-all may be accepted and never
// committed.
func TestProberDroppedOutsideKillAll(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &prober{probes: []probe{
		{sent: at, latency: time.Second, touched: []string{"kill-validator"}},
		{sent: at, touched: []string{"kill-anchor-node", "kill-all"}},
		{sent: at.Add(time.Second), fault: "sigstop", touched: []string{"sigstop"}, err: errors.New("not seen committed")},
		{sent: at.Add(2 * time.Second), err: errors.New("not seen committed")},
	}}
	got := p.droppedOutsideKillAll()
	require.Len(t, got, 2)
	require.Contains(t, got[0], "(sigstop; lived through sigstop)")
	require.Contains(t, got[1], "00:00:02.000")
}
