#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/diag.h"
#include "common/loop.h"
#include "common/opt.h"
#include "common/sse_emit.h"
#include "common/sse_hub.h"
#include "common/topic.h"
#include "common/wbatch.h"
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
/*
 * Otherwise an event that comes less than this long after the last round of
 * writes waits for the rest of it, and goes out with the others that came
 * meanwhile: at high rates each client gets one write per interval rather
 * than one per event (MQSSE_COALESCE_US overrides it; 0: no waiting).
 */
#define COALESCE_US 2000
/* Events kept beyond the history for clients that have not had them. */
#define RING_SLACK 8192
/* Writes of a round handed to the kernel together (see common/wbatch.h). */
#define BATCH_DEPTH 1024
/* iovecs of one batched write: the chunk header, the runs, the trailer. */
#define WRITE_IOV 16

/*
 * A block of serialized events, shared by the channels' rings (one
 * reference per entry) and by the clients' output buffers (one per
 * reference chain).
 */
struct block {
	unsigned long refs;
	size_t cap, len;
	char data[];
};

/* One event of a channel: where its bytes are. */
struct hev {
	struct block *b;
	size_t off, len;
	uint64_t seq; /* the hub's sequence number: id = seed + seq */
	uint64_t end; /* the channel's bytes up to and including this one */
	uint64_t run; /* the first entry of its run of adjacent bytes */
	char *topic;  /* the all channel only: for channels made later */
};

struct client {
	struct chan *ch;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	uint64_t next;        /* the channel index of the next event to hand */
	uint64_t quiet_since; /* when it was last sent anything (heartbeat) */
	uint64_t behind_since;
	bool inflight; /* a write is under way: hand more when it is done */
	bool behind;   /* unsent data above the window */
	bool chunked;  /* HTTP/1.1: the response is in chunks */
	bool tls;      /* TLS: writes go through the bufferevent */
	bool ended;    /* hub_close ended the response: nothing more */
	evutil_socket_t fd;
	char *peer; /* ADDR:PORT, kept with -v only */
	/*
	 * The chunk header of the one chunk of ours that can be waiting in
	 * the connection's buffer (referenced there, never copied).
	 */
	char hdr[20];
	TAILQ_ENTRY(client) link;
};

TAILQ_HEAD(clients, client);

/*
 * A channel: the events of one set of topic filters (or all of them), in
 * a ring of its own that points into the shared blocks. Each event is
 * matched once per channel, not once per client.
 */
struct chan {
	struct hub *h;
	char *key;      /* the sorted filters, one per line; "" for all */
	char **filters; /* NULL: every event */
	size_t nfilters;
	struct hev *ring;
	size_t cap;
	uint64_t first, head; /* entries [first, head) are in the ring */
	uint64_t bytes;       /* bytes of every entry ever added */
	struct clients clients;
	size_t nclients;
	TAILQ_ENTRY(chan) link;
};

TAILQ_HEAD(chans, chan);

struct hub {
	struct event_base *base;
	struct hub_cfg cfg;
	struct hub_cbs cbs;
	void *arg;

	struct chan *all; /* every event: the history */
	struct chans chans;
	size_t max_cap; /* the largest ring */
	uint64_t seq;   /* events published */
	uint64_t seed;  /* id = seed + sequence number */
	uint64_t bytes, flushed;
	struct block *cur;

	size_t nbehind;
	bool flow_open;
	struct evbuffer *scratch;
	struct wbatch *wb;
	struct event *flush_ev, *tick, *heartbeat, *coal_ev;
	uint64_t last_flush_us, coalesce_us;

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
at(const struct chan *ch, uint64_t i)
{
	return &ch->ring[i % ch->cap];
}

/* The bytes of the channel before entry I (I may be the head). */
static uint64_t
start_of(const struct chan *ch, uint64_t i)
{
	const struct hev *e;

	if (i >= ch->head)
		return ch->bytes;
	e = at(ch, i);
	return e->end - e->len;
}

/* The first event of the history that replay may send (all channel). */
static uint64_t
replay_first_all(const struct hub *h)
{
	const struct chan *ch = h->all;
	uint64_t lo = ch->first, hi = ch->head;

	if (ch->head - lo > h->cfg.history)
		lo = ch->head - h->cfg.history;
	/* The oldest whose bytes up to the head fit --history-bytes. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ch->bytes - start_of(ch, mid) <= h->cfg.history_bytes)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The first entry of CH with a sequence number of at least SEQ. */
static uint64_t
index_of_seq(const struct chan *ch, uint64_t seq)
{
	uint64_t lo = ch->first, hi = ch->head;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (at(ch, mid)->seq >= seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The first entry of CH that replay may send. */
static uint64_t
replay_first(const struct chan *ch)
{
	const struct hub *h = ch->h;
	uint64_t rf = replay_first_all(h);

	if (ch == h->all)
		return rf;
	/* In the all channel, an event's index is its sequence number. */
	return index_of_seq(ch, rf);
}

static void
evict_to(struct chan *ch, uint64_t i)
{
	while (ch->first < i) {
		struct hev *e = at(ch, ch->first++);

		block_unref(e->b);
		e->b = NULL;
		free(e->topic);
		e->topic = NULL;
	}
}

/* Room for one more entry: grow the ring, or drop its oldest entry. */
static void
make_room(struct chan *ch)
{
	size_t n = (size_t)(ch->head - ch->first), cap;
	struct hev *ring;

	if (n < ch->cap)
		return;
	if (ch->cap >= ch->h->max_cap) {
		evict_to(ch, ch->first + 1); /* flush drops who needed it */
		return;
	}
	cap = ch->cap * 2 < ch->h->max_cap ? ch->cap * 2 : ch->h->max_cap;
	ring = xcalloc(cap, sizeof(*ring));
	for (uint64_t i = ch->first; i < ch->head; i++)
		ring[i % cap] = ch->ring[i % ch->cap];
	free(ch->ring);
	ch->ring = ring;
	ch->cap = cap;
}

static void
chan_add(struct chan *ch, struct block *b, size_t off, size_t len, uint64_t seq,
    const char *topic)
{
	struct hev *e, *prev;

	make_room(ch);
	e = at(ch, ch->head);
	e->b = b;
	e->off = off;
	e->len = len;
	e->seq = seq;
	ch->bytes += len;
	e->end = ch->bytes;
	e->topic = topic != NULL ? xstrdup(topic) : NULL;
	e->run = ch->head;
	if (ch->head > ch->first) {
		prev = at(ch, ch->head - 1);
		if (prev->b == b && prev->off + prev->len == off)
			e->run = prev->run;
	}
	b->refs++;
	ch->head++;
}

static bool
chan_matches(const struct chan *ch, const char *topic)
{
	if (ch->filters == NULL)
		return true;
	if (topic == NULL)
		return false;
	for (size_t i = 0; i < ch->nfilters; i++)
		if (topic_matches(ch->filters[i], topic))
			return true;
	return false;
}

/* The loop's cached clock, in ms: no system call per client. */
static uint64_t
cached_ms(struct hub *h)
{
	struct timeval tv;

	event_base_gettimeofday_cached(h->base, &tv);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/*
 * Write the header of a chunk of LEN bytes into the client's own array, in
 * hexadecimal (HTTP/1.1 only). Returns its length.
 */
static size_t
chunk_header(struct client *c, uint64_t len)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[len & 15];
		len >>= 4;
	} while (len > 0);
	for (size_t i = 0; i < n; i++)
		c->hdr[i] = tmp[n - 1 - i];
	c->hdr[n] = '\r';
	c->hdr[n + 1] = '\n';
	return n + 2;
}

/* Start a chunk of LEN bytes for C in the scratch buffer. */
static void
chunk_begin(struct client *c, uint64_t len)
{
	if (!c->chunked)
		return;
	evbuffer_add_reference(
	    c->ch->h->scratch, c->hdr, chunk_header(c, len), NULL, NULL);
}

static uint64_t
unsent(const struct client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);

	return evbuffer_get_length(bufferevent_get_output(bev)) +
	    (c->ch->bytes - start_of(c->ch, c->next));
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
	struct hub *h = c->ch->h;

	if (behind == c->behind)
		return;
	c->behind = behind;
	if (behind) {
		c->behind_since = loop_now_ms();
		h->nbehind++;
	} else {
		h->nbehind--;
	}
}

static void
chan_free(struct chan *ch)
{
	evict_to(ch, ch->head);
	for (size_t i = 0; i < ch->nfilters; i++)
		free(ch->filters[i]);
	free(ch->filters);
	free(ch->key);
	free(ch->ring);
	free(ch);
}

static void
unlink_client(struct client *c)
{
	struct chan *ch = c->ch;
	struct hub *h = ch->h;

	set_behind(c, false);
	TAILQ_REMOVE(&ch->clients, c, link);
	ch->nclients--;
	h->st.clients--;
	/* A channel of filters lives while it has clients. */
	if (ch->nclients == 0 && ch != h->all) {
		TAILQ_REMOVE(&h->chans, ch, link);
		chan_free(ch);
	}
}

static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;
	struct hub *h = c->ch->h;

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
	struct hub *h = c->ch->h;
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
	struct chan *ch = c->ch;

	if (c->ended)
		return;
	c->inflight = false;
	if (c->next < ch->first)
		event_active(ch->h->flush_ev, EV_TIMEOUT, 0); /* drops it */
	else if (c->next < ch->head)
		deliver(c);
	else
		set_behind(c, false);
	set_flow(ch->h);
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
	struct evbuffer *buf = c->ch->h->scratch;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	struct evbuffer *out = bufferevent_get_output(bev);

	if (c->chunked)
		evbuffer_add_reference(buf, "\r\n", 2, NULL, NULL);
	c->quiet_since = cached_ms(c->ch->h);
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

/*
 * Call FN(ARG, FIRST, LAST) for each run of adjacent bytes of entries
 * [FROM, TO) of CH, in order (for the all channel, one run per block); FIRST
 * and LAST are the run's first and last entry. Runs are known from their
 * end, so they are found from the last one back. Returns false, without
 * calling FN, when there are more than MAX runs.
 */
static bool
each_run(const struct chan *ch, uint64_t from, uint64_t to, size_t max,
    void (*fn)(void *arg, const struct hev *first, const struct hev *last),
    void *arg)
{
	const struct hev *last;
	uint64_t r;

	if (from >= to)
		return true;
	if (max == 0)
		return false;
	last = at(ch, to - 1);
	r = last->run > from ? last->run : from;
	if (!each_run(ch, from, r, max - 1, fn, arg))
		return false;
	fn(arg, at(ch, r), last);
	return true;
}

struct add_ctx {
	struct evbuffer *buf;
	uint64_t bytes;
};

static void
add_run(void *arg, const struct hev *first, const struct hev *last)
{
	struct add_ctx *a = arg;
	size_t len = last->off + last->len - first->off;

	first->b->refs++;
	evbuffer_add_reference(
	    a->buf, first->b->data + first->off, len, chain_done, first->b);
	a->bytes += len;
}

/*
 * Add references to entries [FROM, TO) of CH to BUF, one per run. Returns
 * the bytes.
 */
static uint64_t
add_range(struct chan *ch, struct evbuffer *buf, uint64_t from, uint64_t to)
{
	struct add_ctx a = {buf, 0};

	each_run(ch, from, to, SIZE_MAX, add_run, &a);
	return a.bytes;
}

/* Hand C everything from its position to the head, in one write. */
static void
deliver(struct client *c)
{
	struct chan *ch = c->ch;
	struct hub *h = ch->h;

	chunk_begin(c, ch->bytes - start_of(ch, c->next));
	h->st.bytes_sent += add_range(ch, h->scratch, c->next, ch->head);
	h->st.events_sent += ch->head - c->next;
	c->next = ch->head;
	send_chunk(c);
	set_behind(c, unsent(c) > HUB_WINDOW);
}

struct iov_ctx {
	struct iovec *iov;
	int n;
};

static void
iov_run(void *arg, const struct hev *first, const struct hev *last)
{
	struct iov_ctx *v = arg;

	v->iov[v->n].iov_base = first->b->data + first->off;
	v->iov[v->n].iov_len = last->off + last->len - first->off;
	v->n++;
}

static void on_sent(void *arg, ssize_t res, void *ctx);

/*
 * Queue everything from C's position to the head as one chunk in the
 * round's batch of writes, when it can go straight to the socket (HTTP/1.1
 * without TLS, nothing waiting). The batch's result comes to on_sent, with
 * C's position unchanged until then. Returns false for deliver() instead.
 */
static bool
queue(struct client *c)
{
	struct chan *ch = c->ch;
	struct hub *h = ch->h;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	struct iovec *iov;
	struct iov_ctx v = {NULL, 0};
	uint64_t len;
	int n;

	if (c->tls || !c->chunked ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return false;
	if ((iov = wbatch_iov(h->wb, WRITE_IOV)) == NULL) {
		wbatch_run(h->wb, on_sent, h);
		if ((iov = wbatch_iov(h->wb, WRITE_IOV)) == NULL)
			return false;
	}
	v.iov = iov + 1;
	if (!each_run(ch, c->next, ch->head, WRITE_IOV - 2, iov_run, &v))
		return false;
	n = v.n;
	len = ch->bytes - start_of(ch, c->next);
	iov[0].iov_base = c->hdr;
	iov[0].iov_len = chunk_header(c, len);
	iov[n + 1].iov_base = (void *)"\r\n";
	iov[n + 1].iov_len = 2;
	wbatch_add(h->wb, c->fd, n + 2, c);
	h->st.bytes_sent += len;
	h->st.events_sent += ch->head - c->next;
	c->quiet_since = cached_ms(h);
	return true;
}

/*
 * The result of C's batched write of [next, head): what the socket did not
 * take waits in the connection's buffer (an error, too, which evhttp then
 * reports by closing the connection).
 */
static void
on_sent(void *arg, ssize_t res, void *ctx)
{
	struct client *c = arg;
	struct chan *ch = c->ch;
	struct hub *h = ch->h;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	uint64_t from = c->next, len = ch->bytes - start_of(ch, from);

	c->next = ch->head;
	if (res > 0 && (uint64_t)res == chunk_header(c, len) + len + 2) {
		set_behind(c, false);
		return;
	}
	chunk_begin(c, len);
	add_range(ch, h->scratch, from, ch->head);
	evbuffer_add_reference(h->scratch, "\r\n", 2, NULL, NULL);
	if (res > 0)
		evbuffer_drain(h->scratch, (size_t)res);
	bufferevent_write_buffer(bev, h->scratch);
	c->inflight = true;
	set_behind(c, unsent(c) > HUB_WINDOW);
	if (c->behind && unsent(c) > h->cfg.client_buffer)
		drop(c, "more than --client-buffer unsent");
}

static void
flush_chan(struct chan *ch)
{
	struct client *c, *tmp;

	TAILQ_FOREACH_SAFE(c, &ch->clients, link, tmp) {
		if (c->ended)
			continue;
		if (c->next < ch->first) {
			drop(c, "fell behind the history");
			continue;
		}
		if (!c->inflight && c->next < ch->head) {
			if (queue(c))
				continue; /* on_sent checks the rest */
			deliver(c);
		} else if (c->inflight && c->next < ch->head)
			set_behind(c, unsent(c) > HUB_WINDOW);
		if (c->behind && unsent(c) > ch->h->cfg.client_buffer)
			drop(c, "more than --client-buffer unsent");
	}
}

static void
flush(struct hub *h)
{
	struct chan *ch, *tmp;

	h->flushed = h->bytes;
	h->last_flush_us = loop_now_us();
	evtimer_del(h->coal_ev);
	/* A channel whose last client is dropped goes away. */
	TAILQ_FOREACH_SAFE(ch, &h->chans, link, tmp)
		flush_chan(ch);
	wbatch_run(h->wb, on_sent, h);
	/* Keep what replay may send, and what a client has not had yet. */
	TAILQ_FOREACH(ch, &h->chans, link) {
		uint64_t keep = replay_first(ch);
		struct client *c;

		TAILQ_FOREACH(c, &ch->clients, link)
			if (c->next < keep)
				keep = c->next;
		evict_to(ch, keep);
	}
	set_flow(h);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

/* The coalescing interval is over: a round of writes at the next chance. */
static void
on_coalesced(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;

	if (!event_pending(h->flush_ev, EV_TIMEOUT, NULL))
		event_active(h->flush_ev, EV_TIMEOUT, 0);
}

/* While a client holds the input up: enforce --client-timeout. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;
	struct chan *ch, *ctmp;
	struct client *c, *tmp;
	uint64_t now = loop_now_ms();
	struct timeval tv = {0, 250000};

	TAILQ_FOREACH_SAFE(ch, &h->chans, link, ctmp) {
		TAILQ_FOREACH_SAFE(c, &ch->clients, link, tmp) {
			if (c->behind &&
			    now - c->behind_since >= h->cfg.client_timeout_ms)
				drop(c,
				    "held the stream up for "
				    "--client-timeout");
		}
	}
	set_flow(h);
	if (h->nbehind > 0)
		evtimer_add(h->tick, &tv);
}

static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;
	struct chan *ch;
	struct client *c;
	uint64_t now = cached_ms(h);

	TAILQ_FOREACH(ch, &h->chans, link) {
		TAILQ_FOREACH(c, &ch->clients, link) {
			if (c->inflight || c->ended ||
			    now - c->quiet_since < h->cfg.heartbeat_ms)
				continue;
			chunk_begin(c, 2);
			evbuffer_add_reference(
			    h->scratch, ":\n", 2, NULL, NULL);
			send_chunk(c);
		}
	}
}

static struct chan *
chan_new(struct hub *h, const char *key, char **filters, size_t n)
{
	struct chan *ch = xcalloc(1, sizeof(*ch));

	ch->h = h;
	ch->key = xstrdup(key);
	ch->filters = filters;
	ch->nfilters = n;
	ch->cap = 64 < h->max_cap ? 64 : h->max_cap;
	ch->ring = xcalloc(ch->cap, sizeof(*ch->ring));
	TAILQ_INIT(&ch->clients);
	TAILQ_INSERT_TAIL(&h->chans, ch, link);
	return ch;
}

struct hub *
hub_new(struct event_base *base, const struct hub_cfg *cfg,
    const struct hub_cbs *cbs, void *arg)
{
	struct hub *h = xcalloc(1, sizeof(*h));
	struct timespec ts;
	const char *env;
	char err[128];

	h->base = base;
	h->cfg = *cfg;
	h->cbs = *cbs;
	h->arg = arg;
	h->max_cap = cfg->history + RING_SLACK;
	TAILQ_INIT(&h->chans);
	h->all = chan_new(h, "", NULL, 0);
	/*
	 * Ids continue across restarts: the wall clock in microseconds is
	 * ahead of every id of an earlier run that sent fewer than a million
	 * events a second.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	h->seed = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	h->flow_open = true;
	h->scratch = evbuffer_new();
	h->wb = wbatch_new(BATCH_DEPTH);
	h->flush_ev = event_new(base, -1, 0, on_flush, h);
	h->tick = evtimer_new(base, on_tick, h);
	h->coal_ev = evtimer_new(base, on_coalesced, h);
	h->coalesce_us = COALESCE_US;
	if ((env = getenv("MQSSE_COALESCE_US")) != NULL && *env != '\0' &&
	    opt_parse_uint(
	        env, 0, 1000000, &h->coalesce_us, err, sizeof(err)) == -1)
		diag_die(1, "MQSSE_COALESCE_US: %s", err);
	if (h->scratch == NULL || h->flush_ev == NULL || h->tick == NULL ||
	    h->coal_ev == NULL)
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
	struct chan *ch;
	struct client *c;

	if (h == NULL)
		return;
	/* Every client; a channel of filters goes with its last one. */
	while ((ch = TAILQ_FIRST(&h->chans)) != NULL) {
		if ((c = TAILQ_FIRST(&ch->clients)) != NULL) {
			struct evhttp_connection *evcon = c->evcon;

			unlink_client(c);
			free(c->peer);
			free(c);
			evhttp_connection_set_closecb(evcon, NULL, NULL);
			evhttp_connection_free(evcon);
			continue;
		}
		TAILQ_REMOVE(&h->chans, ch, link);
		chan_free(ch);
	}
	if (h->cur != NULL)
		block_unref(h->cur);
	evbuffer_free(h->scratch);
	wbatch_free(h->wb);
	event_free(h->flush_ev);
	event_free(h->tick);
	event_free(h->coal_ev);
	if (h->heartbeat != NULL)
		event_free(h->heartbeat);
	free(h);
}

uint64_t
hub_publish(struct hub *h, const char *type, size_t type_len, const char *data,
    size_t data_len, int64_t retry, const char *topic)
{
	char id[24];
	struct sse_out_event o = {type, type_len, data, data_len, id, 0, retry};
	struct chan *ch;
	size_t size, off;
	struct block *b;

	if (type != NULL && !sse_field_ok(type, type_len))
		return 0;
	o.id_len =
	    (size_t)snprintf(id, sizeof(id), "%" PRIu64, h->seed + h->seq);
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
	b = h->cur;
	off = b->len;
	size = sse_emit_buf(b->data + off, &o);
	b->len += size;
	TAILQ_FOREACH(ch, &h->chans, link)
		if (chan_matches(ch, topic))
			chan_add(ch, b, off, size, h->seq,
			    ch == h->all ? topic : NULL);
	h->seq++;
	h->bytes += size;
	h->st.events_in++;
	if (h->bytes - h->flushed >= FLUSH_BYTES)
		flush(h);
	else if (!event_pending(h->flush_ev, EV_TIMEOUT, NULL) &&
	    !evtimer_pending(h->coal_ev, NULL)) {
		uint64_t since = loop_now_us() - h->last_flush_us;

		if (since < h->coalesce_us) {
			uint64_t wait = h->coalesce_us - since;
			struct timeval tv = {(time_t)(wait / 1000000),
			    (suseconds_t)(wait % 1000000)};

			evtimer_add(h->coal_ev, &tv);
		} else {
			event_active(h->flush_ev, EV_TIMEOUT, 0);
		}
	}
	return h->seed + h->seq - 1;
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The channel of FILTERS (none: every event), made when new. */
static struct chan *
chan_get(struct hub *h, const char *const *filters, size_t n)
{
	char **f, *key;
	size_t len = 1, m = 0;
	struct chan *ch;

	if (n == 0)
		return h->all;
	f = xcalloc(n, sizeof(*f));
	for (size_t i = 0; i < n; i++)
		f[i] = xstrdup(filters[i]);
	qsort(f, n, sizeof(*f), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && strcmp(f[m - 1], f[i]) == 0) {
			free(f[i]);
			continue;
		}
		f[m++] = f[i];
		len += strlen(f[i]) + 1;
	}
	key = xmalloc(len);
	len = 0;
	for (size_t i = 0; i < m; i++) {
		size_t k = strlen(f[i]);

		memcpy(key + len, f[i], k);
		key[len + k] = '\n';
		len += k + 1;
	}
	key[len] = '\0';
	TAILQ_FOREACH(ch, &h->chans, link) {
		if (strcmp(ch->key, key) == 0) {
			for (size_t i = 0; i < m; i++)
				free(f[i]);
			free(f);
			free(key);
			return ch;
		}
	}
	ch = chan_new(h, key, f, m);
	free(key);
	/* Its history: the events of the history that match. */
	for (uint64_t i = h->all->first; i < h->all->head; i++) {
		const struct hev *e = at(h->all, i);

		if (chan_matches(ch, e->topic))
			chan_add(ch, e->b, e->off, e->len, e->seq, NULL);
	}
	return ch;
}

void
hub_attach(struct hub *h, struct evhttp_request *req,
    const char *const *filters, size_t nfilters, const char *last_id,
    long backlog,
    void (*prelude)(void *arg, struct evbuffer *out, uint64_t first_id),
    void *arg)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct client *c = xcalloc(1, sizeof(*c));
	struct chan *ch = chan_get(h, filters, nfilters);
	struct bufferevent *bev;
	const char *te;
	uint64_t rf = replay_first(ch), id;
	uint64_t rf_seq = replay_first_all(h);
	char *host = NULL;
	ev_uint16_t port = 0;
	int one = 1;

	c->ch = ch;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	if (h->cfg.verbose) {
		char peer[80];

		evhttp_connection_get_peer(c->evcon, &host, &port);
		snprintf(peer, sizeof(peer), "%s:%u", host ? host : "?",
		    (unsigned)port);
		c->peer = xstrdup(peer);
	}
	if (last_id != NULL) {
		/*
		 * Events after LAST_ID; when it is not ours (too old, in the
		 * future, not a number), the whole history: at least once.
		 * The replay starts with the oldest event of the history, so
		 * LAST_ID may be the one just before it.
		 */
		if (parse_id(last_id, &id) && id < UINT64_MAX &&
		    id + 1 >= h->seed + rf_seq && id + 1 <= h->seed + h->seq)
			c->next = index_of_seq(ch, id + 1 - h->seed);
		else
			c->next = rf;
	} else if (backlog >= 0) {
		c->next = ch->head - rf > (uint64_t)backlog
		    ? ch->head - (uint64_t)backlog
		    : rf;
	} else {
		c->next = ch->head;
	}
	evhttp_add_header(hdr, "Content-Type", "text/event-stream");
	evhttp_add_header(hdr, "Cache-Control", "no-cache");
	evhttp_add_header(hdr, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	te = evhttp_find_header(hdr, "Transfer-Encoding");
	c->chunked = te != NULL && strcasecmp(te, "chunked") == 0;
	bev = evhttp_connection_get_bufferevent(c->evcon);
	c->tls = bufferevent_openssl_get_ssl(bev) != NULL;
	c->fd = bufferevent_getfd(bev);
	/*
	 * The hub batches by itself (rounds, coalescing); Nagle's algorithm
	 * on top would hold a round's small write until the client's delayed
	 * ACK, up to 40 ms (bench/RESULTS.md).
	 */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ==
	        -1 &&
	    h->cfg.verbose)
		diag_err("%s: TCP_NODELAY: %s", c->peer, strerror(errno));
	/* A stream is quiet by nature: no read or write timeout. */
	bufferevent_set_timeouts(bev, NULL, NULL);
	/*
	 * The headers have been sent and read: with thousands of idle clients
	 * their few hundred bytes each are worth giving back.
	 */
	evhttp_clear_headers(hdr);
	evhttp_clear_headers(evhttp_request_get_input_headers(req));
	evhttp_connection_set_closecb(c->evcon, on_close, c);
	TAILQ_INSERT_TAIL(&ch->clients, c, link);
	ch->nclients++;
	h->st.clients++;
	if (h->cfg.verbose)
		diag_err("%s: connected, %" PRIu64 " events of replay", c->peer,
		    ch->head - c->next);
	/*
	 * The first chunk goes through evhttp, which from then on calls
	 * on_written whenever the connection's buffer has been written out:
	 * a comment (it also gets the headers through proxies at once), the
	 * retry field and the caller's prelude. The replay follows.
	 */
	evbuffer_add(h->scratch, ":\n", 2);
	if (h->cfg.retry_ms >= 0)
		evbuffer_add_printf(
		    h->scratch, "retry: %" PRId64 "\n\n", h->cfg.retry_ms);
	if (prelude != NULL)
		prelude(arg, h->scratch,
		    h->seed +
		        (c->next < ch->head ? at(ch, c->next)->seq : h->seq));
	c->inflight = true;
	c->quiet_since = cached_ms(h);
	evhttp_send_reply_chunk_with_cb(req, h->scratch, on_written, c);
	set_flow(h);
}

bool
hub_all_sent(const struct hub *h)
{
	const struct chan *ch;
	const struct client *c;

	TAILQ_FOREACH(ch, &h->chans, link) {
		TAILQ_FOREACH(c, &ch->clients, link)
			if (c->next < ch->head || c->inflight)
				return false;
	}
	return true;
}

void
hub_close(struct hub *h)
{
	struct chan *ch;
	struct client *c;

	/* What was published and not yet handed out goes first. */
	if (h->flushed != h->bytes)
		flush(h);
	TAILQ_FOREACH(ch, &h->chans, link) {
		TAILQ_FOREACH(c, &ch->clients, link) {
			if (c->ended)
				continue;
			/* After what is still waiting, the last chunk. */
			c->ended = true;
			evhttp_send_reply_end(c->req);
		}
	}
}

bool
hub_closed(const struct hub *h)
{
	const struct chan *ch;
	const struct client *c;

	TAILQ_FOREACH(ch, &h->chans, link) {
		TAILQ_FOREACH(c, &ch->clients, link) {
			struct bufferevent *bev =
			    evhttp_connection_get_bufferevent(c->evcon);

			if (evbuffer_get_length(bufferevent_get_output(bev)) >
			    0)
				return false;
		}
	}
	return true;
}

struct close_wait {
	struct hub *h;
	uint64_t deadline;
	struct event *ev;
};

static void
on_close_check(evutil_socket_t fd, short what, void *arg)
{
	struct close_wait *w = arg;

	if (hub_closed(w->h) || loop_now_ms() >= w->deadline)
		event_base_loopbreak(w->h->base);
}

void
hub_close_wait(struct hub *h, int timeout_ms)
{
	struct timeval tv = {0, 10000};
	struct close_wait w = {h, loop_now_ms() + (uint64_t)timeout_ms, NULL};

	hub_close(h);
	if (hub_closed(h))
		return;
	w.ev = event_new(h->base, -1, EV_PERSIST, on_close_check, &w);
	event_add(w.ev, &tv);
	event_base_dispatch(h->base);
	event_free(w.ev);
}

bool
hub_flow_open(const struct hub *h)
{
	return h->flow_open;
}

void
hub_stats(const struct hub *h, struct hub_stats *st)
{
	const struct chan *ch = h->all;
	uint64_t rf = replay_first_all(h);

	*st = h->st;
	st->history_events = ch->head - rf;
	st->history_bytes = ch->bytes - start_of(ch, rf);
	st->first_id = rf < ch->head ? h->seed + at(ch, rf)->seq : 0;
	st->last_id = h->seq > 0 ? h->seed + h->seq - 1 : 0;
	st->io_uring = wbatch_uring(h->wb);
}
