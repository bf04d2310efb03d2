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
grep -q 'ExecStart=/usr/sbin/knockd --foreground --fwknopd-conf' "$root/usr/lib/systemd/system/knockd-fwknop.service" || fail "SPA unit"
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

# OpenWrt: an .ipk per OpenWrt architecture of each knockd build, each a
# gzipped tar of debian-binary, control.tar.gz and data.tar.gz whose
# Architecture is spelled as OpenWrt spells it, whose knockd is an ELF of
# that CPU, with the init script, the config and fw4's includes.
ipks=(dist/openwrt/knockd_*.ipk)
[ -e "${ipks[0]}" ] || fail "no OpenWrt .ipk in dist/openwrt"
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
# elf FILE: the ELF class (32/64), byte order (LSB/MSB) and machine number.
elf() { od -An -tu1 -j4 -N2 "$1" | awk '{printf "%d %s ", $1*32, ($2==1?"LSB":"MSB")}'
        od -An -tu2 --endian="$( [ "$(od -An -tu1 -j5 -N1 "$1" | tr -d ' ')" = 1 ] && echo little || echo big)" -j18 -N2 "$1" | tr -d ' '; }
declare -A want_elf=([x86_64]="64 LSB 62" [i386]="32 LSB 3" [aarch64]="64 LSB 183" [arm]="32 LSB 40"
  [mips]="32 MSB 8" [mipsel]="32 LSB 8" [mips64]="64 MSB 8" [mips64el]="64 LSB 8" [riscv64]="64 LSB 243")
seen=()
for ipk in "${ipks[@]}"; do
  x=$(mktemp -d -p "$root")
  tar -xzf "$ipk" -C "$x" || fail "$ipk is not a gzipped tar"
  [ "$(tar -tzf "$ipk" | sort | tr '\n' ' ')" = "./control.tar.gz ./data.tar.gz ./debian-binary " ] || fail "$ipk: not debian-binary, control.tar.gz and data.tar.gz"
  [ "$(cat "$x/debian-binary")" = 2.0 ] || fail "$ipk: debian-binary"
  mkdir "$x/c" "$x/d"
  tar -xzf "$x/control.tar.gz" -C "$x/c" && tar -xzf "$x/data.tar.gz" -C "$x/d" || fail "$ipk: inner archives"
  field() { sed -n "s/^$1: //p" "$x/c/control"; }
  arch=$(field Architecture)
  [ "$(field Package)" = knockd ] && [ "$(field Version)" = "$version" ] || fail "$ipk: Package/Version $(field Package) $(field Version)"
  [ "$ipk" = "dist/openwrt/knockd_${version}_${arch}.ipk" ] || fail "$ipk: named for another architecture than $arch"
  # OpenWrt's spelling: the CPU family, then the CPU (x86_64 alone).
  family=${arch%%_*}
  [ "$arch" = x86_64 ] && family=x86_64
  [[ "$arch" =~ ^(x86_64|(i386|aarch64|arm|mips|mipsel|mips64|mips64el|riscv64)_[a-z0-9.+-]+(_[a-z0-9.+-]+)*)$ ]] || fail "$ipk: Architecture $arch is not an OpenWrt name"
  [ "$(elf "$x/d/usr/sbin/knockd")" = "${want_elf[$family]}" ] || fail "$ipk: knockd is ELF $(elf "$x/d/usr/sbin/knockd"), not ${want_elf[$family]} for $arch"
  [ -x "$x/d/usr/sbin/knockd" ] && [ -x "$x/d/etc/init.d/knockd" ] || fail "$ipk: knockd or its init script not executable"
  for init in knockd knockd-fwknop; do
    [ -x "$x/d/etc/init.d/$init" ] || fail "$ipk: /etc/init.d/$init not executable"
    sh -n "$x/d/etc/init.d/$init" || fail "$ipk: sh -n rejects /etc/init.d/$init"
    grep -q '^USE_PROCD=1' "$x/d/etc/init.d/$init" && grep -q 'procd_set_param respawn' "$x/d/etc/init.d/$init" &&
      grep -q 'reload_signal HUP' "$x/d/etc/init.d/$init" || fail "$ipk: $init: not a procd init script with respawn and SIGHUP reload"
  done
  grep -q 'knockd_holes4' "$x/d/usr/share/nftables.d/table-pre/10-knockd.nft" &&
    grep -q '@knockd_holes6 counter accept' "$x/d/usr/share/nftables.d/chain-pre/input_wan/10-knockd.nft" || fail "$ipk: the fw4 includes lack the built-in firewall's sets"
  for f in postinst prerm postrm; do sh -n "$x/c/$f" || fail "$ipk: sh -n rejects $f"; done
  [ "$(cat "$x/c/conffiles")" = /etc/knockd.conf ] || fail "$ipk: conffiles"
  [ "$(stat -c %a "$x/d/etc/knockd.conf")" = 600 ] || fail "$ipk: /etc/knockd.conf is not 0600"
  has 'OK, 1 door' "$root/usr/bin/knockd" --check -c "$x/d/etc/knockd.conf" || fail "$ipk: its knockd.conf does not check"
  for f in table-pre/10-knockd.nft chain-pre/input_wan/10-knockd.nft; do
    [ -f "$x/d/usr/share/nftables.d/$f" ] || fail "$ipk: no /usr/share/nftables.d/$f"
  done
  [ "$(tar -tvzf "$x/data.tar.gz" | awk '{print $2}' | sort -u)" = 0/0 ] || fail "$ipk: files not root's"
  sum=$(awk -v f="${ipk##*/}" '$2 == f { print $1 }' dist/checksums.txt)
  [ -n "$sum" ] && [ "$sum" = "$(sha256sum <"$ipk" | cut -d' ' -f1)" ] || fail "$ipk: not in checksums.txt with its sha256"
  seen+=("$arch")
done
for a in x86_64 i386_pentium4 aarch64_cortex-a53 aarch64_generic arm_cortex-a7_neon-vfpv4 arm_cortex-a9 arm_arm1176jzf-s_vfp \
         mips_24kc mipsel_24kc mips64_octeonplus riscv64_riscv64; do
  [[ " ${seen[*]} " == *" $a "* ]] || fail "no OpenWrt package for $a"
done
x86=$(mktemp -d -p "$root")
tar -xzOf "dist/openwrt/knockd_${version}_x86_64.ipk" ./data.tar.gz | tar -xz -C "$x86"
has '^knockd ' "$x86/usr/sbin/knockd" --version || fail "the x86_64 ipk's knockd does not run"
echo "release-test: ${#ipks[@]} OpenWrt packages for ${#want_elf[@]} CPU families, control fields, files and ELF machines checked"

echo "release-test: packaged knock and knockd run; config, unit, man pages and completions in place"
