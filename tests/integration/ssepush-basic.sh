#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssepush-basic.sh: ssepush over real HTTP on 127.0.0.1, read with curl and
# a raw socket: the listening line, the /events headers, lines -> events in
# order with increasing ids (the same for three clients), CR, -0, -j (string
# and non-string data, retry, bad records), --raw, -e, --retry, replay
# (Last-Event-ID header and query, unknown, old, garbage and future ids,
# ?backlog, --history, --history-bytes), heartbeats, /healthz, /metrics, 404,
# 405, the viewer page and --no-ui, keep-alive, --exit-on-eof, ids across a
# restart, an address in use and usage errors.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 70

require "$SSEPUSH" ssepush
require "$PYTHON" python3
require "$(command -v curl)" curl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# lines N: "line 1" to "line N".
lines()
{
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) print "line " i }'
}

# data_of FILE: TYPE|DATA of each event (without the ids).
data_of()
{
	evs "$1" | cut -d '|' -f 2-
}

# ids_ok FILE: every event has a decimal id, strictly increasing.
ids_ok()
{
	evs "$1" | awk -F '|' '
	$1 !~ /^[0-9]+$/ { bad = 1 }
	NR > 1 && $1 + 0 <= last + 0 { bad = 1 }
	{ last = $1 }
	END { exit bad || NR == 0 }'
}

# wait_metric NAME VALUE: poll /metrics until NAME has VALUE (5 s).
wait_metric()
{
	_wm_n=100
	while [ "$(metric "$1")" != "$2" ] && [ "$_wm_n" -gt 0 ]; do
		sleep 0.05
		_wm_n=$((_wm_n - 1))
	done
}

# --- the listening line, headers, events in order -----------------------------
if sp_start s1 127.0.0.1:0; then
	ok "port 0: 'ssepush: listening on http://127.0.0.1:$sp_port/'"
else
	not_ok "port 0: 'ssepush: listening on http://127.0.0.1:PORT/' (a real port)"
	diag_file "$T/s1.err"
	done_testing
fi
port1=$sp_port
s1_pid=$sp_pid

# the response head as bytes, read by a raw socket client
"$PYTHON" - "$sp_port" >"$T/raw.hdr" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          b"Accept: text/event-stream\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.split(b"\r\n\r\n")[0].decode("latin-1") + "\r\n")
EOF
hdr()
{
	grep -i "^$1:" "$T/raw.hdr" | head -n 1 | sed 's/^[^:]*: *//' |
	    tr -d '\r'
}
is "$(head -n 1 "$T/raw.hdr" | tr -d '\r')" "HTTP/1.1 200 OK" \
    "GET /events: HTTP/1.1 200 OK"
is "$(hdr Content-Type)" "text/event-stream" \
    "GET /events: Content-Type: text/event-stream"
is "$(hdr Cache-Control)" "no-cache" "GET /events: Cache-Control: no-cache"
is "$(hdr X-Accel-Buffering)" "no" "GET /events: X-Accel-Buffering: no"
is "$(hdr Transfer-Encoding)" "chunked" \
    "GET /events: Transfer-Encoding: chunked"

# (the raw client has closed its connection)
if wait_count ': gone$' "$T/s1.err" 1; then
	ok "a client that closes its connection is logged as gone"
else
	not_ok "a client that closes its connection is logged as gone"
	diag_file "$T/s1.err"
fi

cl c1 "$sp_url/events"
c1_pid=$cl_pid
cl c2 "$sp_url/events"
c2_pid=$cl_pid
cl c3 "$sp_url/events"
c3_pid=$cl_pid
if connected s1 4; then
	ok "three clients connected (-v lines)"
else
	not_ok "three clients connected (-v lines)"
	diag_file "$T/s1.err"
fi

{
	echo "line 1"
	printf 'crlf\r\n'
	echo
	lines 50 | sed 1,3d
} | feed s1
wait_evs "$T/c1.body" 50
wait_evs "$T/c2.body" 50
wait_evs "$T/c3.body" 50
{
	echo "message|line 1"
	echo "message|crlf"
	echo "message|"
	lines 50 | sed 1,3d | sed 's/^/message|/'
} >"$T/c.want"
data_of "$T/c1.body" >"$T/c1.got"
same_file "50 lines -> 50 events in input order (CR removed, an empty line an empty event)" \
    "$T/c.want" "$T/c1.got"
if ids_ok "$T/c1.body"; then
	ok "every event has an integer id, strictly increasing"
else
	not_ok "every event has an integer id, strictly increasing"
	diag "$(evs "$T/c1.body" | cut -d '|' -f 1 | head -n 5)"
fi
evs "$T/c1.body" >"$T/c1.evs"
evs "$T/c2.body" >"$T/c2.evs"
evs "$T/c3.body" >"$T/c3.evs"
if [ -s "$T/c1.evs" ] && cmp -s "$T/c1.evs" "$T/c2.evs" &&
    cmp -s "$T/c1.evs" "$T/c3.evs"; then
	ok "the three clients got the same events with the same ids"
else
	not_ok "the three clients got the same events with the same ids"
	diag "$(wc -l "$T/c1.evs" "$T/c2.evs" "$T/c3.evs")"
fi
if [ -s "$T/c1.body" ] && ! tr -d '\n' <"$T/c1.body" | grep -q "$(printf '\r')"
then
	ok "no CR anywhere in the stream"
else
	not_ok "no CR anywhere in the stream"
	diag "$(od -c "$T/c1.body" | head -n 8)"
fi
last1=$(tail -n 1 "$T/c1.evs" | cut -d '|' -f 1)

# --- metrics, endpoints ---------------------------------------------------------
curl -s "$sp_url/metrics" >"$T/m1"
missing=
for m in ssepush_clients ssepush_events_in_total ssepush_events_sent_total \
    ssepush_bytes_sent_total ssepush_clients_dropped_total \
    ssepush_history_events ssepush_history_bytes; do
	grep -Eq "^$m [0-9]+$" "$T/m1" || missing="$missing $m"
done
if [ -z "$missing" ]; then
	ok "/metrics: the seven metrics, each with a number"
else
	not_ok "/metrics: the seven metrics, each with a number"
	diag "missing:$missing"
	diag_file "$T/m1" 30
fi
mval() { awk -v m="$1" '$1 == m { print $2 }' "$T/m1"; }
# the bytes of the events (the comment lines are not events)
body_bytes=$(grep -v '^:' "$T/c1.body" | wc -c | tr -d ' ')
if [ "$(mval ssepush_clients)" = 3 ] &&
    [ "$(mval ssepush_events_in_total)" = 50 ] &&
    [ "$(mval ssepush_events_sent_total)" = 150 ] &&
    [ "$(mval ssepush_bytes_sent_total)" -ge $((3 * body_bytes)) ] &&
    [ "$(mval ssepush_bytes_sent_total)" -le $((3 * body_bytes + 1000)) ] &&
    [ "$(mval ssepush_clients_dropped_total)" = 0 ] &&
    [ "$(mval ssepush_history_events)" = 50 ] &&
    [ "$(mval ssepush_history_bytes)" -gt 1000 ]; then
	ok "/metrics: 3 clients, 50 events in, 150 sent, 3 x $body_bytes bytes, 50 in history"
else
	not_ok "/metrics: 3 clients, 50 events in, 150 sent, 3 x $body_bytes bytes, 50 in history"
	diag_file "$T/m1" 30
fi

code=$(curl -s -o "$T/hz" -w '%{http_code}' "$sp_url/healthz")
if [ "$code" = 200 ] && [ "$(cat "$T/hz")" = ok ]; then
	ok "/healthz: 200 ok"
else
	not_ok "/healthz: 200 ok"
	diag "status $code, body: $(cat "$T/hz")"
fi
is "$(curl -s -o /dev/null -w '%{http_code}' "$sp_url/nothing-here")" 404 \
    "GET /nothing-here: 404"
code=$(curl -s -o /dev/null -D "$T/post.hdr" -w '%{http_code}' \
    -X POST -d x "$sp_url/events")
if [ "$code" = 405 ] && grep -Eiq '^Allow: .*GET' "$T/post.hdr"; then
	ok "POST /events: 405 with an Allow header naming GET"
else
	not_ok "POST /events: 405 with an Allow header naming GET"
	diag "status $code"
	diag_file "$T/post.hdr"
fi
code=$(curl -s -o "$T/ui.html" -D "$T/ui.hdr" -w '%{http_code}' "$sp_url/")
if [ "$code" = 200 ] && grep -Eiq '^Content-Type: text/html' "$T/ui.hdr" &&
    grep -qi '<html' "$T/ui.html"; then
	ok "GET /: 200, text/html, a page with <html"
else
	not_ok "GET /: 200, text/html, a page with <html"
	diag "status $code"
	diag_file "$T/ui.hdr"
fi

# keep-alive: curl reuses its connection for the second URL; ssepush logs
# both requests from the same client port
curl -s "$sp_url/healthz" "$sp_url/metrics" >"$T/ka" 2>&1
wait_count ' GET /metrics 200$' "$T/s1.err" 2
p_h=$(grep ' GET /healthz 200$' "$T/s1.err" | tail -n 1 | cut -d ' ' -f 2)
p_m=$(grep ' GET /metrics 200$' "$T/s1.err" | tail -n 1 | cut -d ' ' -f 2)
if grep -qx ok "$T/ka" && grep -q '^ssepush_clients ' "$T/ka" &&
    [ -n "$p_h" ] && [ "$p_h" = "$p_m" ]; then
	ok "keep-alive: /healthz then /metrics on one connection ($p_h), both answered"
else
	not_ok "keep-alive: /healthz then /metrics on one connection, both answered"
	diag "peers: '$p_h' '$p_m'"
	diag_file "$T/ka" 5
	diag_file "$T/s1.err" 30
fi

# two requests written at once (pipelined) on one raw connection
"$PYTHON" - "$sp_port" >"$T/pipe.out" 2>&1 <<'EOF'
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
buf = b""
pat = re.compile(rb"HTTP/1\.1 [0-9]{3} [^\r]*\r\n")
while len(pat.findall(buf)) < 2:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(" ".join(l.decode().strip() for l in pat.findall(buf)))
EOF
is "$(cat "$T/pipe.out")" "HTTP/1.1 200 OK HTTP/1.1 404 Not Found" \
    "raw socket: two pipelined requests answered in order on one connection"

# --- an address in use, then a restart on the same port -------------------------
run timeout 10 "$SSEPUSH" -l "127.0.0.1:$port1" --exit-on-eof </dev/null
if [ "$status" = 1 ] && grep -q "127\.0\.0\.1:$port1" "$T/err" &&
    ! grep -q 'listening on' "$T/err"; then
	ok "address in use: status 1, a message naming 127.0.0.1:$port1"
	diag "$(head -n 1 "$T/err")"
else
	not_ok "address in use: status 1, a message naming 127.0.0.1:$port1"
	diag "status $status"
	diag_file "$T/err"
fi

kill_wait "$s1_pid"
wait_exit "$c1_pid" 5
wait_exit "$c2_pid" 5
wait_exit "$c3_pid" 5

if sp_start s2 "127.0.0.1:$port1" --exit-on-eof; then
	ok "a new ssepush on the same port $port1"
else
	not_ok "a new ssepush on the same port $port1"
	diag_file "$T/s2.err"
fi
s2_pid=$sp_pid
cl e1 "$sp_url/events"
e1_pid=$cl_pid
timeout 20 "$SSECAT" --no-reconnect "$sp_url/events" >"$T/e2.got" \
    2>"$T/e2.err" &
e2_pid=$!
track "$e2_pid"
connected s2 2
lines 1000 | feed s2
sp_eof s2
start=$(now_ms)
wait_exit "$s2_pid" 15
s2_status=$status
elapsed=$(( $(now_ms) - start ))
wait_exit "$e1_pid" 5
e1_status=$status
wait_exit "$e2_pid" 5
e2_status=$status
data_of "$T/e1.body" >"$T/e1.got"
lines 1000 | sed 's/^/message|/' >"$T/e1.want"
if [ "$s2_status" = 0 ] && cmp -s "$T/e1.want" "$T/e1.got"; then
	ok "--exit-on-eof: status 0 after the client got all 1000 events (${elapsed} ms)"
else
	not_ok "--exit-on-eof: status 0 after the client got all 1000 events"
	diag "status $s2_status after $elapsed ms, $(wc -l <"$T/e1.got") events"
	diag_file "$T/s2.err"
fi
if [ "$e1_status" = 0 ]; then
	ok "--exit-on-eof: the client sees the end of the stream (curl status 0)"
else
	not_ok "--exit-on-eof: the client sees the end of the stream (curl status 0)"
	diag "curl status $e1_status"
	diag_file "$T/e1.cerr"
fi
if [ "$e2_status" = 0 ] && lines 1000 | cmp -s - "$T/e2.got"; then
	ok "--exit-on-eof: ssecat --no-reconnect got the 1000 events and a clean end (status 0)"
else
	not_ok "--exit-on-eof: ssecat --no-reconnect got the 1000 events and a clean end (status 0)"
	diag "ssecat status $e2_status, $(wc -l <"$T/e2.got") events"
	diag_file "$T/e2.err"
fi
first2=$(evs "$T/e1.body" | head -n 1 | cut -d '|' -f 1)
if [ -n "$first2" ] && [ -n "$last1" ] && [ "$first2" -gt "$last1" ]; then
	ok "ids after a restart are larger ($last1 < $first2)"
else
	not_ok "ids after a restart are larger"
	diag "last before: '$last1', first after: '$first2'"
fi

# --- replay -----------------------------------------------------------------------
sp_start rp 127.0.0.1:0
printf 'e%s\n' 1 2 3 4 5 6 7 8 9 10 | feed rp
wait_metric ssepush_events_in_total 10
cl all "$sp_url/events?backlog=100"
all_pid=$cl_pid
wait_evs "$T/all.body" 10
kill_wait "$all_pid"
evs "$T/all.body" >"$T/all.evs"
printf 'message|e%s\n' 1 2 3 4 5 6 7 8 9 10 >"$T/all.want"
cut -d '|' -f 2- "$T/all.evs" >"$T/all.got"
same_file "?backlog=100 with 10 events in history: all ten" \
    "$T/all.want" "$T/all.got"
id5=$(sed -n 5p "$T/all.evs" | cut -d '|' -f 1)
id10=$(sed -n 10p "$T/all.evs" | cut -d '|' -f 1)
id1=$(sed -n 1p "$T/all.evs" | cut -d '|' -f 1)
: "${id5:=0}" "${id10:=0}" "${id1:=1}"

cl h5 "$sp_url/events" -H "Last-Event-ID: $id5"
cl q5 "$sp_url/events?lastEventId=$id5"
cl garb "$sp_url/events" -H "Last-Event-ID: garbage"
cl fut "$sp_url/events" -H "Last-Event-ID: $((id10 + 1000000))"
cl old "$sp_url/events" -H "Last-Event-ID: $((id1 - 1))"
cl one "$sp_url/events" -H "Last-Event-ID: 1"
cl b3 "$sp_url/events?backlog=3"
cl live "$sp_url/events"
connected rp 9
echo live | feed rp
for c in h5 q5 garb fut old one b3 live; do
	wait_for_file '^data: live$' "$T/$c.body"
done
ref=$T/all.evs
# replay_is CLIENT DESC N...: CLIENT got the events of lines N... of $ref
# (ID|TYPE|DATA: with their original ids), then the live one, newer than
# $id10.
replay_is()
{
	_ri_c=$1
	_ri_d=$2
	shift 2
	for _ri_n in "$@"; do
		sed -n "${_ri_n}p" "$ref"
	done >"$T/$_ri_c.want"
	evs "$T/$_ri_c.body" >"$T/$_ri_c.evs"
	# the live event: its id is newer than e10's
	_ri_lid=$(grep '|message|live$' "$T/$_ri_c.evs" | cut -d '|' -f 1)
	grep -v '|message|live$' "$T/$_ri_c.evs" >"$T/$_ri_c.got"
	if cmp -s "$T/$_ri_c.want" "$T/$_ri_c.got" &&
	    [ "$(tail -n 1 "$T/$_ri_c.evs" | cut -d '|' -f 2-)" = message\|live ] &&
	    [ "${_ri_lid:-0}" -gt "$id10" ]; then
		ok "$_ri_d"
	else
		not_ok "$_ri_d"
		diag "expected (then live):" "$(cat "$T/$_ri_c.want")" \
		    "got:" "$(cat "$T/$_ri_c.evs")"
	fi
}
replay_is h5 "Last-Event-ID header: exactly the events after it, then live" \
    6 7 8 9 10
replay_is q5 "?lastEventId=: exactly the events after it, then live" \
    6 7 8 9 10
replay_is garb "Last-Event-ID: garbage: the whole history" \
    1 2 3 4 5 6 7 8 9 10
replay_is fut "Last-Event-ID newer than the newest: the whole history" \
    1 2 3 4 5 6 7 8 9 10
replay_is old "Last-Event-ID just before the oldest: the whole history" \
    1 2 3 4 5 6 7 8 9 10
replay_is one "Last-Event-ID: 1 (unknown, very old): the whole history" \
    1 2 3 4 5 6 7 8 9 10
replay_is b3 "?backlog=3: the last three, then live" 8 9 10
replay_is live "no Last-Event-ID, no backlog: live events only"

# --history 5: replay is bounded; an id that fell out of it gives all of it
sp_start h 127.0.0.1:0 --history 5
printf 'e%s\n' 1 2 3 4 5 6 7 8 9 10 | feed h
wait_metric ssepush_events_in_total 10
is "$(metric ssepush_history_events)" 5 "--history 5: /metrics history 5 after 10 events"
cl hall "$sp_url/events?backlog=100"
hall_pid=$cl_pid
wait_evs "$T/hall.body" 5
connected h 1
echo mark | feed h
wait_for_file '^data: mark$' "$T/hall.body"
kill_wait "$hall_pid"
printf 'message|e%s\n' 6 7 8 9 10 >"$T/hall.want"
echo "message|mark" >>"$T/hall.want"
data_of "$T/hall.body" >"$T/hall.got"
same_file "--history 5: ?backlog=100 replays only the last 5" \
    "$T/hall.want" "$T/hall.got"
# the history is e7..e10 and mark now ($ref lines 2-6; id10 is mark's id,
# the newest before the live event)
evs "$T/hall.body" >"$T/hist.evs"
ref=$T/hist.evs
id6=$(sed -n 1p "$ref" | cut -d '|' -f 1)
id7=$(sed -n 2p "$ref" | cut -d '|' -f 1)
id10=$(sed -n 6p "$ref" | cut -d '|' -f 1)
: "${id6:=1}" "${id7:=0}" "${id10:=0}"
cl hg "$sp_url/events" -H "Last-Event-ID: garbage"
cl ho "$sp_url/events" -H "Last-Event-ID: $id6"
cl h7 "$sp_url/events" -H "Last-Event-ID: $id7"
connected h 4
echo live | feed h
for c in hg ho h7; do
	wait_for_file '^data: live$' "$T/$c.body"
done
replay_is hg "--history 5, Last-Event-ID: garbage: the 5 kept" 2 3 4 5 6
replay_is ho "--history 5, the id of e6 (no longer kept): the whole history" \
    2 3 4 5 6
replay_is h7 "--history 5, the id of e7 (the oldest kept): the events after it" \
    3 4 5 6

# --history-bytes: ten events of 1000 bytes, 4000 bytes kept at most
sp_start hb 127.0.0.1:0 --history-bytes 4000
for i in 1 2 3 4 5 6 7 8 9 10; do
	printf 'k%02d%0997d\n' "$i" 0
done | feed hb
wait_metric ssepush_events_in_total 10
hb_bytes=$(metric ssepush_history_bytes)
cl hball "$sp_url/events?backlog=100"
connected hb 1
echo mark | feed hb
wait_for_file '^data: mark$' "$T/hball.body"
data_of "$T/hball.body" | grep -v '^message|mark$' | cut -c 9-11 \
    >"$T/hball.got"
k=$(wc -l <"$T/hball.got" | tr -d ' ')
for i in 10 09 08 07 06 05 04 03 02 01; do
	echo "k$i"
done | head -n "$k" | sort >"$T/hball.want"
if [ "$k" -ge 1 ] && [ "$k" -le 4 ] && cmp -s "$T/hball.want" "$T/hball.got" &&
    [ "${hb_bytes:-99999}" -le 4000 ]; then
	ok "--history-bytes 4000: replay holds only the last $k events of 1000 bytes ($hb_bytes bytes)"
else
	not_ok "--history-bytes 4000: replay holds at most 4 events of 1000 bytes, the newest"
	diag "history bytes $hb_bytes, got:" "$(cat "$T/hball.got")"
fi

# --- --retry, -e, heartbeats ------------------------------------------------------
sp_start rt 127.0.0.1:0 --retry 500 -e tick --heartbeat 1
cl rt "$sp_url/events"
connected rt 1
wait_for_file '^retry' "$T/rt.body"
is "$(grep -v '^:' "$T/rt.body" | head -n 1)" "retry: 500" \
    "--retry 500: the first line of the stream (after comments)"
echo hello | feed rt
wait_evs "$T/rt.body" 1
is "$(data_of "$T/rt.body")" "tick|hello" "-e tick: the event type of every line"
# after_hello: the stream after the event
after_hello()
{
	sed '1,/^data: hello$/d' "$T/rt.body"
}
start=$(now_ms)
n=0
while ! after_hello | grep -qx ':' && [ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
if after_hello | grep -qx ':'; then
	ok "--heartbeat 1: a ':' comment on the idle stream ($(( $(now_ms) - start )) ms)"
else
	not_ok "--heartbeat 1: a ':' comment on the idle stream within 5 s"
	diag "$(od -c "$T/rt.body" | tail -n 5)"
fi

# --- -0 ------------------------------------------------------------------------
sp_start z 127.0.0.1:0 -0
cl z "$sp_url/events"
connected z 1
printf 'one\ntwo\000a\r\nb\rc\000last\000' | feed z
wait_evs "$T/z.body" 3
data_of "$T/z.body" >"$T/z.got"
printf '%s\n' 'message|one\ntwo' 'message|a\nb\nc' 'message|last' >"$T/z.want"
same_file "-0: NUL-terminated records; LF, CRLF and CR inside become data: lines" \
    "$T/z.want" "$T/z.got"
if grep -c '^data: ' "$T/z.body" | grep -qx 6 &&
    ! grep -q "$(printf '\r')" "$T/z.body"; then
	ok "-0: six data: lines in all, no CR"
else
	not_ok "-0: six data: lines in all, no CR"
	diag "$(od -c "$T/z.body" | head -n 12)"
fi

# --- -j --------------------------------------------------------------------------
sp_start j 127.0.0.1:0 -j --exit-on-eof
j_pid=$sp_pid
cl j "$sp_url/events"
jc_pid=$cl_pid
connected j 1
cat <<'EOF' | feed j
{"data":"plain"}
{"data": {"a": [1, 2]}, "event": "x"}
{"data":12345678901234567890}
this is not JSON
{"data":"after bad","retry":2500}
{"event":"nodata"}
{"data":"trailing"} text
{"data":"two\nlines","event":"t2"}
{"topic":"home/t","payload":"21.5","qos":0,"retain":false,"ts":"2026-11-22T15:00:00.000Z"}
{"topic":"home/t"}
{"data":[true,null,"s"]}
{"data":"end"}
EOF
sp_eof j
wait_exit "$j_pid" 15
j_status=$status
wait_exit "$jc_pid" 5
data_of "$T/j.body" >"$T/j.got"
cat >"$T/j.want" <<'EOF'
message|plain
x|{"a": [1, 2]}
message|12345678901234567890
message|after bad
t2|two\nlines
message|{"topic":"home/t","payload":"21.5","qos":0,"retain":false,"ts":"2026-11-22T15:00:00.000Z"}
message|[true,null,"s"]
message|end
EOF
same_file "-j: good records in order, with their event types" \
    "$T/j.want" "$T/j.got"
is "$(sed -n 2p "$T/j.got")" 'x|{"a": [1, 2]}' \
    "-j: an object as data is its JSON text from the input, unchanged"
is "$(sed -n 3p "$T/j.got")" 'message|12345678901234567890' \
    "-j: a big integer as data is kept exactly"
is "$(sed -n 6p "$T/j.got")" 'message|{"topic":"home/t","payload":"21.5","qos":0,"retain":false,"ts":"2026-11-22T15:00:00.000Z"}' \
    "-j: an mqsub -j record (no data; topic and payload) is sent whole, as mq2sse sends it"
if awk 'BEGIN { RS = "" }
    /(^|\n)retry: 2500(\n|$)/ && /(^|\n)data: after bad(\n|$)/ { f = 1 }
    END { exit !f }' "$T/j.body"
then
	ok "-j: \"retry\":2500 gives a retry: 2500 line in that event"
else
	not_ok "-j: \"retry\":2500 gives a retry: 2500 line in that event"
	diag_file "$T/j.body" 30
fi
if grep -q '^ssepush: <stdin>:4: ' "$T/j.err" &&
    grep -q '^ssepush: <stdin>:6: ' "$T/j.err" &&
    grep -q '^ssepush: <stdin>:7: ' "$T/j.err" &&
    grep -q '^ssepush: <stdin>:10: no "data"' "$T/j.err" &&
    [ "$(grep -c '<stdin>:' "$T/j.err")" = 4 ]; then
	ok "-j: bad records (not JSON, no data, trailing text, a topic without payload) reported as <stdin>:4, 6, 7, 10"
else
	not_ok "-j: bad records (not JSON, no data, trailing text, a topic without payload) reported as <stdin>:4, 6, 7, 10"
	diag_file "$T/j.err"
fi
is "$j_status" 1 "-j --exit-on-eof with bad records: status 1 at the end"

# --- --raw ------------------------------------------------------------------------
sp_start r 127.0.0.1:0 --raw
cl r "$sp_url/events"
connected r 1
cat <<'EOF' | feed r
event: tick
data: one
id: 77

: a comment
data: two
data: lines
id: 5

retry: 9999
data: three

id: 3
event: end
data:

EOF
wait_evs "$T/r.body" 4
data_of "$T/r.body" >"$T/r.got"
printf '%s\n' 'tick|one' 'message|two\nlines' 'message|three' 'end|' \
    >"$T/r.want"
same_file "--raw: event types and data kept (ssecat --raw text)" \
    "$T/r.want" "$T/r.got"
if ids_ok "$T/r.body" &&
    ! evs "$T/r.body" | cut -d '|' -f 1 | grep -Eqx '77|5|3' &&
    ! grep -q '^retry' "$T/r.body"; then
	ok "--raw: ids are ssepush's own, input retry: not passed on"
else
	not_ok "--raw: ids are ssepush's own, input retry: not passed on"
	diag_file "$T/r.body" 30
fi

# --- --no-ui ------------------------------------------------------------------------
sp_start nu 127.0.0.1:0 --no-ui
is "$(curl -s -o /dev/null -w '%{http_code}' "$sp_url/")" 404 "--no-ui: GET / is 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$sp_url/healthz")" 200 \
    "--no-ui: /healthz still 200"

# --- coalescing: an event soon after a round waits for the next one -------------
# MQSSE_COALESCE_US=1000000: "second", fed just after "first" went out,
# goes out 1 s after that round; with the default (2 ms) at once.
for co in co cd; do
	if [ "$co" = co ]; then
		MQSSE_COALESCE_US=1000000
		export MQSSE_COALESCE_US
	fi
	sp_start "$co" 127.0.0.1:0
	unset MQSSE_COALESCE_US
	cl "$co" "$sp_url/events"
	connected "$co" 1
	printf 'first\n' | feed "$co"
	wait_for_file '^data: first$' "$T/$co.body" 10
	t1=$(now_ms)
	printf 'second\n' | feed "$co"
	wait_for_file '^data: second$' "$T/$co.body" 10
	t2=$(now_ms)
	if [ "$co" = co ]; then
		if [ $((t2 - t1)) -ge 800 ] && [ $((t2 - t1)) -lt 5000 ]; then
			ok "MQSSE_COALESCE_US=1000000: an event just after a round goes out with the next, 1 s later ($((t2 - t1)) ms)"
		else
			not_ok "MQSSE_COALESCE_US=1000000: an event just after a round goes out with the next, 1 s later ($((t2 - t1)) ms)"
			diag_file "$T/$co.body"
		fi
	elif [ $((t2 - t1)) -lt 500 ]; then
		ok "default coalescing (2 ms): the same event arrives at once ($((t2 - t1)) ms)"
	else
		not_ok "default coalescing (2 ms): the same event arrives at once ($((t2 - t1)) ms)"
		diag_file "$T/$co.body"
	fi
	sp_eof "$co"
done
MQSSE_COALESCE_US=abc timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof \
    </dev/null >/dev/null 2>"$T/co-bad.err"
co_status=$?
if [ "$co_status" = 1 ] &&
    grep -q "^ssepush: MQSSE_COALESCE_US: not a number: 'abc'$" "$T/co-bad.err"; then
	ok "MQSSE_COALESCE_US=abc: status 1, 'ssepush: MQSSE_COALESCE_US: not a number: 'abc''"
else
	not_ok "MQSSE_COALESCE_US=abc: status 1, 'ssepush: MQSSE_COALESCE_US: not a number: 'abc''"
	diag "status $co_status"
	diag_file "$T/co-bad.err"
fi

# --- usage errors -----------------------------------------------------------------
: >"$T/empty.pem"
check_usage_error ssepush "" "-j with --raw: usage error, no listening line" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -j --raw </dev/null
check_usage_error ssepush "" "-e with -j: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -e x -j </dev/null
check_usage_error ssepush "" "-e with --raw: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -e x --raw </dev/null
check_usage_error ssepush "" "--tls-cert without --tls-key: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof \
    --tls-cert "$T/empty.pem" </dev/null
check_usage_error ssepush "" "--tls-key without --tls-cert: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof \
    --tls-key "$T/empty.pem" </dev/null
check_usage_error ssepush "" "--listen nonsense: usage error" \
    timeout 10 "$SSEPUSH" -l nonsense --exit-on-eof </dev/null
check_usage_error ssepush "" "--listen 127.0.0.1:99999: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:99999 --exit-on-eof </dev/null
check_usage_error ssepush "" "--listen 127.0.0.1 (no port): usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1 --exit-on-eof </dev/null
check_usage_error ssepush "" "an argument without --: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof extra </dev/null
check_usage_error ssepush "" "-e with a line break: usage error" \
    timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -e "$(printf 'a\nb')" \
    </dev/null

done_testing
