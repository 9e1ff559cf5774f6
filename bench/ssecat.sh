#!/bin/sh
# bench/ssecat.sh -- ssecat against `curl -sN URL >/dev/null` on the same
# local text/event-stream, served from a file by a private, loopback-only
# nginx.
#
#   make bench                        # runs this as bench/run.sh's "ssecat" section
#   sh bench/ssecat.sh                # or directly, from the build directory
#   SIZE_MB=64 RUNS=1 STREAMS="k1 tiny" sh bench/ssecat.sh   # a quick look
#
# With the defaults it takes 1.5-2 minutes on a 2-CPU machine, stream
# generation included; each stream file (up to 512 MiB with the defaults)
# is written to $TMPDIR before its runs and removed after them.
#
# Streams (STREAMS, default "k1 small tiny big1 bigl"), each a file in the
# temp directory that nginx serves with sendfile as text/event-stream:
#   k1     1 KiB events: "data: " + 1016 x + "\n\n"; SIZE_MB MiB (default 512)
#   small  32-byte events: "data: " + 24 y + "\n\n"; SMALL_MB MiB (default
#          SIZE_MB)
#   tiny   9-byte events: "data: x\n\n"; the whole events that fit in TINY_MB
#          MiB (default SIZE_MB)
#   big1   one 16 MiB event as one data line ("data: " + 16 MiB of x), then a
#          small event ("data: end")
#   bigl   one 16 MiB event as 16384 data lines ("data: " + 1024 x each),
#          then a small event ("data: end")
#
# For each stream, first an untimed check that both tools got it all:
# `curl -sN URL | wc -c` must be the file's size, and `ssecat --no-reconnect
# URL | wc -lc` must be one line per event and the data plus a newline per
# event (for k1 and tiny also `ssecat -j`: one JSON object and newline per
# event).  Then RUNS rounds (default 5) of `curl -sN URL >/dev/null`,
# `ssecat --no-reconnect URL >/dev/null` and, for k1 and tiny, `ssecat
# --no-reconnect -j URL >/dev/null` (the cost of JSON output), interleaved:
# odd rounds in that order, even rounds in the reverse order, so that noise
# from other work on the machine and any ordering effect hit every tool.
# Each run: wall seconds (from $EPOCHREALTIME), user and system CPU seconds
# and peak RSS (GNU time '%e %U %S %M'), and the CPU the nginx worker used
# meanwhile.  The tables show medians; MB/s is 10^6 bytes of the HTTP body
# per wall second.  The issue's target is ssecat's throughput at least 0.8x
# curl's.  The big1/bigl streams are there for ssecat's peak RSS on a 16 MiB
# event; their runs take well under a second, so their rates are shown but
# not judged.
#
# PERF=1 (default 0) also records `perf record -g` of one ssecat run on the
# tiny stream and puts the top of `perf report --no-children` in the report.
#
# Nothing is hidden: a run that exits non-zero or times out is listed with its
# exit status and stderr and gets no rate; an output check that fails is
# shown as such.  No run is retried.
#
# Environment: SIZE_MB SMALL_MB TINY_MB RUNS STREAMS PERF top_srcdir
# top_builddir SSECAT CURL NGINX.
# Output: the Markdown report on stdout and in
# $top_builddir/bench/out/ssecat-DATE.md (raw per-run figures beside it,
# ssecat-DATE.tsv); progress on stderr.  The binary is copied when the script
# starts, so a rebuild during the run cannot mix builds.

# Bash is needed ($EPOCHREALTIME, arrays, PIPESTATUS); `make` runs $(SHELL).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/..}
if [ -z "${top_builddir:-}" ]; then
	# `make bench` runs us (through bench/run.sh) from the build directory.
	if [ -x "$PWD/cmd/ssecat" ] && [ -f "$PWD/Makefile" ]; then
		top_builddir=$PWD
	else
		top_builddir=/tmp/build-main
	fi
fi
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)

SIZE_MB=${SIZE_MB:-512}
SMALL_MB=${SMALL_MB:-$SIZE_MB}
TINY_MB=${TINY_MB:-$SIZE_MB}
RUNS=${RUNS:-5}
STREAMS=${STREAMS:-"k1 small tiny big1 bigl"}
PERF=${PERF:-0}
SSECAT=${SSECAT:-$top_builddir/cmd/ssecat}
CURL=${CURL:-curl}
NGINX=${NGINX:-/usr/sbin/nginx}
TIME=/usr/bin/time
BIG=16777216 # the 16 MiB event

say() { printf '%s\n' "bench/ssecat: $*" >&2; }
die() { say "$*"; exit 1; }

case $SIZE_MB$SMALL_MB$TINY_MB$RUNS$PERF in *[!0-9]*) die "SIZE_MB, SMALL_MB, TINY_MB, RUNS and PERF must be integers" ;; esac
if [ "$SIZE_MB" -le 0 ] || [ "$SMALL_MB" -le 0 ] || [ "$TINY_MB" -le 0 ] || [ "$RUNS" -le 0 ]; then
	die "SIZE_MB, SMALL_MB, TINY_MB and RUNS must be positive"
fi
for s in $STREAMS; do
	case $s in k1 | small | tiny | big1 | bigl) ;; *) die "unknown stream $s (k1 small tiny big1 bigl)" ;; esac
done

# ---------------------------------------------------------------- tools
if [ ! -x "$TIME" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing GNU time (Debian package 'time')"
		apt-get install -y time >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; }
	fi
	[ -x "$TIME" ] || die "$TIME (GNU time) is needed: apt-get install time"
fi
[ -x "$SSECAT" ] || die "$SSECAT not found or not executable (build first: make)"
[ -x "$NGINX" ] || die "$NGINX not found (Debian: apt-get install nginx-light)"
for t in "$CURL" ss pgrep yes head tr wc awk timeout sha256sum; do
	command -v "$t" >/dev/null || die "$t not found"
done
if [ "$PERF" = 1 ]; then command -v perf >/dev/null || die "PERF=1 needs perf"; fi

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqsse-bench-ssecat.XXXXXX") || die "mktemp failed"
nginx_pid=
cleanup() {
	if [ -n "$nginx_pid" ]; then
		# SIGTERM: nginx's fast shutdown (master and worker).
		kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Work on a copy of the binary: the build tree may be rebuilt while the
# benchmark runs, and every run must use the same build.
if ! { mkdir "$tmp/bin" && cp "$SSECAT" "$tmp/bin/ssecat"; }; then die "cannot copy $SSECAT"; fi
SSECAT_SRC=$SSECAT
ssecat_built=$(date -u -r "$SSECAT_SRC" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null)
SSECAT=$tmp/bin/ssecat
ssecat_sum=$(sha256sum "$SSECAT" | cut -c 1-16)
# The source the binary presumably comes from: HEAD now (see its mtime).
rev=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)
if [ -n "$rev" ]; then
	st=$(git -C "$top_srcdir" status --porcelain -- cmd common 2>/dev/null)
	if printf '%s\n' "$st" | grep -q '^?? cmd/ssecat\.c$'; then
		rev="$rev with uncommitted ssecat work (cmd/ssecat.c untracked)"
	elif [ -n "$st" ]; then
		rev="$rev + uncommitted changes in cmd/ common/"
	fi
fi

# ---------------------------------------------------------------- streams
mkdir "$tmp/www" "$tmp/nginx" || die "mkdir failed"

# Per stream: body bytes, events, data bytes of one event (the output has
# each event's data and a newline), lines and bytes of ssecat's default
# output and bytes of its -j output (0: not checked), and a label.
declare -A s_bytes s_events s_lines s_out s_json s_label
x1016=$(printf '%*s' 1016 '' | tr ' ' x)
x1024=$(printf '%*s' 1024 '' | tr ' ' x)
y24=$(printf '%*s' 24 '' | tr ' ' y)
gen_stream() { # name: writes $tmp/www/NAME and the s_* entries
	local s=$1 f=$tmp/www/$1 n
	case $s in
	k1)
		n=$((SIZE_MB * 1048576 / 1024))
		# yes writes its argument and a newline: "data: x...x\n" + "\n",
		# 6 + 1016 + 2 = 1024 bytes.
		yes "data: $x1016"$'\n' | head -c $((n * 1024)) >"$f"
		s_events[$s]=$n s_lines[$s]=$n s_out[$s]=$((n * 1017))
		s_json[$s]=$((n * (30 + 1016))) # {"event":"message","data":"..."}\n
		s_label[$s]="1 KiB events (1016 B data)"
		;;
	small)
		n=$((SMALL_MB * 1048576 / 32))
		yes "data: $y24"$'\n' | head -c $((n * 32)) >"$f"
		s_events[$s]=$n s_lines[$s]=$n s_out[$s]=$((n * 25)) s_json[$s]=0
		s_label[$s]="32 B events (24 B data)"
		;;
	tiny)
		n=$((TINY_MB * 1048576 / 9))
		yes "data: x"$'\n' | head -c $((n * 9)) >"$f"
		s_events[$s]=$n s_lines[$s]=$n s_out[$s]=$((n * 2)) s_json[$s]=$((n * 31))
		s_label[$s]="9 B events (\`data: x\`)"
		;;
	big1)
		{
			printf 'data: '
			head -c "$BIG" /dev/zero | tr '\0' x
			printf '\n\ndata: end\n\n'
		} >"$f"
		s_events[$s]=2 s_lines[$s]=2 s_out[$s]=$((BIG + 1 + 4)) s_json[$s]=0
		s_label[$s]="one 16 MiB event, one data line"
		;;
	bigl)
		{
			yes "data: $x1024" | head -n $((BIG / 1024))
			printf '\ndata: end\n\n'
		} >"$f"
		# 16384 values of 1024 B joined by 16383 newlines, a newline; "end\n".
		s_events[$s]=2 s_lines[$s]=$((BIG / 1024 + 1)) s_out[$s]=$((BIG + BIG / 1024 + 4)) s_json[$s]=0
		s_label[$s]="one 16 MiB event, 16384 data lines of 1 KiB"
		;;
	esac
	s_bytes[$s]=$(wc -c <"$f")
}

# ---------------------------------------------------------------- nginx
port=
start_nginx() {
	local conf=$tmp/nginx.conf user=""
	# As root, nginx's worker would run as "nobody", which cannot enter our
	# private (0700) temp directory: keep it root.
	[ "$(id -u)" = 0 ] && user="user root;"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			continue
		fi
		cat >"$conf" <<EOF
# Written by mqsse bench/ssecat.sh: serve the stream files of $tmp/www
# on 127.0.0.1:$port, nothing else; everything nginx writes stays in $tmp.
daemon off;
worker_processes 1;
$user
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	sendfile on;
	server {
		listen 127.0.0.1:$port;
		location / {
			root $tmp/www;
			# Every file is a stream: no extension mapping.
			types {}
			default_type text/event-stream;
		}
	}
}
EOF
		# -e: the log for messages before the config is read (nginx >= 1.19.5).
		"$NGINX" -e "$tmp/nginx/error.log" -c "$conf" -p "$tmp/nginx/" >"$tmp/nginx.out" 2>&1 &
		nginx_pid=$!
		# Poll until our nginx owns the listening socket (or died: e.g.
		# another process took the port meanwhile; then try another).
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

# CPU ticks (user+sys) the nginx worker has used so far.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
worker_ticks() {
	local a
	read -r -a a <"/proc/$worker_pid/stat" || { printf 0; return; }
	printf '%s' $((a[13] + a[14]))
}

# Last line of a GNU time -o file ("Command exited with..." may precede it).
time_fields() { tail -n 1 "$1" 2>/dev/null; }

tsv=$tmp/ssecat.tsv
: >"$tsv"
runid=0

# The command of tool $1 on URL $2 into the array cmd.
tool_cmd() {
	case $1 in
	curl) cmd=("$CURL" -sN "$2") ;;
	ssecat) cmd=("$SSECAT" --no-reconnect "$2") ;;
	json) cmd=("$SSECAT" --no-reconnect -j "$2") ;;
	esac
}

# A backstop against a hung client: 60 s plus 1 s per 2 MB of body.
limit() { printf '%s' $((60 + s_bytes[$1] / 2000000)); }

# ---------------------------------------------------------------- check
# Untimed: does each tool get the whole stream?  One "chk" line per tool:
# stream tool exit expected-lines got-lines expected-bytes got-bytes.
check_stream() {
	local s=$1 url=$base/$1 t rc got el eb
	for t in curl ssecat json; do
		case $t in
		curl) el=- eb=${s_bytes[$s]} ;;
		ssecat) el=${s_lines[$s]} eb=${s_out[$s]} ;;
		json)
			[ "${s_json[$s]}" = 0 ] && continue
			el=${s_events[$s]} eb=${s_json[$s]}
			;;
		esac
		tool_cmd "$t" "$url"
		got=$(timeout -s INT "$(limit "$s")" "${cmd[@]}" 2>"$tmp/chk.err" | wc -lc)
		rc=${PIPESTATUS[0]}
		read -r gl gb <<<"$got"
		[ "$el" = - ] && gl=-
		printf 'chk\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$rc" "$el" "$gl" "$eb" "$gb" \
			"$(head -c 200 "$tmp/chk.err" | tr '\t\n' '  ')" >>"$tsv"
		if [ "$rc" = 0 ] && [ "$gl" = "$el" ] && [ "$gb" = "$eb" ]; then
			say "check $s $t: ok ($gb bytes)"
		else
			say "check $s $t: MISMATCH: exit $rc, lines $gl (expected $el), bytes $gb (expected $eb)"
		fi
	done
}

# ---------------------------------------------------------------- runs
# One timed run of tool $2 on stream $1, round $3; one "run" line in $tsv:
# stream tool round exit wall elapsed user sys maxrssKB nginx-cpu note.
run_one() {
	local s=$1 t=$2 run=$3 d rc t0 t1 w0 w1 note="" f
	runid=$((runid + 1))
	d=$tmp/run$runid
	mkdir -p "$d"
	tool_cmd "$t" "$base/$s"
	w0=$(worker_ticks)
	t0=$EPOCHREALTIME
	"$TIME" -f '%e %U %S %M' -o "$d/time" timeout -s INT "$(limit "$s")" "${cmd[@]}" >/dev/null 2>"$d/err"
	rc=$?
	t1=$EPOCHREALTIME
	w1=$(worker_ticks)
	[ "$rc" = 124 ] && note="timed out: stopped by SIGINT after $(limit "$s") s;"
	[ -s "$d/err" ] && note="$note stderr: $(head -c 200 "$d/err" | tr '\t\n' '  ')"
	f=$(time_fields "$d/time")
	printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$run" "$rc" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" \
		"$(printf '%s' "$f" | tr ' ' '\t')" \
		"$(awk -v t=$((w1 - w0)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')" \
		"${note# }" >>"$tsv"
	say "run $run $s $t: exit $rc, wall $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s, elapsed/user/sys/maxrssKB $f${note:+ -- $note}"
}

perf_tiny() {
	local d=$tmp/perf
	mkdir -p "$d"
	if perf record -g -o "$d/perf.data" "$SSECAT" --no-reconnect "$base/tiny" >/dev/null 2>"$d/record.err"; then
		perf report -i "$d/perf.data" --no-children --stdio -g none --percent-limit 1 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -n 20 >"$d/top"
		say "perf profile of ssecat on the tiny stream recorded"
	else
		say "perf record failed: $(tail -n 3 "$d/record.err")"
		echo "perf record failed: $(tail -n 3 "$d/record.err" | tr '\n' ' ')" >"$d/top"
	fi
}

# ---------------------------------------------------------------- main
start_nginx
base=http://127.0.0.1:$port
say "nginx pid $nginx_pid (worker $worker_pid) on 127.0.0.1:$port; streams: $STREAMS; $RUNS rounds"
started=$EPOCHREALTIME

for s in $STREAMS; do
	g0=$EPOCHREALTIME
	gen_stream "$s"
	say "stream $s: ${s_bytes[$s]} bytes, ${s_events[$s]} events, generated in $(awk -v a="$g0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
	ctype=$("$CURL" -s -o /dev/null -w '%{http_code} %{content_type}' "$base/$s")
	[ "$ctype" = "200 text/event-stream" ] || die "nginx serves $s as \"$ctype\", not \"200 text/event-stream\""
	check_stream "$s"
	tools=(curl ssecat)
	[ "${s_json[$s]}" != 0 ] && tools+=(json)
	for run in $(seq 1 "$RUNS"); do
		order=("${tools[@]}")
		# Even rounds in the reverse order.
		if [ $((run % 2)) = 0 ]; then
			order=()
			for ((i = ${#tools[@]} - 1; i >= 0; i--)); do order+=("${tools[i]}"); done
		fi
		for t in "${order[@]}"; do
			run_one "$s" "$t" "$run"
		done
	done
	printf 'stream\t%s\t%s\t%s\t%s\n' "$s" "${s_bytes[$s]}" "${s_events[$s]}" "${s_label[$s]}" >>"$tsv"
	[ "$PERF" = 1 ] && [ "$s" = tiny ] && perf_tiny
	rm -f "$tmp/www/$s"
done
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---------------------------------------------------------------- report
ver_ssecat=$("$SSECAT" --version 2>/dev/null | head -n 1)
ver_curl=$("$CURL" --version 2>/dev/null | head -n 1 | cut -d' ' -f 1-3)
ver_nginx=$("$NGINX" -v 2>&1 | sed -n 's/^nginx version: nginx\///p')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
outdir=$top_builddir/bench/out
mkdir -p "$outdir"
report=$outdir/ssecat-$stamp.md
cp "$tsv" "$outdir/ssecat-$stamp.tsv"

{
	echo "# ssecat against curl, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- command: \`SIZE_MB=$SIZE_MB SMALL_MB=$SMALL_MB TINY_MB=$TINY_MB RUNS=$RUNS STREAMS=\"$STREAMS\" PERF=$PERF sh bench/ssecat.sh\` ($elapsed s after nginx started, stream generation included)"
	echo "- ssecat: $ver_ssecat, source at the start: ${rev:-unknown}; binary copied at the start from $SSECAT_SRC (modified $ssecat_built when copied; sha256 $ssecat_sum...)"
	echo "- $ver_curl as \`curl -sN URL >/dev/null\`; ssecat as \`ssecat --no-reconnect URL >/dev/null\` (and \`-j\`)"
	echo "- server: nginx $ver_nginx, 1 worker, sendfile on, on 127.0.0.1, serving each stream from a file as text/event-stream (Content-Length set)"
	echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- $RUNS rounds per stream, the tools interleaved (odd rounds curl, ssecat, ssecat -j; even rounds the reverse); medians of the runs that exited 0. MB/s = 10^6 bytes of HTTP body per wall second (process start to exit). CPU from GNU time, in 10 ms steps."
	echo
} >"$report"

awk -F '\t' -v RUNS="$RUNS" '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return ""
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function maxof(list,    a, n, i, m) { n = split(list, a, " "); m = ""; for (i = 1; i <= n; i++) if (m == "" || a[i] + 0 > m + 0) m = a[i]; return m }
function add(arr, key, v) { if (key in arr) arr[key] = arr[key] " " v; else arr[key] = v }
function fmt(v, p) { return v == "" ? "—" : sprintf("%." p "f", v) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "—" : sprintf("%.2f", a / b) }
function big(s) { return s == "big1" || s == "bigl" }
$1 == "stream" { order[++ns] = $2; bytes[$2] = $3; events[$2] = $4; label[$2] = $5 }
$1 == "chk" { ck = $2 SUBSEP $3; chk[ck] = 1; crc[ck] = $4; cel[ck] = $5; cgl[ck] = $6; ceb[ck] = $7; cgb[ck] = $8; cerr[ck] = $9 }
$1 == "run" {
	k = $2 SUBSEP $3; nrun[k]++; ran[$2 SUBSEP $3] = 1
	if ($5 != "0" || $7 == "") { bad[++nb] = sprintf("%s, %s, round %s: exit %s; %s", $2, $3, $4, $5, $12); next }
	add(wall, k, $6); add(cpu, k, $8 + $9); add(usr, k, $8); add(sys, k, $9); add(rss, k, $10 / 1024); add(ngx, k, $11)
	w[k SUBSEP $4] = $6
}
END {
	for (i = 1; i <= ns; i++) {
		s = order[i]
		for (t = 1; t <= 3; t++) {
			tool = (t == 1 ? "curl" : (t == 2 ? "ssecat" : "json")); k = s SUBSEP tool
			if (k in wall) { n = split(wall[k], a, " "); r = ""; for (j = 1; j <= n; j++) r = r (j > 1 ? " " : "") bytes[s] / a[j] / 1e6; mbs[k] = median(r) }
		}
	}
	print "## Throughput (MB/s of the HTTP body, median; higher is better)"
	print ""
	print "| stream | body MiB | events | curl MB/s | ssecat MB/s | ssecat / curl (target ≥ 0.8) | target | ssecat events/s | ssecat -j MB/s | ssecat -j / curl |"
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for (i = 1; i <= ns; i++) {
		s = order[i]; kc = s SUBSEP "curl"; ks = s SUBSEP "ssecat"; kj = s SUBSEP "json"
		rt = ratio(mbs[ks], mbs[kc])
		v = (rt == "—" ? "—" : (big(s) ? "not judged (runs under 1 s)" : (rt + 0 >= 0.8 ? "**met**" : "**not met**")))
		ev = (ks in wall) ? fmt(events[s] / median(wall[ks]), 0) : "—"
		printf "| %s | %.1f | %d | %s | %s | %s | %s | %s | %s | %s |\n", label[s], bytes[s] / 1048576, events[s], fmt(mbs[kc], 0), fmt(mbs[ks], 0), rt, v, (big(s) ? "—" : ev), fmt(mbs[kj], 0), ratio(mbs[kj], mbs[kc])
	}
	print ""
	print "Per round, ssecat / curl throughput (the same round'"'"'s two runs):"
	print ""
	for (i = 1; i <= ns; i++) {
		s = order[i]; line = ""
		for (r = 1; r <= RUNS; r++) {
			wc_ = w[s SUBSEP "curl" SUBSEP r]; ws_ = w[s SUBSEP "ssecat" SUBSEP r]
			line = line (r > 1 ? ", " : "") ((wc_ == "" || ws_ == "") ? "—" : sprintf("%.2f", wc_ / ws_))
		}
		printf "- %s: %s\n", label[s], line
	}
	print ""
	print "## CPU seconds, user+sys (median; lower is better)"
	print ""
	print "| stream | curl | ssecat | ssecat / curl | curl user, sys | ssecat user, sys | ssecat -j | ssecat -j / curl | nginx worker while serving curl; ssecat |"
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for (i = 1; i <= ns; i++) {
		s = order[i]; kc = s SUBSEP "curl"; ks = s SUBSEP "ssecat"; kj = s SUBSEP "json"
		cc = median(cpu[kc]); cs = median(cpu[ks]); cj = median(cpu[kj])
		printf "| %s | %s | %s | %s | %s, %s | %s, %s | %s | %s | %s; %s |\n", label[s], fmt(cc, 2), fmt(cs, 2), ratio(cs, cc),
			fmt(median(usr[kc]), 2), fmt(median(sys[kc]), 2), fmt(median(usr[ks]), 2), fmt(median(sys[ks]), 2),
			fmt(cj, 2), ratio(cj, cc), fmt(median(ngx[kc]), 2), fmt(median(ngx[ks]), 2)
	}
	print ""
	print "## Peak RSS, MiB (median; max over the runs in brackets; lower is better)"
	print ""
	print "| stream | curl | ssecat | ssecat -j |"
	print "| --- | --- | --- | --- |"
	for (i = 1; i <= ns; i++) {
		s = order[i]; kc = s SUBSEP "curl"; ks = s SUBSEP "ssecat"; kj = s SUBSEP "json"
		printf "| %s | %s (%s) | %s (%s) | %s |\n", label[s], fmt(median(rss[kc]), 1), fmt(maxof(rss[kc]), 1), fmt(median(rss[ks]), 1), fmt(maxof(rss[ks]), 1),
			(kj in rss) ? fmt(median(rss[kj]), 1) " (" fmt(maxof(rss[kj]), 1) ")" : "—"
	}
	print ""
	print "## Output checks (untimed, once per stream, before the timed runs)"
	print ""
	print "| stream | command | exit | lines expected | lines | bytes expected | bytes | result |"
	print "| --- | --- | --- | --- | --- | --- | --- | --- |"
	for (i = 1; i <= ns; i++) {
		s = order[i]
		for (t = 1; t <= 3; t++) {
			tool = (t == 1 ? "curl" : (t == 2 ? "ssecat" : "json")); k = s SUBSEP tool
			if (!(k in chk)) continue
			cmdl = (tool == "curl" ? "`curl -sN URL \\| wc -c`" : (tool == "ssecat" ? "`ssecat --no-reconnect URL \\| wc -lc`" : "`ssecat --no-reconnect -j URL \\| wc -lc`"))
			ok = (crc[k] == "0" && cel[k] == cgl[k] && ceb[k] == cgb[k]) ? "ok" : "**MISMATCH**" (cerr[k] != "" ? " (stderr: " cerr[k] ")" : "")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label[s], cmdl, crc[k], cel[k], cgl[k], ceb[k], cgb[k], ok
		}
	}
	print ""
	if (nb) {
		print "## Failed runs (no figures from these)"
		print ""
		for (i = 1; i <= nb; i++) print "- **" bad[i] "**"
		print ""
	}
}' "$tsv" >>"$report"

if [ "$PERF" = 1 ] && [ -s "$tmp/perf/top" ]; then
	{
		echo "## Where ssecat spends its time on the tiny stream"
		echo
		echo "\`perf record -g ssecat --no-reconnect URL >/dev/null\` on the 9 B event stream, then \`perf report --no-children --stdio -g none --percent-limit 1\` (self time per function):"
		echo
		echo '```'
		cat "$tmp/perf/top"
		echo '```'
		echo
	} >>"$report"
fi

cat "$report"
say "report written to $report"
