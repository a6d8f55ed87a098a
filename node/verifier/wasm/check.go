package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credential"
	"github.com/credledger/credledger/types/credhash"
)

// Source is the source of every verdict this program gives: a proof
// bundle checked in the browser.
const Source = "bundle-in-browser"

// HashJSON is the answer of credledgerHash: a credential's hash, as
// "credledger hash" computes it, and its claims.
type HashJSON struct {
	Hash string `json:"hash"`
	// CanonicalJSON reports whether the credential was JSON, hashed in its
	// RFC 8785 canonical form (else its raw bytes were hashed).
	CanonicalJSON bool   `json:"canonical_json"`
	Issuer        string `json:"issuer,omitempty"`
	ValidFrom     string `json:"valid_from,omitempty"`
	ValidUntil    string `json:"valid_until,omitempty"`
}

// VerdictJSON is the answer of credledgerVerifyBundle: the verdict the
// bundle proves, with the fields of the verifier service's verdict (same
// names) that a bundle establishes.
type VerdictJSON struct {
	Hash              string   `json:"hash"`
	Verdict           string   `json:"verdict"`
	Issuer            string   `json:"issuer"`
	Height            int64    `json:"height"`
	AtHeight          int64    `json:"at_height,omitempty"`
	AtTime            string   `json:"at_time,omitempty"`
	AnchoredHeight    int64    `json:"anchored_height"`
	AnchoredTime      string   `json:"anchored_time,omitempty"`
	Reason            string   `json:"reason"`
	StatusHeight      int64    `json:"status_height,omitempty"`
	StatusTime        string   `json:"status_time,omitempty"`
	ChainID           string   `json:"chain_id"`
	HeaderHeight      int64    `json:"header_height"`
	HeaderTime        string   `json:"header_time"`
	AppHash           string   `json:"app_hash"`
	HeaderHash        string   `json:"header_hash"`
	Issuers           []string `json:"issuers"`
	IssuerIdentifiers []string `json:"issuer_identifiers"`
	NamedIssuer       string   `json:"named_issuer,omitempty"`
	ValidFrom         string   `json:"valid_from,omitempty"`
	ValidUntil        string   `json:"valid_until,omitempty"`
	Verified          bool     `json:"verified"`
	Source            string   `json:"source"`
}

// Target is what the bundle must be about. At most one of Credential and
// Hash is set; with neither, the bundle's own hash is taken.
type Target struct {
	// Credential is the credential file's contents: hashed as "credledger
	// hash" does, its issuer and validity period applied.
	Credential []byte
	// Hash is the credential hash, 64 hex digits.
	Hash string
	// Issuer names the issuer (a member id or one of its identifiers) when
	// the credential names none ("": none).
	Issuer string
	// AtHeight is the state the verdict must be about (0: the latest the
	// bundle proves; see bundle.Bundle.CheckAsked).
	AtHeight int64
}

// hashCredential hashes a credential file and reads its claims.
func hashCredential(data []byte) (HashJSON, types.Claims, error) {
	sum, canonical, err := credhash.Sum(data)
	if err != nil {
		return HashJSON{}, types.Claims{}, fmt.Errorf("credential: %w", err)
	}
	claims, err := credential.Parse(data)
	if err != nil {
		return HashJSON{}, types.Claims{}, fmt.Errorf("credential: %w", err)
	}
	h := HashJSON{Hash: hex.EncodeToString(sum[:]), CanonicalJSON: canonical, Issuer: claims.Issuer,
		ValidFrom: timeString(claims.ValidFrom), ValidUntil: timeString(claims.ValidUntil)}
	return h, claims, nil
}

// hashJSON is the answer of credledgerHash for data.
func hashJSON(data []byte) ([]byte, error) {
	h, _, err := hashCredential(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(h)
}

// verifyBundle checks a proof bundle offline against the genesis, as
// "credledger verify --bundle" does: bundle.Decode, that it is about the
// target, bundle.Verify at now with the default trusting period, and the
// target's claims (Report.ApplyClaims). It returns the verdict as JSON.
func verifyBundle(bundleJSON, genesisJSON []byte, target Target, now time.Time) ([]byte, error) {
	root, err := bundle.NewGenesisTrustRoot(genesisJSON)
	if err != nil {
		return nil, err
	}
	b, err := bundle.Decode(bundleJSON)
	if err != nil {
		return nil, err
	}
	want, claims, err := targetOf(target)
	if err != nil {
		return nil, err
	}
	if want != nil && !bytes.Equal(want, b.Hash) {
		return nil, fmt.Errorf("the bundle is about credential %x, not %x", b.Hash, want)
	}
	if err := b.CheckAsked(target.AtHeight); err != nil {
		return nil, err
	}
	rep, err := bundle.Verify(b, root, now, bundle.DefaultTrustingPeriod)
	if err != nil {
		return nil, err
	}
	if err := rep.ApplyClaims(claims); err != nil {
		return nil, err
	}
	return json.Marshal(newVerdictJSON(rep))
}

// targetOf returns the hash the bundle must be about (nil: any) and the
// claims to apply.
func targetOf(t Target) ([]byte, types.Claims, error) {
	var want []byte
	var claims types.Claims
	switch {
	case len(t.Credential) > 0 && t.Hash != "":
		return nil, types.Claims{}, errors.New("give the credential or its hash, not both")
	case len(t.Credential) > 0:
		h, c, err := hashCredential(t.Credential)
		if err != nil {
			return nil, types.Claims{}, err
		}
		want, _ = hex.DecodeString(h.Hash)
		claims = c
	case t.Hash != "":
		h, err := types.ParseHash(t.Hash)
		if err != nil {
			return nil, types.Claims{}, fmt.Errorf("hash: want 64 hex digits: %w", err)
		}
		want = h
	}
	switch {
	case t.Issuer == "":
	case claims.Issuer != "" && claims.Issuer != t.Issuer:
		return nil, types.Claims{}, fmt.Errorf("issuer %q: the credential names issuer %q", t.Issuer, claims.Issuer)
	default:
		claims.Issuer = t.Issuer
	}
	return want, claims, nil
}

// newVerdictJSON returns the JSON of rep, after Report.ApplyClaims.
func newVerdictJSON(rep *types.Report) VerdictJSON {
	j := VerdictJSON{
		Hash: hex.EncodeToString(rep.Hash), Verdict: string(rep.Verdict), Issuer: rep.Issuer(), Height: rep.Height,
		ChainID: rep.ChainID, HeaderHeight: rep.HeaderHeight, HeaderTime: timeString(rep.HeaderTime),
		AppHash: hex.EncodeToString(rep.AppHash), HeaderHash: hex.EncodeToString(rep.HeaderHash),
		Issuers: rep.Issuers(), NamedIssuer: rep.Claims.Issuer, ValidFrom: timeString(rep.Claims.ValidFrom),
		ValidUntil: timeString(rep.Claims.ValidUntil), Verified: true, Source: Source,
	}
	if rep.AsOfHeight > 0 {
		j.AtHeight, j.AtTime = rep.AsOfHeight, timeString(rep.AsOfTime)
	}
	if a := rep.Anchor; a != nil {
		j.AnchoredHeight, j.AnchoredTime = a.Height, timeString(rep.AnchorTime)
	}
	if s := rep.Status; s != nil {
		j.Reason, j.StatusHeight, j.StatusTime = s.Reason, s.Height, timeString(rep.StatusTime)
	}
	if is := rep.IssuerRecord; is != nil {
		j.IssuerIdentifiers = append([]string{}, is.Identifiers...)
	}
	return j
}

// timeString formats t as the verifier service does (RFC 3339, UTC; ""
// for the zero time).
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
