#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssepush-flow.sh: flow control and faults over real HTTP on 127.0.0.1.
#
# (a) A client that never reads (a raw socket with a 4 KiB receive buffer)
#     holds the input up: a producer writing 20 MB of lines into the pipe
#     stalls (it is not dropped, nor is ssepush's memory filled) until
#     --client-timeout 3 disconnects that client; a normal client (curl)
#     then receives every event in order, and ssepush's peak RSS stays
#     small.
# (b) --client-buffer.  With stdin flow control a client's unsent data
#     stays near the 64 KiB window, so the limit is reached only (1) when
#     it is set to the window itself (64K: the first time a client is
#     above the window it is over the limit) or (2) by one event larger
#     than the limit.  Both are tested with --client-timeout 30, so that
#     a prompt disconnection can only come from --client-buffer; in (2) a
#     reading client gets the large event whole and is not disconnected.
# (c) The disconnected client reads what reached it, reconnects with
#     Last-Event-ID and gets exactly the events it missed from the history.
# (d) 10,000 concurrent clients (FLOW_CLIENTS; bench/sseload.c, built
#     here): one event reaches them all, /metrics counts them.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 19

require "$SSEPUSH" ssepush
require "$PYTHON" python3
require "$(command -v curl)" curl
CC=${CC:-cc}
require "$(command -v "$CC")" "a C compiler ($CC, for bench/sseload.c)"

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# producer.py LINES PROGRESS GOFILE: once GOFILE exists, write LINES lines
# of 100 characters ("%08d " and x's) to stdout.  PROGRESS gets the bytes
# written so far 1.0 s and 2.5 s after the start ("t1000 BYTES", "t2500
# BYTES"), then "done BYTES MS"; PROGRESS.pid its PID.
cat >"$T/producer.py" <<'EOF'
import os, sys, threading, time
n, prog, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(prog + ".pid", "w") as f:
    f.write("%d\n" % os.getpid())
t_end = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < t_end:
    time.sleep(0.02)
written = 0
t0 = time.monotonic()
out = open(prog, "w", buffering=1)
def mark(ms):
    out.write("t%d %d\n" % (ms, written))
for ms in (1000, 2500):
    t = threading.Timer(ms / 1000.0, mark, (ms,))
    t.daemon = True
    t.start()
pad = "x" * 91
i = 0
while i < n:
    k = min(40, n - i)
    buf = "".join("%08d %s\n" % (j, pad) for j in range(i, i + k)).encode()
    v = memoryview(buf)
    while v:
        w = os.write(1, v)
        v = v[w:]
        written += w
    i += k
out.write("done %d %d\n" % (written, (time.monotonic() - t0) * 1000))
EOF

# slow.py PORT GOFILE [LAST]: a client that sends GET /events with a 4 KiB
# receive buffer and then reads nothing until GOFILE exists (at most 60 s).
# With LAST (the number of the last line of the input) it then reads what
# reached it until the server's close, takes the id of the last whole event,
# reconnects with that Last-Event-ID and reads until line LAST; it prints
#   drained K NUM resumed F L COUNT GAPS
# (K events drained, the last of them line NUM; then COUNT events from line
# F to line L, GAPS places where a number was not the previous one + 1).
cat >"$T/slow.py" <<'EOF'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
last = int(sys.argv[3]) if len(sys.argv) > 3 else None
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
t_end = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < t_end:
    time.sleep(0.02)
if last is None:
    sys.exit(0)

def dechunk(raw):
    """The body of an HTTP/1.1 chunked response (complete chunks only)."""
    i = raw.find(b"\r\n\r\n")
    if i < 0:
        return b""
    pos, parts = i + 4, []
    while True:
        j = raw.find(b"\r\n", pos)
        if j < 0:
            break
        size = int(raw[pos:j].split(b";")[0], 16)
        if size == 0 or len(raw) < j + 2 + size + 2:
            break
        parts.append(raw[j + 2:j + 2 + size])
        pos = j + 2 + size + 2
    return b"".join(parts)

def events(raw):
    """(id, data) of every whole event of a response."""
    out = []
    for block in dechunk(bytes(raw)).split(b"\n\n")[:-1]:
        eid, data = None, None
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                eid = line[4:].decode()
            elif line.startswith(b"data: "):
                data = line[6:].decode()
        if data is not None:
            out.append((eid, data))
    return out

def num(ev):
    return int(ev[1][:8])

raw = bytearray()
s.settimeout(20)
# (read what is left with a larger buffer: quicker than through 4 KiB)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        raw += d
except OSError:
    pass
s.close()
a = events(raw)
if not a:
    print("drained 0 -1 resumed -1 -1 0 0")
    sys.exit(0)
last_id = a[-1][0]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: "
          + last_id.encode() + b"\r\n\r\n")
raw = bytearray()
marker = b"data: %08d " % last
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        raw += d
        k = raw.find(marker, max(0, len(raw) - len(d) - len(marker)))
        if k >= 0 and raw.find(b"\n\n", k) >= 0:
            break
except OSError:
    pass
nums = [num(e) for e in events(raw)]
gaps = sum(1 for x, y in zip([num(a[-1])] + nums, nums) if y != x + 1)
print("drained %d %d resumed %d %d %d %d" % (len(a), num(a[-1]),
      nums[0] if nums else -1, nums[-1] if nums else -1, len(nums), gaps))
EOF

# sp_pipe NAME LINES [ARG...]: producer.py LINES | ssepush -v -l 127.0.0.1:0
# ARG...; stderr in $T/NAME.err, the producer's progress in $T/NAME.prog,
# its start signal $T/NAME.prog.go.  Sets sp_pid (ssepush), sp_port, sp_url.
sp_pipe()
{
	_sp_name=$1
	_sp_lines=$2
	shift 2
	"$PYTHON" "$T/producer.py" "$_sp_lines" "$T/$_sp_name.prog" \
	    "$T/$_sp_name.prog.go" |
	    "$SSEPUSH" -v -l 127.0.0.1:0 "$@" >"$T/$_sp_name.out" \
	    2>"$T/$_sp_name.err" &
	sp_pid=$!
	track "$sp_pid"
	wait_for_file . "$T/$_sp_name.prog.pid" 10 &&
	    track "$(cat "$T/$_sp_name.prog.pid")"
	sp_wait "$_sp_name"
}

# slow NAME [LAST]: slow.py against $sp_port, waiting for $T/NAME.go, its
# output in $T/NAME.slow; sets slow_pid.
slow()
{
	"$PYTHON" "$T/slow.py" "$sp_port" "$T/$1.go" ${2:+"$2"} \
	    >"$T/$1.slow" 2>&1 &
	slow_pid=$!
	track "$slow_pid"
}

# fast NAME: curl reading $sp_url/events into $T/NAME.body; sets fast_pid.
fast()
{
	curl -sSN -o "$T/$1.body" "$sp_url/events" 2>"$T/$1.cerr" &
	fast_pid=$!
	track "$fast_pid"
}

# prog NAME KEY: a value from the producer's progress file.
prog()
{
	awk -v k="$2" '$1 == k { print $2 }' "$T/$1.prog" 2>/dev/null
}

# in_order FILE N: FILE (a curl body) holds exactly N events, whose data are
# the producer's lines 0 .. N-1 in order, with increasing integer ids.
in_order()
{
	awk -v n="$2" '
	/^id: / { id = substr($0, 5); next }
	/^data: / {
		want = sprintf("%08d ", k)
		if (substr($0, 7, 9) != want || length($0) != 106) bad++
		if (id !~ /^[0-9]+$/ || (k > 0 && id + 0 <= last + 0)) badid++
		last = id; id = ""; k++
	}
	END {
		if (k != n || bad || badid) {
			printf "%d events (want %d), %d bad data, %d bad ids\n", \
			    k, n, bad, badid
			exit 1
		}
	}' "$1"
}

# --- (a) a producer is slowed down by a client that does not read -------------
sp_pipe a 200000 --client-timeout 3
a_pid=$sp_pid
slow a
a_slow=$slow_pid
fast af
af_pid=$fast_pid
if connected a 2; then
	ok "(a) a client that does not read (4 KiB SO_RCVBUF) and curl connected"
else
	not_ok "(a) a client that does not read (4 KiB SO_RCVBUF) and curl connected"
	diag_file "$T/a.err"
fi
: >"$T/a.prog.go"
start=$(now_ms)
wait_for_file '^t2500 ' "$T/a.prog" 10
t1=$(prog a t1000)
t2=$(prog a t2500)
if [ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -lt 10000000 ] &&
    [ $((t2 - t1)) -lt 524288 ]; then
	ok "(a) the producer is held up: $t1 bytes written after 1 s, $t2 after 2.5 s (of 20.2 MB)"
else
	not_ok "(a) the producer is held up: < 10 MB written after 2.5 s, stalled from 1 s to 2.5 s"
	diag "after 1 s: '$t1', after 2.5 s: '$t2'"
	diag_file "$T/a.prog"
fi
if wait_for_file ': disconnected: held the stream up' "$T/a.err" 10; then
	ok "(a) the client that does not read is disconnected: held the stream up ($(( $(now_ms) - start )) ms after the start)"
else
	not_ok "(a) the client that does not read is disconnected: held the stream up"
	diag_file "$T/a.err"
fi
is "$(metric ssepush_clients_dropped_total)" 1 "(a) /metrics: ssepush_clients_dropped_total 1"
# The write path under test: one io_uring submission per round when built
# with liburing, one sendmsg per client with MQSSE_NO_URING set (as
# ssepush-flow-sendmsg.sh runs this script).
if [ -n "${MQSSE_NO_URING:-}" ] || [ "$HAVE_LIBURING" != yes ]; then
	want_uring=0
else
	want_uring=1
fi
is "$(metric ssepush_io_uring)" "$want_uring" "(a) /metrics: ssepush_io_uring $want_uring (MQSSE_NO_URING='${MQSSE_NO_URING:-}', liburing: $HAVE_LIBURING)"
if wait_for_file '^done ' "$T/a.prog" 20; then
	ok "(a) then the producer writes its 20.2 MB ($(awk '/^done/ { print $3 }' "$T/a.prog") ms in all)"
else
	not_ok "(a) then the producer writes its 20.2 MB"
	diag_file "$T/a.prog"
fi
wait_for_file '^data: 00199999 ' "$T/af.body" 20
if in_order "$T/af.body" 200000 >"$T/af.diag"; then
	ok "(a) curl received all 200000 events in order with increasing ids"
else
	not_ok "(a) curl received all 200000 events in order with increasing ids"
	diag "$(cat "$T/af.diag")"
	diag "first:" "$(grep -m 1 '^data: ' "$T/af.body" | cut -c 1-30)" \
	    "last:" "$(grep '^data: ' "$T/af.body" | tail -n 1 | cut -c 1-30)"
fi
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$a_pid/status" 2>/dev/null)
if [ -n "$hwm" ] && [ "$hwm" -lt 61440 ]; then
	ok "(a) ssepush's peak RSS after 20 MB: $hwm KiB (< 60 MiB)"
else
	not_ok "(a) ssepush's peak RSS after 20 MB < 60 MiB"
	diag "VmHWM '$hwm' KiB"
fi
kill_wait "$a_pid"
kill_wait "$a_slow"
kill_wait "$af_pid"

# --- (b) --client-buffer --------------------------------------------------------
# (1) --client-buffer 64K (the window): the first time the client that does
# not read is above the window, it is over the limit.
sp_pipe b 100000 --client-buffer 64K --client-timeout 30
b_pid=$sp_pid
slow b
b_slow=$slow_pid
fast bf
bf_pid=$fast_pid
connected b 2
: >"$T/b.prog.go"
start=$(now_ms)
if wait_for_file ': disconnected: more than --client-buffer unsent' \
    "$T/b.err" 15; then
	ok "(b) --client-buffer 64K, --client-timeout 30: disconnected for --client-buffer ($(( $(now_ms) - start )) ms)"
else
	not_ok "(b) --client-buffer 64K, --client-timeout 30: disconnected for --client-buffer within 15 s"
	diag_file "$T/b.err"
fi
wait_for_file '^data: 00099999 ' "$T/bf.body" 20
if in_order "$T/bf.body" 100000 >"$T/bf.diag"; then
	ok "(b) --client-buffer 64K: curl received all 100000 events in order"
else
	not_ok "(b) --client-buffer 64K: curl received all 100000 events in order"
	diag "$(cat "$T/bf.diag")"
fi
kill_wait "$b_pid"
kill_wait "$b_slow"
kill_wait "$bf_pid"

# (2) one event of 4 MiB, larger than the window and than --client-buffer
# (default 1 MiB).
sp_start big 127.0.0.1:0 --client-timeout 30
big_pid=$sp_pid
slow big
big_slow=$slow_pid
fast bigf
bigf_pid=$fast_pid
connected big 2
start=$(now_ms)
# shellcheck disable=SC2016
"$PYTHON" -c 'import sys
sys.stdout.write("B" * (4 << 20) + "\nafter\n")' |
    timeout 20 sh -c 'cat >>"$1"' sh "$T/big.fifo"
if wait_for_file ': disconnected: more than --client-buffer unsent' \
    "$T/big.err" 15; then
	ok "(b) one 4 MiB event: the client that does not read is disconnected for --client-buffer ($(( $(now_ms) - start )) ms)"
else
	not_ok "(b) one 4 MiB event: the client that does not read is disconnected for --client-buffer"
	diag_file "$T/big.err"
fi
wait_for_file '^data: after$' "$T/bigf.body" 15
got=$(awk '/^data: / { printf "%d:%s ", length($0) - 6, substr($0, 7, 1) }' \
    "$T/bigf.body")
if [ "$got" = "4194304:B 5:a " ] &&
    [ "$(metric ssepush_clients_dropped_total)" = 1 ]; then
	ok "(b) the reading client gets the 4 MiB event whole and the next one, and stays connected"
else
	not_ok "(b) the reading client gets the 4 MiB event whole and the next one, and stays connected"
	diag "events (length:first byte): $got"
	diag_file "$T/big.err"
fi
kill_wait "$big_pid"
kill_wait "$big_slow"
kill_wait "$bigf_pid"

# --- (c) the disconnected client resumes with Last-Event-ID ---------------------
sp_pipe c 60000 --client-timeout 2 --history 100000
c_pid=$sp_pid
slow c 59999
c_slow=$slow_pid
connected c 1
: >"$T/c.prog.go"
wait_for_file ': disconnected: held the stream up' "$T/c.err" 15
wait_for_file '^done ' "$T/c.prog" 20
: >"$T/c.go"
wait_exit "$c_slow" 30
# shellcheck disable=SC2046
set -- $(cat "$T/c.slow")
# drained K NUM resumed F L COUNT GAPS
if [ "${1:-}" = drained ] && [ "${2:-0}" -ge 1 ]; then
	ok "(c) the disconnected client had received $2 events (up to line $3)"
else
	not_ok "(c) the disconnected client had received some events"
	diag_file "$T/c.slow"
	diag_file "$T/c.err"
fi
if [ "${1:-}" = drained ] && [ "$5" = $(($3 + 1)) ] && [ "$6" = 59999 ] &&
    [ "$7" = $((59999 - $3)) ] && [ "$8" = 0 ]; then
	ok "(c) reconnected with Last-Event-ID: exactly the $7 events it missed, lines $5..$6, from the history"
else
	not_ok "(c) reconnected with Last-Event-ID: exactly the events it missed, from the history"
	diag "drained K NUM resumed F L COUNT GAPS:" "$(cat "$T/c.slow")"
	diag_file "$T/c.err"
fi
kill_wait "$c_pid"

# --- (d) 10,000 clients -----------------------------------------------------------
if "$CC" -O2 -std=gnu11 -o "$T/sseload" "$top_srcdir/bench/sseload.c" \
    >"$T/cc.log" 2>&1; then
	ok "bench/sseload.c builds"
else
	not_ok "bench/sseload.c builds"
	diag_file "$T/cc.log"
fi
nclients=${FLOW_CLIENTS:-10000}
# (ulimit -H and -S are not POSIX sh: ask and set the limits with python)
hard=$("$PYTHON" -c 'import resource
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
print(1 << 20 if h == resource.RLIM_INFINITY else h)')
if [ "$hard" -ge $((nclients + 100)) ]; then
	ok "the hard open-file limit ($hard) allows $nclients clients"
else
	not_ok "the hard open-file limit ($hard) allows $nclients clients"
	diag "raise the hard limit (ulimit -Hn) to at least $((nclients + 100))"
	nclients=$((hard - 100))
fi
rm -f "$T/d.fifo"
mkfifo "$T/d.fifo"
# ssepush with its soft open-file limit raised to what the clients need
"$PYTHON" -c 'import os, resource, sys
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE,
                   (n, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
os.execv(sys.argv[2], sys.argv[2:])' "$((nclients + 100))" \
    "$SSEPUSH" -l 127.0.0.1:0 --max-clients $((nclients * 2)) --heartbeat 0 \
    <"$T/d.fifo" >"$T/d.out" 2>"$T/d.err" &
d_pid=$!
track "$d_pid"
sleep 600 >"$T/d.fifo" &
track "$!"
sp_wait d
"$T/sseload" -n "$nclients" -u "$sp_url/events" -e 1 -d 90 -j \
    >"$T/load.json" 2>"$T/load.err" &
load_pid=$!
track "$load_pid"
start=$(now_ms)
if wait_for_file "^sseload: all $nclients clients connected" "$T/load.err" 60
then
	ok "sseload: all $nclients clients connected ($(( $(now_ms) - start )) ms)"
else
	not_ok "sseload: all $nclients clients connected"
	diag "$(tail -n 3 "$T/load.err")"
fi
is "$(metric ssepush_clients)" "$nclients" "/metrics: ssepush_clients $nclients"
start=$(now_ms)
# shellcheck disable=SC2016
echo "one for all" | timeout 10 sh -c 'cat >>"$1"' sh "$T/d.fifo"
wait_exit "$load_pid" 60
load_status=$status
elapsed=$(( $(now_ms) - start ))
if [ "$load_status" = 0 ] && [ "$elapsed" -lt 30000 ] &&
    grep -q "\"connected\":$nclients,\"failed\":0,.*\"min_events\":1," \
    "$T/load.json"; then
	ok "one event reached all $nclients clients in $elapsed ms"
else
	not_ok "one event reached all $nclients clients within 30 s"
	diag "sseload status $load_status after $elapsed ms"
	diag_file "$T/load.json"
	diag "$(tail -n 3 "$T/load.err")"
fi
kill_wait "$d_pid"

done_testing
