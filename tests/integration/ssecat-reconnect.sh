#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssecat-reconnect.sh: ssecat's connection life against a scripted server
# (tests/node/sse-server.js) on 127.0.0.1: Last-Event-ID on reconnection,
# the retry delay (retry: and the 3000 ms default), back-off on failures,
# --no-reconnect, --max-reconnects, --connect-timeout (the first connection
# retried), --idle-timeout and -v.  Timings are checked from the server's
# log with generous bounds.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 23

require "$NODE" "node (Node.js 20)"
require "$PYTHON" python3

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# ended PATH N: when the server ended the Nth response of PATH (epoch ms).
ended()
{
	awk -v p="$1" -v n="$2" '$1 == "ended" && $2 == p && $3 == n { print $4 }' \
	    "$T/srv.out"
}

# in_range VALUE LOW HIGH: LOW <= VALUE < HIGH (VALUE an integer).
in_range()
{
	case $1 in
	'' | *[!0-9-]*) return 1 ;;
	esac
	[ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]
}

# --- the server ---------------------------------------------------------------
cat >"$T/srv.json" <<'EOF'
{
 "/lid": [{"body": "id: 5\nretry: 100\ndata: a\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/lidx": [{"body": "retry: 100\ndata: a\n\nid: 6\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/idonly": [{"body": "retry: 100\ndata: a\n\nid: 9\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/idreset": [{"body": "id: 4\nretry: 100\ndata: a\n\nid\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/retry": [{"body": "retry: 200\ndata: a\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/default": [{"body": "data: a\n\n"}, {"body": "data: b\n\n", "close": false}],
 "/clean": [{"body": "data: a\n\n"}],
 "/broken": [{"body": "data: a\n\n", "hold_ms": 100, "abort": true}],
 "/drop": [{"headers": {"Connection": "close"}, "body": "retry: 100\ndata: a\n\n"}, {"drop": true}],
 "/idle": [{"body": "retry: 100\ndata: a\n\n", "close": false}, {"body": "data: b\n\n", "close": false}],
 "/alive": [{"body": "data: a\n\n", "close": false, "every": {"data": ":\n", "every_ms": 200}}],
 "/204": [{"status": 204, "headers": {"Content-Type": null}}]
}
EOF
srv_up srv

# The default delay (3 s) is measured in the background meanwhile.
timeout 20 "$SSECAT" -C 2 "$U/default" >"$T/default.got" \
    2>"$T/default.stderr" &
default_pid=$!
track "$default_pid"

# --- Last-Event-ID --------------------------------------------------------------
sse lid -v -C 2 "$U/lid"
is "$status|$(tr '\n' , <"$T/lid.got")|$(reqs /lid)" "0|a,b,|2" \
    "the stream ends: ssecat reconnects and reads on (-C 2)"
is "$(req /lid 1 h:last-event-id)|$(req /lid 2 h:last-event-id)" "-|5" \
    "no Last-Event-ID at first; Last-Event-ID: 5 on the reconnection"
check "-v: 'ssecat: connected to URL (HTTP 200)' for each connection" \
    test "$(grep -cFx "ssecat: connected to $U/lid (HTTP 200)" "$T/lid.stderr")" = 2
if grep -Eq '^ssecat: .*reconnecting in 100 ms$' "$T/lid.stderr"; then
	ok "-v: 'reconnecting in 100 ms' after the stream ended (retry: 100)"
else
	not_ok "-v: 'reconnecting in 100 ms' after the stream ended (retry: 100)"
	diag_file "$T/lid.stderr"
fi

sse lidx --last-event-id 'X y' -C 2 "$U/lidx"
is "$status|$(req /lidx 1 h:last-event-id)|$(req /lidx 2 h:last-event-id)" \
    "0|X y|6" "--last-event-id on the first request, the server's id after"

sse idonly -C 2 "$U/idonly"
is "$status|$(tr '\n' , <"$T/idonly.got")|$(req /idonly 2 h:last-event-id)" \
    "0|a,b,|9" "an id-only block (no data, no event) still sets the id sent"

sse idreset -C 2 "$U/idreset"
is "$status|$(req /idreset 1 h:last-event-id)|$(req /idreset 2 h:last-event-id)" \
    "0|-|-" "an empty id resets it: no Last-Event-ID on the reconnection"

# --- the retry delay ------------------------------------------------------------
sse retry -C 2 "$U/retry"
t_end=$(ended /retry 1)
t_re=$(req /retry 2 t_ms)
gap=$(( ${t_re:-0} - ${t_end:-0} ))
if [ "$status" = 0 ] && [ -n "$t_end" ] && in_range "$gap" 150 2000; then
	ok "retry: 200: the reconnection came $gap ms after the end (150 to 2000)"
else
	not_ok "retry: 200: the reconnection came 150 to 2000 ms after the end"
	diag "status $status, ended at '$t_end', reconnected at '$t_re'"
	diag_file "$T/retry.stderr"
fi

# --- ends and failures ----------------------------------------------------------
sse clean --no-reconnect "$U/clean"
is "$status|$(cat "$T/clean.got")|$(reqs /clean)|$(cat "$T/clean.stderr")" \
    "0|a|1|" "--no-reconnect: a clean end gives status 0, no reconnection"

sse broken --no-reconnect "$U/broken"
if [ "$status" = 1 ] && [ "$(cat "$T/broken.got")" = a ] &&
    [ "$(reqs /broken)" = 1 ] && grep -q "^ssecat: $U/broken: " "$T/broken.stderr"
then
	ok "--no-reconnect: a broken stream gives status 1 and a diagnostic"
	diag "$(cat "$T/broken.stderr")"
else
	not_ok "--no-reconnect: a broken stream gives status 1 and a diagnostic"
	diag "status $status, $(reqs /broken) requests"
	diag_file "$T/broken.got"
	diag_file "$T/broken.stderr"
fi

# (Connection: close: libcurl retries a request once by itself when a reused
# keep-alive connection turns out dead; a fresh connection counts exactly)
start=$(now_ms)
sse drop -v --max-reconnects 2 "$U/drop"
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && [ "$(cat "$T/drop.got")" = a ] &&
    [ "$(reqs /drop)" = 3 ] && [ "$elapsed" -lt 10000 ]; then
	ok "--max-reconnects 2, connections closed at once: status 3 after exactly 2 attempts ($elapsed ms)"
else
	not_ok "--max-reconnects 2, connections closed at once: status 3 after exactly 2 attempts"
	diag "status $status after $elapsed ms, $(reqs /drop) requests (1 + 2 expected)"
	diag_file "$T/drop.stderr"
fi

# back-off: the server goes away; the delays grow
"$PYTHON" -c 'print("{\"/bo\": [{\"body\": \"retry: 100\\ndata: a\\n\\n\", \"close\": false}]}")' \
    >"$T/bo.json"
if srv_start bo; then
	bo_pid=$srv_pid
	timeout 20 "$SSECAT" -v "http://127.0.0.1:$srv_port/bo" >"$T/bo.got" \
	    2>"$T/bo.stderr" &
	bo_cat=$!
	track "$bo_cat"
	wait_for_file '^a$' "$T/bo.got" 10
	kill_wait "$bo_pid"
	n=0
	while [ "$(grep -c 'reconnecting in [0-9]* ms' "$T/bo.stderr")" -lt 4 ] &&
	    [ "$n" -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	kill_wait "$bo_cat"
	# shellcheck disable=SC2046
	set -- $(grep -o 'reconnecting in [0-9]* ms' "$T/bo.stderr" |
	    awk 'NR <= 4 { print $3 }')
	if [ "$#" = 4 ] && [ "$1" -lt 1000 ] && [ "$3" -gt "$1" ] &&
	    [ "$4" -gt "$2" ] && [ "$4" -ge $(($1 * 2)) ]; then
		ok "the server gone: the delays grow ($*)"
	else
		not_ok "the server gone: the delays grow (the first 4: $*)"
		diag_file "$T/bo.stderr"
	fi
	if grep -Eq "^ssecat: http://127.0.0.1:$srv_port/bo: .*reconnecting in [0-9]+ ms$" "$T/bo.stderr"
	then
		ok "-v: a failed attempt names the URL and the delay"
	else
		not_ok "-v: a failed attempt names the URL and the delay"
		diag_file "$T/bo.stderr"
	fi
else
	not_ok "second sse-server listening"
	not_ok "(back-off not measured)"
fi

# --max-reconnects with the server gone
"$PYTHON" -c 'print("{\"/mr\": [{\"body\": \"retry: 100\\ndata: a\\n\\n\", \"close\": false}]}")' \
    >"$T/mr.json"
if srv_start mr; then
	mr_url="http://127.0.0.1:$srv_port/mr"
	timeout 20 "$SSECAT" --max-reconnects 2 "$mr_url" >"$T/mr.got" \
	    2>"$T/mr.stderr" &
	mr_cat=$!
	track "$mr_cat"
	wait_for_file '^a$' "$T/mr.got" 10
	kill_wait "$srv_pid"
	start=$(now_ms)
	wait_exit "$mr_cat" 15
	elapsed=$(( $(now_ms) - start ))
	if [ "$status" = 3 ] && [ "$elapsed" -lt 10000 ] &&
	    grep -qF "ssecat: $mr_url: " "$T/mr.stderr"; then
		ok "--max-reconnects 2, the server gone: status 3, $elapsed ms later, the URL named"
		diag "$(tail -n 1 "$T/mr.stderr")"
	else
		not_ok "--max-reconnects 2, the server gone: status 3, the URL named"
		diag "status $status after $elapsed ms"
		diag_file "$T/mr.stderr"
	fi
else
	not_ok "third sse-server listening"
fi

# --connect-timeout 1, nothing listening
closed=$(free_port)
start=$(now_ms)
sse ct --connect-timeout 1 "http://127.0.0.1:$closed/x"
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && in_range "$elapsed" 500 6000 &&
    grep -qF "ssecat: http://127.0.0.1:$closed/x: " "$T/ct.stderr"; then
	ok "--connect-timeout 1, refused: status 3 after $elapsed ms, the URL named"
	diag "$(tail -n 1 "$T/ct.stderr")"
else
	not_ok "--connect-timeout 1, refused: status 3 after 0.5 to 6 s, the URL named"
	diag "status $status after $elapsed ms"
	diag_file "$T/ct.stderr"
fi

# the first connection is retried until --connect-timeout: a server that
# starts late is still reached
late=$(free_port)
printf '%s\n' '{"/late": [{"body": "data: late server\n\n"}]}' >"$T/late.json"
timeout 20 "$SSECAT" -v --connect-timeout 15 -C 1 "http://127.0.0.1:$late/late" \
    >"$T/late.got" 2>"$T/late.stderr" &
late_cat=$!
track "$late_cat"
if wait_for_file 'reconnecting in' "$T/late.stderr" 10 &&
    srv_start late --port "$late"; then
	wait_exit "$late_cat" 15
	is "$status:$(cat "$T/late.got")" "0:late server" \
	    "the first connection is retried: a server started later is reached"
else
	not_ok "the first connection is retried: a server started later is reached"
	diag_file "$T/late.stderr"
	diag_file "$T/late.err"
fi

# --- --idle-timeout -------------------------------------------------------------
sse idle --idle-timeout 1 -C 2 "$U/idle"
t1=$(req /idle 1 t_ms)
t2=$(req /idle 2 t_ms)
gap=$(( ${t2:-0} - ${t1:-0} ))
if [ "$status" = 0 ] && [ "$(tr '\n' , <"$T/idle.got")" = a,b, ] &&
    in_range "$gap" 900 6000; then
	ok "--idle-timeout 1, a silent stream: a new request $gap ms after the first"
else
	not_ok "--idle-timeout 1, a silent stream: a new request 0.9 to 6 s after the first"
	diag "status $status, output $(tr '\n' , <"$T/idle.got"), requests at '$t1' and '$t2'"
	diag_file "$T/idle.stderr"
fi
check "--idle-timeout: the silent connection was closed by ssecat" \
    grep -q '^gone /idle 1 ' "$T/srv.out"

sse alive --idle-timeout 1 -W 2.5 "$U/alive"
is "$status|$(cat "$T/alive.got")|$(reqs /alive)" "0|a|1" \
    "--idle-timeout 1: comments every 200 ms keep the stream (2.5 s, one request)"

# --- 204 and -v -------------------------------------------------------------------
sse s204 -v "$U/204"
if [ "$status" = 0 ] && [ "$(reqs /204)" = 1 ] &&
    grep -q '^ssecat: .*stopped by the server (HTTP 204)' "$T/s204.stderr"; then
	ok "-v: 204 'stopped by the server (HTTP 204)', status 0, no reconnection"
else
	not_ok "-v: 204 'stopped by the server (HTTP 204)', status 0, no reconnection"
	diag "status $status, $(reqs /204) requests"
	diag_file "$T/s204.stderr"
fi

# --- the default delay, measured in the background ------------------------------
wait_exit "$default_pid" 15
t_end=$(ended /default 1)
t_re=$(req /default 2 t_ms)
gap=$(( ${t_re:-0} - ${t_end:-0} ))
if [ "$status" = 0 ] && [ -n "$t_end" ] && in_range "$gap" 1500 8000; then
	ok "no retry: the reconnection came $gap ms after the end (default 3000; 1500 to 8000)"
else
	not_ok "no retry: the reconnection came 1500 to 8000 ms after the end"
	diag "status $status, ended at '$t_end', reconnected at '$t_re'"
	diag_file "$T/default.stderr"
fi
is "$(tr '\n' , <"$T/default.got")|$(req /default 2 h:last-event-id)" "a,b,|-" \
    "no id in the stream: no Last-Event-ID on the reconnection"

done_testing
