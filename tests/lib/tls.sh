# tests/lib/tls.sh: certificates for the TLS tests, made with openssl
# ($OPENSSL, found by tap.sh) on the spot (POSIX sh).  Source after tap.sh:
#
#	. "$top_srcdir/tests/lib/tls.sh"
#	tls_certs "$T" client other-ca >"$T/openssl.log" 2>&1
#
# Every key is a P-256 EC key without a passphrase; every certificate is
# valid for 2 days.

# tls_certs DIR [client] [other-ca]: make in DIR
#	ca.pem, ca.key		a private CA (CN mqsse-test-ca)
#	server.pem, server.key	a certificate the CA signed for the server
#				(CN server, subjectAltName DNS:localhost and
#				IP:127.0.0.1, extendedKeyUsage serverAuth)
# and, when asked,
#	client.pem, client.key	a client certificate the CA signed (CN
#				client, extendedKeyUsage clientAuth)
#	other-ca.pem, other-ca.key  another CA, which signs nothing
# with the work files (*.csr, *.ext, ca.srl).  openssl writes to stdout and
# stderr; the status is 0 when every openssl command succeeded.
tls_certs()
(
	cd "$1" || exit 1
	shift
	_tc_who=server
	_tc_other=
	for _tc_a in "$@"; do
		case $_tc_a in
		client) _tc_who="server client" ;;
		other-ca) _tc_other=1 ;;
		*) echo "tls_certs: unknown argument '$_tc_a'" >&2; exit 1 ;;
		esac
	done
	_tc_ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
	# shellcheck disable=SC2086
	"$OPENSSL" req -x509 $_tc_ec -keyout ca.key -out ca.pem -days 2 \
	    -subj /CN=mqsse-test-ca \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign || exit 1
	for _tc_w in $_tc_who; do
		case $_tc_w in
		server)
			printf '%s\n' \
			    'subjectAltName=DNS:localhost,IP:127.0.0.1' \
			    'extendedKeyUsage=serverAuth' >server.ext ;;
		client)
			printf '%s\n' 'extendedKeyUsage=clientAuth' \
			    >client.ext ;;
		esac
		# shellcheck disable=SC2086
		"$OPENSSL" req $_tc_ec -keyout "$_tc_w.key" -out "$_tc_w.csr" \
		    -subj "/CN=$_tc_w" || exit 1
		"$OPENSSL" x509 -req -in "$_tc_w.csr" -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -out "$_tc_w.pem" -days 2 \
		    -extfile "$_tc_w.ext" || exit 1
	done
	if [ -n "$_tc_other" ]; then
		# shellcheck disable=SC2086
		"$OPENSSL" req -x509 $_tc_ec -keyout other-ca.key \
		    -out other-ca.pem -days 2 -subj /CN=other-ca || exit 1
	fi
)
