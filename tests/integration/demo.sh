#!/bin/sh
# The README's demo (demo/run) runs for a few seconds, shows live data
# from its private broker, and stops everything it started.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
echo "1..3"
out=$(mktemp)
MQSSE_BIN="$top_builddir/cmd" timeout 30 "$top_srcdir/demo/run" --for 4 \
    --no-build >"$out" 2>&1
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
rm -f "$out"
