#!/bin/bash
# bench/nchan-smoke.sh -- the SSE load tools (bench/sseload.c, bench/tspub.c)
# against nginx + nchan, the comparison for ssepush.
#
#   bash bench/nchan-smoke.sh                          # the smoke test
#   SECTIONS="smoke fanout latency memory" bash bench/nchan-smoke.sh
#
# Builds sseload and tspub into a temp directory, starts a private nginx
# (bench/nchan.conf.in: one worker, /sub eventsource subscriber, /pub
# publisher, channel "bench") on a free port of 127.0.0.1, and runs the
# sections of SECTIONS (default "smoke"), each printing sseload's report:
#
#   smoke    SMOKE_N (100) clients; tspub --post at 1000/s, SMOKE_COUNT (2000)
#            messages; every client must get every message.
#   fanout   FAN_N (1000) clients; tspub --post as fast as nchan accepts,
#            FAN_COUNT (2000) messages: events/s delivered over all clients,
#            slowest vs fastest client.  (nchan takes about 100 POSTs/s with
#            1000 subscribers here: 2000 messages are 20 s or so.)
#   latency  LAT_N (1000) clients; tspub --post at each rate of LAT_RATES
#            ("1000 100") for LAT_SECS (5) seconds: p50/p99.
#   memory   VmRSS of the nginx worker before and after MEM_N (10000) idle
#            clients connect (sseload -n MEM_N, no input): (after - before) /
#            MEM_N is the RSS per idle client.  nginx is restarted first if
#            other sections ran before, so that the figure is from a fresh
#            worker, which is then warmed up by 100 clients for a second.
#
# A run waits for sseload's "all N clients connected" line, then 0.5 s, before
# it starts tspub, and gives sseload -e COUNT (it exits when every client has
# every message), with a timeout of 4 times the run's nominal time plus 90 s
# (660 s at the maximum rate).  Messages are SIZE bytes (default 32,
# "T=<us> xxx...").  Each run also shows the CPU time the nginx worker and
# sseload used and the machine's idle share meanwhile: the load client shares
# the machine with the server, and other work on it shows up there.
#
# Environment: SECTIONS SMOKE_N SMOKE_COUNT FAN_N FAN_COUNT LAT_N LAT_RATES
# LAT_SECS MEM_N SIZE NGINX CC JSON (1: sseload's raw JSON report instead of
# its table).  Exit status: 0 if every run delivered everything, else 1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
CC=${CC:-cc}
SECTIONS=${SECTIONS:-smoke}
SMOKE_N=${SMOKE_N:-100}
SMOKE_COUNT=${SMOKE_COUNT:-2000}
FAN_N=${FAN_N:-1000}
FAN_COUNT=${FAN_COUNT:-2000}
LAT_N=${LAT_N:-1000}
LAT_RATES=${LAT_RATES:-"1000 100"}
LAT_SECS=${LAT_SECS:-5}
MEM_N=${MEM_N:-10000}
SIZE=${SIZE:-32}
JSON=${JSON:-0}

say() { printf '%s\n' "$*" >&2; }
die() { say "nchan-smoke: $*"; exit 2; }

[ -x "$NGINX" ] || die "$NGINX not found (Debian: apt-get install nginx-light libnginx-mod-nchan)"
[ -f /usr/lib/nginx/modules/ngx_nchan_module.so ] || die "nchan module not found (apt-get install libnginx-mod-nchan)"
for t in ss pgrep sed grep; do command -v "$t" >/dev/null || die "$t not found"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqsse-nchan.XXXXXX") || die "mktemp failed"
# As root, nginx's worker runs as nobody: it must be able to enter $tmp.
chmod 755 "$tmp"
nginx_pid=''
load_pid=''
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- build
for p in sseload tspub; do
	"$CC" -O2 -std=gnu11 -Wall -Wextra -Werror -o "$tmp/$p" "$here/$p.c" || die "building $p failed"
done
SSELOAD=$tmp/sseload
TSPUB=$tmp/tspub

# ---------------------------------------------------------------- nginx
port=''
worker_pid=''
start_nginx() {
	local conf=$tmp/nginx/nginx.conf
	mkdir -p "$tmp/nginx"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 12000))
		[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && continue
		sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$tmp/nginx|g" "$here/nchan.conf.in" >"$conf" ||
			die "cannot write $conf"
		"$NGINX" -e "$tmp/nginx/error.log" -c "$conf" -p "$tmp/nginx/" >"$tmp/nginx.out" 2>&1 &
		nginx_pid=$!
		for _ in $(seq 1 200); do
			kill -0 "$nginx_pid" 2>/dev/null || break
			if ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$nginx_pid,"; then
				worker_pid=$(pgrep -P "$nginx_pid" | head -n 1)
				[ -n "$worker_pid" ] && return 0
			fi
			sleep 0.05
		done
		kill "$nginx_pid" 2>/dev/null
		wait "$nginx_pid" 2>/dev/null
		nginx_pid=
	done
	cat "$tmp/nginx.out" "$tmp/nginx/error.log" >&2 2>/dev/null
	die "could not start nginx on a free loopback port"
}

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU ticks (user+sys) a process has used so far.
ticks() {
	local a
	read -r -a a <"/proc/$1/stat" 2>/dev/null || { printf 0; return; }
	printf '%s' $((a[13] + a[14]))
}
# Idle and total ticks of all CPUs so far: "IDLE TOTAL".
cpu_idle() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print $5+$6, t; exit}' /proc/stat; }

stop_nginx() {
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
		nginx_pid=
	fi
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
# A field of sseload's JSON report (numbers only, or the string's text).
jget() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$2"; }

# Starts sseload with N clients and its other arguments in the background
# (report in $tmp/load.json, stderr in $tmp/load.err) and waits until all
# are connected; returns 1 if they were not within 60 s.
start_load() {
	local n=$1
	shift
	: >"$tmp/load.err"
	"$SSELOAD" -n "$n" -u "http://127.0.0.1:$port/sub" -j "$@" >"$tmp/load.json" 2>"$tmp/load.err" &
	load_pid=$!
	for _ in $(seq 1 600); do
		grep -q "^sseload: all $n clients connected" "$tmp/load.err" && return 0
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.1
	done
	say "not all $n clients connected:"
	cat "$tmp/load.err" >&2
	return 1
}

finish_load() {
	wait "$load_pid"
	local rc=$?
	load_pid=
	return $rc
}

show_report() {
	local f=$tmp/load.json
	if [ "$JSON" = 1 ]; then
		cat "$f"
		return
	fi
	printf '  clients %s, connected %s, failed %s, disconnected %s%s\n' "$(jget clients "$f")" \
		"$(jget connected "$f")" "$(jget failed "$f")" "$(jget disconnected "$f")" \
		"$( [ -n "$(jget first_error "$f")" ] && printf ' (first error: %s)' "$(jget first_error "$f")")"
	printf '  events %s in %s s: %s events/s; per client min %s max %s; client rate slowest %s/s fastest %s/s\n' \
		"$(jget events "$f")" "$(jget active_s "$f")" "$(jget events_per_s "$f")" "$(jget min_events "$f")" \
		"$(jget max_events "$f")" "$(jget min_client_rate "$f")" "$(jget max_client_rate "$f")"
	printf '  latency ms: p50 %s p90 %s p99 %s p99.9 %s max %s (%s timed events)\n' "$(jget lat_p50_ms "$f")" \
		"$(jget lat_p90_ms "$f")" "$(jget lat_p99_ms "$f")" "$(jget lat_p999_ms "$f")" "$(jget lat_max_ms "$f")" \
		"$(jget timed_events "$f")"
	printf '  bytes received %s; sseload CPU user %s s sys %s s, max RSS %s KiB\n' "$(jget bytes "$f")" \
		"$(jget cpu_user_s "$f")" "$(jget cpu_sys_s "$f")" "$(jget max_rss_kb "$f")"
}

status=0

# N clients, COUNT messages posted at RATE (0: as fast as accepted).
run_pubsub() {
	local label=$1 n=$2 count=$3 rate=$4 budget
	if [ "$rate" = 0 ]; then budget=600; else budget=$((count * 4 / rate + 30)); fi
	say "== $label: $n clients, $count messages at ${rate/#0/max} /s"
	if ! start_load "$n" -e "$count" -d $((budget + 60)); then
		status=1
		finish_load
		return
	fi
	sleep 0.5
	local w0 w1 i0 i1 prc t0 t1
	w0=$(ticks "$worker_pid")
	read -r -a i0 <<<"$(cpu_idle)"
	t0=$EPOCHREALTIME
	"$TSPUB" -r "$rate" -n "$count" -s "$SIZE" --post "http://127.0.0.1:$port/pub" 2>"$tmp/pub.err"
	prc=$?
	[ $prc = 0 ] || status=1
	finish_load || status=1
	t1=$EPOCHREALTIME
	w1=$(ticks "$worker_pid")
	read -r -a i1 <<<"$(cpu_idle)"
	echo "## $label: $n clients, $count messages at $([ "$rate" = 0 ] && echo "max rate" || echo "$rate/s")"
	printf '  publisher: %s\n' "$(cat "$tmp/pub.err")"
	show_report
	local ev
	ev=$(jget events "$tmp/load.json")
	awk -v w=$((w1 - w0)) -v h="$clk_tck" -v ev="$ev" -v t0="$t0" -v t1="$t1" \
		-v idle=$((i1[0] - i0[0])) -v tot=$((i1[1] - i0[1])) 'BEGIN {
		per = 0; if (ev > 0) per = w / h * 1e6 / ev
		idl = 0; if (tot > 0) idl = 100 * idle / tot
		printf "  nginx worker CPU %.2f s over %.2f s (%.0f%% of a core), %.2f us per delivered event; machine idle %.0f%%\n",
			w / h, t1 - t0, 100 * w / h / (t1 - t0), per, idl }'
	if [ "$ev" != $((n * count)) ]; then
		echo "  INCOMPLETE: $ev events, expected $((n * count)) (publisher exit $prc)"
		status=1
	fi
	printf '  nginx worker RSS %s kB\n' "$(rss_kb "$worker_pid")"
}

start_nginx
say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), pid $nginx_pid (worker $worker_pid) on 127.0.0.1:$port"
echo "# nginx + nchan: $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null), one worker, 127.0.0.1:$port"
echo "worker RLIMIT_NOFILE: $(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "/proc/$worker_pid/limits"); nproc $(nproc)"

ran=0
for s in $SECTIONS; do
	case $s in
	smoke) run_pubsub smoke "$SMOKE_N" "$SMOKE_COUNT" 1000 ;;
	fanout) run_pubsub fanout "$FAN_N" "$FAN_COUNT" 0 ;;
	latency)
		for r in $LAT_RATES; do run_pubsub "latency $r/s" "$LAT_N" $((r * LAT_SECS)) "$r"; done
		;;
	memory)
		say "== memory: $MEM_N idle clients"
		# A fresh nginx: memory the runs before grew would be reused.
		if [ "$ran" = 1 ]; then
			stop_nginx
			start_nginx
			say "nginx restarted: pid $nginx_pid (worker $worker_pid) on 127.0.0.1:$port"
		fi
		# Warm up (code pages, pools, the channel): 100 clients for 1 s.
		"$SSELOAD" -n 100 -u "http://127.0.0.1:$port/sub" -d 1 -q >/dev/null
		sleep 1
		before=$(rss_kb "$worker_pid")
		if start_load "$MEM_N" -d 600; then
			sleep 2
			after=$(rss_kb "$worker_pid")
			conns=$(ss -Htn state established "sport = :$port" 2>/dev/null | wc -l)
			load_rss=$(rss_kb "$load_pid")
			kill -INT "$load_pid"
			finish_load
			echo "## memory: $MEM_N idle clients"
			show_report
			echo "  established server-side connections: $conns"
			echo "  nginx worker VmRSS: before $before kB, after $after kB:" \
				"$(( (after - before) * 1024 / MEM_N )) bytes per idle client"
			echo "  (sseload VmRSS $load_rss kB)"
		else
			status=1
			kill -INT "$load_pid" 2>/dev/null
			finish_load
		fi
		;;
	*) die "unknown section $s" ;;
	esac
	ran=1
done
if grep -q '\[\(alert\|crit\|emerg\|error\)\]' "$tmp/nginx/error.log"; then
	echo "nginx error log:"
	grep '\[\(alert\|crit\|emerg\|error\)\]' "$tmp/nginx/error.log" | sort | uniq -c | sort -rn | head -5 |
		sed 's/^/  /'
fi
exit $status
