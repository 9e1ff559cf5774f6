#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# pubsub-json.sh: mqsub -j output (payload vs payload_b64, properties),
# mqpub -j input and its error reports, and a broker-to-broker mirror
# `mqsub -q 2 -j | mqpub -j` that keeps topics, bytes, QoS and retained state.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 25

require "$MOSQUITTO" mosquitto
require "$PYTHON" python3

# norm.py [FILE]: check that every line is one JSON object and print it as
# TOPIC<TAB>KEY<TAB>HEX OF THE PAYLOAD BYTES<TAB>QOS<TAB>RETAIN, where KEY is
# payload or payload_b64.  Exit 1 (with a message) on a line that is not
# valid JSON, lacks a key, or has both or neither payload keys.
cat >"$T/norm.py" <<'EOF'
import base64, json, re, sys
f = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for n, raw in enumerate(f, 1):
    try:
        r = json.loads(raw.decode("utf-8"))
    except Exception as e:
        sys.exit("line %d: not JSON: %s: %r" % (n, e, raw[:200]))
    if not isinstance(r, dict):
        sys.exit("line %d: not an object" % n)
    if ("payload" in r) == ("payload_b64" in r):
        sys.exit("line %d: both or neither payload keys" % n)
    if not ts.match(r.get("ts", "")):
        sys.exit("line %d: bad ts %r" % (n, r.get("ts")))
    if type(r.get("qos")) is not int or type(r.get("retain")) is not bool:
        sys.exit("line %d: bad qos or retain" % n)
    if "payload" in r:
        key, b = "payload", r["payload"].encode("utf-8")
    else:
        key, b = "payload_b64", base64.b64decode(r["payload_b64"],
                                                  validate=True)
    print("%s\t%s\t%s\t%d\t%s" % (r["topic"], key, b.hex(), r["qos"],
                                  str(r["retain"]).lower()))
EOF
norm()
{
	"$PYTHON" "$T/norm.py" "$@"
}
hex()
{
	od -An -v -tx1 | tr -d ' \n'
}

if broker_start; then
	ok "broker A started on port $BROKER_PORT"
else
	not_ok "broker A started"
	done_testing
fi
A=$BROKER_DIR

# --- mqsub -j: payload or payload_b64 --------------------------------------
sub_start js 'js/#' -j -C 6 -q 2
text=$(printf 'tab\there\nnew line "quoted" %s' "\\")
pub -t js/text -m "$text" >/dev/null 2>&1
pub -t js/utf8 -m "$(printf 'caf\303\251 \342\202\254 \360\237\230\200')" \
    >/dev/null 2>&1
printf 'a\000b' | pub -t js/nul -s >/dev/null 2>&1
printf 'bad \303\050 utf8' | pub -t js/invalid -s >/dev/null 2>&1
printf '\355\240\200' | pub -t js/surrogate -s >/dev/null 2>&1
pub -t js/empty -n >/dev/null 2>&1
sub_wait
if norm "$T/js.out" >"$T/js.norm" 2>"$T/js.normerr" &&
    [ "$(wc -l <"$T/js.norm")" -eq 6 ]; then
	ok "mqsub -j: 6 lines, each a JSON object with topic, qos, retain, ts"
else
	not_ok "mqsub -j: 6 lines, each a JSON object with topic, qos, retain, ts"
	diag_file "$T/js.normerr"
	diag_file "$T/js.out"
fi
field()
{
	awk -F '\t' -v t="$1" '$1 == t { print $2 " " $3 }' "$T/js.norm"
}
is "$(field js/text)" \
    "payload $(printf '%s' "$text" | hex)" \
    "text with tab, newline, quote, backslash: \"payload\", exact bytes"
is "$(field js/utf8)" \
    "payload $(printf 'caf\303\251 \342\202\254 \360\237\230\200' | hex)" \
    "multi-byte UTF-8: \"payload\", exact bytes"
is "$(field js/nul)" "payload_b64 610062" "a NUL byte: \"payload_b64\""
is "$(field js/invalid)" "payload_b64 $(printf 'bad \303\050 utf8' | hex)" \
    "invalid UTF-8: \"payload_b64\""
is "$(field js/surrogate)" "payload_b64 eda080" \
    "an encoded UTF-16 surrogate is not valid UTF-8: \"payload_b64\""
if grep '"js/empty"' "$T/js.out" | grep -q '"payload":""'; then
	ok "zero-length payload: \"payload\":\"\""
else
	not_ok "zero-length payload: \"payload\":\"\""
	diag_file "$T/js.out"
fi

# --- MQTT 5 properties: mqpub options -> mqsub -j "properties" ---------------
sub_start jp 'jp/#' -j -C 2
pub -t jp/1 -m p --content-type 'text/plain; charset=utf-8' \
    --user-property k=v --user-property 'k2=v=2' --message-expiry 3600 \
    --response-topic resp/t --correlation-data 'corr 1' >/dev/null 2>&1
pub -t jp/2 -m plain >/dev/null 2>&1
sub_wait
"$PYTHON" - "$T/jp.out" >"$T/jp.res" 2>&1 <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
p = recs[0]["properties"]
assert p["content_type"] == "text/plain; charset=utf-8", p
assert p["user"] == [["k", "v"], ["k2", "v=2"]], p
assert p["response_topic"] == "resp/t", p
assert p["correlation_data_b64"] == "Y29yciAx", p
assert 3590 <= p["message_expiry"] <= 3600, p
assert "properties" not in recs[1], recs[1]
EOF
status=$?
if [ "$status" = 0 ] && [ ! -s "$T/jp.res" ]; then
	ok "properties: content type, user properties, expiry, response topic, correlation data"
else
	not_ok "properties: content type, user properties, expiry, response topic, correlation data"
	diag_file "$T/jp.res"
	diag_file "$T/jp.out"
fi

# --- mqpub -j input -----------------------------------------------------------
sub_start jin 'jin/#' -v -C 3 -q 2
printf '%s\n' '{"topic":"jin/1","payload":"first"}' \
    '{"topic":"jin/2","payload":' \
    '{"topic":"jin/3","payload_b64":"dGhpcmQ=","ts":"ignored"}' \
    '{"topic":"jin/4","payload":"fourth","qos":1}' | pub -j >"$T/out" 2>"$T/err"
pst=$?
sub_wait
is "$pst" 1 "mqpub -j with a bad line: status 1"
if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^mqpub: <stdin>:2: ' "$T/err"
then
	ok "the bad line is reported as 'mqpub: <stdin>:2: reason'"
else
	not_ok "the bad line is reported as 'mqpub: <stdin>:2: reason'"
	diag_file "$T/err"
fi
is "$(tr '\n' , <"$T/jin.out")" "jin/1 first,jin/3 third,jin/4 fourth," \
    "the good lines around it are published, in order"

printf '%s\n' '{"topic":"jin/5","payload":"ok"}' '{"payload":"no topic"}' |
    pub -j >"$T/out" 2>"$T/err"
status=$?
if [ "$status" = 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -q '^mqpub: <stdin>:2: .*topic' "$T/err"; then
	ok "no topic and no -t: 'mqpub: <stdin>:2: ...topic...', status 1"
else
	not_ok "no topic and no -t: 'mqpub: <stdin>:2: ...topic...', status 1"
	diag "status $status"
	diag_file "$T/err"
fi

sub_start jd 'jd/#' -j -q 2 -C 2
printf '%s\n' '{"payload":"default topic"}' \
    '{"topic":"jd/other","payload":"own","qos":0,"retain":false}' |
    pub -j -t jd/default -q 1 >"$T/out" 2>"$T/err"
pst=$?
sub_wait
is "$pst|$(norm "$T/jd.out" | tr '\t\n' ' |')" \
    "0|jd/default payload $(printf 'default topic' | hex) 1 false|jd/other payload 6f776e 0 false|" \
    "missing topic and qos fall back to -t and -q; a record's own win"

for bad in '{"topic":"jb/1","payload":"a","payload_b64":"YQ=="}' \
    '{"topic":"jb/1"}' '{"topic":"jb/#","payload":"a"}' \
    '{"topic":"jb/1","payload":"a\u0000b"}' \
    '{"topic":"jb/1","payload":"a"} trailing' \
    '{"topic":"jb/1","payload_b64":"%%%"}'; do
	printf '%s\n' '{"topic":"jb/0","payload":"x"}' "$bad" |
	    pub -j >"$T/out" 2>"$T/err"
	status=$?
	if [ "$status" = 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
	    grep -q '^mqpub: <stdin>:2: ' "$T/err"; then
		ok "bad record reported on line 2, status 1: $bad"
	else
		not_ok "bad record reported on line 2, status 1: $bad"
		diag "status $status"
		diag_file "$T/err"
	fi
done

# --- mirror A -> B --------------------------------------------------------
# Retained messages exist on A before the mirror starts; live ones follow.
pub -t m/ret/text -r -q 1 -m 'retained text' >/dev/null 2>&1
printf 'r\000\377' | pub -t m/ret/bin -r -q 2 -s >/dev/null 2>&1
pub -t m/ret/q0 -r -q 0 -m 'retained q0' >/dev/null 2>&1
# (QoS 0 has no acknowledgement: wait for a QoS 1 publish after it)
pub -t m/sync -q 1 -n >/dev/null 2>&1

if broker_start; then
	ok "broker B started on port $BROKER_PORT"
else
	not_ok "broker B started"
	done_testing
fi
B=$BROKER_DIR
PORT_B=$BROKER_PORT
# checker on B: everything the mirror publishes, retain flag as published
sub_start check_b '#' -q 2 -j --retain-as-published -C 9

broker_use "$A"
mkfifo "$T/mirror.fifo"
# (not the sub function: a function run with & is a subshell, whose PID is
# not mqsub's)
timeout 30 "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" -i mirror -q 2 -j \
    -t 'm/#' >"$T/mirror.fifo" 2>"$T/mirror-sub.err" &
mirror_sub=$!
track "$mirror_sub"
timeout 30 "$MQPUB" -h 127.0.0.1 -p "$PORT_B" -j \
    <"$T/mirror.fifo" >/dev/null 2>"$T/mirror-pub.err" &
mirror_pub=$!
track "$mirror_pub"
broker_subscribed mirror 'm/#'
pub -t m/live/text -q 0 -m "$(printf 'line 1\nline 2\ttab')" >/dev/null 2>&1
printf '\000\001\002\377' | pub -t m/live/bin -q 1 -s >/dev/null 2>&1
pub -t m/live/q2 -q 2 -m 'exactly once' >/dev/null 2>&1
pub -t m/live/empty -q 1 -n >/dev/null 2>&1
printf '\303\050' | pub -t m/live/invalid -q 2 -s >/dev/null 2>&1
pub -t m/live/last -q 1 -m last >/dev/null 2>&1

broker_use "$B"
sub_wait 10
sst=$status
kill -TERM "$mirror_sub"
wait_exit "$mirror_sub" 5
msub_st=$status
wait_exit "$mirror_pub" 10
mpub_st=$status
is "$sst $msub_st $mpub_st" "0 143 0" \
    "mirror: B's checker got 9 messages; mqsub ends 143 on SIGTERM, mqpub 0 at EOF"

cat >"$T/mirror.want" <<EOF
m/live/bin	payload_b64	000102ff	1	false
m/live/empty	payload		1	false
m/live/invalid	payload_b64	c328	2	false
m/live/last	payload	$(printf last | hex)	1	false
m/live/q2	payload	$(printf 'exactly once' | hex)	2	false
m/live/text	payload	$(printf 'line 1\nline 2\ttab' | hex)	0	false
m/ret/bin	payload_b64	7200ff	2	true
m/ret/q0	payload	$(printf 'retained q0' | hex)	0	true
m/ret/text	payload	$(printf 'retained text' | hex)	1	true
EOF
norm "$T/check_b.out" 2>&1 | sort >"$T/mirror.got"
if cmp -s "$T/mirror.want" "$T/mirror.got"; then
	ok "mirror: topics, bytes, QoS and retain flags identical on B"
else
	not_ok "mirror: topics, bytes, QoS and retain flags identical on B"
	diag "$(diff "$T/mirror.want" "$T/mirror.got")"
fi

# the retained state: a late subscriber sees the same retained set on A and B
run sub -t 'm/#' -q 2 -j --retained-only
norm "$T/out" 2>&1 | sort >"$T/ret.b"
broker_use "$A"
run sub -t 'm/#' -q 2 -j --retained-only
norm "$T/out" 2>&1 | sort >"$T/ret.a"
if [ "$(wc -l <"$T/ret.a")" -eq 3 ] && cmp -s "$T/ret.a" "$T/ret.b"; then
	ok "mirror: a late subscriber on B sees A's retained messages"
else
	not_ok "mirror: a late subscriber on B sees A's retained messages"
	diag "A:" "$(cat "$T/ret.a")" "B:" "$(cat "$T/ret.b")"
fi
is "$(cat "$T/mirror-sub.err" "$T/mirror-pub.err")" "" \
    "mirror: no diagnostics"

done_testing
