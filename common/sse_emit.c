#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/sse_emit.h"

bool
sse_field_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return false;
	return true;
}

static bool
has_type(const struct sse_out_event *ev)
{
	return ev->type != NULL && ev->type_len > 0 &&
	    !(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0);
}

/* The length of the line break at S (CRLF, CR or LF), 0 if none. */
static size_t
eol_len(const char *s, const char *end)
{
	if (*s == '\n')
		return 1;
	if (*s == '\r')
		return s + 1 < end && s[1] == '\n' ? 2 : 1;
	return 0;
}

size_t
sse_emit_size(const struct sse_out_event *ev)
{
	/* NULL with length 0 is empty data (libmosquitto's empty payload). */
	const char *s = ev->data ? ev->data : "", *end = s + ev->data_len;
	size_t n = 0, lines = 1;
	char num[24];

	if (ev->retry >= 0)
		n += 8 +
		    (size_t)snprintf(num, sizeof(num), "%" PRId64, ev->retry);
	if (ev->id != NULL)
		n += 5 + ev->id_len;
	if (has_type(ev))
		n += 8 + ev->type_len;
	while (s < end) {
		size_t k = eol_len(s, end);

		if (k > 0) {
			lines++;
			s += k;
		} else {
			n++;
			s++;
		}
	}
	/* Each line is "data: " TEXT "\n"; a blank line ends the event. */
	return n + lines * 7 + 1;
}

static char *
put(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

size_t
sse_emit_buf(char *buf, const struct sse_out_event *ev)
{
	const char *s = ev->data ? ev->data : "", *end = s + ev->data_len;
	char *o = buf;

	if (ev->retry >= 0) {
		char num[24];
		int k = snprintf(num, sizeof(num), "%" PRId64, ev->retry);

		o = put(o, "retry: ", 7);
		o = put(o, num, (size_t)k);
		*o++ = '\n';
	}
	if (ev->id != NULL) {
		o = put(o, "id: ", 4);
		o = put(o, ev->id, ev->id_len);
		*o++ = '\n';
	}
	if (has_type(ev)) {
		o = put(o, "event: ", 7);
		o = put(o, ev->type, ev->type_len);
		*o++ = '\n';
	}
	for (;;) {
		const char *q = s;

		while (q < end && *q != '\n' && *q != '\r')
			q++;
		o = put(o, "data: ", 6);
		o = put(o, s, (size_t)(q - s));
		*o++ = '\n';
		if (q == end)
			break;
		s = q + eol_len(q, end);
	}
	*o++ = '\n';
	return (size_t)(o - buf);
}

long
sse_emit(struct evbuffer *out, const struct sse_out_event *ev)
{
	struct evbuffer_iovec v;
	size_t n;

	if ((ev->type != NULL && !sse_field_ok(ev->type, ev->type_len)) ||
	    (ev->id != NULL && !sse_field_ok(ev->id, ev->id_len)))
		return -1;
	n = sse_emit_size(ev);
	if (evbuffer_reserve_space(out, (ev_ssize_t)n, &v, 1) < 1)
		return -1;
	v.iov_len = sse_emit_buf(v.iov_base, ev);
	evbuffer_commit_space(out, &v, 1);
	return (long)n;
}
