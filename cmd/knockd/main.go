// Command knockd is a port-knock server compatible with knockd 0.8; see
// README.md.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
