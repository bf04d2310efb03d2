// Command cobra is BenchmarkProfileKnock's second floor: a Go program that
// links cobra and runs one empty command.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "floor", Run: func(*cobra.Command, []string) {}}
	if root.Execute() != nil {
		os.Exit(1)
	}
}
