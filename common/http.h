/*
 * The HTTP side of ssepush and mq2sse, on libevent's evhttp: GET /events
 * (handed to the SSE hub), GET / (the viewer page), /healthz, /metrics,
 * CORS preflights, the token, --max-clients, TLS, and routes a tool adds
 * (mq2sse's POST /publish). No HTTP parsing of our own.
 */
#ifndef MQSSE_HTTP_H
#define MQSSE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/sse_hub.h"

struct http_cfg {
	const char *listen; /* [ADDR]:PORT, port 0 for a free one */
	const char *token;  /* NULL: none */
	const char **cors;  /* allowed origins ("*": any) */
	int ncors;
	const char *tls_cert, *tls_key;
	unsigned long max_clients;
	bool ui;
	const char *mode; /* "ssepush" or "mq2sse": for the viewer page */
	unsigned long backlog;
	bool verbose;
};

struct http;

/*
 * Listen as CFG says and serve the events of HUB. Exits with a message
 * (status 1) when the address cannot be used or TLS cannot be set up.
 * Prints "PROG: listening on URL" to stderr.
 */
struct http *http_new(
    struct event_base *base, const struct http_cfg *cfg, struct hub *hub);
void http_free(struct http *ht);
/* The URL printed at start. */
const char *http_url(const struct http *ht);

/* /healthz answers 503 with REASON while not healthy (mq2sse). */
void http_set_health(struct http *ht, bool ok, const char *reason);

/*
 * A route of the tool's own: requests for PATH with METHOD go to CB, after
 * the token and CORS checks. CB must answer the request.
 */
void http_add_route(struct http *ht, const char *path, const char *method,
    void (*cb)(struct evhttp_request *req, void *arg), void *arg);

/*
 * Who takes a GET /events (after the token and --max-clients checks):
 * by default every client gets every event (hub_attach without filters).
 * mq2sse reads ?topic= and sends retained messages first. CB must answer
 * or attach REQ.
 */
void http_set_attach(struct http *ht,
    void (*cb)(void *arg, struct evhttp_request *req, const char *query,
        const char *last_id, long backlog),
    void *arg);

/*
 * Extra lines for /metrics (Prometheus text, each ending in \n); called
 * at every scrape.
 */
void http_set_metrics(
    struct http *ht, void (*cb)(struct evbuffer *out, void *arg), void *arg);

/*
 * The first value of query parameter NAME in QUERY (NULL if absent, or if
 * it holds %00), percent-decoded, with '+' kept as is (not a space): a new
 * string.
 */
char *http_query_get(const char *query, const char *name);
/*
 * Every value of NAME, in order; *N gets the count; a value holding %00 is
 * NULL. Free each and the array.
 */
char **http_query_all(const char *query, const char *name, size_t *n);

/* --version of the HTTP tools: the shared lines, then OpenSSL's. */
void http_version_print(FILE *fp);

/* Answer REQ with CODE, its reason phrase and a one-line text body. */
void http_reply_text(struct evhttp_request *req, int code, const char *text);

/*
 * The HTTP options that ssepush and mq2sse share (SPEC section 6): a tool
 * puts HTTPOPT_LONGOPTS in its long options and HTTPOPT_SHORTOPTS in its
 * short ones, and hands every option to httpopt_option() first.
 */
enum {
	HTTPOPT_HISTORY = 0x200, /* after mqconn's codes (mq2sse has both) */
	HTTPOPT_HISTORY_BYTES,
	HTTPOPT_BACKLOG,
	HTTPOPT_HEARTBEAT,
	HTTPOPT_RETRY,
	HTTPOPT_CORS,
	HTTPOPT_TOKEN,
	HTTPOPT_TLS_CERT,
	HTTPOPT_TLS_KEY,
	HTTPOPT_MAX_CLIENTS,
	HTTPOPT_CLIENT_BUFFER,
	HTTPOPT_CLIENT_TIMEOUT,
	HTTPOPT_NO_UI,
	HTTPOPT_END
};

#define HTTPOPT_SHORTOPTS "l:"

#define HTTPOPT_LONGOPTS                                                       \
	{"listen", required_argument, NULL, 'l'},                              \
	    {"history", required_argument, NULL, HTTPOPT_HISTORY},             \
	    {"history-bytes", required_argument, NULL, HTTPOPT_HISTORY_BYTES}, \
	    {"backlog", required_argument, NULL, HTTPOPT_BACKLOG},             \
	    {"heartbeat", required_argument, NULL, HTTPOPT_HEARTBEAT},         \
	    {"retry", required_argument, NULL, HTTPOPT_RETRY},                 \
	    {"cors", required_argument, NULL, HTTPOPT_CORS},                   \
	    {"token", required_argument, NULL, HTTPOPT_TOKEN},                 \
	    {"tls-cert", required_argument, NULL, HTTPOPT_TLS_CERT},           \
	    {"tls-key", required_argument, NULL, HTTPOPT_TLS_KEY},             \
	    {"max-clients", required_argument, NULL, HTTPOPT_MAX_CLIENTS},     \
	    {"client-buffer", required_argument, NULL, HTTPOPT_CLIENT_BUFFER}, \
	    {"client-timeout", required_argument, NULL,                        \
	        HTTPOPT_CLIENT_TIMEOUT},                                       \
	{                                                                      \
		"no-ui", no_argument, NULL, HTTPOPT_NO_UI                      \
	}

struct httpopts {
	struct http_cfg http;
	struct hub_cfg hub;
};

/* The defaults of SPEC section 6; MODE names the viewer page's mode. */
void httpopt_init(struct httpopts *o, const char *mode);
/* Handle option C; false when it is not an HTTP option. */
bool httpopt_option(struct httpopts *o, int c, const char *arg);
/* After parsing: the environment (SSE_TOKEN) and the checks. */
void httpopt_finish(struct httpopts *o);
/* The options' lines for --help. */
void httpopt_usage(FILE *fp);

#endif
