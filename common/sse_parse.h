/*
 * An incremental text/event-stream parser that follows the WHATWG HTML
 * "server-sent events" interpretation rules: the bytes are decoded as UTF-8
 * the way browsers do (a leading BOM skipped once, invalid sequences become
 * U+FFFD, also when split between reads), lines end at CRLF, LF or CR (a
 * CRLF split between two reads is one line end, and a CR ends its line at
 * once), events are dispatched at blank lines.
 *
 * Memory is bounded by the largest event: lines are never buffered whole,
 * each field's value goes straight to the buffer it sets, and an event
 * larger than the limit is skipped (reported through the too_big callback).
 */
#ifndef MQSSE_SSE_PARSE_H
#define MQSSE_SSE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* One dispatched event; the pointers are valid during the callback only. */
struct sse_event {
	const char *type; /* "message" when the stream gave none */
	size_t type_len;
	const char *data; /* DATA_LEN bytes (may hold NUL), not terminated */
	size_t data_len;
	const char *id; /* the last event ID, "" when none */
	size_t id_len;
};

struct sse_parse_cbs {
	/* An event was dispatched. */
	void (*event)(void *arg, const struct sse_event *ev);
	/* A retry field with only ASCII digits: the reconnection time. */
	void (*retry)(void *arg, uint64_t ms);
	/*
	 * An event whose data, type or id exceeded the limit was skipped;
	 * SIZE is how many bytes it had reached (at least the limit). May be
	 * NULL.
	 */
	void (*too_big)(void *arg, size_t size);
};

struct sse_parser;

/* A parser for events of at most MAX_EVENT bytes (data, type and id). */
struct sse_parser *sse_parser_new(
    size_t max_event, const struct sse_parse_cbs *cbs, void *arg);
void sse_parser_free(struct sse_parser *p);

/* Parse LEN more bytes of the stream; callbacks run before it returns. */
void sse_parser_feed(struct sse_parser *p, const void *buf, size_t len);

/*
 * A new stream begins (a reconnection): the unfinished event and line of
 * the old one are discarded, a BOM is skipped again, and the last event ID
 * is the one of the last event dispatched (or set with sse_parser_set_id).
 */
void sse_parser_reset(struct sse_parser *p);

/* The last event ID to send on reconnection ("" when none). */
const char *sse_parser_last_id(const struct sse_parser *p);
/* Start with ID as the last event ID (ssecat --last-event-id). */
void sse_parser_set_id(struct sse_parser *p, const char *id);

#endif
