#!/bin/sh
# shellcheck disable=SC1091,SC2034,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments; the INST_url variables are read
# through eval)
# mq2sse-restart.sh: mq2sse and a real mosquitto that goes away: SSE
# clients stay connected across a broker restart (/healthz 503 while it is
# down, 200 again after, the same stream gets the later messages); with
# -c -i ID and QoS 1, messages published while mq2sse is stopped reach its
# clients when it is back; POST /publish (204, byte-exact payloads,
# retain=1, 403 outside --allow-publish, 400, 401 and --token, 405, 502
# while the broker is down or when it refuses the message).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 52

require "$MQ2SSE" mq2sse
require "$MOSQUITTO" mosquitto
require "$PYTHON" python3
require "$(command -v curl)" curl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# post INST TOPIC_QUERY [CURL ARG...]: POST /publish?TOPIC_QUERY, the body
# from stdin; prints the status.
post()
{
	_p_inst=$1
	_p_q=$2
	shift 2
	m2_code "$_p_inst" "/publish${_p_q:+?$_p_q}" -X POST \
	    -H 'Content-Type: application/octet-stream' --data-binary @- "$@"
}

# wait_health INST CODE [SECS]: poll /healthz until it answers CODE.
wait_health()
{
	_wh_n=$(( ${3:-20} * 10 ))
	while [ "$(m2_code "$1" /healthz)" != "$2" ] && [ "$_wh_n" -gt 0 ]; do
		sleep 0.1
		_wh_n=$((_wh_n - 1))
	done
	[ "$(m2_code "$1" /healthz)" = "$2" ]
}

# --- SSE clients across a broker restart --------------------------------------
if broker_start; then
	ok "broker started on port $BROKER_PORT"
else
	not_ok "broker started"
	done_testing
fi

if m2_start x -t 'rs/#' && m2_ready x 1 'rs/#'; then
	ok "mq2sse x listening and subscribed"
else
	not_ok "mq2sse x listening and subscribed"
	diag_file "$T/x.err"
fi
m2_cl x xc ''
xc_pid=$cl_pid
pub -q 1 -t rs/1 -m before >/dev/null 2>&1
wait_tp "$T/xc.body" rs/1=before
is "$(tps "$T/xc.body")" "rs/1=before" "the client gets a message"

broker_stop
if wait_health x 503 20; then
	ok "broker stopped: /healthz 503 ($(cat "$T/code.body"))"
else
	not_ok "broker stopped: /healthz 503"
	diag_file "$T/x.err"
fi
is "$(m2_metric x mq2sse_broker_connected)" 0 \
    "broker stopped: mq2sse_broker_connected 0"
if kill -0 "$xc_pid" 2>/dev/null; then
	ok "broker stopped: the SSE client is still connected"
else
	not_ok "broker stopped: the SSE client is still connected"
	diag_file "$T/xc.cerr"
fi
if broker_restart; then
	ok "broker restarted on port $BROKER_PORT"
else
	not_ok "broker restarted on port $BROKER_PORT"
fi
start=$(now_ms)
if wait_health x 200 40; then
	ok "/healthz 200 again ($(( $(now_ms) - start )) ms after the restart)"
else
	not_ok "/healthz 200 again within 40 s of the restart"
	diag_file "$T/x.err"
fi
if m2_ready x 2 'rs/#'; then
	ok "mq2sse x reconnected and subscribed again"
else
	not_ok "mq2sse x reconnected and subscribed again"
	diag_file "$T/x.err"
fi
pub -q 1 -t rs/2 -m after >/dev/null 2>&1
wait_tp "$T/xc.body" rs/2=after
want rs/1=before rs/2=after
tps "$T/xc.body" >"$T/got"
same_file "the same stream gets the message published after the restart" \
    "$T/want" "$T/got"
if kill -0 "$xc_pid" 2>/dev/null &&
    [ "$(grep -c ': connected, [0-9]* events of replay$' "$T/x.err")" = 1 ]
then
	ok "... without the client reconnecting (one connection, curl still running)"
else
	not_ok "... without the client reconnecting (one connection, curl still running)"
	diag_file "$T/x.err"
fi
if evs "$T/xc.body" | awk -F '|' 'NR == 2 && $1 + 0 > last + 0 { good = 1 }
    { last = $1 } END { exit !good }'; then
	ok "... with a larger id"
else
	not_ok "... with a larger id"
	evs "$T/xc.body" | cut -c 1-60 | sed 's/^/# /'
fi

# --- POST /publish ------------------------------------------------------------
if m2_start p -t 'cmd/#' --allow-publish 'cmd/#' \
    --allow-publish 'dev/+/set' && m2_ready p 1 'cmd/#'; then
	ok "mq2sse p (--allow-publish 'cmd/#' --allow-publish 'dev/+/set')"
else
	not_ok "mq2sse p (--allow-publish 'cmd/#' --allow-publish 'dev/+/set')"
	diag_file "$T/p.err"
fi
p_m2pid=$m2_pid
m2_cl p pc ''
sub_start ps 'cmd/#' -v -q 1 -T cmd/bin
is "$(printf 'hello' | post p 'topic=cmd/a')" 204 \
    "POST /publish?topic=cmd/a: 204"
# 256 bytes: every byte value
"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' \
    >"$T/bin"
is "$(post p 'topic=cmd/bin' <"$T/bin")" 204 \
    "POST of 256 bytes (every byte value): 204"
is "$(printf 'x' | post p 'topic=dev/7/set')" 204 \
    "POST /publish?topic=dev/7/set (within dev/+/set): 204"
is "$(printf 'on' | post p 'topic=cmd/kept&retain=1')" 204 \
    "POST /publish?topic=cmd/kept&retain=1: 204"
sub_start pbin 'cmd/bin' -F '%x' -C 1 -W 10 -R
post p 'topic=cmd/bin' <"$T/bin" >/dev/null
sub_wait 10
is "$(cat "$T/pbin.out")" "$(od -An -v -tx1 "$T/bin" | tr -d ' \n')" \
    "the payload reaches mqsub byte for byte (mqsub -F %x)"
wait_count '^cmd/kept on$' "$T/ps.out" 1
want 'cmd/a hello' 'cmd/kept on'
cp "$T/ps.out" "$T/got"
same_file "mqsub -t 'cmd/#' gets cmd/a and cmd/kept (dev/7/set is not under cmd/)" \
    "$T/want" "$T/got"
is "$(sub -t cmd/kept --retained-only -F '%t %p %r')" "cmd/kept on 1" \
    "retain=1: the message is retained (mqsub --retained-only)"
is "$(sub -t cmd/a --retained-only -F '%t %p %r')" "" \
    "without retain=1 it is not retained"
is "$(post p 'topic=cmd/kept&retain=1' </dev/null)" 204 \
    "POST of an empty body with retain=1: 204"
is "$(sub -t cmd/kept --retained-only -F '%t %p %r')" "" \
    "... it cleared the retained message"
sub_start pq 'dev/#' -F '%t %p %q' -q 2 -C 1 -W 10
printf 'y' | post p 'topic=dev/8/set' >/dev/null
sub_wait 10
is "$(cat "$T/pq.out")" "dev/8/set y 1" "a POSTed message is published at QoS 1"
wait_tp "$T/pc.body" cmd/kept=on
want cmd/a=hello "cmd/bin=b64:$(base64 -w 0 "$T/bin")" "cmd/kept=on R"
tps "$T/pc.body" | sed 3q >"$T/got"
same_file "the SSE client of the same mq2sse sees the POSTed messages (retain kept)" \
    "$T/want" "$T/got"

is "$(printf 'x' | post p 'topic=other/x')" 403 \
    "POST to other/x (outside --allow-publish): 403"
is "$(printf 'x' | post p 'topic=dev/7/8/set')" 403 \
    "POST to dev/7/8/set (outside dev/+/set): 403"
is "$(printf 'x' | post p '')" 400 "POST /publish without topic: 400"
is "$(printf 'x' | post p 'topic=')" 400 "POST /publish?topic= (empty): 400"
is "$(printf 'x' | post p 'topic=cmd/%23')" 400 \
    "POST /publish?topic=cmd/%23 (a wildcard): 400"
is "$(printf 'x' | post p 'topic=cmd/+')" 400 \
    "POST /publish?topic=cmd/+ (a literal +, the wildcard): 400"
is "$(printf 'x' | post p 'topic=cmd/a%00b')" 400 \
    "POST /publish?topic=cmd/a%00b (U+0000 in the topic): 400"
is "$(m2_code p '/publish?topic=cmd/a')" 405 "GET /publish: 405"

# --token
if m2_start t -t 'tk/#' --allow-publish 'tk/#' --token s3cret &&
    m2_ready t 1 'tk/#'; then
	ok "mq2sse t (--token)"
else
	not_ok "mq2sse t (--token)"
	diag_file "$T/t.err"
fi
is "$(printf 'x' | post t 'topic=tk/a')" 401 \
    "--token: POST without the token: 401"
is "$(printf 'x' | post t 'topic=tk/a' -H 'Authorization: Bearer wrong')" \
    401 "--token: POST with a wrong token: 401"
sub_start tq 'tk/#' -F '%t %p\n' -C 2 -W 10
is "$(printf 'one' | post t 'topic=tk/a' -H 'Authorization: Bearer s3cret')" \
    204 "--token: POST with Authorization: Bearer TOKEN: 204"
is "$(printf 'two' | post t 'topic=tk/b&token=s3cret')" 204 \
    "--token: POST with ?token=TOKEN: 204"
sub_wait 10
want 'tk/a one' 'tk/b two'
same_file "... both published, the refused ones not" "$T/want" "$T/tq.out"

# --- persistent session: messages published while mq2sse is stopped ----------
# mq2sse s holds a persistent session (-c -i s, QoS 1).  It is stopped
# (SIGTERM: a clean DISCONNECT, which must not end the session), messages
# are published, and a new mq2sse with the same -c -i s gets them from the
# broker as soon as it connects: before any SSE client can attach.  So the
# client asks for ?backlog=100: mq2sse keeps every message in its history,
# and a client is attached to the history and the live stream at once, so
# it gets each message exactly once whether the broker's delivery finishes
# before or after the client connects.
if m2_start s -c -t 'ps/#' && m2_ready s 1 'ps/#'; then
	ok "mq2sse s -c -i s: persistent session"
else
	not_ok "mq2sse s -c -i s: persistent session"
	diag_file "$T/s.err"
fi
m2_cl s sc ''
pub -q 1 -t ps/0 -m zero >/dev/null 2>&1
wait_tp "$T/sc.body" ps/0=zero
kill -TERM "$m2_pid"
wait_exit "$m2_pid" 10
is "$status:$(tps "$T/sc.body")" "143:ps/0=zero" \
    "mq2sse s got ps/0, then SIGTERM: exit 143"
for i in 1 2 3 4 5; do
	pub -q 1 -t "ps/$i" -m "away $i" >/dev/null 2>&1
done
if m2_start s -c -t 'ps/#' && m2_ready s 2; then
	ok "a new mq2sse -c -i s connects"
else
	not_ok "a new mq2sse -c -i s connects"
	diag_file "$T/s.err"
fi
m2_cl s sc2 'backlog=100'
pub -q 1 -t ps/6 -m live >/dev/null 2>&1
wait_tp "$T/sc2.body" ps/6=live
want 'ps/1=away 1' 'ps/2=away 2' 'ps/3=away 3' 'ps/4=away 4' \
    'ps/5=away 5' 'ps/6=live'
tps "$T/sc2.body" >"$T/got"
same_file "the messages published while mq2sse was stopped reach its new client, then live ones" \
    "$T/want" "$T/got"
# the same after a SIGKILL (no DISCONNECT at all)
kill_wait "$m2_pid" KILL
pub -q 1 -t ps/7 -m killed >/dev/null 2>&1
if m2_start s -c -t 'ps/#' && m2_ready s 3; then
	m2_cl s sc3 'backlog=100'
	wait_tp "$T/sc3.body" ps/7=killed
fi
is "$(tps "$T/sc3.body")" "ps/7=killed" \
    "after a SIGKILL too: the message published meanwhile arrives"

# --- a broker that does not answer -------------------------------------------
# SIGSTOP: the TCP connection stays up, nothing is acknowledged (the
# keep-alive, 60 s, does not notice it in the time of the test)
pid_b=$BROKER_PID
kill -STOP "$pid_b"
start=$(now_ms)
c=$(printf 'x' | post p 'topic=cmd/stalled')
elapsed=$(( $(now_ms) - start ))
if [ "$c" = 502 ] && [ "$elapsed" -ge 9000 ] && [ "$elapsed" -lt 20000 ]; then
	ok "broker stopped (SIGSTOP): POST answered 502 after 10 s without acknowledgement (${elapsed} ms)"
else
	not_ok "broker stopped (SIGSTOP): POST answered 502 after 10 s without acknowledgement"
	diag "status $c after $elapsed ms"
	diag_file "$T/code.body"
fi
# a POST waiting for the broker when mq2sse gets SIGTERM: 502, exit 143
# (curl's trace says when the request has been sent)
printf 'x' | curl -s -o "$T/term.body" -w '%{http_code}' --max-time 20 \
    --trace-ascii "$T/term.trace" -X POST --data-binary @- \
    "$p_url/publish?topic=cmd/term" >"$T/term.code" 2>/dev/null &
term_curl=$!
track "$term_curl"
wait_for_file '^=> Send data' "$T/term.trace" 10
kill -TERM "$p_m2pid"
wait_exit "$p_m2pid" 10
p_status=$status
wait_exit "$term_curl" 10
is "$p_status:$(cat "$T/term.code")" "143:502" \
    "SIGTERM while a POST waits for the broker: the POST gets 502, exit 143"
kill -CONT "$pid_b"

# --- 502 while the broker is down ---------------------------------------------
broker_stop
wait_health t 503 20
is "$(printf 'x' | post t 'topic=tk/a' -H 'Authorization: Bearer s3cret'):$(m2_metric t mq2sse_broker_connected)" \
    "502:0" "broker down: POST /publish: 502"
is "$(printf 'x' | post t 'topic=other/x' -H 'Authorization: Bearer s3cret')" \
    403 "broker down: a POST outside --allow-publish is still 403"
is "$(printf 'x' | post t 'topic=tk/a')" 401 \
    "broker down: a POST without the token is still 401"

# --- 502 when the broker refuses the message ----------------------------------
# (an ACL lets anonymous clients publish to ok/# only: with MQTT 5,
# mosquitto answers other publishes with a PUBACK "not authorized")
printf 'topic readwrite ok/#\ntopic read ro/#\n' >"$T/acl"
if broker_start "acl_file $T/acl" &&
    m2_start q -t 'ok/#' --allow-publish '#' && m2_ready q 1 'ok/#'; then
	ok "a broker with an ACL, mq2sse q --allow-publish '#'"
else
	not_ok "a broker with an ACL, mq2sse q --allow-publish '#'"
	diag_file "$T/q.err"
fi
is "$(printf 'x' | post q 'topic=ok/a')" 204 "POST to ok/a (allowed by the ACL): 204"
c=$(printf 'x' | post q 'topic=ro/a')
if [ "$c" = 502 ] && grep -qi 'refused' "$T/code.body"; then
	ok "POST to ro/a (refused by the ACL): 502, 'the broker refused ...'"
else
	not_ok "POST to ro/a (refused by the ACL): 502, 'the broker refused ...'"
	diag "status $c"
	diag_file "$T/code.body"
fi

done_testing
