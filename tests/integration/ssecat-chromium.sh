#!/bin/sh
# Differential test: the same text/event-stream streams (line ends, BOM,
# leading spaces, ids, retry, invalid UTF-8, NUL, long lines..., each whole,
# split at awkward places and byte by byte) are played to headless
# Chromium's EventSource and to `ssecat --no-reconnect -j`; what each saw
# must be identical. Chromium is the reference. tests/node/chromium-compare.js
# prints the whole TAP stream (plan included) and bounds its own run time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"

require "$NODE" "node (Node.js 20)"
require /usr/bin/chromium "chromium (Debian package; tests/install-deps)"
require "$SSECAT" "ssecat"
if [ ! -d "$top_srcdir/node_modules/playwright-core" ]; then
	echo "1..1"
	not_ok "npm package playwright-core installed (run npm ci)"
	exit 1
fi

# Chromium's profile and crash dumps go under $T, removed at exit.
TMPDIR=$T
export TMPDIR
# The Node script's own watchdog (100 s) stops everything; timeout(1) is
# the last resort should Node itself hang.
timeout -k 5 110 "$NODE" "$top_srcdir/tests/node/chromium-compare.js"
