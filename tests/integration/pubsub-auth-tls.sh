#!/bin/sh
# shellcheck disable=SC1091,SC2119,SC2154
# (tap.sh and broker.sh are sourced: they set top_builddir, status, T...;
# broker_start takes optional arguments)
# pubsub-auth-tls.sh: user names and passwords (options and environment),
# refused credentials (status 3), TLS with a private CA (--cafile, mqtts://,
# the system store), client certificates.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
. "$top_srcdir/tests/lib/tls.sh"

plan 23

require "$MOSQUITTO" mosquitto
require "$OPENSSL" openssl
MOSQUITTO_PASSWD=$(_tap_find mosquitto_passwd)
require "$MOSQUITTO_PASSWD" mosquitto_passwd

# roundtrip DESC PUB_ARGS -- SUB_ARGS: an mqsub with SUB_ARGS receives what
# an mqpub with PUB_ARGS publishes on tls/<n>; both must exit 0.
rt_n=0
roundtrip()
{
	rt_desc=$1
	shift
	rt_n=$((rt_n + 1))
	rt_pub=
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		rt_pub="$rt_pub$(printf '%s' "$1" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/") "
		shift
	done
	shift
	# "$@" are now the subscriber's arguments
	SUB_TIMEOUT=10 sub_start "rt$rt_n" "rt/$rt_n" -C 1 "$@"
	rt_ok=$?
	eval "set -- $rt_pub"
	PUB_TIMEOUT=10 pub -t "rt/$rt_n" -m "message $rt_n" "$@" \
	    >"$T/rtpub.out" 2>"$T/rtpub.err"
	rt_pst=$?
	sub_wait 5
	if [ "$rt_ok" = 0 ] && [ "$rt_pst" = 0 ] && [ "$status" = 0 ] &&
	    [ "$(cat "$T/rt$rt_n.out")" = "message $rt_n" ] &&
	    [ ! -s "$T/rtpub.err" ] && [ ! -s "$T/rt$rt_n.err" ]; then
		ok "$rt_desc"
	else
		not_ok "$rt_desc"
		diag "mqpub status $rt_pst, mqsub status $status"
		diag_file "$T/rtpub.err"
		diag_file "$T/rt$rt_n.err"
	fi
}

# refused DESC TOOL ARG...: TOOL (pub or sub) must exit 3 with a diagnostic.
refused()
{
	rf_desc=$1
	shift
	run "$@" --connect-timeout 3
	if [ "$status" = 3 ] && grep -q '^mq\(pub\|sub\): ' "$T/err" &&
	    [ ! -s "$T/out" ]; then
		ok "$rf_desc: status 3"
		diag "$(head -n 1 "$T/err")"
	else
		not_ok "$rf_desc: status 3"
		diag "status $status"
		diag_file "$T/err"
	fi
}

# --- passwords --------------------------------------------------------------
"$MOSQUITTO_PASSWD" -b -c "$T/passwd" tester 'pa ss:w0rd' >/dev/null 2>&1
if broker_start 'allow_anonymous false' "password_file $T/passwd"; then
	ok "broker with a password file started on port $BROKER_PORT"
else
	not_ok "broker with a password file started"
	done_testing
fi

MQTT_USERNAME=tester MQTT_PASSWORD='pa ss:w0rd'
export MQTT_USERNAME MQTT_PASSWORD
roundtrip "MQTT_USERNAME and MQTT_PASSWORD from the environment" --
unset MQTT_USERNAME MQTT_PASSWORD
roundtrip "-u and -P, no warning for a loopback host" \
    -u tester -P 'pa ss:w0rd' -h localhost -- -u tester -P 'pa ss:w0rd'
MQTT_USERNAME=tester MQTT_PASSWORD=wrong
export MQTT_USERNAME MQTT_PASSWORD
roundtrip "-P on the command line wins over MQTT_PASSWORD" \
    -P 'pa ss:w0rd' -- -P 'pa ss:w0rd'
unset MQTT_USERNAME MQTT_PASSWORD
roundtrip "-V 311 with a password" \
    -u tester -P 'pa ss:w0rd' -V 311 -- -u tester -P 'pa ss:w0rd' -V 311

refused "mqpub, wrong password" pub -t a -m x -u tester -P wrong
refused "mqsub, wrong password" sub -t a -u tester -P wrong
refused "mqsub, no credentials" sub -t a
MQTT_PASSWORD=wrong
export MQTT_PASSWORD
refused "mqpub, wrong MQTT_PASSWORD" pub -t a -m x -u tester
unset MQTT_PASSWORD
refused "mqpub -V 311, wrong password" pub -t a -m x -u tester -P x -V 311
broker_stop

# --- TLS --------------------------------------------------------------------
# A private CA, a server certificate for localhost and 127.0.0.1, a client
# certificate and another CA, which signs nothing (tests/lib/tls.sh).
tls_certs "$T" client other-ca >"$T/openssl.log" 2>&1
ossl=$?
if [ "$ossl" = 0 ] && [ -s "$T/server.pem" ] && [ -s "$T/client.pem" ]; then
	ok "openssl made a CA, a server and a client certificate"
else
	not_ok "openssl made a CA, a server and a client certificate"
	diag_file "$T/openssl.log"
fi

if broker_start "cafile $T/ca.pem" "certfile $T/server.pem" \
    "keyfile $T/server.key"; then
	ok "TLS broker started on port $BROKER_PORT"
else
	not_ok "TLS broker started"
	done_testing
fi
roundtrip "--cafile, -h localhost" \
    -h localhost --cafile "$T/ca.pem" -- -h localhost --cafile "$T/ca.pem"
roundtrip "--cafile, -h 127.0.0.1 (IP subjectAltName)" \
    --cafile "$T/ca.pem" -- --cafile "$T/ca.pem"
SUB_TIMEOUT=10 sub_start rtL rt/L -C 1 -h localhost --cafile "$T/ca.pem"
run timeout 10 "$MQPUB" -L "mqtts://localhost:$BROKER_PORT/rt/L" \
    --cafile "$T/ca.pem" -m 'via URL'
pst=$status
sub_wait 5
is "$pst $status:$(cat "$T/rtL.out")" "0 0:via URL" \
    "mqpub -L mqtts://localhost:PORT/rt/L --cafile"
timeout 10 "$MQSUB" -L "mqtts://localhost:$BROKER_PORT/rt/%2B" -C 1 \
    --cafile "$T/ca.pem" >"$T/l.out" 2>"$T/l.err" &
pid=$!
track "$pid"
wait_for_file ' [0-2] rt/\+$' "$BROKER_LOG" 5
run timeout 10 "$MQPUB" -L "mqtts://localhost:$BROKER_PORT/rt/M" \
    --cafile "$T/ca.pem" -m 'via URL 2'
wait_exit "$pid" 5
is "$status:$(cat "$T/l.out")" "0:via URL 2" \
    "mqsub -L mqtts://localhost:PORT/rt/%2B --cafile"
# --tls uses the system store, which OpenSSL lets SSL_CERT_FILE replace
SSL_CERT_FILE="$T/ca.pem"
export SSL_CERT_FILE
roundtrip "--tls: the system CA store (SSL_CERT_FILE=ca.pem)" \
    -h localhost --tls -- -h localhost --tls
unset SSL_CERT_FILE
refused "--tls, CA not in the system store" pub -h localhost --tls -t a -m x
refused "--cafile of another CA" \
    sub -h localhost --cafile "$T/other-ca.pem" -t a
refused "no TLS to a TLS listener" pub -h localhost -t a -m x
broker_stop

# --- client certificates -----------------------------------------------------
if broker_start "cafile $T/ca.pem" "certfile $T/server.pem" \
    "keyfile $T/server.key" 'require_certificate true'; then
	ok "TLS broker requiring client certificates started"
else
	not_ok "TLS broker requiring client certificates started"
	done_testing
fi
roundtrip "--cert and --key" \
    --cafile "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" -- \
    --cafile "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key"
refused "no client certificate" sub --cafile "$T/ca.pem" -t a

done_testing
