#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssecat-basic.sh: what ssecat prints, against a scripted HTTP server
# (tests/node/sse-server.js) on 127.0.0.1: the output modes (default, -N,
# -0, -j, -F, --raw), -e, -C, -W, the WHATWG parsing rules (multi-line data,
# CRLF and CR, a BOM, invalid UTF-8, an unfinished last event), a 16 MiB
# event, --max-event, live output to a pipe, a closed stdout and SIGTERM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 34

require "$NODE" "node (Node.js 20)"
require "$PYTHON" python3

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# same NAME DESC WANT_STATUS: compare $T/NAME.got with $T/NAME.want, the
# status with WANT_STATUS, and require an empty stderr.
same()
{
	if [ "$status" = "$3" ] && cmp -s "$T/$1.want" "$T/$1.got" &&
	    [ ! -s "$T/$1.stderr" ]; then
		ok "$2"
	else
		not_ok "$2"
		diag "status $status (expected $3)"
		diag "expected:" "$(od -c "$T/$1.want" | head -n 10)"
		diag "got:" "$(od -c "$T/$1.got" | head -n 10)"
		diag_file "$T/$1.stderr"
	fi
}

# --- the server ---------------------------------------------------------------
"$PYTHON" - "$T" <<'EOF'
import sys
t = sys.argv[1]
pat = b"0123456789abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNOPQRSTUVWXYZ-="
big = (pat * (16 * 1024 * 1024 // len(pat) + 1))[:16 * 1024 * 1024]
with open(t + "/big.sse", "wb") as f:
    f.write(b": a 16 MiB event\n\ndata: " + big + b"\n\ndata: after\n\n")
with open(t + "/big.want", "wb") as f:
    f.write(big + b"\nafter\n")
with open(t + "/maxev.sse", "wb") as f:
    f.write(b"data: small1\n\ndata: " + b"x" * 1500 + b"\ndata: "
            + b"y" * 1500 + b"\n\ndata: small2\n\n")
EOF
sed "s|@T@|$T|g" >"$T/srv.json" <<'EOF'
{
 "/basic": [{"body": ": comment\ndata: one\n\nevent: tick\nid: 7\ndata: two\ndata: lines\n\ndata:three\n\nid\ndata: four\n\n"}],
 "/json": [{"body": "event: t\"q\ndata: a\tb\u0000c\"d\\e\u00e9\u0001\nid: i\"1\n\nid: x\u0000y\ndata: z\n\n"}],
 "/round": [{"body": ": hello\r\nretry: 5000\r\nevent: a b\r\ndata: one\r\ndata:\r\ndata:  two\r\nid: r1\r\n\r\ndata\r\n\r\nevent: message\rdata: x\u0000y \u00e9\r\r:bye\n"}],
 "/reraw": [{"body_file": "@T@/raw.got"}],
 "/types": [{"body": "event: b\ndata: 1\n\nevent: a\ndata: 2\n\nevent: c\ndata: 3\n\ndata: 4\n\nevent: a\ndata: 5\n\n"}],
 "/open3": [{"body": "data: e1\n\ndata: e2\n\ndata: e3\n\n", "close": false}],
 "/edge": [{"body": "data\ndata\n\ndata:  sp\nfoo: bar\nretry: x1\n\nDATA: no\n\ndata: last\n\n"}],
 "/crlf": [{"body": "data: a\r\ndata: b\r\n\r\ndata: c\r\rdata: d\r\n\n"}],
 "/split": [{"body": "data: x\r", "chunks": [{"data": "\ndata: y\r", "delay_ms": 100}, {"data": "\n\r", "delay_ms": 100}, {"data": "\ndata: z\n\n", "delay_ms": 100}]}],
 "/bom": [{"body": "\ufeffdata: bom\n\n\ufeffdata: second bom\n\ndata: end\n\n"}],
 "/badutf8": [{"body_b64": "ZGF0YTogYf9iwwoKZGF0YTog4oIKCg=="}],
 "/bomsplit": [{"body_b64": "7w==", "chunks": [{"data_b64": "u79kYXRhOiB4Cgo=", "delay_ms": 100}]}],
 "/u8split": [{"body_b64": "ZGF0YTogww==", "chunks": [{"data_b64": "qeKC", "delay_ms": 100}, {"data_b64": "rAoK", "delay_ms": 100}]}],
 "/unfinished": [{"body": "data: done\n\ndata: unfinished\n"}],
 "/big": [{"body_file": "@T@/big.sse"}],
 "/maxev": [{"body_file": "@T@/maxev.sse"}],
 "/prompt": [{"body": ": open\n\n", "chunks": [{"data": "data: late\n\n", "delay_ms": 800}], "close": false}],
 "/head": [{"body": "data: one\n\ndata: two\n\n", "close": false}],
 "/term": [{"body": "data: x\n\n", "close": false}]
}
EOF
srv_up srv

# --- output modes -------------------------------------------------------------
sse def --no-reconnect "$U/basic"
printf 'one\ntwo\nlines\nthree\nfour\n' >"$T/def.want"
same def "default: data + newline, multi-line data, comments skipped" 0

sse nN -N --no-reconnect "$U/basic"
printf 'onetwo\nlinesthreefour' >"$T/nN.want"
same nN "-N: nothing after an event" 0

sse n0 -0 --no-reconnect "$U/basic"
printf 'one\000two\nlines\000three\000four\000' >"$T/n0.want"
same n0 "-0: NUL after an event" 0

sse j --json --no-reconnect "$U/basic"
cat >"$T/j.want" <<'EOF'
{"event":"message","data":"one"}
{"event":"tick","data":"two\nlines","id":"7"}
{"event":"message","data":"three","id":"7"}
{"event":"message","data":"four"}
EOF
same j "-j: key order event, data, id; id kept across events, absent once reset" 0

sse j2 -j --no-reconnect "$U/json"
printf '%s\n' '{"event":"t\"q","data":"a\tb\u0000c\"d\\eé\u0001","id":"i\"1"}' \
    '{"event":"message","data":"z","id":"i\"1"}' >"$T/j2.want"
same j2 "-j: escapes of tab, quote, backslash, U+0000, U+0001; UTF-8 as is; an id with NUL ignored" 0

fmt='%e|%d|%i|%%|%-6e|%4i|%.2d|@Y\t\\\e\a\v\r\0\n'
sse f -F "$fmt" --no-reconnect "$U/basic"
{
	printf 'message|one||%%|message|    |on|@Y\t\\\033\a\v\r\000\n'
	printf 'tick|two\nlines|7|%%|tick  |   7|tw|@Y\t\\\033\a\v\r\000\n'
	printf 'message|three|7|%%|message|   7|th|@Y\t\\\033\a\v\r\000\n'
	printf 'message|four||%%|message|    |fo|@Y\t\\\033\a\v\r\000\n'
} >"$T/f.want"
same f "-F %e %d %i %% widths, precision, @ literal, escapes: exact bytes" 0

sse iso -F '%I\n' -C 1 --no-reconnect "$U/basic"
stamp=$(cat "$T/iso.got")
now=$(date +%s)
then_s=$(date -u -d "$stamp" +%s 2>/dev/null || echo 0)
if [ "$status" = 0 ] &&
    printf '%s\n' "$stamp" |
    grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z' &&
    [ $((now - then_s)) -ge -2 ] && [ $((now - then_s)) -le 30 ]; then
	ok "-F %I: ISO 8601 UTC with milliseconds, the time received ($stamp)"
else
	not_ok "-F %I: ISO 8601 UTC with milliseconds, the time received"
	diag "status $status, got '$stamp', now $(date -u +%FT%TZ)"
fi

check_usage_error ssecat "" "-F with an unknown % sequence: usage error" \
    timeout 10 "$SSECAT" -F '%z' --no-reconnect "$U/basic"

sse raw --raw --no-reconnect "$U/basic"
# the id reset to empty before "four" is written as an empty id line
printf 'data: one\n\nid: 7\nevent: tick\ndata: two\ndata: lines\n\nid: 7\ndata: three\n\nid: \ndata: four\n\n' \
    >"$T/raw.want"
same raw "--raw: id, event and one data line per line; comments dropped" 0

# --raw of a stream with CRLF, a comment, retry, an empty data line, a
# double space, an empty event and NUL: served again, read back with -j, it
# gives the same events.
sse raw --raw --no-reconnect "$U/round"
if [ "$status" = 0 ] && grep -q '^data: one$' "$T/raw.got" &&
    ! grep -q '^:' "$T/raw.got" &&
    ! grep -q '^retry' "$T/raw.got" && ! grep -q "$(printf '\r')" "$T/raw.got"
then
	ok "--raw: no comment, no retry line, no CR"
else
	not_ok "--raw: no comment, no retry line, no CR"
	diag "status $status"
	diag "$(od -c "$T/raw.got" | head -n 12)"
fi
sse rt1 -j --no-reconnect "$U/round"
sse rt2 -j --no-reconnect "$U/reraw"
printf '%s\n' '{"event":"a b","data":"one\n\n two","id":"r1"}' \
    '{"event":"message","data":"","id":"r1"}' \
    '{"event":"message","data":"x\u0000y é","id":"r1"}' >"$T/rt1.want"
if cmp -s "$T/rt1.want" "$T/rt1.got" && cmp -s "$T/rt1.got" "$T/rt2.got" &&
    [ "$status" = 0 ]; then
	ok "--raw output read back by ssecat -j gives the same events"
else
	not_ok "--raw output read back by ssecat -j gives the same events"
	diag "expected:" "$(cat "$T/rt1.want")" "direct:" "$(cat "$T/rt1.got")" \
	    "through --raw:" "$(cat "$T/rt2.got")"
	diag_file "$T/rt2.stderr"
fi

# --- -e, -C, -W ---------------------------------------------------------------
sse e -e a -e c --no-reconnect "$U/types"
printf '2\n3\n5\n' >"$T/e.want"
same e "-e a -e c: only those types" 0
sse em --event message --no-reconnect "$U/types"
printf '4\n' >"$T/em.want"
same em "-e message: the default type" 0

start=$(now_ms)
sse c2 -C 2 "$U/open3"
elapsed=$(( $(now_ms) - start ))
printf 'e1\ne2\n' >"$T/c2.want"
same c2 "-C 2 on an open stream: two events, status 0 (${elapsed} ms)" 0

start=$(now_ms)
sse w124 -C 5 -W 1 "$U/open3"
elapsed=$(( $(now_ms) - start ))
printf 'e1\ne2\ne3\n' >"$T/w124.want"
if [ "$elapsed" -ge 800 ] && [ "$elapsed" -lt 10000 ]; then
	same w124 "-W 1 -C 5, 3 events: status 124 after ${elapsed} ms" 124
else
	not_ok "-W 1 -C 5, 3 events: status 124 after about 1 s"
	diag "status $status after $elapsed ms"
fi

start=$(now_ms)
sse w0 -W 0.5 "$U/open3"
elapsed=$(( $(now_ms) - start ))
cp "$T/w124.want" "$T/w0.want"
if [ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 10000 ]; then
	same w0 "-W 0.5 without -C: status 0 after ${elapsed} ms" 0
else
	not_ok "-W 0.5 without -C: status 0 after about 0.5 s"
	diag "status $status after $elapsed ms"
fi

closed=$(free_port)
start=$(now_ms)
sse w3 -W 1 "http://127.0.0.1:$closed/x"
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && [ "$elapsed" -lt 8000 ] && [ ! -s "$T/w3.got" ]; then
	ok "-W 1 before any connection (refused): status 3 after ${elapsed} ms"
else
	not_ok "-W 1 before any connection (refused): status 3 within 8 s"
	diag "status $status after $elapsed ms"
	diag_file "$T/w3.stderr"
fi

# --- parsing ------------------------------------------------------------------
sse edge --no-reconnect "$U/edge"
printf '\n\n sp\nlast\n' >"$T/edge.want"
same edge "bare data lines, one leading space removed, unknown fields ignored" 0

sse crlf -j --no-reconnect "$U/crlf"
printf '%s\n' '{"event":"message","data":"a\nb"}' \
    '{"event":"message","data":"c"}' '{"event":"message","data":"d"}' \
    >"$T/crlf.want"
same crlf "lines end at CRLF, CR and LF" 0

sse split -j --no-reconnect "$U/split"
printf '%s\n' '{"event":"message","data":"x\ny"}' \
    '{"event":"message","data":"z"}' >"$T/split.want"
same split "a CRLF split between two reads is one line end" 0

sse bom --no-reconnect "$U/bom"
printf 'bom\nend\n' >"$T/bom.want"
same bom "a leading BOM is skipped, a later one is part of the field name" 0

sse badutf8 --no-reconnect "$U/badutf8"
printf 'a\357\277\275b\357\277\275\n\357\277\275\n' >"$T/badutf8.want"
same badutf8 "invalid UTF-8 becomes U+FFFD (EF BF BD)" 0

sse bomsplit --no-reconnect "$U/bomsplit"
printf 'x\n' >"$T/bomsplit.want"
same bomsplit "a BOM split between two reads is still skipped" 0

sse u8split --no-reconnect "$U/u8split"
printf '\303\251\342\202\254\n' >"$T/u8split.want"
same u8split "UTF-8 characters split between reads are kept whole" 0

sse unfinished --no-reconnect "$U/unfinished"
printf 'done\n' >"$T/unfinished.want"
same unfinished "an unfinished event at the end of the stream is discarded" 0

sse big --no-reconnect "$U/big"
if [ "$status" = 0 ] && cmp -s "$T/big.want" "$T/big.got"; then
	ok "a 16 MiB event is printed whole (then the next one)"
else
	not_ok "a 16 MiB event is printed whole (then the next one)"
	diag "status $status, $(wc -c <"$T/big.got") bytes, expected $(wc -c <"$T/big.want")"
	diag_file "$T/big.stderr"
fi

sse maxev --max-event 1k --no-reconnect "$U/maxev"
printf 'small1\nsmall2\n' >"$T/maxev.want"
if [ "$status" = 1 ] && cmp -s "$T/maxev.want" "$T/maxev.got" &&
    grep -q '^ssecat: ' "$T/maxev.stderr"; then
	ok "--max-event 1k: a 3 KB event skipped with a diagnostic, later events printed, status 1"
	diag "$(head -n 1 "$T/maxev.stderr")"
else
	not_ok "--max-event 1k: a 3 KB event skipped with a diagnostic, later events printed, status 1"
	diag "status $status" "got:" "$(head -c 300 "$T/maxev.got")"
	diag_file "$T/maxev.stderr"
fi

# --- live output, closed stdout, SIGTERM --------------------------------------
# ssecat | cat > file: the event is in the file soon after the server sent it
mkfifo "$T/prompt.fifo"
cat <"$T/prompt.fifo" >"$T/prompt.file" &
cat_pid=$!
track "$cat_pid"
timeout 20 "$SSECAT" "$U/prompt" >"$T/prompt.fifo" 2>"$T/prompt.stderr" &
pr_pid=$!
track "$pr_pid"
n=0
while ! grep -q '^late$' "$T/prompt.file" && [ "$n" -lt 500 ]; do
	sleep 0.01
	n=$((n + 1))
done
seen=$(now_ms)
sent=$(awk '$1 == "sent" && $2 == "/prompt" { print $5 }' "$T/srv.out")
if grep -q '^late$' "$T/prompt.file" && [ -n "$sent" ] &&
    [ $((seen - sent)) -lt 500 ]; then
	ok "ssecat | cat > file: the event is in the file $((seen - sent)) ms after the server sent it (< 500)"
else
	not_ok "ssecat | cat > file: the event is in the file within 500 ms of being sent"
	diag "sent at '$sent', seen at $seen"
	diag_file "$T/prompt.file"
	diag_file "$T/prompt.stderr"
fi
kill_wait "$pr_pid"
wait_exit "$cat_pid" 5

# ssecat | head -n 1 ends promptly and silently, the stream still open
mkfifo "$T/head.fifo"
head -n 1 <"$T/head.fifo" >"$T/head.file" &
head_pid=$!
track "$head_pid"
timeout 20 "$SSECAT" "$U/head" >"$T/head.fifo" 2>"$T/head.stderr" &
hd_pid=$!
track "$hd_pid"
wait_exit "$head_pid" 10
start=$(now_ms)
wait_exit "$hd_pid" 10
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 0 ] && [ "$elapsed" -lt 3000 ] &&
    [ "$(cat "$T/head.file")" = one ] && [ ! -s "$T/head.stderr" ]; then
	ok "ssecat | head -n 1: status 0, silent, ${elapsed} ms after head ended"
else
	not_ok "ssecat | head -n 1: status 0, silent, within 3 s of head ending"
	diag "status $status after $elapsed ms, head got '$(cat "$T/head.file")'"
	diag_file "$T/head.stderr"
fi
check "the stream was still open when ssecat left (the server saw it go)" \
    wait_for_file '^gone /head ' "$T/srv.out" 5

timeout 20 "$SSECAT" "$U/term" >"$T/term.got" 2>"$T/term.stderr" &
term_pid=$!
track "$term_pid"
wait_for_file '^x$' "$T/term.got" 10
kill -TERM "$term_pid"
wait_exit "$term_pid" 10
is "$status:$(cat "$T/term.got")" "143:x" "SIGTERM: output flushed, dies by the signal (143)"

# --- no reconnection happened in all this (every stream used once) -----------
multi=$(grep -o '"path":"[^"]*"' "$T/srv.log" | sort | uniq -d |
    grep -v -e '"/round"' -e '"/basic"' -e '"/open3"' -e '"/types"')
is "$multi" "" "--no-reconnect and -C: no path was requested twice unexpectedly"
is "$(reqs /round):$(reqs /basic):$(reqs /open3):$(reqs /types)" \
    "2:7:3:2" "request counts of the paths used several times"

done_testing
