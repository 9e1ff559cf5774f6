/*
 * The SSE hub of ssepush and mq2sse: every event is serialized once into
 * shared, reference-counted blocks kept in a history ring; each client
 * holds a position in the stream and is handed references to the bytes it
 * has not had, a whole burst in one write. The work and memory spent per
 * event do not depend on the number of clients.
 *
 * Flow control (SPEC section 6): a client whose unsent data exceeds the
 * window holds the input up (hub_cbs.flow); one that stays behind for the
 * client timeout, or exceeds the client buffer, is disconnected and can
 * resume with Last-Event-ID from the history.
 */
#ifndef MQSSE_SSE_HUB_H
#define MQSSE_SSE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#define HUB_WINDOW (64 * 1024)

struct hub_cfg {
	size_t history;             /* events kept for replay */
	size_t history_bytes;       /* and at most this many bytes of them */
	size_t client_buffer;       /* unsent bytes that disconnect a client */
	uint64_t client_timeout_ms; /* behind the window this long: dropped */
	uint64_t heartbeat_ms;      /* comment to idle clients; 0: none */
	int64_t retry_ms;           /* retry: sent to new clients; -1: none */
	bool verbose;               /* a stderr line per client come and gone */
};

struct hub_cbs {
	/* Input may flow (true) or should wait (false). May be NULL. */
	void (*flow)(void *arg, bool open);
	/* Every client has been sent every event. May be NULL. */
	void (*drained)(void *arg);
};

struct hub_stats {
	uint64_t clients, events_in, events_sent, bytes_sent, dropped;
	uint64_t history_events, history_bytes;
	uint64_t first_id, last_id; /* 0 when the history is empty */
	bool io_uring;              /* rounds of writes go through io_uring */
};

struct hub;

struct hub *hub_new(struct event_base *base, const struct hub_cfg *cfg,
    const struct hub_cbs *cbs, void *arg);
/* Disconnect every client and free everything. */
void hub_free(struct hub *h);

/*
 * Publish an event: TYPE (NULL or "" for message; no CR or LF), DATA, a
 * retry field (-1: none) and the MQTT TOPIC it came from (NULL: none; only
 * clients without filters get it). Returns its id, or 0 when TYPE is not
 * acceptable.
 */
uint64_t hub_publish(struct hub *h, const char *type, size_t type_len,
    const char *data, size_t data_len, int64_t retry, const char *topic);

/*
 * Take over REQ (a GET of the event stream) as a client of the events
 * whose topics match one of FILTERS (none: every event): answer 200 with
 * the stream headers (plus headers already added by the caller), then
 * what PRELUDE (or NULL) adds, then the replay that LAST_ID (or NULL) or
 * BACKLOG (-1: none) asks for, then live events. Events are matched once
 * per distinct set of filters, not once per client.
 *
 * PRELUDE(ARG, OUT, FIRST_ID) appends serialized events to OUT, such as
 * mq2sse's retained messages: FIRST_ID is the id of the first event the
 * replay will send (or of the next event), so the prelude can leave out
 * what the replay brings and give its events the id FIRST_ID - 1, after
 * which a reconnection resumes.
 */
void hub_attach(struct hub *h, struct evhttp_request *req,
    const char *const *filters, size_t nfilters, const char *last_id,
    long backlog,
    void (*prelude)(void *arg, struct evbuffer *out, uint64_t first_id),
    void *arg);

/*
 * End every stream properly (the last chunk after what is still waiting),
 * so that clients see a clean end rather than a cut; run the loop until
 * hub_closed() (or a time limit), then hub_free().
 */
void hub_close(struct hub *h);
bool hub_closed(const struct hub *h);
/*
 * hub_close, then run the loop until the ends are written out, at most
 * TIMEOUT_MS (the caller has stopped its input and timers).
 */
void hub_close_wait(struct hub *h, int timeout_ms);

/* True when every client has been sent every event. */
bool hub_all_sent(const struct hub *h);
/* Input is allowed to flow (no client is behind the window). */
bool hub_flow_open(const struct hub *h);
void hub_stats(const struct hub *h, struct hub_stats *st);

#endif
