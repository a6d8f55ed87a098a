package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", FileName)
	c := TestConfig()
	c.Client.Node = "http://127.0.0.1:30001"
	require.NoError(t, c.Save(path))
	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, c, got)
}

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	got, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	require.NoError(t, err)
	require.Equal(t, DefaultConfig(), got)
}

// A config file written before a setting existed loads with the setting's
// default.
func TestLoadOlderFileGetsNewDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	require.NoError(t, os.WriteFile(path, []byte("[state]\ncache_size = 5000\nkeep_recent = 7\n"), 0o644))
	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, 5000, got.State.CacheSize)
	require.Equal(t, int64(7), got.State.KeepRecent)
	require.Equal(t, DefaultDBBlockCacheMB, got.State.DBBlockCacheMB)
	require.Equal(t, DefaultDBWriteBufferMB, got.State.DBWriteBufferMB)
	require.Equal(t, DefaultMaxBuildTime, got.Proposer.MaxBuildTime.Duration)
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		section          string
	}{
		{name: "negative cache", body: "[state]\ncache_size = -1\n", want: "cache_size", section: "state"},
		{name: "negative block cache", body: "[state]\ndb_block_cache_mb = -1\n", want: "db_block_cache_mb", section: "state"},
		{name: "huge write buffer", body: "[state]\ndb_write_buffer_mb = 2048\n", want: "db_write_buffer_mb", section: "state"},
		{name: "negative block credentials", body: "[proposer]\nmax_block_credentials = -1\n", want: "max_block_credentials", section: "proposer"},
		{name: "negative build time", body: "[proposer]\nmax_build_time = \"-1s\"\n", want: "max_build_time", section: "proposer"},
		{name: "build time of hours", body: "[proposer]\nmax_build_time = \"2h\"\n", want: "max_build_time", section: "proposer"},
		{name: "empty node", body: "[client]\nnode = \"\"\n", want: "node", section: "client"},
		{name: "bad duration", body: "[client]\ncommit_timeout = \"soon\"\n", want: "soon"},
		{name: "zero timeout", body: "[client]\ncommit_timeout = \"0s\"\n", want: "commit_timeout", section: "client"},
		{name: "unknown key", body: "[state]\ncache = 3\n", want: "unknown setting"},
		{name: "not toml", body: "this is = = not toml", want: "read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
			_, err := Load(path)
			require.ErrorContains(t, err, tc.want)
			if tc.section != "" {
				var ise InSectionError
				require.True(t, errors.As(err, &ise))
				require.Equal(t, tc.section, ise.Section)
			}
		})
	}
}

func TestDefaultsAreValid(t *testing.T) {
	require.NoError(t, DefaultConfig().ValidateBasic())
	require.NoError(t, TestConfig().ValidateBasic())
	require.Equal(t, 60*time.Second, DefaultConfig().Client.CommitTimeout.Duration)
}

func TestLoadMaxBuildTime(t *testing.T) {
	for body, want := range map[string]time.Duration{
		"[proposer]\nmax_build_time = \"0s\"\n":    0,
		"[proposer]\nmax_build_time = \"750ms\"\n": 750 * time.Millisecond,
	} {
		path := filepath.Join(t.TempDir(), FileName)
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
		got, err := Load(path)
		require.NoError(t, err, body)
		require.Equal(t, want, got.Proposer.MaxBuildTime.Duration, body)
	}
}
