package main

// Multi-node tests: real CometBFT networks of credledger processes on
// 127.0.0.1, made with `credledger testnet` and driven through the CLI and
// the Go client. They are skipped in -short mode; together they take about
// two minutes.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
	"github.com/credledger/credledger/types"
)

var netHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// netSubmission is the outcome of a Client.Submit run in a goroutine.
type netSubmission struct {
	results []client.BatchResult
	err     error
}

// netSubmitAsync submits anchors through n in a goroutine, one tx per
// batch, and delivers the outcome on the returned channel.
func netSubmitAsync(t *testing.T, n *netNode, key *keys.Key, hashes [][]byte, batch int) <-chan netSubmission {
	ch := make(chan netSubmission, 1)
	go func() {
		res, err := n.c.Submit(t.Context(), key, types.ActionAnchor, hashes, client.SubmitOptions{BatchSize: batch, CommitTimeout: 120 * time.Second})
		ch <- netSubmission{res, err}
	}()
	return ch
}

// netAwait waits (bounded) for a submission's outcome.
func netAwait(t *testing.T, ch <-chan netSubmission, timeout time.Duration) netSubmission {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(timeout):
		t.Fatalf("submission not finished within %s", timeout)
		return netSubmission{}
	}
}

// TestNetworkAnchorsAgree submits anchors to all four validators at once,
// each signed by the issuer of that node's home, and checks that every node
// holds the same chain (block and app hash at every height) and proves every
// anchor valid against its own headers. It runs the shipped block timing.
func TestNetworkAnchorsAgree(t *testing.T) {
	tn := startLocalNet(t, netOptions{validators: 4})
	// two rounds, so that the anchors land in more than one block
	var committed []map[string]int64
	var issuers []string
	var top int64
	for range 2 {
		subs := make([]<-chan netSubmission, len(tn.nodes))
		for i, n := range tn.nodes {
			subs[i] = netSubmitAsync(t, n, n.loadKey(t, n.issuer), netRandomHashes(t, 6), 2)
		}
		for i, sub := range subs {
			s := netAwait(t, sub, 3*time.Minute)
			require.NoError(t, s.err, "submit to %s", tn.nodes[i].name)
			require.Len(t, s.results, 3, "6 hashes in batches of 2")
			c := netCommitted(t, s.results, 6)
			for _, h := range c {
				top = max(top, h)
			}
			committed, issuers = append(committed, c), append(issuers, tn.nodes[i].issuer)
		}
	}
	// header top+1 proves the state after the last anchor
	tn.waitHeight(t, tn.nodes, top+1, 30*time.Second)
	appHashes := netCheckAgree(t, tn.nodes, 1, top+1)
	require.NotEqual(t, appHashes[1], appHashes[top+1], "the anchors changed the app hash")
	for _, n := range tn.nodes {
		for i, c := range committed {
			n.checkValid(t, issuers[i], c)
		}
	}
}

// TestNetworkFaultTolerance stops validators: with one of four down the
// others keep committing and the stopped one catches up after a restart;
// with two of four down (crashed) no block is committed, the txs sent
// meanwhile wait in the mempool, and once both are back every one of them
// is committed and all nodes agree.
func TestNetworkFaultTolerance(t *testing.T) {
	tn := startLocalNet(t, netOptions{validators: 4, steadyBlocks: true})
	n0, n1, n2, n3 := tn.nodes[0], tn.nodes[1], tn.nodes[2], tn.nodes[3]

	// one down (graceful stop): 30 of 40 power is more than 2/3
	n3.stop(t)
	live := []*netNode{n0, n1, n2}
	tn.waitHeight(t, live, netMaxHeight(t, live)+3, 60*time.Second)
	whileDown := n1.submitAnchors(t, n1.loadKey(t, "issuer1"), netRandomHashes(t, 3), 3)

	// restart: it catches up with the others and agrees with them
	require.NoError(t, n3.start())
	target := netMaxHeight(t, live)
	tn.waitHeight(t, tn.nodes, target, 60*time.Second)
	netCheckAgree(t, tn.nodes, 1, target)
	n3.checkValid(t, "issuer1", whileDown)

	// two down (crash): 20 of 40 power cannot commit
	n2.kill()
	n3.kill()
	live = []*netNode{n0, n1}
	time.Sleep(time.Second) // let a block whose votes were already out land
	stalled := netMaxHeight(t, live)
	hashes0, hashes1 := netRandomHashes(t, 3), netRandomHashes(t, 2)
	sub0 := netSubmitAsync(t, n0, n0.loadKey(t, "issuer0"), hashes0, 1)
	sub1 := netSubmitAsync(t, n1, n1.loadKey(t, "issuer1"), hashes1, 1)
	netEventually(t, 20*time.Second, "txs accepted into the mempools", func() error {
		s0, err0 := n0.mempoolSize()
		s1, err1 := n1.mempoolSize()
		if err0 != nil || err1 != nil || s0 < len(hashes0) || s1 < len(hashes1) {
			return fmt.Errorf("mempool sizes %d (%v), %d (%v)", s0, err0, s1, err1)
		}
		return nil
	})
	for i := 0; i < 14; i++ {
		require.Equal(t, stalled, netMaxHeight(t, live), "a block was committed with half the power down")
		time.Sleep(500 * time.Millisecond)
	}
	select {
	case s := <-sub0:
		t.Fatalf("submission finished while the chain was stalled: %+v", s)
	case s := <-sub1:
		t.Fatalf("submission finished while the chain was stalled: %+v", s)
	default:
	}

	// both back: blocks resume and every pending tx is committed
	require.NoError(t, n2.start())
	require.NoError(t, n3.start())
	var last int64
	pending := map[string]map[string]int64{}
	for _, sub := range []struct {
		ch     <-chan netSubmission
		issuer string
		n      int
	}{{sub0, "issuer0", len(hashes0)}, {sub1, "issuer1", len(hashes1)}} {
		s := netAwait(t, sub.ch, 2*time.Minute)
		require.NoError(t, s.err)
		pending[sub.issuer] = netCommitted(t, s.results, sub.n)
		for _, h := range pending[sub.issuer] {
			require.Greater(t, h, stalled)
			last = max(last, h)
		}
	}
	tn.waitHeight(t, tn.nodes, last+1, 60*time.Second)
	netCheckAgree(t, tn.nodes, 1, last+1)
	for issuer, c := range pending {
		n2.checkValid(t, issuer, c)
	}
	netEventually(t, 30*time.Second, "mempools drained", func() error {
		for _, n := range tn.nodes {
			if k, err := n.mempoolSize(); err != nil || k != 0 {
				return fmt.Errorf("%s: %d txs in the mempool (%v)", n.name, k, err)
			}
		}
		return nil
	})
}

// TestAdmissionAndRemovalEndToEnd has a fifth node join as a full node and
// sync, the consortium vote its issuer in with the CLI (it becomes a
// validator and anchors through its own node), then vote it out: it leaves
// the validator set, its writes are refused, and its anchors still verify.
func TestAdmissionAndRemovalEndToEnd(t *testing.T) {
	tn := startLocalNet(t, netOptions{validators: 4, spare: 1, steadyBlocks: true})
	bin := tn.bin
	n0, n1, n2, n3 := tn.nodes[0], tn.nodes[1], tn.nodes[2], tn.nodes[3]
	early := n0.submitAnchors(t, n0.loadKey(t, "issuer0"), netRandomHashes(t, 2), 2)

	// the fifth node joins as a full node and syncs the chain
	n5 := tn.join("uni5")
	var key netKeyOut
	netCLIJSON(t, bin, &key, "keys", "show", "uni5", "--home", n5.home)
	require.Equal(t, "uni5", key.Issuer)
	valKey := strings.TrimSpace(netCLIOK(t, bin, "show-validator", "--home", n5.home).stdout)
	require.Regexp(t, netHex64, valKey)
	require.NoError(t, n5.start())
	tn.waitHeight(t, []*netNode{n5}, netMaxHeight(t, tn.nodes[:4]), 60*time.Second)
	n5.checkValid(t, "issuer0", early)
	vals, err := n5.validatorKeys(0)
	require.NoError(t, err)
	require.Len(t, vals, 4)
	require.NotContains(t, vals, valKey)

	// admission: proposed by issuer0, pending after issuer1, passed by issuer2
	prop := tn.gov(t, "issuer", "propose-add", "--id", "uni5", "--name", "University Five",
		"--issuer-pubkey", key.PubKey, "--validator-pubkey", valKey, "--power", "10",
		"--identifier", "did:web:uni5.test", "--identifier", "https://uni5.example", "--from", "issuer0", "--home", n0.home)
	p := prop.Proposal
	require.NotNil(t, p)
	require.Equal(t, uint64(1), p.ID)
	require.Equal(t, "open", p.Status)
	require.Equal(t, "issuer0", p.Proposer)
	require.Contains(t, p.Action, `"uni5"`)
	require.Equal(t, prop.Height, p.CreatedHeight)
	require.Equal(t, prop.Height+types.DefaultParams().ProposalExpiryBlocks, p.ExpiresHeight)
	require.Equal(t, [3]int64{10, 0, 40}, [3]int64{p.YesPower, p.NoPower, p.TotalPower})
	text := tn.govText(t, "issuer", "vote", "--proposal", "1", "--yes", "--from", "issuer1", "--home", n1.home)
	require.Contains(t, text, "proposal 1 (")
	require.Contains(t, text, "pending, yes 20 / no 0 of 40 power")
	var shown netProposalOut
	netCLIJSON(t, bin, &shown, "proposal", "show", "1", "--home", n3.home)
	require.Equal(t, "open", shown.Status)
	require.Len(t, shown.Votes, 2)
	pass := tn.gov(t, "issuer", "vote", "--proposal", "1", "--yes", "--from", "issuer2", "--home", n2.home)
	require.NotNil(t, pass.Proposal)
	require.Equal(t, "passed", pass.Proposal.Status)
	require.Equal(t, [3]int64{30, 0, 40}, [3]int64{pass.Proposal.YesPower, pass.Proposal.NoPower, pass.Proposal.TotalPower})
	joined := pass.Height
	require.Equal(t, joined, pass.Proposal.DecidedHeight)

	// CometBFT applies the validator updates of block H from block H+2
	netCheckValidatorSet(t, tn, joined, valKey, true)
	var is netIssuerOut
	netCLIJSON(t, bin, &is, "issuer", "show", "uni5", "--home", n3.home)
	require.Equal(t, "active", is.Status)
	require.Equal(t, joined, is.JoinedHeight)
	require.Equal(t, key.PubKey, is.SigningPubKey)
	require.Equal(t, valKey, is.ValidatorPubKey)
	require.Equal(t, []string{"did:web:uni5.test", "https://uni5.example"}, is.Identifiers)
	var founder netIssuerOut
	netCLIJSON(t, bin, &founder, "issuer", "show", "issuer2", "--home", n3.home)
	require.Equal(t, []string{"did:web:issuer2.test"}, founder.Identifiers, "testnet gives issuer I did:web:issuerI.test")

	// the new issuer anchors through its own node, and its validator signs
	own := netRandomHex(t)
	ownHeight := tn.anchor(t, n5.home, "uni5", own)
	require.Greater(t, ownHeight, joined)
	netCheckSigns(t, n0, valKey, joined+2)

	// removal: with 50 power, 30 yes is not enough and 40 is
	rm := tn.gov(t, "issuer", "propose-remove", "--id", "uni5", "--from", "issuer0", "--home", n0.home)
	require.NotNil(t, rm.Proposal)
	require.Equal(t, uint64(2), rm.Proposal.ID)
	require.Equal(t, "open", rm.Proposal.Status)
	require.Equal(t, int64(40), rm.Proposal.TotalPower, "uni5's own power is left out of its removal")
	text = tn.govText(t, "issuer", "vote", "--proposal", "2", "--yes", "--from", "issuer1", "--home", n1.home)
	require.Contains(t, text, "pending, yes 20 / no 0 of 40 power")
	removed := tn.gov(t, "issuer", "vote", "--proposal", "2", "--yes", "--from", "issuer2", "--home", n2.home)
	require.Equal(t, "passed", removed.Proposal.Status, "30 of the others' 40 is more than 2/3")
	require.Equal(t, [3]int64{30, 0, 40}, [3]int64{removed.Proposal.YesPower, removed.Proposal.NoPower, removed.Proposal.TotalPower})
	left := removed.Height
	netCheckValidatorSet(t, tn, left, valKey, false)

	// its writes are refused, through its own node and another
	for _, via := range []string{n5.url, n0.url} {
		netCLIFail(t, bin, []string{`issuer "uni5" was removed at height ` + fmt.Sprint(left)},
			"anchor", "--hash", netRandomHex(t), "--from", "uni5", "--home", n5.home, "--node", via)
	}
	// its anchors still verify, and its record keeps its history
	for _, n := range []*netNode{n0, n5} {
		st := netStatusCLI(t, bin, n.url, own)
		require.Equal(t, "valid", st.Verdict)
		require.Equal(t, "uni5", st.Issuer)
		require.Equal(t, ownHeight, st.AnchoredHeight)
	}
	netCLIJSON(t, bin, &is, "issuer", "show", "uni5", "--home", n1.home)
	require.Equal(t, "removed", is.Status)
	require.Equal(t, joined, is.JoinedHeight)
	require.Equal(t, left, is.LeftHeight)
	var list []netIssuerOut
	netCLIJSON(t, bin, &list, "issuer", "list", "--home", n2.home)
	require.Len(t, list, 5)
	for _, e := range list {
		require.Equal(t, map[bool]string{true: "removed", false: "active"}[e.ID == "uni5"], e.Status, e.ID)
	}
	// the four founders go on without it
	n2.submitAnchors(t, n2.loadKey(t, "issuer2"), netRandomHashes(t, 1), 1)
}

// netCheckValidatorSet requires every node to report that the validator set
// at height decided+1 is still the old one and at decided+2 includes valKey
// (in) or not (!in), with five or four validators.
func netCheckValidatorSet(t *testing.T, tn *localNet, decided int64, valKey string, in bool) {
	t.Helper()
	tn.waitHeight(t, tn.nodes, decided+2, 60*time.Second)
	size := map[bool]int{true: 5, false: 4}
	for _, n := range tn.nodes {
		before, err := n.validatorKeys(decided + 1)
		require.NoError(t, err)
		after, err := n.validatorKeys(decided + 2)
		require.NoError(t, err)
		require.Len(t, before, size[!in], "%s: validators at %d", n.name, decided+1)
		require.Equal(t, !in, slices.Contains(before, valKey), "%s: validators at %d", n.name, decided+1)
		require.Len(t, after, size[in], "%s: validators at %d", n.name, decided+2)
		require.Equal(t, in, slices.Contains(after, valKey), "%s: validators at %d", n.name, decided+2)
	}
}

// netCheckSigns requires some commit from height from on to carry a
// precommit by the validator with key valKey (hex).
func netCheckSigns(t *testing.T, n *netNode, valKey string, from int64) {
	t.Helper()
	pub, err := hex.DecodeString(valKey)
	require.NoError(t, err)
	addr := cmted25519.PubKey(pub).Address()
	h := from
	netEventually(t, 30*time.Second, "a commit signed by the new validator", func() error {
		top, err := n.height()
		if err != nil {
			return err
		}
		for ; h <= top; h++ {
			ctx, cancel := netCtx()
			res, err := n.c.RPC().Commit(ctx, &h)
			cancel()
			if err != nil {
				return err
			}
			for _, sig := range res.Commit.Signatures {
				if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit && sig.ValidatorAddress.String() == addr.String() {
					return nil
				}
			}
		}
		return fmt.Errorf("no commit up to height %d signed by %s", top, addr)
	})
}

// netGovState is what a rejected governance tx must leave unchanged.
type netGovState struct {
	height    int64
	appHash   string
	proposals string
	issuers   string
}

func netSnapshot(t *testing.T, bin string, n *netNode) netGovState {
	t.Helper()
	info := func() (int64, string) {
		ctx, cancel := netCtx()
		defer cancel()
		res, err := n.c.RPC().ABCIInfo(ctx)
		require.NoError(t, err)
		return res.Response.LastBlockHeight, fmt.Sprintf("%X", res.Response.LastBlockAppHash)
	}
	// the lists must be of the state whose app hash is recorded
	for range 5 {
		_, hash := info()
		s := netGovState{
			appHash:   hash,
			proposals: netCLIOK(t, bin, "proposal", "list", "--home", n.home, "--output", "json").stdout,
			issuers:   netCLIOK(t, bin, "issuer", "list", "--home", n.home, "--output", "json").stdout,
		}
		if s.height, hash = info(); hash == s.appHash {
			return s
		}
	}
	t.Fatal("the state keeps changing")
	return netGovState{}
}

// TestGovernanceRejectionsOnNetwork sends governance txs the consortium must
// refuse: each is rejected by the CLI with exit 1 and the node's reason,
// and leaves the state (app hash, proposals, issuers) as it was. A proposal
// with half the power in favour stays open and then expires.
func TestGovernanceRejectionsOnNetwork(t *testing.T) {
	const expiry = 20
	tn := startLocalNet(t, netOptions{validators: 4, expiry: expiry, steadyBlocks: true})
	bin := tn.bin
	n0, n1, n2, n3 := tn.nodes[0], tn.nodes[1], tn.nodes[2], tn.nodes[3]
	// candidate returns a fresh signing key and a random validator key
	candidate := func(t *testing.T, id string) (signing, validator string) {
		var k netKeyOut
		netCLIJSON(t, bin, &k, "keys", "add", id, "--home", t.TempDir())
		return k.PubKey, netRandomHex(t)
	}
	var stranger, issuer2 netKeyOut
	netCLIJSON(t, bin, &stranger, "keys", "add", "stranger", "--home", n0.home)
	netCLIJSON(t, bin, &issuer2, "keys", "show", "issuer2", "--home", n2.home)
	val3 := strings.TrimSpace(netCLIOK(t, bin, "show-validator", "--home", n3.home).stdout)
	newSigning, newValidator := candidate(t, "newco")
	proposeAdd := func(id, signing, validator, from, home string) []string {
		return []string{"issuer", "propose-add", "--id", id, "--name", id + " ltd", "--issuer-pubkey", signing,
			"--validator-pubkey", validator, "--power", "10", "--from", from, "--home", home}
	}
	vote := func(id uint64, yes bool, from string, home string) []string {
		return []string{"issuer", "vote", "--proposal", fmt.Sprint(id), map[bool]string{true: "--yes", false: "--no"}[yes], "--from", from, "--home", home}
	}
	// rejected runs a tx the nodes must refuse and checks the state did not
	// change, unless an open proposal may have expired meanwhile
	rejected := func(t *testing.T, want []string, args ...string) {
		t.Helper()
		before := netSnapshot(t, bin, n0)
		netCLIFail(t, bin, want, args...)
		after := netSnapshot(t, bin, n0)
		var open []netProposalOut
		require.NoError(t, json.Unmarshal([]byte(before.proposals), &open))
		for _, p := range open {
			if p.Status == "open" && p.ExpiresHeight < after.height {
				require.Equal(t, before.issuers, after.issuers)
				t.Logf("proposal %d may have expired between heights %d and %d: app hash not compared", p.ID, before.height, after.height)
				return
			}
		}
		require.Equal(t, before, netGovState{before.height, after.appHash, after.proposals, after.issuers},
			"state changed between heights %d and %d", before.height, after.height)
	}

	t.Run("vote on unknown proposal", func(t *testing.T) {
		rejected(t, []string{"there is no proposal 99"}, vote(99, true, "issuer1", n1.home)...)
	})
	t.Run("propose by a non-member", func(t *testing.T) {
		rejected(t, []string{`unknown issuer "stranger"`, "not a member"}, proposeAdd("newco", newSigning, newValidator, "stranger", n0.home)...)
	})
	t.Run("admit an existing id", func(t *testing.T) {
		rejected(t, []string{`issuer id "issuer3" is already taken`}, proposeAdd("issuer3", newSigning, newValidator, "issuer0", n0.home)...)
	})
	t.Run("admit an existing signing key", func(t *testing.T) {
		rejected(t, []string{`already used by issuer "issuer2"`}, proposeAdd("newco", issuer2.PubKey, newValidator, "issuer1", n1.home)...)
	})
	t.Run("admit an existing validator key", func(t *testing.T) {
		rejected(t, []string{`already used by issuer "issuer3"`}, proposeAdd("newco", newSigning, val3, "issuer0", n0.home)...)
	})

	// proposal 1: two of four in favour is not more than 2/3
	p1 := tn.gov(t, proposeAdd("newco", newSigning, newValidator, "issuer0", n0.home)...)
	require.NotNil(t, p1.Proposal)
	require.Equal(t, uint64(1), p1.Proposal.ID)
	require.Equal(t, p1.Height+expiry, p1.Proposal.ExpiresHeight)
	v := tn.gov(t, vote(1, true, "issuer1", n1.home)...)
	require.Equal(t, "open", v.Proposal.Status)
	require.Equal(t, [3]int64{20, 0, 40}, [3]int64{v.Proposal.YesPower, v.Proposal.NoPower, v.Proposal.TotalPower})

	t.Run("vote twice", func(t *testing.T) {
		rejected(t, []string{`issuer "issuer1" already voted on proposal 1`}, vote(1, false, "issuer1", n1.home)...)
		rejected(t, []string{`issuer "issuer0" already voted on proposal 1`}, vote(1, true, "issuer0", n0.home)...)
	})
	t.Run("vote on a decided proposal", func(t *testing.T) {
		signing, validator := candidate(t, "rejectco")
		p2 := tn.gov(t, proposeAdd("rejectco", signing, validator, "issuer2", n2.home)...)
		require.Equal(t, uint64(2), p2.Proposal.ID)
		v = tn.gov(t, vote(2, false, "issuer0", n0.home)...)
		require.Equal(t, "open", v.Proposal.Status, "10 no of 40 leave 30 possible yes")
		v = tn.gov(t, vote(2, false, "issuer1", n1.home)...)
		require.Equal(t, "rejected", v.Proposal.Status, "20 no of 40: more than 2/3 yes is impossible")
		require.Equal(t, v.Height, v.Proposal.DecidedHeight)
		rejected(t, []string{"proposal 2 was already decided: rejected at height " + fmt.Sprint(v.Height)}, vote(2, true, "issuer3", n3.home)...)
	})
	t.Run("vote on an expired proposal", func(t *testing.T) {
		exp := p1.Proposal.ExpiresHeight
		netEventually(t, time.Duration(expiry+10)*3*time.Second/2, "proposal 1 expired", func() error {
			ctx, cancel := netCtx()
			defer cancel()
			p, err := n3.c.Proposal(ctx, 1, 0)
			if err != nil {
				return err
			}
			if p.Status != types.ProposalStatus_PROPOSAL_STATUS_EXPIRED {
				return fmt.Errorf("proposal 1 is %s", p.Status.StatusWord())
			}
			return nil
		})
		h, err := n3.appHeight()
		require.NoError(t, err)
		tn.settle(t, h)
		var shown netProposalOut
		netCLIJSON(t, bin, &shown, "proposal", "show", "1", "--home", n2.home)
		require.Equal(t, "expired", shown.Status)
		require.Equal(t, exp+1, shown.DecidedHeight, "expires in the first block after its last open height")
		require.Equal(t, int64(20), shown.YesPower)
		rejected(t, []string{fmt.Sprintf("proposal 1 expired at height %d", exp)}, vote(1, true, "issuer2", n2.home)...)
		var list []netIssuerOut
		netCLIJSON(t, bin, &list, "issuer", "list", "--home", n1.home)
		require.Len(t, list, 4, "nothing was admitted")
		vals, err := n1.validatorKeys(0)
		require.NoError(t, err)
		require.Len(t, vals, 4)
	})
}

// TestKeyRotationOnNetwork rotates issuer0's signing key: the old key no
// longer signs on any node, the new one does, earlier anchors keep their
// issuer, and the issuer record shows the key history. It runs the shipped
// block timing.
func TestKeyRotationOnNetwork(t *testing.T) {
	tn := startLocalNet(t, netOptions{validators: 4})
	bin := tn.bin
	n0, n1, n2, n3 := tn.nodes[0], tn.nodes[1], tn.nodes[2], tn.nodes[3]

	// the chain is at height 1 until the first tx (the shipped config makes
	// an empty block every 30 s): issuer show must work on it already
	var oldKey netKeyOut
	netCLIJSON(t, bin, &oldKey, "keys", "show", "issuer0", "--home", n0.home)
	var was netIssuerOut
	netCLIJSON(t, bin, &was, "issuer", "show", "issuer0", "--home", n2.home)
	require.Equal(t, oldKey.PubKey, was.SigningPubKey)
	require.Empty(t, was.PreviousKeys)
	beforeHash := netRandomHex(t)
	beforeHeight := tn.anchor(t, n0.home, "issuer0", beforeHash)

	var newKey netKeyOut
	netCLIJSON(t, bin, &newKey, "keys", "add", "issuer0-new", "--issuer", "issuer0", "--home", n0.home)
	require.Equal(t, netKeyOut{Name: "issuer0-new", Issuer: "issuer0", PubKey: newKey.PubKey}, newKey)
	require.Regexp(t, netHex64, newKey.PubKey)
	rot := tn.gov(t, "issuer", "rotate-key", "--new-key", "issuer0-new", "--from", "issuer0", "--home", n0.home)
	require.Nil(t, rot.Proposal)
	rotated := rot.Height
	require.Greater(t, rotated, beforeHeight)

	// the old key is refused, through its own node and another, with a
	// message naming the rotation and the key that replaced it
	stale := netRandomHex(t)
	replaced := fmt.Sprintf("replaced at height %d by key %s", rotated, newKey.PubKey[:16])
	for _, n := range []*netNode{n0, n3} {
		netCLIFail(t, bin, []string{replaced, `issuer "issuer0"`},
			"anchor", "--hash", stale, "--from", "issuer0", "--home", n0.home, "--node", n.url)
	}
	res := runCLI(t, bin, "status", "--hash", stale, "--node", n1.url)
	require.Equal(t, 4, res.code, "the refused anchor left nothing: %s", res)

	afterHash := netRandomHex(t)
	afterHeight := tn.anchor(t, n0.home, "issuer0-new", afterHash)
	require.Greater(t, afterHeight, rotated)
	for _, n := range tn.nodes {
		for hx, h := range map[string]int64{beforeHash: beforeHeight, afterHash: afterHeight} {
			st := netStatusCLI(t, bin, n.url, hx)
			require.Equal(t, "valid", st.Verdict)
			require.Equal(t, "issuer0", st.Issuer)
			require.Equal(t, h, st.AnchoredHeight)
		}
	}

	// the record on another node shows the new key and the old one's heights
	tn.waitHeight(t, []*netNode{n2}, afterHeight+1, 30*time.Second)
	var is netIssuerOut
	netCLIJSON(t, bin, &is, "issuer", "show", "issuer0", "--home", n2.home)
	require.Equal(t, newKey.PubKey, is.SigningPubKey)
	require.Equal(t, rotated, is.SigningKeyHeight)
	require.Len(t, is.PreviousKeys, 1)
	require.Equal(t, oldKey.PubKey, is.PreviousKeys[0].PubKey)
	require.Equal(t, was.SigningKeyHeight, is.PreviousKeys[0].FromHeight)
	require.Equal(t, rotated, is.PreviousKeys[0].UntilHeight)
	text := netCLIOK(t, bin, "issuer", "show", "issuer0", "--home", n1.home).stdout
	require.Contains(t, text, fmt.Sprintf("previous key:  %s (heights %d..%d)", oldKey.PubKey, was.SigningKeyHeight, rotated))

	// a key once used cannot come back
	netCLIFail(t, bin, []string{`already used by issuer "issuer0"`},
		"issuer", "rotate-key", "--new-key", "issuer0", "--from", "issuer0-new", "--home", n0.home)
}
