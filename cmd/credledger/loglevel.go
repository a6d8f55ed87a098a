package main

import (
	"fmt"
	"strings"

	"github.com/cometbft/cometbft/libs/log"
)

// parseModuleLevels applies "module:level,*:level" filters.
func parseModuleLevels(logger log.Logger, spec string) (log.Logger, error) {
	var opts []log.Option
	for _, part := range strings.Split(spec, ",") {
		mod, lvl, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("want module:level, got %q", part)
		}
		opt, err := log.AllowLevel(lvl)
		if err != nil {
			return nil, err
		}
		if mod == "*" {
			opts = append(opts, opt)
			continue
		}
		var o log.Option
		switch lvl {
		case "debug":
			o = log.AllowDebugWith("module", mod)
		case "info":
			o = log.AllowInfoWith("module", mod)
		case "error":
			o = log.AllowErrorWith("module", mod)
		default:
			return nil, fmt.Errorf("unknown level %q", lvl)
		}
		opts = append(opts, o)
	}
	return log.NewFilter(logger, opts...), nil
}
