#!/usr/bin/env bash
# Builds the OpenWrt packages (.ipk) of one knockd build; goreleaser runs
# it after each knockd build (builds.hooks.post), and checksums and
# releases what it writes to dist/openwrt/.
#
#   scripts/openwrt-ipk.sh BINARY GOARCH GOARM GOMIPS VERSION [OUTDIR]
#
# opkg installs a package only where its Architecture is one the router
# lists (/etc/opkg.conf, arch lines), spelled as OpenWrt spells its
# targets' CPUs, so one Go build becomes a package for each of the common
# OpenWrt architectures it runs on. An .ipk is a gzipped tar of
# debian-binary, control.tar.gz and data.tar.gz, as OpenWrt's ipkg-build
# writes it. goreleaser's nfpm writes ipk too, but names the architecture
# after Go's (mipslesoftfloat, armhf), which opkg refuses.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 5 ] || { echo "usage: $0 BINARY GOARCH GOARM GOMIPS VERSION [OUTDIR]" >&2; exit 2; }
bin=$1 goarch=$2 goarm=$3 gomips=$4 version=$5 out=${6:-dist/openwrt}

# The OpenWrt architectures each build serves (the CPUs of the targets of
# OpenWrt 23.05 and 24.10 with that instruction set; softfloat MIPS builds
# run on FPU-less SoCs and FPU ones alike).
case "$goarch${goarm:+v$goarm}" in
  amd64)    archs="x86_64" ;;
  386)      archs="i386_pentium4 i386_pentium-mmx" ;;
  arm64)    archs="aarch64_cortex-a53 aarch64_cortex-a72 aarch64_cortex-a76 aarch64_generic" ;;
  armv7)    archs="arm_cortex-a7 arm_cortex-a7_neon-vfpv4 arm_cortex-a7_vfpv4 arm_cortex-a8_vfpv3 arm_cortex-a9 arm_cortex-a9_neon arm_cortex-a9_vfpv3-d16 arm_cortex-a15_neon-vfpv4 arm_cortex-a5_vfpv4" ;;
  armv6)    archs="arm_arm1176jzf-s_vfp" ;;
  mips)     archs="mips_24kc mips_4kec mips_mips32" ;;
  mipsle)   archs="mipsel_24kc mipsel_24kc_24kf mipsel_74kc mipsel_mips32" ;;
  mips64)   archs="mips64_mips64r2 mips64_octeonplus" ;;
  mips64le) archs="mips64el_mips64r2" ;;
  riscv64)  archs="riscv64_riscv64" ;;
  *)        exit 0 ;; # no OpenWrt target (ppc64le)
esac
[ "$goarch" = mips ] || [ "$goarch" = mipsle ] && [ "$gomips" != softfloat ] && {
  echo "openwrt-ipk: $goarch builds for OpenWrt must be GOMIPS=softfloat" >&2; exit 1; }

# Reproducible: every file root's, dated by the commit (or 0).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
tarc() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -c "$@" | gzip -9n; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
install -D -m 0755 "$bin" "$data/usr/sbin/knockd"
install -D -m 0755 etc/openwrt/knockd.init "$data/etc/init.d/knockd"
install -D -m 0755 etc/openwrt/knockd-fwknop.init "$data/etc/init.d/knockd-fwknop"
install -D -m 0600 etc/openwrt/knockd.conf "$data/etc/knockd.conf"
install -D -m 0644 etc/openwrt/nftables.d/table-pre/10-knockd.nft "$data/usr/share/nftables.d/table-pre/10-knockd.nft"
install -D -m 0644 etc/openwrt/nftables.d/chain-pre/input_wan/10-knockd.nft "$data/usr/share/nftables.d/chain-pre/input_wan/10-knockd.nft"
install -D -m 0644 LICENSE "$data/usr/share/doc/knockd/LICENSE"
size=$(du -sk --apparent-size "$data" | cut -f1)

ctl=$work/control
mkdir -p "$ctl"
echo /etc/knockd.conf >"$ctl/conffiles"
cat >"$ctl/postinst" <<'SH'
#!/bin/sh
# Loads the sets and the accept rule into fw4 (they are empty until a
# knock), and says how to start knockd: it is not enabled until the
# sample config's well-known sequence is replaced.
[ "${IPKG_NO_SCRIPT}" = 1 ] && exit 0
[ -n "${IPKG_INSTROOT}" ] && exit 0
[ -x /etc/init.d/firewall ] && /etc/init.d/firewall reload >/dev/null 2>&1
echo "knockd: pick your own sequence in /etc/knockd.conf (knock gen prints one), then:"
echo "knockd:   /etc/init.d/knockd enable && /etc/init.d/knockd start"
echo "knockd: in place of fwknopd, on its own files: /etc/init.d/knockd-fwknop enable && /etc/init.d/knockd-fwknop start"
exit 0
SH
cat >"$ctl/prerm" <<'SH'
#!/bin/sh
[ -n "${IPKG_INSTROOT}" ] && exit 0
for s in knockd knockd-fwknop; do
  /etc/init.d/$s stop >/dev/null 2>&1
  /etc/init.d/$s disable >/dev/null 2>&1
done
exit 0
SH
cat >"$ctl/postrm" <<'SH'
#!/bin/sh
[ -n "${IPKG_INSTROOT}" ] && exit 0
[ -x /etc/init.d/firewall ] && /etc/init.d/firewall reload >/dev/null 2>&1
exit 0
SH
chmod 0755 "$ctl/postinst" "$ctl/prerm" "$ctl/postrm"
echo "2.0" >"$work/debian-binary"
(cd "$data" && tarc ./) >"$work/data.tar.gz"

mkdir -p "$out"
for arch in $archs; do
  cat >"$ctl/control" <<CONTROL
Package: knockd
Version: $version
Depends: nftables
Source: https://github.com/knocktools/knock
License: MIT
Section: net
Maintainer: The knock authors <knock@knocktools.invalid>
Architecture: $arch
Installed-Size: $((size * 1024))
Description: Port-knock server, a drop-in replacement for knockd 0.8: it
 runs a door's command when a source knocks its sequence. Sized for a
 router (see /etc/knockd.conf), with an fw4 set that opens ssh.
CONTROL
  (cd "$ctl" && tarc ./) >"$work/control.tar.gz"
  (cd "$work" && tarc ./debian-binary ./control.tar.gz ./data.tar.gz) >"$out/knockd_${version}_${arch}.ipk"
done
