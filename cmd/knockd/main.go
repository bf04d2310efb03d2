// Command knockd will be the knockd 0.8-compatible sniffing server; until
// the server lands it only reports its version.
package main

import (
	"fmt"
	"os"

	"github.com/knocktools/knock/internal/buildinfo"
)

func main() {
	for _, a := range os.Args[1:] {
		if a == "-V" || a == "--version" {
			fmt.Println(buildinfo.String("knockd"))
			return
		}
	}
	fmt.Fprintln(os.Stderr, "knockd: the server is not implemented yet; use Debian's knockd meanwhile")
	os.Exit(1)
}
