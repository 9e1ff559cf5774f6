#!/bin/sh
# MQTT 5 by default, falling back to 3.1.1 against a real broker that only
# speaks 3.1.1 (aedes 1.x, which answers an MQTT 5 CONNECT with 0x84); an
# explicit -V 5 never falls back.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
plan 6

require "$NODE" "node (Node.js 20)"
if [ ! -d "$top_srcdir/node_modules/aedes" ]; then
	not_ok "npm package aedes installed (run npm ci)"
	exit 1
fi
node "$top_srcdir/tests/node/aedes-broker.js" >"$T/aedes.out" 2>&1 &
track $!
wait_for_file '^listening' "$T/aedes.out" 5
port=$(awk '/^listening/ {print $2}' "$T/aedes.out")
if [ -n "$port" ]; then ok "aedes listening on $port"; else
	not_ok "aedes listening"; diag_file "$T/aedes.out"; done_testing; fi

# The subscriber is ready once its -d log shows the subscription answered.
timeout 10 "$MQSUB" -p "$port" -t 'fb/#' -C 2 -v -d >"$T/sub.out" \
    2>"$T/sub.err" &
spid=$!
track $spid
wait_for_file 'SUBACK' "$T/sub.err" 5
check "mqsub fell back to MQTT 3.1.1" \
    grep -q 'connected to .*(MQTT 3.1.1)' "$T/sub.err"

timeout 10 "$MQPUB" -p "$port" -t fb/a -m hello -q 1 2>"$T/pub.err"
is "$?" 0 "mqpub -q 1 against a 3.1.1 broker exits 0"

timeout 10 "$MQPUB" -p "$port" -t fb/b -m props -q 1 \
    --content-type text/plain 2>"$T/pub2.err"
rc=$?
if [ $rc -eq 0 ] &&
    grep -q 'properties are not sent over MQTT 3.1.1' "$T/pub2.err"; then
	ok "properties dropped with one warning"
else
	not_ok "properties dropped with one warning (status $rc)"
	diag_file "$T/pub2.err"
fi

wait_exit "$spid" 10
printf 'fb/a hello\nfb/b props\n' >"$T/want"
if cmp -s "$T/want" "$T/sub.out"; then ok "both messages received"; else
	not_ok "both messages received"; diag_file "$T/sub.out"; fi

timeout 10 "$MQPUB" -p "$port" -V 5 -t fb/c -m x 2>"$T/v5.err"
rc=$?
if [ $rc -eq 3 ] && grep -q "^mqpub: connect localhost:$port: " "$T/v5.err"
then
	ok "-V 5 does not fall back: status 3"
else
	not_ok "-V 5 does not fall back: status 3 (got $rc)"
	diag_file "$T/v5.err"
fi
done_testing
