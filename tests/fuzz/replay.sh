#!/bin/sh
# Replay the fuzz corpora and crash reproducers (TAP from tests/fuzz/replay).
# make check exports top_builddir; run by hand, the default build is used.
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
exec "$top_builddir/tests/fuzz/replay"
