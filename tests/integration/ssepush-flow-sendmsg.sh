#!/bin/sh
# shellcheck disable=SC1091
# ssepush-flow-sendmsg.sh: ssepush-flow.sh again with MQSSE_NO_URING=1, so
# that the hub's other write path (one sendmsg per client, where the
# default is one io_uring submission per round) meets the same client that
# does not read and the same partial writes. (d) has 2,000 clients, not
# 10,000: make check -j runs this beside ssepush-flow.sh, and 20,000
# connections at once on one loopback address leave too few ports.
MQSSE_NO_URING=1
FLOW_CLIENTS=2000
export MQSSE_NO_URING FLOW_CLIENTS
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/ssepush-flow.sh"
