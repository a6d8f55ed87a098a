package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"
)

// FileName is the name of credledger's config file inside HOME/config.
const FileName = "credledger.toml"

// Path returns the path of the config file in a node home.
func Path(home string) string { return filepath.Join(home, "config", FileName) }

// Config is a node's credledger settings.
type Config struct {
	State     StateConfig     `toml:"state"`
	StateSync StateSyncConfig `toml:"statesync"`
	Proposer  ProposerConfig  `toml:"proposer"`
	Client    ClientConfig    `toml:"client"`
}

// StateConfig configures the IAVL state store.
type StateConfig struct {
	// CacheSize is the size of each of the IAVL node caches (block execution,
	// queries), in nodes (about 300 bytes each).
	CacheSize int `toml:"cache_size"`
	// KeepRecent is how many of the newest state versions the node keeps
	// (0: every version, forever). Verdicts, including those about a past
	// height, are proven from the latest state; a few recent versions
	// cover queries that span a commit and state sync snapshots being
	// written (those are held until done).
	KeepRecent int64 `toml:"keep_recent"`
	// DBBlockCacheMB is the state database's (app.db, LevelDB) cache of
	// decoded table blocks, in MiB. Pruning the old versions reads nodes
	// scattered over the whole database; a bigger cache spares most of
	// those reads' decoding.
	DBBlockCacheMB int `toml:"db_block_cache_mb"`
	// DBWriteBufferMB is the state database's write buffer (LevelDB's
	// memtable), in MiB: fewer, larger flushes to level 0 and less
	// compaction of each block's writes.
	DBWriteBufferMB int `toml:"db_write_buffer_mb"`
}

// StateSyncConfig configures the state sync snapshots the node takes and
// serves to joining nodes (written in HOME/data/snapshots). How a joining
// node state syncs is CometBFT's [statesync] in config.toml.
type StateSyncConfig struct {
	// SnapshotInterval is how often the node takes a snapshot, in blocks
	// (0: never). A snapshot of height H is written in the background
	// after block H is committed.
	SnapshotInterval uint64 `toml:"snapshot_interval"`
	// SnapshotKeepRecent is how many of the newest snapshots are kept.
	SnapshotKeepRecent uint32 `toml:"snapshot_keep_recent"`
}

// ProposerConfig configures the blocks this node proposes (when it is a
// validator). It is the proposer's choice, not a rule of the chain: other
// nodes accept any valid block.
type ProposerConfig struct {
	// MaxBlockCredentials bounds the credential hashes of a block this
	// node proposes (a governance tx counts 1; 0: only the block's byte
	// limit, about 600,000 credentials). A smaller block executes sooner,
	// so a tx waiting behind a bulk run commits sooner; a larger one
	// spreads each block's fixed cost over more credentials. Issuers take
	// turns in a proposal either way.
	MaxBlockCredentials int `toml:"max_block_credentials"`
	// MaxBuildTime bounds the time the node spends executing the txs of a
	// proposal it builds: past it, it proposes what it has and leaves the
	// rest for the next block ("0s": no bound; the first tx is kept
	// whatever it takes). Other validators wait for a proposal only
	// consensus.timeout_propose (config.toml) from the start of a round;
	// keep this well under that, with room to send the block.
	MaxBuildTime Duration `toml:"max_build_time"`
}

// ClientConfig holds defaults for the issuer and status commands.
type ClientConfig struct {
	// Node is the RPC address the CLI talks to by default.
	Node string `toml:"node"`
	// CommitTimeout bounds how long the CLI waits for a tx to be committed.
	CommitTimeout Duration `toml:"commit_timeout"`
}

// Duration is a time.Duration written in TOML as a string such as "30s".
type Duration struct{ time.Duration }

// MarshalText encodes the duration as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a duration such as "30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// DefaultKeepRecent is the number of state versions a new node keeps.
const DefaultKeepRecent = 50

// DefaultDBBlockCacheMB and DefaultDBWriteBufferMB are the state
// database's cache and write buffer on a new node. Against LevelDB's
// defaults (8 and 4 MiB) they cut a validator's CPU time per credential
// from 0.64–0.71 to 0.32–0.44 ms on the test machine (4 validators on 2 cores,
// 750 credentials/s through two issuers, 300,000 to 400,000 on chain,
// pruning on): see the commit that set them.
const (
	DefaultDBBlockCacheMB  = 128
	DefaultDBWriteBufferMB = 32
)

// DefaultSnapshotInterval is how often a new node takes a state sync
// snapshot, in blocks.
const DefaultSnapshotInterval = 1000

// DefaultSnapshotKeepRecent is how many snapshots a new node keeps.
const DefaultSnapshotKeepRecent = 2

// DefaultMaxBlockCredentials bounds the credentials of a block a new node
// proposes: none but the byte limit. A bound did not lower the long fault
// test's commit latency (p99 11.8 s with 20,000 against 11.1 s without),
// and a big block spreads a big tree's top levels over more credentials.
const DefaultMaxBlockCredentials = 0

// DefaultMaxBuildTime bounds the time a new node spends building a
// proposal: half of the timeout_propose that init and testnet write
// (2s). Without it a 290,000-credential backlog on 4 validators on one
// 2-core machine took 7 rounds to commit (each proposer executed it for
// longer than the others waited); see the commit that set it.
const DefaultMaxBuildTime = time.Second

// DefaultConfig returns the settings of a new node.
func DefaultConfig() *Config {
	return &Config{
		State: StateConfig{CacheSize: 1_000_000, KeepRecent: DefaultKeepRecent,
			DBBlockCacheMB: DefaultDBBlockCacheMB, DBWriteBufferMB: DefaultDBWriteBufferMB},
		StateSync: StateSyncConfig{SnapshotInterval: DefaultSnapshotInterval, SnapshotKeepRecent: DefaultSnapshotKeepRecent},
		Proposer:  ProposerConfig{MaxBlockCredentials: DefaultMaxBlockCredentials, MaxBuildTime: Duration{DefaultMaxBuildTime}},
		Client:    ClientConfig{Node: "http://127.0.0.1:26657", CommitTimeout: Duration{60 * time.Second}},
	}
}

// TestConfig returns settings for tests: a small cache and a short timeout.
func TestConfig() *Config {
	c := DefaultConfig()
	c.State.CacheSize = 10_000
	c.Client.CommitTimeout = Duration{20 * time.Second}
	return c
}

// InSectionError is a validation error in one section of the config.
type InSectionError struct {
	Section string
	Err     error
}

// Error names the section.
func (e InSectionError) Error() string {
	return fmt.Sprintf("config section [%s]: %s", e.Section, e.Err)
}

// Unwrap returns the underlying error.
func (e InSectionError) Unwrap() error { return e.Err }

// ValidateBasic checks the state section.
func (c StateConfig) ValidateBasic() error {
	if c.KeepRecent < 0 {
		return fmt.Errorf("keep_recent %d: must not be negative (0 keeps every version)", c.KeepRecent)
	}
	if c.CacheSize < 0 {
		return fmt.Errorf("cache_size %d: must not be negative", c.CacheSize)
	}
	if c.DBBlockCacheMB < 0 || c.DBBlockCacheMB > maxDBBlockCacheMB {
		return fmt.Errorf("db_block_cache_mb %d: must be 0 to %d (0: LevelDB's default, 8)", c.DBBlockCacheMB, maxDBBlockCacheMB)
	}
	if c.DBWriteBufferMB < 0 || c.DBWriteBufferMB > maxDBWriteBufferMB {
		return fmt.Errorf("db_write_buffer_mb %d: must be 0 to %d (0: LevelDB's default, 4)", c.DBWriteBufferMB, maxDBWriteBufferMB)
	}
	return nil
}

// maxDBBlockCacheMB and maxDBWriteBufferMB bound the state database's
// cache (64 GiB) and write buffer (1 GiB, allocated whole when the
// database opens): a larger figure is a typo.
const (
	maxDBBlockCacheMB  = 64 << 10
	maxDBWriteBufferMB = 1 << 10
)

// ValidateBasic checks the statesync section.
func (c StateSyncConfig) ValidateBasic() error {
	if c.SnapshotInterval > 0 && c.SnapshotKeepRecent == 0 {
		return errors.New("snapshot_keep_recent 0: must be at least 1 when snapshot_interval is set (snapshot_interval = 0 takes none)")
	}
	return nil
}

// maxMaxBuildTime bounds max_build_time: a proposer that builds for longer
// than a minute has long been passed over.
const maxMaxBuildTime = time.Minute

// ValidateBasic checks the proposer section.
func (c ProposerConfig) ValidateBasic() error {
	if c.MaxBlockCredentials < 0 {
		return fmt.Errorf("max_block_credentials %d: must not be negative (0: no bound but the block's byte limit)", c.MaxBlockCredentials)
	}
	if c.MaxBuildTime.Duration < 0 || c.MaxBuildTime.Duration > maxMaxBuildTime {
		return fmt.Errorf("max_build_time %s: must be 0s (no bound) to %s, and well under consensus.timeout_propose", c.MaxBuildTime.Duration, maxMaxBuildTime)
	}
	return nil
}

// ValidateBasic checks the client section.
func (c ClientConfig) ValidateBasic() error {
	if c.Node == "" {
		return errors.New("node: must not be empty")
	}
	if c.CommitTimeout.Duration <= 0 {
		return fmt.Errorf("commit_timeout %s: must be positive", c.CommitTimeout)
	}
	return nil
}

// ValidateBasic checks every section.
func (c *Config) ValidateBasic() error {
	if err := c.State.ValidateBasic(); err != nil {
		return InSectionError{Section: "state", Err: err}
	}
	if err := c.StateSync.ValidateBasic(); err != nil {
		return InSectionError{Section: "statesync", Err: err}
	}
	if err := c.Proposer.ValidateBasic(); err != nil {
		return InSectionError{Section: "proposer", Err: err}
	}
	if err := c.Client.ValidateBasic(); err != nil {
		return InSectionError{Section: "client", Err: err}
	}
	return nil
}

// Load reads the config file at path over the defaults and validates it.
// A missing file yields the defaults.
func Load(path string) (*Config, error) {
	c := DefaultConfig()
	md, err := toml.DecodeFile(path, c)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("read %s: unknown setting %q", path, und[0].String())
	}
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Save writes the config to path, creating its directory.
func (c *Config) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create config dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString("# credledger node settings (consensus parameters live in genesis.json)\n\n"); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := toml.NewEncoder(f).Encode(c); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
