package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credential"
	"github.com/credledger/credledger/types/credhash"
)

// target is one credential to act on: its hash and, if it came from a file, the path.
type target struct {
	hash []byte
	file string
}

// rawUsage is the usage of --raw, on every command that hashes credential files.
const rawUsage = "hash the files' bytes as they are, even if they look like JSON"

// hashCredentialFile hashes one credential file (raw: its exact bytes),
// adding to a JSON syntax or size error what the user can do about it.
func hashCredentialFile(path string, raw bool) (credhash.FileHash, error) {
	f, err := credhash.File(path, credhash.WithRaw(raw))
	var se *credhash.SyntaxError
	switch {
	case errors.As(err, &se):
		return f, fmt.Errorf("%w; fix it, or pass --raw to hash the file's bytes as they are", err)
	case errors.Is(err, credhash.ErrTooLarge):
		return f, fmt.Errorf("%w; pass --raw to hash the file's bytes as they are", err)
	}
	return f, err
}

// credTarget is the one credential a status, verify or prove command is
// about: its hash, the file it came from ("" for --hash), and the claims it
// makes that the verdict checks.
type credTarget struct {
	hash   []byte
	file   string
	claims types.Claims
}

// oneTarget returns the one FILE or --hash given; raw hashes the file's
// exact bytes. The claims are a JSON credential's issuer and dates, and
// --issuer (issuer, which must agree with the file's when both are given).
func oneTarget(args []string, hashHex string, raw bool, issuer string) (credTarget, error) {
	var t credTarget
	switch {
	case len(args) == 1 && hashHex != "":
		return t, errors.New("give either FILE or --hash, not both")
	case len(args) == 1:
		f, err := hashCredentialFile(args[0], raw)
		if err != nil {
			return t, err
		}
		t.hash, t.file = f.Hash[:], args[0]
		if f.CanonicalJSON {
			if t.claims, err = fileClaims(args[0]); err != nil {
				return t, err
			}
		}
	case hashHex != "":
		h, err := types.ParseHash(hashHex)
		if err != nil {
			return t, fmt.Errorf("--hash: %w", err)
		}
		t.hash = h
	default:
		return t, errors.New("give a credential FILE or --hash HEX")
	}
	switch {
	case issuer == "":
	case t.claims.Issuer != "" && t.claims.Issuer != issuer:
		return t, fmt.Errorf("--issuer %q: the credential names issuer %q", issuer, t.claims.Issuer)
	default:
		t.claims.Issuer = issuer
	}
	return t, nil
}

// fileClaims reads the claims of a JSON credential file (already hashed,
// so it exists and is at most credhash.MaxJSONSize bytes).
func fileClaims(path string) (types.Claims, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return types.Claims{}, fmt.Errorf("read credential file %q: %w", path, err)
	}
	c, err := credential.Parse(data)
	if err != nil {
		return types.Claims{}, fmt.Errorf("credential file %q: %w", path, err)
	}
	return c, nil
}

// issuerUsage is the usage of --issuer on status, verify and prove.
const issuerUsage = "the issuer the credential must be from: an identifier (DID or URL) or member id; a FILE's own issuer field is checked without it"

// collectTargets hashes the files (raw: their exact bytes) and parses the
// hex hashes, rejecting a mix of none or a bad entry with a message naming it.
func collectTargets(files, hexes []string, hashFile string, raw bool) ([]target, error) {
	var out []target
	for _, f := range files {
		hf, err := hashCredentialFile(f, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, target{hash: hf.Hash[:], file: f})
	}
	for _, s := range hexes {
		h, err := types.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("--hash: %w", err)
		}
		out = append(out, target{hash: h})
	}
	if hashFile != "" {
		more, err := readHashFile(hashFile)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nothing to do: give credential FILEs, --hash HEX or --hash-file FILE")
	}
	return out, nil
}

func readHashFile(path string) ([]target, error) {
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("--hash-file: %w", err)
		}
		defer f.Close()
	}
	var out []target
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		h, err := types.ParseHash(strings.Fields(s)[0])
		if err != nil {
			return nil, fmt.Errorf("--hash-file %s line %d: %w", path, line, err)
		}
		out = append(out, target{hash: h})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--hash-file %s: %w", path, err)
	}
	return out, nil
}
