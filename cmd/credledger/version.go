package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	cmtversion "github.com/cometbft/cometbft/version"
	"github.com/spf13/cobra"

	"github.com/credledger/credledger/node"
)

// version and commit are used when the binary's build information does not
// say (a build with -buildvcs=false, or outside a git checkout). Set them
// with -ldflags "-X main.version=v1.2.3 -X main.commit=HASH"; a commit
// ending in "-dirty" marks a build from a modified tree (as in the Makefile).
var (
	version string
	commit  string
)

// versionInfo is what `credledger version` reports.
type versionInfo struct {
	Version       string `json:"version"`
	Commit        string `json:"commit"`
	Modified      bool   `json:"modified"`
	Go            string `json:"go"`
	CometBFT      string `json:"cometbft"`
	ABCI          string `json:"abci"`
	AppProtocol   uint64 `json:"app_protocol"`
	BlockProtocol uint64 `json:"block_protocol"`
	P2PProtocol   uint64 `json:"p2p_protocol"`
}

func newVersionCmd() *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of credledger, Go, CometBFT and the app protocol",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			info, _ := debug.ReadBuildInfo()
			v := buildVersion(info, version, commit)
			w := cmd.OutOrStdout()
			if out.json() {
				return json.NewEncoder(w).Encode(v)
			}
			mod := ""
			if v.Modified {
				mod = " (modified)"
			}
			_, err := fmt.Fprintf(w, `credledger %s
commit:          %s%s
go:              %s
cometbft:        %s (abci %s, block protocol %d, p2p protocol %d)
app protocol:    %d
`, v.Version, v.Commit, mod, v.Go, v.CometBFT, v.ABCI, v.BlockProtocol, v.P2PProtocol, v.AppProtocol)
			return err
		},
	}
	out.registerOutput(cmd, "")
	return cmd
}

// buildVersion reads the version and commit from info (nil: unknown), then
// from the -ldflags variables ldVersion and ldCommit, and otherwise reports
// "dev" and "unknown".
func buildVersion(info *debug.BuildInfo, ldVersion, ldCommit string) versionInfo {
	v := versionInfo{
		Go:            runtime.Version(),
		CometBFT:      cmtversion.TMCoreSemVer,
		ABCI:          cmtversion.ABCISemVer,
		AppProtocol:   node.AppProtocolVersion,
		BlockProtocol: cmtversion.BlockProtocol,
		P2PProtocol:   cmtversion.P2PProtocol,
	}
	if info != nil {
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = ldVersion
	}
	if v.Commit == "" && ldCommit != "" {
		c, dirty := strings.CutSuffix(ldCommit, "-dirty")
		v.Commit, v.Modified = c, dirty
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}
