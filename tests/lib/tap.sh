# tests/lib/tap.sh: TAP helpers for the integration tests (POSIX sh).
#
# A test script starts with
#
#	. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/broker.sh"	# when it needs a broker
#	plan 12
#
# and ends with `done_testing`.  Every script gets its own temporary
# directory $T, removed by the EXIT trap together with every process that
# was registered with `track PID` (brokers register themselves), so that
# scripts are independent of each other under `make -j check`.

# make exports absolute paths; defaults allow running a script by hand.
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir

MQPUB="$top_builddir/cmd/mqpub"
MQSUB="$top_builddir/cmd/mqsub"
SSECAT="$top_builddir/cmd/ssecat"
SSEPUSH="$top_builddir/cmd/ssepush"
MQ2SSE="$top_builddir/cmd/mq2sse"
export MQPUB MQSUB SSECAT SSEPUSH MQ2SSE

MOSQUITTO=
MOSQUITTO_PUB=
MOSQUITTO_SUB=
OPENSSL=
NODE=
MANDOC=
if [ -r "$top_builddir/tests/lib/config.sh" ]; then
	# shellcheck disable=SC1091
	. "$top_builddir/tests/lib/config.sh"
fi
# configure leaves an empty value when it found nothing; fall back to PATH
# (mosquitto lives in /usr/sbin, which is not always in PATH).
_tap_find()
{
	PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" 2>/dev/null
}
[ -n "$MOSQUITTO" ] && [ -x "$MOSQUITTO" ] || MOSQUITTO=$(_tap_find mosquitto)
[ -n "$MOSQUITTO_PUB" ] && [ -x "$MOSQUITTO_PUB" ] ||
	MOSQUITTO_PUB=$(_tap_find mosquitto_pub)
[ -n "$MOSQUITTO_SUB" ] && [ -x "$MOSQUITTO_SUB" ] ||
	MOSQUITTO_SUB=$(_tap_find mosquitto_sub)
[ -n "$OPENSSL" ] && [ -x "$OPENSSL" ] || OPENSSL=$(_tap_find openssl)
[ -n "$NODE" ] && [ -x "$NODE" ] || NODE=$(_tap_find node)
[ -n "$MANDOC" ] && [ -x "$MANDOC" ] || MANDOC=$(_tap_find mandoc)
# The system python3 first: a version-manager shim in PATH can take a second
# to start, and the tests call python3 often.
if [ -x /usr/bin/python3 ]; then
	PYTHON=/usr/bin/python3
else
	PYTHON=$(_tap_find python3)
fi
export MOSQUITTO MOSQUITTO_PUB MOSQUITTO_SUB OPENSSL NODE MANDOC PYTHON

LC_ALL=C
export LC_ALL
unset MQTT_HOST MQTT_PORT MQTT_USERNAME MQTT_PASSWORD

T=$(mktemp -d "${TMPDIR:-/tmp}/mqsse-test.XXXXXX") || {
	echo "1..1"
	echo "not ok 1 - cannot create a temporary directory"
	exit 1
}
HOME="$T/home"
XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$XDG_CONFIG_HOME"
export HOME XDG_CONFIG_HOME

_tap_n=0
_tap_failed=0
_tap_planned=0
_tap_pids=

# Register a background process to be killed (by PID) at exit.
track()
{
	_tap_pids="$_tap_pids $*"
}

# kill_wait PID [SIG]: stop one process we started and reap it: SIG
# (default TERM), then after 5 s KILL.  timeout(1) runs its command in a
# process group of its own, whose ID is timeout's PID: KILL goes to that
# group, so that a command that ignored the first signal does not outlive
# its timeout process.
kill_wait()
{
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	_kw_i=0
	while kill -0 "$1" 2>/dev/null && [ "$_kw_i" -lt 50 ]; do
		sleep 0.1
		_kw_i=$((_kw_i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		# (the kill of dash takes no process group: use kill(1))
		/bin/kill -s KILL -- "-$1" 2>/dev/null ||
		    kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

_tap_cleanup()
{
	_tc_rc=$?
	trap - EXIT HUP INT PIPE TERM
	for _tc_p in $_tap_pids; do
		kill -TERM "$_tc_p" 2>/dev/null
	done
	if command -v broker_stop_all >/dev/null 2>&1; then
		broker_stop_all
	fi
	for _tc_p in $_tap_pids; do
		kill_wait "$_tc_p"
	done
	rm -rf "$T"
	exit "$_tc_rc"
}
trap _tap_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

plan()
{
	_tap_planned=$1
	echo "1..$1"
}

diag()
{
	printf '%s\n' "$@" | sed 's/^/# /'
}

# diag_file FILE [LINES]: show the head of a file as diagnostics.
diag_file()
{
	if [ -s "$1" ]; then
		echo "# --- $1:"
		head -n "${2:-20}" "$1" | cut -c1-300 | sed 's/^/#   /'
	fi
}

ok()
{
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

not_ok()
{
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

# check DESC CMD...: ok when CMD succeeds.
check()
{
	_ck_d=$1
	shift
	if "$@"; then
		ok "$_ck_d"
	else
		not_ok "$_ck_d"
		return 1
	fi
}

# is GOT WANT DESC: exact string comparison.
is()
{
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:" "$1" "expected:" "$2"
		return 1
	fi
}

# run CMD...: run a command with stdout in $T/out and stderr in $T/err,
# its exit status in $status.  Never fails.
run()
{
	"$@" >"$T/out" 2>"$T/err"
	status=$?
	return 0
}

# check_status WANT DESC CMD...: run CMD (as `run`) and compare its status.
check_status()
{
	_cs_want=$1
	_cs_desc=$2
	shift 2
	run "$@"
	if [ "$status" = "$_cs_want" ]; then
		ok "$_cs_desc"
	else
		not_ok "$_cs_desc"
		diag "status $status, expected $_cs_want"
		diag_file "$T/err"
		return 1
	fi
}

# check_usage_error PROG 'DIAGNOSTIC' DESC CMD...: CMD must exit 2 with
# exactly "PROG: DIAGNOSTIC" and the Try line on stderr and nothing on stdout.
# An empty DIAGNOSTIC only pins the status, the Try line and stdout.
check_usage_error()
{
	_cu_prog=$1
	_cu_msg=$2
	_cu_desc=$3
	shift 3
	run "$@"
	_cu_try="Try '$_cu_prog --help' for more information."
	if [ -n "$_cu_msg" ]; then
		_cu_want=$(printf '%s: %s\n%s' "$_cu_prog" "$_cu_msg" "$_cu_try")
		_cu_got=$(cat "$T/err")
	else
		_cu_want=$_cu_try
		_cu_got=$(tail -n 1 "$T/err")
		# one diagnostic naming the program, then the Try line
		if [ "$(wc -l <"$T/err")" -ne 2 ] ||
		    ! head -n 1 "$T/err" | grep -q "^$_cu_prog: "; then
			_cu_got="(not one '$_cu_prog: ' line + Try line)"
		fi
	fi
	if [ "$status" = 2 ] && [ "$_cu_got" = "$_cu_want" ] &&
	    [ ! -s "$T/out" ]; then
		ok "$_cu_desc"
	else
		not_ok "$_cu_desc"
		diag "status $status (expected 2)"
		diag "stderr expected:" "$_cu_want"
		diag_file "$T/err"
		diag_file "$T/out"
		return 1
	fi
}

# wait_for_file PATTERN FILE [SECS]: poll until FILE has a line matching
# the extended regexp PATTERN (default limit 5 s).
wait_for_file()
{
	_wf_n=$(( ${3:-5} * 20 ))
	while [ "$_wf_n" -gt 0 ]; do
		if [ -f "$2" ] && grep -Eq -e "$1" "$2"; then
			return 0
		fi
		sleep 0.05
		_wf_n=$((_wf_n - 1))
	done
	return 1
}

# wait_lines FILE N [SECS]: poll until FILE has at least N lines.
wait_lines()
{
	_wl_n=$(( ${3:-5} * 20 ))
	while [ "$_wl_n" -gt 0 ]; do
		if [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; then
			return 0
		fi
		sleep 0.05
		_wl_n=$((_wl_n - 1))
	done
	return 1
}

# wait_exit PID [SECS]: wait until PID has exited (default 10 s) and set
# $status to its exit status; 1 if it is still running (it is then killed,
# and $status is 255).
wait_exit()
{
	_we_n=$(( ${2:-10} * 20 ))
	while kill -0 "$1" 2>/dev/null && [ "$_we_n" -gt 0 ]; do
		sleep 0.05
		_we_n=$((_we_n - 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill_wait "$1"
		status=255
		return 1
	fi
	wait "$1"
	status=$?
	return 0
}

# now_ms: wall clock in milliseconds.
now_ms()
{
	date +%s%3N
}

# require PATH DESC: a missing dependency is a failure, never a skip.
require()
{
	if [ -z "$1" ] || [ ! -x "$1" ]; then
		if [ "$_tap_planned" = 0 ]; then
			echo "1..1"
		fi
		not_ok "$2 not found (needed by this test)"
		exit 1
	fi
}

done_testing()
{
	if [ "$_tap_n" != "$_tap_planned" ]; then
		diag "planned $_tap_planned tests but ran $_tap_n"
		exit 1
	fi
	[ "$_tap_failed" = 0 ] || exit 1
	exit 0
}
