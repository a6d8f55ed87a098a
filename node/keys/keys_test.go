package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// testSeed returns a deterministic 32-byte seed derived from b.
func testSeed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

// saveTestKey stores a deterministic key under home and returns it.
func saveTestKey(t *testing.T, home, name, issuer string, seed byte) *Key {
	t.Helper()
	k, err := FromSeed(name, issuer, testSeed(seed))
	require.NoError(t, err)
	require.NoError(t, Save(home, k))
	return k
}

func TestNewKeyFromSeed(t *testing.T) {
	k, err := FromSeed("alice", "", testSeed(1))
	require.NoError(t, err)
	require.Equal(t, "alice", k.Name)
	require.Equal(t, "alice", k.Issuer, "issuer defaults to the name")
	// RFC 8032 derivation of the public key from the seed 0x01 * 32
	require.Equal(t, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c", hex.EncodeToString(k.PubKey))
	require.Equal(t, ed25519.PublicKey(k.PubKey), k.PrivateKey().Public())

	msg := []byte("anchor")
	require.True(t, ed25519.Verify(k.PublicKey(), msg, ed25519.Sign(k.PrivateKey(), msg)))

	k.PrivateKey()[0] ^= 0xff
	require.NoError(t, k.ValidateBasic(), "PrivateKey must return a copy")

	for _, tc := range []struct {
		name, keyName, issuer string
		seed                  []byte
	}{
		{"short seed", "alice", "", testSeed(1)[:31]},
		{"bad name", "al ice", "", testSeed(1)},
		{"bad issuer", "alice", "uni/a", testSeed(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromSeed(tc.keyName, tc.issuer, tc.seed)
			require.Error(t, err)
		})
	}
}

func TestGenerateLoadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, keyName, issuer, wantIssuer string
	}{
		{"issuer defaults to name", "uni-a", "", "uni-a"},
		{"explicit issuer", "ops.laptop_2", "uni-a", "uni-a"},
		{"64 characters", strings.Repeat("k", 64), "", strings.Repeat("k", 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			k, err := Generate(home, tc.keyName, tc.issuer)
			require.NoError(t, err)
			require.Equal(t, tc.keyName, k.Name)
			require.Equal(t, tc.wantIssuer, k.Issuer)
			require.NoError(t, k.ValidateBasic())

			got, err := Load(home, tc.keyName)
			require.NoError(t, err)
			require.Equal(t, k, got)

			fi, err := os.Stat(Path(home, tc.keyName))
			require.NoError(t, err)
			dir, err := os.Stat(filepath.Join(home, Dir))
			require.NoError(t, err)
			if runtime.GOOS != "windows" {
				require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "key file mode")
				require.Equal(t, fs.FileMode(0o700), dir.Mode().Perm(), "keys directory mode")
			}

			entries, err := os.ReadDir(filepath.Join(home, Dir))
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file may be left behind")
		})
	}
}

func TestGenerateKeysDiffer(t *testing.T) {
	home := t.TempDir()
	a, err := Generate(home, "a", "")
	require.NoError(t, err)
	b, err := Generate(home, "b", "")
	require.NoError(t, err)
	require.NotEqual(t, a.PubKey, b.PubKey)
}

func TestKeyFileFormat(t *testing.T) {
	home := t.TempDir()
	k := saveTestKey(t, home, "alice", "uni-a", 1)
	bz, err := os.ReadFile(Path(home, "alice"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(home, "keys", "alice.json"), Path(home, "alice"))

	var fields map[string]string
	require.NoError(t, json.Unmarshal(bz, &fields))
	require.Equal(t, map[string]string{
		"name":    "alice",
		"issuer":  "uni-a",
		"pubkey":  hex.EncodeToString(k.PubKey),
		"privkey": hex.EncodeToString(k.PrivKey),
	}, fields)
}

func TestGenerateKeyRefusesOverwrite(t *testing.T) {
	home := t.TempDir()
	orig := saveTestKey(t, home, "alice", "", 1)

	_, err := Generate(home, "alice", "")
	require.ErrorIs(t, err, ErrExists)
	require.Contains(t, err.Error(), Path(home, "alice"))

	// the race the Lstat check cannot see: the file appears just before the link
	k, err := FromSeed("alice", "", testSeed(2))
	require.NoError(t, err)
	require.ErrorIs(t, writeKey(home, k, false), ErrExists)

	got, err := Load(home, "alice")
	require.NoError(t, err)
	require.Equal(t, orig, got, "existing key must be untouched")
}

func TestSaveKeyOverwrites(t *testing.T) {
	home := t.TempDir()
	saveTestKey(t, home, "alice", "", 1)
	k2 := saveTestKey(t, home, "alice", "uni-b", 2)
	got, err := Load(home, "alice")
	require.NoError(t, err)
	require.Equal(t, k2, got)
}

func TestSaveKeyRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		malleat func(*Key)
	}{
		{"empty name", func(k *Key) { k.Name = "" }},
		{"path in name", func(k *Key) { k.Name = "../evil" }},
		{"empty issuer", func(k *Key) { k.Issuer = "" }},
		{"short privkey", func(k *Key) { k.PrivKey = k.PrivKey[:32] }},
		{"mismatched pubkey", func(k *Key) { k.PubKey = bytes.Repeat([]byte{7}, 32) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			k, err := FromSeed("alice", "", testSeed(1))
			require.NoError(t, err)
			tc.malleat(k)
			require.ErrorIs(t, Save(home, k), ErrInvalidFile)
			_, err = os.Stat(filepath.Join(home, Dir))
			require.ErrorIs(t, err, fs.ErrNotExist, "nothing may be written")
		})
	}
}

func TestKeyNamesRejected(t *testing.T) {
	for _, tc := range []struct {
		name, keyName, issuer string
	}{
		{"empty", "", ""},
		{"too long", strings.Repeat("k", 65), ""},
		{"slash", "a/b", ""},
		{"parent dir", "../alice", ""},
		{"space", "my key", ""},
		{"non-ascii", "clé", ""},
		{"bad issuer", "alice", "uni a"},
		{"issuer too long", "alice", strings.Repeat("i", 65)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			_, err := Generate(home, tc.keyName, tc.issuer)
			require.Error(t, err)
			require.Equal(t, types.CodeInvalidIssuerID, types.CodeOf(err))
			if tc.issuer == "" {
				_, err = Load(home, tc.keyName)
				require.Equal(t, types.CodeInvalidIssuerID, types.CodeOf(err))
			}
			entries, err := os.ReadDir(filepath.Join(home, Dir))
			if err == nil {
				require.Empty(t, entries, "nothing may be written")
			}
		})
	}
}

func TestLoadKeyMissing(t *testing.T) {
	for _, tc := range []struct {
		name, dir string
		quoted    bool
	}{
		{"plain home", "cl-home", false},
		{"home with space", "my home", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), tc.dir)
			homeArg := home
			if tc.quoted {
				homeArg = "'" + home + "'"
			}
			_, err := Load(home, "alice")
			require.ErrorIs(t, err, fs.ErrNotExist)
			var nf *NotFoundError
			require.ErrorAs(t, err, &nf)
			require.Equal(t, "alice", nf.Name)
			want := fmt.Sprintf(`no key named "alice" in %s; create one with: credledger keys add alice --home %s`,
				filepath.Join(home, "keys"), homeArg)
			require.Equal(t, want, err.Error())
		})
	}
}

func TestLoadKeyRejectsBadFiles(t *testing.T) {
	valid, err := FromSeed("alice", "uni-a", testSeed(1))
	require.NoError(t, err)
	other, err := FromSeed("alice", "uni-a", testSeed(2))
	require.NoError(t, err)
	encode := func(malleate func(*Key)) []byte {
		k := *valid
		malleate(&k)
		bz, err := json.Marshal(&k)
		require.NoError(t, err)
		return bz
	}

	for _, tc := range []struct {
		name    string
		content []byte
		mode    fs.FileMode
		errIs   error
		substr  string
	}{
		{"corrupted json", []byte(`{"name":"alice",`), 0o600, ErrInvalidFile, "unexpected end of JSON input"},
		{"empty file", []byte{}, 0o600, ErrInvalidFile, "alice.json"},
		{"bad hex", []byte(`{"name":"alice","issuer":"uni-a","pubkey":"zz","privkey":""}`), 0o600, ErrInvalidFile, "hex bytes"},
		{"privkey does not match pubkey", encode(func(k *Key) { k.PubKey = other.PubKey }), 0o600, ErrInvalidFile, "privkey does not match pubkey"},
		{"privkey tail does not match seed", encode(func(k *Key) {
			k.PrivKey = append(append(types.HexBytes{}, other.PrivKey[:32]...), valid.PubKey...)
		}), 0o600, ErrInvalidFile, "privkey does not match pubkey"},
		{"privkey is a seed", encode(func(k *Key) { k.PrivKey = k.PrivKey[:32] }), 0o600, ErrInvalidFile, "privkey is 32 bytes, want 64"},
		{"pubkey missing", encode(func(k *Key) { k.PubKey = nil }), 0o600, ErrInvalidFile, "pubkey is 0 bytes"},
		{"issuer missing", encode(func(k *Key) { k.Issuer = "" }), 0o600, ErrInvalidFile, "issuer id is empty"},
		{"name of another key", encode(func(k *Key) { k.Name = "bob" }), 0o600, ErrInvalidFile, `holds the key named "bob"`},
		{"too large", bytes.Repeat([]byte(" "), maxKeyFileSize+1), 0o600, ErrInvalidFile, "larger than"},
		{"group readable", encode(func(*Key) {}), 0o640, ErrInsecureFile, "chmod 600"},
		{"world readable", encode(func(*Key) {}), 0o604, ErrInsecureFile, "mode 0604"},
		{"group writable", encode(func(*Key) {}), 0o620, ErrInsecureFile, "chmod 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.errIs == ErrInsecureFile && runtime.GOOS == "windows" {
				t.Skip("no permission bits on windows")
			}
			home := t.TempDir()
			path := Path(home, "alice")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.WriteFile(path, tc.content, tc.mode))
			require.NoError(t, os.Chmod(path, tc.mode)) // not subject to umask

			_, err := Load(home, "alice")
			require.ErrorIs(t, err, tc.errIs)
			require.Contains(t, err.Error(), tc.substr)
			require.Contains(t, err.Error(), path)
		})
	}
}

func TestLoadKeyRejectsDirectory(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(Path(home, "alice"), 0o700))
	_, err := Load(home, "alice")
	require.ErrorIs(t, err, ErrInvalidFile)
}

func TestListKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, home string)
		want    []string
		wantErr error
	}{
		{"no keys directory", func(*testing.T, string) {}, []string{}, nil},
		{"empty keys directory", func(t *testing.T, home string) {
			require.NoError(t, os.MkdirAll(filepath.Join(home, Dir), 0o700))
		}, []string{}, nil},
		{"sorted by name", func(t *testing.T, home string) {
			// "a.b.json" sorts before "a.json" as a file name but after it as a key name
			for i, n := range []string{"zed", "a.b", "a", "Bob", "m-1"} {
				saveTestKey(t, home, n, "", byte(i+1))
			}
		}, []string{"Bob", "a", "a.b", "m-1", "zed"}, nil},
		{"other files ignored", func(t *testing.T, home string) {
			saveTestKey(t, home, "alice", "", 1)
			dir := filepath.Join(home, Dir)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "README.txt"), []byte("hi"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".alice.json.tmp-123"), []byte("{"), 0o600))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.json"), 0o700))
		}, []string{"alice"}, nil},
		{"damaged key reported", func(t *testing.T, home string) {
			saveTestKey(t, home, "alice", "", 1)
			require.NoError(t, os.WriteFile(Path(home, "bob"), []byte("{"), 0o600))
		}, nil, ErrInvalidFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			tc.setup(t, home)
			keys, err := List(home)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, keys)
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = k.Name
				require.NoError(t, k.ValidateBasic())
			}
			require.Equal(t, tc.want, names)
		})
	}
}

func TestKeyNotFoundErrorUnwrap(t *testing.T) {
	err := error(&NotFoundError{Home: "h", Name: "n", Err: fs.ErrNotExist})
	require.True(t, errors.Is(err, fs.ErrNotExist))
}
