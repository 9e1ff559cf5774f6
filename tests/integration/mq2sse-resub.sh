#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh, broker.sh and sse.sh are sourced)
# mq2sse-resub.sh: after a reconnection the broker sends every retained
# message again; mq2sse does not send the ones it already has to the
# clients that stayed connected (they are not news), while a retained
# value that changed still goes out.  The broker keeps its retained
# messages across the restart (persistence true).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 7

require "$MQ2SSE" mq2sse
require "$MOSQUITTO" mosquitto
require "$PYTHON" python3
require "$(command -v curl)" curl

if broker_start 'persistence true'; then
	ok "broker with persistence on port $BROKER_PORT"
else
	not_ok "broker with persistence"
	done_testing
fi
pub -r -q 1 -t k/state -m on >/dev/null 2>&1
if m2_start x -t 'k/#' && m2_ready x 1 'k/#'; then
	ok "mq2sse subscribed to k/#"
else
	not_ok "mq2sse subscribed to k/#"
	diag_file "$T/x.err"
fi
m2_cl x xc ''
wait_tp "$T/xc.body" 'k/state=on R'
is "$(tps "$T/xc.body")" "k/state=on R" \
    "a new client gets the retained state first"

broker_stop
broker_restart
if m2_ready x 2 'k/#'; then
	ok "mq2sse reconnected and subscribed again"
else
	not_ok "mq2sse reconnected and subscribed again"
	diag_file "$T/x.err"
fi
# The broker has sent k/state=on again by now (right after the SUBACK);
# a live message marks the point after it.
pub -q 1 -t k/live -m x >/dev/null 2>&1
wait_tp "$T/xc.body" 'k/live=x'
want 'k/state=on R' 'k/live=x'
tps "$T/xc.body" >"$T/got"
same_file "the retained message sent again for the resubscription is not repeated" \
    "$T/want" "$T/got"
pub -r -q 1 -t k/state -m off >/dev/null 2>&1
wait_tp "$T/xc.body" 'k/state=off R'
want 'k/state=on R' 'k/live=x' 'k/state=off R'
tps "$T/xc.body" >"$T/got"
same_file "a retained value that changed still goes out" "$T/want" "$T/got"
if kill -0 "$cl_pid" 2>/dev/null; then
	ok "the client stayed connected throughout"
else
	not_ok "the client stayed connected throughout"
fi
done_testing
