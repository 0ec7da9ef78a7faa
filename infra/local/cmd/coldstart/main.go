// Command coldstart builds every function and a hello-world Lambda the same way and prints each
// binary's size and init time (exec → first Runtime API poll) with its ratio to hello-world.
//
//	go run ./infra/local/cmd/coldstart [-rounds 30] [-goarch arm64]
//
// `make bench` runs it. -goarch arm64 builds what Lambda runs (sizes); init is measured only for
// the host architecture.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/liberation/monetization/infra/local/coldstart"
)

func main() {
	rounds := flag.Int("rounds", 30, "execs of each binary (round-robin)")
	maxRatio := flag.Float64("max-ratio", 2, "flag functions whose init p50 exceeds this multiple of hello-world's")
	maxMB := flag.Int64("max-mb", 15, "flag binaries larger than this many MB")
	flag.Parse()
	root, err := filepath.Abs(".")
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "go.mod"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "run from the repository root")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if err := coldstart.Build(root, dir, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := coldstart.Measure(dir, *rounds)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("cold start: exec → first Runtime API poll, %d rounds, host architecture\n", *rounds)
	coldstart.Report(os.Stdout, res, *maxRatio, *maxMB<<20)
}
