#!/bin/sh
# shellcheck disable=SC1091,SC2034,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments; the INST_url variables are read
# through eval)
# mq2sse-basic.sh: mq2sse between a real mosquitto and curl clients on
# 127.0.0.1: the data of each event is the `mqsub -j` record of the same
# message; --data payload (text as is, binary as base64 in a "binary"
# event); --event-type topic; per-client ?topic= filters (a literal +, %2B,
# %23, several), 400 for an invalid filter, 403 outside --allow, what a
# client without topic= gets; the retained snapshot (filters, ids, order,
# removal by an empty retained message, --no-retained, --max-retained);
# replay with Last-Event-ID through the client's filters; /healthz 503
# until the broker is up; SIGTERM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 73

require "$MQ2SSE" mq2sse
require "$MOSQUITTO" mosquitto
require "$PYTHON" python3
require "$(command -v curl)" curl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# m2_up NAME FILTERS [ARG...]: m2_start NAME -t F... ARG... then m2_ready,
# with FILTERS a space-separated list; reports one test.
m2_up()
{
	_mu_name=$1
	_mu_filters=$2
	shift 2
	_mu_t=
	for _mu_f in $_mu_filters; do
		_mu_t="$_mu_t -t $_mu_f"
	done
	# shellcheck disable=SC2086
	if m2_start "$_mu_name" $_mu_t "$@" &&
	    m2_ready "$_mu_name" 1 $_mu_filters; then
		ok "mq2sse $_mu_name ($_mu_t $*) listening and subscribed"
	else
		not_ok "mq2sse $_mu_name ($_mu_t $*) listening and subscribed"
		diag_file "$T/$_mu_name.err"
		return 1
	fi
}

# last_id FILE: the id of the last event of FILE.
last_id()
{
	evs "$1" | tail -n 1 | cut -d '|' -f 1
}

# wait_metric INST NAME VALUE: poll /metrics until NAME has VALUE (10 s).
wait_metric()
{
	_wm_n=200
	while [ "$(m2_metric "$1" "$2")" != "$3" ] && [ "$_wm_n" -gt 0 ]; do
		sleep 0.05
		_wm_n=$((_wm_n - 1))
	done
	[ "$(m2_metric "$1" "$2")" = "$3" ]
}

# --- the broker, and mq2sse "a" -----------------------------------------------
if broker_start; then
	ok "broker started on port $BROKER_PORT"
else
	not_ok "broker started"
	done_testing
fi
main_broker=$BROKER_DIR

# a retained message that is on the broker before mq2sse a starts: the
# broker sends it when a subscribes, and it goes into a's cache
pub -q 1 -r -t r/0 -m zero >/dev/null 2>&1
m2_up a 'j/# home/# r/#'
a_pid=$m2_pid
a_url=$m2_url
if wait_metric a mq2sse_retained_topics 1; then
	ok "the retained r/0, published before mq2sse started, is in its cache"
else
	not_ok "the retained r/0, published before mq2sse started, is in its cache"
	curl -s "$a_url/metrics" | grep '^mq2sse_' | sed 's/^/# /'
fi
# "all": a client without topic=, connected all along (it first gets the
# retained r/0); its last event id is the newest id of mq2sse a
m2_cl a all ''
is "$(tps "$T/all.body")" "r/0=zero R" \
    "a new client first gets the retained r/0 (snapshot)"

# --- data: the mqsub -j record ------------------------------------------------
m2_cl a jc 'topic=j/%23'
sub_start jsub 'j/#' -j -q 1 --retain-as-published -C 7
printf 'a\000b\377' >"$T/bin"
printf 'line 1\nline 2' >"$T/ml"
pub -q 1 -t j/text -m 'hello "world" é	tab \ back' >/dev/null 2>&1
pub -q 2 -t j/bin -f "$T/bin" >/dev/null 2>&1
pub -q 1 -t j/props -m p --content-type text/plain \
    --user-property k=v --user-property k2=v2 --response-topic resp/x \
    --correlation-data abc >/dev/null 2>&1
pub -q 1 -t j/ret -r -m kept >/dev/null 2>&1
pub -q 0 -t j/empty -n >/dev/null 2>&1
pub -q 1 -t j/ml -s <"$T/ml" >/dev/null 2>&1
pub -q 1 -t j/sub/deep -m 42 >/dev/null 2>&1
sub_wait 10
wait_evs "$T/jc.body" 7
tsnorm()
{
	sed 's/"ts":"[^"]*"/"ts":"-"/'
}
tsnorm <"$T/jsub.out" >"$T/want"
evs "$T/jc.body" | cut -d '|' -f 3- | tsnorm >"$T/got"
if [ "$(wc -l <"$T/want")" = 7 ]; then
	same_file "each event's data is the mqsub -j record of the message (all but ts)" \
	    "$T/want" "$T/got"
else
	not_ok "each event's data is the mqsub -j record of the message (all but ts)"
	diag "mqsub -j printed $(wc -l <"$T/want") records, not 7"
	diag_file "$T/jsub.err"
fi
if grep -q '"payload_b64":"YQBi/w=="' "$T/got" &&
    grep -q '"topic":"j/props".*"properties":' "$T/got" &&
    grep -q '"topic":"j/ret".*"retain":true' "$T/got" &&
    grep -q '"topic":"j/empty","payload":"","qos":0' "$T/got" &&
    grep -q '"topic":"j/ml","payload":"line 1\\nline 2"' "$T/got"; then
	ok "... binary as payload_b64, properties, retain, empty, newline"
else
	not_ok "... binary as payload_b64, properties, retain, empty, newline"
	diag_file "$T/got"
fi
if evs "$T/jc.body" | cut -d '|' -f 3- | "$PYTHON" -c 'import json, re, sys
n = 0
for line in sys.stdin:
    ts = json.loads(line)["ts"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ts), ts
    n += 1
assert n == 7' 2>"$T/py.err"; then
	ok "... and ts is ISO 8601 UTC with milliseconds"
else
	not_ok "... and ts is ISO 8601 UTC with milliseconds"
	diag_file "$T/py.err"
fi
if [ "$(evs "$T/jc.body" | cut -d '|' -f 2 | sort -u)" = message ] &&
    ! grep -q '^event:' "$T/jc.body"; then
	ok "the events are of type message (no event: line)"
else
	not_ok "the events are of type message (no event: line)"
	diag_file "$T/jc.body"
fi

# --- per-client filters --------------------------------------------------------
m2_cl a fplus 'topic=home/+/temp'
m2_cl a fenc 'topic=home/%2B/temp'
m2_cl a fhash 'topic=home/kitchen/%23'
m2_cl a ftwo 'topic=home/hall/light&topic=home/%2B/temp'
m2_cl a fover 'topic=home/kitchen/%23&topic=home/%2B/temp'
for tp in home/kitchen/temp=1 home/hall/light=on home/hall/temp=2 \
    home/kitchen/fridge/temp=3 home/kitchen/light=x home/kitchen/temp=END; do
	pub -q 1 -t "${tp%%=*}" -m "${tp#*=}" >/dev/null 2>&1
done
for c in all fplus fenc fhash ftwo fover; do
	wait_tp "$T/$c.body" home/kitchen/temp=END
done
want home/kitchen/temp=1 home/hall/temp=2 home/kitchen/temp=END
tps "$T/fplus.body" >"$T/got"
same_file "?topic=home/+/temp (a literal +): only the home/+/temp topics" \
    "$T/want" "$T/got"
tps "$T/fenc.body" >"$T/got"
same_file "?topic=home/%2B/temp: the same" "$T/want" "$T/got"
evs "$T/fplus.body" >"$T/want"
evs "$T/fenc.body" >"$T/got"
same_file "two clients with the same filter get the same events (same ids)" \
    "$T/want" "$T/got"
want home/kitchen/temp=1 home/kitchen/fridge/temp=3 home/kitchen/light=x \
    home/kitchen/temp=END
tps "$T/fhash.body" >"$T/got"
same_file "?topic=home/kitchen/%23: only home/kitchen/#" "$T/want" "$T/got"
want home/kitchen/temp=1 home/hall/light=on home/hall/temp=2 \
    home/kitchen/temp=END
tps "$T/ftwo.body" >"$T/got"
same_file "?topic=home/hall/light&topic=home/%2B/temp: either filter" \
    "$T/want" "$T/got"
want home/kitchen/temp=1 home/hall/temp=2 home/kitchen/fridge/temp=3 \
    home/kitchen/light=x home/kitchen/temp=END
tps "$T/fover.body" >"$T/got"
same_file "?topic=home/kitchen/%23&topic=home/%2B/temp (overlapping): each message once" \
    "$T/want" "$T/got"

is "$(m2_code a '/events?topic=a/%23/b')" 400 "?topic=a/%23/b (invalid filter): 400"
is "$(m2_code a '/events?topic=home/ki%2Bchen')" 400 \
    "?topic=home/ki%2Bchen (+ inside a level): 400"
is "$(m2_code a '/events?topic=home/%2B&topic=x/%23/y')" 400 \
    "one invalid filter among valid ones: 400"
is "$(m2_code a '/events?topic=')" 400 "?topic= (empty filter): 400"
is "$(m2_code a '/events?topic=home/%00x' --max-time 2)" 400 \
    "?topic=home/%00x (U+0000 in the filter): 400"
is "$(m2_code a '/events?topic=other/%23')" 403 \
    "?topic=other/%23, outside the -t filters (the default --allow): 403"

# --- the retained snapshot ----------------------------------------------------
for tp in r/1=one r/2=two r/3/x=three; do
	pub -q 1 -r -t "${tp%%=*}" -m "${tp#*=}" >/dev/null 2>&1
done
pub -q 1 -t r/4 -m live >/dev/null 2>&1
wait_tp "$T/all.body" r/4=live
newest=$(last_id "$T/all.body")
m2_cl a s1 'topic=r/%2B'
pub -q 1 -r -t r/1 -m one-b >/dev/null 2>&1
wait_tp "$T/s1.body" 'r/1=one-b'
wait_tp "$T/all.body" 'r/1=one-b'
want "$newest|message|r/0=zero R" "$newest|message|r/1=one R" \
    "$newest|message|r/2=two R"
recs "$T/s1.body" | sed 3q >"$T/got"
same_file "?topic=r/%2B: first the retained r/0, r/1, r/2 (not r/3/x), oldest first, each with the newest id ($newest)" \
    "$T/want" "$T/got"
recs "$T/s1.body" | sed 1,3d >"$T/got"
if [ "$(cut -d '|' -f 3 "$T/got")" = "r/1=one-b R" ] &&
    [ "$(cut -d '|' -f 1 "$T/got")" -gt "$newest" ]; then
	ok "then the live r/1 update, with a larger id"
else
	not_ok "then the live r/1 update, with a larger id"
	diag_file "$T/got"
fi
evs "$T/all.body" | grep '"topic":"r/1","payload":"one"' | cut -d '|' -f 3 \
    >"$T/want"
evs "$T/s1.body" | grep '"topic":"r/1","payload":"one"' | cut -d '|' -f 3 \
    >"$T/got"
same_file "a snapshot event's data is that of the message when it arrived" \
    "$T/want" "$T/got"

newest=$(last_id "$T/all.body")
m2_cl a s2 'topic=r/%2B'
pub -q 1 -r -t r/2 -n >/dev/null 2>&1
wait_tp "$T/s2.body" 'r/2='
wait_tp "$T/all.body" 'r/2='
want "$newest|message|r/0=zero R" "$newest|message|r/2=two R" \
    "$newest|message|r/1=one-b R" "r/2= R"
recs "$T/s2.body" | sed 's/^[0-9]*|message|\(r\/2= R\)$/\1/' >"$T/got"
same_file "after an update of r/1 it comes last in the snapshot (least recently updated first)" \
    "$T/want" "$T/got"

newest=$(last_id "$T/all.body")
m2_cl a s3 'topic=r/%23'
pub -q 1 -t r/5 -m after >/dev/null 2>&1
wait_tp "$T/s3.body" 'r/5=after'
want "$newest|message|r/0=zero R" "$newest|message|r/3/x=three R" \
    "$newest|message|r/1=one-b R" "r/5=after"
recs "$T/s3.body" | sed 's/^[0-9]*|message|\(r\/5=after\)$/\1/' >"$T/got"
same_file "an empty retained message removed r/2 from the snapshot (?topic=r/%23)" \
    "$T/want" "$T/got"

# --- replay through the client's filters --------------------------------------
lid=$(last_id "$T/fhash.body")
kill_wait "$(cat "$T/fhash.pid")"
for tp in home/kitchen/temp=R1 home/hall/light=R2 home/kitchen/light=R3; do
	pub -q 1 -t "${tp%%=*}" -m "${tp#*=}" >/dev/null 2>&1
done
wait_tp "$T/all.body" home/kitchen/light=R3
m2_cl a re1 'topic=home/kitchen/%23' -H "Last-Event-ID: $lid"
wait_evs "$T/re1.body" 2
pub -q 1 -t home/kitchen/temp -m R4 >/dev/null 2>&1
wait_tp "$T/re1.body" home/kitchen/temp=R4
want home/kitchen/temp=R1 home/kitchen/light=R3 home/kitchen/temp=R4
tps "$T/re1.body" >"$T/got"
same_file "Last-Event-ID with ?topic=home/kitchen/%23: only the missed home/kitchen/# events, then live" \
    "$T/want" "$T/got"
if grep -q ': connected, 2 events of replay$' "$T/a.err"; then
	ok "... logged as 2 events of replay"
else
	not_ok "... logged as 2 events of replay"
	diag_file "$T/a.err" 40
fi
m2_cl a re2 "topic=home/hall/light&lastEventId=$lid"
pub -q 1 -t home/hall/light -m R5 >/dev/null 2>&1
wait_tp "$T/re2.body" home/hall/light=R5
want home/hall/light=R2 home/hall/light=R5
tps "$T/re2.body" >"$T/got"
same_file "?lastEventId= with ?topic=home/hall/light: only R2 replayed" \
    "$T/want" "$T/got"
# a reconnection gets no retained snapshot (nothing to replay either: the
# id is the newest)
m2_cl a re3 "topic=r/%23&lastEventId=$(last_id "$T/all.body")"
pub -q 1 -t r/6 -m after >/dev/null 2>&1
wait_tp "$T/re3.body" r/6=after
want r/6=after
tps "$T/re3.body" >"$T/got"
same_file "Last-Event-ID: no retained snapshot (?topic=r/%23 gets only r/6)" \
    "$T/want" "$T/got"
m2_cl a bl 'topic=home/hall/light&backlog=100'
pub -q 1 -t home/hall/light -m R6 >/dev/null 2>&1
wait_tp "$T/bl.body" home/hall/light=R6
want home/hall/light=on home/hall/light=R2 home/hall/light=R5 \
    home/hall/light=R6
tps "$T/bl.body" >"$T/got"
same_file "?backlog=100 with ?topic=home/hall/light: only its topic from the history" \
    "$T/want" "$T/got"
# the retained r/ messages are in the history too (they arrived as events):
# with ?backlog, a new client gets the snapshot and the backlog, and must
# still get each message once (SPEC.md section 6), ids never going back
m2_cl a bls 'topic=r/%23&backlog=100'
pub -q 1 -t r/8 -m end >/dev/null 2>&1
wait_tp "$T/bls.body" r/8=end
if evs "$T/bls.body" | awk -F '|' '
    { d = substr($0, length($1) + 2) }
    seen[d]++ { dup = 1 }
    $1 + 0 < last + 0 { back = 1 }
    { last = $1 }
    END { exit dup || back }'; then
	ok "?backlog=100 and the retained snapshot: each message once, ids never decrease"
else
	not_ok "?backlog=100 and the retained snapshot: each message once, ids never decrease"
	recs "$T/bls.body" | sed 's/^/# /'
fi

if evs "$T/all.body" | awk -F '|' '
    $1 !~ /^[0-9]+$/ { bad = 1 }
    NR > 1 && $1 + 0 <= last + 0 { bad = 1 }
    { last = $1 }
    END { exit bad || NR < 20 }'; then
	ok "the live events of a client have strictly increasing ids"
else
	not_ok "the live events of a client have strictly increasing ids"
	evs "$T/all.body" | cut -c 1-60 | sed 's/^/# /'
fi

# --- --data payload -----------------------------------------------------------
m2_up b 'p/#' --data payload
b_url=$m2_url
m2_cl b pc ''
printf 'a\000b' >"$T/nul"
printf '\377\376' >"$T/ff"
pub -q 1 -t p/text -m 'héllo wörld {"not":"json"}' >/dev/null 2>&1
pub -q 1 -t p/ml -s <"$T/ml" >/dev/null 2>&1
pub -q 1 -t p/nul -f "$T/nul" >/dev/null 2>&1
pub -q 1 -t p/ff -f "$T/ff" >/dev/null 2>&1
pub -q 1 -t p/empty -n >/dev/null 2>&1
pub -q 1 -t p/end -m end >/dev/null 2>&1
wait_evs "$T/pc.body" 6
want 'message|héllo wörld {"not":"json"}' 'message|line 1\nline 2' \
    'binary|YQBi' 'binary|//4=' 'message|' 'message|end'
evs "$T/pc.body" | cut -d '|' -f 2- >"$T/got"
same_file "--data payload: text as is (two data: lines for a newline), a NUL or non-UTF-8 payload as base64 in a binary event" \
    "$T/want" "$T/got"

# --- --event-type topic -------------------------------------------------------
m2_up c 'e/#' --event-type topic
c_url=$m2_url
m2_cl c ec ''
pub -q 1 -t e/kitchen/temp -m 1 >/dev/null 2>&1
pub -q 1 -t 'e/with space' -m 2 >/dev/null 2>&1
wait_evs "$T/ec.body" 2
recs "$T/ec.body" | cut -d '|' -f 2- >"$T/got"
want 'e/kitchen/temp|e/kitchen/temp=1' 'e/with space|e/with space=2'
same_file "--event-type topic: the event type is the topic (data still the record)" \
    "$T/want" "$T/got"

# --- --allow ------------------------------------------------------------------
pub -q 1 -r -t z/r -m zr >/dev/null 2>&1
pub -q 1 -r -t a/r -m ar >/dev/null 2>&1
nret=$(sub -t '#' --retained-only | wc -l)
m2_up d '#' --allow 'a/#' --allow 'c/+'
d_url=$m2_url
# (the broker sends d the retained messages after its subscription)
if ! wait_metric d mq2sse_retained_topics "$nret"; then
	diag "mq2sse d did not cache the $nret retained messages"
fi
is "$(m2_code d '/events?topic=%23')" 403 "--allow a/# --allow c/+: ?topic=%23: 403"
is "$(m2_code d '/events?topic=%2B/b')" 403 "... ?topic=%2B/b: 403"
is "$(m2_code d '/events?topic=c/b/c')" 403 "... ?topic=c/b/c: 403"
is "$(m2_code d '/events?topic=c/%23')" 403 "... ?topic=c/%23: 403"
is "$(m2_code d '/events?topic=a/%23&topic=z/%23')" 403 \
    "... one filter outside among allowed ones: 403"
is "$(m2_code d '/events?topic=a/%23/b')" 400 "... ?topic=a/%23/b: 400"
m2_cl d da ''
m2_cl d dab 'topic=a/%2B/b'
m2_cl d dc 'topic=c/x'
is "$(awk 'NR == 1 { print $2 }' "$T/dab.hdr"):$(awk 'NR == 1 { print $2 }' "$T/dc.hdr")" \
    "200:200" "... ?topic=a/%2B/b and ?topic=c/x: 200"
is "$(tps "$T/da.body")" "a/r=ar R" \
    "... without topic=: the retained snapshot only has allowed topics (a/r, not z/r)"
for tp in a/1=A1 c/2=C2 c/2/3=C23 z/9=Z9 c/x=CX a/x/b=AXB b=B a/end=END; do
	pub -q 1 -t "${tp%%=*}" -m "${tp#*=}" >/dev/null 2>&1
done
wait_tp "$T/da.body" a/end=END
want "a/r=ar R" a/1=A1 c/2=C2 c/x=CX a/x/b=AXB a/end=END
tps "$T/da.body" >"$T/got"
same_file "... without topic=: only what --allow covers (not c/2/3, z/9, b)" \
    "$T/want" "$T/got"
wait_tp "$T/dc.body" c/x=CX
wait_tp "$T/dab.body" a/x/b=AXB
is "$(tps "$T/dab.body")|$(tps "$T/dc.body")" "a/x/b=AXB|c/x=CX" \
    "... ?topic=a/%2B/b gets a/x/b, ?topic=c/x gets c/x"
# the retained test topics are removed from the broker for the next ones
pub -q 1 -r -t z/r -n >/dev/null 2>&1
pub -q 1 -r -t a/r -n >/dev/null 2>&1

# $ topics: a filter that starts with a wildcard does not match them (MQTT
# 4.7.2), so $SYS/# does not lie within # or +/#
m2_up k '#' --allow '#' --allow '+/#'
k_url=$m2_url
is "$(m2_code k '/events?topic=%24SYS/%23' --max-time 2)" 403 \
    "--allow '#' --allow '+/#': ?topic=%24SYS/%23: 403"
is "$(m2_code k '/events?topic=%24SYS/broker/uptime' --max-time 2)" 403 \
    "... ?topic=%24SYS/broker/uptime: 403"

# --- --no-retained ------------------------------------------------------------
nret=$(sub -t 'r/#' --retained-only | wc -l)
m2_up f 'r/#' --no-retained
f_url=$m2_url
# the retained messages the broker sends f after its subscription are live
# events: wait for them before the client connects
if ! wait_metric f mq2sse_messages_total "$nret"; then
	diag "mq2sse f did not get the $nret retained messages"
fi
m2_cl f fc ''
pub -q 1 -r -t r/7 -m seven >/dev/null 2>&1
wait_evs "$T/fc.body" 1
is "$(tps "$T/fc.body")" "r/7=seven R" \
    "--no-retained: a new client gets no snapshot (r/0, r/1, r/3/x are retained), only live"
is "$(m2_metric f mq2sse_retained_topics)" 0 \
    "--no-retained: mq2sse_retained_topics 0"

# --- --max-retained -----------------------------------------------------------
m2_up g 'm/#' --max-retained 2
g_url=$m2_url
for tp in m/1=v1 m/2=v2 m/3=v3 m/2=v2b m/4=v4; do
	pub -q 1 -r -t "${tp%%=*}" -m "${tp#*=}" >/dev/null 2>&1
done
wait_metric g mq2sse_messages_total 5
is "$(m2_metric g mq2sse_retained_topics)" 2 "--max-retained 2: 2 topics cached"
is "$(grep -c 'max-retained' "$T/g.err")" 1 \
    "--max-retained 2: one warning for two evictions"
if grep -q '^mq2sse: warning: .*max-retained' "$T/g.err"; then
	ok "... as 'mq2sse: warning: ...'"
else
	not_ok "... as 'mq2sse: warning: ...'"
	diag_file "$T/g.err"
fi
m2_cl g gc 'topic=m/%23'
pub -q 1 -t m/end -m end >/dev/null 2>&1
wait_tp "$T/gc.body" m/end=end
want "m/2=v2b R" "m/4=v4 R" "m/end=end"
tps "$T/gc.body" >"$T/got"
same_file "--max-retained 2: the snapshot keeps the 2 most recently updated (m/2, m/4)" \
    "$T/want" "$T/got"
for tp in m/1 m/2 m/3 m/4; do
	pub -q 1 -r -t "$tp" -n >/dev/null 2>&1
done

# --- MQTT 3.1.1: the cache follows live messages on the topics it holds -------
# (a 3.1.1 broker clears the retain flag of live messages)
pub -q 1 -r -t v/1 -m old >/dev/null 2>&1
m2_up v 'v/#' -V 311
if ! wait_metric v mq2sse_retained_topics 1; then
	diag "mq2sse v did not cache the retained v/1"
fi
pub -q 1 -r -t v/1 -m new >/dev/null 2>&1
wait_metric v mq2sse_messages_total 2
m2_cl v vc1 'topic=v/%23'
pub -q 1 -t v/end -m end1 >/dev/null 2>&1
wait_tp "$T/vc1.body" v/end=end1
want "v/1=new" "v/end=end1"
tps "$T/vc1.body" >"$T/got"
same_file "-V 311: a retained update that arrives live (flag cleared) replaces the cached value: a new client gets v/1=new" \
    "$T/want" "$T/got"
pub -q 1 -r -t v/1 -n >/dev/null 2>&1
if wait_metric v mq2sse_retained_topics 0; then
	ok "-V 311: an empty message on v/1 (its retained value cleared) removes it from the cache"
else
	not_ok "-V 311: an empty message on v/1 (its retained value cleared) removes it from the cache"
	diag "mq2sse_retained_topics: $(m2_metric v mq2sse_retained_topics)"
fi

# --- SIGTERM ------------------------------------------------------------------
all_pid=$(cat "$T/all.pid")
kill -TERM "$a_pid"
wait_exit "$a_pid" 10
is "$status" 143 "SIGTERM: mq2sse exits 143"
if wait_exit "$all_pid" 5; then
	ok "SIGTERM: the clients' streams are closed"
else
	not_ok "SIGTERM: the clients' streams are closed"
fi
if wait_for_file ': Client a disconnected\.$' "$main_broker/mosquitto.log" 5
then
	ok "SIGTERM: mq2sse sends DISCONNECT (the broker logs a clean disconnection)"
else
	not_ok "SIGTERM: mq2sse sends DISCONNECT (the broker logs a clean disconnection)"
	grep -F ' a ' "$main_broker/mosquitto.log" | sed 's/^/# /'
fi

# --- /healthz before the broker is up -----------------------------------------
if broker_start; then
	ok "a second broker, on port $BROKER_PORT"
else
	not_ok "a second broker"
	done_testing
fi
broker_stop
m2_start h -t 'h/#' --connect-timeout 1
h_url=$m2_url
is "$(m2_code h /healthz):$(cat "$T/code.body")" "503:broker unavailable" \
    "/healthz before the broker is up: 503 broker unavailable"
is "$(m2_metric h mq2sse_broker_connected)" 0 \
    "/metrics before the broker is up: mq2sse_broker_connected 0"
if m2_cl h hc ''; then
	ok "an SSE client is served meanwhile"
else
	not_ok "an SSE client is served meanwhile"
fi
if wait_for_file "^mq2sse: connect 127\.0\.0\.1:$BROKER_PORT: .*; still trying\$" \
    "$T/h.err" 10; then
	ok "past --connect-timeout: 'mq2sse: connect HOST:PORT: REASON; still trying'"
else
	not_ok "past --connect-timeout: 'mq2sse: connect HOST:PORT: REASON; still trying'"
	diag_file "$T/h.err"
fi
is "$(m2_code h /healthz)" 503 "... still 503"
broker_restart
n=0
while [ "$(m2_code h /healthz)" != 200 ] && [ $n -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
is "$(m2_code h /healthz):$(cat "$T/code.body")" "200:ok" \
    "the broker starts on that port: /healthz turns 200 ok"
is "$(m2_metric h mq2sse_broker_connected)" 1 "... mq2sse_broker_connected 1"
m2_ready h 1 'h/#'
pub -q 1 -t h/1 -m first >/dev/null 2>&1
wait_evs "$T/hc.body" 1
is "$(tps "$T/hc.body")" "h/1=first" \
    "the client that connected before the broker gets the first message"

done_testing
