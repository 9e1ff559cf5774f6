#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssecat-http.sh: the HTTP side of ssecat against a scripted server
# (tests/node/sse-server.js) on 127.0.0.1: statuses (404, 500, 401, 403,
# 204), content types, redirects, the request it sends (-H, -u, -d,
# --data-json, @FILE, @-, -X, the default headers), the body sent again on
# a reconnection, and usage errors that make no request at all.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"

plan 38

require "$NODE" "node (Node.js 20)"
require "$PYTHON" python3

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# fails NAME DESC WANT_STATUS WANT_STDERR PATH: after `sse NAME`: the
# status, exactly WANT_STDERR on stderr, nothing on stdout and exactly one
# request of PATH (no reconnection).
fails()
{
	if [ "$status" = "$3" ] && [ "$(cat "$T/$1.stderr")" = "$4" ] &&
	    [ ! -s "$T/$1.got" ] && [ "$(reqs "$5")" = 1 ]; then
		ok "$2"
	else
		not_ok "$2"
		diag "status $status (expected $3), $(reqs "$5") requests of $5"
		diag "stderr expected:" "$4"
		diag_file "$T/$1.stderr"
		diag_file "$T/$1.got"
	fi
}

# --- the server ---------------------------------------------------------------
cat >"$T/srv.json" <<'EOF'
{
 "/404": [{"status": 404, "headers": {"Content-Type": "text/plain"}, "body": "nope\n"}],
 "/500": [{"status": 500, "headers": {"Content-Type": "text/event-stream"}, "body": "data: not a stream\n\n"}],
 "/401": [{"status": 401, "headers": {"WWW-Authenticate": "Basic realm=\"sse\"", "Content-Type": "text/plain"}, "body": "who?\n"}],
 "/403": [{"status": 403, "headers": {"Content-Type": "text/plain"}, "body": "no\n"}],
 "/204": [{"status": 204, "headers": {"Content-Type": null}}],
 "/html": [{"status": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>data: hi</p>\n\n"}],
 "/charset": [{"headers": {"Content-Type": "text/event-stream; charset=utf-8"}, "body": "data: with charset\n\n"}],
 "/case": [{"headers": {"Content-Type": "Text/Event-Stream;charset=UTF-8"}, "body": "data: any case\n\n"}],
 "/redir": [{"status": 302, "headers": {"Location": "/target"}}],
 "/target": [{"body": "data: redirected\n\n"}],
 "/echo": [{"body": "data: ok\n\n"}],
 "/again": [{"body": "retry: 100\ndata: first\n\n"}, {"body": "data: second\n\n", "close": false}]
}
EOF
srv_up srv

# --- statuses and content types (no --no-reconnect: none may reconnect) -------
sse s404 "$U/404"
fails s404 "404: 'HTTP 404 Not Found', status 1, no reconnection" 1 \
    "ssecat: $U/404: HTTP 404 Not Found" /404
sse s500 "$U/500"
fails s500 "500 (even as text/event-stream): status 1, no reconnection" 1 \
    "ssecat: $U/500: HTTP 500 Internal Server Error" /500
sse s401 "$U/401"
fails s401 "401 with WWW-Authenticate: status 3, no reconnection" 3 \
    "ssecat: $U/401: HTTP 401 Unauthorized" /401
sse s403 "$U/403"
fails s403 "403: status 3, no reconnection" 3 \
    "ssecat: $U/403: HTTP 403 Forbidden" /403
sse s204 "$U/204"
fails s204 "204: status 0, silent, no reconnection" 0 "" /204
sse html "$U/html"
fails html "200 text/html: status 1, the type named, no reconnection" 1 \
    "ssecat: $U/html: unexpected content type text/html" /html

sse charset --no-reconnect "$U/charset"
is "$status:$(cat "$T/charset.got")" "0:with charset" \
    "Content-Type: text/event-stream; charset=utf-8 is a stream"

# media types are case-insensitive (RFC 9110, 8.3.1), as for EventSource
sse case --no-reconnect "$U/case"
is "$status:$(cat "$T/case.got")" "0:any case" \
    "Content-Type: Text/Event-Stream;charset=UTF-8 is a stream"

sse redir --no-reconnect "$U/redir"
is "$status:$(cat "$T/redir.got"):$(reqs /redir):$(reqs /target):$(cat "$T/redir.stderr")" \
    "0:redirected:1:1:" "a 302 redirect is followed"

# --- the request --------------------------------------------------------------
sse plain --no-reconnect "$U/echo?c=plain"
is "$status:$(cat "$T/plain.got")" "0:ok" "a plain GET reads the stream"
P='/echo?c=plain'
is "$(req "$P" 1 method)|$(req "$P" 1 h:accept)|$(req "$P" 1 h:cache-control)|$(req "$P" 1 h:last-event-id)|$(req "$P" 1 body)" \
    "GET|text/event-stream|no-cache|-|" \
    "GET with Accept: text/event-stream and Cache-Control: no-cache, no Last-Event-ID, no body"

sse hdr -H 'X-One: 1' --header 'X-Two: two  words' -H 'Accept-Language: fr' \
    --no-reconnect "$U/echo?c=hdr"
P='/echo?c=hdr'
is "$status|$(req "$P" 1 h:x-one)|$(req "$P" 1 h:x-two)|$(req "$P" 1 h:accept-language)|$(req "$P" 1 h:accept)" \
    "0|1|two  words|fr|text/event-stream" "-H, repeatable: the headers arrive"

sse user -u 'alice:pa:ss wörd' --no-reconnect "$U/echo?c=user"
want=$(printf '%s' 'alice:pa:ss wörd' | base64)
is "$status|$(req '/echo?c=user' 1 h:authorization)" "0|Basic $want" \
    "-u USER:PASS: Basic authentication (a colon in the password kept)"

sse form -d 'a=1&b=x y' --no-reconnect "$U/echo?c=form"
P='/echo?c=form'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 h:content-type)|$(req "$P" 1 body)|$(req "$P" 1 h:accept)" \
    "0|POST|application/x-www-form-urlencoded|a=1&b=x y|text/event-stream" \
    "-d DATA: POST, form content type, the body as given, Accept kept"

sse ctype -H 'Content-Type: text/plain' -d hello --no-reconnect \
    "$U/echo?c=ctype"
P='/echo?c=ctype'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 h:content-type)|$(req "$P" 1 body)" \
    "0|POST|text/plain|hello" "-H 'Content-Type: text/plain' -d: the type of -H wins"

sse djson --data-json '{"q":"é","n":1}' --no-reconnect "$U/echo?c=json"
P='/echo?c=json'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 h:content-type)|$(req "$P" 1 body)|$(req "$P" 1 h:accept)" \
    '0|POST|application/json|{"q":"é","n":1}|text/event-stream' \
    "--data-json: POST, application/json, Accept stays text/event-stream"

printf '\000\r\n\377a\nb\r' >"$T/binary.body"
sse dfile -d "@$T/binary.body" --no-reconnect "$U/echo?c=file"
P='/echo?c=file'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 body_b64)" "0|POST|$(base64 <"$T/binary.body")" \
    "-d @FILE: NUL, CR LF, CR and a byte 0xFF arrive byte for byte"

sse djfile --data-json "@$T/binary.body" --no-reconnect "$U/echo?c=jfile"
P='/echo?c=jfile'
is "$status|$(req "$P" 1 h:content-type)|$(req "$P" 1 body_b64)" \
    "0|application/json|$(base64 <"$T/binary.body")" \
    "--data-json @FILE: byte for byte, application/json"

printf 'from\nstdin\r\n' | timeout 20 "$SSECAT" -d @- --no-reconnect \
    "$U/echo?c=stdin" >"$T/stdin.got" 2>"$T/stdin.stderr"
status=$?
P='/echo?c=stdin'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 body_b64)" \
    "0|POST|$(printf 'from\nstdin\r\n' | base64)" "-d @-: the body read from stdin"

sse put -X PUT -d 'x=1' --no-reconnect "$U/echo?c=put"
P='/echo?c=put'
is "$status|$(req "$P" 1 method)|$(req "$P" 1 body)" "0|PUT|x=1" "-X PUT -d: method PUT with the body"

sse get -X DELETE --no-reconnect "$U/echo?c=delete"
is "$status|$(req '/echo?c=delete' 1 method)" "0|DELETE" "-X DELETE without a body"

sse lid --last-event-id 'ev 42' --no-reconnect "$U/echo?c=lid"
is "$status|$(req '/echo?c=lid' 1 h:last-event-id)" "0|ev 42" \
    "--last-event-id: Last-Event-ID on the first request"

# the body again on a reconnection (the server ends the first stream)
sse again -d 'prompt=hi' -C 2 "$U/again"
is "$status|$(tr '\n' , <"$T/again.got")|$(reqs /again)" "0|first,second,|2" \
    "-d: the stream ends, ssecat reconnects and reads on"
is "$(req /again 1 method) $(req /again 1 body)|$(req /again 2 method) $(req /again 2 body)|$(req /again 2 h:content-type)" \
    "POST prompt=hi|POST prompt=hi|application/x-www-form-urlencoded" \
    "the body and its type are sent again on the reconnection"

# --- usage errors: status 2 and no request ------------------------------------
before=$(wc -l <"$LOG")
check_usage_error ssecat "" "ftp:// URL: usage error" \
    timeout 10 "$SSECAT" "ftp://127.0.0.1:$srv_port/echo"
check_usage_error ssecat "" "URL with an unclosed [: usage error" \
    timeout 10 "$SSECAT" "http://[::1/echo"
check_usage_error ssecat "" "URL with port 99999: usage error" \
    timeout 10 "$SSECAT" "http://127.0.0.1:99999/echo"
check_usage_error ssecat "" "no URL: usage error" \
    timeout 10 "$SSECAT" -j
check_usage_error ssecat "" "two URLs: usage error" \
    timeout 10 "$SSECAT" "$U/echo?c=u1" "$U/echo?c=u2"
check_usage_error ssecat "" "-j with -F: usage error" \
    timeout 10 "$SSECAT" -j -F '%d\n' "$U/echo?c=u3"
check_usage_error ssecat "" "-j with --raw: usage error" \
    timeout 10 "$SSECAT" -j --raw "$U/echo?c=u4"
check_usage_error ssecat "" "-F with --raw: usage error" \
    timeout 10 "$SSECAT" --raw -F '%d\n' "$U/echo?c=u5"
check_usage_error ssecat "unrecognized option '--bogus'" \
    "unknown long option: usage error" \
    timeout 10 "$SSECAT" --bogus "$U/echo?c=u6"
check_usage_error ssecat "invalid option -- 'Z'" \
    "unknown short option: usage error" \
    timeout 10 "$SSECAT" -Z "$U/echo?c=u7"
run timeout 10 "$SSECAT" -d "@$T/no-such-file" "$U/echo?c=u8"
# (SPEC.md does not say which: 1 as an I/O error, like mqpub -f, or 2 as a
# bad argument; either way before any request)
if { [ "$status" = 1 ] || [ "$status" = 2 ]; } && [ ! -s "$T/out" ] &&
    grep -q "^ssecat: .*$T/no-such-file" "$T/err"; then
	ok "-d @FILE that does not exist: status $status, the file named"
else
	not_ok "-d @FILE that does not exist: status 1 or 2, the file named"
	diag "status $status"
	diag_file "$T/err"
fi
check_usage_error ssecat "" "-H without a colon: usage error" \
    timeout 10 "$SSECAT" -H 'NoColon' "$U/echo?c=u9"
is "$(wc -l <"$LOG")" "$before" "no request was made by any usage error"

done_testing
