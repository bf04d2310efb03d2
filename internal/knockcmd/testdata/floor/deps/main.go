// Command deps is BenchmarkProfileKnock's third floor: a Go program that
// links the client's dependencies the design fixes (cobra, viper, gopacket's
// layers, x/net's ipv4 and ipv6) and runs one empty command. Linking a
// package runs its initialisation, which is the cost measured.
package main

import (
	"os"

	_ "github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/net/ipv6"
)

func main() {
	root := &cobra.Command{Use: "floor", Run: func(*cobra.Command, []string) {}}
	if root.Execute() != nil {
		os.Exit(1)
	}
}
