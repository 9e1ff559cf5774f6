#!/bin/sh
# bench/run.sh -- mqpub/mqsub against mosquitto_pub/mosquitto_sub on one
# private, loopback-only mosquitto broker.
#
#   make bench                       # from the build directory
#   sh bench/run.sh                  # or directly; see the knobs below
#   N=50000 RUNS=1 SECTIONS=throughput sh bench/run.sh   # a quick look
#
# Sections (SECTIONS, default "throughput memory latency ssecat"):
#   throughput  for QoS 0 and 1, N messages (`seq 1 N | PUB -l`) through the
#               broker, subscriber output to /dev/null and to a pipe
#               (`SUB | wc -l`, which also counts what arrived): end-to-end
#               messages/s (publisher start to subscriber exit), client CPU
#               (user+sys) per 100,000 messages, peak RSS.  Pairs:
#               mosquitto_pub + mosquitto_sub and mqpub + mqsub.  QoS 1 is
#               also run with N_WRAP messages (default 65000; 0 skips it),
#               below the 65,535 lines past which mosquitto_pub -l -q 1 stops
#               early, so that QoS 1 has a comparison where both deliver all
#               (subscriber output to /dev/null only, for time).  And, with
#               SUB_ONLY=1 (the default), QoS 1 with N messages from mqpub to
#               each subscriber ("null/mqpub"): the subscribers compared alone
#               at the full N, which mosquitto_pub cannot publish at QoS 1.
#   memory      peak RSS of mqpub in its streaming modes (-l, -0, -j) for
#               MEM_LINES input records (default "100000 1000000", to stay
#               within ~10 minutes in all; the issue's 5e6 figure needs
#               MEM_LINES="1000000 5000000" SECTIONS=memory: 13 minutes here)
#               at QoS 0 and 1, next to mosquitto_pub -l on the same lines.
#   latency     one idle message every 100 ms through `SUB | reader`: time
#               from the publisher's input to the reader getting the line.
#   syscalls    (not in the default) system calls per message of each client,
#               counted with `perf stat` on N_SYS messages (default 60000).
#   ssecat      ssecat against `curl -sN URL >/dev/null` on local streams that
#               a private nginx serves (about 2 minutes with its defaults):
#               bench/ssecat.sh, which has its own knobs (SIZE_MB SMALL_MB
#               TINY_MB STREAMS PERF SSECAT, read from the environment; RUNS
#               too, but only if it is set there: its default is 5) and its
#               own report, appended to this one.
#   hub         (not in the default: about 10 minutes) ssepush and mq2sse
#               against nginx + nchan -- fan-out, latency, memory per idle
#               client, and mq2sse against `mqsub | ssepush` --:
#               bench/hub.sh, with its own knobs (CLIENTS MEM_CLIENTS FAN_N
#               LAT_RATES ... and RUNS, if set in the environment; its
#               SECTIONS as HUB_SECTIONS; see its header), servers and
#               report, appended to this one.
#
# Every throughput measurement is run RUNS times (default 3), the two tool
# pairs interleaved so that noise from other work on the machine hits both;
# the tables show medians.  Memory runs MEM_RUNS times (default 1: peak RSS
# does not depend on timing, and the long inputs dominate the run time).
#
# Nothing is hidden: a run where the subscriber did not get all N messages is
# shown as such (how many arrived, and the exit statuses), and gets no rate.
#
# Environment: N RUNS N_WRAP SUB_ONLY SECTIONS MEM_LINES MEM_RUNS LAT_N STALL PUB_STALL N_SYS HUB_SECTIONS
# top_srcdir top_builddir MQPUB MQSUB MOSQUITTO MOSQUITTO_PUB MOSQUITTO_SUB
# (and bench/ssecat.sh's and bench/hub.sh's, for the ssecat and hub sections).
# Output: the Markdown report on stdout and in
# $top_builddir/bench/out/results-DATE.md (raw per-run figures beside it,
# results-DATE.tsv); progress on stderr.

# Bash is needed ($EPOCHREALTIME, arrays, PIPESTATUS); `make` runs $(SHELL).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/..}
if [ -z "${top_builddir:-}" ]; then
	# `make bench` runs us from the build directory.
	if [ -x "$PWD/cmd/mqpub" ] && [ -f "$PWD/Makefile" ]; then
		top_builddir=$PWD
	else
		top_builddir=/tmp/build-main
	fi
fi
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)

N=${N:-200000}
RUNS=${RUNS:-3}
N_WRAP=${N_WRAP:-65000}
SUB_ONLY=${SUB_ONLY:-1}
SECTIONS=${SECTIONS:-"throughput memory latency ssecat"}
MEM_LINES=${MEM_LINES:-"100000 1000000"}
MEM_RUNS=${MEM_RUNS:-1}
LAT_N=${LAT_N:-20}
N_SYS=${N_SYS:-60000}
# Seconds without a byte read by a subscriber, after its publisher has
# exited, before the run is declared stalled (messages lost) and the
# subscriber is stopped with SIGINT.  -W on the subscriber is the backstop.
STALL=${STALL:-3}
# Seconds a publisher may go without reading or writing a byte before it is
# declared hung and stopped with SIGINT (a `timeout` is the backstop).
PUB_STALL=${PUB_STALL:-5}
MQPUB=${MQPUB:-$top_builddir/cmd/mqpub}
MQSUB=${MQSUB:-$top_builddir/cmd/mqsub}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
MOSQUITTO_PUB=${MOSQUITTO_PUB:-mosquitto_pub}
MOSQUITTO_SUB=${MOSQUITTO_SUB:-mosquitto_sub}
TIME=/usr/bin/time

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

case $N$RUNS$N_WRAP$MEM_RUNS$LAT_N$STALL$N_SYS$PUB_STALL in *[!0-9]*) die "N, RUNS, N_WRAP, MEM_RUNS, LAT_N, STALL and N_SYS must be integers" ;; esac
if [ "$N" -le 0 ] || [ "$RUNS" -le 0 ]; then die "N and RUNS must be positive"; fi

# ---------------------------------------------------------------- tools
if [ ! -x "$TIME" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing GNU time (Debian package 'time')"
		apt-get install -y time >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; }
	fi
	[ -x "$TIME" ] || die "$TIME (GNU time) is needed: apt-get install time"
fi
for t in "$MQPUB" "$MQSUB" "$MOSQUITTO"; do
	[ -x "$t" ] || die "$t not found or not executable (build first: make)"
done
for t in "$MOSQUITTO_PUB" "$MOSQUITTO_SUB" ss pgrep seq awk timeout; do
	command -v "$t" >/dev/null || die "$t not found"
done

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqsse-bench.XXXXXX") || die "mktemp failed"
broker_pid=
bg_pids=()  # background jobs of this script
fg_pids=()  # the subscriber process (and its GNU time) of the current run
cleanup() {
	local p
	for p in "${fg_pids[@]}" "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$broker_pid" ]; then
		kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Work on a copy of the binaries: the build tree may be rebuilt while the
# benchmark runs, and every run must use the same build.
if ! { mkdir "$tmp/bin" && cp "$MQPUB" "$MQSUB" "$tmp/bin/"; }; then die "cannot copy the binaries"; fi
MQPUB_SRC=$MQPUB MQSUB_SRC=$MQSUB
# The source the binaries presumably come from: HEAD now (see their mtime).
rev=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)
[ -n "$rev" ] && [ -n "$(git -C "$top_srcdir" status --porcelain -- cmd common 2>/dev/null)" ] && rev="$rev + uncommitted changes in cmd/ common/"
MQPUB=$tmp/bin/$(basename "$MQPUB") MQSUB=$tmp/bin/$(basename "$MQSUB")

# ---------------------------------------------------------------- broker
port=
start_broker() {
	local conf=$tmp/mosquitto.conf
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			continue
		fi
		cat >"$conf" <<EOF
# Written by mqsse bench/run.sh; see mosquitto.conf(5).
# Run as root (we are): keep root instead of switching to user "mosquitto",
# so the broker can write its log into our private temp directory.
user root
# Loopback only, on a port that was free.
listener $port 127.0.0.1
# With an explicit listener mosquitto 2 refuses anonymous clients by default.
allow_anonymous true
# Everything in memory, nothing written at exit.
persistence false
# QoS 0 to a slow subscriber: mosquitto 2.0 drops a QoS 0 message for a
# client whose outgoing queue already holds max_queued_messages packets
# (default 1000) -- unless that client's in-flight maximum is 0.  A subscriber
# that falls briefly behind 200,000 back-to-back messages would lose some, and
# the benchmark would measure loss rather than speed.  1,000,000 is above any
# N used here.  (It also bounds QoS 1/2 messages queued above those in flight.)
max_queued_messages 1000000
# No byte limit on that queue (the default, stated for clarity).
max_queued_bytes 0
# Outgoing QoS 1/2 messages in flight per client: 0 = no maximum (default 20)
# for MQTT 3.1.1 clients (mosquitto_sub's default protocol).  An MQTT 5 client
# (mqsub's default) sets its own window with its Receive Maximum property,
# which overrides this.  With 0 the broker also never drops QoS 0 for 3.1.1
# clients (see above).
max_inflight_messages 0
# The log tells us, by client id, when a subscription is in place
# ("ID QOS FILTER" lines from log_type subscribe): the publisher starts only
# then.  mosquitto flushes this file after each line.
log_dest file $tmp/broker.log
log_type error
log_type warning
log_type subscribe
EOF
		: >"$tmp/broker.log"
		"$MOSQUITTO" -c "$conf" >"$tmp/broker.out" 2>&1 &
		broker_pid=$!
		# Poll until our broker process owns the listening socket (or died:
		# e.g. another process took the port meanwhile; then try another).
		for _ in $(seq 1 200); do
			kill -0 "$broker_pid" 2>/dev/null || break
			if ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$broker_pid,"; then
				return 0
			fi
			sleep 0.05
		done
		kill "$broker_pid" 2>/dev/null
		wait "$broker_pid" 2>/dev/null
		broker_pid=
	done
	cat "$tmp/broker.out" >&2
	die "could not start mosquitto on a free loopback port"
}

# Wait until the broker has logged subscription "ID QOS FILTER", or the
# subscriber job $2 has ended, or 15 s.  Polls the log; no fixed delay.
wait_subscribed() {
	local id=$1 job=$2 qos=$3 filter=$4
	for _ in $(seq 1 1500); do
		grep -qF " $id $qos $filter" "$tmp/broker.log" && return 0
		kill -0 "$job" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# Last line of a GNU time -o file ("Command exited with..." may precede it).
time_fields() { tail -n 1 "$1" 2>/dev/null; }

# CPU seconds (user+sys) the broker has used so far.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
broker_cpu() {
	local a
	read -r -a a <"/proc/$broker_pid/stat"
	awk -v t=$((a[13] + a[14])) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'
}

# rchar of a process (bytes it has read, sockets included), no fork.
rchar() {
	local k v r=
	while read -r k v; do
		[ "$k" = rchar: ] && r=$v
	done 2>/dev/null <"/proc/$1/io"
	printf '%s' "$r"
}

# rchar and wchar of a process, no fork.
pio() {
	local k v r=
	while read -r k v; do
		case $k in rchar: | wchar:) r="$r$v " ;; esac
	done 2>/dev/null <"/proc/$1/io"
	printf '%s' "$r"
}

# A publisher job ($1: the pid of `GNU time`, last in its pipeline, whose
# child is `timeout`, whose child is the publisher) is watched until it ends:
# if the publisher neither reads nor writes anything (stdin, socket) for
# PUB_STALL seconds it has hung, and is stopped with SIGINT, noted in $2.
# The `timeout` around it stays as the backstop.
watch_pub() {
	local job=$1 mark=$2 tp pp="" last="" cur still=0 _
	for _ in $(seq 1 100); do
		tp=$(pgrep -P "$job" -x timeout | head -n 1)
		[ -n "$tp" ] && pp=$(pgrep -P "$tp" | head -n 1)
		[ -n "$pp" ] && break
		kill -0 "$job" 2>/dev/null || return 0
		sleep 0.01
	done
	[ -n "$pp" ] || return 0
	fg_pids+=("$pp")
	while kill -0 "$job" 2>/dev/null; do
		cur=$(pio "$pp")
		[ -n "$cur" ] || break
		if [ "$cur" = "$last" ]; then still=$((still + 1)); else still=0 last=$cur; fi
		if [ "$still" -ge $((PUB_STALL * 10)) ]; then
			kill -INT "$pp" 2>/dev/null
			echo "hung: no input read and no output written for ${PUB_STALL} s, stopped by SIGINT" >"$mark"
			break
		fi
		sleep 0.1
	done
	unset 'fg_pids[-1]'
}

tsv=$tmp/results.tsv
: >"$tsv"
runid=0

# ---------------------------------------------------------------- throughput
# One run: tool pair $1 (mosq|mq), QoS $2, subscriber output $3 (null|pipe,
# or null/mqpub: output to /dev/null and mqpub as the publisher of both
# pairs, to compare the subscribers alone), message count $4, run number $5.
# Appends one line to $tsv.
run_pair() {
	local pair=$1 q=$2 out=$3 n=$4 run=$5
	local sub pub d id job subpid timepid t0 t1 last cur still note=""
	local subrc received pubrc W stalled b0 b1
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	id=bench-$$-$runid
	if [ "$pair" = mosq ]; then sub=$MOSQUITTO_SUB pub=$MOSQUITTO_PUB; else sub=$MQSUB pub=$MQPUB; fi
	[ "$out" = null/mqpub ] && pub=$MQPUB
	# -W: backstop only (the stall watch below ends a lossy run sooner).
	W=$((30 + n / 2000))
	local subcmd=("$sub" -h 127.0.0.1 -p "$port" -i "$id" -t bench/x -q "$q" -C "$n" -W "$W")
	if [ "$out" != pipe ]; then
		{
			"$TIME" -f '%e %U %S %M' -o "$d/sub.time" "${subcmd[@]}" >/dev/null 2>"$d/sub.err"
			echo $? >"$d/sub.rc"
			echo "$EPOCHREALTIME" >"$d/sub.end"
		} &
	else
		{
			"$TIME" -f '%e %U %S %M' -o "$d/sub.time" "${subcmd[@]}" 2>"$d/sub.err" | wc -l >"$d/sub.count"
			echo "${PIPESTATUS[0]}" >"$d/sub.rc"
			echo "$EPOCHREALTIME" >"$d/sub.end"
		} &
	fi
	job=$!
	bg_pids+=("$job")
	if ! wait_subscribed "$id" "$job" "$q" bench/x; then
		kill "$job" 2>/dev/null
		wait "$job" 2>/dev/null
		say "subscriber $sub did not subscribe: $(cat "$d/sub.err" 2>/dev/null)"
		printf 'tp\t%s\t%s\t%s\t%s\t%s\tNOSUB\t0\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tsubscriber did not subscribe\n' \
			"$q" "$out" "$n" "$pair" "$run" >>"$tsv"
		return
	fi
	timepid=$(pgrep -P "$job" -x time | head -n 1)
	subpid=$(pgrep -P "$timepid" | head -n 1)
	fg_pids=("$subpid" "$timepid")

	b0=$(broker_cpu)
	t0=$EPOCHREALTIME
	seq 1 "$n" | "$TIME" -f '%e %U %S %M' -o "$d/pub.time" \
		timeout -s INT "$((30 + n / 5000))" "$pub" -h 127.0.0.1 -p "$port" -t bench/x -q "$q" -l 2>"$d/pub.err" &
	local pj=$!
	watch_pub "$pj" "$d/pub.hung"
	wait "$pj"
	pubrc=$?
	[ "$pubrc" = 124 ] && note="publisher hung: stopped by SIGINT after $((30 + n / 5000)) s (timeout);"
	[ -s "$d/pub.hung" ] && note="publisher $(cat "$d/pub.hung");"

	# Publisher done: every message it sent is in the broker.  If the
	# subscriber then reads nothing for STALL seconds, messages were lost.
	last="" still=0 stalled=0
	while kill -0 "$job" 2>/dev/null; do
		cur=$(rchar "$subpid")
		[ -n "$cur" ] || break
		if [ "$cur" = "$last" ]; then still=$((still + 1)); else still=0 last=$cur; fi
		if [ "$still" -ge $((STALL * 10)) ]; then
			kill -INT "$subpid" 2>/dev/null
			note="$note stalled ${STALL}s after the publisher exited: subscriber stopped by SIGINT;"
			stalled=1
			break
		fi
		sleep 0.1
	done
	wait "$job"
	b1=$(broker_cpu)
	t1=$(cat "$d/sub.end")
	subrc=$(cat "$d/sub.rc")
	if [ "$out" = pipe ]; then
		received=$(tr -dc 0-9 <"$d/sub.count")
	elif [ "$subrc" = 0 ] && [ "$stalled" = 0 ]; then
		received=$n
	else
		received="?"
	fi
	[ "$subrc" = 0 ] || note="$note subscriber exit $subrc;"
	[ "$pubrc" = 0 ] || note="$note publisher exit $pubrc;"
	if [ -s "$d/pub.err" ]; then note="$note pub stderr: $(head -c 200 "$d/pub.err" | tr '\t\n' '  ')"; fi
	# shellcheck disable=SC2046
	printf 'tp\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$out" "$n" "$pair" "$run" \
		"$subrc" "$received" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')" \
		"$(time_fields "$d/sub.time" | tr ' ' '\t')	$(time_fields "$d/pub.time" | tr ' ' '\t')	$pubrc	$(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.2f", b - a }')" \
		"${note# }" >>"$tsv"
	say "run $run q$q $out n=$n $pair: got $received of $n in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s $note"
	unset 'bg_pids[-1]'
	fg_pids=()
}

# ---------------------------------------------------------------- memory
gen_input() { # mode lines
	case $1 in
	l) seq 1 "$2" ;;
	0) seq 1 "$2" | tr '\n' '\0' ;;
	j) seq 1 "$2" | awk '{ printf "{\"topic\":\"bench/mem\",\"payload\":\"%s\",\"qos\":%d}\n", $1, q }' q="$3" ;;
	esac
}
run_mem() { # tool mode qos lines run
	local tool=$1 mode=$2 q=$3 lines=$4 run=$5 d rc f
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	if [ "$tool" = mosq ]; then
		gen_input l "$lines" "$q" | "$TIME" -f '%e %U %S %M' -o "$d/pub.time" \
			timeout -s INT "$((20 + lines / 10000))" "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$port" -t bench/mem -q "$q" -l 2>"$d/pub.err" &
	else
		gen_input "$mode" "$lines" "$q" | "$TIME" -f '%e %U %S %M' -o "$d/pub.time" \
			timeout -s INT "$((20 + lines / 10000))" "$MQPUB" -h 127.0.0.1 -p "$port" -t bench/mem -q "$q" "-$mode" 2>"$d/pub.err" &
	fi
	local pj=$!
	watch_pub "$pj" "$d/pub.hung"
	wait "$pj"
	rc=$?
	f=$(time_fields "$d/pub.time")
	local note
	note=$(head -c 200 "$d/pub.err" | tr '\t\n' '  ')
	[ "$rc" = 124 ] && note="hung: stopped by SIGINT after $((20 + lines / 10000)) s (timeout); $note"
	[ -s "$d/pub.hung" ] && note="$(cat "$d/pub.hung"); $note"
	note=${note%"${note##*[! ]}"}
	printf 'mem\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$mode" "$lines" "$tool" "$run" "$rc" \
		"$(printf '%s' "$f" | tr ' ' '\t')" "$note" >>"$tsv"
	say "mem $tool -$mode q$q $lines lines: exit $rc, elapsed/user/sys/maxrssKB $f"
}

# ---------------------------------------------------------------- latency
lat_reader() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}
run_latency() { # pair
	local pair=$1 sub d id job total
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	id=bench-$$-lat-$runid
	if [ "$pair" = mosq ]; then sub=$MOSQUITTO_SUB; else sub=$MQSUB; fi
	total=$((LAT_N + 2))
	"$sub" -h 127.0.0.1 -p "$port" -i "$id" -t bench/lat -C "$total" -W $((30 + LAT_N)) 2>"$d/sub.err" |
		lat_reader >"$d/lat" &
	job=$!
	bg_pids+=("$job")
	if ! wait_subscribed "$id" "$job" 0 bench/lat; then
		say "latency: $sub did not subscribe"
		return
	fi
	# One long-lived publisher (the same for both subscribers); each input
	# line carries the time it was written.  The first 2 are warm-up.
	for _ in $(seq 1 "$total"); do
		echo "$EPOCHREALTIME"
		sleep 0.1
	done | "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$port" -t bench/lat -l
	wait "$job"
	tail -n +3 "$d/lat" | awk -v p="$pair" '{ printf "lat\t%s\t%.3f\n", p, ($1 - $2) * 1000 }' >>"$tsv"
	say "latency $pair: $(($(wc -l <"$d/lat") - 2)) samples"
	unset 'bg_pids[-1]'
}

# ---------------------------------------------------------------- syscalls
# Optional (SECTIONS=syscalls; needs perf and tracefs): each pair once at
# QoS 0 and 1 with N_SYS messages (below mosquitto_pub's 65,535 limit), both
# clients under `perf stat`, counting the system calls that read, wait and
# write.  Explains the CPU figures; perf itself adds CPU, so only the counts
# are reported.
SYS_KINDS="read recvfrom recvmsg epoll_wait epoll_pwait epoll_pwait2 select pselect6 poll ppoll write writev sendto sendmsg"
run_syscalls() { # pair qos out n
	local pair=$1 q=$2 out=$3 n=$4 sub pub d id job ev="task-clock,context-switches" k role
	for k in $SYS_KINDS; do
		[ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$k" ] && ev="$ev,syscalls:sys_enter_$k"
	done
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	id=bench-$$-sys-$runid
	if [ "$pair" = mosq ]; then sub=$MOSQUITTO_SUB pub=$MOSQUITTO_PUB; else sub=$MQSUB pub=$MQPUB; fi
	local subcmd=(perf stat -x "," -e "$ev" -o "$d/sub.perf" "$sub" -h 127.0.0.1 -p "$port" -i "$id" -t bench/x -q "$q" -C "$n" -W $((30 + n / 2000)))
	if [ "$out" = null ]; then
		"${subcmd[@]}" >/dev/null 2>"$d/sub.err" &
	else
		"${subcmd[@]}" 2>"$d/sub.err" | wc -l >"$d/sub.count" &
	fi
	job=$!
	bg_pids+=("$job")
	if ! wait_subscribed "$id" "$job" "$q" bench/x; then
		say "syscalls: $sub did not subscribe: $(head -c 300 "$d/sub.err")"
		kill "$job" 2>/dev/null
		return
	fi
	seq 1 "$n" | perf stat -x "," -e "$ev" -o "$d/pub.perf" \
		timeout -s INT "$((30 + n / 5000))" "$pub" -h 127.0.0.1 -p "$port" -t bench/x -q "$q" -l 2>"$d/pub.err"
	wait "$job"
	unset 'bg_pids[-1]'
	for role in sub pub; do
		awk -F , -v p="$pair" -v r="$role" -v q="$q" -v o="$out" -v n="$n" '
			/^#/ || NF < 3 { next }
			{ e = $3; sub(/^syscalls:sys_enter_/, "", e); printf "sys\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p, r, q, o, n, e, $1 }' \
			"$d/$role.perf" >>"$tsv"
	done
	say "syscalls $pair q$q $out n=$n counted"
}

# ---------------------------------------------------------------- main
start_broker
say "broker pid $broker_pid on 127.0.0.1:$port; sections: $SECTIONS"
started=$EPOCHREALTIME

for s in $SECTIONS; do
	case $s in
	throughput)
		for run in $(seq 1 "$RUNS"); do
			for q in 0 1; do
				for out in null pipe; do
					for pair in mosq mq; do
						run_pair "$pair" "$q" "$out" "$N" "$run"
					done
				done
			done
			if [ "$N_WRAP" -gt 0 ] && [ "$N_WRAP" != "$N" ]; then
				for pair in mosq mq; do
					run_pair "$pair" 1 null "$N_WRAP" "$run"
				done
			fi
			if [ "$SUB_ONLY" = 1 ]; then
				for pair in mosq mq; do
					run_pair "$pair" 1 null/mqpub "$N" "$run"
				done
			fi
		done
		;;
	memory)
		for run in $(seq 1 "$MEM_RUNS"); do
			for lines in $MEM_LINES; do
				for q in 0 1; do
					run_mem mosq l "$q" "$lines" "$run"
					for mode in l 0 j; do
						run_mem mq "$mode" "$q" "$lines" "$run"
					done
				done
			done
		done
		;;
	latency)
		run_latency mosq
		run_latency mq
		;;
	syscalls)
		command -v perf >/dev/null || die "SECTIONS=syscalls needs perf"
		for q in 0 1; do
			for out in null pipe; do
				for pair in mosq mq; do
					run_syscalls "$pair" "$q" "$out" "$N_SYS"
				done
			done
		done
		;;
	ssecat)
		# Its own script, server (nginx) and report; a failure there is
		# reported and the other sections go on.
		say "section ssecat: bench/ssecat.sh (progress below)"
		top_srcdir=$top_srcdir top_builddir=$top_builddir bash "$here/ssecat.sh" >"$tmp/ssecat.md" ||
			printf '# ssecat against curl\n\n**bench/ssecat.sh failed (exit %s); its progress on stderr says why.**\n\n' "$?" >>"$tmp/ssecat.md"
		;;
	hub)
		# Its own script, servers (ssepush, mq2sse, nginx + nchan, its own
		# mosquitto) and report; a failure there is reported and the
		# other sections go on.
		say "section hub: bench/hub.sh (progress below)"
		# Its SECTIONS are HUB_SECTIONS (empty: its default), not ours.
		SECTIONS=${HUB_SECTIONS:-} top_srcdir=$top_srcdir top_builddir=$top_builddir bash "$here/hub.sh" >"$tmp/hub.md" ||
			printf '# ssepush and mq2sse against nginx + nchan\n\n**bench/hub.sh failed (exit %s); its progress on stderr says why.**\n\n' "$?" >>"$tmp/hub.md"
		;;
	*) die "unknown section $s" ;;
	esac
done
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}')

# ---------------------------------------------------------------- report
ver_mq=$("$MQPUB" --version 2>/dev/null | head -n 1)
ver_mosq=$("$MOSQUITTO_PUB" --help 2>/dev/null | sed -n 's/.*version \([^ ]*\) running on libmosquitto \([^ .]*\.[^ .]*\.[^ .]*\).*/\1 (libmosquitto \2)/p' | head -n 1)
ver_broker=$("$MOSQUITTO" -h 2>/dev/null | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p' | head -n 1)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
outdir=$top_builddir/bench/out
mkdir -p "$outdir"
report=$outdir/results-$stamp.md
cp "$tsv" "$outdir/results-$stamp.tsv"

{
	echo "# mqsse benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- command: \`N=$N RUNS=$RUNS N_WRAP=$N_WRAP MEM_LINES=\"$MEM_LINES\" MEM_RUNS=$MEM_RUNS SECTIONS=\"$SECTIONS\" sh bench/run.sh\` ($elapsed s)"
	echo "- mqsse: $ver_mq, source at the start: ${rev:-unknown}; binaries copied at the start from $MQPUB_SRC, $MQSUB_SRC (built $(date -u -r "$MQSUB_SRC" '+%Y-%m-%d %H:%M UTC' 2>/dev/null))"
	echo "- mosquitto_pub/sub $ver_mosq; broker mosquitto $ver_broker on 127.0.0.1 (private config: max_queued_messages 1000000, max_inflight_messages 0)"
	echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- each client with its defaults (MQTT 3.1.1 for mosquitto_*, MQTT 5 for mq*); payloads are the lines of \`seq 1 N\`; subscriber output to /dev/null (\"null\") or to \`| wc -l\` (\"pipe\"); \"null/mqpub\": mqpub publishes for both subscribers (the mosquitto_pub columns are then mqpub too)"
	echo
} >"$report"

awk -F '\t' -v N="$N" -v RUNS="$RUNS" '
function median(list,    a, k, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return ""
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(arr, key, v, sep) {
	if (sep == "") sep = " "
	if (key in arr) arr[key] = arr[key] sep v
	else arr[key] = v
}
function fmt(v, p) { return v == "" ? "—" : sprintf("%." p "f", v) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "—" : sprintf("%.2f", a / b) }
$1 == "tp" {
	key = $2 SUBSEP $3 SUBSEP $4
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	k = key SUBSEP $5
	nruns[k]++
	add(got, k, $8, ", ")
	complete = ($7 == "0" && $8 == $4)
	if (!complete) { bad[k]++; if ($20 != "") notes[k] = notes[k] " run " $6 ": " $20 }
	else {
		add(rate, k, $4 / $9)
		add(subcpu, k, ($11 + $12) * 100000 / $4)
		add(pubcpu, k, ($15 + $16) * 100000 / $4)
		add(brkcpu, k, $19 * 100000 / $4)
	}
	if ($13 != "-") add(subrss, k, $13 / 1024)
	if ($17 != "-") add(pubrss, k, $17 / 1024)
}
$1 == "mem" { mk = $2 SUBSEP $3 SUBSEP $4 SUBSEP $5; if (!(mk in mseen)) { mseen[mk] = 1; morder[++nm] = mk }
	add(mrss, mk, $11 / 1024); add(mel, mk, $8); add(mrc, mk, $7)
	if ($7 != "0") mprob[++nmp] = sprintf("%s %s -q %s, %d records, run %s: exit %s after %s s; %s", ($5 == "mosq" ? "mosquitto_pub" : "mqpub"), ($5 == "mosq" ? "-l" : "-" $3), $2, $4, $6, $7, $8, $12) }
$1 == "sys" { sk = $4 SUBSEP $5 SUBSEP $6; if (!(sk in sseen)) { sseen[sk] = 1; sorder[++ns] = sk }
	e = $7; c = $8 + 0; rk = sk SUBSEP $2 SUBSEP $3
	if (e == "task-clock") tclk[rk] = c
	else if (e == "context-switches") csw[rk] = c
	else if (e ~ /^(read|recvfrom|recvmsg)$/) rd[rk] += c
	else if (e ~ /^(epoll_wait|epoll_pwait|epoll_pwait2|select|pselect6|poll|ppoll)$/) wt[rk] += c
	else if (e ~ /^(write|writev|sendto|sendmsg)$/) wr[rk] += c }
$1 == "lat" { add(lat, $2, $3); nl[$2]++ }
END {
	if (nk) {
		print "## Throughput: end-to-end messages/s (median of the complete runs; higher is better)"
		print ""
		print "| QoS | sub output | N | mosquitto_pub+sub | mqpub+mqsub | ratio mq/mosq (≥ 1 better) | delivered (mosq; mq) |"
		print "| --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			split(order[i], f, SUBSEP); km = order[i] SUBSEP "mosq"; kq = order[i] SUBSEP "mq"
			rm = median(rate[km]); rq = median(rate[kq])
			dm = bad[km] ? "**" got[km] " of " f[3] "**" : "all"
			dq = bad[kq] ? "**" got[kq] " of " f[3] "**" : "all"
			printf "| %s | %s | %d | %s | %s | %s | %s; %s |\n", f[1], f[2], f[3], fmt(rm, 0), fmt(rq, 0), ratio(rq, rm), dm, dq
		}
		print ""
		print "## Client CPU, user+sys seconds per 100,000 messages (median of the complete runs; lower is better)"
		print ""
		print "| QoS | sub output | N | mosquitto_sub | mqsub | ratio mqsub/mosquitto_sub (≤ 0.6 target) | mosquitto_pub | mqpub | ratio mqpub/mosquitto_pub (≤ 1 better) | broker, serving mosquitto_* | broker, serving mq* | ratio |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			split(order[i], f, SUBSEP); km = order[i] SUBSEP "mosq"; kq = order[i] SUBSEP "mq"
			sm = median(subcpu[km]); sq = median(subcpu[kq]); pm = median(pubcpu[km]); pq = median(pubcpu[kq]); bm = median(brkcpu[km]); bq = median(brkcpu[kq])
			printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], fmt(sm, 3), fmt(sq, 3), ratio(sq, sm), fmt(pm, 3), fmt(pq, 3), ratio(pq, pm), fmt(bm, 3), fmt(bq, 3), ratio(bq, bm)
		}
		print ""
		print "## Peak RSS, MiB (median of all runs; lower is better)"
		print ""
		print "| QoS | sub output | N | mosquitto_sub | mqsub | ratio | mosquitto_pub | mqpub | ratio |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nk; i++) {
			split(order[i], f, SUBSEP); km = order[i] SUBSEP "mosq"; kq = order[i] SUBSEP "mq"
			sm = median(subrss[km]); sq = median(subrss[kq]); pm = median(pubrss[km]); pq = median(pubrss[kq])
			printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], fmt(sm, 1), fmt(sq, 1), ratio(sq, sm), fmt(pm, 1), fmt(pq, 1), ratio(pq, pm)
		}
		nb = 0
		for (i = 1; i <= nk; i++) for (t = 1; t <= 2; t++) {
			k = order[i] SUBSEP (t == 1 ? "mosq" : "mq")
			if (bad[k]) {
				if (!nb++) { print ""; print "## Incomplete runs (the subscriber did not get all N messages)"; print "" }
				split(order[i], f, SUBSEP)
				printf "- %s, QoS %s, %s, N=%d: %d of %d runs incomplete; delivered per run: %s;%s\n", (t == 1 ? "mosquitto_pub+mosquitto_sub" : "mqpub+mqsub"), f[1], f[2], f[3], bad[k], nruns[k], got[k], notes[k]
			}
		}
		print ""
	}
	if (nm) {
		print "## mqpub peak RSS in streaming modes (MiB; no subscriber; lower is better)"
		print ""
		print "| QoS | input records | mosquitto_pub -l | mqpub -l | mqpub -0 | mqpub -j | worst mqpub / mosquitto_pub | worst mqpub ≤ 10 MB (10^7 bytes) | elapsed s (mosq; -l, -0, -j) |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= nm; i++) {
			split(morder[i], f, SUBSEP)
			if (f[2] != "l" || f[4] != "mosq") continue
			b = f[1] SUBSEP
			mo = median(mrss[b "l" SUBSEP f[3] SUBSEP "mosq"])
			l = median(mrss[b "l" SUBSEP f[3] SUBSEP "mq"]); z = median(mrss[b "0" SUBSEP f[3] SUBSEP "mq"]); j = median(mrss[b "j" SUBSEP f[3] SUBSEP "mq"])
			w = l; if (z > w) w = z; if (j > w) w = j
			el = median(mel[b "l" SUBSEP f[3] SUBSEP "mosq"]) "; " median(mel[b "l" SUBSEP f[3] SUBSEP "mq"]) ", " median(mel[b "0" SUBSEP f[3] SUBSEP "mq"]) ", " median(mel[b "j" SUBSEP f[3] SUBSEP "mq"])
			verdict = (w * 1048576 <= 10000000 ? "yes" : "**no**"); hung = ""
			for (m = 1; m <= 3; m++) { md = (m == 1 ? "l" : (m == 2 ? "0" : "j")); mk2 = b md SUBSEP f[3] SUBSEP "mq"; if ((mk2 in mrc) && mrc[mk2] !~ /^0( 0)*$/) hung = hung " -" md }
			if (hung != "") verdict = verdict ", but **mqpub" hung " did not finish** (listed below): its RSS is for part of the input"
			printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[3], fmt(mo, 1), fmt(l, 1), fmt(z, 1), fmt(j, 1), ratio(w, mo), verdict, el
			if (f[1] == 1 && f[3] > 65535) wrap = 1
		}
		print ""
		for (m = 1; m <= nmp; m++) print "- **" mprob[m] "**"
		if (nmp) print ""
		if (wrap) { print "mosquitto_pub -l -q 1 stops early past 65,535 lines (see the throughput section): its QoS 1 figures above 65,535 records are for a run that did not deliver everything (compare the elapsed times)."; print "" }
	}
	if (ns) {
		print "## System calls per message (perf stat; one run each; fewer is better)"
		print ""
		print "| QoS | sub output | N | client | reads | waits (epoll/select/poll) | writes | total | ctx switches | total / mosquitto_* |"
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for (i = 1; i <= ns; i++) {
			split(sorder[i], f, SUBSEP)
			for (t = 1; t <= 4; t++) {
				role = (t <= 2 ? "sub" : "pub"); p = (t % 2 ? "mosq" : "mq")
				rk = sorder[i] SUBSEP p SUBSEP role; n = f[3]
				if (!(rk in tclk)) continue
				tot = (rd[rk] + wt[rk] + wr[rk]) / n
				rkm = sorder[i] SUBSEP "mosq" SUBSEP role; totm = (rd[rkm] + wt[rkm] + wr[rkm]) / n
				printf "| %s | %s | %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n", f[1], f[2], n,
					(p == "mosq" ? "mosquitto_" : "mq") role, rd[rk] / n, wt[rk] / n, wr[rk] / n, tot, csw[rk] / n, (p == "mq" ? ratio(tot, totm) : "")
			}
		}
		print ""
	}
	if (length(nl)) {
		print "## Latency of an idle message through `SUB | reader` (ms; lower is better)"
		print ""
		print "| subscriber | samples | median | max |"
		print "| --- | --- | --- | --- |"
		for (t = 1; t <= 2; t++) {
			p = (t == 1 ? "mosq" : "mq")
			if (!(p in nl)) continue
			n = split(lat[p], a, " "); mx = a[1]; for (m = 2; m <= n; m++) if (a[m] + 0 > mx + 0) mx = a[m]
			printf "| %s | %d | %s | %s |\n", (t == 1 ? "mosquitto_sub" : "mqsub"), nl[p], fmt(median(lat[p]), 2), fmt(mx, 2)
		}
		print ""
		print "(one message every 100 ms from one long-lived `mosquitto_pub -l`, whose input lines carry the time they were written; the reader is a shell `read` loop)"
		print ""
	}
}' "$tsv" >>"$report"
# The ssecat section's report, its headings one level down.
if [ -s "$tmp/ssecat.md" ]; then sed 's/^#/##/' "$tmp/ssecat.md" >>"$report"; fi
if [ -s "$tmp/hub.md" ]; then sed 's/^#/##/' "$tmp/hub.md" >>"$report"; fi

cat "$report"
say "report written to $report"
