/*
 * ssepush: serve stdin (or a command's output) to every connected browser
 * as Server-Sent Events, with replay, flow control and a viewer page.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/http.h"
#include "common/in_stdin.h"
#include "common/loop.h"
#include "common/opt.h"
#include "common/sse_emit.h"
#include "common/sse_hub.h"
#include "common/sse_parse.h"
#include "common/version.h"
#include "common/xalloc.h"

/* --exit-on-eof waits at most this long for slow clients. */
#define EXIT_DRAIN_MS 5000

enum inmode { IN_LINES, IN_NULS, IN_JSON, IN_RAW };

enum {
	OPT_RAW = HTTPOPT_END,
	OPT_MAX_EVENT,
	OPT_EXIT_ON_EOF,
	OPT_HELP,
	OPT_VERSION,
};

struct push {
	struct httpopts ho;
	enum inmode mode;
	int modes_given;
	const char *type;
	size_t max_event;
	bool exit_on_eof, verbose;
	char **cmd;
	const char *input_name;

	struct event_base *base;
	struct loop_signals *sigs;
	struct hub *hub;
	struct http *http;
	struct in_stdin *in;
	struct sse_parser *raw;
	struct event *drain_timer, *chld;
	uint64_t drain_start;
	pid_t child;
	int child_status; /* -1 while running */
	bool eof, bad;
	unsigned long record_no;
	int status, signo;
};

static void
usage(void)
{
	printf("Usage:\n"
	       " ssepush [options] [-- <command> [<arg>...]]\n"
	       "\nServe stdin (or the output of <command>) to browsers as "
	       "Server-Sent Events.\n"
	       "\nInput:\n"
	       "                            each line is an event's data "
	       "(default)\n"
	       " -0, --null                 NUL-terminated records\n"
	       " -j, --json                 JSON Lines: {\"data\":..., "
	       "\"event\":..., \"retry\":...},\n"
	       "                            or mqsub -j records (sent whole)\n"
	       "     --raw                  text/event-stream (as ssecat --raw "
	       "writes)\n"
	       " -e, --event <type>         event type of line and NUL input\n"
	       "     --max-event <size>     skip longer records (default 16M)\n"
	       "     --exit-on-eof          exit when the input ends and "
	       "clients have it\n"
	       " -v, --verbose              a line per client on stderr\n");
	httpopt_usage(stdout);
	printf("\n     --help                 display this help and exit\n"
	       "     --version              display version and exit\n"
	       "\nSee ssepush(1).\n");
	exit(EXIT_OK);
}

static void
set_mode(struct push *p, enum inmode m)
{
	if (p->modes_given++ > 0 && p->mode != m)
		diag_usage("-0, -j and --raw exclude each other");
	p->mode = m;
}

static void
parse_args(struct push *p, int argc, char **argv)
{
	static const struct option longopts[] = {HTTPOPT_LONGOPTS,
	    {"null", no_argument, NULL, '0'}, {"json", no_argument, NULL, 'j'},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"event", required_argument, NULL, 'e'},
	    {"max-event", required_argument, NULL, OPT_MAX_EVENT},
	    {"exit-on-eof", no_argument, NULL, OPT_EXIT_ON_EOF},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
	int c;

	p->max_event = 16 * 1024 * 1024;
	/* "+": the command's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+" HTTPOPT_SHORTOPTS "0je:v",
	            longopts, NULL)) != -1) {
		if (httpopt_option(&p->ho, c, optarg))
			continue;
		switch (c) {
		case '0':
			set_mode(p, IN_NULS);
			break;
		case 'j':
			set_mode(p, IN_JSON);
			break;
		case OPT_RAW:
			set_mode(p, IN_RAW);
			break;
		case 'e':
			if (!sse_field_ok(optarg, strlen(optarg)))
				diag_usage("--event: line breaks are not "
				           "allowed");
			p->type = optarg;
			break;
		case OPT_MAX_EVENT:
			p->max_event =
			    opt_size("--max-event", optarg, SIZE_MAX / 4);
			if (p->max_event == 0)
				diag_usage("--max-event: must be more than 0");
			break;
		case OPT_EXIT_ON_EOF:
			p->exit_on_eof = true;
			break;
		case 'v':
			p->verbose = true;
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
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0)
			diag_usage("unexpected argument '%s' (a command goes "
			           "after --)",
			    argv[optind]);
		p->cmd = argv + optind;
	}
	if (p->type != NULL && (p->mode == IN_JSON || p->mode == IN_RAW))
		diag_usage("--event applies to line and NUL input only");
	httpopt_finish(&p->ho);
	p->ho.hub.verbose = p->verbose;
	p->ho.http.verbose = p->verbose;
}

static void
bad_record(struct push *p, unsigned long n, const char *why)
{
	p->bad = true;
	diag_err("%s:%lu: %s", p->input_name, n, why);
}

static void
publish(struct push *p, const char *type, size_t tlen, const char *data,
    size_t dlen, int64_t retry)
{
	hub_publish(p->hub, type, tlen, data, dlen, retry, NULL);
}

/* JSON input: where the text of a top-level member's value lies. */
static const char *
skip_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return s;
}

static const char *
skip_string(const char *s, const char *e)
{
	for (s++; s < e && *s != '"'; s++)
		if (*s == '\\')
			s++;
	return s < e ? s + 1 : e;
}

static const char *
skip_value(const char *s, const char *e)
{
	int depth = 0;

	if (s < e && *s == '"')
		return skip_string(s, e);
	if (s < e && (*s == '{' || *s == '[')) {
		while (s < e) {
			if (*s == '"') {
				s = skip_string(s, e);
				continue;
			}
			if (*s == '{' || *s == '[')
				depth++;
			else if ((*s == '}' || *s == ']') && --depth == 0)
				return s + 1;
			s++;
		}
		return e;
	}
	/* A number, true, false or null. */
	while (s < e && *s != ',' && *s != '}' && *s != ']' && *s != ' ' &&
	    *s != '\t' && *s != '\r' && *s != '\n')
		s++;
	return s;
}

/* The value text of member KEY of the (valid) JSON object in S..E. */
static bool
member_span(const char *s, const char *e, const char *key, const char **vs,
    const char **ve)
{
	size_t kl = strlen(key);

	s = skip_ws(s, e);
	if (s == e || *s != '{')
		return false;
	s++;
	for (;;) {
		const char *k, *kend;

		s = skip_ws(s, e);
		if (s == e || *s != '"')
			return false;
		k = s + 1;
		s = skip_string(s, e);
		kend = s - 1;
		s = skip_ws(s, e);
		if (s == e || *s != ':')
			return false;
		s = skip_ws(s + 1, e);
		*vs = s;
		s = skip_value(s, e);
		*ve = s;
		if ((size_t)(kend - k) == kl && memcmp(k, key, kl) == 0)
			return true;
		s = skip_ws(s, e);
		if (s == e || *s != ',')
			return false;
		s++;
	}
}

/*
 * A record as mqsub -j writes it: a string "topic" and a "payload" or
 * "payload_b64", and no "data".
 */
static bool
is_mqsub_record(const cJSON *o)
{
	return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "topic")) &&
	    (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "payload")) ||
	        cJSON_IsString(
	            cJSON_GetObjectItemCaseSensitive(o, "payload_b64")));
}

static void
json_record(struct push *p, const char *line, size_t len, unsigned long n)
{
	const char *end = NULL, *vs, *ve;
	/* cJSON wants the terminating NUL to refuse trailing text. */
	char *text = xmalloc(len + 1);
	cJSON *o, *d, *ev, *rt;
	const char *type = NULL;
	int64_t retry = -1;

	memcpy(text, line, len);
	text[len] = '\0';
	line = text;
	o = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (o == NULL || !cJSON_IsObject(o)) {
		bad_record(
		    p, n, o == NULL ? "not valid JSON" : "not a JSON object");
		cJSON_Delete(o);
		free(text);
		return;
	}
	d = cJSON_GetObjectItemCaseSensitive(o, "data");
	ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	rt = cJSON_GetObjectItemCaseSensitive(o, "retry");
	if (d == NULL && is_mqsub_record(o)) {
		/* mqsub -j | ssepush -j: the record is the data, as in mq2sse. */
		publish(p, NULL, 0, line, len, -1);
		goto out;
	}
	if (d == NULL) {
		bad_record(p, n, "no \"data\"");
		goto out;
	}
	if (ev != NULL && !cJSON_IsNull(ev)) {
		if (!cJSON_IsString(ev)) {
			bad_record(p, n, "\"event\" is not a string");
			goto out;
		}
		type = ev->valuestring;
		if (!sse_field_ok(type, strlen(type))) {
			bad_record(p, n, "\"event\" holds a line break");
			goto out;
		}
	}
	if (rt != NULL) {
		if (!cJSON_IsNumber(rt) || rt->valuedouble < 0 ||
		    rt->valuedouble > 86400000 ||
		    rt->valuedouble != (double)(int64_t)rt->valuedouble) {
			bad_record(
			    p, n, "\"retry\" is not a whole number of ms");
			goto out;
		}
		retry = (int64_t)rt->valuedouble;
	}
	if (!member_span(line, line + len, "data", &vs, &ve)) {
		bad_record(p, n, "no \"data\"");
		goto out;
	}
	if (cJSON_IsString(d)) {
		/* cJSON ends a string at \u0000: refuse rather than cut. */
		for (const char *q = vs; q + 6 <= ve; q++) {
			if (*q == '\\' && q[1] == '\\') {
				q++;
			} else if (*q == '\\' && memcmp(q, "\\u0000", 6) == 0) {
				bad_record(p, n, "\"data\" holds U+0000");
				goto out;
			}
		}
		publish(p, type, type ? strlen(type) : 0, d->valuestring,
		    strlen(d->valuestring), retry);
	} else {
		/* Any other value goes out as its own JSON text. */
		publish(p, type, type ? strlen(type) : 0, vs, (size_t)(ve - vs),
		    retry);
	}
out:
	cJSON_Delete(o);
	free(text);
}

static void
on_raw_event(void *arg, const struct sse_event *ev)
{
	struct push *p = arg;

	publish(p, ev->type, ev->type_len, ev->data, ev->data_len, -1);
}

static void
on_raw_too_big(void *arg, size_t size)
{
	struct push *p = arg;

	p->bad = true;
	diag_err("%s: skipped an event of more than %zu bytes (--max-event)",
	    p->input_name, size);
}

static void
on_record(void *arg, const char *data, size_t len, unsigned long n)
{
	struct push *p = arg;

	switch (p->mode) {
	case IN_LINES:
		if (len > 0 && data[len - 1] == '\r')
			len--;
		/* FALLTHROUGH */
	case IN_NULS:
		publish(
		    p, p->type, p->type ? strlen(p->type) : 0, data, len, -1);
		break;
	case IN_JSON:
		json_record(p, data, len, n);
		break;
	case IN_RAW:
		sse_parser_feed(p->raw, data, len);
		break;
	}
}

static void
on_too_long(void *arg, unsigned long n)
{
	struct push *p = arg;
	char why[96];

	snprintf(why, sizeof(why),
	    "longer than --max-event (%zu bytes), "
	    "skipped",
	    p->max_event);
	bad_record(p, n, why);
}

static void
finish(struct push *p)
{
	event_base_loopbreak(p->base);
}

static void
on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct push *p = arg;
	struct timeval tv = {0, 20000};

	if (p->cmd != NULL && p->child_status == -1 && p->signo == 0) {
		evtimer_add(p->drain_timer, &tv); /* the command's status */
		return;
	}
	if (hub_all_sent(p->hub) ||
	    loop_now_ms() - p->drain_start >= EXIT_DRAIN_MS) {
		finish(p);
		return;
	}
	evtimer_add(p->drain_timer, &tv);
}

static void
on_eof(void *arg)
{
	struct push *p = arg;
	static const struct timeval zero = {0, 0};

	p->eof = true;
	if (p->exit_on_eof) {
		p->drain_start = loop_now_ms();
		evtimer_add(p->drain_timer, &zero);
	}
}

static void
on_in_error(void *arg, int err)
{
	struct push *p = arg;

	diag_err("read %s: %s", p->input_name, strerror(err));
	p->bad = true;
	on_eof(p);
}

static void
on_flow(void *arg, bool open)
{
	struct push *p = arg;

	if (open)
		in_resume(p->in);
	else
		in_pause(p->in);
}

/*
 * SIGINT/SIGTERM: stop reading, give the clients what was accepted (at
 * most 5 s, as SPEC section 1 says), then die by the signal. A second
 * signal (after loop's 200 ms grace) ends it at once.
 */
static void
on_signal(int signo, void *arg)
{
	struct push *p = arg;
	static const struct timeval zero = {0, 0};

	if (p->child > 0 && p->child_status == -1)
		kill(p->child, SIGTERM);
	if (p->signo != 0) {
		finish(p);
		return;
	}
	p->signo = signo;
	in_stop(p->in);
	p->drain_start = loop_now_ms();
	evtimer_add(p->drain_timer, &zero);
}

static void
on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct push *p = arg;
	int st;

	if (p->child > 0 && p->child_status == -1 &&
	    waitpid(p->child, &st, WNOHANG) == p->child)
		p->child_status = st;
}

/* Start COMMAND with its stdout on a pipe; returns the pipe's read end. */
static int
start_command(struct push *p)
{
	int fds[2];

	if (pipe(fds) == -1)
		diag_die(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	p->child = fork();
	if (p->child == -1)
		diag_die(EXIT_RUNTIME, "fork: %s", strerror(errno));
	if (p->child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		signal(SIGPIPE, SIG_DFL);
		execvp(p->cmd[0], p->cmd);
		fprintf(stderr, "%s: %s: %s\n", diag_prog(), p->cmd[0],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(fds[1]);
	return fds[0];
}

int
main(int argc, char **argv)
{
	static const struct in_cbs icbs = {
	    on_record, on_too_long, on_eof, on_in_error};
	static const struct hub_cbs hcbs = {on_flow, NULL};
	static const struct sse_parse_cbs rcbs = {
	    on_raw_event, NULL, on_raw_too_big};
	static const enum in_mode modes[] = {
	    [IN_LINES] = IN_LINE,
	    [IN_NULS] = IN_NUL,
	    [IN_JSON] = IN_LINE,
	    [IN_RAW] = IN_CHUNK,
	};
	struct push p;
	int fd = STDIN_FILENO, status;

	memset(&p, 0, sizeof(p));
	diag_init(argv[0]);
	argv[0] = (char *)(uintptr_t)diag_prog();
	httpopt_init(&p.ho, "ssepush");
	parse_args(&p, argc, argv);
	p.child_status = -1;
	p.input_name = "<stdin>";

	p.base = loop_new();
	p.sigs = loop_signals_new(p.base, on_signal, &p);
	p.hub = hub_new(p.base, &p.ho.hub, &hcbs, &p);
	p.http = http_new(p.base, &p.ho.http, p.hub);
	p.drain_timer = evtimer_new(p.base, on_drain_timer, &p);
	if (p.cmd != NULL) {
		p.chld = evsignal_new(p.base, SIGCHLD, on_sigchld, &p);
		event_add(p.chld, NULL);
		fd = start_command(&p);
		p.input_name = p.cmd[0];
	}
	if (p.mode == IN_RAW)
		p.raw = sse_parser_new(p.max_event, &rcbs, &p);
	p.in = in_new(p.base, fd, modes[p.mode], p.max_event, &icbs, &p);
	event_base_dispatch(p.base);

	in_stop(p.in);
	status = p.bad ? EXIT_RUNTIME : EXIT_OK;
	if (p.cmd != NULL && p.exit_on_eof && p.signo == 0) {
		if (p.child_status == -1 &&
		    waitpid(p.child, &p.child_status, 0) != p.child)
			p.child_status = 0;
		if (WIFEXITED(p.child_status))
			status = WEXITSTATUS(p.child_status);
		else if (WIFSIGNALED(p.child_status))
			status = 128 + WTERMSIG(p.child_status);
		if (status == EXIT_OK && p.bad)
			status = EXIT_RUNTIME;
	}
	/* Clients see a clean end of the stream, not a cut. */
	hub_close_wait(p.hub, 2000);
	hub_free(p.hub);
	http_free(p.http);
	in_free(p.in);
	sse_parser_free(p.raw);
	event_free(p.drain_timer);
	if (p.chld != NULL)
		event_free(p.chld);
	loop_signals_free(p.sigs);
	event_base_free(p.base);
	free(p.ho.http.cors);
	if (p.signo != 0)
		loop_reraise(p.signo);
	return status;
}
