#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssepush-http.sh: the HTTP options of ssepush over real HTTP on 127.0.0.1:
# --token (header, query, SSE_TOKEN, /healthz open), --cors (preflight,
# allowed and refused origins, '*'), --max-clients, TLS (a private CA made
# with openssl; ssecat and curl as clients), command mode (output to the
# clients, stderr passed through, the command's status, 128+N, 127) and
# SIGTERM/SIGINT while serving.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"
. "$top_srcdir/tests/lib/tls.sh"

plan 41

require "$SSEPUSH" ssepush
require "$SSECAT" ssecat
require "$OPENSSL" openssl
require "$(command -v curl)" curl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# sp_cmd NAME [ARG...]: ssepush -v -l 127.0.0.1:0 ARG... with stdin from
# /dev/null (command mode); sets sp_pid.
sp_cmd()
{
	_sp_name=$1
	shift
	"$SSEPUSH" -v -l 127.0.0.1:0 "$@" </dev/null \
	    >"$T/$_sp_name.out" 2>"$T/$_sp_name.err" &
	sp_pid=$!
	track "$sp_pid"
	sp_wait "$_sp_name"
}

# head_of NAME URL [CURL ARG...]: the response head of a request that may
# be a stream: wait for the end of the headers (or of curl), stop curl.
# Prints the status code; the headers are in $T/NAME.hdr.
head_of()
{
	cl "$@"
	_ho_n=200
	while kill -0 "$cl_pid" 2>/dev/null && [ "$_ho_n" -gt 0 ] &&
	    ! grep -q "^$(printf '\r')\$" "$T/$1.hdr"; do
		sleep 0.05
		_ho_n=$((_ho_n - 1))
	done
	kill_wait "$cl_pid"
	awk 'NR == 1 { print $2 }' "$T/$1.hdr"
}

# hv NAME HEADER: the value of a response header ("-" when absent).
hv()
{
	_hv=$(grep -i "^$2:" "$T/$1.hdr" | head -n 1 | sed 's/^[^:]*: *//' |
	    tr -d '\r')
	echo "${_hv:--}"
}

# code URL [CURL ARG...]: the status of a request that is not a stream.
code()
{
	_c_url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$_c_url"
}

# --- --token --------------------------------------------------------------------
sp_start tk 127.0.0.1:0 --token s3cret
U=$sp_url
c=$(head_of t0 "$U/events")
if [ "$c" = 401 ] && hv t0 WWW-Authenticate | grep -q '^Bearer'; then
	ok "--token: /events without a token: 401 with WWW-Authenticate: Bearer"
else
	not_ok "--token: /events without a token: 401 with WWW-Authenticate: Bearer"
	diag "status '$c'"
	diag_file "$T/t0.hdr"
fi
is "$(head_of t1 "$U/events" -H 'Authorization: Bearer s3cret')" 200 \
    "--token: Authorization: Bearer TOKEN: 200"
is "$(hv t1 Content-Type)" text/event-stream \
    "--token: ... and it is the stream"
is "$(head_of t2 "$U/events?token=s3cret")" 200 "--token: ?token=TOKEN: 200"
is "$(head_of t3 "$U/events" -H 'Authorization: Bearer wrong')" 401 \
    "--token: a wrong token: 401"
is "$(head_of t4 "$U/events?token=s3cre")" 401 \
    "--token: ?token= with a prefix of the token: 401"
is "$(code "$U/")" 401 "--token: GET / without a token: 401"
is "$(code "$U/?token=s3cret")" 200 "--token: GET /?token=TOKEN: 200"
is "$(code "$U/healthz")" 200 "--token: /healthz needs no token"

SSE_TOKEN=envtok
export SSE_TOKEN
sp_start tkenv 127.0.0.1:0
unset SSE_TOKEN
is "$(head_of t5 "$sp_url/events")" 401 "SSE_TOKEN=envtok: /events without a token: 401"
is "$(head_of t6 "$sp_url/events" -H 'Authorization: Bearer envtok')" 200 \
    "SSE_TOKEN=envtok: Authorization: Bearer envtok: 200"

# --- --cors ---------------------------------------------------------------------
sp_start co 127.0.0.1:0 --cors https://a.example --cors https://b.example
U=$sp_url
c=$(curl -s -o /dev/null -D "$T/pre.hdr" -w '%{http_code}' -X OPTIONS \
    -H 'Origin: https://a.example' \
    -H 'Access-Control-Request-Method: GET' \
    -H 'Access-Control-Request-Headers: last-event-id' "$U/events")
if [ "$c" = 204 ] && hv pre Access-Control-Allow-Methods | grep -q 'GET' &&
    hv pre Access-Control-Allow-Headers | grep -qi 'Last-Event-ID' &&
    [ "$(hv pre Access-Control-Allow-Origin)" = https://a.example ]; then
	ok "--cors: preflight OPTIONS: 204, Allow-Methods GET, Allow-Headers Last-Event-ID, the origin"
else
	not_ok "--cors: preflight OPTIONS: 204, Allow-Methods GET, Allow-Headers Last-Event-ID, the origin"
	diag "status $c"
	diag_file "$T/pre.hdr"
fi
c=$(head_of ca "$U/events" -H 'Origin: https://a.example')
if [ "$c" = 200 ] &&
    [ "$(hv ca Access-Control-Allow-Origin)" = https://a.example ] &&
    hv ca Vary | grep -qi 'Origin'; then
	ok "--cors: an allowed Origin is echoed in Access-Control-Allow-Origin, with Vary: Origin"
else
	not_ok "--cors: an allowed Origin is echoed in Access-Control-Allow-Origin, with Vary: Origin"
	diag "status $c"
	diag_file "$T/ca.hdr"
fi
head_of cb "$U/events" -H 'Origin: https://b.example' >/dev/null
is "$(hv cb Access-Control-Allow-Origin)" https://b.example \
    "--cors given twice: the second origin is allowed too"
c=$(head_of cx "$U/events" -H 'Origin: https://evil.example')
if [ "$c" = 200 ] && [ "$(hv cx Access-Control-Allow-Origin)" = - ]; then
	ok "--cors: another Origin gets no Access-Control-Allow-Origin"
else
	not_ok "--cors: another Origin gets no Access-Control-Allow-Origin"
	diag "status $c"
	diag_file "$T/cx.hdr"
fi
sp_start cs 127.0.0.1:0 --cors '*'
head_of cs "$sp_url/events" -H 'Origin: https://any.example' >/dev/null
is "$(hv cs Access-Control-Allow-Origin)" '*' "--cors '*': Access-Control-Allow-Origin: *"

# --- --max-clients --------------------------------------------------------------
sp_start mc 127.0.0.1:0 --max-clients 2
mc_err=$T/mc.err
cl m1 "$sp_url/events"
m1_pid=$cl_pid
cl m2 "$sp_url/events"
connected mc 2
is "$(head_of m3 "$sp_url/events")" 503 "--max-clients 2: a third client gets 503"
is "$(metric ssepush_clients)" 2 "--max-clients 2: /metrics shows 2 clients"
kill_wait "$m1_pid"
wait_count ': gone$' "$mc_err" 1
is "$(head_of m4 "$sp_url/events")" 200 \
    "--max-clients 2: once one has gone, a new client is let in"

# --- TLS --------------------------------------------------------------------------
# A private CA and a server certificate for localhost and 127.0.0.1
# (tests/lib/tls.sh).
tls_certs "$T" >"$T/openssl.log" 2>&1
if [ -s "$T/server.pem" ] && [ -s "$T/server.key" ]; then
	ok "openssl made a CA and a certificate for 127.0.0.1"
else
	not_ok "openssl made a CA and a certificate for 127.0.0.1"
	diag_file "$T/openssl.log"
fi
if sp_start tls 127.0.0.1:0 --tls-cert "$T/server.pem" \
    --tls-key "$T/server.key" &&
    [ "$sp_url" = "https://127.0.0.1:$sp_port" ]; then
	ok "TLS: 'ssepush: listening on https://127.0.0.1:$sp_port/'"
else
	not_ok "TLS: 'ssepush: listening on https://127.0.0.1:PORT/'"
	diag_file "$T/tls.err"
fi
tls_pid=$sp_pid
timeout 20 "$SSECAT" --cacert "$T/ca.pem" -C 2 "$sp_url/events" \
    >"$T/tsc.got" 2>"$T/tsc.err" &
tsc_pid=$!
track "$tsc_pid"
cl tcu "$sp_url/events" --cacert "$T/ca.pem"
connected tls 2
printf 'secure 1\nsecure 2\n' | feed tls
wait_exit "$tsc_pid" 10
if [ "$status" = 0 ] && [ "$(cat "$T/tsc.got")" = "$(printf 'secure 1\nsecure 2')" ]
then
	ok "TLS: ssecat --cacert receives the events over https"
else
	not_ok "TLS: ssecat --cacert receives the events over https"
	diag "status $status"
	diag_file "$T/tsc.got"
	diag_file "$T/tsc.err"
fi
wait_for_file '^data: secure 2$' "$T/tcu.body"
if grep -q '^data: secure 1$' "$T/tcu.body" &&
    grep -q '^data: secure 2$' "$T/tcu.body"; then
	ok "TLS: curl --cacert receives the events over https"
else
	not_ok "TLS: curl --cacert receives the events over https"
	diag_file "$T/tcu.body"
	diag_file "$T/tcu.cerr"
fi
is "$(code "$sp_url/healthz" --cacert "$T/ca.pem")" 200 "TLS: /healthz over https"
kill_wait "$tls_pid"
run timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof \
    --tls-cert "$T/nonexistent.pem" --tls-key "$T/server.key"
if [ "$status" = 1 ] && grep -q '^ssepush: --tls-cert: ' "$T/err" &&
    grep -q 'nonexistent\.pem' "$T/err" && ! grep -q 'listening' "$T/err"
then
	ok "TLS: a missing certificate file: status 1, a message naming it"
	diag "$(head -n 1 "$T/err")"
else
	not_ok "TLS: a missing certificate file: status 1, a message naming it"
	diag "status $status"
	diag_file "$T/err"
fi

# --- command mode ---------------------------------------------------------------
# The command waits for $T/go (created once a client is connected).
# shellcheck disable=SC2016
sp_cmd cm --exit-on-eof -- sh -c \
    'while [ ! -e "$0" ]; do sleep 0.05; done; echo a; echo b >&2; exit 3' \
    "$T/go"
cm_pid=$sp_pid
cl cmc "$sp_url/events"
connected cm 1
: >"$T/go"
wait_exit "$cm_pid" 15
is "$status" 3 "command mode with --exit-on-eof: the command's status (3)"
if grep -qx 'data: a' "$T/cmc.body"; then
	ok "command mode: the command's stdout goes to the clients"
else
	not_ok "command mode: the command's stdout goes to the clients"
	diag_file "$T/cmc.body"
fi
if grep -qx 'b' "$T/cm.err" && ! grep -qx 'a' "$T/cm.err" &&
    [ ! -s "$T/cm.out" ]; then
	ok "command mode: the command's stderr passes through to ssepush's stderr"
else
	not_ok "command mode: the command's stderr passes through to ssepush's stderr"
	diag_file "$T/cm.err"
	diag_file "$T/cm.out"
fi

# shellcheck disable=SC2016
sp_cmd sig --exit-on-eof -- sh -c 'echo x; kill -USR1 $$; sleep 5'
wait_exit "$sp_pid" 15
is "$status" 138 "command killed by SIGUSR1: status 128+10"

run timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -- \
    "$T/no-such-command" arg
if [ "$status" = 127 ] && grep -q 'no-such-command' "$T/err"; then
	ok "command not found: status 127, a message naming it"
	diag "$(grep 'no-such-command' "$T/err" | head -n 1)"
else
	not_ok "command not found: status 127, a message naming it"
	diag "status $status"
	diag_file "$T/err"
fi
run timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -- \
    no-such-command-in-path-h13
if [ "$status" = 127 ] && grep -q 'no-such-command-in-path-h13' "$T/err"
then
	ok "command not found in PATH: status 127, a message naming it"
else
	not_ok "command not found in PATH: status 127, a message naming it"
	diag "status $status"
	diag_file "$T/err"
fi

printf '#!/bin/sh\necho x\n' >"$T/not-executable"
chmod 644 "$T/not-executable"
run timeout 10 "$SSEPUSH" -l 127.0.0.1:0 --exit-on-eof -- "$T/not-executable"
if [ "$status" = 126 ] && grep -q 'not-executable' "$T/err"; then
	ok "command not executable: status 126, a message naming it"
else
	not_ok "command not executable: status 126, a message naming it"
	diag "status $status"
	diag_file "$T/err"
fi

# SIGTERM to ssepush: the command gets SIGTERM too (the command ends by
# itself after 20 s at most, so that it cannot outlive the test)
# shellcheck disable=SC2016
sp_cmd ct -- sh -c \
    'trap "echo command-got-TERM >&2; exit 0" TERM; echo up; i=0
    while [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done'
ct_pid=$sp_pid
cl ctc "$sp_url/events?backlog=1"
wait_for_file '^data: up$' "$T/ctc.body"
kill -TERM "$ct_pid"
wait_exit "$ct_pid" 10
is "$status" 143 "command mode, SIGTERM: status 143"
# (its trap runs once its current sleep is over)
if wait_for_file '^command-got-TERM$' "$T/ct.err" 5; then
	ok "command mode, SIGTERM: the command got SIGTERM"
else
	not_ok "command mode, SIGTERM: the command got SIGTERM"
	diag_file "$T/ct.err"
fi

# --- signals while serving ------------------------------------------------------
for sig in TERM INT; do
	case $sig in
	TERM) want=143 ;;
	INT) want=130 ;;
	esac
	sp_start "s$sig" 127.0.0.1:0
	s_pid=$sp_pid
	cl "c$sig" "$sp_url/events"
	c_pid=$cl_pid
	timeout 20 "$SSECAT" --no-reconnect "$sp_url/events" \
	    >"$T/e$sig.got" 2>"$T/e$sig.err" &
	e_pid=$!
	track "$e_pid"
	connected "s$sig" 2
	echo "before $sig" | feed "s$sig"
	wait_for_file "^data: before $sig\$" "$T/c$sig.body"
	wait_for_file "^before $sig\$" "$T/e$sig.got"
	kill "-$sig" "$s_pid"
	wait_exit "$s_pid" 10
	is "$status" "$want" "SIG$sig while serving: status $want"
	if wait_exit "$c_pid" 5; then
		ok "SIG$sig: the client sees the stream end (curl status $status)"
	else
		not_ok "SIG$sig: the client sees the stream end"
	fi
	wait_exit "$e_pid" 5
	if [ "$status" = 0 ] && [ "$(cat "$T/e$sig.got")" = "before $sig" ]; then
		ok "SIG$sig: ssecat --no-reconnect sees a clean end (status 0)"
	else
		not_ok "SIG$sig: ssecat --no-reconnect sees a clean end (status 0)"
		diag "ssecat status $status"
		diag_file "$T/e$sig.err"
	fi
done

# --- TCP_NODELAY on each stream's socket -------------------------------------------
# (the hub batches by itself; Nagle's algorithm would hold a small write
# until the client's delayed ACK)
STRACE=$(_tap_find strace)
if [ -z "$STRACE" ]; then
	not_ok "TCP_NODELAY on a stream's socket: strace is needed (apt-get install strace)"
else
	printf '#!/bin/sh\nexec "%s" -f -qq -e trace=setsockopt -o "%s" "%s" "$@"\n' \
	    "$STRACE" "$T/nd.strace" "$SSEPUSH" >"$T/nd-ssepush"
	chmod +x "$T/nd-ssepush"
	nd_ssepush=$SSEPUSH
	SSEPUSH=$T/nd-ssepush
	sp_start nd 127.0.0.1:0 --exit-on-eof
	SSEPUSH=$nd_ssepush
	cl nd "$sp_url/events"
	connected nd 1
	printf 'x\n' | feed nd
	wait_for_file '^data: x$' "$T/nd.body" 10
	sp_eof nd
	wait_exit "$sp_pid" 10
	if grep -Eq 'setsockopt\([0-9]+, (SOL_TCP|IPPROTO_TCP), TCP_NODELAY, \[1\], 4\) = 0' \
	    "$T/nd.strace"; then
		ok "TCP_NODELAY is set on a stream's socket"
	else
		not_ok "TCP_NODELAY is set on a stream's socket"
		diag_file "$T/nd.strace"
	fi
fi

done_testing
