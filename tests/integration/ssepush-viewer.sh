#!/bin/sh
# The viewer page of ssepush in a real browser: tests/node/viewer-test.js
# starts ssepush (several times, once restarted on the same port), drives
# headless Chromium through the page it serves and prints the whole TAP
# stream (plan included); it kills its ssepush children by PID and bounds
# its own run time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"

require "$NODE" "node (Node.js 20)"
require /usr/bin/chromium "chromium (Debian package; tests/install-deps)"
require "$SSEPUSH" "ssepush"
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
timeout -k 5 110 "$NODE" "$top_srcdir/tests/node/viewer-test.js"
