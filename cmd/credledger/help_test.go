package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// allCommands returns cmd and every command under it.
func allCommands(cmd *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{cmd}
	for _, c := range cmd.Commands() {
		out = append(out, allCommands(c)...)
	}
	return out
}

// isZeroDefault reports whether pflag prints no "(default ...)" for f.
func isZeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "0", "0s", "false", "[]", "<nil>":
		return true
	}
	return false
}

// TestHelpTexts checks that help renders as written: every command has a
// Short, no flag usage has a backtick (pflag would show the quoted word as
// the flag's type), and a flag with a default that pflag prints does not
// state a default of its own.
func TestHelpTexts(t *testing.T) {
	for _, cmd := range allCommands(newRootCmd()) {
		t.Run(cmd.CommandPath(), func(t *testing.T) {
			require.NotEmpty(t, cmd.Short, "command has no Short")
			for _, fs := range []*pflag.FlagSet{cmd.LocalFlags(), cmd.PersistentFlags()} {
				fs.VisitAll(func(f *pflag.Flag) {
					require.NotContains(t, f.Usage, "`", "--%s usage %q", f.Name, f.Usage)
					if !isZeroDefault(f) {
						require.NotContains(t, strings.ToLower(f.Usage), "default",
							"--%s has default %q, which pflag prints: its usage %q says another", f.Name, f.DefValue, f.Usage)
					}
				})
			}
		})
	}
}

func TestIsZeroDefault(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("s", "", "")
	fs.String("s2", "x", "")
	fs.Int("i", 0, "")
	fs.Int("i2", 4, "")
	fs.Bool("b", false, "")
	fs.Duration("d", 0, "")
	fs.Duration("d2", 1, "")
	fs.StringSlice("l", nil, "")
	for _, tc := range []struct {
		name string
		zero bool
	}{
		{"s", true}, {"s2", false}, {"i", true}, {"i2", false}, {"b", true},
		{"d", true}, {"d2", false}, {"l", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.zero, isZeroDefault(fs.Lookup(tc.name)))
		})
	}
}
