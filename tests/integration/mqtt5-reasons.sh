#!/bin/sh
# MQTT 5 reason codes (SPEC section 2): a PUBACK of 0x80 or above is a
# message not accepted (diagnostic, exit 1); a SUBACK refusal is reported,
# and mqsub exits 1 only when every filter was refused. The refusals come
# from mosquitto's own ACL file and its dynamic security plugin.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/broker.sh"
plan 7

MOSQUITTO_PASSWD=$(_tap_find mosquitto_passwd)
require "$MOSQUITTO_PASSWD" mosquitto_passwd
"$MOSQUITTO_PASSWD" -b -c "$T/passwd" alice secret >/dev/null 2>&1
printf 'user alice\ntopic readwrite ok/#\n' >"$T/acl"

# --- PUBACK refusals: ACL file, publish outside ok/# ------------------------
if ! broker_start 'allow_anonymous false' "password_file $T/passwd" \
    "acl_file $T/acl"; then
	not_ok "broker with an ACL started"
	done_testing
fi
export MQTT_USERNAME=alice MQTT_PASSWORD=secret

pub -t denied/x -m x -q 1 2>"$T/denied.err"
st=$?
if [ $st = 1 ] && grep -qx 'mqpub: message not accepted by the broker: Not authorized' "$T/denied.err"; then
	ok "QoS 1 publish refused by PUBACK 0x87: message and status 1"
else
	not_ok "QoS 1 publish refused by PUBACK 0x87: message and status 1 (got $st)"
	diag_file "$T/denied.err"
fi

printf 'a\nb\nc\n' | pub -t denied/y -q 2 2>"$T/denied2.err"
st=$?
n=$(grep -c 'not accepted by the broker' "$T/denied2.err")
if [ $st = 1 ] && [ "$n" = 3 ]; then
	ok "QoS 2: each refused message reported (3), status 1"
else
	not_ok "QoS 2: each refused message reported ($n of 3), status $st"
	diag_file "$T/denied2.err"
fi

sub_start okwatch 'ok/#' -C 2 -v
printf 'fine\n' | pub -t ok/a -q 1 2>"$T/ok.err"
is "$?" 0 "an allowed publish still exits 0"
printf '{"topic":"denied/z","payload":"no"}\n{"topic":"ok/b","payload":"yes"}\n' |
    pub -j -q 1 2>"$T/mixed.err"
st=$?
sub_wait 10
printf 'ok/a fine\nok/b yes\n' >"$T/want"
if [ $st = 1 ] && cmp -s "$T/want" "$T/okwatch.out"; then
	ok "a refused record does not stop the others (status 1, ok/b delivered)"
else
	not_ok "a refused record does not stop the others (status $st)"
	diag_file "$T/mixed.err"
	diag_file "$T/okwatch.out"
fi
unset MQTT_USERNAME MQTT_PASSWORD

# --- SUBACK refusals: the dynamic security plugin ---------------------------
plugin=""
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib; do
	[ -f "$d/mosquitto_dynamic_security.so" ] &&
	    plugin="$d/mosquitto_dynamic_security.so" && break
done
cat >"$T/dynsec.json" <<'JSON'
{
  "defaultACLAccess": {"publishClientSend": true, "publishClientReceive": true,
                       "subscribe": false, "unsubscribe": true},
  "clients": [],
  "groups": [{"groupname": "anon", "roles": [{"rolename": "sub-ok"}]}],
  "roles": [{"rolename": "sub-ok", "acls": [
      {"acltype": "subscribePattern", "topic": "ok/#", "priority": 0, "allow": true}]}],
  "anonymousGroup": "anon"
}
JSON
if [ -z "$plugin" ] || ! broker_start "plugin $plugin" \
    "plugin_opt_config_file $T/dynsec.json"; then
	not_ok "broker with the dynamic security plugin started"
	not_ok "(SUBACK tests not run)"
	not_ok "(SUBACK tests not run)"
	done_testing
fi

sub -t denied/x -C 1 -W 5 >/dev/null 2>"$T/suback.err"
st=$?
if [ $st = 1 ] &&
    grep -qx "mqsub: subscription to 'denied/x' refused: Not authorized" "$T/suback.err"; then
	ok "every filter refused: reported, status 1"
else
	not_ok "every filter refused: reported, status 1 (got $st)"
	diag_file "$T/suback.err"
fi

sub_start partial 'ok/x' -t denied/x -C 1 -v
pub -t ok/x -m hi
sub_wait 10
if [ "$status" = 0 ] && [ "$(cat "$T/partial.out")" = "ok/x hi" ] &&
    grep -q "subscription to 'denied/x' refused" "$T/partial.err"; then
	ok "one filter of two refused: reported, the other one works"
else
	not_ok "one filter of two refused: reported, the other one works (status $status)"
	diag_file "$T/partial.err"
	diag_file "$T/partial.out"
fi
is "$(grep -c . "$T/partial.err")" 1 "exactly one diagnostic for the refused filter"
done_testing
