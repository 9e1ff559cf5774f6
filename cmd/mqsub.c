/*
 * mqsub: subscribe to MQTT topic filters and print the messages, as
 * payloads, "topic payload" lines, -F templates or JSON Lines.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/fmt.h"
#include "common/jsonrec.h"
#include "common/loop.h"
#include "common/mqconn.h"
#include "common/mqtt.h"
#include "common/opt.h"
#include "common/out_stdout.h"
#include "common/topic.h"
#include "common/version.h"
#include "common/xalloc.h"

#define DRAIN_MS 5000

enum outmode { OUT_PAYLOAD, OUT_VERBOSE, OUT_JSON, OUT_FORMAT };

enum {
	OPT_RETAINED_ONLY = MQCONN_OPT_END,
	OPT_REMOVE_RETAINED,
	OPT_RAP,
	OPT_MAX_BUFFER,
	OPT_HELP,
	OPT_VERSION,
};

struct sub {
	struct mqconn conn;
	char **filters, **filters_out, **unsubs;
	int nfilters, nfilters_out, nunsubs;
	enum outmode mode;
	int modes_given;
	struct fmt *fmt;
	char eor; /* end of record: \n, \0, or none with -N */
	bool no_eol;
	uint64_t count, timeout_ms, max_buffer;
	bool no_retained, retained_only, remove_retained, exit_on_suback;
	bool rap;

	struct event_base *base;
	struct mqtt *mq;
	struct out *out;
	struct loop_signals *sigs;
	struct event *timeout_timer, *retained_timer, *drain_timer;
	int sub_mid, unsub_mid;
	bool subscribed_once, unsubscribed_once, ever_connected;
	uint64_t printed, outstanding;
	/*
	 * The end offset (in bytes committed) of each message that may not
	 * be written yet, oldest at offsets[head]: at --max-buffer, mqsub
	 * says how many messages it could not write.
	 */
	uint64_t *offsets;
	size_t head, noffsets, capoffsets;
	uint64_t committed; /* bytes handed to out */
	bool finishing, abandoned;
	int status, signo;
};

static void
usage(void)
{
	printf(
	    "Usage:\n"
	    " mqsub [options] -t <filter> [-t <filter>]...\n"
	    "\nSubscribe to MQTT topic filters and print the messages.\n"
	    "\nOptions:\n"
	    " -t, --topic <filter>       subscribe to <filter> (repeatable)\n"
	    " -T, --filter-out <filter>  do not print topics matching <filter>\n"
	    " -v, --verbose              print 'topic payload'\n"
	    " -N                         no newline after the payload\n"
	    " -0, --null                 NUL after each message instead of newline\n"
	    " -j, --json                 one JSON object per line\n"
	    " -F, --format <fmt>         format string (see mqsub(1))\n"
	    " -C, --count <n>            exit after n messages\n"
	    " -W, --timeout <secs>       exit after secs (124 if -C not reached)\n"
	    " -R, --no-retained          do not print retained messages\n"
	    "     --retained-only        print only retained messages, then exit\n"
	    "     --remove-retained      clear each retained message received\n"
	    " -E                         exit once subscribed\n"
	    " -U, --unsubscribe <filter> unsubscribe from <filter> (repeatable)\n"
	    "     --retain-as-published  keep the retain flag of live messages\n"
	    "     --max-buffer <bytes>   output held while stdout is blocked (default 64M)\n");
	mqconn_usage(stdout);
	printf("\n     --help                 display this help and exit\n"
	       "     --version              display version and exit\n"
	       "\nSee mqsub(1).\n");
	exit(EXIT_OK);
}

static void
set_mode(struct sub *s, enum outmode m)
{
	if (s->modes_given++ > 0 && s->mode != m)
		diag_usage("-j, -F and -v exclude each other");
	s->mode = m;
}

static void
parse_args(struct sub *s, int argc, char **argv)
{
	static const struct option longopts[] = {MQCONN_LONGOPTS,
	    {"topic", required_argument, NULL, 't'},
	    {"filter-out", required_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"null", no_argument, NULL, '0'}, {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'F'},
	    {"count", required_argument, NULL, 'C'},
	    {"timeout", required_argument, NULL, 'W'},
	    {"no-retained", no_argument, NULL, 'R'},
	    {"retained-only", no_argument, NULL, OPT_RETAINED_ONLY},
	    {"remove-retained", no_argument, NULL, OPT_REMOVE_RETAINED},
	    {"unsubscribe", required_argument, NULL, 'U'},
	    {"retain-as-published", no_argument, NULL, OPT_RAP},
	    {"max-buffer", required_argument, NULL, OPT_MAX_BUFFER},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
	char err[256];
	int c;

	s->eor = '\n';
	s->max_buffer = 64 * 1024 * 1024;
	while ((c = getopt_long(argc, argv,
	            MQCONN_SHORTOPTS "0C:EF:jNRt:T:U:vW:", longopts, NULL)) !=
	    -1) {
		if (mqconn_option(&s->conn, c, optarg))
			continue;
		switch (c) {
		case '0':
			s->eor = '\0';
			break;
		case 'C':
			s->count = opt_uint("--count", optarg, 1, UINT64_MAX);
			break;
		case 'E':
			s->exit_on_suback = true;
			break;
		case 'F':
			set_mode(s, OUT_FORMAT);
			fmt_free(s->fmt);
			s->fmt = fmt_compile(optarg, err, sizeof(err));
			if (s->fmt == NULL)
				diag_usage("--format: %s", err);
			break;
		case 'j':
			set_mode(s, OUT_JSON);
			break;
		case 'N':
			s->no_eol = true;
			break;
		case 'R':
			s->no_retained = true;
			break;
		case 't':
			topic_add_filter(
			    &s->filters, &s->nfilters, optarg, "--topic");
			break;
		case 'T':
			topic_add_filter(&s->filters_out, &s->nfilters_out,
			    optarg, "--filter-out");
			break;
		case 'U':
			topic_add_filter(
			    &s->unsubs, &s->nunsubs, optarg, "--unsubscribe");
			break;
		case 'v':
			set_mode(s, OUT_VERBOSE);
			break;
		case 'W':
			s->timeout_ms = opt_duration_ms(
			    "--timeout", optarg, UINT32_MAX * 1000ull);
			if (s->timeout_ms == 0)
				diag_usage("--timeout: must be more than 0");
			break;
		case OPT_RETAINED_ONLY:
			s->retained_only = true;
			break;
		case OPT_REMOVE_RETAINED:
			s->remove_retained = true;
			break;
		case OPT_RAP:
			s->rap = true;
			break;
		case OPT_MAX_BUFFER:
			s->max_buffer =
			    opt_size("--max-buffer", optarg, UINT64_MAX / 2);
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
	mqconn_finish(&s->conn, 0);
	if (s->conn.url_path != NULL)
		topic_add_filter(
		    &s->filters, &s->nfilters, s->conn.url_path, "--url");
	if (s->nfilters == 0 && s->nunsubs == 0)
		diag_usage("a topic filter is needed (-t or the path of -L)");
	if (s->no_retained && s->retained_only)
		diag_usage(
		    "--no-retained and --retained-only exclude each other");
	if (s->rap && s->conn.protocol != 0 && s->conn.protocol != 5)
		diag_usage("--retain-as-published needs MQTT 5");
}

static void
finish(struct sub *s, int status)
{
	if (s->finishing)
		return;
	s->finishing = true;
	s->status = status;
	event_del(s->timeout_timer);
	event_del(s->retained_timer);
	if (s->outstanding > 0 && mqtt_connected(s->mq)) {
		struct timeval tv = {DRAIN_MS / 1000, 0};

		evtimer_add(s->drain_timer, &tv);
		return;
	}
	mqtt_disconnect(s->mq);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	mqtt_disconnect(((struct sub *)arg)->mq);
}

static void
subscribe_all(struct sub *s)
{
	struct mosquitto *m = mqtt_mosq(s->mq);
	int opts = 0, rc;

	if (s->nunsubs > 0) {
		rc = mosquitto_unsubscribe_multiple(
		    m, &s->unsub_mid, s->nunsubs, s->unsubs, NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			diag_err("unsubscribe: %s", mosquitto_strerror(rc));
	}
	if (s->nfilters > 0) {
		if (mqtt_protocol(s->mq) == MQTT_PROTOCOL_V5 && s->rap)
			opts |= MQTT_SUB_OPT_RETAIN_AS_PUBLISHED;
		rc = mosquitto_subscribe_multiple(m, &s->sub_mid, s->nfilters,
		    s->filters, s->conn.qos, opts, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			diag_err("subscribe: %s", mosquitto_strerror(rc));
			finish(s, EXIT_RUNTIME);
			return;
		}
	}
	mqtt_kick(s->mq);
}

static void
on_connected(void *arg, bool session_present)
{
	struct sub *s = arg;

	s->ever_connected = true;
	if (s->finishing)
		return;
	if (s->rap && mqtt_protocol(s->mq) != MQTT_PROTOCOL_V5)
		diag_warn("warning: the broker speaks MQTT 3.1.1: "
		          "--retain-as-published has no effect");
	subscribe_all(s);
}

static void
on_subscribed(void *arg, int mid, int count, const int *granted)
{
	struct sub *s = arg;
	int refused = 0;
	static const struct timeval one_second = {1, 0};

	if (mid != s->sub_mid)
		return;
	for (int i = 0; i < count; i++) {
		if (granted[i] >= 0x80) {
			refused++;
			diag_err("subscription to '%s' refused: %s",
			    i < s->nfilters ? s->filters[i] : "?",
			    mosquitto_reason_string(granted[i]));
		}
	}
	if (refused == count) {
		finish(s, EXIT_RUNTIME);
		return;
	}
	s->subscribed_once = true;
	if (s->exit_on_suback && (s->nunsubs == 0 || s->unsubscribed_once))
		finish(s, EXIT_OK);
	else if (s->retained_only)
		evtimer_add(s->retained_timer, &one_second);
}

static void
on_unsubscribed(void *arg, int mid)
{
	struct sub *s = arg;

	if (mid != s->unsub_mid)
		return;
	s->unsubscribed_once = true;
	if (s->nfilters == 0 || (s->exit_on_suback && s->subscribed_once))
		finish(s, EXIT_OK);
}

static bool
filtered_out(const struct sub *s, const char *topic)
{
	for (int i = 0; i < s->nfilters_out; i++)
		if (topic_matches(s->filters_out[i], topic))
			return true;
	return false;
}

/* Forget the messages written so far (each entry is passed once). */
static void
drop_written(struct sub *s)
{
	uint64_t written = s->committed - out_pending(s->out);

	while (s->head < s->noffsets && s->offsets[s->head] <= written)
		s->head++;
	if (s->head == s->noffsets) {
		s->head = s->noffsets = 0;
	} else if (s->head > s->capoffsets / 2) {
		memmove(s->offsets, s->offsets + s->head,
		    (s->noffsets - s->head) * sizeof(*s->offsets));
		s->noffsets -= s->head;
		s->head = 0;
	}
}

/* Remember where the message just committed ends. */
static void
note_offset(struct sub *s)
{
	drop_written(s);
	if (s->noffsets == s->capoffsets) {
		s->capoffsets = s->capoffsets * 2 + 1024;
		s->offsets =
		    xrealloc(s->offsets, s->capoffsets * sizeof(*s->offsets));
	}
	s->offsets[s->noffsets++] = s->committed;
}

static uint64_t
unwritten(struct sub *s)
{
	drop_written(s);
	return s->noffsets - s->head;
}

static void
print(struct sub *s, const struct record *r)
{
	struct evbuffer *b = out_buffer(s->out);
	size_t before = evbuffer_get_length(b);

	switch (s->mode) {
	case OUT_JSON:
		jsonrec_encode(r, b);
		evbuffer_add(b, "\n", 1);
		break;
	case OUT_FORMAT:
		fmt_render(s->fmt, r, b);
		break;
	case OUT_VERBOSE:
		evbuffer_add(b, r->topic, strlen(r->topic));
		evbuffer_add(b, " ", 1);
		/* FALLTHROUGH */
	case OUT_PAYLOAD:
		evbuffer_add(b, r->payload, r->payload_len);
		if (!s->no_eol)
			evbuffer_add(b, &s->eor, 1);
		break;
	}
	s->committed += evbuffer_get_length(b) - before;
	note_offset(s);
	out_commit(s->out);
}

static void
on_message(void *arg, const struct mosquitto_message *m,
    const mosquitto_property *props)
{
	struct sub *s = arg;
	struct record r;

	if (s->finishing || out_failed(s->out))
		return;
	if (filtered_out(s, m->topic))
		return;
	if (s->remove_retained && m->retain && m->payloadlen > 0) {
		int rc = mosquitto_publish(
		    mqtt_mosq(s->mq), NULL, m->topic, 0, NULL, 1, true);

		if (rc == MOSQ_ERR_SUCCESS)
			s->outstanding++;
	}
	if (s->retained_only && !m->retain) {
		finish(s, EXIT_OK);
		return;
	}
	if (s->no_retained && m->retain)
		return;
	record_view_message(&r, m, props);
	print(s, &r);
	s->printed++;
	if (out_pending(s->out) > s->max_buffer) {
		diag_err("standard output blocked: %llu received messages "
		         "could not be written",
		    (unsigned long long)unwritten(s));
		s->status = EXIT_RUNTIME;
		s->finishing = true;
		s->abandoned = true;
		event_base_loopexit(s->base, NULL);
		return;
	}
	if (s->count > 0 && s->printed >= s->count)
		finish(s, EXIT_OK);
}

static void
on_published(void *arg, int mid, int reason)
{
	struct sub *s = arg;

	if (s->outstanding > 0)
		s->outstanding--;
	if (s->finishing && s->outstanding == 0) {
		event_del(s->drain_timer);
		mqtt_disconnect(s->mq);
	}
}

static void
on_fatal(void *arg, int status)
{
	struct sub *s = arg;

	if (!s->finishing || s->status == EXIT_OK)
		s->status = status;
	s->finishing = true;
	event_base_loopexit(s->base, NULL);
}

static void
on_closed(void *arg)
{
	event_base_loopexit(((struct sub *)arg)->base, NULL);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sub *s = arg;

	if (!s->ever_connected) {
		diag_err("connect %s: timed out", mqconn_peer(&s->conn));
		s->status = EXIT_CONNECT;
		s->finishing = true;
		event_base_loopexit(s->base, NULL);
		return;
	}
	finish(
	    s, s->count > 0 && s->printed < s->count ? EXIT_TIMEOUT : EXIT_OK);
}

static void
on_retained_timer(evutil_socket_t fd, short what, void *arg)
{
	finish(arg, EXIT_OK);
}

static void
on_out_closed(void *arg)
{
	struct sub *s = arg;

	/* The reader went away (mqsub | head): end quietly. */
	s->finishing = false;
	finish(s, EXIT_OK);
}

static void
on_out_error(void *arg, int err)
{
	struct sub *s = arg;

	diag_err("write error on standard output: %s", strerror(err));
	s->finishing = false;
	finish(s, EXIT_RUNTIME);
}

static void
on_signal(int signo, void *arg)
{
	struct sub *s = arg;

	if (s->signo != 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	s->signo = signo;
	s->finishing = false;
	finish(s, EXIT_OK);
}

int
main(int argc, char **argv)
{
	static const struct mqtt_cbs cbs = {
	    .connected = on_connected,
	    .message = on_message,
	    .published = on_published,
	    .subscribed = on_subscribed,
	    .unsubscribed = on_unsubscribed,
	    .fatal = on_fatal,
	    .closed = on_closed,
	};
	static const struct out_cbs ocbs = {on_out_closed, on_out_error, NULL};
	struct sub s;
	int status;

	memset(&s, 0, sizeof(s));
	diag_init(argv[0]);
	/* getopt_long's own messages say "PROG: ...", like ours. */
	argv[0] = (char *)(uintptr_t)diag_prog();
	mqconn_init(&s.conn);
	parse_args(&s, argc, argv);

	s.base = loop_new();
	s.out = out_new(s.base, STDOUT_FILENO, &ocbs, &s);
	s.sigs = loop_signals_new(s.base, on_signal, &s);
	s.timeout_timer = evtimer_new(s.base, on_timeout, &s);
	s.retained_timer = evtimer_new(s.base, on_retained_timer, &s);
	s.drain_timer = evtimer_new(s.base, on_drain_timeout, &s);
	s.mq = mqtt_new(s.base, &s.conn, &cbs, &s);
	if (s.timeout_ms > 0) {
		struct timeval tv = {(time_t)(s.timeout_ms / 1000),
		    (suseconds_t)(s.timeout_ms % 1000) * 1000};

		evtimer_add(s.timeout_timer, &tv);
	}
	mqtt_start(s.mq);
	event_base_dispatch(s.base);

	status = s.status;
	/*
	 * Hand SIGINT/SIGTERM back to the system before waiting for a slow
	 * reader, so that they still end mqsub. After --max-buffer was
	 * exceeded the output is abandoned: the reader is not taking it.
	 */
	if (s.signo != 0) {
		/*
		 * Already stopping for a signal: the drain is bounded, so a
		 * repeat (timeout(1) sends SIGTERM to the child and to its
		 * group) waits until the end instead of cutting it short.
		 */
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	loop_signals_free(s.sigs);
	s.sigs = NULL;
	if (!s.abandoned &&
	    out_flush_blocking(s.out, s.signo ? DRAIN_MS : -1) == -1 &&
	    status == EXIT_OK)
		status = EXIT_RUNTIME;
	out_free(s.out);
	mqtt_free(s.mq);
	event_free(s.timeout_timer);
	event_free(s.retained_timer);
	event_free(s.drain_timer);
	loop_signals_free(s.sigs);
	event_base_free(s.base);
	fmt_free(s.fmt);
	for (int i = 0; i < s.nfilters; i++)
		free(s.filters[i]);
	for (int i = 0; i < s.nfilters_out; i++)
		free(s.filters_out[i]);
	for (int i = 0; i < s.nunsubs; i++)
		free(s.unsubs[i]);
	free(s.filters);
	free(s.filters_out);
	free(s.unsubs);
	free(s.offsets);
	mqconn_cleanup(&s.conn);
	if (s.signo != 0)
		loop_reraise(s.signo);
	return status;
}
