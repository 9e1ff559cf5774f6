/*
 * What the text/event-stream unit tests and fuzz targets share: a growable
 * byte string, a list of what a parser reported, a random generator, a
 * copying feed, and a slow, obviously correct reference that applies the
 * WHATWG rules literally to a whole stream (decode, split into lines,
 * interpret), written differently from common/sse_parse.c.
 */
#ifndef MQSSE_SSE_REF_H
#define MQSSE_SSE_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sse_parse.h"
#include "common/xalloc.h"

/* A growable byte string, always NUL-terminated once something is added. */
struct buf {
	char *p;
	size_t len, cap;
};

static inline void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Replace the contents of B with the N bytes of S. */
static inline void
buf_set(struct buf *b, const void *s, size_t n)
{
	b->len = 0;
	buf_add(b, s, n);
}

/* What a parser reported, in order. */
enum rec_kind { REC_EVENT, REC_RETRY, REC_TOO_BIG };

struct rec {
	enum rec_kind kind;
	char *type, *data, *id;
	size_t type_len, data_len, id_len;
	uint64_t num; /* the retry value or the too_big size */
	bool bad;     /* set by a callback that found the report malformed */
};

struct log {
	struct rec *v;
	size_t n, cap;
	size_t max;    /* the parser's limit, for the too_big check */
	char *last_id; /* the last event ID when the run is over, or NULL */
};

/* A new report of KIND at the end of LG, zeroed but for its kind. */
static inline struct rec *
log_push(struct log *lg, enum rec_kind kind)
{
	struct rec *r;

	if (lg->n == lg->cap) {
		lg->cap = lg->cap ? lg->cap * 2 : 16;
		lg->v = xrealloc(lg->v, lg->cap * sizeof(*lg->v));
	}
	r = &lg->v[lg->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

/* An event at the end of LG, with copies of its type, data and id. */
static inline void
log_event(struct log *lg, const char *type, size_t type_len, const char *data,
    size_t data_len, const char *id, size_t id_len)
{
	struct rec *r = log_push(lg, REC_EVENT);

	r->type = xmemdup0(type, type_len);
	r->type_len = type_len;
	r->data = xmemdup0(data, data_len);
	r->data_len = data_len;
	r->id = xmemdup0(id, id_len);
	r->id_len = id_len;
}

/* Forget the reports of LG; its limit and last event ID stay. */
static inline void
log_clear(struct log *lg)
{
	for (size_t i = 0; i < lg->n; i++) {
		free(lg->v[i].type);
		free(lg->v[i].data);
		free(lg->v[i].id);
	}
	lg->n = 0;
}

/* Free everything LG holds and zero it. */
static inline void
log_free(struct log *lg)
{
	log_clear(lg);
	free(lg->v);
	free(lg->last_id);
	memset(lg, 0, sizeof(*lg));
}

/*
 * A fixed-seed generator (xorshift64*), so that failures reproduce: the
 * next number of the state *S, below N.
 */
static inline uint32_t
xorshift_below(uint64_t *s, uint32_t n)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545F4914F6CDD1Du) >> 32) % n;
}

/*
 * Feed a copy of S that is overwritten and freed at once, so that a
 * pointer the parser kept into a read's bytes shows (AddressSanitizer, or
 * wrong data).
 */
static inline void
feed_copy(struct sse_parser *p, const void *s, size_t n)
{
	char *copy = xmalloc(n + 1);

	if (n > 0)
		memcpy(copy, s, n);
	sse_parser_feed(p, copy, n);
	memset(copy, '#', n + 1);
	free(copy);
}

/*
 * The reference UTF-8 decoding: one U+FFFD for each maximal subpart of an
 * ill-formed sequence (Unicode 3.9, which the WHATWG decoder follows).
 */

/* The length of a sequence that starts with C; 0 when C starts none. */
static inline size_t
ref_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* Whether C may be byte K (1, 2 or 3) of a sequence led by LEAD. */
static inline bool
ref_cont_ok(unsigned char lead, size_t k, unsigned char c)
{
	unsigned char lo = 0x80, hi = 0xBF;

	if (k == 1) {
		if (lead == 0xE0)
			lo = 0xA0;
		else if (lead == 0xED)
			hi = 0x9F;
		else if (lead == 0xF0)
			lo = 0x90;
		else if (lead == 0xF4)
			hi = 0x8F;
	}
	return c >= lo && c <= hi;
}

/* The LEN bytes of S with their ill-formed UTF-8 replaced, into OUT. */
static inline void
ref_sanitise(struct buf *out, const char *s, size_t len)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t i = 0;

	buf_set(out, "", 0);
	while (i < len) {
		size_t n = ref_seq_len(in[i]), k = 1;

		if (n == 0) {
			buf_add(out, "\xEF\xBF\xBD", 3);
			i++;
			continue;
		}
		while (k < n && i + k < len && ref_cont_ok(in[i], k, in[i + k]))
			k++;
		if (k == n)
			buf_add(out, in + i, n);
		else
			buf_add(out, "\xEF\xBF\xBD", 3);
		i += k;
	}
}

/*
 * DATA as a parser reads it back from sse_emit's lines: CRLF and CR as LF,
 * then sanitised, into OUT.
 */
static inline void
ref_expect_data(struct buf *out, const char *s, size_t len)
{
	struct buf lf = {0};

	buf_set(&lf, "", 0);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			buf_add(&lf, "\n", 1);
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else {
			buf_add(&lf, s + i, 1);
		}
	}
	ref_sanitise(out, lf.p, lf.len);
	free(lf.p);
}

/* The state of the reference interpretation: the event being built. */
struct ref {
	struct buf data, type, id, last;
	struct log *lg;
};

/* Interpret one line (without its end) of the decoded stream. */
static inline void
ref_line(struct ref *r, const char *s, size_t n)
{
	const char *colon, *v = "";
	size_t nlen = n, vlen = 0;

	if (n == 0) {
		/* Dispatch: the last event ID is set even without data. */
		buf_set(&r->last, r->id.p, r->id.len);
		if (r->data.len > 0) {
			r->data.len--; /* the last LF */
			log_event(r->lg,
			    r->type.len > 0 ? r->type.p : "message",
			    r->type.len > 0 ? r->type.len : 7, r->data.p,
			    r->data.len, r->last.p, r->last.len);
		}
		buf_set(&r->data, "", 0);
		buf_set(&r->type, "", 0);
		return;
	}
	if (s[0] == ':')
		return;
	colon = memchr(s, ':', n);
	if (colon != NULL) {
		nlen = (size_t)(colon - s);
		v = colon + 1;
		vlen = n - nlen - 1;
		if (vlen > 0 && v[0] == ' ')
			v++, vlen--;
	}
	if (nlen == 5 && memcmp(s, "event", 5) == 0) {
		buf_set(&r->type, v, vlen);
	} else if (nlen == 4 && memcmp(s, "data", 4) == 0) {
		buf_add(&r->data, v, vlen);
		buf_add(&r->data, "\n", 1);
	} else if (nlen == 2 && memcmp(s, "id", 2) == 0) {
		if (memchr(v, '\0', vlen) == NULL)
			buf_set(&r->id, v, vlen);
	} else if (nlen == 5 && memcmp(s, "retry", 5) == 0 && vlen > 0) {
		uint64_t ms = 0;
		size_t i;

		for (i = 0; i < vlen; i++) {
			unsigned d = (unsigned char)v[i] - (unsigned)'0';

			if (d > 9 || ms > (UINT64_MAX - d) / 10)
				break; /* not a digit, or past 2^64-1 */
			ms = ms * 10 + d;
		}
		if (i == vlen)
			log_push(r->lg, REC_RETRY)->num = ms;
	}
}

/*
 * Parse the LEN bytes of IN with the reference into LG (overwritten, not
 * freed first), its last_id included. There is no limit: nothing is too
 * big.
 */
static inline void
ref_parse(struct log *lg, const char *in, size_t len)
{
	struct ref r;
	struct buf text = {0};
	size_t pos = 0;

	memset(lg, 0, sizeof(*lg));
	memset(&r, 0, sizeof(r));
	r.lg = lg;
	buf_set(&r.data, "", 0);
	buf_set(&r.type, "", 0);
	buf_set(&r.id, "", 0);
	buf_set(&r.last, "", 0);
	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		in += 3, len -= 3;
	ref_sanitise(&text, in, len);
	for (;;) {
		size_t eol = pos;

		while (eol < text.len && text.p[eol] != '\r' &&
		    text.p[eol] != '\n')
			eol++;
		if (eol == text.len)
			break; /* an unfinished line is discarded */
		ref_line(&r, text.p + pos, eol - pos);
		pos = eol + 1;
		if (text.p[eol] == '\r' && pos < text.len &&
		    text.p[pos] == '\n')
			pos++;
	}
	lg->last_id = xstrdup(r.last.p);
	free(r.data.p);
	free(r.type.p);
	free(r.id.p);
	free(r.last.p);
	free(text.p);
}

#endif
