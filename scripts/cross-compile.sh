#!/usr/bin/env bash
# Compile-checks every system we release for, once: the build tags of our
# OS-specific files (_linux, _bsd, _unix, _windows, _other) are per system,
# and none of our code is per architecture, so one architecture per system
# keeps them honest. Every Linux architecture we release (386 and arm for
# 32-bit integers, mips and mips64 for big-endian) is built as released
# and run under qemu-user by internal/archtest. That is what make test
# needs; the full matrix of goreleaser.yaml (34 targets,
# each rebuilding the standard library) is built by the snapshot in make
# release-test, which CI runs.
#
# -trimpath and no cgo, as released: what make check's go vet compiled, the
# release builds of the lab tests and internal/archtest's amd64 build
# share these compiles.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
targets="linux/amd64 darwin/arm64 windows/amd64 freebsd/amd64 openbsd/amd64 netbsd/amd64"
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  # knockd is released for Linux only, but elsewhere it still checks
  # configs and replays captures: it must build there too. Several
  # packages at once are compiled and discarded.
  # (windows/amd64: TestWindowsClientUnderWine builds knock.exe so too.)
  GOOS=$os GOARCH=$arch go build -trimpath ./cmd/knock ./cmd/knockd ||
    { echo "cross-compile: $os/$arch failed" >&2; exit 1; }
done
echo "cross-compile: knock and knockd build for $(echo $targets | wc -w) systems/architectures ($targets); make release-test builds all release targets"
