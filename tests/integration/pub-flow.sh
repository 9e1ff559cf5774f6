#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# pub-flow.sh: mqpub reads no faster than it can publish (bounded memory),
# --rate, --repeat, and the signals: SIGINT during a QoS 1 stream, SIGTERM
# to mqsub with output still buffered.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 12

require "$MOSQUITTO" mosquitto
require "$PYTHON" python3
require /usr/bin/time "GNU time (/usr/bin/time, Debian package time)"

if broker_start 'max_queued_messages 0'; then
	ok "broker started on port $BROKER_PORT"
else
	not_ok "broker started"
	done_testing
fi

# --- memory: 200 MB of input in 4000-byte lines, QoS 1 ---------------------
# (50,000 messages: the same amount of data in 40-byte lines would take
# minutes; the in-flight window is counted in messages, so the bound holds
# for any line length that keeps 1000 messages small)
line=$(printf '%03999d' 7)
# (Under ASan, freed memory waits in a 256 MB quarantine: turn it off so
# that the figure is mqpub's own; other builds ignore ASAN_OPTIONS.)
yes "$line" | head -c 200000000 |
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    timeout 60 /usr/bin/time -f %M -o "$T/rss" "$MQPUB" -h 127.0.0.1 \
    -p "$BROKER_PORT" -t flow/mem -q 1 -v >/dev/null 2>"$T/mem.err"
mst=$?
rss=$(tail -n 1 "$T/rss")
if [ "$mst" = 0 ] && [ -n "$rss" ] && [ "$rss" -lt 51200 ] &&
    grep -q '^mqpub: 50000 messages, 199950000 bytes in ' "$T/mem.err"; then
	ok "200 MB through mqpub -l -q 1 -v: 50000 messages, status 0, peak RSS $rss KiB (< 50 MiB)"
else
	not_ok "200 MB through mqpub -l -q 1 -v: 50000 messages, status 0, peak RSS $rss KiB (< 50 MiB)"
	diag "status $mst"
	diag_file "$T/mem.err"
	diag_file "$T/rss"
fi

# --- --rate --------------------------------------------------------------------
sub_start rate flow/rate -q 1 -C 20
start=$(now_ms)
seq 1 20 | pub -t flow/rate -q 1 --rate 50 >/dev/null 2>"$T/rate.err"
pst=$?
elapsed=$(( $(now_ms) - start ))
sub_wait 5
if [ "$pst" = 0 ] && [ "$elapsed" -ge 300 ]; then
	ok "--rate 50: 20 messages take $elapsed ms (at least 300)"
else
	not_ok "--rate 50: 20 messages take $elapsed ms (at least 300)"
	diag "status $pst"
	diag_file "$T/rate.err"
fi
is "$status:$(seq 1 20 | cmp - "$T/rate.out" 2>&1)" "0:" \
    "--rate 50: all 20 arrive, in order"

# --- --repeat ----------------------------------------------------------------
sub_start rep flow/rep -q 1 -C 6
run pub -t flow/rep -q 1 --repeat 5 -m x
rst=$status
pub -t flow/rep -q 1 -m end >/dev/null 2>&1
sub_wait 5
is "$rst $status:$(tr '\n' ' ' <"$T/rep.out")" "0 0:x x x x x end " \
    "--repeat 5 -m x: exactly five messages"
start=$(now_ms)
run pub -t flow/rep2 --repeat 3 --repeat-delay 0.2 -m y
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 0 ] && [ "$elapsed" -ge 400 ]; then
	ok "--repeat 3 --repeat-delay 0.2: takes $elapsed ms (at least 400)"
else
	not_ok "--repeat 3 --repeat-delay 0.2: takes $elapsed ms (at least 400)"
	diag "status $status"
fi

# --- SIGINT during a QoS 1 stream -----------------------------------------
# mqsub records what arrived; the stream is far longer than the test.
SUB_TIMEOUT=50 sub_start intsub flow/int -q 1
int_sub=$SUB_PID
seq 1 5000000 | timeout 30 "$MQPUB" -h 127.0.0.1 -p "$BROKER_PORT" \
    -t flow/int -q 1 -v >/dev/null 2>"$T/int.err" &
int_pub=$!
track "$int_pub"
wait_lines "$T/intsub.out" 1000 10
# timeout passes the signal on to mqpub and then dies by the same signal
kill -INT "$int_pub"
wait_exit "$int_pub" 10
is "$status" 130 "SIGINT: mqpub dies by the signal (status 130)"
sent=$(sed -n 's/^mqpub: \([0-9]*\) messages, .*/\1/p' "$T/int.err")
lost=$(sed -n 's/^mqpub: \([0-9]*\) messages not acknowledged$/\1/p' \
    "$T/int.err")
: "${lost:=0}"
# everything sent reaches the subscriber, up to a marker
pub -t flow/int -q 1 -m END >/dev/null 2>&1
wait_for_file '^END$' "$T/intsub.out" 20
kill_wait "$int_sub"
sed '/^END$/d' "$T/intsub.out" | sort -n -u >"$T/int.got"
got=$(wc -l <"$T/int.got")
contiguous=$(awk 'NR != $1 { print "no"; exit } END { if (NR) print "yes" }' \
    "$T/int.got" | head -n 1)
diag "mqpub: sent ${sent:-?}, reported not acknowledged $lost;" \
    "the subscriber got 1..$got"
if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$contiguous" = yes ] &&
    [ "$got" -le "$sent" ] && [ "$((got + lost))" -ge "$sent" ]; then
	ok "SIGINT: every message read was delivered or reported as lost"
else
	not_ok "SIGINT: every message read was delivered or reported as lost"
	diag_file "$T/int.err"
fi
if grep -v -e '^mqpub: [0-9]* messages, [0-9]* bytes in ' \
    -e '^mqpub: [0-9]* messages not acknowledged$' "$T/int.err" |
    grep -q .; then
	not_ok "SIGINT: no other diagnostics"
	diag_file "$T/int.err"
else
	ok "SIGINT: no other diagnostics"
fi

# --- SIGTERM to mqsub with output still in its buffer ----------------------
# The reader starts reading only after the signal: 2000 messages of 100
# bytes do not fit in a pipe, so most are in mqsub's buffer at that moment.
cat >"$T/lazy.py" <<'EOF'
import os, sys, time
go, out = sys.argv[1], sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.02)
with open(out, "wb") as f:
    while True:
        d = os.read(0, 65536)
        if not d:
            break
        f.write(d)
EOF
mkfifo "$T/term.fifo"
timeout 30 "$PYTHON" "$T/lazy.py" "$T/go" "$T/term.out" <"$T/term.fifo" &
lazy=$!
track "$lazy"
timeout 30 "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" -i termsub -t flow/term \
    -q 1 -dd >"$T/term.fifo" 2>"$T/term.err" &
term_sub=$!
track "$term_sub"
broker_subscribed termsub flow/term
"$PYTHON" -c 'import sys
for i in range(1, 2001):
    sys.stdout.write("%04d%s\n" % (i, "t" * 96))' >"$T/term.want"
pub -t flow/term -q 1 <"$T/term.want" >/dev/null 2>&1
# -dd logs each PUBLISH that libmosquitto hands to mqsub
n=0
while [ "$(grep -c 'received PUBLISH' "$T/term.err")" -lt 2000 ] &&
    [ "$n" -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
is "$(grep -c 'received PUBLISH' "$T/term.err")" 2000 \
    "mqsub received the 2000 messages (stdout blocked)"
kill -TERM "$term_sub"
: >"$T/go"
wait_exit "$term_sub" 10
tst=$status
wait_exit "$lazy" 10
is "$tst" 143 "SIGTERM: mqsub dies by the signal (status 143)"
if cmp -s "$T/term.want" "$T/term.out"; then
	ok "SIGTERM: mqsub wrote out everything it had received"
else
	not_ok "SIGTERM: mqsub wrote out everything it had received"
	diag "$(wc -l <"$T/term.out") of 2000 lines"
fi

done_testing
