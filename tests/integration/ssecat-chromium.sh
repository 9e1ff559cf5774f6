#!/bin/sh
# Differential test: the same text/event-stream streams (line ends, BOM,
# leading spaces, ids, retry, invalid UTF-8, NUL, long lines..., each whole,
# split at awkward places and byte by byte) are played to headless
# Chromium's EventSource and to `ssecat --no-reconnect -j`; what each saw
# must be identical. Chromium is the reference. tests/node/chromium-compare.js
# prints the whole TAP stream (plan included) and bounds its own run time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

require "$NODE" "node (Node.js 20)"
require /usr/bin/chromium "chromium (Debian package; tests/install-deps)"
require "$SSECAT" "ssecat"
chromium_tap chromium-compare.js
