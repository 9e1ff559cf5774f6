#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# usage.sh: --help, --version, usage errors (exact stderr, status 2, no
# network activity), an unreachable broker (status 3) and -L URLs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"

plan 38

# A port where nothing listens: bound and closed again just now.
closed=$(broker_free_port)

for prog in mqpub mqsub; do
	bin="$top_builddir/cmd/$prog"
	# a harmless option pair valid for this tool
	if [ "$prog" = mqpub ]; then
		o=-m v=x
	else
		o=-C v=1
	fi
	run timeout 10 "$bin" --help
	if [ "$status" = 0 ] && head -n 1 "$T/out" | grep -q '^Usage:' &&
	    grep -q "$prog" "$T/out" && [ ! -s "$T/err" ]; then
		ok "$prog --help: usage on stdout, status 0"
	else
		not_ok "$prog --help: usage on stdout, status 0"
		diag "status $status"
		diag_file "$T/err"
	fi

	run timeout 10 "$bin" --version
	line1=$(head -n 1 "$T/out")
	libs=$(sed -n '2,$p' "$T/out" | awk '{ print $1 }' | sort | tr '\n' ' ')
	if [ "$status" = 0 ] && [ "$line1" = "$prog (mqsse) 0.1.0" ] &&
	    [ "$libs" = "cJSON libevent libmosquitto " ] &&
	    [ ! -s "$T/err" ]; then
		ok "$prog --version: name, version and library lines"
	else
		not_ok "$prog --version: name, version and library lines"
		diag "status $status"
		diag_file "$T/out"
	fi

	# getopt_long rules: an unknown option, a missing argument
	check_usage_error "$prog" "unrecognized option '--bogus'" \
	    "$prog: unknown long option" timeout 10 "$bin" --bogus -t a "$o" "$v"
	check_usage_error "$prog" "invalid option -- 'Z'" \
	    "$prog: unknown short option" timeout 10 "$bin" -Z -t a
	check_usage_error "$prog" "option requires an argument -- 't'" \
	    "$prog: missing argument" timeout 10 "$bin" -t
	check_usage_error "$prog" "--qos: '3' is out of range (0 to 2)" \
	    "$prog: --qos 3" timeout 10 "$bin" --qos 3 -t a "$o" "$v"
	check_usage_error "$prog" "" "$prog: -c without -i" \
	    timeout 10 "$bin" -c -t a "$o" "$v" -p "$closed"
	check_usage_error "$prog" "" "$prog: --url with another scheme" \
	    timeout 10 "$bin" -L "http://127.0.0.1:$closed/a" "$o" "$v"
done

# ssecat links libcurl too, and says so.
run timeout 10 "$SSECAT" --help
if [ "$status" = 0 ] && head -n 1 "$T/out" | grep -q '^Usage:' &&
    grep -q 'ssecat \[options\] <url>' "$T/out" && [ ! -s "$T/err" ]; then
	ok "ssecat --help: usage on stdout, status 0"
else
	not_ok "ssecat --help: usage on stdout, status 0"
	diag_file "$T/err"
fi
run timeout 10 "$SSECAT" --version
libs=$(sed -n '2,$p' "$T/out" | awk '{ print $1 }' | sort | tr '\n' ' ')
if [ "$status" = 0 ] && [ "$(head -n 1 "$T/out")" = "ssecat (mqsse) 0.1.0" ] &&
    [ "$libs" = "cJSON libcurl libevent libmosquitto " ]; then
	ok "ssecat --version: name, version and library lines (libcurl too)"
else
	not_ok "ssecat --version: name, version and library lines (libcurl too)"
	diag_file "$T/out"
fi
check_usage_error ssecat "unrecognized option '--bogus'" \
    "ssecat: unknown long option" timeout 10 "$SSECAT" --bogus http://127.0.0.1:1/
check_usage_error ssecat "a URL is needed" "ssecat: no URL" \
    timeout 10 "$SSECAT" -j
check_usage_error ssecat "ftp://127.0.0.1/x: only http and https URLs are supported" \
    "ssecat: another scheme" timeout 10 "$SSECAT" ftp://127.0.0.1/x

# An invalid topic is a usage error found before connecting: status 2 even
# though nothing listens on the port (3 would mean it tried), and fast.
start=$(now_ms)
check_usage_error mqpub \
    "invalid topic 'a/#': wildcards + and # are not allowed when publishing" \
    "mqpub -t 'a/#': exact diagnostic, status 2" \
    timeout 10 "$MQPUB" -p "$closed" -t 'a/#' -m x
elapsed=$(( $(now_ms) - start ))
if [ "$elapsed" -lt 1000 ]; then
	ok "mqpub invalid topic: no connection attempt (${elapsed} ms)"
else
	not_ok "mqpub invalid topic: no connection attempt (${elapsed} ms)"
fi
check_usage_error mqpub "" "mqpub -t 'a/+/b': status 2" \
    timeout 10 "$MQPUB" -p "$closed" -t 'a/+/b' -m x
check_usage_error mqsub "" "mqsub -t 'a/#/b': status 2" \
    timeout 10 "$MQSUB" -p "$closed" -t 'a/#/b'
check_usage_error mqsub "" "mqsub -T 'a+': status 2" \
    timeout 10 "$MQSUB" -p "$closed" -t a -T 'a+'
check_usage_error mqsub "" "mqsub -j -v: status 2" \
    timeout 10 "$MQSUB" -p "$closed" -t a -j -v
check_usage_error mqsub "" "mqsub -j -F: status 2" \
    timeout 10 "$MQSUB" -p "$closed" -t a -j -F %p
check_usage_error mqpub "" "mqpub -m with -l: status 2" \
    timeout 10 "$MQPUB" -p "$closed" -t a -m x -l
check_usage_error mqpub "" "mqpub without a topic: status 2" \
    timeout 10 "$MQPUB" -p "$closed" -m x
check_usage_error mqsub "" "mqsub without a filter: status 2" \
    timeout 10 "$MQSUB" -p "$closed"
check_usage_error mqsub "" "mqsub -C 0: status 2" \
    timeout 10 "$MQSUB" -p "$closed" -t a -C 0
check_usage_error mqpub "" "mqpub --rate x: status 2" \
    timeout 10 "$MQPUB" -p "$closed" -t a -m x --rate x

# Unreachable broker: status 3 within about --connect-timeout.
start=$(now_ms)
# (2 s: on a loaded machine a sanitizer build's first attempt can take one)
run timeout 10 "$MQSUB" -h 127.0.0.1 -p "$closed" -t a --connect-timeout 2
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && [ "$elapsed" -lt 4500 ] &&
    grep -q 'Connection refused' "$T/err" && grep -q '^mqsub: ' "$T/err"; then
	ok "mqsub, closed port: status 3 in ${elapsed} ms, Connection refused"
else
	not_ok "mqsub, closed port: status 3 in ${elapsed} ms, Connection refused"
	diag "status $status"
	diag_file "$T/err"
fi
run timeout 10 "$MQPUB" -h 127.0.0.1 -p "$closed" -t a -m x \
    --connect-timeout 2
if [ "$status" = 3 ] && grep -q 'Connection refused' "$T/err"; then
	ok "mqpub, closed port: status 3, Connection refused"
else
	not_ok "mqpub, closed port: status 3, Connection refused"
	diag "status $status"
	diag_file "$T/err"
fi

# -L with a real broker: the path is the topic (mqpub) or filter (mqsub).
if ! broker_start; then
	not_ok "broker started"
	done_testing
fi
sub_start lsub 'url/#' -C 1 -v
run timeout 10 "$MQPUB" -L "mqtt://127.0.0.1:$BROKER_PORT/url/t" -m hello
is "$status" 0 "mqpub -L mqtt://127.0.0.1:PORT/url/t: status 0"
wait_exit "$SUB_PID" 5
is "$status $(cat "$T/lsub.out")" "0 url/t hello" \
    "the message arrives on the topic taken from the URL path"

timeout 10 "$MQSUB" -L "mqtt://127.0.0.1:$BROKER_PORT/url2/%23" -C 1 -v \
    >"$T/l2.out" 2>"$T/l2.err" &
pid=$!
track "$pid"
# a -L subscriber has no -i: wait for any client's subscription to url2/#
wait_for_file ' [0-2] url2/#$' "$BROKER_LOG" 5
run timeout 10 "$MQPUB" -L "mqtt://127.0.0.1:$BROKER_PORT/url2/x" -m there
wait_exit "$pid" 5
is "$status $(cat "$T/l2.out")" "0 url2/x there" \
    "mqsub -L with a percent-encoded # (%23) in the path subscribes to url2/#"

done_testing
