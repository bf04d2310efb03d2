#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME executions, in a copy of the tree.
#
# A fuzz target that fails writes its input into its package's
# testdata/fuzz/, and make test runs the unit tests beside the fuzzing:
# a failing input landing in the tree they read would break them too, and
# change the tree under a run. So the fuzzing reads and writes a copy; a
# failure prints the input and where it is, to be kept as a seed by hand.
#
# The targets are found in the test files go list gives for this system
# (go test -list would build every test binary once more, uninstrumented).
set -euo pipefail
go=${GO:-go}
fuzztime=${FUZZTIME:-100000x}
top=$(pwd)
# One copy per checkout, so the build cache's entries (keyed without the
# path under -trimpath) serve every run.
copy="${TMPDIR:-/tmp}/knock-fuzz-$(printf %s "$top" | cksum | cut -d' ' -f1)"
rm -rf "$copy"
mkdir -p "$copy"
tar -C "$top" --exclude=./.git --exclude=./bin --exclude=./dist --exclude=./.release -cf - . | tar -C "$copy" -xf -
touch "$copy/.copied"
cd "$copy"
"$go" list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' ./... |
while read -r pkg dir files; do
  [ -n "$files" ] || continue
  for target in $(cd "$dir" && sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $files); do
    echo "fuzz $pkg $target ($fuzztime)"
    # Minimizing is counted too: at its default (60 s of tries) each new
    # interesting input stalled the run here for up to a minute.
    if ! out=$("$go" test -trimpath -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -fuzzminimizetime 1000x "$pkg" 2>&1); then
      echo "$out"
      rel=${dir#"$copy"}
      for f in $(find "$dir/testdata/fuzz/$target" -newer "$copy/.copied" -type f 2>/dev/null); do
        echo "fuzz: the failing input, $f:"
        cat "$f"
        echo "fuzz: keep it as a seed: cp '$f' '$top$rel/testdata/fuzz/$target/'"
      done
      exit 1
    fi
  done
done
rm -rf "$copy"
