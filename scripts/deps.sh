#!/usr/bin/env bash
# Installs what the lab tests and the demo need, when it is missing:
# Debian's knockd (the compatibility oracle, with its knock client),
# iproute2, iptables, tcpdump, tcpreplay (the flood tests and benchmark)
# netcat, fwknop's server and client (the SPA oracles), curl and wget
# (what an https resolve_url is fetched with), and qemu-user
# (the release builds of the other Linux architectures, run). Without root or apt-get it says
# what is missing and leaves the lab tests to skip (they fail under CI=true).
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
have knockd   || need+=(knockd)
have ip       || need+=(iproute2)
have iptables || need+=(iptables)
have nft      || need+=(nftables)
have tcpdump  || need+=(tcpdump)
have tcpreplay || need+=(tcpreplay)
have sshd     || need+=(openssh-server)
have ssh      || need+=(openssh-client)
have nc       || need+=(netcat-openbsd)
have setpriv  || need+=(util-linux)
have fwknopd  || need+=(fwknop-server)
have fwknop   || need+=(fwknop-client)
have ruby     || need+=(ruby)   # release-test: ruby -c of the Homebrew cask
have curl     || need+=(curl)   # resolve_url over https: knock asks curl, else wget
have wget     || need+=(wget)
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)           # the Windows client, run for real
have x86_64-w64-mingw32-gcc || need+=(gcc-mingw-w64-x86-64) # its ProcessPrng shim
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
have qemu-mips-static || need+=(qemu-user-static)      # every Linux build we release, run for real

[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "************************************************************************" >&2
  echo "deps: missing ${need[*]}; lab tests will be SKIPPED." >&2
  echo "deps: install them as root (apt-get install ${need[*]}) or run 'sudo make test'." >&2
  echo "************************************************************************" >&2
  [ "${CI:-}" = true ] && { echo "deps: CI=true: refusing to skip lab tests" >&2; exit 1; }
  exit 0
fi

echo "deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# knockd's package starts no daemon on install (its default file disables it).
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
