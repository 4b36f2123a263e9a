// Command inferbench benchmarks ML inference deployments.
package main

import (
	"os"

	"github.com/inferbench/inferbench/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
