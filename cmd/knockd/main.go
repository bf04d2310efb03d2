// Command knockd is a port-knock server compatible with knockd 0.8; see
// README.md.
package main

import (
	"os"

	"github.com/knocktools/knock/internal/knockdcmd"
)

func main() { os.Exit(knockdcmd.Run(os.Args[1:], os.Stdout, os.Stderr)) }
