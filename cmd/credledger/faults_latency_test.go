package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// blockTimeline is the header time, tx count and size of each block of a
// range of heights, read from one node after a TestFaults run to tell where
// a slow probe's time went.
type blockTimeline struct {
	first int64
	times []time.Time
	txs   []int
	bytes []int
	// rounds is the consensus round each height was committed in (its
	// commit's round), for the heights readRounds read
	rounds map[int64]int32
}

// readTimeline reads heights from..to from n (20 per RPC call).
func readTimeline(t *testing.T, n *netNode, from, to int64) blockTimeline {
	t.Helper()
	tl := blockTimeline{first: from}
	size := int(to - from + 1)
	tl.times, tl.txs, tl.bytes = make([]time.Time, size), make([]int, size), make([]int, size)
	for lo := from; lo <= to; lo += 20 {
		hi := min(lo+19, to)
		ctx, cancel := netCtx()
		res, err := n.c.RPC().BlockchainInfo(ctx, lo, hi)
		cancel()
		require.NoError(t, err, "blockchain info %d..%d from %s", lo, hi, n.name)
		for _, m := range res.BlockMetas {
			i := m.Header.Height - from
			tl.times[i], tl.txs[i], tl.bytes[i] = m.Header.Time, m.NumTxs, m.BlockSize
		}
	}
	return tl
}

// readRounds reads from n the round in which each of heights was committed
// (0: its first proposal made it).
func (tl *blockTimeline) readRounds(t *testing.T, n *netNode, heights []int64) {
	t.Helper()
	if tl.rounds == nil {
		tl.rounds = map[int64]int32{}
	}
	for _, h := range heights {
		if _, ok := tl.rounds[h]; ok {
			continue
		}
		ctx, cancel := netCtx()
		res, err := n.c.RPC().Commit(ctx, &h)
		cancel()
		require.NoError(t, err, "commit of height %d from %s", h, n.name)
		tl.rounds[h] = res.Commit.Round
	}
}

// has reports whether h is in the timeline.
func (tl blockTimeline) has(h int64) bool { return h >= tl.first && h < tl.first+int64(len(tl.times)) }

// time returns the header time of h: in CometBFT the median time of the
// precommits of h-1, so about when h-1 was committed and h's round began.
func (tl blockTimeline) time(h int64) time.Time { return tl.times[h-tl.first] }

// firstAfter returns the first height whose round began after at.
func (tl blockTimeline) firstAfter(at time.Time) int64 {
	i, _ := slices.BinarySearchFunc(tl.times, at, func(t, at time.Time) int {
		if t.After(at) {
			return 1
		}
		return -1
	})
	return tl.first + int64(i)
}

// probeBreakdown splits a committed probe's latency (accepted by its node
// to seen committed by it) into where the time went.
type probeBreakdown struct {
	// passed is how many blocks began after the probe was sent and before
	// the one that included it (0: it made the first block it could).
	passed int64
	// chain is from the probe's acceptance to the commit of its block
	// (the header time of the next block).
	chain time.Duration
	// seen is from that commit until the prober's node reported the tx
	// (executing and indexing the block there, and the 100 ms poll).
	seen time.Duration
	// block is how long the probe's block took, from the start of its
	// round to its commit; txs and bytes are its tx count and size.
	block      time.Duration
	txs, bytes int
	// round is the round its block was committed in (-1: not read)
	round int32
}

// breakdown splits pr's latency using tl, which must hold pr.height+1;
// ok is false if it does not or pr was not committed.
func (tl blockTimeline) breakdown(pr probe) (b probeBreakdown, ok bool) {
	h := pr.height
	if pr.latency == 0 || !tl.has(h) || !tl.has(h+1) {
		return b, false
	}
	committed := tl.time(h + 1)
	b.passed = max(h-tl.firstAfter(pr.sent), 0)
	b.chain = committed.Sub(pr.sent)
	b.seen = pr.latency - b.chain
	b.block = committed.Sub(tl.time(h))
	b.txs, b.bytes = tl.txs[h-tl.first], tl.bytes[h-tl.first]
	b.round = -1
	if r, ok := tl.rounds[h]; ok {
		b.round = r
	}
	return b, true
}

func (b probeBreakdown) String() string {
	round := ""
	if b.round >= 0 {
		round = fmt.Sprintf(", committed in round %d", b.round)
	}
	return fmt.Sprintf("committed by the chain %s after it was sent (%d block(s) began before the one including it), seen by its node %s later; its block took %s with %d txs, %d kB%s",
		b.chain.Round(time.Millisecond), b.passed, b.seen.Round(time.Millisecond), b.block.Round(time.Millisecond), b.txs, b.bytes/1000, round)
}

// latencyReport describes where the time of the committed probes went:
// percentiles of the chain's commit latency and of the node's reporting
// lag, how many blocks passed the probes by, and the slowest n (the probes
// not committed are listed apart, by prober.failures).
func latencyReport(tl blockTimeline, probes []probe, n int) []string {
	var chain, seen, blocks []time.Duration
	passed := map[int64]int{}
	laterRounds, roundsKnown := 0, 0
	type slow struct {
		pr probe
		b  probeBreakdown
	}
	var all []slow
	for _, pr := range probes {
		b, ok := tl.breakdown(pr)
		if !ok {
			continue
		}
		chain, seen, blocks = append(chain, b.chain), append(seen, b.seen), append(blocks, b.block)
		passed[min(b.passed, 3)]++
		if b.round >= 0 {
			roundsKnown++
			if b.round > 0 {
				laterRounds++
			}
		}
		all = append(all, slow{pr, b})
	}
	if len(all) == 0 {
		return []string{"no committed probe to break down"}
	}
	for _, ds := range [][]time.Duration{chain, seen, blocks} {
		slices.Sort(ds)
	}
	p := func(ds []time.Duration, q int) string { return percentile(ds, q).Round(time.Millisecond).String() }
	out := []string{fmt.Sprintf("n=%d: committed by the chain p50=%s p99=%s; seen by the prober's node after that p50=%s p99=%s; their blocks took p50=%s p99=%s; blocks begun before the one including them: 0 for %d, 1 for %d, 2 for %d, 3 or more for %d",
		len(all), p(chain, 50), p(chain, 99), p(seen, 50), p(seen, 99), p(blocks, 50), p(blocks, 99), passed[0], passed[1], passed[2], passed[3])}
	if roundsKnown > 0 {
		out[0] += fmt.Sprintf("; %d of %d in blocks committed after round 0 (a proposer down, or a round that failed)", laterRounds, roundsKnown)
	}
	slices.SortFunc(all, func(a, b slow) int { return cmp.Compare(b.pr.latency, a.pr.latency) })
	for _, s := range all[:min(n, len(all))] {
		out = append(out, fmt.Sprintf("  %s at height %d, sent %s during %q (lived through %s): %s", s.pr.latency.Round(time.Millisecond), s.pr.height, s.pr.sent.Format("15:04:05.000"), s.pr.fault, s.pr.livedThrough(), s.b))
	}
	return out
}

// matching returns the probes that match.
func (p *prober) matching(match func(probe) bool) []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []probe
	for _, pr := range p.probes {
		if match(pr) {
			out = append(out, pr)
		}
	}
	return out
}

// reportLatencyBreakdown logs where the probes' time went, for those sent
// while 3 of 4 validators were up and those sent outside faults.
func (f *faultsRun) reportLatencyBreakdown(t *testing.T) {
	t.Helper()
	f.reported = true
	n := f.tn.nodes[1] // the prober's node
	top, err := n.height()
	if err != nil {
		f.logf("where the time went: not known, %s does not answer: %v", n.name, err)
		return
	}
	tl := readTimeline(t, n, 1, top)
	var heights []int64
	for _, pr := range f.prober.matching(func(pr probe) bool { return pr.height > 0 }) {
		heights = append(heights, pr.height)
	}
	tl.readRounds(t, n, heights)
	for _, kind := range []struct {
		name  string
		match func(probe) bool
	}{
		{"sent while 3 of 4 were up", f.prober.isLive},
		{"sent outside faults", func(pr probe) bool { return pr.fault == "" }},
	} {
		for i, line := range latencyReport(tl, f.prober.matching(kind.match), 5) {
			if i == 0 {
				line = "where the time went, probes " + kind.name + ": " + line
			}
			f.logf("%s", strings.TrimRight(line, " "))
		}
	}
}

func TestProbeBreakdown(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// heights 10..14 begin at 0, 1000, 2000, 5000, 6000 ms
	tl := blockTimeline{first: 10, times: []time.Time{at(0), at(1000), at(2000), at(5000), at(6000)},
		txs: []int{1, 2, 3, 4, 5}, bytes: []int{100, 200, 300, 400, 500}, rounds: map[int64]int32{13: 2}}
	for _, tc := range []struct {
		name     string
		pr       probe
		ok       bool
		want     probeBreakdown
		firstAft int64
	}{
		{"first block it could make", probe{sent: at(500), height: 11, latency: 1700 * time.Millisecond}, true,
			probeBreakdown{passed: 0, chain: 1500 * time.Millisecond, seen: 200 * time.Millisecond, block: time.Second, txs: 2, bytes: 200, round: -1}, 11},
		{"passed over by two blocks", probe{sent: at(500), height: 13, latency: 6 * time.Second}, true,
			probeBreakdown{passed: 2, chain: 5500 * time.Millisecond, seen: 500 * time.Millisecond, block: time.Second, txs: 4, bytes: 400, round: 2}, 11},
		{"sent after its block's round began", probe{sent: at(2100), height: 12, latency: 3 * time.Second}, true,
			probeBreakdown{passed: 0, chain: 2900 * time.Millisecond, seen: 100 * time.Millisecond, block: 3 * time.Second, txs: 3, bytes: 300, round: -1}, 13},
		{"next block not in the timeline", probe{sent: at(500), height: 14, latency: 6 * time.Second}, false, probeBreakdown{}, 11},
		{"not committed", probe{sent: at(500)}, false, probeBreakdown{}, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.firstAft, tl.firstAfter(tc.pr.sent))
			b, ok := tl.breakdown(tc.pr)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, b)
		})
	}
	require.Equal(t, int64(15), tl.firstAfter(at(7000)), "after the last block")
	lines := latencyReport(tl, []probe{{sent: at(500), height: 13, latency: 6 * time.Second}, {sent: at(500), height: 11, latency: 1700 * time.Millisecond}}, 1)
	require.Len(t, lines, 2)
	require.Contains(t, lines[0], "n=2: committed by the chain p50=1.5s p99=5.5s")
	require.Contains(t, lines[0], "0 for 1, 1 for 0, 2 for 1, 3 or more for 0")
	require.Contains(t, lines[0], "; 1 of 1 in blocks committed after round 0")
	require.Contains(t, lines[1], "6s at height 13")
	require.Contains(t, lines[1], "committed in round 2")
}

// cpuTimes are the machine's total and idle CPU time (clock ticks, all
// CPUs) from /proc/stat; zero where it cannot be read.
type cpuTimes struct{ total, idle uint64 }

// readCPUTimes reads the first line of /proc/stat: "cpu user nice system
// idle iowait irq softirq steal ...".
func readCPUTimes() cpuTimes {
	bz, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(bz), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return cpuTimes{}
	}
	var c cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		c.total += v
		if i == 3 || i == 4 { // idle, iowait
			c.idle += v
		}
	}
	return c
}

// busySince is the share of CPU time not idle since from, as "87%" ("?"
// if unknown).
func (c cpuTimes) busySince(from cpuTimes) string {
	if from.total == 0 || c.total <= from.total {
		return "?"
	}
	d := c.total - from.total
	return fmt.Sprintf("%d%%", (d-(c.idle-from.idle))*100/d)
}

func TestBusySince(t *testing.T) {
	require.Equal(t, "75%", cpuTimes{total: 1400, idle: 300}.busySince(cpuTimes{total: 1000, idle: 200}))
	require.Equal(t, "?", cpuTimes{total: 1000}.busySince(cpuTimes{}))
	c := readCPUTimes()
	if _, err := os.Stat("/proc/stat"); err == nil {
		require.Positive(t, c.total, "read /proc/stat")
		require.LessOrEqual(t, c.idle, c.total)
	}
}

// procCPU is the CPU time (clock ticks) of the processes of a TestFaults
// run, by pid, with the class each belongs to: a node's name, "anchor" for
// the anchor CLIs, "test" for this process.
type procCPU map[int]struct {
	class string
	ticks uint64
}

// readProcCPU reads /proc/PID/stat (utime + stime) of the processes the run
// knows: each node's by its home in its command line.
func readProcCPU(nodes []*netNode) procCPU {
	out := procCPU{}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := os.Getpid()
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		class := ""
		switch {
		case pid == self:
			class = "test"
		case len(args) > 1 && args[1] == "anchor":
			class = "anchor"
		case len(args) > 3 && args[1] == "start":
			for _, n := range nodes {
				if args[3] == n.home {
					class = n.name
				}
			}
		}
		if class == "" {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// fields after the command name in parentheses: state is field 3,
		// utime 14 and stime 15
		_, rest, ok := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseUint(f[11], 10, 64)
		s, err2 := strconv.ParseUint(f[12], 10, 64)
		if err1 == nil && err2 == nil {
			out[pid] = struct {
				class string
				ticks uint64
			}{class, u + s}
		}
	}
	return out
}

// cpuShares describes the CPU time each class of process used since from
// (a process that was not there then counts from its start; one that
// ended meanwhile is not counted), in seconds of one CPU, e.g. "node0
// 12.3s, node1 8.1s, anchor 2.0s, test 4.4s".
func (now procCPU) cpuShares(from procCPU) string {
	const ticksPerSecond = 100 // USER_HZ on Linux
	by := map[string]uint64{}
	for pid, p := range now {
		d := p.ticks
		if q, ok := from[pid]; ok && q.class == p.class && q.ticks <= p.ticks {
			d -= q.ticks
		}
		by[p.class] += d
	}
	classes := make([]string, 0, len(by))
	for c := range by {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%s %.1fs", c, float64(by[c])/ticksPerSecond)
	}
	return strings.Join(parts, ", ")
}

func TestCPUShares(t *testing.T) {
	type p = struct {
		class string
		ticks uint64
	}
	from := procCPU{10: p{"node0", 100}, 11: p{"anchor", 50}, 12: p{"node1", 500}}
	now := procCPU{10: p{"node0", 350}, 12: p{"node1", 520}, 13: p{"node1", 40}, 14: p{"anchor", 70}}
	// node0 +2.5s; node1 +0.2s (pid 12) + 0.4s (pid 13, restarted); the
	// anchor run that ended is not counted, the new one counts from 0
	require.Equal(t, "anchor 0.7s, node0 2.5s, node1 0.6s", now.cpuShares(from))
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		require.Equal(t, "test", readProcCPU(nil)[os.Getpid()].class, "finds the test process")
	}
}
