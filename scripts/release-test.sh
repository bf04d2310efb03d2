#!/usr/bin/env bash
# CI's release check: builds the goreleaser snapshot (every archive and
# package), extracts the amd64 .deb and runs what it ships: both binaries,
# the sample config through knockd --check, the completion scripts, the
# man pages and the package metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
GORELEASER=${GORELEASER:-goreleaser}
$GORELEASER check
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
# Homebrew and Scoop: written by the snapshot, pointing at this release's
# archives, with the hashes of checksums.txt.
cask=$(find dist -name knock.rb | head -1)
scoop=$(find dist -path '*scoop*' -name knock.json | head -1)
[ -n "$cask" ] || fail "no Homebrew cask in dist/"
[ -n "$scoop" ] || fail "no Scoop manifest in dist/"
ruby -c "$cask" >/dev/null || fail "ruby -c rejects $cask"
ruby - "$cask" "$scoop" dist/checksums.txt <<'RUBY' || fail "cask or manifest does not match the archives"
require "json"
cask, scoop, sums = ARGV
sum = File.readlines(sums).to_h { |l| h, f = l.split; [f, h] }
check = lambda do |url, hash, what|
  file = File.basename(url)
  abort "#{what}: #{url} is not an archive of this release" unless sum.key?(file) && File.exist?("dist/#{file}")
  abort "#{what}: #{file} has sha256 #{hash}, checksums.txt says #{sum[file]}" unless sum[file] == hash
end
version = File.read(cask)[/version "([^"]+)"/, 1] or abort("cask: no version")
urls = File.read(cask).scan(/url "([^"]+)"/).flatten.map { |u| u.gsub('#{version}', version) }
hashes = File.read(cask).scan(/sha256 "([0-9a-f]{64})"/).flatten
abort "cask: #{urls.size} urls, #{hashes.size} sha256" if urls.empty? || urls.size != hashes.size
urls.zip(hashes).each { |u, h| check.call(u, h, "cask") }
archive = "dist/" + File.basename(urls.first)
pages = IO.popen(["tar", "-tzf", archive], &:read).split("\n").grep(%r{(^|/)man/knock[^d].*\.1\.gz$|(^|/)man/knock\.1\.gz$}).map { |p| File.basename(p) }
abort "cask: no man pages in #{archive}" if pages.empty?
text = File.read(cask)
pages.each { |p| abort "cask: man page #{p} not installed" unless text.include?("man/#{p}") }
%w[knock.bash _knock knock.fish].each { |c| abort "cask: completion #{c} not installed" unless text.include?(c) }
m = JSON.parse(File.read(scoop))
arch = m.fetch("architecture")
abort "scoop: no 64bit build" unless arch.key?("64bit")
arch.each { |a, v| check.call(v.fetch("url"), v.fetch("hash"), "scoop #{a}") }
arch.each { |a, v| abort "scoop #{a}: bin is not knock.exe" unless Array(v["bin"] || m["bin"]).flatten.any? { |b| b.to_s.end_with?("knock.exe") } }
puts "release-test: cask #{urls.size} archives, scoop #{arch.size} architectures, hashes match checksums.txt"
RUBY
echo "release-test: packaged knock and knockd run; config, unit, man pages and completions in place"
