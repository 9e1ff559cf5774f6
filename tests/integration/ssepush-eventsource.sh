#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssepush-eventsource.sh: the npm eventsource package (the WHATWG
# EventSource for Node, tests/node/eventsource-client.js) as a client of
# ssepush on 127.0.0.1: data, type (a custom type through
# addEventListener only) and lastEventId of each event, and a reconnection
# after ssepush is restarted on the same port (--retry 200): the client
# sends Last-Event-ID and keeps receiving, with larger ids.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 11

require "$SSEPUSH" ssepush
require "$NODE" "node (Node.js 20)"
require "$PYTHON" python3
require "$(command -v curl)" curl
if [ ! -d "$top_srcdir/node_modules/eventsource" ]; then
	not_ok "the eventsource npm package is installed (tests/install-deps)"
	exit 1
fi

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# got: the events the eventsource client printed, one a line:
# VIA|TYPE|DATA|LASTEVENTID (DATA JSON-escaped, without the quotes).
got()
{
	"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "via" in r:
        print("%s|%s|%s|%s" % (r["via"], r["type"],
              json.dumps(r["data"])[1:-1], r["lastEventId"]))' "$T/es.out"
}

# wait_got N: poll until the client printed N events (10 s).
wait_got()
{
	_wg_n=200
	while [ "$(got | wc -l)" -lt "$1" ] && [ "$_wg_n" -gt 0 ]; do
		sleep 0.05
		_wg_n=$((_wg_n - 1))
	done
}

# --- first ssepush ------------------------------------------------------------------
if sp_start a 127.0.0.1:0 --raw --retry 200; then
	ok "ssepush listening on $sp_port"
else
	not_ok "ssepush listening"
	diag_file "$T/a.err"
	done_testing
fi
port=$sp_port
a_pid=$sp_pid

"$NODE" "$top_srcdir/tests/node/eventsource-client.js" "$sp_url/events" \
    --type tick >"$T/es.out" 2>"$T/es.err" &
es_pid=$!
track "$es_pid"
# curl sees the ids on the wire
curl -sSN -o "$T/wire.body" "$sp_url/events" 2>"$T/wire.err" &
wire_pid=$!
track "$wire_pid"
if wait_for_file '^\{"open":1\}$' "$T/es.out" 15 &&
    wait_for_file ': connected, ' "$T/a.err" 5; then
	ok "the EventSource client is connected"
else
	not_ok "the EventSource client is connected"
	diag_file "$T/es.out"
	diag_file "$T/es.err"
fi
n=0
while [ "$(grep -c ': connected, ' "$T/a.err")" -lt 2 ] && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done

printf 'data: one\n\nevent: tick\ndata: two\ndata: lines\n\ndata: three\n\n' |
    feed a
wait_got 3
wait_for_file '^data: three$' "$T/wire.body"
got | cut -d '|' -f 1-3 >"$T/es.got"
printf '%s\n' 'message|message|one' 'tick|tick|two\nlines' \
    'message|message|three' >"$T/es.want"
if cmp -s "$T/es.want" "$T/es.got"; then
	ok "events in order with their data; the tick event only through addEventListener('tick')"
else
	not_ok "events in order with their data; the tick event only through addEventListener('tick')"
	diag "expected:" "$(cat "$T/es.want")" "got:" "$(cat "$T/es.got")"
	diag_file "$T/es.err"
fi
got | cut -d '|' -f 4 >"$T/es.ids"
grep '^id: ' "$T/wire.body" | cut -c 5- >"$T/wire.ids"
if [ "$(wc -l <"$T/wire.ids")" = 3 ] && cmp -s "$T/wire.ids" "$T/es.ids"; then
	ok "lastEventId of each event is the id ssepush sent"
else
	not_ok "lastEventId of each event is the id ssepush sent"
	diag "on the wire:" "$(cat "$T/wire.ids")" "lastEventId:" \
	    "$(cat "$T/es.ids")"
fi
if awk '!/^[0-9]+$/ || (NR > 1 && $1 + 0 <= last + 0) { bad = 1 }
    { last = $1 } END { exit bad || NR != 3 }' "$T/es.ids"; then
	ok "the ids are integers, increasing"
else
	not_ok "the ids are integers, increasing"
	diag "$(cat "$T/es.ids")"
fi
last_a=$(tail -n 1 "$T/es.ids")

# --- restart on the same port -------------------------------------------------------
kill_wait "$a_pid"
kill_wait "$wire_pid"
if wait_for_file '^\{"error":' "$T/es.out" 10; then
	ok "the client notices the end of the stream (error event)"
else
	not_ok "the client notices the end of the stream (error event)"
	diag_file "$T/es.out"
fi
if sp_start b "127.0.0.1:$port" --raw --retry 200; then
	ok "a new ssepush on the same port $port"
else
	not_ok "a new ssepush on the same port $port"
	diag_file "$T/b.err"
fi
start=$(now_ms)
if wait_for_file '^\{"open":2\}$' "$T/es.out" 10 &&
    wait_for_file ': connected, ' "$T/b.err" 5; then
	ok "the client reconnects by itself ($(( $(now_ms) - start )) ms after the restart)"
else
	not_ok "the client reconnects by itself within 10 s"
	diag_file "$T/es.out"
	diag_file "$T/b.err"
fi
# the request that opened the second connection
lei=$("$PYTHON" -c 'import json, sys
opened, last = 0, None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "request" in r:
        last = r["last_event_id"]
    if "open" in r:
        opened += 1
        if opened == 2:
            print(last)
            break' "$T/es.out")
is "$lei" "$last_a" "the reconnection sends Last-Event-ID: the last id received"

printf 'data: four\n\nevent: tick\ndata: five\n\n' | feed b
wait_got 5
got | cut -d '|' -f 1-3 >"$T/es.got"
printf '%s\n' 'message|message|four' 'tick|tick|five' >>"$T/es.want"
if cmp -s "$T/es.want" "$T/es.got"; then
	ok "after the restart the client keeps receiving: four, five (nothing twice)"
else
	not_ok "after the restart the client keeps receiving: four, five (nothing twice)"
	diag "expected:" "$(cat "$T/es.want")" "got:" "$(cat "$T/es.got")"
fi
got | cut -d '|' -f 4 >"$T/es.ids"
if awk '!/^[0-9]+$/ || (NR > 1 && $1 + 0 <= last + 0) { bad = 1 }
    { last = $1 } END { exit bad || NR != 5 }' "$T/es.ids" &&
    [ "$(sed -n 4p "$T/es.ids")" -gt "$last_a" ]; then
	ok "the new ssepush's ids are larger than the old ones"
else
	not_ok "the new ssepush's ids are larger than the old ones"
	diag "$(cat "$T/es.ids")"
fi
kill_wait "$es_pid"

done_testing
