/*
 * The text/event-stream serializer: writes an event so that a parser
 * following the WHATWG rules (common/sse_parse) reads back the same type,
 * data and id. SSE cannot carry a bare CR: CR and CRLF in the data arrive
 * as LF, and bytes that are not UTF-8 arrive as U+FFFD.
 */
#ifndef MQSSE_SSE_EMIT_H
#define MQSSE_SSE_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

struct sse_out_event {
	const char *type; /* NULL or "" or "message": the default type */
	size_t type_len;
	const char *data; /* may hold any bytes */
	size_t data_len;
	const char *id; /* NULL: no id line; "" resets the last event ID */
	size_t id_len;
	int64_t retry; /* -1: no retry line */
};

/*
 * True when S (LEN bytes) can be an event type or id: no CR, LF or NUL
 * (a NUL makes a parser ignore an id).
 */
bool sse_field_ok(const char *s, size_t len);

/*
 * Append EV to OUT ("retry:", "id:", "event:", one "data:" line per line
 * of data, then a blank line). Returns the number of bytes appended, or
 * -1 when the type or id is not sse_field_ok (nothing is appended).
 */
long sse_emit(struct evbuffer *out, const struct sse_out_event *ev);

/* The same into a caller's array: BUF must hold sse_emit_size(EV) bytes. */
size_t sse_emit_size(const struct sse_out_event *ev);
size_t sse_emit_buf(char *buf, const struct sse_out_event *ev);

#endif
