#!/usr/bin/env bash
# CI's release check: builds the goreleaser snapshot (every archive and
# package), extracts the amd64 .deb and runs what it ships: both binaries,
# the sample config through knockd --check, the completion scripts, the
# man pages and the package metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
GORELEASER=${GORELEASER:-goreleaser}
start=$(date +%s)
$GORELEASER release --snapshot --clean --skip=publish,sign
echo "release-test: snapshot built in $(( $(date +%s) - start ))s"

deb=$(ls dist/knock_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "release-test: no amd64 .deb in dist/" >&2; exit 1; }
for f in rpm apk; do ls dist/*."$f" >/dev/null || { echo "release-test: no .$f package" >&2; exit 1; }; done
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
fail() { echo "release-test: $*" >&2; exit 1; }
# has PATTERN CMD...: CMD's whole output matches PATTERN. The output is read in
# full first: `CMD | grep -q` under pipefail fails whenever grep quits early
# and CMD dies of SIGPIPE writing the rest.
has() { local pat=$1 out; shift; out=$("$@") && grep -q -- "$pat" <<<"$out"; }

has '^knock ' "$root/usr/bin/knock" --version || fail "knock --version"
has '^knockd ' "$root/usr/bin/knockd" --version || fail "knockd --version"
[ "$(readlink "$root/usr/sbin/knockd")" = /usr/bin/knockd ] || fail "/usr/sbin/knockd symlink"
has 'OK, 1 door' "$root/usr/bin/knockd" --check -c "$root/etc/knockd.conf" || fail "sample knockd.conf"
[ -f "$root/etc/default/knockd" ] || fail "/etc/default/knockd missing"
grep -q 'ExecStart=/usr/sbin/knockd --foreground' "$root/usr/lib/systemd/system/knockd.service" || fail "systemd unit"
for page in knock.1.gz knockd.1.gz knock-ssh.1.gz; do
  has '^\.TH' zcat "$root/usr/share/man/man1/$page" || fail "man page $page"
done
has 'One_Time_Sequences' zcat "$root/usr/share/man/man1/knockd.1.gz" || fail "knockd.1 lacks the config reference"
has '\<knockd\>' dpkg-deb -f "$deb" Conflicts || fail "no Conflicts: knockd"
[ -f "$root/etc/knockd.conf" ] || fail "knockd.conf not packaged"

# The packaged bash completion completes profile names through the packaged binary.
export KNOCK_CONFIG="$root/config.yaml"
"$root/usr/bin/knock" profile add release-test --host 127.0.0.1 --sequence 7000 >/dev/null
got=$(PATH="$root/usr/bin:$PATH" bash -c '
  source /usr/share/bash-completion/bash_completion
  source "$1"
  COMP_WORDS=(knock release-t); COMP_CWORD=1; COMP_LINE="knock release-t"; COMP_POINT=${#COMP_LINE}
  __start_knock 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' _ "$root/usr/share/bash-completion/completions/knock")
[ "$got" = release-test ] || fail "bash completion gave '$got'"
zsh_script="$root/usr/share/zsh/vendor-completions/_knock"
fish_script="$root/usr/share/fish/vendor_completions.d/knock.fish"
grep -q '#compdef knock' "$zsh_script" || fail "zsh completion"
grep -q 'complete -c knock' "$fish_script" || fail "fish completion"
command -v zsh >/dev/null && { zsh -n "$zsh_script" || fail "zsh completion does not parse"; }
command -v fish >/dev/null && { fish -n "$fish_script" || fail "fish completion does not parse"; }
echo "release-test: packaged knock and knockd run; config, unit, man pages and completions in place"
