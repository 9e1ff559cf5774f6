#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# pubsub-restart.sh: a persistent mqsub session keeps what was published
# while it was away, across a broker restart in the middle of a QoS 1 stream
# from mqpub, which reconnects and resends; a broker that stays away longer
# than --connect-timeout makes mqpub exit 1 and say how many messages were
# not acknowledged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 12

require "$MOSQUITTO" mosquitto
require "$MOSQUITTO_SUB" mosquitto_sub

# persistence in the broker's own directory (broker.sh); no limit on the
# messages queued for the offline session (default 1000, then dropped)
if broker_start 'persistence true' 'max_queued_messages 0'; then
	ok "broker started on port $BROKER_PORT, with persistence"
else
	not_ok "broker started"
	done_testing
fi

# counter ID TOPIC N: start mosquitto_sub as an independent observer that
# exits after N messages on TOPIC; sets counter_pid once it is subscribed.
counter()
{
	timeout 30 "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$BROKER_PORT" -i "$1" \
	    -t "$2" -C "$3" >/dev/null 2>&1 &
	counter_pid=$!
	track "$counter_pid"
	broker_subscribed "$1" "$2" 5
}

# the persistent session: created by -E, then nobody is connected as sub1
run sub -c -i sub1 -q 1 -E -t 'rs/#'
is "$status:$(cat "$T/out" "$T/err")" "0:" \
    "mqsub -c -i sub1 -q 1 -E: session created, exit 0"
seq 1 1000 | pub -t rs/a -q 1 >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "0:" "1000 QoS 1 messages published while sub1 is away"

# A QoS 1 stream, with a broker restart once it is flowing.
counter counter1 rs/b 1000
seq 1 50000 >"$T/seq50000"
timeout 60 "$MQPUB" -h 127.0.0.1 -p "$BROKER_PORT" -t rs/b -q 1 \
    --connect-timeout 20 <"$T/seq50000" >"$T/pub1.out" 2>"$T/pub1.err" &
pub_pid=$!
track "$pub_pid"
wait_exit "$counter_pid" 20
if kill -0 "$pub_pid" 2>/dev/null; then
	ok "messages flowing (1000 seen by mosquitto_sub), mqpub still busy"
else
	not_ok "messages flowing (1000 seen by mosquitto_sub), mqpub still busy"
	diag "mqpub had already finished: the restart below is not mid-stream"
fi
if broker_restart; then
	ok "broker restarted on the same port"
else
	not_ok "broker restarted on the same port"
fi
wait_exit "$pub_pid" 50
if [ "$status" = 0 ]; then
	ok "mqpub reconnects, resends, exits 0"
else
	not_ok "mqpub reconnects, resends, exits 0"
	diag "status $status"
	diag_file "$T/pub1.err"
fi
if grep -q 'not acknowledged' "$T/pub1.err"; then
	not_ok "mqpub does not report lost messages"
	diag_file "$T/pub1.err"
else
	ok "mqpub does not report lost messages"
fi

# sub1 comes back: everything published while it was away, up to a marker
pub -t rs/b -q 1 -m END >/dev/null 2>&1
SUB_TIMEOUT=30 sub -c -i sub1 -q 1 -t 'rs/#' -v 2>"$T/sub1.err" |
    sed '/^rs\/b END$/q' >"$T/sub1.out"
if [ "$(tail -n 1 "$T/sub1.out")" = "rs/b END" ]; then
	ok "mqsub -c -i sub1 gets the session's messages up to the marker"
else
	not_ok "mqsub -c -i sub1 gets the session's messages up to the marker"
	diag "$(wc -l <"$T/sub1.out") lines"
	diag_file "$T/sub1.err"
fi
sed -n 's|^rs/a ||p' "$T/sub1.out" | sort -u >"$T/a.got"
seq 1 1000 | sort >"$T/a.want"
if cmp -s "$T/a.want" "$T/a.got"; then
	ok "all 1000 messages published while sub1 was away are there"
else
	not_ok "all 1000 messages published while sub1 was away are there"
	diag "$(comm -23 "$T/a.want" "$T/a.got" | wc -l) missing"
fi
sed -n 's|^rs/b \([0-9]*\)$|\1|p' "$T/sub1.out" | sort -u >"$T/b.got"
sort "$T/seq50000" >"$T/b.want"
if cmp -s "$T/b.want" "$T/b.got"; then
	ok "all 50000 of the stream across the restart are there"
else
	not_ok "all 50000 of the stream across the restart are there"
	diag "$(comm -23 "$T/b.want" "$T/b.got" | wc -l) missing," \
	    "first: $(comm -23 "$T/b.want" "$T/b.got" | sort -n | head -n 3 |
	    tr '\n' ' ')"
fi
total=$(wc -l <"$T/sub1.out")
extra=$(grep -cv -e '^rs/a [0-9]*$' -e '^rs/b [0-9]*$' -e '^rs/b END$' \
    "$T/sub1.out")
diag "$((total - 51001)) duplicates (allowed at QoS 1)"
is "$extra" 0 "nothing else was received"

# The broker goes away for longer than --connect-timeout.
counter counter2 rs/c 1000
seq 1 500000 | timeout 30 "$MQPUB" -h 127.0.0.1 -p "$BROKER_PORT" -t rs/c \
    -q 1 --connect-timeout 2 >"$T/pub2.out" 2>"$T/pub2.err" &
pub_pid=$!
track "$pub_pid"
wait_exit "$counter_pid" 20
broker_stop
start=$(now_ms)
wait_exit "$pub_pid" 20
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 1 ] &&
    grep -Eq '^mqpub: [1-9][0-9]* messages? not acknowledged$' "$T/pub2.err"
then
	ok "broker gone > --connect-timeout: status 1, N not acknowledged (${elapsed} ms)"
else
	not_ok "broker gone > --connect-timeout: status 1, N not acknowledged (${elapsed} ms)"
	diag "status $status"
	diag_file "$T/pub2.err"
fi

done_testing
