#!/usr/bin/env bash
# Checks that knock and knockd, with their tests, build for every system we
# release for, without compiling the standard library once per system:
# internal/tools/typecheck type-checks them from source as each system
# builds them (its files by build tags, its standard library, no cgo), the
# compiler's front end without its back end. That keeps the build tags of
# our OS-specific files (_linux, _bsd, _unix, _windows, _other) honest, a
# second or two per system. One architecture per system: none of our code
# is per architecture.
#
# What is compiled for real in make test: linux/amd64 (go vet and the lab
# tests' release builds), every other Linux architecture (internal/archtest
# builds each as released and runs it under qemu-user) and windows/amd64's
# knock.exe (run under Wine). The full matrix of goreleaser.yaml (34
# targets) is compiled by the snapshot in make release-test, which CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
targets="linux/amd64 darwin/arm64 windows/amd64 freebsd/amd64 openbsd/amd64 netbsd/amd64"
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$tool/typecheck" ./internal/tools/typecheck
# Two at a time: go list waits on the disk, go/types on the CPU.
printf '%s\n' $targets | xargs -P 2 -I{} "$tool/typecheck" {} ./... ||
  { echo "cross-check: a system does not build (above)" >&2; exit 1; }
echo "cross-check: knock, knockd and their tests type-check for $(echo $targets | wc -w) systems ($targets); make release-test compiles all release targets"
