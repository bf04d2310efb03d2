package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for the knock program: scripts
// and lab tests run it as "knock" (testscript puts it first on PATH), and
// as "lab-listen", a TCP listener for lab hosts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"knock":      func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
		"lab-listen": labListen,
	})
}

// labListen listens on each ADDR:PORT argument and accepts connections
// until killed, closing each at once.
func labListen() {
	for _, a := range os.Args[1:] {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Println("listening")
	select {}
}

// testBinary returns the path testscript installed for name: the first
// entry of PATH, never a system program of the same name (Debian's knock).
func testBinary(t *testing.T, name string) string {
	t.Helper()
	dir, _, _ := strings.Cut(os.Getenv("PATH"), string(filepath.ListSeparator))
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test binary %s not installed by testscript: %v", name, err)
	}
	return p
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
	})
}
