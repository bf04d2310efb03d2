#!/usr/bin/env bash
# make demo: two network namespaces joined by a veth (10.77.0.1 knocks,
# 10.77.0.2 guards port 2222 with iptables and runs our knockd), our knock
# client opens the door, everything is removed at the end.
# Nothing leaves the machine: the namespaces have no default route.
# KNOCKD=/usr/sbin/knockd scripts/demo.sh runs Debian's knockd 0.8 instead.
set -euo pipefail
KNOCK=$(readlink -f "${1:-bin/knock}")
KNOCKD=$(readlink -f "${KNOCKD:-${2:-bin/knockd}}")
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root for network namespaces: sudo make demo" >&2; exit 1; }
for p in ip iptables nc; do
  command -v $p >/dev/null || { echo "demo: $p is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

C=knockdemo-$$-client S=knockdemo-$$-server
DIR=$(mktemp -d)
cleanup() {
  [ -f "$DIR/knockd.pid" ] && kill "$(cat "$DIR/knockd.pid")" 2>/dev/null || true
  [ -f "$DIR/nc.pid" ] && kill "$(cat "$DIR/nc.pid")" 2>/dev/null || true
  ip netns del "$C" 2>/dev/null || true
  ip netns del "$S" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "lab: $C (10.77.0.1) <-veth-> $S (10.77.0.2), no default route"
ip netns add "$C"; ip netns add "$S"
ip link add eth0 netns "$C" type veth peer name eth0 netns "$S"
for ns in "$C" "$S"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done
ip -n "$C" addr add 10.77.0.1/24 dev eth0
ip -n "$S" addr add 10.77.0.2/24 dev eth0

say "server: port 2222 listens, but the firewall drops it"
ip netns exec "$S" iptables -A INPUT -p tcp --dport 2222 -j DROP
ip netns exec "$S" sh -c "nc -lk 10.77.0.2 2222 >/dev/null 2>&1 & echo \$! > $DIR/nc.pid"

cat > "$DIR/knockd.conf" <<CONF
[options]
	LogFile = $DIR/knockd.log
[openSSH]
	sequence    = 7000,8000:udp,9000:tcp
	seq_timeout = 5
	tcpflags    = syn
	command     = /usr/sbin/iptables -I INPUT -s %IP% -p tcp --dport 2222 -j ACCEPT
CONF
sed 's/^/    /' "$DIR/knockd.conf"
say "server: $KNOCKD -i eth0 -c knockd.conf -v"
ip netns exec "$S" sh -c "$KNOCKD -i eth0 -c $DIR/knockd.conf -v > $DIR/knockd.out 2>&1 & echo \$! > $DIR/knockd.pid"
for _ in $(seq 50); do grep -q listening "$DIR/knockd.out" 2>/dev/null && break; sleep 0.1; done

probe() { ip netns exec "$C" timeout 1 nc -z 10.77.0.2 2222 && echo "port 2222: OPEN" || echo "port 2222: closed"; }
say "client: before knocking"
probe

say "client: knock -v 10.77.0.2 7000 8000:udp 9000"
ip netns exec "$C" "$KNOCK" -v 10.77.0.2 7000 8000:udp 9000
sleep 0.5

say "server: knockd says"
sed 's/^/    /' "$DIR/knockd.out"
say "server: firewall now"
ip netns exec "$S" iptables -S INPUT | sed 's/^/    /'

say "client: after knocking"
probe
say "cleaning up the lab"
