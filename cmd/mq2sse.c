/*
 * mq2sse: subscribe to MQTT topic filters and serve the messages to
 * browsers as Server-Sent Events: per-client topic filters within an
 * allow-list, retained messages first, replay, and POST /publish back.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <mqtt_protocol.h>

#include "common/b64.h"
#include "common/diag.h"
#include "common/exitcode.h"
#include "common/http.h"
#include "common/jsonrec.h"
#include "common/loop.h"
#include "common/mqconn.h"
#include "common/mqtt.h"
#include "common/opt.h"
#include "common/record.h"
#include "common/retained.h"
#include "common/sse_emit.h"
#include "common/sse_hub.h"
#include "common/topic.h"
#include "common/utf8.h"
#include "common/version.h"
#include "common/xalloc.h"

/* A browser's POST /publish waits at most this long for the broker. */
#define PUBLISH_TIMEOUT_MS 10000
/*
 * After a resubscription the broker sends every retained message again:
 * for this long, one equal to what the cache holds is not news.
 */
#define RESUB_WINDOW_MS 3000

enum {
	OPT_ALLOW = HTTPOPT_END,
	OPT_ALLOW_PUBLISH,
	OPT_DATA,
	OPT_EVENT_TYPE,
	OPT_NO_RETAINED,
	OPT_MAX_RETAINED,
	OPT_HELP,
	OPT_VERSION,
};

/* A POST /publish waiting for the broker's acknowledgement. */
struct pending {
	struct bridge *b;
	struct evhttp_request *req; /* NULL once the client went away */
	int mid;
	uint64_t since;
	struct pending *next;
};

struct bridge {
	struct mqconn conn;
	struct httpopts ho;
	char **filters, **allow, **allow_pub;
	int nfilters, nallow, nallow_pub;
	bool allow_given, data_payload, type_topic, no_retained, verbose;
	unsigned long max_retained;

	struct event_base *base;
	struct loop_signals *sigs;
	struct mqtt *mq;
	struct hub *hub;
	struct http *http;
	struct retained *ret;
	struct evbuffer *tmp;
	struct event *pub_timer;
	struct pending *pending;
	int sub_mid;
	bool warned_retained, connected_once, reconnected;
	uint64_t resub_until;
	uint64_t messages;
	int status, signo;
};

static void
usage(void)
{
	printf(
	    "Usage:\n"
	    " mq2sse [options] -t <filter> [-t <filter>]...\n"
	    "\nServe MQTT messages to browsers as Server-Sent Events.\n"
	    "\nOptions:\n"
	    " -t, --topic <filter>       subscribe to <filter> (repeatable)\n"
	    "     --allow <filter>       filters clients may ask for "
	    "(repeatable; default the -t ones)\n"
	    "     --allow-publish <filter> topics POST /publish may publish "
	    "to (repeatable)\n"
	    "     --data <json|payload>  event data: the JSON record "
	    "(default) or the payload\n"
	    "     --event-type <message|topic> event type (default "
	    "message)\n"
	    "     --no-retained          do not send retained messages to "
	    "new clients\n"
	    "     --max-retained <n>     topics in the retained cache "
	    "(default 100000)\n"
	    " -v, --verbose              a line per client on stderr\n");
	mqconn_usage(stdout);
	httpopt_usage(stdout);
	printf("\n     --help                 display this help and exit\n"
	       "     --version              display version and exit\n"
	       "\nSee mq2sse(1).\n");
	exit(EXIT_OK);
}

static void
parse_args(struct bridge *b, int argc, char **argv)
{
	static const struct option longopts[] = {MQCONN_LONGOPTS,
	    HTTPOPT_LONGOPTS, {"topic", required_argument, NULL, 't'},
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"allow-publish", required_argument, NULL, OPT_ALLOW_PUBLISH},
	    {"data", required_argument, NULL, OPT_DATA},
	    {"event-type", required_argument, NULL, OPT_EVENT_TYPE},
	    {"no-retained", no_argument, NULL, OPT_NO_RETAINED},
	    {"max-retained", required_argument, NULL, OPT_MAX_RETAINED},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
	int c;

	b->max_retained = 100000;
	while ((c = getopt_long(argc, argv,
	            MQCONN_SHORTOPTS HTTPOPT_SHORTOPTS "t:v", longopts,
	            NULL)) != -1) {
		if (mqconn_option(&b->conn, c, optarg))
			continue;
		if (httpopt_option(&b->ho, c, optarg))
			continue;
		switch (c) {
		case 't':
			topic_add_filter(
			    &b->filters, &b->nfilters, optarg, "--topic");
			break;
		case OPT_ALLOW:
			topic_add_filter(
			    &b->allow, &b->nallow, optarg, "--allow");
			b->allow_given = true;
			break;
		case OPT_ALLOW_PUBLISH:
			topic_add_filter(&b->allow_pub, &b->nallow_pub, optarg,
			    "--allow-publish");
			break;
		case OPT_DATA:
			if (strcmp(optarg, "payload") == 0)
				b->data_payload = true;
			else if (strcmp(optarg, "json") == 0)
				b->data_payload = false;
			else
				diag_usage(
				    "--data: '%s' is not json or payload",
				    optarg);
			break;
		case OPT_EVENT_TYPE:
			if (strcmp(optarg, "topic") == 0)
				b->type_topic = true;
			else if (strcmp(optarg, "message") == 0)
				b->type_topic = false;
			else
				diag_usage(
				    "--event-type: '%s' is not message or "
				    "topic",
				    optarg);
			break;
		case OPT_NO_RETAINED:
			b->no_retained = true;
			break;
		case OPT_MAX_RETAINED:
			b->max_retained =
			    opt_uint("--max-retained", optarg, 1, 100000000);
			break;
		case 'v':
			b->verbose = true;
			break;
		case OPT_HELP:
			usage();
			break;
		case OPT_VERSION:
			http_version_print(stdout);
			exit(EXIT_OK);
		default:
			diag_try_help();
		}
	}
	if (optind < argc)
		diag_usage("unexpected argument '%s'", argv[optind]);
	mqconn_finish(&b->conn, 1);
	if (b->conn.url_path != NULL)
		topic_add_filter(
		    &b->filters, &b->nfilters, b->conn.url_path, "--url");
	if (b->nfilters == 0)
		diag_usage("a topic filter is needed (-t or the path of -L)");
	httpopt_finish(&b->ho);
	b->ho.hub.verbose = b->verbose;
	b->ho.http.verbose = b->verbose;
	if (!b->allow_given) {
		for (int i = 0; i < b->nfilters; i++)
			topic_add_filter(
			    &b->allow, &b->nallow, b->filters[i], "-t");
	}
}

/* The event a message becomes: its type and data, in B->tmp. */
static void
to_event(struct bridge *b, const struct mosquitto_message *m,
    const mosquitto_property *props, const char **type, size_t *type_len)
{
	struct evbuffer *out = b->tmp;

	evbuffer_drain(out, evbuffer_get_length(out));
	*type = NULL;
	*type_len = 0;
	if (b->type_topic && sse_field_ok(m->topic, strlen(m->topic))) {
		*type = m->topic;
		*type_len = strlen(m->topic);
	}
	if (!b->data_payload) {
		struct record r;

		record_view_message(&r, m, props);
		jsonrec_encode(&r, out);
	} else if (utf8_is_text(m->payload, (size_t)m->payloadlen)) {
		evbuffer_add(out, m->payload, (size_t)m->payloadlen);
	} else {
		/* Not text: base64, in an event of type "binary". */
		size_t n = b64_encoded_len((size_t)m->payloadlen);
		char *s = xmalloc(n + 1);

		b64_encode(m->payload, (size_t)m->payloadlen, s);
		evbuffer_add(out, s, n);
		free(s);
		*type = "binary";
		*type_len = 6;
	}
}

/* FNV-1a of a payload: enough to tell a resent retained message. */
static uint64_t
checksum(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(1469598103934665603);

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void
on_message(void *arg, const struct mosquitto_message *m,
    const mosquitto_property *props)
{
	struct bridge *b = arg;
	const char *type;
	size_t type_len, len;
	const char *data;
	uint64_t id, sum;
	bool keep;

	b->messages++;
	sum = checksum(m->payload, (size_t)m->payloadlen);
	if (m->retain && !b->no_retained && loop_now_ms() < b->resub_until &&
	    retained_has(b->ret, m->topic, sum))
		return; /* sent again for the resubscription: not news */
	to_event(b, m, props, &type, &type_len);
	len = evbuffer_get_length(b->tmp);
	data = (const char *)evbuffer_pullup(b->tmp, -1);
	if (data == NULL)
		data = "";
	id = hub_publish(b->hub, type, type_len, data, len, -1, m->topic);
	/*
	 * MQTT 3.1.1 brokers clear the retain flag of live messages, so a
	 * retained update cannot be told from a plain message: on a topic the
	 * cache holds, the latest message is taken as its value (empty: gone).
	 */
	keep = m->retain ||
	    (mqtt_protocol(b->mq) != MQTT_PROTOCOL_V5 &&
	        retained_holds(b->ret, m->topic));
	if (keep && !b->no_retained) {
		/* The last-value cache; an empty retained message clears. */
		if (retained_set(b->ret, m->topic, type, type_len,
		        m->payloadlen > 0 ? data : NULL, len, id, sum) &&
		    !b->warned_retained) {
			b->warned_retained = true;
			diag_warn("warning: more than --max-retained %lu "
			          "retained topics: the least recently updated "
			          "are forgotten",
			    b->max_retained);
		}
	}
}

static void
on_connected(void *arg, bool session_present)
{
	struct bridge *b = arg;
	int opts = 0, rc;

	http_set_health(b->http, true, NULL);
	if (b->verbose)
		diag_err("connected to %s", mqconn_peer(&b->conn));
	b->reconnected = b->connected_once;
	b->connected_once = true;
	/* With MQTT 5, live retained publishes keep their flag (the cache). */
	if (mqtt_protocol(b->mq) == MQTT_PROTOCOL_V5)
		opts |= MQTT_SUB_OPT_RETAIN_AS_PUBLISHED;
	rc = mosquitto_subscribe_multiple(mqtt_mosq(b->mq), &b->sub_mid,
	    b->nfilters, b->filters, b->conn.qos, opts, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		diag_err("subscribe: %s", mosquitto_strerror(rc));
	mqtt_kick(b->mq);
}

static void
answer_pending(struct bridge *b, struct pending *p, int code, const char *why)
{
	if (p->req != NULL) {
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(p->req), NULL, NULL);
		if (code == 204)
			evhttp_send_reply(p->req, 204, "No Content", NULL);
		else
			http_reply_text(p->req, code, why);
	}
	free(p);
}

/* Answer every waiting POST with 502 (the broker went away). */
static void
fail_pending(struct bridge *b, const char *why)
{
	struct pending *p;

	while ((p = b->pending) != NULL) {
		b->pending = p->next;
		answer_pending(b, p, 502, why);
	}
}

static void
on_lost(void *arg)
{
	struct bridge *b = arg;

	http_set_health(b->http, false, "broker unavailable");
	fail_pending(b, "the broker connection was lost");
}

static void
on_published(void *arg, int mid, int reason)
{
	struct bridge *b = arg;
	struct pending **pp, *p;

	for (pp = &b->pending; (p = *pp) != NULL; pp = &p->next) {
		if (p->mid != mid)
			continue;
		*pp = p->next;
		if (reason >= 0x80) {
			char why[128];

			snprintf(why, sizeof(why), "the broker refused: %s",
			    mosquitto_reason_string(reason));
			answer_pending(b, p, 502, why);
		} else {
			answer_pending(b, p, 204, NULL);
		}
		return;
	}
}

static void
on_subscribed(void *arg, int mid, int count, const int *granted)
{
	struct bridge *b = arg;

	if (mid != b->sub_mid)
		return;
	if (b->reconnected)
		b->resub_until = loop_now_ms() + RESUB_WINDOW_MS;
	for (int i = 0; i < count; i++)
		if (granted[i] >= 0x80)
			diag_err("subscription to '%s' refused: %s",
			    i < b->nfilters ? b->filters[i] : "?",
			    mosquitto_reason_string(granted[i]));
}

static void
on_fatal(void *arg, int status)
{
	struct bridge *b = arg;

	b->status = status;
	event_base_loopexit(b->base, NULL);
}

static void
on_closed(void *arg)
{
	event_base_loopexit(((struct bridge *)arg)->base, NULL);
}

static void
on_signal(int signo, void *arg)
{
	struct bridge *b = arg;

	if (b->signo != 0) {
		event_base_loopexit(b->base, NULL);
		return;
	}
	b->signo = signo;
	fail_pending(b, "mq2sse is stopping");
	mqtt_disconnect(b->mq);
}

/*
 * The retained messages that match FILTERS go first to a new client, as
 * events with the id just before the replay (the newest id when there is
 * none), so that a reconnection resumes right after them; those that the
 * replay brings anyway are left out.
 */
struct snap {
	struct retained *ret;
	const char *const *filters;
	size_t n;
	struct evbuffer *out;
	uint64_t first_id;
	char id[24];
	size_t id_len;
};

static void
snap_one(void *arg, const char *topic, const char *type, size_t type_len,
    const char *data, size_t data_len, uint64_t id)
{
	struct snap *s = arg;
	size_t i;
	struct sse_out_event ev = {type_len ? type : NULL, type_len, data,
	    data_len, s->id, s->id_len, -1};

	if (id >= s->first_id)
		return;
	for (i = 0; i < s->n; i++)
		if (topic_matches(s->filters[i], topic))
			break;
	if (s->n > 0 && i == s->n)
		return;
	sse_emit(s->out, &ev);
}

static void
prelude(void *arg, struct evbuffer *out, uint64_t first_id)
{
	struct snap *s = arg;

	s->out = out;
	s->first_id = first_id;
	s->id_len =
	    (size_t)snprintf(s->id, sizeof(s->id), "%" PRIu64, first_id - 1);
	retained_each(s->ret, snap_one, s);
}

static void
on_attach(void *arg, struct evhttp_request *req, const char *query,
    const char *last_id, long backlog)
{
	struct bridge *b = arg;
	size_t n;
	char **topics = http_query_all(query, "topic", &n), err[256];
	const char *const *filters;
	size_t nf;

	for (size_t i = 0; i < n; i++) {
		int j;

		if (topics[i] == NULL) {
			http_reply_text(req, 400, "topic: holds %00");
			goto out;
		}
		if (topic_check_sub(topics[i], err, sizeof(err)) == -1) {
			char msg[300];

			snprintf(msg, sizeof(msg), "topic: %s", err);
			http_reply_text(req, 400, msg);
			goto out;
		}
		for (j = 0; j < b->nallow; j++)
			if (topic_within(topics[i], b->allow[j]))
				break;
		if (j == b->nallow) {
			http_reply_text(req, 403, "topic not allowed");
			goto out;
		}
	}
	/* Without ?topic=, what the allow-list covers. */
	if (n > 0) {
		filters = (const char *const *)topics;
		nf = n;
	} else if (b->allow_given) {
		filters = (const char *const *)b->allow;
		nf = (size_t)b->nallow;
	} else {
		filters = NULL;
		nf = 0;
	}
	if (!b->no_retained && last_id == NULL && retained_count(b->ret) > 0) {
		struct snap sn = {b->ret, filters, nf, NULL, 0, "", 0};

		hub_attach(
		    b->hub, req, filters, nf, last_id, backlog, prelude, &sn);
	} else {
		hub_attach(
		    b->hub, req, filters, nf, last_id, backlog, NULL, NULL);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(topics[i]);
	free(topics);
}

static void
on_pub_gone(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;

	p->req = NULL;
}

static void
on_publish(struct evhttp_request *req, void *arg)
{
	struct bridge *b = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	char *topic = http_query_get(query, "topic");
	char *retain = http_query_get(query, "retain"), err[256];
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	const void *payload = len ? evbuffer_pullup(body, -1) : NULL;
	struct pending *p;
	int i, rc, mid = 0;

	if (topic == NULL ||
	    topic_check_pub(topic, strlen(topic), err, sizeof(err)) == -1) {
		http_reply_text(req, 400, topic ? err : "a topic is needed");
		goto out;
	}
	for (i = 0; i < b->nallow_pub; i++)
		if (topic_matches(b->allow_pub[i], topic))
			break;
	if (i == b->nallow_pub) {
		http_reply_text(
		    req, 403, "publishing to this topic is not allowed");
		goto out;
	}
	if (!mqtt_connected(b->mq)) {
		http_reply_text(req, 502, "the broker is unavailable");
		goto out;
	}
	rc = mosquitto_publish_v5(mqtt_mosq(b->mq), &mid, topic, (int)len,
	    payload, 1, retain != NULL && strcmp(retain, "1") == 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		http_reply_text(req, 502, mosquitto_strerror(rc));
		goto out;
	}
	mqtt_kick(b->mq);
	p = xcalloc(1, sizeof(*p));
	p->b = b;
	p->req = req;
	p->mid = mid;
	p->since = loop_now_ms();
	p->next = b->pending;
	b->pending = p;
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(req), on_pub_gone, p);
out:
	free(topic);
	free(retain);
}

/* POSTs the broker did not acknowledge in time get 502. */
static void
on_pub_timer(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	struct pending **pp = &b->pending, *p;
	uint64_t now = loop_now_ms();

	while ((p = *pp) != NULL) {
		if (now - p->since >= PUBLISH_TIMEOUT_MS) {
			*pp = p->next;
			answer_pending(
			    b, p, 502, "no acknowledgement from the broker");
		} else {
			pp = &p->next;
		}
	}
}

static void
metrics(struct evbuffer *out, void *arg)
{
	struct bridge *b = arg;

	evbuffer_add_printf(out,
	    "# HELP mq2sse_broker_connected 1 while the broker connection is "
	    "up.\n"
	    "# TYPE mq2sse_broker_connected gauge\n"
	    "mq2sse_broker_connected %d\n"
	    "# HELP mq2sse_messages_total MQTT messages received.\n"
	    "# TYPE mq2sse_messages_total counter\n"
	    "mq2sse_messages_total %" PRIu64 "\n"
	    "# HELP mq2sse_retained_topics Topics in the retained cache.\n"
	    "# TYPE mq2sse_retained_topics gauge\n"
	    "mq2sse_retained_topics %zu\n",
	    mqtt_connected(b->mq) ? 1 : 0, b->messages, retained_count(b->ret));
}

int
main(int argc, char **argv)
{
	static const struct mqtt_cbs cbs = {
	    .connected = on_connected,
	    .lost = on_lost,
	    .message = on_message,
	    .published = on_published,
	    .subscribed = on_subscribed,
	    .fatal = on_fatal,
	    .closed = on_closed,
	};
	static const struct hub_cbs hcbs = {NULL, NULL};
	struct bridge b;
	struct timeval sec = {1, 0};

	memset(&b, 0, sizeof(b));
	diag_init(argv[0]);
	argv[0] = (char *)(uintptr_t)diag_prog();
	mqconn_init(&b.conn);
	httpopt_init(&b.ho, "mq2sse");
	parse_args(&b, argc, argv);

	b.base = loop_new();
	b.sigs = loop_signals_new(b.base, on_signal, &b);
	b.tmp = evbuffer_new();
	b.ret = retained_new(b.max_retained);
	b.hub = hub_new(b.base, &b.ho.hub, &hcbs, &b);
	b.http = http_new(b.base, &b.ho.http, b.hub);
	http_set_health(b.http, false, "broker unavailable");
	http_set_attach(b.http, on_attach, &b);
	http_set_metrics(b.http, metrics, &b);
	http_add_route(b.http, "/publish", "POST", on_publish, &b);
	b.pub_timer = event_new(b.base, -1, EV_PERSIST, on_pub_timer, &b);
	event_add(b.pub_timer, &sec);
	b.mq = mqtt_new(b.base, &b.conn, &cbs, &b);
	mqtt_set_patient(b.mq);
	mqtt_start(b.mq);
	event_base_dispatch(b.base);

	fail_pending(&b, "mq2sse is stopping");
	loop_signals_free(b.sigs);
	event_del(b.pub_timer);
	hub_close_wait(b.hub, 2000);
	hub_free(b.hub);
	http_free(b.http);
	mqtt_free(b.mq);
	retained_free(b.ret);
	evbuffer_free(b.tmp);
	event_free(b.pub_timer);
	event_base_free(b.base);
	for (int i = 0; i < b.nfilters; i++)
		free(b.filters[i]);
	for (int i = 0; i < b.nallow; i++)
		free(b.allow[i]);
	for (int i = 0; i < b.nallow_pub; i++)
		free(b.allow_pub[i]);
	free(b.filters);
	free(b.allow);
	free(b.allow_pub);
	free(b.ho.http.cors);
	mqconn_cleanup(&b.conn);
	if (b.signo != 0)
		loop_reraise(b.signo);
	return b.status;
}
