package cli

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/session"
)

// usageError is a command line that cannot be run: exit code 2, before
// anything is connected to.
func usageError(err error) error { return &session.ExitError{Code: 2, Err: err} }

// checkNumberFlags refuses, for every command, a number flag no run can
// mean: a float that is not finite (NaN, Inf: "--rate NaN" would run a
// closed loop, "--rate Inf" fail only once connected) and a negative
// duration ("--grace -1s"). Each error names the flag and its value.
func checkNumberFlags(cmd *cobra.Command, _ []string) error {
	var bad error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if bad != nil || !f.Changed {
			return
		}
		bad = numberFlagError(f.Name, f.Value.Type(), f.Value.String())
	})
	if bad != nil {
		return usageError(bad)
	}
	return nil
}

// numberFlagError is what is wrong with a number flag's value, nil if
// nothing is.
func numberFlagError(name, kind, value string) error {
	switch kind {
	case "float64", "float32":
		if v, err := strconv.ParseFloat(value, 64); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			return fmt.Errorf("--%s %s: want a finite number", name, value)
		}
	case "duration":
		if d, err := time.ParseDuration(value); err == nil && d < 0 {
			return fmt.Errorf("--%s %s: must not be negative", name, value)
		}
	}
	return nil
}
