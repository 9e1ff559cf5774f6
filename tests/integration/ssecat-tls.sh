#!/bin/sh
# shellcheck disable=SC1091,SC2154
# (tap.sh is sourced: it sets top_builddir, status, T...)
# ssecat-tls.sh: https streams from a scripted server
# (tests/node/sse-server.js) on 127.0.0.1 with a private CA made here:
# --cacert, a failed verification (status 3, a certificate message), -k,
# and a server that requires a client certificate (--cert, --key).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sse.sh"
. "$top_srcdir/tests/lib/tls.sh"

plan 13

require "$NODE" "node (Node.js 20)"
require "$OPENSSL" openssl

# --- helpers (and tests/lib/sse.sh) -------------------------------------------
# nreq NAME: how many requests the server NAME logged.
nreq()
{
	if [ -f "$T/$1.log" ]; then
		wc -l <"$T/$1.log" | tr -d ' '
	else
		echo 0
	fi
}

# works NAME DESC: after `sse NAME`: status 0, the event, nothing on stderr.
works()
{
	if [ "$status" = 0 ] && [ "$(cat "$T/$1.got")" = secure ] &&
	    [ ! -s "$T/$1.stderr" ]; then
		ok "$2"
	else
		not_ok "$2"
		diag "status $status"
		diag_file "$T/$1.got"
		diag_file "$T/$1.stderr"
	fi
}

# --- certificates ---------------------------------------------------------------
# A private CA, a server certificate for localhost and 127.0.0.1, a client
# certificate and another CA, which signs nothing (tests/lib/tls.sh).
tls_certs "$T" client other-ca >"$T/openssl.log" 2>&1
ossl=$?
if [ "$ossl" = 0 ] && [ -s "$T/server.pem" ] && [ -s "$T/client.pem" ] &&
    [ -s "$T/other-ca.pem" ]; then
	ok "openssl made a CA, a server and a client certificate"
else
	not_ok "openssl made a CA, a server and a client certificate"
	diag_file "$T/openssl.log"
fi

# the same script for both servers
for name in tls mtls; do
	printf '%s\n' '{"/tls": [{"body": "data: secure\n\n"}]}' >"$T/$name.json"
done

# --- server authentication --------------------------------------------------------
if srv_start tls --tls-cert "$T/server.pem" --tls-key "$T/server.key"; then
	ok "https sse-server listening on $srv_port"
else
	not_ok "https sse-server listening"
	diag_file "$T/tls.err"
	done_testing
fi
U="https://127.0.0.1:$srv_port/tls"

sse ca --cacert "$T/ca.pem" --no-reconnect "$U"
works ca "https://127.0.0.1 with --cacert (IP subjectAltName)"

sse lh --cacert "$T/ca.pem" --no-reconnect "https://localhost:$srv_port/tls"
works lh "https://localhost with --cacert (DNS subjectAltName)"

before=$(nreq tls)
start=$(now_ms)
sse noca --connect-timeout 2 --no-reconnect "$U"
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && grep -qi 'certificate' "$T/noca.stderr" &&
    grep -qF "ssecat: $U: " "$T/noca.stderr" && [ ! -s "$T/noca.got" ] &&
    [ "$elapsed" -lt 10000 ] && [ "$(nreq tls)" = "$before" ]; then
	ok "no --cacert: status 3, a certificate message naming the URL, no request ($elapsed ms)"
	diag "$(tail -n 1 "$T/noca.stderr")"
else
	not_ok "no --cacert: status 3, a certificate message naming the URL, no request"
	diag "status $status after $elapsed ms, $(($(nreq tls) - before)) requests"
	diag_file "$T/noca.stderr"
fi

before=$(nreq tls)
sse other --cacert "$T/other-ca.pem" --connect-timeout 2 --no-reconnect "$U"
if [ "$status" = 3 ] && grep -qi 'certificate' "$T/other.stderr" &&
    [ "$(nreq tls)" = "$before" ]; then
	ok "--cacert of another CA: status 3, a certificate message, no request"
else
	not_ok "--cacert of another CA: status 3, a certificate message, no request"
	diag "status $status"
	diag_file "$T/other.stderr"
fi

sse k -k --no-reconnect "$U"
works k "-k: no verification"
sse insecure --insecure --no-reconnect "https://localhost:$srv_port/tls"
works insecure "--insecure"

# --- client certificates ----------------------------------------------------------
if srv_start mtls --tls-cert "$T/server.pem" --tls-key "$T/server.key" \
    --client-ca "$T/ca.pem"; then
	ok "https sse-server requiring a client certificate listening on $srv_port"
else
	not_ok "https sse-server requiring a client certificate listening"
	diag_file "$T/mtls.err"
	done_testing
fi
U="https://127.0.0.1:$srv_port/tls"

sse cert --cacert "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" \
    --no-reconnect "$U"
works cert "--cert and --key: the client certificate is accepted"
check "the server saw the request with the client certificate" \
    test "$(nreq mtls)" = 1

# Without a certificate the server ends the TLS 1.3 handshake with an
# alert that the client reads after its own side of the handshake: libcurl
# reports a receive error, which ssecat counts as a connection failure
# (retried until --connect-timeout, then status 3).
start=$(now_ms)
sse nocert --cacert "$T/ca.pem" --connect-timeout 2 --no-reconnect "$U"
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 3 ] && grep -qF "ssecat: $U: " "$T/nocert.stderr" &&
    [ ! -s "$T/nocert.got" ] && [ "$(nreq mtls)" = 1 ] &&
    [ "$elapsed" -lt 10000 ]; then
	ok "no client certificate: status 3, the URL named, no request ($elapsed ms)"
	diag "$(tail -n 1 "$T/nocert.stderr")"
else
	not_ok "no client certificate: status 3, the URL named, no request"
	diag "status $status after $elapsed ms, $(nreq mtls) requests in all"
	diag_file "$T/nocert.stderr"
fi

sse othercert --cacert "$T/ca.pem" --cert "$T/other-ca.pem" \
    --key "$T/other-ca.key" --connect-timeout 2 --no-reconnect "$U"
if [ "$status" = 3 ] && [ ! -s "$T/othercert.got" ] &&
    [ "$(nreq mtls)" = 1 ]; then
	ok "a client certificate of another CA: status 3, no request"
	diag "$(tail -n 1 "$T/othercert.stderr")"
else
	not_ok "a client certificate of another CA: status 3, no request"
	diag "status $status, $(nreq mtls) requests in all"
	diag_file "$T/othercert.stderr"
fi

done_testing
