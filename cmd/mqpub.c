/*
 * mqpub: publish messages to an MQTT broker, from the command line, a file
 * or stdin (lines, NUL-terminated records, JSON Lines). With QoS 1 or 2 it
 * exits only when every message has been acknowledged.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/file.h"
#include "common/in_stdin.h"
#include "common/jsonrec.h"
#include "common/loop.h"
#include "common/mqconn.h"
#include "common/mqtt.h"
#include "common/opt.h"
#include "common/topic.h"
#include "common/version.h"
#include "common/xalloc.h"

/* The MQTT limit on a packet's remaining length bounds a payload. */
#define MAX_PAYLOAD 268435455u
/* After SIGINT/SIGTERM, acknowledgements are awaited this long. */
#define DRAIN_MS 5000

enum source {
	SRC_NONE,
	SRC_MESSAGE,
	SRC_FILE,
	SRC_STDIN_FILE,
	SRC_LINES,
	SRC_NUL,
	SRC_NULL_MSG,
	SRC_JSON
};

enum {
	OPT_REPEAT = MQCONN_OPT_END,
	OPT_REPEAT_DELAY,
	OPT_RATE,
	OPT_MAX_INFLIGHT,
	OPT_CONTENT_TYPE,
	OPT_USER_PROPERTY,
	OPT_MESSAGE_EXPIRY,
	OPT_RESPONSE_TOPIC,
	OPT_CORRELATION_DATA,
	OPT_HELP,
	OPT_VERSION,
};

struct pub {
	struct mqconn conn;
	enum source source;
	const char *topic;   /* -t, or the -L path */
	const char *message; /* -m, or the file's contents */
	size_t message_len;
	char *file_data;
	bool retain, verbose;
	uint64_t repeat, repeat_delay_ms, rate, max_inflight;
	mosquitto_property *props; /* from the command line */
	bool has_props;

	struct event_base *base;
	struct mqtt *mq;
	struct in_stdin *in;
	struct loop_signals *sigs;
	struct event *rate_timer, *repeat_timer, *drain_timer;
	unsigned char *qos0_mids; /* bitmap: mids of QoS 0 messages in flight */
	uint64_t outstanding, outstanding_qos0;
	uint64_t sent, bytes, refused, lost_qos0, bad_records;
	uint64_t remaining; /* copies of the fixed message still to send */
	uint64_t start_ms;
	bool rate_wait, input_done, closing, fatal, warned_props;
	bool publishing, sync_done;
	int fatal_status, signo;
};

static void
usage(void)
{
	printf(
	    "Usage:\n"
	    " mqpub [options] -t <topic> [-m <msg> | -f <file> | -s | -l | -0 | -n]\n"
	    " mqpub [options] -j [-t <default topic>]\n"
	    "\nPublish messages to an MQTT broker.\n"
	    "\nOptions:\n"
	    " -t, --topic <topic>        topic to publish to\n"
	    " -m, --message <msg>        publish <msg> once\n"
	    " -f, --file <file>          publish the whole file as one message\n"
	    " -s, --stdin-file           publish the whole of stdin as one message\n"
	    " -l, --stdin-line           each line of stdin is a message (default)\n"
	    " -0, --null                 stdin holds NUL-terminated messages\n"
	    " -n, --null-message         publish a zero-length message\n"
	    " -j, --json                 each stdin line is a JSON record\n"
	    " -r, --retain               set the retain flag\n"
	    "     --repeat <n>           publish the message n times\n"
	    "     --repeat-delay <secs>  wait between repeats\n"
	    "     --rate <n>             at most n messages per second\n"
	    "     --max-inflight <n>     unacknowledged messages at once (default 1000)\n"
	    "     --content-type <type>  MQTT 5 content type\n"
	    "     --user-property <k=v>  MQTT 5 user property (repeatable)\n"
	    "     --message-expiry <secs> MQTT 5 message expiry interval\n"
	    "     --response-topic <topic> MQTT 5 response topic\n"
	    "     --correlation-data <data> MQTT 5 correlation data\n"
	    " -v, --verbose              print a summary at the end\n");
	mqconn_usage(stdout);
	printf("\n     --help                 display this help and exit\n"
	       "     --version              display version and exit\n"
	       "\nSee mqpub(1).\n");
	exit(EXIT_OK);
}

static void
set_source(struct pub *p, enum source s)
{
	if (p->source != SRC_NONE && p->source != s)
		diag_usage(
		    "only one of -m, -f, -s, -l, -0, -n and -j may be given");
	p->source = s;
}

static void
add_prop(struct pub *p, int rc)
{
	if (rc != MOSQ_ERR_SUCCESS)
		diag_usage("invalid MQTT 5 property value");
	p->has_props = true;
}

static char *
read_file(const char *path, size_t *len)
{
	char *buf;

	if (file_read_path(path, MAX_PAYLOAD, &buf, len) == -1)
		diag_die(EXIT_RUNTIME, "%s: %s", path,
		    errno == EFBIG ? "larger than an MQTT message can be"
		                   : strerror(errno));
	return buf;
}

static void
parse_args(struct pub *p, int argc, char **argv)
{
	static const struct option longopts[] = {MQCONN_LONGOPTS,
	    {"topic", required_argument, NULL, 't'},
	    {"message", required_argument, NULL, 'm'},
	    {"file", required_argument, NULL, 'f'},
	    {"stdin-file", no_argument, NULL, 's'},
	    {"stdin-line", no_argument, NULL, 'l'},
	    {"null", no_argument, NULL, '0'},
	    {"null-message", no_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"retain", no_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"repeat", required_argument, NULL, OPT_REPEAT},
	    {"repeat-delay", required_argument, NULL, OPT_REPEAT_DELAY},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
	    {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
	    {"user-property", required_argument, NULL, OPT_USER_PROPERTY},
	    {"message-expiry", required_argument, NULL, OPT_MESSAGE_EXPIRY},
	    {"response-topic", required_argument, NULL, OPT_RESPONSE_TOPIC},
	    {"correlation-data", required_argument, NULL, OPT_CORRELATION_DATA},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
	const char *file = NULL;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, MQCONN_SHORTOPTS "0f:jlm:nrst:v",
	            longopts, NULL)) != -1) {
		if (mqconn_option(&p->conn, c, optarg))
			continue;
		switch (c) {
		case '0':
			set_source(p, SRC_NUL);
			break;
		case 'f':
			set_source(p, SRC_FILE);
			file = optarg;
			break;
		case 'j':
			set_source(p, SRC_JSON);
			break;
		case 'l':
			set_source(p, SRC_LINES);
			break;
		case 'm':
			set_source(p, SRC_MESSAGE);
			p->message = optarg;
			p->message_len = strlen(optarg);
			break;
		case 'n':
			set_source(p, SRC_NULL_MSG);
			break;
		case 'r':
			p->retain = true;
			break;
		case 's':
			set_source(p, SRC_STDIN_FILE);
			break;
		case 't':
			p->topic = optarg;
			break;
		case 'v':
			p->verbose = true;
			break;
		case OPT_REPEAT:
			p->repeat = opt_uint("--repeat", optarg, 1, UINT64_MAX);
			break;
		case OPT_REPEAT_DELAY:
			p->repeat_delay_ms =
			    opt_duration_ms("--repeat-delay", optarg, 86400000);
			break;
		case OPT_RATE:
			p->rate = opt_uint("--rate", optarg, 1, 1000000);
			break;
		case OPT_MAX_INFLIGHT:
			p->max_inflight =
			    opt_uint("--max-inflight", optarg, 1, 65535);
			break;
		case OPT_CONTENT_TYPE:
			add_prop(p,
			    mosquitto_property_add_string(
			        &p->props, MQTT_PROP_CONTENT_TYPE, optarg));
			break;
		case OPT_USER_PROPERTY: {
			char *eq = strchr(optarg, '='), *k;

			if (eq == NULL)
				diag_usage(
				    "--user-property: expected KEY=VALUE, "
				    "got '%s'",
				    optarg);
			k = xmemdup0(optarg, (size_t)(eq - optarg));
			add_prop(p,
			    mosquitto_property_add_string_pair(
			        &p->props, MQTT_PROP_USER_PROPERTY, k, eq + 1));
			free(k);
			break;
		}
		case OPT_MESSAGE_EXPIRY:
			add_prop(p,
			    mosquitto_property_add_int32(&p->props,
			        MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
			        (uint32_t)opt_uint("--message-expiry", optarg,
			            0, UINT32_MAX)));
			break;
		case OPT_RESPONSE_TOPIC:
			if (topic_check_pub(
			        optarg, strlen(optarg), err, sizeof(err)) == -1)
				diag_usage("--response-topic: %s", err);
			add_prop(p,
			    mosquitto_property_add_string(
			        &p->props, MQTT_PROP_RESPONSE_TOPIC, optarg));
			break;
		case OPT_CORRELATION_DATA:
			if (strlen(optarg) > 65535)
				diag_usage("--correlation-data: too long");
			add_prop(p,
			    mosquitto_property_add_binary(&p->props,
			        MQTT_PROP_CORRELATION_DATA, optarg,
			        (uint16_t)strlen(optarg)));
			break;
		case OPT_HELP:
			usage();
			break;
		case OPT_VERSION:
			version_print(stdout);
			exit(EXIT_OK);
		default:
			diag_try_help();
		}
	}
	if (optind < argc)
		diag_usage("unexpected argument '%s'", argv[optind]);

	mqconn_finish(&p->conn, 0);
	if (p->topic == NULL)
		p->topic = p->conn.url_path;
	if (p->source == SRC_NONE)
		p->source = SRC_LINES;
	if (p->topic == NULL && p->source != SRC_JSON)
		diag_usage("a topic is needed (-t or the path of -L)");
	if (p->topic != NULL &&
	    topic_check_pub(p->topic, strlen(p->topic), err, sizeof(err)) == -1)
		diag_usage("%s", err);
	if (p->has_props && p->conn.protocol != 0 && p->conn.protocol != 5)
		diag_usage("MQTT 5 properties need --protocol 5");
	if (p->repeat > 1 &&
	    (p->source == SRC_LINES || p->source == SRC_NUL ||
	        p->source == SRC_JSON))
		diag_usage("--repeat goes with -m, -f, -s or -n");
	if (p->repeat == 0)
		p->repeat = 1;
	if (p->max_inflight == 0)
		p->max_inflight = 1000;
	if (file != NULL)
		p->file_data = read_file(file, &p->message_len);
	if (p->file_data != NULL)
		p->message = p->file_data;
	if (p->message != NULL && p->message_len > MAX_PAYLOAD)
		diag_usage("the message is larger than MQTT allows");
}

static void finish(struct pub *p);
static void pump_fixed(struct pub *p);

static uint64_t
window(const struct pub *p)
{
	uint64_t w = p->max_inflight;
	uint64_t rm = (uint64_t)mqtt_receive_maximum(p->mq);

	/* Let libmosquitto queue up to twice the broker's own limit. */
	if (p->conn.qos > 0 && rm * 2 < w)
		w = rm * 2;
	return w > 0 ? w : 1;
}

static bool
can_send(const struct pub *p)
{
	return mqtt_connected(p->mq) && !p->closing && !p->rate_wait &&
	    p->outstanding < window(p);
}

/* Pause or resume stdin to match the window, the rate and the link. */
static void
update_flow(struct pub *p)
{
	if (p->in == NULL)
		return;
	if (can_send(p))
		in_resume(p->in);
	else
		in_pause(p->in);
}

static void
publish(struct pub *p, const char *topic, const void *payload, size_t len,
    int qos, bool retain, const mosquitto_property *props)
{
	int mid = 0, rc;

	if (props != NULL && mqtt_protocol(p->mq) != MQTT_PROTOCOL_V5) {
		if (!p->warned_props)
			diag_warn(
			    "warning: MQTT 5 properties are not sent over "
			    "MQTT 3.1.1");
		p->warned_props = true;
		props = NULL;
	}
	/*
	 * A QoS 0 message may be written, and its callback run, inside
	 * mosquitto_publish_v5() itself: on_published() notes that in
	 * sync_done instead of counting it. (The window keeps the number of
	 * QoS 0 messages in flight far below 65,535, so a mid in the bitmap
	 * is never the new message's.)
	 */
	p->publishing = true;
	p->sync_done = false;
	rc = mosquitto_publish_v5(mqtt_mosq(p->mq), &mid, topic, (int)len,
	    payload, qos, retain, props);
	p->publishing = false;
	if (rc != MOSQ_ERR_SUCCESS) {
		diag_err("publish to '%s': %s", topic, mosquitto_strerror(rc));
		p->refused++;
		return;
	}
	p->sent++;
	p->bytes += len;
	if (!p->sync_done)
		p->outstanding++;
	if (qos == 0 && !p->sync_done) {
		p->outstanding_qos0++;
		p->qos0_mids[mid >> 3] |= (unsigned char)(1u << (mid & 7));
	}
	if (p->rate > 0) {
		struct timeval tv = {0, (suseconds_t)(1000000 / p->rate)};

		p->rate_wait = true;
		evtimer_add(p->rate_timer, &tv);
	}
	mqtt_kick(p->mq);
}

static void
on_record(void *arg, const char *data, size_t len, unsigned long n)
{
	struct pub *p = arg;
	struct record r;
	char err[256];
	const char *topic;

	if (p->source != SRC_JSON) {
		if (p->source == SRC_STDIN_FILE) {
			p->file_data = xmemdup0(data, len);
			p->message = p->file_data;
			p->message_len = len;
			pump_fixed(p);
			return;
		}
		publish(
		    p, p->topic, data, len, p->conn.qos, p->retain, p->props);
		update_flow(p);
		return;
	}
	record_init(&r);
	if (jsonrec_parse(data, len, &r, err, sizeof(err)) == -1) {
		diag_err("<stdin>:%lu: %s", n, err);
		p->bad_records++;
		return;
	}
	topic = r.topic != NULL ? r.topic : p->topic;
	if (topic == NULL) {
		diag_err("<stdin>:%lu: no \"topic\" and no -t", n);
		p->bad_records++;
	} else if (topic_check_pub(topic, strlen(topic), err, sizeof(err)) ==
	    -1) {
		diag_err("<stdin>:%lu: %s", n, err);
		p->bad_records++;
	} else if (r.payload_len > MAX_PAYLOAD) {
		diag_err("<stdin>:%lu: payload larger than MQTT allows", n);
		p->bad_records++;
	} else {
		publish(p, topic, r.payload, r.payload_len,
		    r.qos >= 0 ? r.qos : p->conn.qos,
		    r.retain >= 0 ? r.retain != 0 : p->retain,
		    r.props != NULL ? r.props : p->props);
	}
	record_cleanup(&r);
	update_flow(p);
}

static void
on_too_long(void *arg, unsigned long n)
{
	struct pub *p = arg;

	diag_err("<stdin>:%lu: record longer than an MQTT message can be: "
	         "skipped",
	    n);
	p->bad_records++;
}

static void
maybe_done(struct pub *p)
{
	if (p->input_done && p->outstanding == 0 && !p->closing)
		finish(p);
}

static void
on_eof(void *arg)
{
	struct pub *p = arg;

	if (p->source == SRC_STDIN_FILE)
		return; /* the record callback took over */
	p->input_done = true;
	maybe_done(p);
}

static void
on_read_error(void *arg, int err)
{
	struct pub *p = arg;

	diag_err("read error on standard input: %s", strerror(err));
	p->bad_records++;
	p->input_done = true;
	maybe_done(p);
}

/* The fixed message of -m, -f, -s and -n, --repeat times. */
static void
pump_fixed(struct pub *p)
{
	while (p->remaining > 0 && can_send(p)) {
		publish(p, p->topic, p->message, p->message_len, p->conn.qos,
		    p->retain, p->props);
		p->remaining--;
		if (p->remaining > 0 && p->repeat_delay_ms > 0) {
			struct timeval tv = {
			    (time_t)(p->repeat_delay_ms / 1000),
			    (suseconds_t)(p->repeat_delay_ms % 1000) * 1000};

			evtimer_add(p->repeat_timer, &tv);
			return;
		}
	}
	if (p->remaining == 0 && !p->input_done) {
		p->input_done = true;
		maybe_done(p);
	}
}

static void
on_repeat_timer(evutil_socket_t fd, short what, void *arg)
{
	pump_fixed(arg);
}

static void
on_rate_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pub *p = arg;

	p->rate_wait = false;
	if (p->in != NULL)
		update_flow(p);
	else if (!evtimer_pending(p->repeat_timer, NULL))
		pump_fixed(p);
}

static void
start_input(struct pub *p)
{
	static const struct in_cbs cbs = {
	    on_record, on_too_long, on_eof, on_read_error};
	enum in_mode mode;

	switch (p->source) {
	case SRC_MESSAGE:
	case SRC_FILE:
	case SRC_NULL_MSG:
		if (p->message == NULL) {
			p->message = "";
			p->message_len = 0;
		}
		p->remaining = p->repeat;
		pump_fixed(p);
		return;
	case SRC_STDIN_FILE:
		p->remaining = p->repeat;
		mode = IN_WHOLE;
		break;
	case SRC_NUL:
		mode = IN_NUL;
		break;
	default:
		mode = IN_LINE;
		break;
	}
	p->in = in_new(p->base, STDIN_FILENO, mode, MAX_PAYLOAD, &cbs, p);
	update_flow(p);
}

static void
on_connected(void *arg, bool session_present)
{
	struct pub *p = arg;

	if (p->start_ms == 0) {
		p->start_ms = loop_now_ms();
		start_input(p);
		return;
	}
	if (p->in != NULL)
		update_flow(p);
	else if (!evtimer_pending(p->repeat_timer, NULL))
		pump_fixed(p);
}

static void
on_lost(void *arg)
{
	struct pub *p = arg;

	/*
	 * libmosquitto sends unacknowledged QoS 1/2 messages again after the
	 * reconnection; QoS 0 messages not yet written are gone.
	 */
	if (p->outstanding_qos0 > 0) {
		diag_err("%llu QoS 0 messages lost with the connection",
		    (unsigned long long)p->outstanding_qos0);
		p->lost_qos0 += p->outstanding_qos0;
		p->outstanding -= p->outstanding_qos0;
		p->outstanding_qos0 = 0;
		memset(p->qos0_mids, 0, 8192);
	}
	update_flow(p);
	maybe_done(p);
}

static void
on_published(void *arg, int mid, int reason)
{
	struct pub *p = arg;
	unsigned char bit = (unsigned char)(1u << (mid & 7));

	/*
	 * Inside mosquitto_publish_v5(), libmosquitto may also write QoS 0
	 * messages queued earlier (their mids are in the bitmap): those are
	 * counted below. Any other mid is the message being published now,
	 * whose mid we do not know yet: publish() sees sync_done.
	 */
	if (p->publishing && !(p->qos0_mids[mid >> 3] & bit)) {
		p->sync_done = true;
		return;
	}
	if (p->qos0_mids[mid >> 3] & bit) {
		p->qos0_mids[mid >> 3] &= (unsigned char)~bit;
		p->outstanding_qos0--;
	}
	if (p->outstanding > 0)
		p->outstanding--;
	if (reason >= 0x80) {
		p->refused++;
		if (p->refused <= 10)
			diag_err("message not accepted by the broker: %s",
			    mosquitto_reason_string(reason));
	}
	update_flow(p);
	if (p->in == NULL && !evtimer_pending(p->repeat_timer, NULL))
		pump_fixed(p);
	maybe_done(p);
}

static void
on_fatal(void *arg, int status)
{
	struct pub *p = arg;

	p->fatal = true;
	p->fatal_status = status;
	event_base_loopexit(p->base, NULL);
}

static void
on_closed(void *arg)
{
	struct pub *p = arg;

	event_base_loopexit(p->base, NULL);
}

static void
finish(struct pub *p)
{
	p->closing = true;
	if (p->in != NULL)
		in_stop(p->in);
	event_del(p->drain_timer);
	mqtt_disconnect(p->mq);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	finish(arg);
}

static void
on_signal(int signo, void *arg)
{
	struct pub *p = arg;
	struct timeval tv = {DRAIN_MS / 1000, 0};

	if (p->signo != 0) {
		finish(p); /* a second signal: stop waiting */
		return;
	}
	p->signo = signo;
	p->input_done = true;
	p->remaining = 0;
	if (p->in != NULL)
		in_stop(p->in);
	if (p->outstanding == 0 || !mqtt_connected(p->mq)) {
		finish(p);
		return;
	}
	evtimer_add(p->drain_timer, &tv);
}

int
main(int argc, char **argv)
{
	static const struct mqtt_cbs cbs = {
	    .connected = on_connected,
	    .lost = on_lost,
	    .published = on_published,
	    .fatal = on_fatal,
	    .closed = on_closed,
	};
	struct pub p;
	int status = EXIT_OK;
	uint64_t lost;

	memset(&p, 0, sizeof(p));
	diag_init(argv[0]);
	/* getopt_long's own messages say "PROG: ...", like ours. */
	argv[0] = (char *)(uintptr_t)diag_prog();
	mqconn_init(&p.conn);
	parse_args(&p, argc, argv);

	p.base = loop_new();
	p.qos0_mids = xcalloc(1, 8192);
	p.rate_timer = evtimer_new(p.base, on_rate_timer, &p);
	p.repeat_timer = evtimer_new(p.base, on_repeat_timer, &p);
	p.drain_timer = evtimer_new(p.base, on_drain_timeout, &p);
	p.sigs = loop_signals_new(p.base, on_signal, &p);
	p.mq = mqtt_new(p.base, &p.conn, &cbs, &p);
	mosquitto_int_option(
	    mqtt_mosq(p.mq), MOSQ_OPT_SEND_MAXIMUM, (int)p.max_inflight);
	/* A lost connection must come back within --connect-timeout. */
	mqtt_set_reconnect_limit(p.mq, p.conn.connect_timeout_ms);
	mqtt_start(p.mq);
	event_base_dispatch(p.base);

	lost = p.outstanding + p.remaining;
	if (p.fatal && p.start_ms == 0)
		status = p.fatal_status;
	else if (p.fatal || lost > 0) {
		if (lost > 0)
			diag_err("%llu messages not acknowledged",
			    (unsigned long long)lost);
		status = lost > 0 ? EXIT_RUNTIME : p.fatal_status;
	}
	if (p.refused > 0 || p.bad_records > 0 || p.lost_qos0 > 0)
		status = EXIT_RUNTIME;
	if (p.verbose) {
		uint64_t ms = p.start_ms ? loop_now_ms() - p.start_ms : 0;

		fprintf(stderr, "%s: %llu messages, %llu bytes in %.3f s\n",
		    diag_prog(), (unsigned long long)p.sent,
		    (unsigned long long)p.bytes, (double)ms / 1000.0);
	}
	in_free(p.in);
	mqtt_free(p.mq);
	event_free(p.rate_timer);
	event_free(p.repeat_timer);
	event_free(p.drain_timer);
	loop_signals_free(p.sigs);
	event_base_free(p.base);
	mosquitto_property_free_all(&p.props);
	free(p.file_data);
	free(p.qos0_mids);
	mqconn_cleanup(&p.conn);
	if (p.signo != 0)
		loop_reraise(p.signo);
	return status;
}
