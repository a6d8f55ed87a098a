package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/types"
)

// trustFlags choose the trust root and trusting period.
type trustFlags struct {
	genesis        string
	trustHeight    int64
	trustHash      string
	trustingPeriod time.Duration
}

func (f *trustFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.genesis, "genesis", "", "trust this genesis file: its validators and the first block they sign")
	fs.Int64Var(&f.trustHeight, "trust-height", 0, "height of a trusted header (with --trust-hash)")
	fs.StringVar(&f.trustHash, "trust-hash", "", "hash of the trusted header at --trust-height (64 hex digits)")
	fs.DurationVar(&f.trustingPeriod, "trusting-period", bundle.DefaultTrustingPeriod,
		"how long a verified header may be used to verify later ones (offline: how old the bundle's root may be)")
}

// root returns the trust root the flags name.
func (f *trustFlags) root() (bundle.TrustRoot, error) {
	switch {
	case f.genesis != "" && (f.trustHeight != 0 || f.trustHash != ""):
		return bundle.TrustRoot{}, errors.New("give either --genesis or --trust-height with --trust-hash, not both")
	case f.genesis != "":
		return bundle.LoadGenesisTrustRoot(f.genesis)
	case f.trustHeight != 0 || f.trustHash != "":
		if f.trustHeight == 0 || f.trustHash == "" {
			return bundle.TrustRoot{}, errors.New("--trust-height and --trust-hash go together")
		}
		return bundle.NewHeaderTrustRoot(f.trustHeight, strings.TrimPrefix(f.trustHash, "0x"))
	}
	return bundle.TrustRoot{}, errors.New("give a trust root: --genesis FILE, or --trust-height N --trust-hash HEX")
}

// lightFlags are the flags of an online light-client command.
type lightFlags struct {
	trustFlags
	nodeURL   string
	witnesses []string
	atHeight  int64
	atTime    string
	wait      time.Duration
	outputFlag
	hashHex string
	issuer  string
	raw     bool
}

func (f *lightFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.trustFlags.register(fs)
	f.registerOutput(cmd, "")
	fs.StringVar(&f.nodeURL, "node", client.DefaultNodeURL, "RPC address of the primary node (answers and headers)")
	fs.StringSliceVar(&f.witnesses, "witness", nil, "RPC address of a witness node that cross-checks the primary's headers (repeatable; without one nothing is cross-checked)")
	fs.Int64Var(&f.atHeight, "at-height", 0, "answer as of this past state height, from the latest state's records (default: the latest state); with --bundle, the state the bundle must be about")
	fs.StringVar(&f.atTime, "at-time", "", "answer as of this time (RFC 3339, e.g. 2026-03-01T00:00:00Z): the newest state committed by then")
	fs.DurationVar(&f.wait, "wait", light.DefaultHeaderWait, "how long to wait for the header that proves the state")
	fs.StringVar(&f.hashHex, "hash", "", "credential hash as 64 hex digits")
	fs.StringVar(&f.issuer, "issuer", "", issuerUsage)
	fs.BoolVar(&f.raw, "raw", false, rawUsage)
}

// client starts a light client on the flags.
func (f *lightFlags) client(cmd *cobra.Command, extra ...light.Option) (*light.Client, error) {
	root, err := f.root()
	if err != nil {
		return nil, err
	}
	witnesses := f.witnesses
	if len(witnesses) == 0 {
		// CometBFT's light client needs a witness; the primary itself still
		// lets every header be verified from the trust root, but nothing is
		// cross-checked, so say so
		fmt.Fprintln(cmd.ErrOrStderr(), "credledger: warning: no --witness given: headers are verified from the trust root but not cross-checked with another node (fork detection is off)")
		witnesses = []string{f.nodeURL}
	}
	if f.atHeight < 0 {
		return nil, fmt.Errorf("--at-height %d: want a height > 0", f.atHeight)
	}
	if f.atTime != "" {
		if f.atHeight != 0 {
			return nil, errors.New("give --at-height or --at-time, not both")
		}
		if _, err := f.parseAtTime(); err != nil {
			return nil, err
		}
	}
	warn := func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "credledger: warning:", msg) }
	opts := append([]light.Option{light.WithTrustingPeriod(f.trustingPeriod), light.WithHeaderWait(f.wait), light.WithWarnFn(warn)}, extra...)
	return light.New(cmd.Context(), f.nodeURL, witnesses, root, opts...)
}

// parseAtTime parses --at-time.
func (f *lightFlags) parseAtTime() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, f.atTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at-time %q: want an RFC 3339 time such as 2026-03-01T00:00:00Z", f.atTime)
	}
	return t, nil
}

// pastHeight returns the past state height --at-height or --at-time asks
// about (0: the latest state), finding --at-time's with lc.
func (f *lightFlags) pastHeight(cmd *cobra.Command, lc *light.Client) (int64, error) {
	if f.atTime == "" {
		return f.atHeight, nil
	}
	t, err := f.parseAtTime()
	if err != nil {
		return 0, err
	}
	h, err := lc.HeightAt(cmd.Context(), t)
	if err != nil {
		return 0, fmt.Errorf("--at-time %s: %w", f.atTime, err)
	}
	return h, nil
}

// DefaultMaxAge is verify's default --max-age online: a live chain makes a
// block at least every 30 s, so an older newest header means a stuck or
// stale chain, not a fresh answer.
const DefaultMaxAge = 2 * time.Minute

func newVerifyCmd() *cobra.Command {
	var f lightFlags
	var lightHome, bundlePath string
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use: "verify (FILE | --hash HEX | --bundle BUNDLE.json) (--genesis FILE | --trust-height N --trust-hash HEX) [--node URL --witness URL...]",
		Example: `  credledger verify cred.json --node http://n1:26657 --witness http://n2:26657 --genesis genesis.json
  credledger verify --hash 5f0c…e1 --node URL --witness URL --trust-height 1000 --trust-hash 8A3F… --output json
  credledger verify --bundle cred.bundle.json --genesis genesis.json`,
		Short: "Check a credential without trusting any node (light client), or check a proof bundle offline",
		Long: `Verify the header that commits to the answer with CometBFT's light client,
starting from a trust root (a genesis file, or a trusted header hash) and
cross-checking every header with the witnesses, then check the answer's Merkle
proofs against that header's app hash. Trusted headers are kept in --light-home
(default ~/.credledger-light/CHAIN_ID), so later runs start from them.

With --bundle, check a bundle written by "credledger prove" with no network
access, against the trust root, at the current time.

The verdict is about the primary's newest state, which must not be more
than 2 blocks behind the newest block any witness shows, and its header must
be younger than --max-age (2m by default online). --at-height N asks about
a past state and --at-time T about the newest state committed by time T:
the answer is proven from the latest state, whose records keep their
heights and earlier status changes (nodes prune old states), so it also
reflects what the consortium decided since (a void). --max-age applies to
the proving header. A primary that is behind, serves a bad proof or header, or a
witness that disagrees with it, is an error (exit 1) naming what failed,
never a verdict.
A JSON credential's own claims are checked after the proofs, in this order:
anchored, the issuer it names (its issuer field, a string or an object's id,
must be an identifier or the id of the issuer whose record it has: else
issuer_mismatch; --issuer does the same for --hash), status (revoked,
suspended), and its validity period (VC 2.0 validFrom/validUntil or VC 1.1
issuanceDate/expirationDate) at the time of the proving header (expired,
not_yet_valid).
Exit codes: 0 valid, 2 revoked, 3 suspended, 4 not anchored, 5 issuer
mismatch, 6 voided, 7 expired or not yet valid, 1 error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			var rep *types.Report
			var file, source string
			var err error
			if bundlePath != "" {
				rep, file, err = verifyBundleFile(cmd, &f, args, bundlePath)
				source = "bundle"
			} else {
				rep, file, err = verifyOnline(cmd, &f, args, lightHome)
				source = "light-client"
			}
			if err != nil {
				return err
			}
			if bundlePath != "" && !cmd.Flags().Changed("max-age") {
				maxAge = 0 // a bundle is a snapshot: any age, unless asked
			}
			age := time.Since(rep.HeaderTime)
			if maxAge > 0 && age > maxAge {
				return fmt.Errorf("the verdict is as of header %d at %s, %s ago: older than --max-age %s (is the chain stuck, or the %s old? --max-age 0 accepts any age)",
					rep.HeaderHeight, rep.HeaderTime.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge, map[bool]string{true: "bundle", false: "node"}[bundlePath != ""])
			}
			j := newVerifyJSON(rep, file, source)
			j.Bundle, j.HashGiven = bundlePath, file != "" || f.hashHex != ""
			j.AgeSeconds = int64(age / time.Second)
			if f.genesis != "" {
				if j.GenesisSHA256, err = genesisDigest(f.genesis); err != nil {
					return err
				}
			}
			if err := printVerify(cmd, rep, j, f.output); err != nil {
				return err
			}
			if code := rep.Verdict.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&lightHome, "light-home", "", "directory of the trusted header store (default ~/.credledger-light/CHAIN_ID)")
	fs.StringVar(&bundlePath, "bundle", "", "verify this proof bundle offline instead of asking nodes")
	fs.DurationVar(&maxAge, "max-age", DefaultMaxAge, "fail (exit 1) if the header the verdict is checked against is older than this; 0: no limit. With --bundle there is no limit unless given (a bundle is a snapshot)")
	return cmd
}

func verifyOnline(cmd *cobra.Command, f *lightFlags, args []string, lightHome string) (*types.Report, string, error) {
	target, err := oneTarget(args, f.hashHex, f.raw, f.issuer)
	if err != nil {
		return nil, "", err
	}
	var opts []light.Option
	if lightHome != "" {
		opts = append(opts, light.WithHome(lightHome))
	}
	lc, err := f.client(cmd, opts...)
	if err != nil {
		return nil, "", err
	}
	defer lc.Close() //nolint:errcheck // nothing to do about it
	at, err := f.pastHeight(cmd, lc)
	if err != nil {
		return nil, "", err
	}
	rep, err := lc.Verify(cmd.Context(), target.hash, at)
	if err != nil {
		return nil, "", err
	}
	return rep, target.file, rep.ApplyClaims(target.claims)
}

func verifyBundleFile(cmd *cobra.Command, f *lightFlags, args []string, path string) (*types.Report, string, error) {
	for _, name := range []string{"witness", "at-time", "light-home", "node", "wait"} {
		if cmd.Flags().Changed(name) {
			return nil, "", fmt.Errorf("--%s does not apply to --bundle: a bundle is checked offline", name)
		}
	}
	root, err := f.root()
	if err != nil {
		return nil, "", err
	}
	b, err := bundle.Load(path)
	if err != nil {
		return nil, "", err
	}
	var target credTarget
	if len(args) == 1 || f.hashHex != "" {
		if target, err = oneTarget(args, f.hashHex, f.raw, f.issuer); err != nil {
			return nil, "", err
		}
		if !bytes.Equal(target.hash, b.Hash) {
			return nil, "", fmt.Errorf("bundle %s is about %x, not %x", path, b.Hash, target.hash)
		}
	} else if f.issuer != "" {
		target.claims.Issuer = f.issuer
	}
	if err := b.CheckAsked(f.atHeight); err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", path, err)
	}
	rep, err := bundle.Verify(b, root, time.Now(), f.trustingPeriod)
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", path, err)
	}
	return rep, target.file, rep.ApplyClaims(target.claims)
}

// verifyJSON is the JSON of verify and prove: status's fields plus what the
// light client or bundle established.
type verifyJSON struct {
	statusJSON
	// IssuerStatus is "active" or "removed" (since IssuerStatusHeight),
	// "unknown" if the proof shows no such issuer, "" if no issuer is named.
	IssuerStatus       string `json:"issuer_status"`
	IssuerStatusHeight int64  `json:"issuer_status_height"`
	HeaderHash         string `json:"header_hash"`
	// AsOf is the time of the header the verdict is checked against.
	AsOf string `json:"as_of"`
	// AgeSeconds is how long ago that was, when verify ran.
	AgeSeconds int64 `json:"age_seconds"`
	Verified   bool  `json:"verified"`
	// Source is "light-client" or "bundle".
	Source string `json:"source"`
	Bundle string `json:"bundle,omitempty"`
	// GenesisSHA256 is the fingerprint of the genesis used as trust root
	// (credledger genesis-hash), when --genesis was given.
	GenesisSHA256 string `json:"genesis_sha256,omitempty"`
	// HashGiven reports whether the bundle was checked against a FILE or
	// --hash the user gave (not in the JSON: hash says what was verified).
	HashGiven   bool `json:"-"`
	BundleBytes int  `json:"bundle_bytes,omitempty"`
}

func newVerifyJSON(rep *types.Report, file, source string) verifyJSON {
	j := verifyJSON{
		statusJSON: newStatusJSON(rep, file), HeaderHash: hex.EncodeToString(rep.HeaderHash),
		AsOf: rep.HeaderTime.UTC().Format(time.RFC3339Nano), Verified: true, Source: source,
	}
	j.IssuerStatus, j.IssuerStatusHeight = rep.IssuerStatus()
	if j.IssuerStatus == "" && rep.Issuer() != "" {
		j.IssuerStatus = "unknown"
	}
	return j
}

func printVerify(cmd *cobra.Command, rep *types.Report, j verifyJSON, output string) error {
	if output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(j)
	}
	label := j.File
	if j.Source == "bundle" && j.File == "" && !j.HashGiven {
		// say what was verified, so a bundle passed off as another
		// credential's is noticed
		label = fmt.Sprintf("(the credential bundle %s is about; give its FILE or --hash to check it is the one you mean)", j.Bundle)
	}
	if err := printStatus(cmd, rep, label, "text"); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch j.IssuerStatus {
	case "":
	case "removed":
		fmt.Fprintf(w, "issuer:   %s removed from the consortium at height %d\n", j.Issuer, j.IssuerStatusHeight)
	case "active":
		fmt.Fprintf(w, "issuer:   %s active member since height %d\n", j.Issuer, j.IssuerStatusHeight)
	default:
		fmt.Fprintf(w, "issuer:   %s is not a known issuer (proven)\n", j.Issuer)
	}
	how := "by the light client from the trust root"
	if j.Source == "bundle" {
		how = "offline from bundle " + j.Bundle
	}
	fmt.Fprintf(w, "verified: header %d (%s) %s\nas of:    state %d, %s (%s ago)\n", j.HeaderHeight, j.HeaderHash, how, j.Height, j.AsOf,
		time.Duration(j.AgeSeconds)*time.Second)
	return nil
}
