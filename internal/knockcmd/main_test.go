package knockcmd

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for the knock program: scripts
// and lab tests run it as "knock" (testscript puts it first on PATH), as
// "lab-listen", a TCP listener for lab hosts, and as "lab-bench", the
// alternating timer of BenchmarkProfileKnock.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"knock":      func() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"lab-listen": labListen,
		"lab-bench":  labBench,
		"lab-http":   labHTTP,
		"lab-udp":    labUDP,
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

// labBench runs command lines in turn ROUNDS times and prints the median
// wall time of each in milliseconds: "lab-bench ROUNDS CMD...".
func labBench() {
	rounds, _ := strconv.Atoi(os.Args[1])
	var cmds [][]string
	for _, c := range os.Args[2:] {
		cmds = append(cmds, strings.Fields(c))
	}
	times := make([][]float64, len(cmds))
	order := make([]int, len(cmds))
	for i := range order {
		order[i] = i
	}
	for range rounds {
		// A fresh order each round: a program's run can leave work behind
		// (exit, freed memory, the kernel's answers to its packets) that
		// the next one pays for, and a fixed rotation would charge it to
		// the same neighbour every time.
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			c := cmds[i]
			start := time.Now()
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n%s", strings.Join(c, " "), err, out)
				os.Exit(1)
			}
			times[i] = append(times[i], float64(time.Since(start).Microseconds())/1000)
		}
	}
	medians := make([]string, len(times))
	for i := range times {
		slices.Sort(times[i])
		medians[i] = fmt.Sprintf("%.3f", times[i][rounds/2])
	}
	fmt.Println(strings.Join(medians, " "))
}

// labHTTP serves the text of its second argument at every path of the
// address in its first, until killed: a stand-in for the page that
// tells an SPA client its public address.
func labHTTP() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, os.Args[2]) }))
}

// labUDP sends the content of the file in its second argument, trimmed,
// as one datagram to the address in its first: a replayed SPA packet.
func labUDP() {
	data, err := os.ReadFile(os.Args[2])
	if err == nil {
		var c net.Conn
		if c, err = net.Dial("udp", os.Args[1]); err == nil {
			_, err = c.Write([]byte(strings.TrimSpace(string(data))))
			c.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
