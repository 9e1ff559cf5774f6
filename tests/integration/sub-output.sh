#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# sub-output.sh: how mqsub writes: a closed stdout ends it promptly and
# silently, output is live (a message after idle is not held back), writes
# are batched under load, -F/-N/-0 formats, and --max-buffer when stdout is
# blocked.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 16

require "$MOSQUITTO" mosquitto
require "$MOSQUITTO_SUB" mosquitto_sub
require "$PYTHON" python3

# no limit on queued messages: the subscriber under strace is slow
if broker_start 'max_queued_messages 0'; then
	ok "broker started on port $BROKER_PORT"
else
	not_ok "broker started"
	done_testing
fi

# --- mqsub | head -n 2 --------------------------------------------------------
mkfifo "$T/head.fifo"
head -n 2 <"$T/head.fifo" >"$T/head.out" &
head_pid=$!
track "$head_pid"
timeout 20 "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" -i headsub -t out/head \
    >"$T/head.fifo" 2>"$T/head.err" &
sub_pid=$!
track "$sub_pid"
broker_subscribed headsub out/head
printf 'one\ntwo\n' | pub -t out/head >/dev/null 2>&1
start=$(now_ms)
wait_exit "$sub_pid" 10
sst=$status
elapsed=$(( $(now_ms) - start ))
wait_exit "$head_pid" 5
if [ "$elapsed" -lt 2000 ] && [ "$sst" = 0 ]; then
	ok "mqsub | head -n 2: mqsub exits 0, ${elapsed} ms after the 2nd message"
else
	not_ok "mqsub | head -n 2: mqsub exits 0, ${elapsed} ms after the 2nd message"
	diag "status $sst"
fi
is "$(tr '\n' , <"$T/head.out"):$(cat "$T/head.err")" "one,two,:" \
    "mqsub | head -n 2: head got both lines, mqsub said nothing"

# --- latency: a message after idle reaches the pipe at once ---------------
cat >"$T/stamp.py" <<'EOF'
import os, sys, time
out = open(sys.argv[1], "w")
buf = b""
while True:
    d = os.read(0, 65536)
    if not d:
        break
    now = int(time.time() * 1000)
    buf += d
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        out.write("%d %s\n" % (now, line.decode("utf-8", "replace")))
        out.flush()
EOF
mkfifo "$T/lat.fifo"
"$PYTHON" "$T/stamp.py" "$T/lat.stamps" <"$T/lat.fifo" &
stamp_pid=$!
track "$stamp_pid"
timeout 20 "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" -i latsub -t out/lat \
    >"$T/lat.fifo" 2>"$T/lat.err" &
lat_pid=$!
track "$lat_pid"
broker_subscribed latsub out/lat
for n in 1 2; do
	sleep 0.5 # idle: nothing else pending in mqsub
	t0=$(now_ms)
	pub -t out/lat -m "late $n" >/dev/null 2>&1
	if wait_lines "$T/lat.stamps" "$n" 5; then
		t1=$(sed -n "${n}s/ .*//p" "$T/lat.stamps")
		lat=$((t1 - t0))
	else
		lat=timeout
	fi
	if [ "$lat" != timeout ] && [ "$lat" -lt 500 ]; then
		ok "a message after idle reaches a pipe reader in $lat ms (< 500, publisher start included)"
	else
		not_ok "a message after idle reaches a pipe reader in $lat ms (< 500, publisher start included)"
		diag_file "$T/lat.stamps"
	fi
done
kill_wait "$lat_pid"
wait_exit "$stamp_pid" 5

# --- batching: far fewer write(2) calls than messages -----------------------
STRACE=$(_tap_find strace)
if [ -z "$STRACE" ]; then
	not_ok "strace is needed to count write calls (apt-get install strace)"
	not_ok "(batching not measured)"
else
	# LeakSanitizer cannot run under ptrace: no leak check in this one.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    timeout 60 "$STRACE" -f -e trace=write,writev -e signal=none \
	    -o "$T/strace.log" "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" \
	    -i batchsub -t out/batch -C 20000 >"$T/batch.out" \
	    2>"$T/batch.err" &
	batch_pid=$!
	track "$batch_pid"
	broker_subscribed batchsub out/batch 10
	seq 1 20000 | PUB_TIMEOUT=40 pub -t out/batch >/dev/null 2>&1
	wait_exit "$batch_pid" 40
	seq 1 20000 >"$T/batch.want"
	if [ "$status" = 0 ] && cmp -s "$T/batch.want" "$T/batch.out"; then
		ok "20000 QoS 0 messages received under strace"
	else
		not_ok "20000 QoS 0 messages received under strace"
		diag "status $status, $(wc -l <"$T/batch.out") lines"
		diag_file "$T/batch.err"
	fi
	writes=$(grep -Ec '^[0-9]+ +writev?\(1,' "$T/strace.log")
	if [ "$writes" -gt 0 ] && [ "$writes" -lt 2000 ]; then
		ok "output batched: $writes write calls to stdout for 20000 messages"
	else
		not_ok "output batched: $writes write calls to stdout for 20000 messages"
	fi
fi

# --- -F, -N, -0 --------------------------------------------------------------
pub -t out/fmt/r -r -q 1 -m "$(printf 'AB\001z')" >/dev/null 2>&1
fmt='%t|%p|%l|%q|%r|%x|%X|%%|%5l|%-8t|%08l|@@|\t\\\e\a\v\r\0|%C|%R|%P|@Y\n'
SUB_TIMEOUT=10 sub_start fmtsub 'out/fmt/#' -q 1 -C 3 -F "$fmt"
timeout 10 "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$BROKER_PORT" -V 5 -i fmtref \
    -t 'out/fmt/#' -q 1 -C 3 -N -F "$fmt" >"$T/fmtref.out" 2>&1 &
ref_pid=$!
track "$ref_pid"
broker_subscribed fmtref 'out/fmt/#'
pub -t out/fmt/live -q 0 -m 'live message' >/dev/null 2>&1
pub -t out/fmt/p -q 1 -m props --content-type text/x --response-topic r/t \
    --user-property a=b --user-property c=d >/dev/null 2>&1
sub_wait 5
wait_exit "$ref_pid" 5
year=$(date +%Y)
{
	printf 'out/fmt/r|AB\001z|4|1|1|4142017a|4142017A|%%|    4|out/fmt/r|00000004|@|\t\\\033\a\v\r\000||||%s\n' "$year"
	printf 'out/fmt/live|live message|12|0|0|6c697665206d657373616765|6C697665206D657373616765|%%|   12|out/fmt/live|00000012|@|\t\\\033\a\v\r\000||||%s\n' "$year"
	printf 'out/fmt/p|props|5|1|0|70726f7073|70726F7073|%%|    5|out/fmt/p|00000005|@|\t\\\033\a\v\r\000|text/x|r/t|a:b c:d|%s\n' "$year"
} >"$T/fmt.want"
if cmp -s "$T/fmt.want" "$T/fmtsub.out"; then
	ok "-F %t %p %l %q %r %x %X %% widths @@ escapes %C %R %P @Y: exact bytes"
else
	not_ok "-F %t %p %l %q %r %x %X %% widths @@ escapes %C %R %P @Y: exact bytes"
	diag "expected:" "$(od -c "$T/fmt.want" | head -n 12)"
	diag "got:" "$(od -c "$T/fmtsub.out" | head -n 12)"
fi
if cmp -s "$T/fmtref.out" "$T/fmtsub.out"; then
	ok "-F: the same bytes as mosquitto_sub -V 5 -N -F"
else
	not_ok "-F: the same bytes as mosquitto_sub -V 5 -N -F"
	diag "$(cmp "$T/fmtref.out" "$T/fmtsub.out" 2>&1)"
fi

# field widths are minimum widths (mosquitto_sub(1), "Field width"), also
# for the payload and its hex forms; a precision is a maximum width on %t
fmt2='[%4p][%-14p][%14p][%8x][%6X][%10.4t][%-6.3t]\n'
SUB_TIMEOUT=10 sub_start fmtw out/w -C 2 -F "$fmt2"
printf 'ab\nlive message\n' | pub -t out/w -q 1 >/dev/null 2>&1
sub_wait 5
{
	printf '[  ab][ab            ][            ab][    6162][  6162]'
	printf '[      out/][out   ]\n'
	printf '[live message][live message  ][  live message]'
	printf '[6c697665206d657373616765][6C697665206D657373616765]'
	printf '[      out/][out   ]\n'
} >"$T/fmtw.want"
if cmp -s "$T/fmtw.want" "$T/fmtw.out"; then
	ok "-F field widths (minimum) on %p %x %X, maximum width on %t"
else
	not_ok "-F field widths (minimum) on %p %x %X, maximum width on %t"
	diag "expected:" "$(cat "$T/fmtw.want")" "got:" "$(cat "$T/fmtw.out")"
fi

# %I and %U
SUB_TIMEOUT=10 sub_start fmtt out/t -C 1 -F '%I|%U'
pub -t out/t -q 1 -m x >/dev/null 2>&1
sub_wait 5
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}\|[0-9]{10,}\.[0-9]{9}$' "$T/fmtt.out"
then
	ok "-F %I (ISO 8601 with offset) and %U (seconds.nanoseconds)"
else
	not_ok "-F %I (ISO 8601 with offset) and %U (seconds.nanoseconds)"
	diag_file "$T/fmtt.out"
fi

# -N, -0, with and without -v
pids=
for s in "nN -N" "n0 -0" "nvN -v -N" "nv0 -v -0"; do
	# shellcheck disable=SC2086
	set -- $s
	name=$1
	shift
	SUB_TIMEOUT=10 sub_start "$name" out/n -C 2 "$@"
	# shellcheck disable=SC2153
	pids="$pids $SUB_PID"
done
printf 'a b\nc\n' | pub -t out/n -q 1 >/dev/null 2>&1
for pid in $pids; do
	wait_exit "$pid" 5
done
printf 'a bc' >"$T/nN.want"
printf 'a b\000c\000' >"$T/n0.want"
printf 'out/n a bout/n c' >"$T/nvN.want"
printf 'out/n a b\000out/n c\000' >"$T/nv0.want"
for s in nN n0 nvN nv0; do
	case $s in
	nN) d="-N" ;;
	n0) d="-0" ;;
	nvN) d="-v -N" ;;
	nv0) d="-v -0" ;;
	esac
	if cmp -s "$T/$s.want" "$T/$s.out"; then
		ok "$d: records ended as asked"
	else
		not_ok "$d: records ended as asked"
		diag "$(od -c "$T/$s.out" | head -n 4)"
	fi
done

# --- --max-buffer with a reader that never reads ---------------------------
mkfifo "$T/mb.fifo"
# shellcheck disable=SC2217
sleep 30 <"$T/mb.fifo" &
sleep_pid=$!
track "$sleep_pid"
timeout 30 "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" -i mbsub -t out/mb \
    --max-buffer 100000 >"$T/mb.fifo" 2>"$T/mb.err" &
mb_pid=$!
track "$mb_pid"
broker_subscribed mbsub out/mb
"$PYTHON" -c 'import sys
for i in range(10000):
    sys.stdout.write("%05d%s\n" % (i, "x" * 95))' |
    PUB_TIMEOUT=20 pub -t out/mb >/dev/null 2>&1
start=$(now_ms)
wait_exit "$mb_pid" 10
elapsed=$(( $(now_ms) - start ))
kill_wait "$sleep_pid"
if [ "$status" = 1 ] && [ "$(wc -l <"$T/mb.err")" -eq 1 ] &&
    grep -Eq '^mqsub: standard output blocked: [1-9][0-9]* received messages could not be written$' "$T/mb.err"
then
	ok "--max-buffer 100000, stdout never read: status 1 ${elapsed} ms after the last publish, says how many"
	diag "$(cat "$T/mb.err")"
else
	not_ok "--max-buffer 100000, stdout never read: status 1, says how many"
	diag "status $status after $elapsed ms"
	diag_file "$T/mb.err"
fi

done_testing
