#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/diag.h"
#include "common/http.h"
#include "common/opt.h"
#include "common/version.h"
#include "common/web/web.h"
#include "common/xalloc.h"

/* Seconds a request (not a stream) may take to arrive and be answered. */
#define REQUEST_TIMEOUT 30
/* The largest request body (mq2sse's POST /publish). */
#define MAX_BODY (16 * 1024 * 1024)

struct route {
	char *path, *method;
	void (*cb)(struct evhttp_request *req, void *arg);
	void *arg;
};

struct http {
	struct event_base *base;
	struct http_cfg cfg;
	struct hub *hub;
	struct evhttp *evh;
	SSL_CTX *ssl;
	char url[128];
	char *page; /* the viewer page with its placeholders filled in */
	size_t page_len;
	bool healthy;
	char *health_reason;
	struct route *routes;
	size_t nroutes;
	void (*metrics_cb)(struct evbuffer *out, void *arg);
	void *metrics_arg;
	void (*attach_cb)(void *arg, struct evhttp_request *req,
	    const char *query, const char *last_id, long backlog);
	void *attach_arg;
};

void
http_reply_text(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
}

static char *
decode(const char *s, size_t n)
{
	char *raw = xmalloc(n + 1), *out;
	size_t len = 0;

	memcpy(raw, s, n);
	raw[n] = '\0';
	/* 0: a '+' stays a '+' (a topic wildcard, a token character). */
	out = evhttp_uridecode(raw, 0, &len);
	free(raw);
	if (out == NULL)
		diag_die(1, "out of memory");
	if (strlen(out) != len) {
		/* A %00: no C string can carry it, and no value may hold it. */
		free(out);
		return NULL;
	}
	return out;
}

char **
http_query_all(const char *query, const char *name, size_t *n)
{
	char **v = NULL;
	size_t nl = strlen(name);

	*n = 0;
	while (query != NULL && *query != '\0') {
		const char *amp = strchr(query, '&');
		size_t len = amp ? (size_t)(amp - query) : strlen(query);

		if (len > nl && strncmp(query, name, nl) == 0 &&
		    query[nl] == '=') {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = decode(query + nl + 1, len - nl - 1);
		} else if (len == nl && strncmp(query, name, nl) == 0) {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = xstrdup("");
		}
		query = amp ? amp + 1 : NULL;
	}
	return v;
}

char *
http_query_get(const char *query, const char *name)
{
	size_t n;
	char **v = http_query_all(query, name, &n), *first;

	if (n == 0)
		return NULL;
	first = v[0];
	for (size_t i = 1; i < n; i++)
		free(v[i]);
	free(v);
	return first;
}

/* Compare without leaking where the first difference is. */
static bool
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

static bool
authorized(struct http *ht, struct evhttp_request *req, const char *query)
{
	const char *auth;
	char *t;
	bool ok;

	if (ht->cfg.token == NULL)
		return true;
	auth = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0)
		return same_secret(auth + 7, ht->cfg.token);
	t = http_query_get(query, "token");
	ok = t != NULL && same_secret(t, ht->cfg.token);
	free(t);
	return ok;
}

/* CORS: allow the request's Origin when it is in the list. */
static bool
cors(struct http *ht, struct evhttp_request *req)
{
	const char *origin =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	if (origin == NULL)
		return false;
	for (int i = 0; i < ht->cfg.ncors; i++) {
		if (strcmp(ht->cfg.cors[i], "*") == 0 ||
		    strcmp(ht->cfg.cors[i], origin) == 0) {
			evhttp_add_header(out, "Access-Control-Allow-Origin",
			    strcmp(ht->cfg.cors[i], "*") == 0 ? "*" : origin);
			evhttp_add_header(out, "Vary", "Origin");
			return true;
		}
	}
	return false;
}

static void
log_request(struct http *ht, struct evhttp_request *req, int code)
{
	char *host = NULL;
	ev_uint16_t port = 0;

	if (!ht->cfg.verbose)
		return;
	evhttp_connection_get_peer(
	    evhttp_request_get_connection(req), &host, &port);
	diag_err("%s:%u %s %s %d", host ? host : "?", (unsigned)port,
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET        ? "GET"
	        : evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST"
	        : evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ? "HEAD"
	        : evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS
	        ? "OPTIONS"
	        : "-",
	    evhttp_request_get_uri(req), code);
}

static void
reply(struct http *ht, struct evhttp_request *req, int code, const char *text)
{
	log_request(ht, req, code);
	http_reply_text(req, code, text);
}

static void
serve_metrics(struct http *ht, struct evhttp_request *req)
{
	struct hub_stats st;
	struct evbuffer *b = evbuffer_new();
	const char *p = diag_prog();

	hub_stats(ht->hub, &st);
	evbuffer_add_printf(b,
	    "# HELP %s_clients SSE clients connected.\n"
	    "# TYPE %s_clients gauge\n%s_clients %" PRIu64 "\n"
	    "# HELP %s_events_in_total Events received from the input.\n"
	    "# TYPE %s_events_in_total counter\n"
	    "%s_events_in_total %" PRIu64 "\n"
	    "# HELP %s_events_sent_total Events handed to clients.\n"
	    "# TYPE %s_events_sent_total counter\n"
	    "%s_events_sent_total %" PRIu64 "\n"
	    "# HELP %s_bytes_sent_total Event bytes handed to clients.\n"
	    "# TYPE %s_bytes_sent_total counter\n"
	    "%s_bytes_sent_total %" PRIu64 "\n"
	    "# HELP %s_clients_dropped_total Clients disconnected for being "
	    "too slow.\n"
	    "# TYPE %s_clients_dropped_total counter\n"
	    "%s_clients_dropped_total %" PRIu64 "\n"
	    "# HELP %s_history_events Events kept for replay.\n"
	    "# TYPE %s_history_events gauge\n"
	    "%s_history_events %" PRIu64 "\n"
	    "# HELP %s_history_bytes Bytes of the events kept for replay.\n"
	    "# TYPE %s_history_bytes gauge\n"
	    "%s_history_bytes %" PRIu64 "\n"
	    "# HELP %s_io_uring 1 when each round of writes is one io_uring "
	    "submission.\n"
	    "# TYPE %s_io_uring gauge\n"
	    "%s_io_uring %d\n",
	    p, p, p, st.clients, p, p, p, st.events_in, p, p, p, st.events_sent,
	    p, p, p, st.bytes_sent, p, p, p, st.dropped, p, p, p,
	    st.history_events, p, p, p, st.history_bytes, p, p, p,
	    st.io_uring ? 1 : 0);
	if (ht->metrics_cb != NULL)
		ht->metrics_cb(b, ht->metrics_arg);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	log_request(ht, req, 200);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
serve_events(struct http *ht, struct evhttp_request *req, const char *query)
{
	struct hub_stats st;
	const char *hid = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Last-Event-ID");
	char *qid = NULL, *bl;
	long backlog = -1;

	hub_stats(ht->hub, &st);
	if (st.clients >= ht->cfg.max_clients) {
		reply(ht, req, 503, "too many clients");
		return;
	}
	if (hid == NULL)
		hid = qid = http_query_get(query, "lastEventId");
	bl = http_query_get(query, "backlog");
	if (bl != NULL) {
		char *end;
		unsigned long v = strtoul(bl, &end, 10);

		if (*bl == '\0' || *end != '\0' || bl[0] == '-') {
			free(bl);
			free(qid);
			reply(ht, req, 400, "backlog: not a number");
			return;
		}
		backlog = v > LONG_MAX ? LONG_MAX : (long)v;
		free(bl);
	}
	if (ht->attach_cb != NULL)
		ht->attach_cb(ht->attach_arg, req, query, hid, backlog);
	else
		hub_attach(ht->hub, req, NULL, 0, hid, backlog, NULL,
		    NULL); /* it logs the client */
	free(qid);
}

static void
serve_page(struct http *ht, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evbuffer_add_reference(b, ht->page, ht->page_len, NULL, NULL);
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
	    "script-src 'self' 'unsafe-inline'; img-src 'self' data:");
	log_request(ht, req, 200);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "?";
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct http *ht = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool known = false;

	if (path == NULL || *path == '\0')
		path = "/";
	cors(ht, req);
	if (cmd == EVHTTP_REQ_OPTIONS) {
		/* A preflight: what a cross-origin client may send. */
		evhttp_add_header(out, "Access-Control-Allow-Methods",
		    ht->nroutes > 0 ? "GET, POST, OPTIONS" : "GET, OPTIONS");
		evhttp_add_header(out, "Access-Control-Allow-Headers",
		    "Authorization, Last-Event-ID, Cache-Control, Content-Type");
		evhttp_add_header(out, "Access-Control-Max-Age", "86400");
		log_request(ht, req, 204);
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	for (size_t i = 0; i < ht->nroutes; i++) {
		struct route *r = &ht->routes[i];

		if (strcmp(path, r->path) != 0)
			continue;
		known = true;
		if (strcmp(method_name(cmd), r->method) != 0)
			continue;
		if (!authorized(ht, req, query)) {
			evhttp_add_header(out, "WWW-Authenticate", "Bearer");
			reply(ht, req, 401, "a token is needed");
			return;
		}
		r->cb(req, r->arg);
		return;
	}
	if (strcmp(path, "/events") == 0 ||
	    (strcmp(path, "/") == 0 && ht->cfg.ui)) {
		if (cmd != EVHTTP_REQ_GET &&
		    !(cmd == EVHTTP_REQ_HEAD && path[1] == '\0')) {
			evhttp_add_header(out, "Allow", "GET, OPTIONS");
			reply(ht, req, 405, "method not allowed");
			return;
		}
		if (!authorized(ht, req, query)) {
			evhttp_add_header(out, "WWW-Authenticate", "Bearer");
			reply(ht, req, 401, "a token is needed");
			return;
		}
		if (path[1] == '\0')
			serve_page(ht, req);
		else
			serve_events(ht, req, query);
		return;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
		if (!get) {
			evhttp_add_header(out, "Allow", "GET, HEAD, OPTIONS");
			reply(ht, req, 405, "method not allowed");
		} else if (path[1] == 'm') {
			serve_metrics(ht, req);
		} else if (ht->healthy) {
			reply(ht, req, 200, "ok");
		} else {
			reply(ht, req, 503,
			    ht->health_reason ? ht->health_reason
			                      : "unhealthy");
		}
		return;
	}
	if (known) {
		evhttp_add_header(out, "Allow", "POST, OPTIONS");
		reply(ht, req, 405, "method not allowed");
		return;
	}
	reply(ht, req, 404, "not found");
}

static struct bufferevent *
tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *
tls_setup(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char err[256];

	if (ctx == NULL)
		diag_die(1, "TLS: cannot create a context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		diag_die(1, "--tls-cert: %s: %s", cert, err);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		diag_die(1, "--tls-key: %s: %s", key, err);
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		diag_die(
		    1, "--tls-key: %s does not match --tls-cert %s", key, cert);
	return ctx;
}

/* Split [ADDR]:PORT; ADDR empty means every interface. */
static void
split_listen(const char *spec, char *addr, size_t alen, unsigned *port)
{
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long p;

	if (colon == NULL)
		diag_usage("--listen: '%s' is not [ADDR]:PORT", spec);
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p > 65535)
		diag_usage("--listen: '%s': invalid port", spec);
	*port = (unsigned)p;
	if (spec[0] == '[' && colon > spec && colon[-1] == ']')
		snprintf(addr, alen, "%.*s", (int)(colon - spec - 2), spec + 1);
	else
		snprintf(addr, alen, "%.*s", (int)(colon - spec), spec);
	if (addr[0] == '\0')
		snprintf(addr, alen, "0.0.0.0");
}

static char *
fill_page(const char *mode, unsigned long backlog, size_t *len)
{
	struct evbuffer *b = evbuffer_new();
	const char *s = web_viewer_html, *end = s + web_viewer_html_len;
	char *out;

	while (s < end) {
		const char *at = memchr(s, '@', (size_t)(end - s));

		if (at == NULL) {
			evbuffer_add(b, s, (size_t)(end - s));
			break;
		}
		evbuffer_add(b, s, (size_t)(at - s));
		if (strncmp(at, "@MQSSE_TITLE@", 13) == 0) {
			evbuffer_add_printf(b, "%s", mode);
			s = at + 13;
		} else if (strncmp(at, "@MQSSE_MODE@", 12) == 0) {
			evbuffer_add_printf(b, "%s", mode);
			s = at + 12;
		} else if (strncmp(at, "@MQSSE_BACKLOG@", 15) == 0) {
			evbuffer_add_printf(b, "%lu", backlog);
			s = at + 15;
		} else {
			evbuffer_add(b, "@", 1);
			s = at + 1;
		}
	}
	*len = evbuffer_get_length(b);
	out = xmalloc(*len + 1);
	evbuffer_remove(b, out, *len);
	out[*len] = '\0';
	evbuffer_free(b);
	return out;
}

struct http *
http_new(struct event_base *base, const struct http_cfg *cfg, struct hub *hub)
{
	struct http *ht = xcalloc(1, sizeof(*ht));
	struct evhttp_bound_socket *sock;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[64], shown[80];
	unsigned port;

	ht->base = base;
	ht->cfg = *cfg;
	ht->hub = hub;
	ht->healthy = true;
	split_listen(cfg->listen, addr, sizeof(addr), &port);
	ht->evh = evhttp_new(base);
	if (ht->evh == NULL)
		diag_die(1, "cannot create the HTTP server");
	evhttp_set_timeout(ht->evh, REQUEST_TIMEOUT);
	evhttp_set_max_body_size(ht->evh, MAX_BODY);
	evhttp_set_allowed_methods(ht->evh,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	        EVHTTP_REQ_PATCH);
	evhttp_set_gencb(ht->evh, on_request, ht);
	if (cfg->tls_cert != NULL) {
		ht->ssl = tls_setup(cfg->tls_cert, cfg->tls_key);
		evhttp_set_bevcb(ht->evh, tls_bev, ht->ssl);
	}
	sock = evhttp_bind_socket_with_handle(ht->evh, addr, (ev_uint16_t)port);
	if (sock == NULL)
		diag_die(1, "listen %s: %s", cfg->listen, strerror(errno));
	if (getsockname(evhttp_bound_socket_get_fd(sock),
	        (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(shown, sizeof(shown), "[%s]", a);
			port = ntohs(s6->sin6_port);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			snprintf(shown, sizeof(shown), "%s", a);
			port = ntohs(s4->sin_port);
		}
	} else {
		snprintf(shown, sizeof(shown), "%s", addr);
	}
	snprintf(ht->url, sizeof(ht->url), "%s://%s:%u/",
	    cfg->tls_cert ? "https" : "http", shown, port);
	if (cfg->ui)
		ht->page = fill_page(cfg->mode, cfg->backlog, &ht->page_len);
	diag_err("listening on %s", ht->url);
	return ht;
}

void
http_free(struct http *ht)
{
	if (ht == NULL)
		return;
	evhttp_free(ht->evh);
	if (ht->ssl != NULL)
		SSL_CTX_free(ht->ssl);
	for (size_t i = 0; i < ht->nroutes; i++) {
		free(ht->routes[i].path);
		free(ht->routes[i].method);
	}
	free(ht->routes);
	free(ht->page);
	free(ht->health_reason);
	free(ht);
}

const char *
http_url(const struct http *ht)
{
	return ht->url;
}

void
http_set_health(struct http *ht, bool ok, const char *reason)
{
	ht->healthy = ok;
	free(ht->health_reason);
	ht->health_reason = reason ? xstrdup(reason) : NULL;
}

void
http_add_route(struct http *ht, const char *path, const char *method,
    void (*cb)(struct evhttp_request *req, void *arg), void *arg)
{
	ht->routes =
	    xrealloc(ht->routes, (ht->nroutes + 1) * sizeof(*ht->routes));
	ht->routes[ht->nroutes].path = xstrdup(path);
	ht->routes[ht->nroutes].method = xstrdup(method);
	ht->routes[ht->nroutes].cb = cb;
	ht->routes[ht->nroutes].arg = arg;
	ht->nroutes++;
}

void
http_set_metrics(
    struct http *ht, void (*cb)(struct evbuffer *out, void *arg), void *arg)
{
	ht->metrics_cb = cb;
	ht->metrics_arg = arg;
}

void
httpopt_init(struct httpopts *o, const char *mode)
{
	memset(o, 0, sizeof(*o));
	o->http.listen = "127.0.0.1:8080";
	o->http.max_clients = 10000;
	o->http.ui = true;
	o->http.mode = mode;
	o->http.backlog = 100;
	o->hub.history = 1000;
	o->hub.history_bytes = 64 * 1024 * 1024;
	o->hub.client_buffer = 1024 * 1024;
	o->hub.client_timeout_ms = 5000;
	o->hub.heartbeat_ms = 15000;
	o->hub.retry_ms = -1;
}

bool
httpopt_option(struct httpopts *o, int c, const char *arg)
{
	switch (c) {
	case 'l':
		o->http.listen = arg;
		break;
	case HTTPOPT_HISTORY:
		o->hub.history = opt_uint("--history", arg, 0, 100000000);
		break;
	case HTTPOPT_HISTORY_BYTES:
		o->hub.history_bytes =
		    opt_size("--history-bytes", arg, SIZE_MAX / 2);
		break;
	case HTTPOPT_BACKLOG:
		o->http.backlog = opt_uint("--backlog", arg, 0, 100000000);
		break;
	case HTTPOPT_HEARTBEAT:
		o->hub.heartbeat_ms =
		    opt_duration_ms("--heartbeat", arg, 86400000);
		break;
	case HTTPOPT_RETRY:
		o->hub.retry_ms =
		    (int64_t)opt_uint("--retry", arg, 0, 86400000);
		break;
	case HTTPOPT_CORS:
		o->http.cors = xrealloc(
		    o->http.cors, (size_t)(o->http.ncors + 1) * sizeof(char *));
		o->http.cors[o->http.ncors++] = arg;
		break;
	case HTTPOPT_TOKEN:
		if (*arg == '\0')
			diag_usage("--token: must not be empty");
		o->http.token = arg;
		break;
	case HTTPOPT_TLS_CERT:
		o->http.tls_cert = arg;
		break;
	case HTTPOPT_TLS_KEY:
		o->http.tls_key = arg;
		break;
	case HTTPOPT_MAX_CLIENTS:
		o->http.max_clients =
		    opt_uint("--max-clients", arg, 1, 10000000);
		break;
	case HTTPOPT_CLIENT_BUFFER:
		o->hub.client_buffer =
		    opt_size("--client-buffer", arg, SIZE_MAX / 2);
		if (o->hub.client_buffer < HUB_WINDOW)
			diag_usage(
			    "--client-buffer: at least 64K (the window)");
		break;
	case HTTPOPT_CLIENT_TIMEOUT:
		o->hub.client_timeout_ms =
		    opt_duration_ms("--client-timeout", arg, 86400000);
		if (o->hub.client_timeout_ms == 0)
			diag_usage("--client-timeout: must be more than 0");
		break;
	case HTTPOPT_NO_UI:
		o->http.ui = false;
		break;
	default:
		return false;
	}
	return true;
}

void
httpopt_finish(struct httpopts *o)
{
	char addr[64];
	unsigned port;
	const char *env = getenv("SSE_TOKEN");

	if (o->http.token == NULL && env != NULL && *env != '\0')
		o->http.token = env;
	if ((o->http.tls_cert == NULL) != (o->http.tls_key == NULL))
		diag_usage("--tls-cert and --tls-key go together");
	split_listen(o->http.listen, addr, sizeof(addr), &port);
}

void
httpopt_usage(FILE *fp)
{
	fputs(
	    "\nHTTP:\n"
	    " -l, --listen <[addr]:port>  where to listen (default "
	    "127.0.0.1:8080; port 0: any)\n"
	    "     --history <n>          events kept for replay (default "
	    "1000)\n"
	    "     --history-bytes <size> and at most this many bytes "
	    "(default 64M)\n"
	    "     --backlog <n>          events the viewer page loads first "
	    "(default 100)\n"
	    "     --heartbeat <secs>     comment to idle clients (default 15; "
	    "0: none)\n"
	    "     --retry <ms>           retry: sent to each new client\n"
	    "     --cors <origin>        allowed origin (repeatable, * for "
	    "any)\n"
	    "     --token <token>        require this bearer token (env "
	    "SSE_TOKEN)\n"
	    "     --tls-cert <file>      serve HTTPS with this certificate\n"
	    "     --tls-key <file>       and this private key\n"
	    "     --max-clients <n>      more are answered 503 (default "
	    "10000)\n"
	    "     --client-buffer <size> unsent data that drops a client "
	    "(default 1M)\n"
	    "     --client-timeout <secs> time a client may hold the stream "
	    "up (default 5)\n"
	    "     --no-ui                no viewer page\n",
	    fp);
}

void
http_set_attach(struct http *ht,
    void (*cb)(void *arg, struct evhttp_request *req, const char *query,
        const char *last_id, long backlog),
    void *arg)
{
	ht->attach_cb = cb;
	ht->attach_arg = arg;
}

void
http_version_print(FILE *fp)
{
	version_print(fp);
	fprintf(fp, "OpenSSL %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
}
