//go:build linux

package knockcmd

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// The Wine loader of Debian's wine64 package, and the mingw-w64 compiler
// that builds the ProcessPrng shim.
const (
	wineLoader = "/usr/lib/wine/wine64"
	mingwCC    = "x86_64-w64-mingw32-gcc"
)

// shimSource is bcryptprimitives.dll's ProcessPrng, which Go's runtime
// needs on Windows and Wine 8 lacks, on top of BCryptGenRandom, which it
// has.
const shimSource = `#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T n) {
    while (n > 0) {
        ULONG chunk = n > 0x40000000 ? 0x40000000 : (ULONG)n;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += chunk; n -= chunk;
    }
    return TRUE;
}
`

// wineEnv is a throwaway Wine prefix with the shim, and knock.exe built as
// released.
type wineEnv struct {
	exe, prefix string
	env         []string
}

func newWine(t *testing.T) *wineEnv {
	t.Helper()
	for _, p := range []string{wineLoader, "/usr/bin/" + mingwCC} {
		if _, err := os.Stat(p); err != nil {
			lab.Skip(t, fmt.Sprintf("%s is missing (make test installs wine64 and gcc-mingw-w64-x86-64)", p))
		}
	}
	dir := t.TempDir()
	w := &wineEnv{exe: filepath.Join(dir, "knock.exe"), prefix: filepath.Join(dir, "prefix")}
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", w.exe, "../../cmd/knock")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build knock.exe: %v\n%s", err, out)
	}
	src := filepath.Join(dir, "shim.c")
	def := filepath.Join(dir, "shim.def")
	dll := filepath.Join(dir, "bcryptprimitives.dll")
	os.WriteFile(src, []byte(shimSource), 0o644)
	os.WriteFile(def, []byte("LIBRARY bcryptprimitives\nEXPORTS\n  ProcessPrng\n"), 0o644)
	if out, err := exec.Command(mingwCC, "-O2", "-shared", "-o", dll, src, def, "-lbcrypt").CombinedOutput(); err != nil {
		t.Fatalf("building the ProcessPrng shim: %v\n%s", err, out)
	}
	w.env = append(os.Environ(), "WINEPREFIX="+w.prefix, "WINEDEBUG=-all",
		"WINEDLLOVERRIDES=bcryptprimitives=n,b;mscoree,mshtml=", "KNOCK_CONFIG=")
	boot := exec.Command(wineLoader, "wineboot", "-i")
	boot.Env = w.env
	if out, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("wineboot: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(dll)
	if err := os.WriteFile(filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kill := exec.Command(filepath.Join(filepath.Dir(wineLoader), "wineserver"), "-k")
		kill.Env = w.env
		_ = kill.Run()
	})
	return w
}

// run runs knock.exe with args under Wine.
func (w *wineEnv) run(stdin io.Reader, env []string, args ...string) (string, string, error) {
	c := exec.Command(wineLoader, append([]string{w.exe}, args...)...)
	c.Env = append(append([]string{}, w.env...), env...)
	c.Stdin = stdin
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), strings.ReplaceAll(errOut.String(), "\r\n", "\n"), err
}

func (w *wineEnv) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := w.run(nil, nil, args...)
	if err != nil {
		t.Fatalf("knock.exe %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TestWindowsClientUnderWine runs the Windows build, as released, under
// Debian's Wine: the version, the profile store in %AppData% (every
// subcommand, an editor that is a Windows batch file, concurrent adds, the
// lock and the atomic replace), connect knocks a Linux listener sees, a
// profile knock in the default method, knock proxy carrying a connection,
// --dry-run --json and the PowerShell completion. UDP knocks are not run:
// Go's UDP sockets ask WSAIoctl(SIO_UDP_CONNRESET), which Wine 8 refuses.
func TestWindowsClientUnderWine(t *testing.T) {
	w := newWine(t)
	if out := w.must(t, "--version"); !strings.HasPrefix(out, "knock ") {
		t.Fatalf("--version printed %q", out)
	}

	// Two listeners: knocks land on one, proxy carries a connection to
	// the other, which echoes.
	knocks := listen(t, func(c net.Conn) { c.Close() })
	echo := listen(t, func(c net.Conn) { io.Copy(c, c); c.Close() })
	kp, ep := strconv.Itoa(knocks.port), strconv.Itoa(echo.port)

	w.must(t, "profile", "add", "lab", "--host", "127.0.0.1", "--sequence", kp+","+kp, "--wait", "5s")
	// %AppData% is C:\users\NAME\AppData\Roaming, NAME the Unix user's.
	if found, _ := filepath.Glob(filepath.Join(w.prefix, "drive_c", "users", "*", "AppData", "Roaming", "knock", "config.yaml")); len(found) != 1 {
		t.Fatalf("profile files in %%AppData%%: %q, want one", found)
	}
	if out := w.must(t, "profile", "list"); !strings.Contains(out, "lab   127.0.0.1  "+kp+","+kp) {
		t.Fatalf("profile list:\n%s", out)
	}
	if out := w.must(t, "profile", "show", "lab"); !strings.Contains(out, `sequence: ["`+kp+`", "`+kp+`"]`) {
		t.Fatalf("profile show:\n%s", out)
	}

	// An editor that Wine runs: a batch file through cmd.
	bat := filepath.Join(t.TempDir(), "edit.bat")
	os.WriteFile(bat, []byte("@echo   description: edited under Wine>> %1\r\n"), 0o644)
	if out, errOut, err := w.run(nil, []string{"EDITOR=cmd /c Z:" + strings.ReplaceAll(bat, "/", `\`)}, "profile", "edit", "lab"); err != nil {
		t.Fatalf("profile edit: %v\n%s%s", err, out, errOut)
	}
	if out := w.must(t, "profile", "show", "lab"); !strings.Contains(out, "description: edited under Wine") {
		t.Fatalf("the edit did not land:\n%s", out)
	}

	// Concurrent adds lose nothing: the lock and the atomic replace.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, errOut, err := w.run(nil, nil, "profile", "add", fmt.Sprintf("p%d", i), "--host", "127.0.0.1", "--sequence", kp); err != nil {
				errs <- fmt.Errorf("add p%d: %v\n%s%s", i, err, out, errOut)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list := w.must(t, "profile", "list")
	for i := range 8 {
		if !strings.Contains(list, fmt.Sprintf("p%d ", i)) {
			t.Errorf("p%d lost:\n%s", i, list)
		}
	}
	w.must(t, "profile", "rename", "p0", "renamed")
	w.must(t, "profile", "rm", "p1")
	list = w.must(t, "profile", "list")
	if !strings.Contains(list, "renamed ") || strings.Contains(list, "p0 ") || strings.Contains(list, "p1 ") {
		t.Fatalf("after rename and rm:\n%s", list)
	}

	// Knocks: ad hoc with connect, then the profile in the default
	// method (auto is connect on Windows, which has no raw TCP).
	before := knocks.count()
	w.must(t, "--method", "connect", "127.0.0.1", kp)
	w.must(t, "lab")
	if !lab.Eventually(5*time.Second, func() bool { return knocks.count() >= before+3 }) {
		t.Fatalf("the listener saw %d knocks, want 3", knocks.count()-before)
	}
	if out := w.must(t, "--dry-run", "--json", "lab"); strings.Count(out, `"method":"connect"`) != 2 || !strings.Contains(out, `"port":`+kp) {
		t.Fatalf("--dry-run --json:\n%s", out)
	}

	// knock proxy carries a connection (ssh's ProxyCommand).
	out, errOut, err := w.run(strings.NewReader("through the proxy\n"), nil, "proxy", "--profile", "lab", "127.0.0.1", ep)
	if err != nil || out != "through the proxy\n" {
		t.Fatalf("knock proxy: %v, printed %q\n%s", err, out, errOut)
	}

	if out := w.must(t, "completion", "powershell"); !strings.Contains(out, "Register-ArgumentCompleter") || !strings.Contains(out, "knock") {
		t.Fatalf("completion powershell:\n%.300s", out)
	}
}

type listener struct {
	port int
	n    atomic.Int64
}

func (l *listener) count() int { return int(l.n.Load()) }

func listen(t *testing.T, handle func(net.Conn)) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &listener{port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.n.Add(1)
			go handle(c)
		}
	}()
	return l
}
