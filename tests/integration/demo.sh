#!/bin/sh
# The README's demo (demo/run) runs for a few seconds, shows live data
# from its private broker, serves it to browsers with mq2sse at the URL it
# prints, and stops everything it started.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
echo "1..7"
out=$(mktemp)
MQSSE_BIN="$top_builddir/cmd" timeout 30 "$top_srcdir/demo/run" --for 4 \
    --no-build >"$out" 2>&1 &
demo=$!

# While it runs: the URL it prints, its event stream and its health.
url=""
i=0
while [ $i -lt 150 ]; do
	url=$(sed -n 's|^demo: open \(http://127\.0\.0\.1:[0-9][0-9]*/\) in a browser$|\1|p' "$out")
	[ -n "$url" ] && break
	kill -0 "$demo" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
events=""
health=""
if [ -n "$url" ]; then
	# The stream stays open: curl ends at -m 2 with what it received.
	events=$(curl -s -m 2 "${url}events?backlog=5")
	i=0
	while [ $i -lt 10 ]; do
		health=$(curl -s -m 2 -o /dev/null -w '%{http_code}' \
		    "${url}healthz")
		[ "$health" = 200 ] && break
		sleep 0.2
		i=$((i + 1))
	done
fi

wait "$demo"
rc=$?
if [ $rc -eq 0 ]; then echo "ok 1 - demo/run --for 4 exits 0"; else
	echo "not ok 1 - demo/run --for 4 exits 0 (got $rc)"; sed 's/^/# /' "$out"; fi
n=$(grep -c ' demo/host/load  *[0-9]' "$out")
if [ "$n" -ge 2 ]; then echo "ok 2 - live load values printed ($n)"; else
	echo "not ok 2 - live load values printed ($n)"; sed 's/^/# /' "$out"; fi
if grep -q 'private mosquitto broker on 127.0.0.1:' "$out"; then
	echo "ok 3 - the demo says where its broker is"
else
	echo "not ok 3 - the demo says where its broker is"
fi
if [ -n "$url" ]; then
	echo "ok 4 - the demo prints the mq2sse URL ($url)"
else
	echo "not ok 4 - the demo prints the mq2sse URL"
	sed 's/^/# /' "$out"
fi
if printf '%s\n' "$events" |
    grep -q '^data: {"topic":"demo/host/[a-z_]*","payload":'; then
	echo "ok 5 - ${url}events?backlog=5 sends demo events"
else
	echo "not ok 5 - ${url}events?backlog=5 sends demo events"
	printf '%s\n' "$events" | sed 's/^/# /'
fi
if [ "$health" = 200 ]; then
	echo "ok 6 - ${url}healthz answers 200"
else
	echo "not ok 6 - ${url}healthz answers 200 (got '$health')"
fi
# Stopped with the demo: nothing listens there any more.
if [ -n "$url" ] && ! curl -s -m 2 -o /dev/null "${url}healthz"; then
	echo "ok 7 - mq2sse stopped with the demo"
else
	echo "not ok 7 - mq2sse stopped with the demo"
fi
rm -f "$out"
