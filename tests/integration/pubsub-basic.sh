#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# pubsub-basic.sh: every message source of mqpub, the plain outputs of
# mqsub, retained messages, -T/-C/-W/-E, and interoperability with
# mosquitto_pub and mosquitto_sub.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 30

require "$MOSQUITTO" mosquitto
require "$MOSQUITTO_PUB" mosquitto_pub
require "$MOSQUITTO_SUB" mosquitto_sub
if broker_start; then
	ok "broker started on port $BROKER_PORT"
else
	not_ok "broker started"
	done_testing
fi

# same_file DESC WANT GOT: byte comparison, with a hex dump when different.
same_file()
{
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected:" "$(od -c "$2" | head -n 5)" \
		    "got:" "$(od -c "$3" | head -n 5)"
	fi
}

# -m
sub_start s_m basic/m -C 1
run pub -t basic/m -m 'hello world'
sub_wait
is "$status:$(cat "$T/s_m.out")" "0:hello world" "-m: one message, printed"

# -f: binary file with NUL and 0xff bytes, compared byte for byte (-N)
printf 'bin\000ary\377\376\n\000end\r\n\377' >"$T/bin"
sub_start s_f basic/f -C 1 -N
run pub -t basic/f -f "$T/bin"
pst=$status
sub_wait
is "$pst $status" "0 0" "-f: mqpub and mqsub -N exit 0"
same_file "-f: binary file arrives byte for byte" "$T/bin" "$T/s_f.out"

# -f on a missing file: a runtime error, nothing published
run pub -t basic/f -f "$T/no-such-file"
if [ "$status" = 1 ] && grep -q "^mqpub: .*no-such-file" "$T/err"; then
	ok "-f on a missing file: status 1, names the file"
else
	not_ok "-f on a missing file: status 1, names the file"
	diag "status $status"
	diag_file "$T/err"
fi

# -s: the whole of stdin, binary-safe, as one message
{ cat "$T/bin"; printf 'second\nline\n'; } >"$T/bin2"
sub_start s_s basic/s -C 1 -N
pub -t basic/s -s <"$T/bin2" >/dev/null 2>&1
sub_wait
same_file "-s: stdin published whole as one message" "$T/bin2" "$T/s_s.out"

# -l: each line one message, \n removed, empty lines too, last line without
# a newline too
sub_start s_l basic/l -C 4 -F '[%p]'
printf 'one\ntwo\n\nfour' | pub -t basic/l -l >/dev/null 2>&1
sub_wait
is "$status:$(cat "$T/s_l.out")" "0:[one][two][][four]" \
    "-l: one message per line, in order"
# -l is the default
sub_start s_l2 basic/l2 -C 2 -F '[%p]'
printf 'x\ny\n' | pub -t basic/l2 >/dev/null 2>&1
sub_wait
is "$(cat "$T/s_l2.out")" "[x][y]" "no source option: lines of stdin"

# -0: NUL-terminated records with embedded newlines, through mqsub -0
printf 'first\nrecord\000\000third\377\000' >"$T/nul"
sub_start s_0 basic/0 -C 3 -0
pub -t basic/0 -0 <"$T/nul" >/dev/null 2>&1
sub_wait
same_file "-0: NUL records (embedded newline, empty, 0xff) round trip" \
    "$T/nul" "$T/s_0.out"

# -n: a zero-length message
sub_start s_n basic/n -C 1 -F '%l|%p|'
run pub -t basic/n -n
sub_wait
is "$status:$(cat "$T/s_n.out")" "0:0||" "-n: a zero-length message"

# -r: retained, seen by a later subscriber; -v prints "topic payload"
run pub -t basic/r/1 -r -q 1 -m 'kept value'
is "$status" 0 "-r -q 1: publish acknowledged"
run sub -t 'basic/r/#' -C 1 -v
is "$status:$(cat "$T/out")" "0:basic/r/1 kept value" \
    "a later mqsub gets the retained message (-v: topic payload)"
# -R hides it
run sub -t 'basic/r/#' -R -W 1
is "$status:$(cat "$T/out")" "0:" "-R: the retained message is not printed"
# --retained-only prints it and exits by itself
start=$(now_ms)
run sub -t 'basic/r/#' --retained-only
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 0 ] && [ "$(cat "$T/out")" = "kept value" ] &&
    [ "$elapsed" -lt 5000 ]; then
	ok "--retained-only: prints the retained message, exits 0 (${elapsed} ms)"
else
	not_ok "--retained-only: prints the retained message, exits 0"
	diag "status $status after $elapsed ms"
	diag_file "$T/out"
fi
# --remove-retained clears it
run sub -t 'basic/r/#' --remove-retained --retained-only
rst=$status
run timeout 10 "$MOSQUITTO_SUB" -p "$BROKER_PORT" -h 127.0.0.1 \
    -t 'basic/r/#' --retained-only -W 1
if [ "$rst" = 0 ] && [ ! -s "$T/out" ]; then
	ok "--remove-retained: mosquitto_sub then sees no retained message"
else
	not_ok "--remove-retained: mosquitto_sub then sees no retained message"
	diag "mqsub status $rst"
	diag_file "$T/out"
fi

# -T: filter out a subtree
sub_start s_T 'basic/T/#' -T 'basic/T/x/#' -v -C 2
for t in basic/T/x/1 basic/T/a basic/T/x basic/T/b; do
	pub -t "$t" -q 1 -m "$t" >/dev/null 2>&1
done
sub_wait
is "$status:$(tr '\n' , <"$T/s_T.out")" \
    "0:basic/T/a basic/T/a,basic/T/b basic/T/b," \
    "-T: matching topics are not printed"

# -C: exits after exactly N messages
sub_start s_C basic/C -C 3
seq 1 5 | pub -t basic/C -q 1 >/dev/null 2>&1
sub_wait 5
is "$status:$(tr '\n' , <"$T/s_C.out")" "0:1,2,3," \
    "-C 3: three messages printed, then exit 0"

# -W: 124 when -C is not reached, 0 without -C
start=$(now_ms)
run sub -t basic/W -C 5 -W 1
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 124 ] && [ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 4000 ]
then
	ok "-W 1 -C 5 with no messages: status 124 after ${elapsed} ms"
else
	not_ok "-W 1 -C 5 with no messages: status 124 after ${elapsed} ms"
	diag "status $status"
	diag_file "$T/err"
fi
run sub -t basic/W -W 1
is "$status:$(cat "$T/out")" "0:" "-W 1 without -C: status 0"
sub_start s_W basic/W -C 5 -W 2
seq 1 2 | pub -t basic/W -q 1 >/dev/null 2>&1
sub_wait 5
is "$status:$(tr '\n' , <"$T/s_W.out")" "124:1,2," \
    "-W 2 -C 5 with 2 messages: both printed, status 124"

# -E: exit once subscribed
start=$(now_ms)
run sub -t basic/E -E
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 0 ] && [ ! -s "$T/out" ] && [ ! -s "$T/err" ] &&
    [ "$elapsed" -lt 3000 ]; then
	ok "-E: exits 0 once subscribed, silently (${elapsed} ms)"
else
	not_ok "-E: exits 0 once subscribed, silently (${elapsed} ms)"
	diag "status $status"
	diag_file "$T/err"
fi
# -E with -c: the persistent session keeps what was published meanwhile
run sub -t basic/Es -E -c -i basic-es -q 1
est=$status
pub -t basic/Es -q 1 -m 'while away' >/dev/null 2>&1
run sub -t basic/Es -c -i basic-es -q 1 -C 1
is "$est $status:$(cat "$T/out")" "0 0:while away" \
    "-E -c: the session then gets what was published while away"

# -U: unsubscribe a persistent session, alone or with new -t filters
run sub -c -i basic-u -q 1 -t basic/U1 -E
run sub -c -i basic-u -U basic/U1 -E
ust=$status
pub -t basic/U1 -q 1 -m 'not for basic-u' >/dev/null 2>&1
SUB_TIMEOUT=10 run sub -c -i basic-u -q 1 -t basic/U2 -W 1
is "$ust $status:$(cat "$T/out")" "0 0:" \
    "-U -E: the session no longer gets messages for the filter"
SUB_TIMEOUT=10 run sub -c -i basic-u -q 1 -U basic/U2 -t basic/U3 -E
is "$status:$(cat "$T/out" "$T/err")" "0:" \
    "-U with -t and -E: exits 0 once both are acknowledged"

# mosquitto_pub -> mqsub
sub_start s_mp basic/mp -C 2 -N
timeout 10 "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$BROKER_PORT" -t basic/mp \
    -q 1 -f "$T/bin"
timeout 10 "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$BROKER_PORT" -t basic/mp \
    -q 2 -m 'from mosquitto_pub'
sub_wait
{ cat "$T/bin"; printf 'from mosquitto_pub'; } >"$T/mp.want"
is "$status" 0 "mosquitto_pub -> mqsub: mqsub exits 0 after -C 2"
same_file "mosquitto_pub -> mqsub: payloads byte for byte" \
    "$T/mp.want" "$T/s_mp.out"

# mqpub -> mosquitto_sub
timeout 10 "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$BROKER_PORT" -i ms_sub \
    -t basic/ms -C 3 -N >"$T/ms.out" 2>"$T/ms.err" &
pid=$!
track "$pid"
broker_subscribed ms_sub basic/ms
run pub -t basic/ms -q 1 -f "$T/bin"
printf 'line one\nline two\n' | pub -t basic/ms -q 2 >/dev/null 2>&1
wait_exit "$pid" 5
{ cat "$T/bin"; printf 'line oneline two'; } >"$T/ms.want"
is "$status" 0 "mqpub -> mosquitto_sub: mosquitto_sub gets 3 messages"
same_file "mqpub -> mosquitto_sub: payloads byte for byte" \
    "$T/ms.want" "$T/ms.out"

# several filters, one mqsub
sub_start s_multi 'basic/mu/a' -t 'basic/mu/b/+' -v -C 2
pub -t basic/mu/a -q 1 -m first >/dev/null 2>&1
pub -t basic/mu/c -q 1 -m other >/dev/null 2>&1
pub -t basic/mu/b/c -q 1 -m second >/dev/null 2>&1
sub_wait
is "$status:$(tr '\n' , <"$T/s_multi.out")" \
    "0:basic/mu/a first,basic/mu/b/c second," \
    "two -t filters: both subscribed"

# nothing unexpected on stderr from all of the above subscribers
errs=$(cat "$T"/s_*.err)
is "$errs" "" "no diagnostics from the mqsub runs"

done_testing
