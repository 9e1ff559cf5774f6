/*
 * ssecat: read a Server-Sent Events stream and print its events, as data
 * lines, -F templates, JSON Lines or text/event-stream again; reconnect
 * with Last-Event-ID as browsers do.
 *
 * libcurl's multi interface runs inside the libevent loop (sockets and
 * timers handed to libevent), so that output, signals, -W and reconnection
 * timers share one thread with the transfer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/file.h"
#include "common/fmt.h"
#include "common/jsonrec.h"
#include "common/loop.h"
#include "common/opt.h"
#include "common/out_stdout.h"
#include "common/sse_emit.h"
#include "common/sse_parse.h"
#include "common/version.h"
#include "common/xalloc.h"

#define DRAIN_MS 5000
#define RETRY_DEFAULT_MS 3000
#define BACKOFF_MAX_MS 60000
#define FIRST_BACKOFF_MS 500
/* Stop reading the network while this much output waits for stdout. */
#define OUT_HIGH (1024 * 1024)

enum outmode { OUT_DATA, OUT_JSON, OUT_FORMAT, OUT_RAW };

/* What the response of the current attempt turned out to be. */
enum verdict { V_NONE, V_STREAM, V_STOP, V_FAIL };

enum {
	OPT_DATA_JSON = CHAR_MAX + 1,
	OPT_LAST_EVENT_ID,
	OPT_NO_RECONNECT,
	OPT_MAX_RECONNECTS,
	OPT_CONNECT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_EVENT,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_RAW,
	OPT_HELP,
	OPT_VERSION,
};

struct cat {
	/* Options. */
	const char *url;
	enum outmode mode;
	int modes_given;
	struct fmt *fmt;
	char eor;
	bool no_eol;
	char **types;
	int ntypes;
	uint64_t count, timeout_ms;
	struct curl_slist *user_headers;
	bool user_ctype, user_accept;
	const char *user, *method;
	char *body;
	size_t body_len;
	bool has_body, body_json;
	const char *last_event_id;
	bool no_reconnect;
	uint64_t max_reconnects, connect_timeout_ms, idle_timeout_ms;
	uint64_t max_event;
	const char *cacert, *cert, *key;
	bool insecure, verbose;

	/* The loop and the transfer. */
	struct event_base *base;
	struct loop_signals *sigs;
	struct out *out;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct event *curl_timer, *retry_timer, *stop_timer, *w_timer;
	struct event *idle_timer, *attempt_timer;
	struct sse_parser *parser;
	char errbuf[CURL_ERROR_SIZE];
	bool active, paused;

	/* The current attempt. */
	enum verdict verdict;
	long code;
	char reason[64], ctype[128];
	bool location;       /* this response has a Location header */
	bool attempt_events; /* an event arrived during this attempt */
	/*
	 * Default output of one read goes straight into space reserved in the
	 * output buffer: one reservation per read instead of two appends per
	 * event.
	 */
	struct evbuffer_iovec stage;
	size_t staged;
	bool staging;
	bool raw_id;         /* --raw wrote a non-empty id last */
	struct timespec now; /* when the current chunk arrived */

	/* Across attempts. */
	uint64_t start_ms, retry_ms;
	bool ever_connected;
	uint64_t failed;  /* consecutive reconnections that did not connect */
	unsigned backoff; /* consecutive attempts without an event */
	uint64_t printed, skipped;
	bool finishing, abandoned;
	int status, signo;
};

static void
usage(void)
{
	printf(
	    "Usage:\n"
	    " ssecat [options] <url>\n"
	    "\nRead a Server-Sent Events stream and print its events.\n"
	    "\nOutput:\n"
	    " -N, --no-newline           nothing after each event's data\n"
	    " -0, --null                 NUL after each event instead of newline\n"
	    " -j, --json                 one JSON object per event\n"
	    " -F, --format <fmt>         format string (see ssecat(1))\n"
	    "     --raw                  write the events as text/event-stream\n"
	    " -e, --event <type>         print only events of <type> (repeatable)\n"
	    " -C, --count <n>            exit after n events\n"
	    " -W, --timeout <secs>       exit after secs (124 if -C not reached)\n"
	    "\nRequest:\n"
	    " -H, --header <header>      extra request header (repeatable)\n"
	    " -u, --user <user:pass>     HTTP basic authentication\n"
	    " -X, --request <method>     request method\n"
	    " -d, --data <data>          request body (@file, @- for stdin)\n"
	    "     --data-json <data>     JSON request body (@file, @-)\n"
	    "     --last-event-id <id>   Last-Event-ID of the first request\n"
	    "\nConnection:\n"
	    "     --no-reconnect         exit when the stream ends\n"
	    "     --max-reconnects <n>   give up after n failed reconnections\n"
	    "     --connect-timeout <secs> limit of each attempt (default 10)\n"
	    "     --idle-timeout <secs>  reconnect after secs without data\n"
	    "     --max-event <bytes>    skip larger events (default 64M)\n"
	    "     --cacert <file>        CA certificates to verify the server\n"
	    " -k, --insecure             do not verify the server\n"
	    "     --cert <file>          client certificate\n"
	    "     --key <file>           client private key\n"
	    " -v, --verbose              report the connection's life on stderr\n"
	    "\n     --help                 display this help and exit\n"
	    "     --version              display version and exit\n"
	    "\nSee ssecat(1).\n");
	exit(EXIT_OK);
}

static void
set_mode(struct cat *c, enum outmode m)
{
	if (c->modes_given++ > 0 && c->mode != m)
		diag_usage("-j, -F and --raw exclude each other");
	c->mode = m;
}

/* Read FILE (or stdin for "-") whole, byte for byte. */
static char *
slurp(const char *opt, const char *file, size_t *len)
{
	bool in = strcmp(file, "-") == 0;
	char *buf;

	if ((in ? file_read_fd(STDIN_FILENO, SIZE_MAX, &buf, len)
	        : file_read_path(file, SIZE_MAX, &buf, len)) == -1)
		diag_die(EXIT_USAGE, "%s: %s: %s", opt, in ? "<stdin>" : file,
		    strerror(errno));
	return buf;
}

/*
 * -d and --data-json: repeated -d bodies are joined with '&' and repeated
 * --data-json bodies are concatenated, as curl does; mixing them is an
 * error.
 */
static void
set_body(struct cat *c, const char *opt, const char *arg, bool json)
{
	char *part;
	size_t n;

	if (c->has_body && c->body_json != json)
		diag_usage("--data and --data-json exclude each other");
	if (arg[0] == '@') {
		part = slurp(opt, arg + 1, &n);
	} else {
		part = xstrdup(arg);
		n = strlen(arg);
	}
	if (!c->has_body) {
		c->body = part;
		c->body_len = n;
	} else {
		size_t sep = json ? 0 : 1;

		c->body = xrealloc(c->body, c->body_len + sep + n + 1);
		if (sep)
			c->body[c->body_len] = '&';
		memcpy(c->body + c->body_len + sep, part, n);
		c->body_len += sep + n;
		free(part);
	}
	c->has_body = true;
	c->body_json = json;
}

static void
add_header(struct cat *c, const char *h)
{
	const char *colon = strchr(h, ':');
	struct curl_slist *l;

	if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL)
		diag_usage("--header: '%s' is not 'Name: value'", h);
	if ((size_t)(colon - h) == 12 &&
	    strncasecmp(h, "Content-Type", 12) == 0)
		c->user_ctype = true;
	if ((size_t)(colon - h) == 6 && strncasecmp(h, "Accept", 6) == 0)
		c->user_accept = true;
	l = curl_slist_append(c->user_headers, h);
	if (l == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	c->user_headers = l;
}

/* The URL must parse and be http or https (exit 2 before any request). */
static void
check_url(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	CURLUcode rc;
	bool web;

	if (u == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	rc = curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	web = rc == CURLUE_OK &&
	    (strcasecmp(scheme, "http") == 0 ||
	        strcasecmp(scheme, "https") == 0);
	/* Freed before a usage error exits: nothing leaks, even then. */
	curl_free(scheme);
	curl_url_cleanup(u);
	if (rc != CURLUE_OK)
		diag_usage("%s: invalid URL: %s", url, curl_url_strerror(rc));
	if (!web)
		diag_usage("%s: only http and https URLs are supported", url);
}

static void
parse_args(struct cat *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"no-newline", no_argument, NULL, 'N'},
	    {"null", no_argument, NULL, '0'}, {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'F'},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"event", required_argument, NULL, 'e'},
	    {"count", required_argument, NULL, 'C'},
	    {"timeout", required_argument, NULL, 'W'},
	    {"header", required_argument, NULL, 'H'},
	    {"user", required_argument, NULL, 'u'},
	    {"request", required_argument, NULL, 'X'},
	    {"data", required_argument, NULL, 'd'},
	    {"data-json", required_argument, NULL, OPT_DATA_JSON},
	    {"last-event-id", required_argument, NULL, OPT_LAST_EVENT_ID},
	    {"no-reconnect", no_argument, NULL, OPT_NO_RECONNECT},
	    {"max-reconnects", required_argument, NULL, OPT_MAX_RECONNECTS},
	    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"max-event", required_argument, NULL, OPT_MAX_EVENT},
	    {"cacert", required_argument, NULL, OPT_CACERT},
	    {"insecure", no_argument, NULL, 'k'},
	    {"cert", required_argument, NULL, OPT_CERT},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
	char err[256];
	int o;

	c->eor = '\n';
	c->connect_timeout_ms = 10000;
	c->max_event = 64 * 1024 * 1024;
	while ((o = getopt_long(argc, argv, "0C:d:e:F:H:jkNu:vW:X:", longopts,
	            NULL)) != -1) {
		switch (o) {
		case '0':
			c->eor = '\0';
			break;
		case 'C':
			c->count = opt_uint("--count", optarg, 1, UINT64_MAX);
			break;
		case 'd':
			set_body(c, "--data", optarg, false);
			break;
		case OPT_DATA_JSON:
			set_body(c, "--data-json", optarg, true);
			break;
		case 'e':
			c->types = xrealloc(
			    c->types, (size_t)(c->ntypes + 1) * sizeof(char *));
			c->types[c->ntypes++] = optarg;
			break;
		case 'F':
			set_mode(c, OUT_FORMAT);
			fmt_free(c->fmt);
			c->fmt = fmt_compile_fields(
			    optarg, "deiI", false, err, sizeof(err));
			if (c->fmt == NULL)
				diag_usage("--format: %s", err);
			break;
		case 'H':
			add_header(c, optarg);
			break;
		case 'j':
			set_mode(c, OUT_JSON);
			break;
		case 'k':
			c->insecure = true;
			break;
		case 'N':
			c->no_eol = true;
			break;
		case 'u':
			if (strchr(optarg, ':') == NULL)
				diag_usage(
				    "--user: '%s' is not USER:PASS", optarg);
			c->user = optarg;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'W':
			c->timeout_ms = opt_duration_ms(
			    "--timeout", optarg, UINT32_MAX * 1000ull);
			if (c->timeout_ms == 0)
				diag_usage("--timeout: must be more than 0");
			break;
		case 'X':
			if (optarg[0] == '\0' ||
			    strpbrk(optarg, " \r\n") != NULL)
				diag_usage(
				    "--request: invalid method '%s'", optarg);
			c->method = optarg;
			break;
		case OPT_RAW:
			set_mode(c, OUT_RAW);
			break;
		case OPT_LAST_EVENT_ID:
			if (!sse_field_ok(optarg, strlen(optarg)))
				diag_usage(
				    "--last-event-id: line breaks are not "
				    "allowed");
			c->last_event_id = optarg;
			break;
		case OPT_NO_RECONNECT:
			c->no_reconnect = true;
			break;
		case OPT_MAX_RECONNECTS:
			c->max_reconnects =
			    opt_uint("--max-reconnects", optarg, 1, UINT32_MAX);
			break;
		case OPT_CONNECT_TIMEOUT:
			c->connect_timeout_ms = opt_duration_ms(
			    "--connect-timeout", optarg, UINT32_MAX * 1000ull);
			if (c->connect_timeout_ms == 0)
				diag_usage(
				    "--connect-timeout: must be more than 0");
			break;
		case OPT_IDLE_TIMEOUT:
			c->idle_timeout_ms = opt_duration_ms(
			    "--idle-timeout", optarg, UINT32_MAX * 1000ull);
			break;
		case OPT_MAX_EVENT:
			c->max_event =
			    opt_size("--max-event", optarg, SIZE_MAX / 4);
			if (c->max_event == 0)
				diag_usage("--max-event: must be more than 0");
			break;
		case OPT_CACERT:
			c->cacert = optarg;
			break;
		case OPT_CERT:
			c->cert = optarg;
			break;
		case OPT_KEY:
			c->key = optarg;
			break;
		case OPT_HELP:
			usage();
			break;
		case OPT_VERSION:
			version_print(stdout);
			printf("libcurl %s\n",
			    curl_version_info(CURLVERSION_NOW)->version);
			exit(EXIT_OK);
		default:
			diag_try_help();
		}
	}
	if (optind == argc)
		diag_usage("a URL is needed");
	if (argc - optind > 1)
		diag_usage("unexpected argument '%s'", argv[optind + 1]);
	c->url = argv[optind];
	check_url(c->url);
	if (c->key != NULL && c->cert == NULL)
		diag_usage("--key needs --cert");
}

static void
finish(struct cat *c, int status)
{
	if (c->finishing)
		return;
	c->finishing = true;
	c->status = status;
	/* Not from inside a libcurl callback: from the loop, at once. */
	event_active(c->stop_timer, EV_TIMEOUT, 0);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;

	if (c->active) {
		curl_multi_remove_handle(c->multi, c->easy);
		c->active = false;
	}
	event_base_loopbreak(c->base);
}

/* Output. */

static void
put_field(void *arg, char conv, const struct fmt_field *fld)
{
	const struct sse_event *ev = ((const void **)arg)[0];
	const struct timespec *ts = ((const void **)arg)[1];
	char buf[32];

	switch (conv) {
	case 'd':
		fmt_field_put(fld, ev->data, ev->data_len);
		break;
	case 'e':
		fmt_field_put(fld, ev->type, ev->type_len);
		break;
	case 'i':
		fmt_field_put(fld, ev->id, ev->id_len);
		break;
	case 'I':
		jsonrec_iso_utc(ts, buf, sizeof(buf));
		fmt_field_put(fld, buf, strlen(buf));
		break;
	}
}

static void
stage_open(struct cat *c, size_t n)
{
	c->staged = 0;
	c->staging = evbuffer_reserve_space(
	                 out_buffer(c->out), (ev_ssize_t)n, &c->stage, 1) == 1;
}

static void
stage_close(struct cat *c)
{
	if (c->staging) {
		c->staging = false;
		c->stage.iov_len = c->staged;
		evbuffer_commit_space(out_buffer(c->out), &c->stage, 1);
	}
}

static void
print_event(struct cat *c, const struct sse_event *ev)
{
	struct evbuffer *b = out_buffer(c->out);

	switch (c->mode) {
	case OUT_DATA:
		if (c->staging &&
		    c->stage.iov_len - c->staged >= ev->data_len + 1) {
			char *o = (char *)c->stage.iov_base + c->staged;

			memcpy(o, ev->data, ev->data_len);
			o[ev->data_len] = c->eor;
			c->staged += ev->data_len + !c->no_eol;
			break;
		}
		/* An event that grew over several reads. */
		stage_close(c);
		evbuffer_add(b, ev->data, ev->data_len);
		if (!c->no_eol)
			evbuffer_add(b, &c->eor, 1);
		break;
	case OUT_JSON:
		evbuffer_add(b, "{\"event\":", 9);
		json_add_string(b, ev->type, ev->type_len);
		evbuffer_add(b, ",\"data\":", 8);
		json_add_string(b, ev->data, ev->data_len);
		if (ev->id_len > 0) {
			evbuffer_add(b, ",\"id\":", 6);
			json_add_string(b, ev->id, ev->id_len);
		}
		evbuffer_add(b, "}\n", 2);
		break;
	case OUT_FORMAT: {
		const void *args[2] = {ev, &c->now};

		fmt_render_cb(c->fmt, put_field, args, b);
		break;
	}
	case OUT_RAW: {
		/* A parsed id or type never holds CR, LF (or NUL for ids). */
		struct sse_out_event o = {
		    .type = ev->type,
		    .type_len = ev->type_len,
		    .data = ev->data,
		    .data_len = ev->data_len,
		    /* An id line when there is one, and when it was reset. */
		    .id = ev->id_len > 0 || c->raw_id ? ev->id : NULL,
		    .id_len = ev->id_len,
		    .retry = -1,
		};

		sse_emit(b, &o);
		c->raw_id = ev->id_len > 0;
		break;
	}
	}
}

static void
on_event(void *arg, const struct sse_event *ev)
{
	struct cat *c = arg;

	c->attempt_events = true;
	c->backoff = 0;
	if (c->finishing)
		return;
	if (c->ntypes > 0) {
		int i;

		for (i = 0; i < c->ntypes; i++)
			if (strlen(c->types[i]) == ev->type_len &&
			    memcmp(c->types[i], ev->type, ev->type_len) == 0)
				break;
		if (i == c->ntypes)
			return;
	}
	print_event(c, ev);
	if (c->count > 0 && ++c->printed >= c->count)
		finish(c, EXIT_OK);
}

static void
on_retry(void *arg, uint64_t ms)
{
	struct cat *c = arg;

	/* A day at most: enough for any server, and no overflow later. */
	c->retry_ms = ms > 86400000 ? 86400000 : ms;
}

static void
on_too_big(void *arg, size_t size)
{
	struct cat *c = arg;

	c->skipped++;
	diag_err("%s: skipped an event of more than %zu bytes (--max-event "
	         "%llu)",
	    c->url, size, (unsigned long long)c->max_event);
}

static void
on_out_closed(void *arg)
{
	finish(arg, EXIT_OK);
}

static void
on_out_error(void *arg, int err)
{
	struct cat *c = arg;

	c->abandoned = true;
	diag_err("write error: %s", strerror(err));
	finish(c, EXIT_RUNTIME);
}

static void
on_out_drained(void *arg)
{
	struct cat *c = arg;

	if (c->paused && c->active) {
		c->paused = false;
		/* libcurl delivers what it held, then asks for its timer. */
		curl_easy_pause(c->easy, CURLPAUSE_CONT);
		if (c->idle_timeout_ms > 0) {
			struct timeval tv = {
			    (time_t)(c->idle_timeout_ms / 1000),
			    (suseconds_t)(c->idle_timeout_ms % 1000) * 1000};

			evtimer_add(c->idle_timer, &tv);
		}
	}
}

/* The transfer. */

static void
set_timer_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct cat *c = arg;
	size_t len = size * n;
	const char *ctype = NULL;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* The status line: keep the reason phrase for messages. */
		const char *p = memchr(buf, ' ', len), *end = buf + len;

		c->reason[0] = '\0';
		c->location = false;
		if (p != NULL &&
		    (p = memchr(p + 1, ' ', (size_t)(end - p - 1))) != NULL) {
			size_t k = (size_t)(end - p - 1);

			while (k > 0 && (p[k] == '\r' || p[k] == '\n'))
				k--;
			if (k >= sizeof(c->reason))
				k = sizeof(c->reason) - 1;
			memcpy(c->reason, p + 1, k);
			c->reason[k] = '\0';
		}
		return len;
	}
	if (len > 9 && strncasecmp(buf, "location:", 9) == 0)
		c->location = true;
	if (!(len == 2 && buf[0] == '\r') && !(len == 1 && buf[0] == '\n'))
		return len;
	/* The end of a response's header block. */
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->code);
	if (c->code / 100 == 1)
		return len;
	/* libcurl follows it (and reports when there were too many). */
	if (c->code / 100 == 3 && c->location)
		return len;
	curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ctype);
	snprintf(c->ctype, sizeof(c->ctype), "%s", ctype ? ctype : "");
	if (c->code == 204) {
		c->verdict = V_STOP;
		return 0;
	}
	if (c->code != 200) {
		c->verdict = V_FAIL;
		return 0;
	}
	if (ctype == NULL || strncasecmp(ctype, "text/event-stream", 17) != 0 ||
	    (ctype[17] != '\0' && ctype[17] != ';' && ctype[17] != ' ')) {
		c->verdict = V_FAIL;
		return 0;
	}
	c->verdict = V_STREAM;
	c->ever_connected = true;
	c->failed = 0;
	event_del(c->attempt_timer);
	if (c->idle_timeout_ms > 0)
		set_timer_ms(c->idle_timer, c->idle_timeout_ms);
	if (c->verbose) {
		char *url = NULL;

		curl_easy_getinfo(c->easy, CURLINFO_EFFECTIVE_URL, &url);
		diag_err(
		    "connected to %s (HTTP %ld)", url ? url : c->url, c->code);
	}
	return len;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct cat *c = arg;
	size_t len = size * n;

	if (c->finishing)
		return 0;
	if (out_pending(c->out) > OUT_HIGH) {
		/*
		 * stdout is behind: libcurl keeps this data and stops reading
		 * until on_out_drained unpauses, so the server is held up by
		 * TCP rather than memory growing here.
		 */
		c->paused = true;
		event_del(c->idle_timer);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (c->idle_timeout_ms > 0)
		set_timer_ms(c->idle_timer, c->idle_timeout_ms);
	if (c->mode == OUT_FORMAT)
		clock_gettime(CLOCK_REALTIME, &c->now);
	/*
	 * Room for this read's output in one block: appending event by event
	 * would otherwise allocate a small chain per event. The default
	 * output of a read fits in three times its size (invalid bytes
	 * become three-byte U+FFFD).
	 */
	if (c->mode == OUT_DATA)
		stage_open(c, 3 * len + 64);
	else
		evbuffer_expand(out_buffer(c->out), len + len / 8 + 1024);
	sse_parser_feed(c->parser, buf, len);
	stage_close(c);
	/* libcurl may read many times before returning: write as we go. */
	out_commit(c->out);
	return len;
}

static void
build_headers(struct cat *c)
{
	const char *id = sse_parser_last_id(c->parser);
	struct curl_slist *h = NULL;
	char *line;

	if (!c->user_accept)
		h = curl_slist_append(h, "Accept: text/event-stream");
	h = curl_slist_append(h, "Cache-Control: no-cache");
	if (c->has_body && !c->user_ctype)
		h = curl_slist_append(h,
		    c->body_json
		        ? "Content-Type: application/json"
		        : "Content-Type: application/x-www-form-urlencoded");
	if (id[0] != '\0') {
		size_t n = strlen(id) + 16;

		line = xmalloc(n);
		snprintf(line, n, "Last-Event-ID: %s", id);
		h = curl_slist_append(h, line);
		free(line);
	}
	for (struct curl_slist *u = c->user_headers; u != NULL; u = u->next)
		h = curl_slist_append(h, u->data);
	if (h == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	curl_slist_free_all(c->headers);
	c->headers = h;
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, h);
}

static void
attempt(struct cat *c)
{
	CURLMcode rc;

	c->verdict = V_NONE;
	c->code = 0;
	c->reason[0] = c->ctype[0] = '\0';
	c->errbuf[0] = '\0';
	c->attempt_events = false;
	c->paused = false;
	sse_parser_reset(c->parser);
	build_headers(c);
	rc = curl_multi_add_handle(c->multi, c->easy);
	if (rc != CURLM_OK)
		diag_die(EXIT_RUNTIME, "curl: %s", curl_multi_strerror(rc));
	c->active = true;
	set_timer_ms(c->attempt_timer, c->connect_timeout_ms);
}

static void
on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;

	if (!c->finishing)
		attempt(c);
}

static uint64_t
jitter(uint64_t ms)
{
	/* Three quarters to all of MS, so that clients spread out. */
	return ms - (ms / 4) * (uint64_t)(random() % 1000) / 1000;
}

static void
reconnect_later(struct cat *c, const char *why)
{
	uint64_t ms;

	if (!c->ever_connected) {
		uint64_t spent = loop_now_ms() - c->start_ms, left;

		if (spent >= c->connect_timeout_ms) {
			diag_err("%s", why);
			finish(c, EXIT_CONNECT);
			return;
		}
		left = c->connect_timeout_ms - spent;
		ms = FIRST_BACKOFF_MS << (c->backoff < 7 ? c->backoff : 7);
		ms = jitter(ms);
		if (ms > left)
			ms = left;
	} else {
		unsigned k = c->backoff < 16 ? c->backoff : 16;
		uint64_t cap =
		    c->retry_ms > BACKOFF_MAX_MS ? c->retry_ms : BACKOFF_MAX_MS;

		ms = c->retry_ms << k;
		if (ms > cap)
			ms = cap;
		if (k > 0)
			ms = jitter(ms);
	}
	if (c->verbose)
		diag_err(
		    "%s; reconnecting in %llu ms", why, (unsigned long long)ms);
	set_timer_ms(c->retry_timer, ms);
}

static const char *
reason(struct cat *c)
{
	static const struct {
		long code;
		const char *text;
	} texts[] = {{400, "Bad Request"}, {401, "Unauthorized"},
	    {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
	    {406, "Not Acceptable"}, {408, "Request Timeout"}, {410, "Gone"},
	    {429, "Too Many Requests"}, {500, "Internal Server Error"},
	    {502, "Bad Gateway"}, {503, "Service Unavailable"},
	    {504, "Gateway Timeout"}};

	if (c->reason[0] != '\0')
		return c->reason;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == c->code)
			return texts[i].text;
	return "";
}

/* TLS problems that another attempt will not solve. */
static bool
tls_fatal(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
	    rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
	    rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_CIPHER ||
	    rc == CURLE_SSL_ENGINE_NOTFOUND;
}

/* The attempt ended with RC (WHY describes it when it was not libcurl). */
static void
attempt_done(struct cat *c, CURLcode rc, const char *why)
{
	char msg[CURL_ERROR_SIZE + 64];

	if (c->active) {
		curl_multi_remove_handle(c->multi, c->easy);
		c->active = false;
	}
	event_del(c->attempt_timer);
	event_del(c->idle_timer);
	if (c->finishing)
		return;
	if (why == NULL)
		why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
	if (!c->attempt_events)
		c->backoff++;
	switch (c->verdict) {
	case V_STOP:
		if (c->verbose)
			diag_err("stopped by the server (HTTP 204)");
		finish(c, EXIT_OK);
		return;
	case V_FAIL:
		if (c->code != 200)
			diag_err("%s: HTTP %ld%s%s", c->url, c->code,
			    reason(c)[0] ? " " : "", reason(c));
		else
			diag_err("%s: unexpected content type %s", c->url,
			    c->ctype[0] ? c->ctype : "(none)");
		finish(c,
		    c->code == 401 || c->code == 403 ? EXIT_CONNECT
		                                     : EXIT_RUNTIME);
		return;
	case V_STREAM:
		if (c->no_reconnect) {
			if (rc != CURLE_OK)
				diag_err("%s: %s", c->url, why);
			else if (c->verbose)
				diag_err("stream ended");
			finish(c, rc == CURLE_OK ? EXIT_OK : EXIT_RUNTIME);
			return;
		}
		if (rc == CURLE_OK)
			reconnect_later(c, "stream ended");
		else {
			snprintf(msg, sizeof(msg), "%s: %s", c->url, why);
			reconnect_later(c, msg);
		}
		return;
	case V_NONE:
		break;
	}
	if (rc == CURLE_TOO_MANY_REDIRECTS) {
		diag_err("%s: %s", c->url, why);
		finish(c, EXIT_RUNTIME);
		return;
	}
	if (tls_fatal(rc)) {
		diag_err("%s: %s", c->url, why);
		finish(c, EXIT_CONNECT);
		return;
	}
	snprintf(msg, sizeof(msg), "%s: %s", c->url, why);
	if (!c->ever_connected) {
		reconnect_later(c, msg);
		return;
	}
	c->failed++;
	if (c->max_reconnects > 0 && c->failed >= c->max_reconnects) {
		diag_err("%s; giving up after %llu reconnections", msg,
		    (unsigned long long)c->failed);
		finish(c, EXIT_CONNECT);
		return;
	}
	reconnect_later(c, msg);
}

static void
check_done(struct cat *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			attempt_done(c, m->data.result, NULL);
}

static void
on_attempt_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;
	char why[96];

	snprintf(why, sizeof(why), "no response within %llu ms",
	    (unsigned long long)c->connect_timeout_ms);
	attempt_done(c, CURLE_OPERATION_TIMEDOUT, why);
}

static void
on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;
	char why[96];

	snprintf(why, sizeof(why), "nothing received for %llu ms",
	    (unsigned long long)c->idle_timeout_ms);
	attempt_done(c, CURLE_OPERATION_TIMEDOUT, why);
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	check_done(c);
}

static void
on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int
curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct cat *c = arg;
	struct event *ev = sockp;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	if (ev == NULL) {
		ev = event_new(c->base, s, 0, on_socket_event, c);
		curl_multi_assign(c->multi, s, ev);
	} else {
		event_del(ev);
	}
	event_assign(ev, c->base, s,
	    (short)(EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	        (what & CURL_POLL_OUT ? EV_WRITE : 0)),
	    on_socket_event, c);
	event_priority_set(ev, LOOP_PRIO_IO);
	event_add(ev, NULL);
	return 0;
}

static int
curl_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct cat *c = arg;

	if (ms < 0)
		event_del(c->curl_timer);
	else
		set_timer_ms(c->curl_timer, (uint64_t)ms);
	return 0;
}

static void
on_w_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;

	if (!c->ever_connected) {
		diag_err("%s: %s", c->url,
		    c->errbuf[0] ? c->errbuf
		                 : "not connected within --timeout");
		finish(c, EXIT_CONNECT);
	} else {
		finish(c,
		    c->count > 0 && c->printed < c->count ? EXIT_TIMEOUT
		                                          : EXIT_OK);
	}
}

static void
on_signal(int signo, void *arg)
{
	struct cat *c = arg;

	c->signo = signo;
	finish(c, EXIT_OK);
}

static void
setup_easy(struct cat *c)
{
	CURL *e = curl_easy_init();
	char ua[64];

	if (e == NULL)
		diag_die(EXIT_RUNTIME, "curl: cannot create a transfer");
	c->easy = e;
	snprintf(ua, sizeof(ua), "ssecat/%s", PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_DEFAULT_PROTOCOL, "http");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 20L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/*
	 * Every attempt on a new connection: libcurl would otherwise send a
	 * request again by itself when a kept-alive connection turns out
	 * dead, so one attempt could send a body twice and escape the count.
	 */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(c->connect_timeout_ms > LONG_MAX ? LONG_MAX
	                                            : c->connect_timeout_ms));
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	if (c->user != NULL) {
		curl_easy_setopt(e, CURLOPT_USERPWD, c->user);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	}
	if (c->has_body) {
		curl_easy_setopt(
		    e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
	}
	if (c->method != NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	if (c->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
	if (c->key != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
}

int
main(int argc, char **argv)
{
	static const struct out_cbs ocbs = {
	    on_out_closed, on_out_error, on_out_drained};
	static const struct sse_parse_cbs pcbs = {
	    on_event, on_retry, on_too_big};
	struct cat c;
	int status;

	memset(&c, 0, sizeof(c));
	diag_init(argv[0]);
	argv[0] = (char *)(uintptr_t)diag_prog();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		diag_die(EXIT_RUNTIME, "curl: initialisation failed");
	parse_args(&c, argc, argv);
	/*
	 * Output blocks of a few hundred KiB are allocated and freed for every
	 * read: served from a fresh mmap each time, their page faults cost
	 * more than the parsing. Keep them in the heap, and the heap's top.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	srandom((unsigned)(time(NULL) ^ getpid()));

	c.base = loop_new();
	c.out = out_new(c.base, STDOUT_FILENO, &ocbs, &c);
	c.sigs = loop_signals_new(c.base, on_signal, &c);
	c.curl_timer = evtimer_new(c.base, on_curl_timer, &c);
	c.retry_timer = evtimer_new(c.base, on_retry_timer, &c);
	c.stop_timer = evtimer_new(c.base, on_stop, &c);
	c.w_timer = evtimer_new(c.base, on_w_timer, &c);
	c.idle_timer = evtimer_new(c.base, on_idle_timer, &c);
	c.attempt_timer = evtimer_new(c.base, on_attempt_timer, &c);
	c.parser = sse_parser_new((size_t)c.max_event, &pcbs, &c);
	if (c.last_event_id != NULL)
		sse_parser_set_id(c.parser, c.last_event_id);
	c.retry_ms = RETRY_DEFAULT_MS;
	c.multi = curl_multi_init();
	if (c.multi == NULL)
		diag_die(EXIT_RUNTIME, "curl: cannot create a transfer");
	curl_multi_setopt(c.multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(c.multi, CURLMOPT_SOCKETDATA, &c);
	curl_multi_setopt(c.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(c.multi, CURLMOPT_TIMERDATA, &c);
	setup_easy(&c);

	c.start_ms = loop_now_ms();
	if (c.timeout_ms > 0)
		set_timer_ms(c.w_timer, c.timeout_ms);
	attempt(&c);
	event_base_dispatch(c.base);

	status = c.status;
	if (c.signo != 0) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	loop_signals_free(c.sigs);
	if (!c.abandoned &&
	    out_flush_blocking(c.out, c.signo ? DRAIN_MS : -1) == -1 &&
	    status == EXIT_OK)
		status = EXIT_RUNTIME;
	if (c.skipped > 0 &&
	    (status == EXIT_OK || status == EXIT_CONNECT ||
	        status == EXIT_TIMEOUT))
		status = EXIT_RUNTIME;
	if (c.active)
		curl_multi_remove_handle(c.multi, c.easy);
	curl_easy_cleanup(c.easy);
	curl_multi_cleanup(c.multi);
	curl_slist_free_all(c.headers);
	curl_slist_free_all(c.user_headers);
	curl_global_cleanup();
	out_free(c.out);
	sse_parser_free(c.parser);
	event_free(c.curl_timer);
	event_free(c.retry_timer);
	event_free(c.stop_timer);
	event_free(c.w_timer);
	event_free(c.idle_timer);
	event_free(c.attempt_timer);
	event_base_free(c.base);
	fmt_free(c.fmt);
	free(c.types);
	free(c.body);
	if (c.signo != 0)
		loop_reraise(c.signo);
	return status;
}
