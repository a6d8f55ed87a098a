package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/credledger/credledger/types"
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

// oneTarget returns the hash of the one FILE or --hash given; raw hashes
// the file's exact bytes.
func oneTarget(args []string, hashHex string, raw bool) ([]byte, string, error) {
	switch {
	case len(args) == 1 && hashHex != "":
		return nil, "", fmt.Errorf("give either FILE or --hash, not both")
	case len(args) == 1:
		f, err := hashCredentialFile(args[0], raw)
		if err != nil {
			return nil, "", err
		}
		return f.Hash[:], args[0], nil
	case hashHex != "":
		h, err := types.ParseHash(hashHex)
		if err != nil {
			return nil, "", fmt.Errorf("--hash: %w", err)
		}
		return h, "", nil
	}
	return nil, "", fmt.Errorf("give a credential FILE or --hash HEX")
}

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
