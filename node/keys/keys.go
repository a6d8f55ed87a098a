package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/credledger/credledger/types"
)

// Dir is the directory, relative to the home directory, that holds issuer
// signing keys.
const Dir = "keys"

// maxKeyFileSize bounds how much of a key file Load reads; a real one is
// about 300 bytes.
const maxKeyFileSize = 64 << 10

// Errors returned by the key store. Match them with errors.Is.
var (
	// ErrExists means Generate found a key with the same name.
	ErrExists = errors.New("key already exists")
	// ErrInvalidFile means a key file or Key is malformed or inconsistent.
	ErrInvalidFile = errors.New("invalid key file")
	// ErrInsecureFile means a key file can be read by its group or by others.
	ErrInsecureFile = errors.New("key file is readable by other users")
)

// NotFoundError is returned by Load when there is no key file with the
// requested name. It unwraps to the error of the file system, so
// errors.Is(err, fs.ErrNotExist) holds.
type NotFoundError struct {
	Home string
	Name string
	Err  error
}

// Error says where the key was looked for and how to create it.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no key named %q in %s; create one with: credledger keys add %s --home %s",
		e.Name, filepath.Join(e.Home, Dir), shellQuote(e.Name), shellQuote(e.Home))
}

// Unwrap returns the error of the file system.
func (e *NotFoundError) Unwrap() error { return e.Err }

// Key is an issuer's ed25519 signing key as stored in HOME/keys/NAME.json.
// Name is the local name of the key and Issuer the issuer id it signs for
// (by default the same as Name). PrivKey is the 64-byte ed25519 private key
// (seed followed by public key) and PubKey the matching 32-byte public key.
//
// A Key is a plain value: reading it from several goroutines is safe,
// changing it while others read it is not.
type Key struct {
	Name    string         `json:"name"`
	Issuer  string         `json:"issuer"`
	PubKey  types.HexBytes `json:"pubkey"`
	PrivKey types.HexBytes `json:"privkey"`
}

// FromSeed returns the key named name for issuer, derived from a 32-byte
// ed25519 seed. An empty issuer defaults to name; name and issuer must be
// valid issuer ids. It is deterministic and meant for tests and for restoring
// a key from a backed-up seed. Nothing is written to disk.
func FromSeed(name, issuer string, seed []byte) (*Key, error) {
	if issuer == "" {
		issuer = name
	}
	if err := types.ValidateIssuerID(name); err != nil {
		return nil, fmt.Errorf("key name: %w", err)
	}
	if err := types.ValidateIssuerID(issuer); err != nil {
		return nil, fmt.Errorf("key %q: issuer: %w", name, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key %q: seed is %d bytes, want %d", name, len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	k := &Key{
		Name:    name,
		Issuer:  issuer,
		PubKey:  types.HexBytes(priv.Public().(ed25519.PublicKey)),
		PrivKey: types.HexBytes(priv),
	}
	if err := k.ValidateBasic(); err != nil {
		return nil, err
	}
	return k, nil
}

// ValidateBasic checks that the name and issuer are valid issuer ids (1..64
// characters from [A-Za-z0-9._-]) and that PrivKey is a 64-byte ed25519
// private key whose public key is PubKey. Errors wrap ErrInvalidFile.
func (k *Key) ValidateBasic() error {
	if err := types.ValidateIssuerID(k.Name); err != nil {
		return fmt.Errorf("%w: key name: %w", ErrInvalidFile, err)
	}
	if err := types.ValidateIssuerID(k.Issuer); err != nil {
		return fmt.Errorf("%w: key %q: issuer: %w", ErrInvalidFile, k.Name, err)
	}
	if len(k.PubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: key %q: pubkey is %d bytes, want %d", ErrInvalidFile, k.Name, len(k.PubKey), ed25519.PublicKeySize)
	}
	if len(k.PrivKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: key %q: privkey is %d bytes, want %d", ErrInvalidFile, k.Name, len(k.PrivKey), ed25519.PrivateKeySize)
	}
	// the private key is seed || public key: derive it again from the seed
	derived := ed25519.NewKeyFromSeed(k.PrivKey[:ed25519.SeedSize])
	if !bytes.Equal(derived, k.PrivKey) || !bytes.Equal(derived[ed25519.SeedSize:], k.PubKey) {
		return fmt.Errorf("%w: key %q: privkey does not match pubkey", ErrInvalidFile, k.Name)
	}
	return nil
}

// PrivateKey returns a copy of the ed25519 private key.
// Requires a valid key (see ValidateBasic).
func (k *Key) PrivateKey() ed25519.PrivateKey {
	return ed25519.PrivateKey(bytes.Clone(k.PrivKey))
}

// PublicKey returns a copy of the ed25519 public key.
// Requires a valid key (see ValidateBasic).
func (k *Key) PublicKey() ed25519.PublicKey {
	return ed25519.PublicKey(bytes.Clone(k.PubKey))
}

// Path returns the path of the key file named name under home:
// HOME/keys/NAME.json. It does not validate name.
func Path(home, name string) string {
	return filepath.Join(home, Dir, name+".json")
}

// Generate creates a new random ed25519 key named name for issuer (which
// defaults to name when empty; both must be valid issuer ids, 1..64
// characters from [A-Za-z0-9._-]) and saves it to Path(home, name) with mode
// 0600, creating HOME/keys with mode 0700 if needed. It never overwrites an
// existing key: if the file exists, even when created concurrently, the error
// wraps ErrExists and nothing is written.
func Generate(home, name, issuer string) (*Key, error) {
	if err := types.ValidateIssuerID(name); err != nil {
		return nil, fmt.Errorf("key name: %w", err)
	}
	path := Path(home, name)
	if _, err := os.Lstat(path); err == nil {
		return nil, keyExistsError(name, path)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("generate key %q: %w", name, err)
	}
	k, err := FromSeed(name, issuer, priv.Seed())
	if err != nil {
		return nil, err
	}
	if err := writeKey(home, k, false); err != nil {
		return nil, err
	}
	return k, nil
}

// Save validates k and writes it to Path(home, k.Name) with mode 0600,
// replacing any existing file. It writes a temporary file in the same
// directory and renames it, so a reader sees either the old or the new key,
// never a partial one. HOME/keys is created with mode 0700 if needed.
func Save(home string, k *Key) error {
	return writeKey(home, k, true)
}

// writeKey writes k through a synced temporary file that is then renamed over
// the key file (overwrite) or hard-linked to it, which fails if it exists.
func writeKey(home string, k *Key, overwrite bool) error {
	if err := k.ValidateBasic(); err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	bz, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return fmt.Errorf("encode key %q: %w", k.Name, err)
	}
	dir := filepath.Join(home, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+k.Name+".json.tmp-*")
	if err != nil {
		return fmt.Errorf("save key %q: %w", k.Name, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after a rename; best effort otherwise
	if err := writeSynced(tmp, append(bz, '\n')); err != nil {
		return fmt.Errorf("save key %q: %w", k.Name, err)
	}
	path := Path(home, k.Name)
	if overwrite {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return keyExistsError(k.Name, path)
		}
	}
	if err != nil {
		return fmt.Errorf("save key %q: %w", k.Name, err)
	}
	return nil
}

// writeSynced sets f to mode 0600, writes bz, syncs and closes it.
func writeSynced(f *os.File, bz []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(bz)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func keyExistsError(name, path string) error {
	return fmt.Errorf("%w: a key named %q is already stored in %s; choose another name, or move that file away first", ErrExists, name, path)
}

// Load reads and validates the key named name from HOME/keys/NAME.json.
//
// A missing key is a *NotFoundError saying how to create one. The file
// must be a regular file that its group and other users cannot access (mode
// 0600 or stricter; not checked on Windows, which has no such mode bits),
// otherwise the error wraps ErrInsecureFile. A file that is not valid
// JSON, holds another key's name, or whose private key does not match its
// public key gives an error wrapping ErrInvalidFile.
func Load(home, name string) (*Key, error) {
	if err := types.ValidateIssuerID(name); err != nil {
		return nil, fmt.Errorf("key name: %w", err)
	}
	path := Path(home, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Home: home, Name: name, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("open key %q: %w", name, err)
	}
	defer f.Close() //nolint:errcheck // read only
	if err := checkFileMode(f, path); err != nil {
		return nil, err
	}
	bz, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key %q: %w", name, err)
	}
	if len(bz) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidFile, path, maxKeyFileSize)
	}
	var k Key
	if err := json.Unmarshal(bz, &k); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidFile, path, err)
	}
	if k.Name != name {
		return nil, fmt.Errorf("%w: %s holds the key named %q, not %q; rename the file or fix its name field", ErrInvalidFile, path, k.Name, name)
	}
	if err := k.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &k, nil
}

// checkFileMode checks that the opened key file is a regular file that
// only its owner can access.
func checkFileMode(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInvalidFile, path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; restrict it with: chmod 600 %s",
			ErrInsecureFile, path, fi.Mode().Perm(), shellQuote(path))
	}
	return nil
}

// List loads every key in HOME/keys (each file NAME.json, as Load
// does) and returns them sorted by name. A missing keys directory gives an
// empty list. Any key file that Load rejects makes List fail with
// that error, so that a damaged key is not silently left out.
func List(home string) ([]*Key, error) {
	dir := filepath.Join(home, Dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []*Key{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys in %s: %w", dir, err)
	}
	keys := make([]*Key, 0, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		k, err := Load(home, name)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *Key) int { return strings.Compare(a.Name, b.Name) })
	return keys, nil
}

// shellQuote quotes s for a POSIX shell if it holds anything but characters
// that are safe unquoted, so the commands in error messages can be pasted.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:=+,@%", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ParsePubKey decodes a 32-byte ed25519 public key given as 64 hex digits
// or as base64 (the form CometBFT's priv_validator_key.json uses).
func ParsePubKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("%q is not a 32-byte ed25519 public key in hex (64 digits) or base64", s)
}
