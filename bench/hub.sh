#!/bin/sh
# bench/hub.sh -- ssepush and mq2sse (the SSE hub) against nginx + nchan,
# side by side, everything on 127.0.0.1.
#
#   sh bench/hub.sh                       # from the build directory
#   SECTIONS=hub sh bench/run.sh          # the same, as run.sh's "hub" section
#   RUNS=1 SECTIONS="latency" LAT_RATES=100 sh bench/hub.sh   # a quick look
#
# With the defaults (RUNS=3) it takes about 10 minutes on a 2-CPU machine
# (588-604 s here, profiles included).
#
# The load client is bench/sseload.c and the input is bench/tspub.c, both
# built into the temp directory with $CC at the start (see their headers).
# Every message is SIZE bytes (default 32): "T=<us since the epoch> xxx...",
# and sseload records now - T for every event a client receives ("now" taken
# when its read() returns): the latency of the whole path, input to client.
# Each server is started fresh for every run and stopped by its PID after it:
#
#   ssepush  `ssepush -l 127.0.0.1:0 --max-clients 20000 --history HISTORY
#            --no-ui` (plus per section: --client-timeout 3600 for fan-out
#            and latency, so that a briefly slow client is not dropped -- any
#            drop is still counted, from its /metrics --, and --heartbeat 0
#            for memory), its stdin a FIFO the script holds open; input is
#            `tspub -r RATE -n COUNT -s SIZE` written into that FIFO.
#   nchan    Debian's nginx + libnginx-mod-nchan, one worker
#            (bench/nchan.conf.in: /sub eventsource subscriber, /pub
#            publisher); input is `tspub -r RATE -n COUNT -s SIZE --post
#            http://127.0.0.1:PORT/pub`, one HTTP POST per message.
#   mq2sse   `mq2sse -h 127.0.0.1 -p BROKER -t bench/x --data payload` (and
#            the ssepush HTTP options above), fed by `tspub ... | mqpub -t
#            bench/x -l` through a private mosquitto (the config of
#            bench/run.sh: loopback only, max_queued_messages 1000000);
#            compared with the pipeline `mqsub -t bench/x | ssepush` (line
#            mode: the payload is the data) on the same broker, clients and
#            publisher.
#
# Sections (SECTIONS, default "fanout latency memory mq2sse"), each run RUNS
# times (default 3), the systems interleaved (odd runs ssepush first, even
# runs nchan first), medians in the tables:
#   fanout   CLIENTS (1000) clients; input as fast as the server takes it:
#            FAN_N (30000) lines through stdin (`tspub -r 0`) for ssepush,
#            NCHAN_FAN_N (2000) POSTs for nchan.  Events delivered per second
#            over all clients (sseload: total / first-to-last event), every
#            client must get every event, none disconnected, and the slowest
#            client's rate must be at least half the fastest's.
#   latency  CLIENTS clients, each rate of LAT_RATES ("1000 100") for LAT_SECS
#            (10) seconds: p50/p90/p99/p99.9/max.  nchan only at the rates of
#            NCHAN_LAT_RATES (default "100": it cannot take 1000 POSTs/s with
#            1000 subscribers on this machine, so at 1000/s only ssepush's
#            absolute figure is judged).  With LAT_SENDMSG=1 (the default) also
#            "sendmsg": ssepush with MQSSE_NO_URING=1, each round written
#            with one sendmsg per client instead of one io_uring submission,
#            and "nocoalesce": ssepush with MQSSE_COALESCE_US=0, a round for
#            every event (not judged: they show what each of the two
#            changes).
#   memory   VmRSS of the server process (nginx: its worker) after a warm-up
#            (100 clients for 1 s), then with MEM_CLIENTS (10000) idle
#            clients connected (and 2 s to settle): (after - before) /
#            clients.  ssepush with --heartbeat 0.
#   mq2sse   CLIENTS clients; mq2sse against `mqsub | ssepush`: latency at
#            MQ_RATE (1000) messages/s for MQ_SECS (10) s, then throughput:
#            each rate of MQ_TP_RATES ("2000 4000 8000 0"; 0: as fast as mqpub
#            publishes) for MQ_TP_N (20000) messages; and, to find where
#            the broker becomes the limit, MQ_BROKER_N (200000) messages as
#            fast as mqpub publishes to MQ_BROKER_CLIENTS (10) clients (0:
#            skip), with the broker's CPU share.  Messages are published
#            at QoS 0 (mqpub's default).  mq2sse cannot slow a broker down,
#            so a client that falls behind is disconnected (--client-timeout
#            5, the default, --client-buffer 1 MiB); the pipeline's ssepush
#            slows mqsub down through the pipe and the broker queues.
#
# PERF=1 (the default when perf is installed) adds profiled runs after the
# measured ones, not counted in the tables: for each of PROF
# (default "ssepush:latency:1000 ssepush:latency:100 ssepush:fanout
# nchan:latency:100 mq2sse:latency:1000"), one run with `perf record -g -p
# SERVER` and `perf stat -e 'syscalls:sys_enter_*' -p SERVER` attached from
# the publisher's start to the load client's end: the top functions (self
# time) and the system calls per delivered event go in the report.
#
# Each run also records the server's CPU (user and system, from /proc), the
# load client's CPU, the machine's idle share over the run (/proc/stat) and
# the 1-minute load average when it started: the load client and the
# servers share the machine's CPUs, and so does any other work on it.
#
# Nothing is hidden: a run where a client failed, was disconnected or missed
# events is reported as such, with its figures; runs are never retried.
#
# Environment: RUNS CLIENTS SECTIONS SIZE HISTORY FAN_N NCHAN_FAN_N LAT_RATES
# LAT_SECS NCHAN_LAT_RATES MEM_CLIENTS MQ_RATE MQ_SECS MQ_TP_RATES MQ_TP_N
# MQ_BROKER_CLIENTS MQ_BROKER_N PERF PROF top_srcdir top_builddir SSEPUSH MQ2SSE MQPUB MQSUB NGINX
# MOSQUITTO CC; REPORT_FROM=FILE.tsv writes the report (without the
# profiles) from the raw figures of an earlier run, and runs nothing.
# Output: the Markdown report on stdout and in
# $top_builddir/bench/out/hub-DATE.md (raw per-run figures beside it,
# hub-DATE.tsv); progress on stderr.

# Bash is needed ($EPOCHREALTIME, arrays); `make` runs $(SHELL).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/..}
if [ -z "${top_builddir:-}" ]; then
	if [ -x "$PWD/cmd/ssepush" ] && [ -f "$PWD/Makefile" ]; then
		top_builddir=$PWD
	else
		top_builddir=/tmp/build-main
	fi
fi
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)

RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-1000}
SECTIONS=${SECTIONS:-"fanout latency memory mq2sse"}
SIZE=${SIZE:-32}
HISTORY=${HISTORY:-1000}
FAN_N=${FAN_N:-30000}
NCHAN_FAN_N=${NCHAN_FAN_N:-2000}
LAT_RATES=${LAT_RATES:-"1000 100"}
LAT_SECS=${LAT_SECS:-10}
NCHAN_LAT_RATES=${NCHAN_LAT_RATES:-100}
# 1: the latency section also runs "sendmsg", ssepush with MQSSE_NO_URING=1
# (one sendmsg per client per round instead of one io_uring submission),
# and "nocoalesce", ssepush with MQSSE_COALESCE_US=0 (a round for every
# event however soon after the last, instead of at most one per 2 ms).
LAT_SENDMSG=${LAT_SENDMSG:-1}
MEM_CLIENTS=${MEM_CLIENTS:-10000}
MQ_RATE=${MQ_RATE:-1000}
MQ_SECS=${MQ_SECS:-10}
MQ_TP_RATES=${MQ_TP_RATES:-"2000 4000 8000 0"}
MQ_TP_N=${MQ_TP_N:-20000}
MQ_BROKER_CLIENTS=${MQ_BROKER_CLIENTS:-10}
MQ_BROKER_N=${MQ_BROKER_N:-200000}
# 1: the mq2sse latency runs again with JSON records as the data: mq2sse's
# default ("mq2sse-j") against `mqsub -j | ssepush -j` ("pipe-j").
MQ_JSON=${MQ_JSON:-1}
if [ -z "${PERF:-}" ]; then
	if command -v perf >/dev/null; then PERF=1; else PERF=0; fi
fi
PROF=${PROF:-"ssepush:latency:1000 ssepush:latency:100 ssepush:fanout nchan:latency:100 mq2sse:latency:1000"}
SSEPUSH=${SSEPUSH:-$top_builddir/cmd/ssepush}
MQ2SSE=${MQ2SSE:-$top_builddir/cmd/mq2sse}
MQPUB=${MQPUB:-$top_builddir/cmd/mqpub}
MQSUB=${MQSUB:-$top_builddir/cmd/mqsub}
NGINX=${NGINX:-/usr/sbin/nginx}
NCHAN_MOD=/usr/lib/nginx/modules/ngx_nchan_module.so
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
CC=${CC:-cc}

say() { printf '%s\n' "bench/hub: $*" >&2; }
die() { say "$*"; exit 1; }

for v in RUNS CLIENTS SIZE HISTORY FAN_N NCHAN_FAN_N LAT_SECS MEM_CLIENTS MQ_RATE MQ_SECS MQ_TP_N MQ_BROKER_CLIENTS MQ_BROKER_N PERF; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a non-negative integer" ;; esac
done
for v in $LAT_RATES $NCHAN_LAT_RATES $MQ_TP_RATES; do
	case $v in '' | *[!0-9]*) die "rates must be integers (0: as fast as possible)" ;; esac
done
if [ "$RUNS" -le 0 ] || [ "$CLIENTS" -le 0 ]; then die "RUNS and CLIENTS must be positive"; fi
for s in $SECTIONS; do
	case $s in fanout | latency | memory | mq2sse) ;; *) die "unknown section $s (fanout latency memory mq2sse)" ;; esac
done
has_section() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------- tools
for t in "$SSEPUSH" "$MQ2SSE" "$MQPUB" "$MQSUB"; do
	[ -x "$t" ] || die "$t not found or not executable (build first: make)"
done
if [ ! -x "$NGINX" ] || [ ! -f "$NCHAN_MOD" ]; then die "nginx + nchan needed (Debian: apt-get install nginx-light libnginx-mod-nchan)"; fi
if has_section mq2sse; then [ -x "$MOSQUITTO" ] || die "$MOSQUITTO not found"; fi
for t in "$CC" ss pgrep sed awk grep timeout curl sha256sum mkfifo; do
	command -v "$t" >/dev/null || die "$t not found"
done
if [ "$PERF" = 1 ]; then command -v perf >/dev/null || die "PERF=1 needs perf"; fi

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqsse-bench-hub.XXXXXX") || die "mktemp failed"
# As root, nginx's worker runs as nobody: it must be able to enter $tmp.
chmod 755 "$tmp"
pids=() # every process of ours that may be running: stopped at exit
track() { pids+=("$1"); }
untrack() {
	local i
	for i in "${!pids[@]}"; do [ "${pids[i]}" = "$1" ] && unset 'pids[i]'; done
}
# Stop process $1 (SIGTERM, or signal $2) and reap it if it is our child.
stop() {
	[ -n "$1" ] || return 0
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
}
cleanup() {
	local p
	exec 9>&-
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- build
mkdir "$tmp/bin" || die "mkdir failed"
for p in sseload tspub; do
	"$CC" -O2 -std=gnu11 -Wall -Wextra -Werror -o "$tmp/bin/$p" "$here/$p.c" || die "building $p failed"
done
SSELOAD=$tmp/bin/sseload
TSPUB=$tmp/bin/tspub
# Work on copies: the build tree may be rebuilt while the benchmark runs.
if ! cp "$SSEPUSH" "$MQ2SSE" "$MQPUB" "$MQSUB" "$tmp/bin/"; then die "cannot copy the binaries"; fi
SSEPUSH_SRC=$SSEPUSH
built=$(date -u -r "$SSEPUSH_SRC" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null)
SSEPUSH=$tmp/bin/$(basename "$SSEPUSH") MQ2SSE=$tmp/bin/$(basename "$MQ2SSE")
MQPUB=$tmp/bin/$(basename "$MQPUB") MQSUB=$tmp/bin/$(basename "$MQSUB")
sums="ssepush $(sha256sum "$SSEPUSH" | cut -c 1-12), mq2sse $(sha256sum "$MQ2SSE" | cut -c 1-12)"
rev=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)
[ -n "$rev" ] && [ -n "$(git -C "$top_srcdir" status --porcelain -- cmd common 2>/dev/null)" ] &&
	rev="$rev + uncommitted changes in cmd/ common/"

# ---------------------------------------------------------------- helpers
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# User and system CPU ticks of a process so far: "UTIME STIME".
ticks() {
	local a
	if read -r -a a <"/proc/$1/stat" 2>/dev/null; then
		printf '%s %s' "${a[13]}" "${a[14]}"
	else
		printf '0 0'
	fi
}
# Idle and total ticks of all CPUs so far: "IDLE TOTAL".
cpu_idle() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print $5+$6, t; exit}' /proc/stat; }
load1() { cut -d' ' -f1 /proc/loadavg; }
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }
# A field of sseload's JSON report (a number, or a string's text).
jget() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$2"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# A free TCP port on 127.0.0.1 (for nginx and mosquitto, which need one).
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { printf '%s' "$p"; return 0; }
	done
	return 1
}

# ---------------------------------------------------------------- servers
# Each start_* sets srv_pid (the process measured: ssepush, mq2sse or the
# nginx worker), sub_url (the SSE URL) and, for the others to stop,
# srv_pids (every process of that server).
srv_pid='' srv_pids=() sub_url='' pub_url='' srv_metrics='' aux_pid=''

# Waits for "listening on http://ADDR:PORT/" in $1 from process $2.
wait_listening() {
	local f=$1 p=$2 u
	for _ in $(seq 1 300); do
		u=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$f" 2>/dev/null | head -n 1)
		[ -n "$u" ] && { printf '%s' "${u%/}"; return 0; }
		kill -0 "$p" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# ssepush, its stdin the FIFO $d/in (the script holds it open on fd 9, so
# that the input does not end between publishers).  Extra options in "$@".
start_ssepush() {
	local d=$1 u
	shift
	mkfifo "$d/in" || die "mkfifo failed"
	"$SSEPUSH" -l 127.0.0.1:0 --max-clients 20000 --history "$HISTORY" --no-ui "$@" <"$d/in" 2>"$d/server.err" &
	srv_pid=$!
	track "$srv_pid"
	exec 9>"$d/in"
	srv_pids=("$srv_pid")
	u=$(wait_listening "$d/server.err" "$srv_pid") || { cat "$d/server.err" >&2; die "ssepush did not start"; }
	sub_url=$u/events srv_metrics=$u/metrics pub_url=''
}

start_nchan() {
	local d=$1 port conf=$1/nginx/nginx.conf w
	mkdir -p "$d/nginx"
	chmod 755 "$d" "$d/nginx"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$(free_port) || die "no free port"
		sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$d/nginx|g" "$here/nchan.conf.in" >"$conf" || die "cannot write $conf"
		"$NGINX" -e "$d/nginx/error.log" -c "$conf" -p "$d/nginx/" >"$d/server.err" 2>&1 9>&- &
		local np=$!
		track "$np"
		for _ in $(seq 1 200); do
			kill -0 "$np" 2>/dev/null || break
			if ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$np,"; then
				w=$(pgrep -P "$np" | head -n 1)
				if [ -n "$w" ]; then
					srv_pid=$w srv_pids=("$np")
					sub_url=http://127.0.0.1:$port/sub pub_url=http://127.0.0.1:$port/pub srv_metrics=''
					return 0
				fi
			fi
			sleep 0.05
		done
		stop "$np"
	done
	cat "$d/server.err" "$d/nginx/error.log" >&2 2>/dev/null
	die "could not start nginx + nchan on a free loopback port"
}

# mosquitto, once, for the mq2sse section (the config of bench/run.sh).
broker_pid='' bport=''
start_broker() {
	local conf=$tmp/mosquitto.conf
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		bport=$(free_port) || die "no free port"
		cat >"$conf" <<EOF
# Written by mqsse bench/hub.sh; see mosquitto.conf(5) and bench/run.sh.
user root
listener $bport 127.0.0.1
allow_anonymous true
persistence false
# QoS 0 to a subscriber that falls behind is queued, not dropped (up to here).
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 0
log_dest file $tmp/broker.log
log_type error
log_type warning
log_type subscribe
EOF
		: >"$tmp/broker.log"
		"$MOSQUITTO" -c "$conf" >"$tmp/broker.out" 2>&1 9>&- &
		broker_pid=$!
		track "$broker_pid"
		for _ in $(seq 1 200); do
			kill -0 "$broker_pid" 2>/dev/null || break
			ss -Hltnp "sport = :$bport" 2>/dev/null | grep -q "pid=$broker_pid," && return 0
			sleep 0.05
		done
		stop "$broker_pid"
		broker_pid=''
	done
	cat "$tmp/broker.out" >&2
	die "could not start mosquitto on a free loopback port"
}
wait_subscribed() { # client-id process
	for _ in $(seq 1 1500); do
		grep -qF " $1 " "$tmp/broker.log" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# mq2sse on the broker, or (pipe) `mqsub | ssepush` through the FIFO $d/in;
# mq2sse-j and pipe-j: the same with the mqsub -j record as the data
# (mq2sse's default; `mqsub -j | ssepush -j`).
start_mq() {
	local kind=$1 d=$2 id u data=(--data payload) j=()
	shift 2
	id=hub-$$-$RANDOM
	case $kind in *-j) data=() j=(-j) ;; esac
	if [ "$kind" = mq2sse ] || [ "$kind" = mq2sse-j ]; then
		"$MQ2SSE" -h 127.0.0.1 -p "$bport" -i "$id" -t bench/x "${data[@]}" \
			-l 127.0.0.1:0 --max-clients 20000 --history "$HISTORY" --no-ui "$@" 2>"$d/server.err" 9>&- &
		srv_pid=$!
		track "$srv_pid"
		srv_pids=("$srv_pid") aux_pid=''
	else
		mkfifo "$d/in" || die "mkfifo failed"
		"$SSEPUSH" -l 127.0.0.1:0 --max-clients 20000 --history "$HISTORY" --no-ui "${j[@]}" "$@" <"$d/in" 2>"$d/server.err" 9>&- &
		srv_pid=$!
		track "$srv_pid"
		"$MQSUB" -h 127.0.0.1 -p "$bport" -i "$id" -t bench/x "${j[@]}" >"$d/in" 2>"$d/mqsub.err" 9>&- &
		aux_pid=$!
		track "$aux_pid"
		srv_pids=("$aux_pid" "$srv_pid")
	fi
	u=$(wait_listening "$d/server.err" "$srv_pid") || { cat "$d/server.err" >&2; die "$kind did not start"; }
	wait_subscribed "$id" "${aux_pid:-$srv_pid}" || { cat "$d/server.err" "$d/mqsub.err" >&2 2>/dev/null; die "$kind did not subscribe"; }
	sub_url=$u/events srv_metrics=$u/metrics pub_url=''
}

stop_server() {
	local p
	exec 9>&-
	for p in "${srv_pids[@]}"; do stop "$p"; done
	srv_pid='' srv_pids=() aux_pid=''
}

# ---------------------------------------------------------------- load
load_pid=''
# sseload with N clients on $sub_url and the other arguments, in the
# background (report $d/load.json, progress $d/load.err); waits until all
# are connected.  Returns 1 if they were not within 120 s.
start_load() {
	local d=$1 n=$2
	shift 2
	: >"$d/load.err"
	"$SSELOAD" -n "$n" -u "$sub_url" -j "$@" >"$d/load.json" 2>"$d/load.err" 9>&- &
	load_pid=$!
	track "$load_pid"
	for _ in $(seq 1 1200); do
		grep -q "^sseload: all $n clients connected" "$d/load.err" && return 0
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.1
	done
	say "not all $n clients connected: $(tail -n 2 "$d/load.err" | tr '\n' ' ')"
	return 1
}

tsv=$tmp/hub.tsv
: >"$tsv"
runid=0
prof_list=()

# ---------------------------------------------------------------- one run
# run_pubsub SECTION SYSTEM RATE COUNT RUN [prof]: a fresh server, CLIENTS
# clients, COUNT messages at RATE (0: as fast as taken).  One "run" line in
# $tsv; with "prof", perf is attached to the server and the run goes to the
# profile list instead.
run_pubsub() {
	local sec=$1 sys=$2 rate=$3 count=$4 run=$5 prof=${6:-} nc=${RUN_CLIENTS:-$CLIENTS}
	local d budget extra=() pub_pid pp_rec='' pp_stat='' lrc prc t0 t1 u0 u1 a0 a1 b0=() b1=() i0 i1 l1 dropped note=''
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	if [ "$rate" = 0 ]; then budget=$((120 + count / 100)); else budget=$((count * 3 / rate + 60)); fi
	case $sec in fanout | latency) extra=(--client-timeout 3600) ;; esac
	case $sys in
	ssepush) start_ssepush "$d" "${extra[@]}" ;;
	sendmsg) MQSSE_NO_URING=1 start_ssepush "$d" "${extra[@]}" ;;
	nocoalesce) MQSSE_COALESCE_US=0 start_ssepush "$d" "${extra[@]}" ;;
	nchan) start_nchan "$d" ;;
	mq2sse | pipe | mq2sse-j | pipe-j) start_mq "$sys" "$d" ;;
	esac
	if ! start_load "$d" "$nc" -e "$count" -d "$budget"; then
		stop "$load_pid" INT
		stop_server
		printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\tCONNECT\n' "$sec" "$sys" "$rate" "$run" "$nc" "$count" >>"$tsv"
		return
	fi
	sleep 0.5
	if [ -n "$prof" ]; then
		perf record -g -p "$srv_pid" -o "$d/perf.data" >/dev/null 2>"$d/perf-record.err" 9>&- &
		pp_rec=$!
		track "$pp_rec"
		perf stat -x , -e 'syscalls:sys_enter_*' -p "$srv_pid" -o "$d/perf-stat.csv" >/dev/null 2>"$d/perf-stat.err" 9>&- &
		pp_stat=$!
		track "$pp_stat"
		sleep 0.5
	fi
	read -r -a u0 <<<"$(ticks "$srv_pid")"
	a0=(0 0)
	[ -n "$aux_pid" ] && read -r -a a0 <<<"$(ticks "$aux_pid")"
	[ "$sec" = mq2sse ] || [ "$sec" = mq2tp ] && read -r -a b0 <<<"$(ticks "$broker_pid")"
	read -r -a i0 <<<"$(cpu_idle)"
	l1=$(load1)
	t0=$EPOCHREALTIME
	case $sys in
	ssepush | sendmsg | nocoalesce)
		timeout -s INT "$budget" "$TSPUB" -r "$rate" -n "$count" -s "$SIZE" >&9 2>"$d/pub.err" &
		pub_pid=$!
		;;
	nchan)
		timeout -s INT "$budget" "$TSPUB" -r "$rate" -n "$count" -s "$SIZE" --post "$pub_url" 2>"$d/pub.err" 9>&- &
		pub_pid=$!
		;;
	mq2sse | pipe | mq2sse-j | pipe-j)
		{
			"$TSPUB" -r "$rate" -n "$count" -s "$SIZE" 2>"$d/pub.err" |
				timeout -s INT "$budget" "$MQPUB" -h 127.0.0.1 -p "$bport" -t bench/x -l 2>"$d/mqpub.err"
		} 9>&- &
		pub_pid=$!
		;;
	esac
	track "$pub_pid"
	wait "$load_pid"
	lrc=$?
	t1=$EPOCHREALTIME
	untrack "$load_pid"
	read -r -a u1 <<<"$(ticks "$srv_pid")"
	a1=(0 0)
	[ -n "$aux_pid" ] && read -r -a a1 <<<"$(ticks "$aux_pid")"
	b1=(0 0)
	[ "$sec" = mq2sse ] || [ "$sec" = mq2tp ] && read -r -a b1 <<<"$(ticks "$broker_pid")"
	read -r -a i1 <<<"$(cpu_idle)"
	# The publisher has ended by now unless the run went wrong.
	if kill -0 "$pub_pid" 2>/dev/null; then
		note="publisher still running when the load client ended: stopped;"
		kill -INT "$pub_pid" 2>/dev/null
	fi
	wait "$pub_pid"
	prc=$?
	untrack "$pub_pid"
	[ -n "$pp_rec" ] && stop "$pp_rec" INT
	[ -n "$pp_stat" ] && stop "$pp_stat" INT
	dropped=-
	if [ -n "$srv_metrics" ]; then
		dropped=$(curl -s --max-time 5 "$srv_metrics" | sed -n 's/^[^ ]*_clients_dropped_total \([0-9]*\).*/\1/p')
		[ -n "$dropped" ] || dropped='?'
	fi
	stop_server
	[ "$prc" = 0 ] || note="$note publisher exit $prc: $(head -c 200 "$d/pub.err" "$d/mqpub.err" 2>/dev/null | tr '\t\n' '  ');"
	local f=$d/load.json pubrate
	pubrate=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$d/pub.err" | head -n 1)
	[ -s "$f" ] || note="$note no report from sseload (exit $lrc);"
	[ -n "$(jget first_error "$f")" ] && note="$note sseload: $(jget first_error "$f");"
	local line
	line=$(printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' \
		"$sec" "$sys" "$rate" "$run" "$nc" "$count" \
		"$(jget connected "$f")" "$(jget failed "$f")" "$(jget disconnected "$f")" "$(jget events "$f")" \
		"$(jget events_per_s "$f")" "$(jget min_client_rate "$f")" "$(jget max_client_rate "$f")" \
		"$(jget lat_p50_ms "$f")" "$(jget lat_p90_ms "$f")" "$(jget lat_p99_ms "$f")" "$(jget lat_p999_ms "$f")" "$(jget lat_max_ms "$f")" \
		"$(awk -v a=$((u1[0] - u0[0])) -v h="$clk_tck" 'BEGIN { printf "%.2f", a / h }')" \
		"$(awk -v a=$((u1[1] - u0[1])) -v h="$clk_tck" 'BEGIN { printf "%.2f", a / h }')" \
		"$(awk -v a=$((a1[0] + a1[1] - a0[0] - a0[1])) -v h="$clk_tck" 'BEGIN { printf "%.2f", a / h }')" \
		"$(awk -v a=$((${b1[0]:-0} + ${b1[1]:-0} - ${b0[0]:-0} - ${b0[1]:-0})) -v h="$clk_tck" 'BEGIN { printf "%.2f", a / h }')" \
		"$(awk -v a="$(jget cpu_user_s "$f")" -v b="$(jget cpu_sys_s "$f")" 'BEGIN { printf "%.2f", a + b }')" \
		"$(secs "$t0" "$t1")" \
		"$(awk -v i=$((i1[0] - i0[0])) -v t=$((i1[1] - i0[1])) 'BEGIN { printf "%.0f", (t > 0 ? 100 * i / t : 0) }')" \
		"$l1" "${pubrate:--}" "$dropped" "$lrc" "$(jget active_s "$f")" "${note# }")
	if [ -n "$prof" ]; then
		prof_list+=("$sec:$sys:$rate:$d")
		printf '%s\n' "${line/#run/prun}" >>"$tsv"
	else
		printf '%s\n' "$line" >>"$tsv"
	fi
	# Progress: the line's key figures.
	say "$(printf '%s' "$line" | awk -F '\t' '{ printf "%s%s %s rate %s run %s, %s clients: events %s of %s, %s ev/s, clients slowest/fastest %s/%s /s, disconnected %s, dropped %s, p50 %s p99 %s ms, server CPU %s+%s s, idle %s%%, load %s%s", ($1 == "prun" ? "(profiled) " : ""), $2, $3, $4, $5, $6, $11, $6 * $7, $12, $13, $14, $10, $29, $15, $17, $20, $21, $26, $27, ($32 != "" ? " -- " $32 : "") }')"
}

# ---------------------------------------------------------------- memory
run_memory() { # system run
	local sys=$1 run=$2 d before after conns lrss t0 note=''
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	case $sys in
	ssepush) start_ssepush "$d" --heartbeat 0 ;;
	nchan) start_nchan "$d" ;;
	esac
	# Warm up (code pages, pools, buffers): 100 clients for 1 s.
	"$SSELOAD" -n 100 -u "$sub_url" -d 1 -q >/dev/null 2>&1 9>&-
	sleep 1
	before=$(rss_kb "$srv_pid")
	local l1 i0 i1
	l1=$(load1)
	read -r -a i0 <<<"$(cpu_idle)"
	t0=$EPOCHREALTIME
	if start_load "$d" "$MEM_CLIENTS" -d 600; then
		sleep 2
		after=$(rss_kb "$srv_pid")
		read -r -a i1 <<<"$(cpu_idle)"
		local hp=${sub_url#http://}
		hp=${hp%%/*}
		conns=$(ss -Htn state established "sport = :${hp##*:}" 2>/dev/null | wc -l)
		lrss=$(rss_kb "$load_pid")
		stop "$load_pid" INT
	else
		after=-
		note="not all clients connected"
		stop "$load_pid" INT
	fi
	stop_server
	local f=$d/load.json
	printf 'mem\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$run" "$MEM_CLIENTS" \
		"$(jget connected "$f")" "$(jget disconnected "$f")" "$before" "$after" "${conns:-0}" "$(jget connect_s "$f")" \
		"$(awk -v i=$((${i1[0]:-0} - i0[0])) -v t=$((${i1[1]:-0} - i0[1])) 'BEGIN { printf "%.0f", (t > 0 ? 100 * i / t : 0) }')" \
		"$l1" "${lrss:-}" "$note" >>"$tsv"
	say "memory $sys run $run: $(jget connected "$f") of $MEM_CLIENTS connected in $(jget connect_s "$f") s ($conns established), VmRSS $before -> $after kB: $(awk -v a="$before" -v b="$after" -v n="$MEM_CLIENTS" 'BEGIN { if (b == "-") print "-"; else printf "%.0f", (b - a) * 1024 / n }') B per client; load $l1"
}

# ---------------------------------------------------------------- profiles
# Summaries of a profiled run into $d/prof.md (the report takes them).
summarize_prof() {
	local sec=$1 sys=$2 rate=$3 d=$4 ev inn
	ev=$(jget events "$d/load.json")
	case $sec in
	fanout) inn=$( [ "$sys" = nchan ] && echo "$NCHAN_FAN_N" || echo "$FAN_N") ;;
	latency) inn=$((rate * LAT_SECS)) ;;
	mq2sse) inn=$((rate * MQ_SECS)) ;;
	esac
	{
		printf '### %s, %s%s: %s clients, %s events delivered\n\n' "$sys" "$sec" \
			"$( [ "$rate" != 0 ] && printf ' at %s events/s' "$rate" || printf ' (input as fast as taken)')" "$CLIENTS" "${ev:-?}"
		if [ -s "$d/perf-stat.csv" ] && [ -n "$ev" ] && [ "$ev" != 0 ]; then
			echo "System calls of the server process (\`perf stat -e 'syscalls:sys_enter_*' -p PID\`, publisher start to load client end), per delivered event and per input event (${inn}), those above 0.001 per delivered event:"
			echo
			echo "| system call | count | per delivered event | per input event |"
			echo "| --- | --- | --- | --- |"
			awk -F , -v ev="$ev" -v inn="$inn" '/^#/ || NF < 3 { next } $1 ~ /^[0-9]+$/ && $1 > 0 {
				e = $3; sub(/^syscalls:sys_enter_/, "", e); n[e] = $1; tot += $1 }
				END { for (e in n) if (n[e] / ev >= 0.001) printf "%s\t%d\t%.4f\t%.2f\n", e, n[e], n[e] / ev, n[e] / inn
				      printf "zzTOTAL\t%d\t%.4f\t%.2f\n", tot, tot / ev, tot / inn }' "$d/perf-stat.csv" |
				sort -t "$(printf '\t')" -k2,2nr | sed 's/^zzTOTAL/**all**/' |
				awk -F '\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
			echo
		else
			echo "(no system-call counts: $(head -c 300 "$d/perf-stat.err" 2>/dev/null | tr '\n' ' '))"
			echo
		fi
		if [ -s "$d/perf.data" ]; then
			echo "\`perf record -g -p PID\` of the server, \`perf report --no-children --sort dso\` (share of the samples per object):"
			echo
			echo '```'
			perf report -i "$d/perf.data" --no-children --stdio -g none --sort dso --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
			echo '```'
			echo
			echo "Self time per function (\`perf report --no-children\`, above 1 %):"
			echo
			echo '```'
			perf report -i "$d/perf.data" --no-children --stdio -g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 30
			echo '```'
			echo
			echo "Inclusive time (\`perf report --children\`) of selected functions:"
			echo
			echo '```'
			perf report -i "$d/perf.data" --children --stdio -g none --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' |
				grep -E '\] (__GI___writev|__GI___libc_write|__libc_writev|writev|__send|sendmsg|__GI___libc_read|read|readv|epoll_wait|__GI_epoll_wait|tcp_sendmsg|__local_bh_enable_ip|net_rx_action|sock_def_readable|ep_poll_callback|__wake_up_sync_key|pvm_irq_enable|do_syscall_64|flush|flush_chan|deliver|send_chunk|add_range|evbuffer_write_atmost|evbuffer_add_reference|evbuffer_prepend|evbuffer_drain|hub_publish|on_written|event_base_loop|ngx_[a-z_]*write[a-z_]*|ngx_nchan[a-z_]*|nchan_[a-z_]*publish[a-z_]*|schedule)$' |
				head -n 30
			echo '```'
			echo
		else
			echo "(no profile: $(tail -n 3 "$d/perf-record.err" 2>/dev/null | tr '\n' ' '))"
			echo
		fi
	} >"$d/prof.md"
	# The syscall totals for the tables.
	if [ -s "$d/perf-stat.csv" ] && [ -n "$ev" ] && [ "$ev" != 0 ]; then
		awk -F , -v s="$sec" -v y="$sys" -v r="$rate" -v ev="$ev" -v inn="$inn" '/^#/ || NF < 3 { next } $1 ~ /^[0-9]+$/ {
			e = $3; sub(/^syscalls:sys_enter_/, "", e); tot += $1
			if (e ~ /^(write|writev|sendto|sendmsg|sendfile64|sendfile)$/) w += $1
			else if (e ~ /^(read|readv|recvfrom|recvmsg)$/) rd += $1
			else if (e ~ /^(epoll_wait|epoll_pwait|epoll_pwait2|poll|ppoll|select|pselect6)$/) wt += $1 }
			END { printf "sys\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", s, y, r, ev, inn, w, rd, wt, tot }' "$d/perf-stat.csv" >>"$tsv"
	fi
}

# ---------------------------------------------------------------- main
started=$EPOCHREALTIME
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "${REPORT_FROM:-}" ]; then
	# Only the report, from the raw figures of an earlier run.
	cp "$REPORT_FROM" "$tsv" || die "cannot read $REPORT_FROM"
	SECTIONS='' PERF=0
else
	say "sections: $SECTIONS; $RUNS runs; $CLIENTS clients; temp $tmp"
fi
if has_section mq2sse; then
	start_broker
	say "mosquitto pid $broker_pid on 127.0.0.1:$bport"
fi

# The systems of a run, odd runs ssepush first, even runs the other first.
order() { # run a b
	if [ $(($1 % 2)) = 1 ]; then printf '%s %s' "$2" "$3"; else printf '%s %s' "$3" "$2"; fi
}
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

for s in $SECTIONS; do
	case $s in
	fanout)
		for run in $(seq 1 "$RUNS"); do
			for sys in $(order "$run" ssepush nchan); do
				if [ "$sys" = ssepush ]; then
					run_pubsub fanout ssepush 0 "$FAN_N" "$run"
				else
					run_pubsub fanout nchan 0 "$NCHAN_FAN_N" "$run"
				fi
			done
		done
		;;
	latency)
		for rate in $LAT_RATES; do
			[ "$rate" -gt 0 ] || continue
			for run in $(seq 1 "$RUNS"); do
				# the variants last in odd runs, first in even runs.
				for sys in $(order "$run" "$(order "$run" ssepush nchan)" "sendmsg nocoalesce"); do
					[ "$sys" = nchan ] && ! in_list "$rate" "$NCHAN_LAT_RATES" && continue
					[ "$sys" = sendmsg ] || [ "$sys" = nocoalesce ] && [ "$LAT_SENDMSG" != 1 ] && continue
					run_pubsub latency "$sys" "$rate" $((rate * LAT_SECS)) "$run"
				done
			done
		done
		;;
	memory)
		for run in $(seq 1 "$RUNS"); do
			for sys in $(order "$run" ssepush nchan); do
				run_memory "$sys" "$run"
			done
		done
		;;
	mq2sse)
		for run in $(seq 1 "$RUNS"); do
			for sys in $(order "$run" mq2sse pipe); do
				run_pubsub mq2sse "$sys" "$MQ_RATE" $((MQ_RATE * MQ_SECS)) "$run"
			done
		done
		if [ "$MQ_JSON" = 1 ]; then
			for run in $(seq 1 "$RUNS"); do
				for sys in $(order "$run" mq2sse-j pipe-j); do
					run_pubsub mq2sse "$sys" "$MQ_RATE" $((MQ_RATE * MQ_SECS)) "$run"
				done
			done
		fi
		for rate in $MQ_TP_RATES; do
			for run in $(seq 1 "$RUNS"); do
				for sys in $(order "$run" mq2sse pipe); do
					run_pubsub mq2tp "$sys" "$rate" "$MQ_TP_N" "$run"
				done
			done
		done
		if [ "$MQ_BROKER_CLIENTS" -gt 0 ]; then
			for run in $(seq 1 "$RUNS"); do
				for sys in $(order "$run" mq2sse pipe); do
					RUN_CLIENTS=$MQ_BROKER_CLIENTS run_pubsub mq2tp "$sys" 0 "$MQ_BROKER_N" "$run"
				done
			done
		fi
		;;
	esac
done

if [ "$PERF" = 1 ]; then
	for p in $PROF; do
		IFS=: read -r psys psec prate <<<"$p"
		case $psys:$psec in
		ssepush:fanout) has_section fanout && run_pubsub fanout ssepush 0 "$FAN_N" P prof ;;
		nchan:fanout) has_section fanout && run_pubsub fanout nchan 0 "$NCHAN_FAN_N" P prof ;;
		ssepush:latency | nchan:latency) has_section latency && run_pubsub latency "$psys" "$prate" $((prate * LAT_SECS)) P prof ;;
		mq2sse:latency | pipe:latency) has_section mq2sse && run_pubsub mq2sse "$psys" "$prate" $((prate * MQ_SECS)) P prof ;;
		*) say "PROF: unknown entry $p (SYSTEM:SECTION[:RATE])" ;;
		esac
	done
	for e in "${prof_list[@]}"; do
		IFS=: read -r psec psys prate pd <<<"$e"
		summarize_prof "$psec" "$psys" "$prate" "$pd"
	done
fi
if [ -n "$broker_pid" ]; then stop "$broker_pid"; fi
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---------------------------------------------------------------- report
stamp=$(date -u +%Y%m%dT%H%M%SZ)
outdir=$top_builddir/bench/out
mkdir -p "$outdir"
report=$outdir/hub-$stamp.md
cp "$tsv" "$outdir/hub-$stamp.tsv"
ver_ssepush=$("$SSEPUSH" --version 2>/dev/null | head -n 1)
ver_nginx=$("$NGINX" -v 2>&1 | sed -n 's/^nginx version: nginx\///p')
ver_nchan=$(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null)
ver_broker=$("$MOSQUITTO" -h 2>/dev/null | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p' | head -n 1)

{
	echo "# ssepush and mq2sse against nginx + nchan, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	[ -n "${REPORT_FROM:-}" ] && echo "- **re-rendered with REPORT_FROM from $REPORT_FROM**: the command line below gives the knobs of this call, not necessarily those of the run; no profiles"
	echo "- command: \`RUNS=$RUNS CLIENTS=$CLIENTS SECTIONS=\"$SECTIONS\" SIZE=$SIZE HISTORY=$HISTORY FAN_N=$FAN_N NCHAN_FAN_N=$NCHAN_FAN_N LAT_RATES=\"$LAT_RATES\" LAT_SECS=$LAT_SECS NCHAN_LAT_RATES=\"$NCHAN_LAT_RATES\" LAT_SENDMSG=$LAT_SENDMSG MEM_CLIENTS=$MEM_CLIENTS MQ_RATE=$MQ_RATE MQ_SECS=$MQ_SECS MQ_TP_RATES=\"$MQ_TP_RATES\" MQ_TP_N=$MQ_TP_N MQ_BROKER_CLIENTS=$MQ_BROKER_CLIENTS MQ_BROKER_N=$MQ_BROKER_N MQ_JSON=$MQ_JSON PERF=$PERF sh bench/hub.sh\` ($elapsed s)"
	echo "- $ver_ssepush; source at the start: ${rev:-unknown}; binaries copied at the start from $(dirname "$SSEPUSH_SRC") (ssepush modified $built; sha256 $sums)"
	echo "- nginx $ver_nginx + nchan $ver_nchan, one worker (bench/nchan.conf.in); mosquitto $ver_broker for mq2sse (bench/run.sh's config)"
	echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr); load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg). The load client (sseload), the publisher and the server share these CPUs."
	echo "- $RUNS runs per figure, systems interleaved; medians. Messages of $SIZE bytes (\"T=<us> x...\"), $CLIENTS clients (memory: $MEM_CLIENTS). Latency: from the timestamp tspub writes into the data to the load client's read(). \"idle\": the machine's idle share over the run; \"load\": 1-minute load average at its start."
	echo
} >"$report"

awk -F '\t' -v RUNS="$RUNS" -v CLIENTS="$CLIENTS" -v MEMC="$MEM_CLIENTS" -v NLR="$NCHAN_LAT_RATES" '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return ""
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(arr, key, v, sep) { if (sep == "") sep = " "; if (key in arr) arr[key] = arr[key] sep v; else arr[key] = v }
function fmt(v, p) { return v == "" ? "—" : sprintf("%." p "f", v) }
function ratio(a, b, p) { if (p == "") p = 2; return (a == "" || b == "" || b + 0 == 0) ? "—" : sprintf("%." p "f", a / b) }
function range(list,    a, n, i, lo, hi) { n = split(list, a, " "); if (!n) return "—"; lo = hi = a[1]; for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }; return lo == hi ? lo : lo "-" hi }
function name(s) { return s == "pipe" ? "mqsub \\| ssepush" : s == "pipe-j" ? "mqsub -j \\| ssepush -j" : s == "mq2sse-j" ? "mq2sse (JSON records)" : s == "sendmsg" ? "ssepush, MQSSE_NO_URING=1" : s == "nocoalesce" ? "ssepush, MQSSE_COALESCE_US=0" : s }
$1 == "run" {
	k = $2 SUBSEP $3 SUBSEP $4 SUBSEP $6
	if (!(k in seen)) { seen[k] = 1; ord[++nk] = k }
	nrun[k]++
	if ($8 == "CONNECT") { bad[k] = bad[k] " run " $5 ": not all clients connected;"; next }
	expct = $6 * $7; ok = ($11 == expct && $8 == $6 && $10 == 0 && ($29 == "-" || $29 == 0))
	even = ($13 > 0 && $14 > 0 && $13 >= 0.5 * $14)
	if (!ok) bad[k] = bad[k] sprintf(" run %s: %s of %s events, %s of %s clients connected, %s disconnected by the server%s%s;", $5, $11, expct, $8, $6, $10, ($29 != "-" ? ", " $29 " dropped (metrics)" : ""), ($32 != "" ? ", " $32 : ""))
	nok[k] += ok; nev[k] += even
	add(evps, k, $12); add(slow, k, $13); add(fast, k, $14)
	add(p50, k, $15); add(p90, k, $16); add(p99, k, $17); add(p999, k, $18); add(pmax, k, $19)
	add(su, k, $20); add(ss, k, $21); add(aux, k, $22); add(brk, k, $23); add(lcpu, k, $24)
	add(win, k, $25); add(idle, k, $26); add(ld, k, $27); add(prate, k, $28); add(drop, k, $29)
	if ($11 > 0) add(cpuev, k, ($20 + $21) * 1e6 / $11)
	if ($25 > 0) { add(srvpct, k, 100 * ($20 + $21 + $22) / $25); add(brkpct, k, 100 * $23 / $25) }
	add(active, k, $31)
}
$1 == "mem" {
	add(mconn, $2, $5); add(mb, $2, $7); add(ma, $2, $8); add(mest, $2, $9); add(mcs, $2, $10); add(midle, $2, $11); add(mld, $2, $12)
	if ($8 != "-") add(mper, $2, sprintf("%.0f", ($8 - $7) * 1024 / $4))
	if ($14 != "" || $5 != $4) mbad[$2] = mbad[$2] " run " $3 ": " $5 " of " $4 " connected " $14 ";"
	nm[$2]++
}
$1 == "sys" { sk = $2 SUBSEP $3 SUBSEP $4; sysw[sk] = $7 / $5; sysr[sk] = $8 / $5; sysp[sk] = $9 / $5; syst[sk] = $10 / $5; sysi[sk] = $10 / $6; sysev[sk] = $5; sysorder[++nsys] = sk }
$1 == "prun" { pk = $2 SUBSEP $3 SUBSEP $4; pp50[pk] = $15; pp99[pk] = $17; pevps[pk] = $12 }
END {
	# ---------------- fan-out
	ks = "fanout" SUBSEP "ssepush" SUBSEP 0 SUBSEP CLIENTS; kn = "fanout" SUBSEP "nchan" SUBSEP 0 SUBSEP CLIENTS
	if ((ks in seen) || (kn in seen)) {
		print "## Fan-out: events delivered per second, input as fast as each system takes it"
		print ""
		print "| system | input | events/s delivered (median) | per run | slowest / fastest client (events/s, median) | runs complete, none disconnected | runs with slowest ≥ ½ fastest | server CPU user+sys s (median) | server CPU µs per delivered event | sseload CPU s | p50 / p99 ms (queueing, not a latency figure) | idle % | load |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (t = 1; t <= 2; t++) {
			k = (t == 1 ? ks : kn); if (!(k in seen)) continue
			split(k, f, SUBSEP)
			inp = (f[2] == "ssepush" ? "stdin, `tspub -r 0` (" fmt(median(prate[k]), 0) " lines/s)" : "POST, `tspub -r 0 --post` (" fmt(median(prate[k]), 0) " POSTs/s)")
			printf "| %s | %s | %s | %s | %s / %s | %d of %d | %d of %d | %s+%s | %s | %s | %s / %s | %s | %s |\n", f[2], inp, fmt(median(evps[k]), 0), range(evps[k]),
				fmt(median(slow[k]), 1), fmt(median(fast[k]), 1), nok[k], nrun[k], nev[k], nrun[k], fmt(median(su[k]), 2), fmt(median(ss[k]), 2), fmt(median(cpuev[k]), 3), fmt(median(lcpu[k]), 2),
				fmt(median(p50[k]), 1), fmt(median(p99[k]), 1), range(idle[k]), range(ld[k])
		}
		fr = ratio(median(evps[ks]), median(evps[kn]), 1)
		print ""
		printf "ssepush / nchan, events/s delivered: **%s ×** (target ≥ 50 ×)\n", fr
		print ""
		fan_ratio = fr; fan_ok = (nok[ks] == nrun[ks] && nev[ks] == nrun[ks])
	}
	# ---------------- latency
	nl = 0
	for (i = 1; i <= nk; i++) { split(ord[i], f, SUBSEP); if (f[1] == "latency") nl++ }
	if (nl) {
		print "## Latency: " CLIENTS " clients, timestamp in the data to the client read() (ms)"
		print ""
		print "| events/s | system | p50 | p90 | p99 | p99.9 | max | p99 per run | runs complete | server CPU user+sys s (median) | server CPU µs per delivered event | sseload CPU s | idle % | load |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			k = ord[i]; split(k, f, SUBSEP); if (f[1] != "latency") continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %d of %d | %s+%s | %s | %s | %s | %s |\n", f[3], name(f[2]), fmt(median(p50[k]), 2), fmt(median(p90[k]), 2), fmt(median(p99[k]), 2),
				fmt(median(p999[k]), 2), fmt(median(pmax[k]), 2), range(p99[k]), nok[k], nrun[k], fmt(median(su[k]), 2), fmt(median(ss[k]), 2), fmt(median(cpuev[k]), 3), fmt(median(lcpu[k]), 2), range(idle[k]), range(ld[k])
		}
		print ""
	}
	# ---------------- memory
	if (("ssepush" in nm) || ("nchan" in nm)) {
		print "## Memory: server VmRSS per idle client, " MEMC " clients"
		print ""
		print "| system | bytes per idle client (median) | per run | VmRSS before, after (kB, median) | established connections | connected in s | idle % | load |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- |"
		for (t = 1; t <= 2; t++) {
			sname = (t == 1 ? "ssepush" : "nchan"); if (!(sname in nm)) continue
			printf "| %s | %s | %s | %s, %s | %s | %s | %s | %s |\n", sname, fmt(median(mper[sname]), 0), range(mper[sname]), fmt(median(mb[sname]), 0), fmt(median(ma[sname]), 0), range(mest[sname]), range(mcs[sname]), range(midle[sname]), range(mld[sname])
		}
		print ""
		printf "ssepush / nchan: %s\n", ratio(median(mper["ssepush"]), median(mper["nchan"]))
		print ""
	}
	# ---------------- mq2sse
	km = "mq2sse" SUBSEP "mq2sse"; kp = "mq2sse" SUBSEP "pipe"; nq = 0
	for (i = 1; i <= nk; i++) { split(ord[i], f, SUBSEP); if (f[1] == "mq2sse" || f[1] == "mq2tp") nq++ }
	if (nq) {
		print "## mq2sse: MQTT publish to SSE client, against `mqsub | ssepush`"
		print ""
		print "Latency (ms), `tspub -r RATE | mqpub -t bench/x -l` through mosquitto:"
		print ""
		print "| msg/s | system | p50 | p90 | p99 | p99.9 | max | p99 per run | runs complete | server CPU s (mqsub in brackets) | broker CPU s | µs server CPU per delivered event | idle % | load |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			k = ord[i]; split(k, f, SUBSEP); if (f[1] != "mq2sse") continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %d of %d | %s%s | %s | %s | %s | %s |\n", f[3], name(f[2]), fmt(median(p50[k]), 2), fmt(median(p90[k]), 2), fmt(median(p99[k]), 2),
				fmt(median(p999[k]), 2), fmt(median(pmax[k]), 2), range(p99[k]), nok[k], nrun[k], fmt(median(su[k]) + median(ss[k]), 2), (f[2] ~ /^pipe/ ? " (" fmt(median(aux[k]), 2) ")" : ""), fmt(median(brk[k]), 2), fmt(median(cpuev[k]), 3), range(idle[k]), range(ld[k])
		}
		print ""
		print "Throughput: the same publisher at higher rates (max: as fast as mqpub publishes; \"msg/s in\" is the rate mqpub read its input at):"
		print ""
		print "| clients | msg/s asked | system | msg/s in | events/s delivered (median) | per run | msg/s delivered per client | runs complete (all events, no client lost) | clients dropped by the server (per run) | p50 / p99 ms | server CPU s (mqsub in brackets) | server (+ mqsub) % of a core | broker CPU s | broker % of a core | idle % | load |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			k = ord[i]; split(k, f, SUBSEP); if (f[1] != "mq2tp") continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %d of %d | %s | %s / %s | %s%s | %s | %s | %s | %s | %s |\n", f[4], (f[3] == 0 ? "max" : f[3]), name(f[2]), fmt(median(prate[k]), 0), fmt(median(evps[k]), 0), range(evps[k]), fmt(median(evps[k]) / f[4], 0), nok[k], nrun[k], range(drop[k]),
				fmt(median(p50[k]), 1), fmt(median(p99[k]), 1), fmt(median(su[k]) + median(ss[k]), 2), (f[2] ~ /^pipe/ ? " (" fmt(median(aux[k]), 2) ")" : ""), fmt(median(srvpct[k]), 0), fmt(median(brk[k]), 2), fmt(median(brkpct[k]), 0), range(idle[k]), range(ld[k])
		}
		print ""
	}
	# ---------------- incomplete runs
	nb = 0
	for (i = 1; i <= nk; i++) if (bad[ord[i]] != "") {
		if (!nb++) { print "## Runs that did not deliver every event to every client"; print "" }
		split(ord[i], f, SUBSEP)
		printf "- %s, %s, %s, %s clients: %s\n", f[1], name(f[2]), (f[3] == 0 ? "max rate" : f[3] "/s"), f[4], bad[ord[i]]
	}
	for (t = 1; t <= 2; t++) { sname = (t == 1 ? "ssepush" : "nchan"); if (mbad[sname] != "") { if (!nb++) { print "## Runs that did not deliver every event to every client"; print "" }; printf "- memory, %s:%s\n", sname, mbad[sname] } }
	if (nb) print ""
	# ---------------- system calls (profiled runs)
	if (nsys) {
		print "## System calls of the server per delivered event (profiled runs, not in the tables above)"
		print ""
		print "| run | events delivered | writes | reads | waits | all | all per input event | p50 / p99 ms of that run | events/s |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nsys; i++) {
			sk = sysorder[i]; split(sk, f, SUBSEP)
			printf "| %s %s %s | %d | %.4f | %.4f | %.4f | %.4f | %.1f | %s / %s | %s |\n", name(f[2]), f[1], (f[3] == 0 ? "max" : f[3] "/s"), sysev[sk], sysw[sk], sysr[sk], sysp[sk], syst[sk], sysi[sk], fmt(pp50[sk], 2), fmt(pp99[sk], 2), fmt(pevps[sk], 0)
		}
		print ""
	}
	# ---------------- targets
	print "## Targets"
	print ""
	print "| target | measured (median) | verdict |"
	print "| --- | --- | --- |"
	if (fan_ratio != "") printf "| fan-out ≥ 50 × nchan, %s clients, none disconnected, slowest ≥ ½ fastest | %s × (%s against %s events/s); ssepush complete in %d of %d runs, slowest ≥ ½ fastest in %d of %d | %s |\n", CLIENTS, fan_ratio, fmt(median(evps[ks]), 0), fmt(median(evps[kn]), 0), nok[ks], nrun[ks], nev[ks], nrun[ks], ((fan_ratio + 0 >= 50 && fan_ok) ? "**met**" : "**not met**")
	k = "latency" SUBSEP "ssepush" SUBSEP 1000 SUBSEP CLIENTS
	if (k in seen) printf "| ssepush p99 ≤ 5 ms at 1000 events/s, %s clients | p99 %s ms (p50 %s) | %s |\n", CLIENTS, fmt(median(p99[k]), 2), fmt(median(p50[k]), 2), (median(p99[k]) + 0 <= 5 && nok[k] == nrun[k] ? "**met**" : "**not met**")
	k = "latency" SUBSEP "ssepush" SUBSEP 100 SUBSEP CLIENTS; k2 = "latency" SUBSEP "nchan" SUBSEP 100 SUBSEP CLIENTS
	if ((k in seen) && (k2 in seen)) printf "| ssepush p99 ≤ ⅓ nchan p99 at 100 events/s | %s against %s ms: %s × | %s |\n", fmt(median(p99[k]), 2), fmt(median(p99[k2]), 2), ratio(median(p99[k]), median(p99[k2])), (median(p99[k]) * 3 <= median(p99[k2]) ? "**met**" : "**not met**")
	if ("ssepush" in nm) printf "| ≤ 3 KiB (3072 B) VmRSS per idle client, %s clients | %s B (nchan %s B) | %s |\n", MEMC, fmt(median(mper["ssepush"]), 0), fmt(median(mper["nchan"]), 0), (median(mper["ssepush"]) + 0 <= 3072 ? "**met**" : "**not met**")
	k = "mq2sse" SUBSEP "mq2sse" SUBSEP 1000 SUBSEP CLIENTS
	kj = "mq2sse" SUBSEP "mq2sse-j" SUBSEP 1000 SUBSEP CLIENTS; kpj = "mq2sse" SUBSEP "pipe-j" SUBSEP 1000 SUBSEP CLIENTS
	jtxt = (kj in seen) ? sprintf("; JSON records: mq2sse %s, `mqsub -j \\| ssepush -j` %s", fmt(median(p99[kj]), 2), fmt(median(p99[kpj]), 2)) : ""
	if (k in seen) printf "| mq2sse p99 ≤ 5 ms at 1000 msg/s, %s clients | p99 %s ms (p50 %s; `mqsub \\| ssepush` %s%s) | %s |\n", CLIENTS, fmt(median(p99[k]), 2), fmt(median(p50[k]), 2), fmt(median(p99["mq2sse" SUBSEP "pipe" SUBSEP 1000 SUBSEP CLIENTS]), 2), jtxt, (median(p99[k]) + 0 <= 5 && nok[k] == nrun[k] ? "**met**" : "**not met**")
	print ""
}' "$tsv" >>"$report"

# The delivered-of-expected column of the throughput table, per run.
if grep -q '^run	mq2tp' "$tsv"; then
	{
		echo "Per throughput run (mq2sse section): events delivered of expected, clients disconnected, clients dropped by the server:"
		echo
		awk -F '\t' '$1 == "run" && $2 == "mq2tp" { printf "- %s, %s, %s clients, run %s: %s of %s events (%.1f %%), %s disconnected, %s dropped, input %s msg/s, %s events/s%s\n",
			($3 == "pipe" ? "mqsub | ssepush" : $3), ($4 == 0 ? "max" : $4 "/s"), $6, $5, $11, $6 * $7, ($6 * $7 > 0 ? 100 * $11 / ($6 * $7) : 0), $10, $29, $28, $12, ($32 != "" ? "; " $32 : "") }' "$tsv"
		echo
	} >>"$report"
fi

if [ "${#prof_list[@]}" -gt 0 ]; then
	{
		echo "## Profiles (PERF=1; separate runs with perf attached, not in the tables above)"
		echo
		for e in "${prof_list[@]}"; do
			pd=${e##*:}
			[ -s "$pd/prof.md" ] && cat "$pd/prof.md"
		done
	} >>"$report"
fi

cat "$report"
say "report written to $report"
