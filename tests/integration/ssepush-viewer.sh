#!/bin/sh
# The viewer page of ssepush in a real browser: tests/node/viewer-test.js
# starts ssepush (several times, once restarted on the same port), drives
# headless Chromium through the page it serves and prints the whole TAP
# stream (plan included); it kills its ssepush children by PID and bounds
# its own run time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

require "$NODE" "node (Node.js 20)"
require /usr/bin/chromium "chromium (Debian package; tests/install-deps)"
require "$SSEPUSH" "ssepush"
chromium_tap viewer-test.js
