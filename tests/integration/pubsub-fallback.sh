#!/bin/sh
# MQTT 5 by default, falling back to 3.1.1 against a real broker that only
# speaks 3.1.1 (aedes 1.x, which answers an MQTT 5 CONNECT with 0x84); an
# explicit -V 5 never falls back.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
B=$top_builddir/cmd
echo "1..6"
t=0
ok() { t=$((t + 1)); echo "ok $t - $1"; }
nok() { t=$((t + 1)); echo "not ok $t - $1"; }

tmp=$(mktemp -d)
bpid=""
trap 'if [ -n "$bpid" ]; then kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT

if ! command -v node >/dev/null || [ ! -d "$top_srcdir/node_modules/aedes" ]; then
	for i in 1 2 3 4 5 6; do nok "aedes broker available (run npm ci)"; done
	exit 0
fi
node "$top_srcdir/tests/node/aedes-broker.js" >"$tmp/aedes.out" 2>&1 &
bpid=$!
port=""
for _ in $(seq 50); do
	port=$(awk '/^listening/ {print $2}' "$tmp/aedes.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] && ok "aedes listening on $port" || nok "aedes listening"

# The subscriber is ready once its -d log shows the subscription answered.
timeout 10 "$B/mqsub" -p "$port" -t 'fb/#' -C 2 -v -d >"$tmp/sub.out" \
    2>"$tmp/sub.err" &
spid=$!
for _ in $(seq 100); do
	grep -q 'SUBACK' "$tmp/sub.err" && break
	sleep 0.05
done
grep -q 'connected to .*(MQTT 3.1.1)' "$tmp/sub.err" &&
    ok "mqsub fell back to MQTT 3.1.1" || nok "mqsub fell back to MQTT 3.1.1"

timeout 10 "$B/mqpub" -p "$port" -t fb/a -m hello -q 1 2>"$tmp/pub.err"
rc=$?
[ $rc -eq 0 ] && ok "mqpub -q 1 against a 3.1.1 broker exits 0" ||
    nok "mqpub -q 1 against a 3.1.1 broker exits 0 (got $rc)"
timeout 10 "$B/mqpub" -p "$port" -t fb/b -m props -q 1 \
    --content-type text/plain 2>"$tmp/pub2.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'properties are not sent over' "$tmp/pub2.err"; then
	ok "properties dropped with one warning"
else
	nok "properties dropped with one warning (rc $rc)"
	sed 's/^/# /' "$tmp/pub2.err"
fi
wait "$spid"
printf 'fb/a hello\nfb/b props\n' | cmp -s - "$tmp/sub.out" &&
    ok "both messages received" || { nok "both messages received"; sed 's/^/# /' "$tmp/sub.out"; }

timeout 10 "$B/mqpub" -p "$port" -V 5 -t fb/c -m x 2>"$tmp/v5.err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'mqpub: connect localhost:'"$port"': ' "$tmp/v5.err"; then
	ok "-V 5 does not fall back: status 3"
else
	nok "-V 5 does not fall back: status 3 (got $rc)"
	sed 's/^/# /' "$tmp/v5.err"
fi
