#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sse_parse.h"
#include "common/xalloc.h"

/* A growable byte buffer, always NUL-terminated. */
struct sbuf {
	char *p;
	size_t len, cap;
};

enum field { F_IGNORE, F_DATA, F_EVENT, F_ID, F_RETRY };
enum state { S_START, S_NAME, S_VALUE_FIRST, S_VALUE, S_SKIP };

struct sse_parser {
	size_t max;
	struct sse_parse_cbs cbs;
	void *arg;

	/* The UTF-8 decoder (WHATWG Encoding, "UTF-8 decoder"). */
	unsigned needed, seen;
	unsigned char lower, upper;
	unsigned char pend[4]; /* the bytes of a sequence split by a read */
	size_t npend;
	bool at_start; /* no code point seen yet: a BOM may come */

	/* The line parser. */
	enum state st;
	bool skip_lf; /* the last line ended with CR: a LF now is its end */
	char name[8];
	size_t name_len; /* > sizeof(name): too long to be a known field */
	enum field field;
	bool retry_ok, id_long;
	size_t retry_digits;
	uint64_t retry;

	/* The event being read. */
	struct sbuf data, type, idval;
	/*
	 * The first data line, while it is the only one and lies whole in the
	 * segment being parsed: not copied unless more follows.
	 */
	const char *view;
	size_t view_len;
	bool view_on;
	bool oversize, had_data;
	size_t over;

	/* The "last event ID buffer" and the last dispatched event's ID. */
	struct sbuf id, last_id;
	bool id_dirty; /* ID may differ from LAST_ID */

	/* Where the next CR and LF of the current segment are. */
	const char *cr, *lf;
};

static void
sb_reserve(struct sbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap < 64 ? 64 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_clear(struct sbuf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void
sb_set(struct sbuf *b, const char *s, size_t n)
{
	sb_clear(b);
	sb_add(b, s, n);
}

static void
sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

struct sse_parser *
sse_parser_new(size_t max_event, const struct sse_parse_cbs *cbs, void *arg)
{
	struct sse_parser *p = xcalloc(1, sizeof(*p));

	p->max = max_event;
	p->cbs = *cbs;
	p->arg = arg;
	sb_set(&p->id, "", 0);
	sb_set(&p->last_id, "", 0);
	sb_set(&p->data, "", 0);
	sb_set(&p->type, "", 0);
	sb_set(&p->idval, "", 0);
	sse_parser_reset(p);
	return p;
}

void
sse_parser_free(struct sse_parser *p)
{
	if (p == NULL)
		return;
	sb_free(&p->data);
	sb_free(&p->type);
	sb_free(&p->idval);
	sb_free(&p->id);
	sb_free(&p->last_id);
	free(p);
}

void
sse_parser_reset(struct sse_parser *p)
{
	p->needed = p->seen = 0;
	p->lower = 0x80;
	p->upper = 0xBF;
	p->npend = 0;
	p->at_start = true;
	p->st = S_START;
	p->skip_lf = false;
	p->oversize = p->had_data = p->view_on = false;
	p->over = 0;
	sb_clear(&p->data);
	sb_clear(&p->type);
	sb_clear(&p->idval);
	/* A new connection's parser starts from the last event ID string. */
	sb_set(&p->id, p->last_id.p, p->last_id.len);
	p->id_dirty = false;
}

const char *
sse_parser_last_id(const struct sse_parser *p)
{
	return p->last_id.p;
}

void
sse_parser_set_id(struct sse_parser *p, const char *id)
{
	sb_set(&p->last_id, id, strlen(id));
	sb_set(&p->id, id, strlen(id));
	p->id_dirty = false;
}

/* Copy the data line held as a view into the data buffer. */
static void
materialize(struct sse_parser *p)
{
	if (p->view_on) {
		p->view_on = false;
		sb_add(&p->data, p->view, p->view_len);
		sb_add(&p->data, "\n", 1);
	}
}

/*
 * The event grows by N bytes (a line break of the data when LF): past the
 * limit it is only counted. The data's last line break is not part of the
 * event, so it does not count against the limit.
 */
static bool
room(struct sse_parser *p, size_t n, bool lf)
{
	size_t data = p->view_on ? p->view_len + 1 : p->data.len;
	size_t size = data + p->type.len + p->idval.len;
	bool slack = lf || (p->field != F_DATA && data > 0);

	if (!p->oversize && size + n - (slack && size + n > 0) <= p->max)
		return true;
	if (!p->oversize) {
		p->oversize = true;
		p->over = size;
		p->view_on = false;
	}
	p->over += n;
	return false;
}

static void
dispatch(struct sse_parser *p)
{
	/* The last event ID string is set even when nothing is dispatched. */
	if (p->id_dirty) {
		p->id_dirty = false;
		sb_set(&p->last_id, p->id.p, p->id.len);
	}
	if (p->oversize) {
		if (p->had_data && p->cbs.too_big != NULL)
			p->cbs.too_big(p->arg, p->over);
	} else if (p->view_on || p->data.len > 0) {
		struct sse_event ev;

		if (p->view_on) {
			ev.data = p->view;
			ev.data_len = p->view_len;
		} else {
			p->data.p[--p->data.len] = '\0'; /* the last LF */
			ev.data = p->data.p;
			ev.data_len = p->data.len;
		}
		if (p->type.len > 0) {
			ev.type = p->type.p;
			ev.type_len = p->type.len;
		} else {
			ev.type = "message";
			ev.type_len = 7;
		}
		ev.id = p->last_id.p;
		ev.id_len = p->last_id.len;
		p->cbs.event(p->arg, &ev);
	}
	p->oversize = p->had_data = p->view_on = false;
	p->over = 0;
	sb_clear(&p->data);
	sb_clear(&p->type);
}

static enum field
lookup(const char *name, size_t len)
{
	if (len == 4 && memcmp(name, "data", 4) == 0)
		return F_DATA;
	if (len == 5 && memcmp(name, "event", 5) == 0)
		return F_EVENT;
	if (len == 2 && memcmp(name, "id", 2) == 0)
		return F_ID;
	if (len == 5 && memcmp(name, "retry", 5) == 0)
		return F_RETRY;
	return F_IGNORE;
}

static void
field_begin(struct sse_parser *p)
{
	p->field = p->name_len <= sizeof(p->name) ? lookup(p->name, p->name_len)
	                                          : F_IGNORE;
	switch (p->field) {
	case F_DATA:
		p->had_data = true;
		break;
	case F_EVENT:
		sb_clear(&p->type); /* the value replaces the type */
		break;
	case F_ID:
		sb_clear(&p->idval);
		p->id_long = false;
		break;
	case F_RETRY:
		p->retry_ok = true;
		p->retry_digits = 0;
		p->retry = 0;
		break;
	case F_IGNORE:
		break;
	}
}

static void
field_value(struct sse_parser *p, const char *s, size_t n)
{
	switch (p->field) {
	case F_DATA:
		materialize(p);
		if (room(p, n, false))
			sb_add(&p->data, s, n);
		break;
	case F_EVENT:
		if (room(p, n, false))
			sb_add(&p->type, s, n);
		break;
	case F_ID:
		/*
		 * An id still counts after the event went over the limit (as
		 * for a browser, the event is skipped, not its id), as long
		 * as the id alone fits.
		 */
		if (room(p, n, false) || p->idval.len + n <= p->max)
			sb_add(&p->idval, s, n);
		else
			p->id_long = true;
		break;
	case F_RETRY:
		for (size_t i = 0; i < n && p->retry_ok; i++) {
			unsigned d = (unsigned char)s[i] - '0';

			/* Digits only; a value past 2^64-1 is ignored too. */
			if (d > 9 || p->retry > (UINT64_MAX - d) / 10)
				p->retry_ok = false;
			else
				p->retry = p->retry * 10 + d, p->retry_digits++;
		}
		break;
	case F_IGNORE:
		break;
	}
}

static void
field_end(struct sse_parser *p)
{
	switch (p->field) {
	case F_DATA:
		materialize(p);
		if (room(p, 1, true))
			sb_add(&p->data, "\n", 1);
		break;
	case F_ID:
		/* An id holding U+0000 is ignored. */
		if (!p->id_long &&
		    memchr(p->idval.p, '\0', p->idval.len) == NULL) {
			sb_set(&p->id, p->idval.p, p->idval.len);
			p->id_dirty = true;
		}
		sb_clear(&p->idval);
		break;
	case F_RETRY:
		if (p->retry_ok && p->retry_digits > 0 && p->cbs.retry != NULL)
			p->cbs.retry(p->arg, p->retry);
		break;
	case F_EVENT:
	case F_IGNORE:
		break;
	}
}

/* The next CR or LF at or after S in the current segment, or END. */
static const char *
find_eol(struct sse_parser *p, const char *s, const char *end)
{
	/* Short lines are common: look at a few bytes before memchr. */
	for (int i = 0; i < 16 && s + i < end; i++)
		if (s[i] == '\n' || s[i] == '\r')
			return s + i;
	if (p->lf == NULL || p->lf < s) {
		p->lf = memchr(s, '\n', (size_t)(end - s));
		if (p->lf == NULL)
			p->lf = end;
	}
	if (p->cr == NULL || p->cr < s) {
		p->cr = memchr(s, '\r', (size_t)(end - s));
		if (p->cr == NULL)
			p->cr = end;
	}
	return p->cr < p->lf ? p->cr : p->lf;
}

/* Nothing of an event under way: the fast path of simple_events may run. */
static bool
simple(const struct sse_parser *p)
{
	return !p->view_on && p->data.len == 0 && p->type.len == 0 &&
	    !p->oversize && !p->id_dirty && !p->skip_lf;
}

/*
 * The most common shape of a stream, "data: X" LF LF over and over, parsed
 * without the state machine: each complete event is dispatched straight
 * from the segment. Returns where the general path takes over (S itself
 * when the first event is not of that shape or not whole here).
 */
static const char *
simple_events(struct sse_parser *p, const char *s, const char *end)
{
	while (end - s >= 7 && memcmp(s, "data:", 5) == 0) {
		const char *v = s + (s[5] == ' ' ? 6 : 5), *q;
		struct sse_event ev;

		q = find_eol(p, v, end);
		if (end - q < 2 || q[0] != '\n' || q[1] != '\n' ||
		    (size_t)(q - v) > p->max)
			break;
		ev.data = v;
		ev.data_len = (size_t)(q - v);
		ev.type = "message";
		ev.type_len = 7;
		ev.id = p->last_id.p;
		ev.id_len = p->last_id.len;
		p->cbs.event(p->arg, &ev);
		s = q + 2;
	}
	return s;
}

/* Parse decoded text: S holds whole code points only. */
static void
lines(struct sse_parser *p, const char *s, size_t n)
{
	const char *end = s + n;

	if (p->at_start && n > 0) {
		p->at_start = false;
		if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
	}
	p->cr = p->lf = NULL;
	while (s < end) {
		if (p->skip_lf) {
			p->skip_lf = false;
			if (*s == '\n') {
				s++;
				continue;
			}
		}
		switch (p->st) {
		case S_START:
			if (*s == '\r' || *s == '\n') {
				p->skip_lf = *s == '\r';
				s++;
				dispatch(p);
			} else if (*s == ':') {
				s++;
				p->st = S_SKIP;
			} else if (end - s >= 6 && memcmp(s, "data:", 5) == 0) {
				/* Whole "data: X" LF LF events, one after another. */
				const char *t =
				    simple(p) ? simple_events(p, s, end) : s;

				if (t != s) {
					s = t;
					break;
				}
				/* The common line, without the general path. */
				p->field = F_DATA;
				p->had_data = true;
				s += s[5] == ' ' ? 6 : 5;
				p->st = S_VALUE;
			} else {
				p->name_len = 0;
				p->st = S_NAME;
			}
			break;
		case S_NAME: {
			const char *q = s;

			while (q < end && *q != ':' && *q != '\r' && *q != '\n')
				q++;
			if (p->name_len + (size_t)(q - s) <= sizeof(p->name)) {
				memcpy(
				    p->name + p->name_len, s, (size_t)(q - s));
				p->name_len += (size_t)(q - s);
			} else {
				p->name_len = sizeof(p->name) + 1;
			}
			s = q;
			if (s == end)
				break;
			field_begin(p);
			if (*s == ':') {
				s++;
				p->st = S_VALUE_FIRST;
			} else {
				/* A line without a colon: the value is empty. */
				field_end(p);
				p->skip_lf = *s == '\r';
				s++;
				p->st = S_START;
			}
			break;
		}
		case S_VALUE_FIRST:
			p->st = S_VALUE;
			if (*s == ' ')
				s++;
			else if (*s == '\r' || *s == '\n')
				p->st = S_SKIP,
				field_end(p); /* S_SKIP ends the line */
			break;
		case S_VALUE: {
			const char *q = find_eol(p, s, end);
			size_t k = (size_t)(q - s);

			if (p->field == F_DATA && q < end && !p->view_on &&
			    p->data.len == 0 && !p->oversize &&
			    p->type.len + p->idval.len + k <= p->max) {
				/* A whole first data line: keep a view. */
				p->view_on = true;
				p->view = s;
				p->view_len = k;
				p->skip_lf = *q == '\r';
				s = q + 1;
				p->st = S_START;
				break;
			}
			field_value(p, s, k);
			s = q;
			if (s == end)
				break;
			field_end(p);
			p->skip_lf = *s == '\r';
			s++;
			p->st = S_START;
			break;
		}
		case S_SKIP: {
			s = find_eol(p, s, end);
			if (s == end)
				break;
			p->skip_lf = *s == '\r';
			s++;
			p->st = S_START;
			break;
		}
		}
	}
	/* The segment's bytes are not ours after this call. */
	materialize(p);
}

static const char replacement[] = "\xEF\xBF\xBD";

/*
 * Start a sequence with lead byte C: returns false when C is not a lead
 * byte (an error), true otherwise (ASCII included: NEEDED stays 0).
 */
static bool
utf8_lead(struct sse_parser *p, unsigned char c)
{
	if (c < 0x80)
		return true;
	if (c >= 0xC2 && c <= 0xDF) {
		p->needed = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0)
			p->lower = 0xA0;
		else if (c == 0xED)
			p->upper = 0x9F;
		p->needed = 2;
	} else if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0)
			p->lower = 0x90;
		else if (c == 0xF4)
			p->upper = 0x8F;
		p->needed = 3;
	} else {
		return false;
	}
	p->seen = 0;
	return true;
}

static void
utf8_reset(struct sse_parser *p)
{
	p->needed = p->seen = 0;
	p->lower = 0x80;
	p->upper = 0xBF;
	p->npend = 0;
}

/* True when the 8 bytes at S are all ASCII. */
static bool
ascii8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return (w & UINT64_C(0x8080808080808080)) == 0;
}

void
sse_parser_feed(struct sse_parser *p, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t i = 0, start, seq = 0;

	/* Finish a sequence that the previous read split. */
	while (p->needed > 0 && i < len) {
		unsigned char c = b[i];

		if (c < p->lower || c > p->upper) {
			utf8_reset(p);
			lines(p, replacement, 3);
			break; /* C is read again below */
		}
		p->lower = 0x80;
		p->upper = 0xBF;
		p->pend[p->npend++] = c;
		i++;
		if (++p->seen == p->needed) {
			lines(p, (const char *)p->pend, p->npend);
			utf8_reset(p);
		}
	}
	if (p->needed > 0)
		return; /* every byte went to the split sequence */
	start = i;
	while (i < len) {
		unsigned char c = b[i];

		if (p->needed == 0) {
			if (c < 0x80) {
				i++;
				while (i + 8 <= len && ascii8(b + i))
					i += 8;
				continue;
			}
			if (!utf8_lead(p, c)) {
				lines(p, (const char *)b + start, i - start);
				lines(p, replacement, 3);
				start = ++i;
				continue;
			}
			seq = i++;
			continue;
		}
		if (c < p->lower || c > p->upper) {
			/* The sequence is dropped and C is read again. */
			lines(p, (const char *)b + start, seq - start);
			lines(p, replacement, 3);
			utf8_reset(p);
			start = i;
			continue;
		}
		p->lower = 0x80;
		p->upper = 0xBF;
		i++;
		if (++p->seen == p->needed)
			p->needed = p->seen = 0;
	}
	if (p->needed > 0) {
		/* Keep the unfinished sequence for the next read. */
		lines(p, (const char *)b + start, seq - start);
		p->npend = len - seq;
		memcpy(p->pend, b + seq, p->npend);
	} else {
		lines(p, (const char *)b + start, len - start);
	}
}
