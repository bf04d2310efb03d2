// Command typecheck type-checks packages, with their tests and everything
// they import down to the standard library, as they build for another
// system: typecheck GOOS/GOARCH PATTERN...
//
// It is the compiler's front end without its back end. `go list` picks the
// files each package has for that system (build tags, _GOOS.go names, no
// cgo), and go/types checks them from source: every name a file uses must
// be declared for that system, with the right type, and every import used.
// That is what keeps build tags honest, for about a twentieth of the CPU
// that compiling the standard library for that system takes. scripts/cross-check.sh uses it
// for the systems make test does not otherwise build; make release-test
// compiles every release target for real.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// pkg is what typecheck needs of one package of `go list -json`.
type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	ImportMap  map[string]string
	Module     *struct{ GoVersion string }
	DepOnly    bool
	Error      *struct{ Err string }
}

func main() {
	if len(os.Args) < 3 || !strings.Contains(os.Args[1], "/") {
		fmt.Fprintln(os.Stderr, "usage: typecheck GOOS/GOARCH PATTERN...")
		os.Exit(2)
	}
	goos, goarch, _ := strings.Cut(os.Args[1], "/")
	n, err := check(".", goos, goarch, os.Args[2:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "typecheck %s/%s: %v\n", goos, goarch, err)
		os.Exit(1)
	}
	fmt.Printf("typecheck %s/%s: %d packages\n", goos, goarch, n)
}

// check lists the packages of the patterns (in the module at dir) for the
// system, dependencies first, and type-checks each against the ones
// before it. It returns how many it checked.
func check(dir, goos, goarch string, patterns []string) (int, error) {
	pkgs, err := list(dir, goos, goarch, patterns)
	if err != nil {
		return 0, err
	}
	fset := token.NewFileSet()
	done := map[string]*types.Package{"unsafe": types.Unsafe}
	var problems []string
	checked := 0
	for _, p := range pkgs {
		if p.ImportPath == "unsafe" {
			continue
		}
		if p.Error != nil {
			// A package of the patterns that has no files for this system
			// (one for Linux alone) is left out, as go build ./... leaves
			// it out; one that something imports is an error, when the
			// importer is checked.
			if !p.DepOnly && len(p.GoFiles) == 0 && strings.Contains(p.Error.Err, "build constraints exclude all Go files") {
				continue
			}
			return 0, fmt.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		files, err := parse(fset, p)
		if err != nil {
			return 0, err
		}
		var errs []string
		conf := types.Config{
			Importer: importer(func(path string) (*types.Package, error) {
				if mapped, ok := p.ImportMap[path]; ok {
					path = mapped
				}
				if tp := done[path]; tp != nil {
					return tp, nil
				}
				return nil, fmt.Errorf("%s is not among the packages go list gave", path)
			}),
			Sizes: types.SizesFor("gc", goarch),
			Error: func(err error) {
				if len(errs) < 10 {
					errs = append(errs, err.Error())
				}
			},
		}
		if p.Module != nil && p.Module.GoVersion != "" {
			conf.GoVersion = "go" + p.Module.GoVersion
		}
		// Types without full errors: the standard library and the
		// dependencies are checked so that ours can be; their own
		// errors would be the toolchain's or the module's to fix.
		tp, _ := conf.Check(strings.Fields(p.ImportPath)[0], fset, files, nil)
		if len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s:\n\t%s", p.ImportPath, strings.Join(errs, "\n\t")))
		}
		done[p.ImportPath] = tp
		checked++
	}
	if len(problems) > 0 {
		return 0, errors.New("\n" + strings.Join(problems, "\n"))
	}
	return checked, nil
}

type importer func(path string) (*types.Package, error)

func (f importer) Import(path string) (*types.Package, error) { return f(path) }

// list runs go list for the system: the packages of the patterns with
// their tests, and every dependency, dependencies first.
func list(dir, goos, goarch string, patterns []string) ([]pkg, error) {
	args := append([]string{"list", "-e", "-deps", "-test", "-json=ImportPath,Dir,GoFiles,ImportMap,Module,DepOnly,Error"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		// The generated main of each test binary has no files of its own
		// in the package directory.
		if strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func parse(fset *token.FileSet, p pkg) ([]*ast.File, error) {
	var files []*ast.File
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
