#!/bin/sh
# Replay the fuzz corpora and crash reproducers (TAP from tests/fuzz/replay).
# make check exports top_builddir; run by hand, the default build is used.
: "${top_builddir:=/tmp/build-main}"
exec "$top_builddir/tests/fuzz/replay"
