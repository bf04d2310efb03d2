#!/usr/bin/env bash
# goreleaser's before hook: generates what the archives and packages ship
# besides the binaries, from the command trees themselves, into .release/:
# completion scripts (what `knock completion SHELL` prints) and man pages.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.release
rm -rf "$out"
mkdir -p "$out/completions" "$out/man"
go build -o "$out/knock" ./cmd/knock
"$out/knock" completion bash > "$out/completions/knock.bash"
"$out/knock" completion zsh > "$out/completions/_knock"
"$out/knock" completion fish > "$out/completions/knock.fish"
"$out/knock" completion powershell > "$out/completions/knock.ps1"
rm "$out/knock"
go run ./internal/tools/gendocs "$out/man"
gzip -9n "$out"/man/*.1 "$out"/man/*.5
