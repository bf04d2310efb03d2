#!/usr/bin/env bash
# Builds every release target of goreleaser.yaml to /dev/null: a fast check
# that the code compiles everywhere we ship (the CI snapshot build checks
# the list against goreleaser itself).
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
linux="amd64 386 arm64 arm/6 arm/7 mips mipsle mips64 mips64le riscv64 ppc64le"
declare -A knock_targets=(
  [linux]="$linux"
  [darwin]="amd64 arm64"
  [windows]="amd64 arm64 386"
  [freebsd]="amd64 386 arm64 arm/6 arm/7 riscv64"
  [openbsd]="amd64 386 arm64 arm/6 arm/7"
  [netbsd]="amd64 386 arm64 arm/6 arm/7"
)
build() { # GOOS ARCH[/ARM] PACKAGE...
  local os=$1 arch=${2%/*} arm=
  [[ $2 == */* ]] && arm=${2#*/}
  shift 2
  # Several packages at once are compiled and discarded; one package would
  # leave its binary here, so it goes to /dev/null.
  local out=()
  [ $# -eq 1 ] && out=(-o /dev/null)
  GOOS=$os GOARCH=$arch GOARM=$arm GOMIPS=softfloat GOMIPS64=softfloat go build -trimpath "${out[@]}" "$@" ||
    { echo "cross-compile: $* failed for $os/$arch $arm" >&2; return 1; }
}
n=0
for os in "${!knock_targets[@]}"; do
  for t in ${knock_targets[$os]}; do
    if [ "$os" = linux ]; then build "$os" "$t" ./cmd/knock ./cmd/knockd; else build "$os" "$t" ./cmd/knock; fi
    n=$((n + 1))
  done
  # knockd is released for Linux only, but elsewhere it still checks
  # configs and replays captures: one architecture per system keeps that
  # building (build tags are per system, not per architecture).
  if [ "$os" != linux ]; then
    set -- ${knock_targets[$os]}
    build "$os" "$1" ./cmd/knockd
  fi
done
echo "cross-compile: knock builds for all $n release targets, knockd for every system"
