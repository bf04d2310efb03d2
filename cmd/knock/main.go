// Command knock sends port-knock sequences; see README.md.
package main

import (
	"os"

	"github.com/knocktools/knock/internal/knockcmd"
)

func main() { os.Exit(knockcmd.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
