#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/diag.h"
#include "common/loop.h"
#include "common/sse_emit.h"
#include "common/sse_hub.h"
#include "common/xalloc.h"

#ifndef TAILQ_FOREACH_SAFE /* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST(head);                                        \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);            \
	     (var) = (tvar))
#endif

/* Events are serialized into blocks of this size (or one larger event). */
#define BLOCK_SIZE (64 * 1024)
/* Flush at once when this much was published since the last flush. */
#define FLUSH_BYTES (32 * 1024)
/* Events kept beyond the history for clients that have not had them. */
#define RING_SLACK 8192

/*
 * A block of serialized events, shared by the history ring (one reference
 * per event) and by the clients' output buffers (one per reference chain).
 */
struct block {
	unsigned long refs;
	uint64_t last_seq; /* the last event written into it */
	size_t cap, len;
	char data[];
};

/* One event of the ring: where its bytes are. */
struct hev {
	struct block *b;
	size_t off, len;
	uint64_t end; /* bytes published up to and including this event */
};

struct client {
	struct hub *h;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	uint64_t next; /* the sequence number of the next event to hand */
	uint64_t quiet_since; /* when it was last sent anything (heartbeat) */
	uint64_t behind_since;
	bool inflight; /* a write is under way: hand more when it is done */
	bool chunked;  /* HTTP/1.1: the response is in chunks */
	bool tls;      /* TLS: writes go through the bufferevent */
	evutil_socket_t fd;
	bool behind; /* unsent data above the window */
	char *peer;  /* ADDR:PORT, kept with -v only */
	TAILQ_ENTRY(client) link;
};

TAILQ_HEAD(clients, client);

struct hub {
	struct event_base *base;
	struct hub_cfg cfg;
	struct hub_cbs cbs;
	void *arg;

	struct hev *ring;
	size_t ring_cap;
	uint64_t first, head; /* events [first, head) are in the ring */
	uint64_t bytes;       /* bytes published, all time */
	uint64_t flushed;     /* BYTES at the last flush */
	uint64_t seed;        /* id = seed + sequence number */
	struct block *cur;

	struct clients clients;
	size_t nbehind;
	bool flow_open;
	struct evbuffer *scratch;
	struct event *flush_ev, *tick, *heartbeat;

	struct hub_stats st;
};

static void
block_unref(struct block *b)
{
	if (--b->refs == 0)
		free(b);
}

static void
chain_done(const void *data, size_t len, void *arg)
{
	block_unref(arg);
}

static struct hev *
at(const struct hub *h, uint64_t seq)
{
	return &h->ring[seq % h->ring_cap];
}

/* The first event that replay may send: --history and --history-bytes. */
static uint64_t
replay_first(const struct hub *h)
{
	uint64_t lo = h->first, hi = h->head;

	if (h->head - lo > h->cfg.history)
		lo = h->head - h->cfg.history;
	/* The oldest S whose bytes up to the head fit --history-bytes. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct hev *e = at(h, mid);

		if (h->bytes - (e->end - e->len) <= h->cfg.history_bytes)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
evict_to(struct hub *h, uint64_t seq)
{
	while (h->first < seq) {
		struct hev *e = at(h, h->first++);

		block_unref(e->b);
		e->b = NULL;
	}
}

static uint64_t
unsent(const struct client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	uint64_t pending = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->next < c->h->head)
		pending += c->h->bytes -
		    (at(c->h, c->next)->end - at(c->h, c->next)->len);
	return pending;
}

static void
set_flow(struct hub *h)
{
	bool open = h->nbehind == 0;

	if (open == h->flow_open)
		return;
	h->flow_open = open;
	if (!open && h->cfg.client_timeout_ms > 0) {
		struct timeval tv = {0, 250000};

		evtimer_add(h->tick, &tv);
	}
	if (h->cbs.flow != NULL)
		h->cbs.flow(h->arg, open);
}

static void
set_behind(struct client *c, bool behind)
{
	if (behind == c->behind)
		return;
	c->behind = behind;
	if (behind) {
		c->behind_since = loop_now_ms();
		c->h->nbehind++;
	} else {
		c->h->nbehind--;
	}
}

static void
unlink_client(struct client *c)
{
	struct hub *h = c->h;

	set_behind(c, false);
	TAILQ_REMOVE(&h->clients, c, link);
	h->st.clients--;
}

static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;
	struct hub *h = c->h;

	if (h->cfg.verbose)
		diag_err("%s: gone", c->peer);
	unlink_client(c);
	free(c->peer);
	free(c);
	set_flow(h);
}

/* Disconnect C (it can resume with Last-Event-ID). */
static void
drop(struct client *c, const char *why)
{
	struct hub *h = c->h;
	struct evhttp_connection *evcon = c->evcon;

	h->st.dropped++;
	if (h->cfg.verbose)
		diag_err("%s: disconnected: %s", c->peer, why);
	unlink_client(c);
	free(c->peer);
	free(c);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	evhttp_connection_free(evcon);
}

static void deliver(struct client *c);

static void
on_written(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;

	c->inflight = false;
	if (c->next < c->h->first)
		event_active(c->h->flush_ev, EV_TIMEOUT, 0); /* drops it */
	else if (c->next < c->h->head)
		deliver(c);
	else
		set_behind(c, false);
	set_flow(c->h);
}

/*
 * Send the scratch buffer to C as one chunk of the response. When nothing
 * is waiting, it goes straight to the socket: no write event, no wait for
 * the next loop iteration. What the socket does not take waits in the
 * connection's buffer, and evhttp calls on_written once it is out.
 */
static void
send_chunk(struct client *c)
{
	struct evbuffer *buf = c->h->scratch;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	struct evbuffer *out = bufferevent_get_output(bev);

	if (c->chunked) {
		char hdr[24];
		int k = snprintf(
		    hdr, sizeof(hdr), "%zx\r\n", evbuffer_get_length(buf));

		evbuffer_prepend(buf, hdr, (size_t)k);
		evbuffer_add_reference(buf, "\r\n", 2, NULL, NULL);
	}
	c->quiet_since = loop_now_ms();
	if (!c->tls && evbuffer_get_length(out) == 0) {
		while (evbuffer_get_length(buf) > 0 &&
		    evbuffer_write(buf, c->fd) > 0)
			;
		if (evbuffer_get_length(buf) == 0) {
			c->inflight = false;
			return;
		}
		/* EAGAIN, or an error that the bufferevent will report. */
	}
	bufferevent_write_buffer(bev, buf);
	c->inflight = true;
}

/* Hand C everything from its position to the head, in one write. */
static void
deliver(struct client *c)
{
	struct hub *h = c->h;
	struct evbuffer *buf = h->scratch;
	uint64_t s = c->next, n = 0;

	while (s < h->head) {
		const struct hev *e = at(h, s);
		struct block *b = e->b;
		/* Every event of this block from S on, in one reference. */
		uint64_t last =
		    b->last_seq < h->head ? b->last_seq : h->head - 1;
		const struct hev *l = at(h, last);
		size_t len = l->off + l->len - e->off;

		b->refs++;
		evbuffer_add_reference(
		    buf, b->data + e->off, len, chain_done, b);
		n += len;
		s = last + 1;
	}
	h->st.events_sent += h->head - c->next;
	h->st.bytes_sent += n;
	c->next = h->head;
	send_chunk(c);
	set_behind(c, unsent(c) > HUB_WINDOW);
}

static void
flush(struct hub *h)
{
	struct client *c, *tmp;
	uint64_t keep;

	h->flushed = h->bytes;
	TAILQ_FOREACH_SAFE(c, &h->clients, link, tmp) {
		if (c->next < h->first) {
			drop(c, "fell behind the history");
			continue;
		}
		if (!c->inflight && c->next < h->head)
			deliver(c);
		else if (c->inflight && c->next < h->head)
			set_behind(c, unsent(c) > HUB_WINDOW);
		if (c->behind && unsent(c) > h->cfg.client_buffer)
			drop(c, "more than --client-buffer unsent");
	}
	/* Keep what replay may send, and what a client has not had yet. */
	keep = replay_first(h);
	TAILQ_FOREACH(c, &h->clients, link)
		if (c->next < keep)
			keep = c->next;
	evict_to(h, keep);
	set_flow(h);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

/* While a client holds the input up: enforce --client-timeout. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;
	struct client *c, *tmp;
	uint64_t now = loop_now_ms();
	struct timeval tv = {0, 250000};

	TAILQ_FOREACH_SAFE(c, &h->clients, link, tmp) {
		if (c->behind &&
		    now - c->behind_since >= h->cfg.client_timeout_ms)
			drop(c, "held the stream up for --client-timeout");
	}
	set_flow(h);
	if (h->nbehind > 0)
		evtimer_add(h->tick, &tv);
}

static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;
	struct client *c;
	uint64_t now = loop_now_ms();

	TAILQ_FOREACH(c, &h->clients, link) {
		if (c->inflight || now - c->quiet_since < h->cfg.heartbeat_ms)
			continue;
		evbuffer_add_reference(h->scratch, ":\n", 2, NULL, NULL);
		send_chunk(c);
	}
}

struct hub *
hub_new(struct event_base *base, const struct hub_cfg *cfg,
    const struct hub_cbs *cbs, void *arg)
{
	struct hub *h = xcalloc(1, sizeof(*h));
	struct timespec ts;

	h->base = base;
	h->cfg = *cfg;
	h->cbs = *cbs;
	h->arg = arg;
	h->ring_cap = cfg->history + RING_SLACK;
	h->ring = xcalloc(h->ring_cap, sizeof(*h->ring));
	/*
	 * Ids continue across restarts: the wall clock in microseconds is
	 * ahead of every id of an earlier run that sent fewer than a million
	 * events a second.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	h->seed = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	TAILQ_INIT(&h->clients);
	h->flow_open = true;
	h->scratch = evbuffer_new();
	h->flush_ev = event_new(base, -1, 0, on_flush, h);
	h->tick = evtimer_new(base, on_tick, h);
	if (h->scratch == NULL || h->flush_ev == NULL || h->tick == NULL)
		diag_die(1, "out of memory");
	event_priority_set(h->flush_ev, LOOP_PRIO_IDLE);
	if (cfg->heartbeat_ms > 0) {
		struct timeval tv = {(time_t)(cfg->heartbeat_ms / 1000),
		    (suseconds_t)(cfg->heartbeat_ms % 1000) * 1000};

		h->heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, h);
		event_add(h->heartbeat, &tv);
	}
	return h;
}

void
hub_free(struct hub *h)
{
	struct client *c;

	if (h == NULL)
		return;
	while ((c = TAILQ_FIRST(&h->clients)) != NULL) {
		struct evhttp_connection *evcon = c->evcon;

		unlink_client(c);
		free(c->peer);
		free(c);
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		evhttp_connection_free(evcon);
	}
	evict_to(h, h->head);
	if (h->cur != NULL)
		block_unref(h->cur);
	free(h->ring);
	evbuffer_free(h->scratch);
	event_free(h->flush_ev);
	event_free(h->tick);
	if (h->heartbeat != NULL)
		event_free(h->heartbeat);
	free(h);
}

uint64_t
hub_publish(struct hub *h, const char *type, size_t type_len, const char *data,
    size_t data_len, int64_t retry)
{
	char id[24];
	uint64_t seq = h->head;
	struct sse_out_event o = {type, type_len, data, data_len, id, 0, retry};
	struct hev *e;
	size_t size;

	if (type != NULL && !sse_field_ok(type, type_len))
		return 0;
	o.id_len = (size_t)snprintf(id, sizeof(id), "%" PRIu64, h->seed + seq);
	size = sse_emit_size(&o);
	if (h->cur == NULL || h->cur->cap - h->cur->len < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;

		if (h->cur != NULL)
			block_unref(h->cur);
		h->cur = xmalloc(sizeof(struct block) + cap);
		h->cur->refs = 1; /* as the block being filled */
		h->cur->cap = cap;
		h->cur->len = 0;
	}
	if (h->head - h->first == h->ring_cap)
		evict_to(h, h->first + 1); /* flush drops who needed it */
	e = at(h, seq);
	e->b = h->cur;
	e->off = h->cur->len;
	e->len = sse_emit_buf(h->cur->data + h->cur->len, &o);
	h->cur->len += e->len;
	h->cur->last_seq = seq;
	h->cur->refs++;
	h->bytes += e->len;
	e->end = h->bytes;
	h->head++;
	h->st.events_in++;
	if (h->bytes - h->flushed >= FLUSH_BYTES)
		flush(h);
	else if (!event_pending(h->flush_ev, EV_TIMEOUT, NULL))
		event_active(h->flush_ev, EV_TIMEOUT, 0);
	return h->seed + seq;
}

/* A whole decimal number, else false. */
static bool
parse_id(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

void
hub_attach(struct hub *h, struct evhttp_request *req, const char *last_id,
    long backlog)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct client *c = xcalloc(1, sizeof(*c));
	struct bufferevent *bev;
	const char *te;
	uint64_t rf = replay_first(h), id;
	char *host = NULL;
	ev_uint16_t port = 0;

	c->h = h;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	evhttp_connection_get_peer(c->evcon, &host, &port);
	if (h->cfg.verbose) {
		char peer[80];

		snprintf(peer, sizeof(peer), "%s:%u", host ? host : "?",
		    (unsigned)port);
		c->peer = xstrdup(peer);
	}
	if (last_id != NULL) {
		/*
		 * Events after LAST_ID; when it is not ours (too old, in the
		 * future, not a number), the whole history: at least once.
		 */
		if (parse_id(last_id, &id) && id >= h->seed + rf - 1 &&
		    id < h->seed + h->head && id >= h->seed)
			c->next = id - h->seed + 1;
		else
			c->next = rf;
	} else if (backlog >= 0) {
		c->next = h->head - rf > (uint64_t)backlog
		    ? h->head - (uint64_t)backlog
		    : rf;
	} else {
		c->next = h->head;
	}
	evhttp_add_header(hdr, "Content-Type", "text/event-stream");
	evhttp_add_header(hdr, "Cache-Control", "no-cache");
	evhttp_add_header(hdr, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	c->chunked =
	    (te = evhttp_find_header(hdr, "Transfer-Encoding")) != NULL &&
	    strcasecmp(te, "chunked") == 0;
	bev = evhttp_connection_get_bufferevent(c->evcon);
	c->tls = bufferevent_openssl_get_ssl(bev) != NULL;
	c->fd = bufferevent_getfd(bev);
	/* A stream is quiet by nature: no read or write timeout. */
	bufferevent_set_timeouts(bev, NULL, NULL);
	/*
	 * The headers have been sent and read: with thousands of idle clients
	 * their few hundred bytes each are worth giving back.
	 */
	evhttp_clear_headers(hdr);
	evhttp_clear_headers(evhttp_request_get_input_headers(req));
	evhttp_connection_set_closecb(c->evcon, on_close, c);
	TAILQ_INSERT_TAIL(&h->clients, c, link);
	h->st.clients++;
	if (h->cfg.verbose)
		diag_err("%s: connected, %" PRIu64 " events of replay", c->peer,
		    h->head - c->next);
	/*
	 * The first chunk goes through evhttp, which from then on calls
	 * on_written whenever the connection's buffer has been written out:
	 * a comment (it also gets the headers through proxies at once) and
	 * the retry field. The replay follows when it is out.
	 */
	evbuffer_add(h->scratch, ":\n", 2);
	if (h->cfg.retry_ms >= 0)
		evbuffer_add_printf(
		    h->scratch, "retry: %" PRId64 "\n\n", h->cfg.retry_ms);
	c->inflight = true;
	c->quiet_since = loop_now_ms();
	evhttp_send_reply_chunk_with_cb(req, h->scratch, on_written, c);
	set_flow(h);
}

bool
hub_all_sent(const struct hub *h)
{
	const struct client *c;

	TAILQ_FOREACH(c, &h->clients, link)
		if (c->next < h->head || c->inflight)
			return false;
	return true;
}

bool
hub_flow_open(const struct hub *h)
{
	return h->flow_open;
}

void
hub_stats(const struct hub *h, struct hub_stats *st)
{
	uint64_t rf = replay_first(h);

	*st = h->st;
	st->history_events = h->head - rf;
	st->history_bytes =
	    rf < h->head ? h->bytes - (at(h, rf)->end - at(h, rf)->len) : 0;
	st->first_id = rf < h->head ? h->seed + rf : 0;
	st->last_id = h->head > 0 ? h->seed + h->head - 1 : 0;
}
