#!/bin/sh
# shellcheck disable=SC1091,SC2034,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments; the INST_url variables are read
# through eval)
# mq2sse-scale.sh: scaling out as SPEC.md section 8 describes it: two
# mosquitto brokers bridged to each other by mosquitto's own bridge, an
# mq2sse on each (and a second one on the first broker, as behind a load
# balancer): a message published into either broker reaches the clients of
# every mq2sse, once.  Event ids belong to one instance: a client that
# comes to another instance with an id of the first gets that instance's
# whole history.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 12

require "$MQ2SSE" mq2sse
require "$MOSQUITTO" mosquitto
require "$PYTHON" python3
require "$(command -v curl)" curl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# m2_up NAME FILTER [ARG...]: m2_start NAME -t FILTER ARG..., then m2_ready
# (for "connected to" and the broker's log of the subscription); one test.
m2_up()
{
	_mu_name=$1
	_mu_f=$2
	shift 2
	if m2_start "$_mu_name" -t "$_mu_f" "$@" &&
	    m2_ready "$_mu_name" 1 "$_mu_f"; then
		ok "mq2sse $_mu_name -t $_mu_f on the broker on port $BROKER_PORT"
	else
		not_ok "mq2sse $_mu_name -t $_mu_f on the broker on port $BROKER_PORT"
		diag_file "$T/$_mu_name.err"
	fi
}

# --- two bridged brokers -----------------------------------------------------
if broker_start; then
	ok "broker A on port $BROKER_PORT"
else
	not_ok "broker A"
	done_testing
fi
dir_a=$BROKER_DIR
port_a=$BROKER_PORT
# B bridges sensors/# both ways with A (mosquitto's loop detection:
# try_private, and a bridge does not get back what it sent)
if broker_start 'connection bridge-to-a' "address 127.0.0.1:$port_a" \
    'remote_clientid bridge-b' 'topic sensors/# both 1' \
    'bridge_protocol_version mqttv311' 'cleansession true' \
    'try_private true'; then
	ok "broker B on port $BROKER_PORT, bridged to A"
else
	not_ok "broker B, bridged to A"
	done_testing
fi
dir_b=$BROKER_DIR
port_b=$BROKER_PORT

# probe FROM_DIR TO_DIR: publish a probe into one broker (FROM_DIR) with
# an mqsub subscribed on the other, until one arrives (20 tries); 0 once
# the bridge carries that direction.
probe()
{
	_pr_n=0
	while [ "$_pr_n" -lt 20 ]; do
		_pr_n=$((_pr_n + 1))
		broker_use "$2"
		sub_start "probe$_pr_n" sensors/probe -C 1 -W 1 || return 1
		broker_use "$1"
		pub -t sensors/probe -m "probe $_pr_n" -q 1 >/dev/null 2>&1
		sub_wait 5
		[ -s "$T/probe$_pr_n.out" ] && return 0
	done
	return 1
}
start=$(now_ms)
if probe "$dir_a" "$dir_b" && probe "$dir_b" "$dir_a"; then
	ok "the bridge carries sensors/# both ways ($(( $(now_ms) - start )) ms)"
else
	not_ok "the bridge carries sensors/# both ways"
	diag_file "$dir_b/mosquitto.log"
	diag_file "$dir_a/mosquitto.log"
fi

# --- an mq2sse on each broker, a second one on A --------------------------------
broker_use "$dir_a"
m2_up ma1 'sensors/#'
m2_up ma2 'sensors/#'
broker_use "$dir_b"
m2_up mb 'sensors/#'
for c in ma1 ma2 mb; do
	m2_cl "$c" "c_$c" ''
done

BROKER_PORT=$port_a pub -q 1 -t sensors/a/temp -m from-a >/dev/null 2>&1
for c in ma1 ma2 mb; do
	wait_tp "$T/c_$c.body" sensors/a/temp=from-a
done
BROKER_PORT=$port_b pub -q 1 -t sensors/b/temp -m from-b >/dev/null 2>&1
for c in ma1 ma2 mb; do
	wait_tp "$T/c_$c.body" sensors/b/temp=from-b
done
# not bridged: other/x stays on A
BROKER_PORT=$port_a pub -q 1 -t other/x -m local >/dev/null 2>&1
BROKER_PORT=$port_a pub -q 1 -t sensors/end -m end >/dev/null 2>&1
for c in ma1 ma2 mb; do
	wait_tp "$T/c_$c.body" sensors/end=end
done
printf '%s\n' sensors/a/temp=from-a sensors/b/temp=from-b sensors/end=end \
    >"$T/want"
for c in ma1 ma2 mb; do
	tps "$T/c_$c.body" >"$T/got"
	if cmp -s "$T/want" "$T/got"; then
		ok "a client of $c gets the messages published into A and B, once each"
	else
		not_ok "a client of $c gets the messages published into A and B, once each"
		diag "expected:" "$(cat "$T/want")" "got:" "$(cat "$T/got")"
	fi
done
# data_nots FILE: the data of each event, ts left out (the time of arrival)
data_nots()
{
	evs "$1" | cut -d '|' -f 3- | sed 's/"ts":"[^"]*"/"ts":"-"/'
}
if [ "$(data_nots "$T/c_ma1.body")" = "$(data_nots "$T/c_mb.body")" ]; then
	ok "the records are the same on both sides of the bridge (but ts)"
else
	not_ok "the records are the same on both sides of the bridge (but ts)"
	diag "$(evs "$T/c_ma1.body")" "$(evs "$T/c_mb.body")"
fi

# --- ids belong to one instance -----------------------------------------------
id_a=$(evs "$T/c_ma1.body" | sed -n 1p | cut -d '|' -f 1)
id_b=$(evs "$T/c_mb.body" | sed -n 1p | cut -d '|' -f 1)
m2_cl mb lb '' -H "Last-Event-ID: $id_a"
BROKER_PORT=$port_b pub -q 1 -t sensors/after -m after >/dev/null 2>&1
wait_tp "$T/lb.body" sensors/after=after
printf '%s\n' sensors/a/temp=from-a sensors/b/temp=from-b sensors/end=end \
    sensors/after=after >"$T/want"
tps "$T/lb.body" >"$T/got"
if cmp -s "$T/want" "$T/got"; then
	ok "a client that comes to mq2sse mb with an id of ma1 ($id_a) gets mb's whole history"
else
	not_ok "a client that comes to mq2sse mb with an id of ma1 ($id_a) gets mb's whole history"
	diag "ids: ma1 $id_a, mb $id_b" "expected:" "$(cat "$T/want")" \
	    "got:" "$(cat "$T/got")"
fi
m2_cl mb lb2 '' -H "Last-Event-ID: $id_b"
BROKER_PORT=$port_a pub -q 1 -t sensors/after2 -m after2 >/dev/null 2>&1
wait_tp "$T/lb2.body" sensors/after2=after2
printf '%s\n' sensors/b/temp=from-b sensors/end=end sensors/after=after \
    sensors/after2=after2 >"$T/want"
tps "$T/lb2.body" >"$T/got"
if cmp -s "$T/want" "$T/got"; then
	ok "... and with its own id, only what followed"
else
	not_ok "... and with its own id, only what followed"
	diag "expected:" "$(cat "$T/want")" "got:" "$(cat "$T/got")"
fi

done_testing
