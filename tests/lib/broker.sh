# tests/lib/broker.sh: a private mosquitto broker for one test (POSIX sh).
# Source after tap.sh.
#
#	broker_start [CONFIG LINE]...	start a broker on a free loopback port
#	broker_stop			stop the current broker (SIGTERM, reaped)
#	broker_restart			stop it and start it again: same port,
#					same config (and persistence files)
#
# After broker_start: BROKER_PORT, BROKER_PID (the PID of mosquitto itself),
# BROKER_DIR (its directory under $T), BROKER_CONF and BROKER_LOG.  Several
# brokers may run at once; the variables describe the last one started (save
# them to switch between brokers with broker_use DIR).  All are stopped by
# the EXIT trap of tap.sh.
#
# Extra lines are appended after the listener line, so per-listener TLS
# settings apply to it.  `allow_anonymous true` and `persistence false` are
# written unless an extra line sets them; with `persistence true`,
# persistence_location defaults to BROKER_DIR.

_broker_count=0
_broker_dirs=

# broker_free_port: print a port that was free on 127.0.0.1 a moment ago.
broker_free_port()
{
	perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(Listen => 1,
		LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1)
		or die "bind: $!\n";
	    print $s->sockport, "\n";'
}

# broker_wait_port PORT PID [SECS]: 0 once PORT accepts connections, 1 if
# PID died first (it lost the race for the port), 2 after SECS (default 5).
broker_wait_port()
{
	perl -MIO::Socket::INET -e '
	    my ($port, $pid, $secs) = @ARGV;
	    my $end = time + $secs;
	    while (time < $end) {
		my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port, Proto => "tcp", Timeout => 1);
		exit 0 if $c;
		exit 1 unless kill 0, $pid;
		select undef, undef, undef, 0.05;
	    }
	    exit 2;' "$1" "$2" "${3:-5}"
}

_broker_write_conf()
{
	{
		echo "# written by tests/lib/broker.sh"
		echo "user root"
		echo "pid_file $BROKER_DIR/mosquitto.pid"
		echo "log_dest file $BROKER_LOG"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "log_type subscribe"
		echo "log_type unsubscribe"
		echo "log_timestamp true"
		echo "listener $BROKER_PORT 127.0.0.1"
		if ! grep -q '^allow_anonymous' "$BROKER_DIR/extra"; then
			echo "allow_anonymous true"
		fi
		if ! grep -q '^persistence ' "$BROKER_DIR/extra"; then
			echo "persistence false"
		elif grep -q '^persistence true' "$BROKER_DIR/extra" &&
		    ! grep -q '^persistence_location' "$BROKER_DIR/extra"; then
			echo "persistence_location $BROKER_DIR/"
		fi
		cat "$BROKER_DIR/extra"
	} >"$BROKER_CONF"
}

# Start mosquitto on BROKER_PORT with BROKER_CONF; 0 when it listens.
_broker_launch()
{
	# mosquitto appends to its log; mark where this start begins
	echo "--- start" >>"$BROKER_LOG"
	"$MOSQUITTO" -c "$BROKER_CONF" >>"$BROKER_DIR/stderr" 2>&1 &
	BROKER_PID=$!
	echo "$BROKER_PID" >"$BROKER_DIR/pid"
	broker_wait_port "$BROKER_PORT" "$BROKER_PID" 5
	_bl_rc=$?
	if [ "$_bl_rc" != 0 ]; then
		kill_wait "$BROKER_PID"
		rm -f "$BROKER_DIR/pid"
		return 1
	fi
	return 0
}

broker_start()
{
	if [ -z "$MOSQUITTO" ] || [ ! -x "$MOSQUITTO" ]; then
		diag "mosquitto not found"
		return 1
	fi
	_broker_count=$((_broker_count + 1))
	BROKER_DIR="$T/broker$_broker_count"
	BROKER_CONF="$BROKER_DIR/mosquitto.conf"
	BROKER_LOG="$BROKER_DIR/mosquitto.log"
	mkdir -p "$BROKER_DIR"
	_broker_dirs="$_broker_dirs $BROKER_DIR"
	: >"$BROKER_DIR/extra"
	for _bs_line in "$@"; do
		printf '%s\n' "$_bs_line" >>"$BROKER_DIR/extra"
	done
	_bs_try=0
	while [ "$_bs_try" -lt 5 ]; do
		_bs_try=$((_bs_try + 1))
		BROKER_PORT=$(broker_free_port) || return 1
		echo "$BROKER_PORT" >"$BROKER_DIR/port"
		_broker_write_conf
		if _broker_launch; then
			export BROKER_PORT BROKER_PID
			return 0
		fi
	done
	diag "mosquitto did not start:"
	diag_file "$BROKER_DIR/stderr"
	diag_file "$BROKER_LOG"
	return 1
}

# broker_use DIR: make the broker started in DIR the current one.
broker_use()
{
	BROKER_DIR=$1
	BROKER_CONF="$BROKER_DIR/mosquitto.conf"
	BROKER_LOG="$BROKER_DIR/mosquitto.log"
	BROKER_PORT=$(cat "$BROKER_DIR/port")
	BROKER_PID=$(cat "$BROKER_DIR/pid" 2>/dev/null)
	export BROKER_PORT BROKER_PID
}

broker_stop()
{
	if [ -f "$BROKER_DIR/pid" ]; then
		kill_wait "$(cat "$BROKER_DIR/pid")"
		rm -f "$BROKER_DIR/pid"
	fi
	BROKER_PID=
}

# broker_restart: same port and configuration.  The port was ours a moment
# ago; retry for a while in case a client's connection is still closing.
broker_restart()
{
	broker_stop
	_br_try=0
	while [ "$_br_try" -lt 10 ]; do
		_br_try=$((_br_try + 1))
		if _broker_launch; then
			export BROKER_PID
			return 0
		fi
		sleep 0.2
	done
	diag "mosquitto did not restart on port $BROKER_PORT:"
	diag_file "$BROKER_DIR/stderr"
	return 1
}

broker_stop_all()
{
	for _bsa_dir in $_broker_dirs; do
		if [ -f "$_bsa_dir/pid" ]; then
			kill_wait "$(cat "$_bsa_dir/pid")"
			rm -f "$_bsa_dir/pid"
		fi
	done
}

# broker_sub_count CLIENT_ID FILTER: how many subscriptions of CLIENT_ID to
# FILTER the broker has logged since it last started.
broker_sub_count()
{
	# mosquitto logs "TIME: CLIENT_ID QOS FILTER" for each one
	awk -v id="$1" -v f="$2" '
	    /^--- start/ { c = 0; next }
	    { sub(/^[0-9]+: /, "") }
	    $0 == id " 0 " f || $0 == id " 1 " f || $0 == id " 2 " f { c++ }
	    END { print c + 0 }' "$BROKER_LOG"
}

# broker_subscribed CLIENT_ID FILTER [SECS] [N]: wait until the broker has
# logged N (default 1) subscriptions of CLIENT_ID to FILTER since it last
# started (an event, not a delay: after it, a message published to a
# matching topic is routed to that client).  Limit SECS, default 5.
broker_subscribed()
{
	_bsub_n=$(( ${3:-5} * 20 ))
	while [ "$_bsub_n" -gt 0 ]; do
		if [ "$(broker_sub_count "$1" "$2")" -ge "${4:-1}" ]; then
			return 0
		fi
		sleep 0.05
		_bsub_n=$((_bsub_n - 1))
	done
	return 1
}

# sub_start NAME FILTER [MQSUB OPTION]...: start
#	timeout ${SUB_TIMEOUT:-30} mqsub -h 127.0.0.1 -p $BROKER_PORT \
#	    -i NAME -t FILTER ...
# in the background, stdout in $T/NAME.out and stderr in $T/NAME.err, and
# wait until the broker has its subscription.  Sets SUB_PID (the timeout
# process, which passes signals on to mqsub).  Returns 1 if the subscription
# did not appear within 5 s.
sub_start()
{
	_ss_name=$1
	_ss_filter=$2
	shift 2
	_ss_before=$(broker_sub_count "$_ss_name" "$_ss_filter")
	timeout "${SUB_TIMEOUT:-30}" "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" \
	    -i "$_ss_name" -t "$_ss_filter" "$@" >"$T/$_ss_name.out" 2>"$T/$_ss_name.err" &
	SUB_PID=$!
	track "$SUB_PID"
	if ! broker_subscribed "$_ss_name" "$_ss_filter" 5 \
	    $((_ss_before + 1)); then
		diag "mqsub $_ss_name did not subscribe to $_ss_filter"
		diag_file "$T/$_ss_name.err"
		return 1
	fi
	return 0
}

# pub ARG...: mqpub on the current broker, bounded by timeout.
pub()
{
	timeout "${PUB_TIMEOUT:-20}" "$MQPUB" -h 127.0.0.1 -p "$BROKER_PORT" "$@"
}

# sub ARG...: mqsub on the current broker, bounded by timeout.
sub()
{
	timeout "${SUB_TIMEOUT:-30}" "$MQSUB" -h 127.0.0.1 -p "$BROKER_PORT" "$@"
}

# sub_wait [SECS]: wait for the mqsub of the last sub_start to exit (default
# 10 s); its status is then in $status.
sub_wait()
{
	wait_exit "$SUB_PID" "${1:-10}"
}
