package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credledger/credledger/config"
	"github.com/credledger/credledger/node/client"
	"github.com/credledger/credledger/node/keys"
)

// outputFlag is --output text|json.
type outputFlag struct{ output string }

func (o *outputFlag) registerOutput(cmd *cobra.Command, usage string) {
	if usage == "" {
		usage = "output format: text or json"
	}
	cmd.Flags().StringVar(&o.output, "output", "text", usage)
}

// checkOutput fails unless --output is text or json.
func (o *outputFlag) checkOutput() error { return checkOutput(o.output) }

// json reports whether --output json was asked for.
func (o *outputFlag) json() bool { return o.output == "json" }

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	return nil
}

// nodeFlags choose the node a command talks to (--node, or the node
// configured in --home) and its output format.
type nodeFlags struct {
	outputFlag
	nodeURL, home string
}

// register adds --node, --home and --output; homeUsage says what --home
// is for in this command.
func (f *nodeFlags) register(cmd *cobra.Command, homeUsage, outputUsage string) {
	fs := cmd.Flags()
	fs.StringVar(&f.nodeURL, "node", "", "RPC address of a node (default: the one configured in --home, else "+client.DefaultNodeURL+")")
	fs.StringVar(&f.home, "home", "", homeUsage)
	f.registerOutput(cmd, outputUsage)
}

// client checks --output and returns a client for --node, or for the
// home's configured node, with the home's config (defaults without one).
func (f *nodeFlags) client() (*client.Client, *config.Config, error) {
	if err := f.checkOutput(); err != nil {
		return nil, nil, err
	}
	cfg := config.DefaultConfig()
	if f.home != "" {
		var err error
		if cfg, err = config.Load(config.Path(f.home)); err != nil {
			return nil, nil, err
		}
	}
	url := f.nodeURL
	if url == "" {
		url = cfg.Client.Node
	}
	c, err := client.New(url)
	return c, cfg, err
}

// signFlags are the flags of a command that signs a tx: the node flags,
// with --home required, and --from.
type signFlags struct {
	nodeFlags
	from string
}

// register adds the signer's flags.
func (s *signFlags) register(cmd *cobra.Command, fromUsage, outputUsage string) {
	s.nodeFlags.register(cmd, "home directory holding keys/NAME.json (required)", outputUsage)
	cmd.Flags().StringVar(&s.from, "from", "", fromUsage)
}

// prepare checks the flags and returns the signing key, a client and the
// home's config.
func (s *signFlags) prepare() (*keys.Key, *client.Client, *config.Config, error) {
	if err := s.checkOutput(); err != nil {
		return nil, nil, nil, err
	}
	if s.from == "" {
		return nil, nil, nil, errors.New("--from is required: the name of your signing key in HOME/keys")
	}
	if err := requireHome(s.home); err != nil {
		return nil, nil, nil, err
	}
	key, err := keys.Load(s.home, s.from)
	if err != nil {
		return nil, nil, nil, err
	}
	c, cfg, err := s.client()
	if err != nil {
		return nil, nil, nil, err
	}
	return key, c, cfg, nil
}

func requireHome(home string) error {
	if home == "" {
		return errors.New("--home is required")
	}
	return nil
}
