package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
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
		"lab-bench":  labBench,
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

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Condition:           scriptCondition,
	})
}

// bashCompletion is Debian's bash-completion, which cobra's bash script
// relies on; make test installs it.
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// scriptCondition adds [bash-completion]: true when bash and
// bash-completion are installed. Under CI their absence is an error, as
// CI must run what a laptop skips.
func scriptCondition(cond string) (bool, error) {
	if cond != "bash-completion" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	_, errBash := exec.LookPath("bash")
	_, errBC := os.Stat(bashCompletion)
	if errBash == nil && errBC == nil {
		return true, nil
	}
	if os.Getenv("CI") == "true" {
		return false, fmt.Errorf("bash or %s missing under CI (scripts/deps.sh installs them)", bashCompletion)
	}
	return false, nil
}
