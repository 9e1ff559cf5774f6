#!/bin/sh
# shellcheck disable=SC1091,SC2119
# (tap.sh and broker.sh are sourced)
# mq2sse-clients.sh: real browser-side clients of mq2sse with a real
# mosquitto: the npm eventsource package with ?topic= filters, and headless
# Chromium on the viewer page (topic tree, state, count, rows, live
# updates).  tests/node/mq2sse-clients.js starts the mq2sse instances,
# publishes with mqpub, drives the clients and prints the whole TAP stream
# (plan included); this script starts the broker it uses (broker.sh, stopped
# by the EXIT trap) and bounds the Node run.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

require "$MQ2SSE" mq2sse
require "$MQPUB" mqpub
require "$MOSQUITTO" mosquitto
require "$NODE" "node (Node.js 20)"
require /usr/bin/chromium "chromium (Debian package; tests/install-deps)"
for m in eventsource playwright-core; do
	if [ ! -d "$top_srcdir/node_modules/$m" ]; then
		echo "1..1"
		not_ok "npm package $m installed (run npm ci)"
		exit 1
	fi
done
if ! broker_start; then
	echo "1..1"
	not_ok "broker started"
	exit 1
fi
export BROKER_LOG

# Chromium's profile and crash dumps go under $T, removed at exit.
TMPDIR=$T
export TMPDIR
# The Node script's own watchdog (80 s) stops everything; timeout(1) is
# the last resort should Node itself hang.
timeout -k 5 90 "$NODE" "$top_srcdir/tests/node/mq2sse-clients.js"
