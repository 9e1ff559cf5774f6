#!/bin/sh
# --unix: publish and subscribe over a Unix domain socket (mosquitto's
# `listener 0 PATH`), and the usage errors around it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
plan 4

sock="$T/mqtt.sock"
if ! broker_start "listener 0 $sock" 'allow_anonymous true'; then
	not_ok "broker with a Unix socket listener started"
	done_testing
fi

timeout 10 "$MQSUB" --unix "$sock" -i unixsub -t unix/x -C 2 -v \
    >"$T/sub.out" 2>"$T/sub.err" &
spid=$!
track "$spid"
if broker_subscribed unixsub unix/x 5; then
	ok "mqsub subscribed over the Unix socket"
else
	not_ok "mqsub subscribed over the Unix socket"
	diag_file "$T/sub.err"
fi
printf 'one\ntwo\n' | timeout 10 "$MQPUB" --unix "$sock" -t unix/x -q 1 \
    2>"$T/pub.err"
is "$?" 0 "mqpub over the Unix socket, QoS 1: status 0"
wait_exit "$spid" 10
printf 'unix/x one\nunix/x two\n' >"$T/want"
if [ "$status" = 0 ] && cmp -s "$T/want" "$T/sub.out"; then
	ok "both messages received over the Unix socket"
else
	not_ok "both messages received over the Unix socket (status $status)"
	diag_file "$T/sub.out"
	diag_file "$T/sub.err"
fi

check_usage_error mqpub "--unix cannot be combined with TLS" \
    "--unix with TLS is a usage error (status 2)" \
    "$MQPUB" --unix "$sock" --tls -t a -m x
done_testing
