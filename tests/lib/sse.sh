# shellcheck disable=SC2034,SC2154
# (sourced: top_srcdir, T and the INST_url variables are the test's, and
# the variables the helpers set, such as status, srv_port and sp_port, are
# for it to read)
# tests/lib/sse.sh: helpers of the integration tests of the SSE tools
# (POSIX sh): ssecat against the scripted server tests/node/sse-server.js,
# ssepush and mq2sse read by curl clients, headless Chromium.  Source after
# tap.sh (and after broker.sh for the mq2sse helpers):
#
#	. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/sse.sh"
#
# Every file a helper writes is under $T, named after the NAME it is given
# (NAME.err, NAME.body...).  Background processes are registered with
# `track`, so the EXIT trap of tap.sh stops them.

# --- files and events ---------------------------------------------------------

# wait_count PATTERN FILE N [SECS]: poll until FILE has N lines matching
# the extended regexp PATTERN (default limit 10 s).
wait_count()
{
	_wc_n=$(( ${4:-10} * 20 ))
	while [ "$_wc_n" -gt 0 ]; do
		if [ -f "$2" ] &&
		    [ "$(grep -Ec -e "$1" "$2")" -ge "$3" ]; then
			return 0
		fi
		sleep 0.05
		_wc_n=$((_wc_n - 1))
	done
	return 1
}

# evs FILE: the events of an SSE body, one a line: ID|TYPE|DATA, the data
# lines joined with a literal \n; nothing when FILE does not exist.  Every
# event must carry its own id: the id is not carried over (an event
# without one shows an empty ID).
evs()
{
	[ -f "$1" ] || return 0
	awk '
	/^id:/ { id = substr($0, 4); sub(/^ /, "", id); next }
	/^event:/ { ev = substr($0, 7); sub(/^ /, "", ev); next }
	/^data:/ {
		v = substr($0, 6); sub(/^ /, "", v)
		d = (nd ? d "\\n" : "") v; nd = 1; next
	}
	/^data$/ { d = (nd ? d "\\n" : ""); nd = 1; next }
	/^$/ {
		if (nd) print id "|" (ev == "" ? "message" : ev) "|" d
		id = ""; ev = ""; d = ""; nd = 0
	}' "$1"
}

# nevs FILE: how many events FILE holds (0 when it does not exist).
nevs()
{
	evs "$1" | wc -l | tr -d ' '
}

# wait_evs FILE N [SECS]: poll until FILE holds at least N events (default
# limit 10 s).
wait_evs()
{
	_we2_n=$(( ${3:-10} * 20 ))
	while [ "$_we2_n" -gt 0 ]; do
		[ "$(nevs "$1")" -ge "$2" ] && return 0
		sleep 0.05
		_we2_n=$((_we2_n - 1))
	done
	return 1
}

# want LINE...: the expected lines, in $T/want.
want()
{
	printf '%s\n' "$@" >"$T/want"
}

# same_file DESC WANT_FILE GOT_FILE: one test: the two files are the same;
# both are shown when they differ.
same_file()
{
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected:" "$(head -n 15 "$2")" "got:" "$(head -n 15 "$3")"
		return 1
	fi
}

# cl NAME URL [CURL ARG...]: a curl client of URL in the background: headers
# in $T/NAME.hdr (emptied first), body in $T/NAME.body, curl's stderr in
# $T/NAME.cerr.  Sets cl_pid.
cl()
{
	_cl_name=$1
	_cl_url=$2
	shift 2
	: >"$T/$_cl_name.hdr"
	curl -sSN -D "$T/$_cl_name.hdr" -o "$T/$_cl_name.body" "$@" \
	    "$_cl_url" 2>"$T/$_cl_name.cerr" &
	cl_pid=$!
	track "$cl_pid"
}

# --- ssecat and tests/node/sse-server.js --------------------------------------

# srv_start NAME [ARG...]: run sse-server.js ARG... with the script
# $T/NAME.json, its request log in $T/NAME.log, its stdout in $T/NAME.out
# and stderr in $T/NAME.err; wait for its "listening PORT" line (10 s).
# Sets srv_pid and srv_port.
srv_start()
{
	_ss_name=$1
	shift
	"$NODE" "$top_srcdir/tests/node/sse-server.js" \
	    --script "$T/$_ss_name.json" --log "$T/$_ss_name.log" "$@" \
	    >"$T/$_ss_name.out" 2>"$T/$_ss_name.err" &
	srv_pid=$!
	track "$srv_pid"
	srv_port=
	wait_for_file '^listening [0-9]+$' "$T/$_ss_name.out" 10 || return 1
	srv_port=$(awk '/^listening/ { print $2 }' "$T/$_ss_name.out")
}

# srv_up NAME [ARG...]: srv_start NAME ARG... as one test ("sse-server
# listening on PORT"); when it fails, the test ends there.  Sets LOG to the
# server's request log and U to http://127.0.0.1:PORT.
srv_up()
{
	if srv_start "$@"; then
		ok "sse-server listening on $srv_port"
	else
		not_ok "sse-server listening"
		diag_file "$T/$1.err"
		done_testing
	fi
	LOG="$T/$1.log"
	U="http://127.0.0.1:$srv_port"
}

# reqs PATH: how many requests of PATH the server logged in $LOG.
reqs()
{
	grep -cF "\"path\":\"$1\"," "$LOG"
}

# req PATH N WHAT: from the Nth request of PATH logged in $LOG, WHAT:
# method, body, body_b64, t_ms, or h:NAME, a header (lower-case name; "-"
# when absent).
req()
{
	"$PYTHON" -c 'import json, sys
log, path, n, what = sys.argv[1:]
rows = [r for r in map(json.loads, open(log)) if r["path"] == path]
if len(rows) < int(n):
    sys.stdout.write("(no request %s)" % n)
    sys.exit(0)
r = rows[int(n) - 1]
if what.startswith("h:"):
    sys.stdout.write(str(r["headers"].get(what[2:], "-")))
else:
    sys.stdout.write(str(r[what]))' "$LOG" "$@"
}

# sse NAME ARG...: run ssecat ARG... with a 20 s guard, output in
# $T/NAME.got, diagnostics in $T/NAME.stderr, status in $status.
sse()
{
	_s_name=$1
	shift
	timeout 20 "$SSECAT" "$@" >"$T/$_s_name.got" 2>"$T/$_s_name.stderr"
	status=$?
}

# free_port: a port on 127.0.0.1 where nothing listens (bound, then closed).
free_port()
{
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# --- ssepush ------------------------------------------------------------------

# sp_wait NAME: wait for the listening line of ssepush NAME in $T/NAME.err
# (10 s).  Sets sp_url (http or https://127.0.0.1:PORT) and sp_port.
sp_wait()
{
	sp_port=
	sp_url=
	wait_for_file '^ssepush: listening on ' "$T/$1.err" 10 || return 1
	sp_url=$(sed -n 's|^ssepush: listening on \(https\{0,1\}://127\.0\.0\.1:[1-9][0-9]*\)/$|\1|p' \
	    "$T/$1.err")
	sp_port=${sp_url##*:}
	[ -n "$sp_url" ]
}

# sp_start NAME LISTEN [ARG...]: run ssepush -v -l LISTEN ARG... with stdin
# from the FIFO $T/NAME.fifo (held open for writing by a `sleep`, whose PID
# is in $T/NAME.hold, until sp_eof NAME), stdout in $T/NAME.out, stderr in
# $T/NAME.err, and sp_wait for it.  Sets sp_pid, sp_port and sp_url.
sp_start()
{
	_sp_name=$1
	_sp_listen=$2
	shift 2
	rm -f "$T/$_sp_name.fifo"
	mkfifo "$T/$_sp_name.fifo"
	"$SSEPUSH" -v -l "$_sp_listen" "$@" <"$T/$_sp_name.fifo" \
	    >"$T/$_sp_name.out" 2>"$T/$_sp_name.err" &
	sp_pid=$!
	track "$sp_pid"
	sleep 600 >"$T/$_sp_name.fifo" &
	echo $! >"$T/$_sp_name.hold"
	track "$!"
	sp_wait "$_sp_name"
}

# sp_eof NAME: end the input of ssepush NAME (stop the FIFO's only writer).
sp_eof()
{
	kill_wait "$(cat "$T/$1.hold")"
}

# feed NAME: copy stdin to the input of ssepush NAME (10 s guard: the open
# of a FIFO without a reader would block).
feed()
{
	# shellcheck disable=SC2016
	timeout 10 sh -c 'cat >>"$1"' sh "$T/$1.fifo"
}

# connected NAME N: wait until ssepush or mq2sse NAME logged N stream
# clients in $T/NAME.err.
connected()
{
	wait_count ': connected, [0-9]+ events of replay$' "$T/$1.err" "$2"
}

# metric NAME: the value of a metric of the current ssepush ($sp_url).
metric()
{
	curl -s "$sp_url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# --- mq2sse (with broker.sh) --------------------------------------------------
# An instance NAME has its URL in the variable NAME_url, which the helpers
# that take an INST read.

# m2_start NAME [ARG...]: run mq2sse -v -l 127.0.0.1:0 -h 127.0.0.1
# -p $BROKER_PORT -i NAME ARG..., stdout and stderr appended to $T/NAME.out
# and $T/NAME.err (a restarted instance keeps its files); wait for one more
# listening line (10 s), not for the broker.  Sets m2_pid, m2_url and
# NAME_url.
m2_start()
{
	_m2_name=$1
	shift
	_m2_n=$(grep -c '^mq2sse: listening on ' "$T/$_m2_name.err" \
	    2>/dev/null)
	"$MQ2SSE" -v -l 127.0.0.1:0 -h 127.0.0.1 -p "$BROKER_PORT" \
	    -i "$_m2_name" "$@" >>"$T/$_m2_name.out" 2>>"$T/$_m2_name.err" &
	m2_pid=$!
	track "$m2_pid"
	m2_url=
	wait_count '^mq2sse: listening on ' "$T/$_m2_name.err" \
	    $((${_m2_n:-0} + 1)) || return 1
	m2_url=$(sed -n 's|^mq2sse: listening on \(http://127\.0\.0\.1:[1-9][0-9]*\)/$|\1|p' \
	    "$T/$_m2_name.err" | tail -n 1)
	eval "${_m2_name}_url=\$m2_url"
	[ -n "$m2_url" ]
}

# m2_ready NAME N [FILTER...]: wait until mq2sse NAME has said "connected to"
# N times (30 s) and the broker logged its subscription to each FILTER
# since the broker last started (from then on, a message published to a
# matching topic reaches it).
m2_ready()
{
	_mr_name=$1
	_mr_count=$2
	shift 2
	wait_count '^mq2sse: connected to 127\.0\.0\.1:' "$T/$_mr_name.err" \
	    "$_mr_count" 30 || return 1
	for _mr_f in "$@"; do
		broker_subscribed "$_mr_name" "$_mr_f" 10 || return 1
	done
}

# m2_cl INST NAME QUERY [CURL ARG...]: a client of mq2sse INST on
# /events?QUERY (/events when QUERY is empty), as `cl NAME`, its PID also
# in $T/NAME.pid; waits until INST logged one more stream client.  Sets
# cl_pid.
m2_cl()
{
	_mc_inst=$1
	_mc_name=$2
	_mc_q=$3
	shift 3
	_mc_n=$(grep -Ec ': connected, [0-9]+ events of replay$' \
	    "$T/$_mc_inst.err")
	eval "_mc_url=\$${_mc_inst}_url"
	cl "$_mc_name" "$_mc_url/events${_mc_q:+?$_mc_q}" "$@"
	echo "$cl_pid" >"$T/$_mc_name.pid"
	if ! wait_count ': connected, [0-9]+ events of replay$' \
	    "$T/$_mc_inst.err" $((_mc_n + 1)); then
		diag "client $_mc_name of $_mc_inst did not connect"
		diag_file "$T/$_mc_name.hdr"
		return 1
	fi
}

# m2_code INST PATH [CURL ARG...]: the HTTP status of a request to mq2sse
# INST that is not a stream (20 s at most; body in $T/code.body).
m2_code()
{
	eval "_c_url=\$${1}_url"
	_c_path=$2
	shift 2
	curl -s -o "$T/code.body" -w '%{http_code}' --max-time 20 "$@" \
	    "$_c_url$_c_path"
}

# m2_metric INST NAME: the value of a metric of mq2sse INST.
m2_metric()
{
	eval "_m_url=\$${1}_url"
	curl -s --max-time 10 "$_m_url/metrics" |
	    awk -v m="$2" '$1 == m { print $2 }'
}

# recs FILE: the events of FILE whose data is an mq2sse JSON record, one a
# line: ID|TYPE|TOPIC=PAYLOAD, with " R" added when retain is true (a
# binary payload shows as b64:BASE64).
recs()
{
	evs "$1" | "$PYTHON" -c 'import json, sys
for line in sys.stdin:
    i, t, d = line.rstrip("\n").split("|", 2)
    try:
        r = json.loads(d)
        p = r["payload"] if "payload" in r else "b64:" + r["payload_b64"]
        print("%s|%s|%s=%s%s" % (i, t, r["topic"], p,
              " R" if r["retain"] else ""))
    except Exception:
        print("%s|%s|NOT A RECORD: %s" % (i, t, d))'
}

# tps FILE: TOPIC=PAYLOAD[ R] of each event of FILE (see recs), one a line.
tps()
{
	recs "$1" | cut -d '|' -f 3-
}

# wait_tp FILE TOPIC=PAYLOAD [SECS]: poll until FILE holds that event,
# retained or not (default limit 10 s).
wait_tp()
{
	_wt_n=$(( ${3:-10} * 20 ))
	while [ "$_wt_n" -gt 0 ]; do
		tps "$1" >"$T/wait_tp.tmp"
		grep -qxF -e "$2" -e "$2 R" "$T/wait_tp.tmp" && return 0
		sleep 0.05
		_wt_n=$((_wt_n - 1))
	done
	return 1
}

# --- headless Chromium --------------------------------------------------------

# chromium_tap SCRIPT: run tests/node/SCRIPT, a Node script that drives
# headless Chromium through playwright-core and prints the whole TAP stream
# (plan included), bounding its own run time (100 s); timeout(1) is the
# last resort should Node itself hang.  Chromium's profile and crash dumps
# go under $T.  Fails (the plan included) when playwright-core is missing.
chromium_tap()
{
	if [ ! -d "$top_srcdir/node_modules/playwright-core" ]; then
		echo "1..1"
		not_ok "npm package playwright-core installed (run npm ci)"
		exit 1
	fi
	TMPDIR=$T
	export TMPDIR
	timeout -k 5 110 "$NODE" "$top_srcdir/tests/node/$1"
}
