#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/fmt.h"
#include "common/jsonrec.h"
#include "common/record.h"
#include "common/sse_emit.h"
#include "common/sse_parse.h"
#include "common/topic.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "tests/fuzz/targets.h"
#include "tests/lib/sse_ref.h"
#include "tests/lib/topic_ref.h"

/* Report what disagreed and stop, so that the fuzzer saves the input. */
static void
fail(const char *what)
{
	fprintf(stderr, "fuzz: %s\n", what);
	abort();
}

/* The bytes of B as a new NUL-terminated string; *LEN gets the length. */
static char *
take(struct evbuffer *b, size_t *len)
{
	size_t n = evbuffer_get_length(b);
	char *s = xmalloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	*len = n;
	return s;
}

static char *
encode(const struct record *r, size_t *len)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	jsonrec_encode(r, b);
	s = take(b, len);
	evbuffer_free(b);
	return s;
}

/*
 * A parsed record encodes to a line that parses to the same topic, payload,
 * qos and retain (qos and retain that were not given encode as 0 and
 * false); encoding the second record gives the same line again.
 */
int
fuzz_jsonrec(const uint8_t *data, size_t size)
{
	struct record r, back;
	char err[256], *line, *again;
	size_t len, len2;

	record_init(&r);
	if (jsonrec_parse((const char *)data, size, &r, err, sizeof(err)) != 0)
		return 0;
	if (r.topic == NULL)
		r.topic = xstrdup("fuzz/topic");
	line = encode(&r, &len);
	if (strlen(line) != len)
		fail("the encoding holds a NUL byte");
	record_init(&back);
	if (jsonrec_parse(line, len, &back, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: %s: %s\n", err, line);
		fail("the encoding does not parse");
	}
	if (back.topic == NULL || strcmp(back.topic, r.topic) != 0)
		fail("topic differs after the round trip");
	if (back.payload_len != r.payload_len ||
	    (r.payload_len > 0 &&
	        memcmp(back.payload, r.payload, r.payload_len) != 0))
		fail("payload differs after the round trip");
	if (back.qos != (r.qos < 0 ? 0 : r.qos))
		fail("qos differs after the round trip");
	if (back.retain != (r.retain > 0 ? 1 : 0))
		fail("retain differs after the round trip");
	again = encode(&back, &len2);
	if (len2 != len || memcmp(again, line, len) != 0) {
		fprintf(stderr, "fuzz: first:  %s\nfuzz: second: %s\n", line,
		    again);
		fail("encoding is not stable");
	}
	free(again);
	free(line);
	record_cleanup(&back);
	record_cleanup(&r);
	return 0;
}

/*
 * Render with a record that has every field and property that a template
 * can name, so that every conversion is reached.
 */
int
fuzz_fmt(const uint8_t *data, size_t size)
{
	static bool tz_set;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
	char err[256], *tmpl = xmemdup0(data, tlen);
	struct evbuffer *out;
	struct record r;
	struct fmt *f;

	if (!tz_set) {
		setenv("TZ", "UTC", 1);
		tzset();
		tz_set = true;
	}
	err[0] = '\0';
	f = fmt_compile(tmpl, err, sizeof(err));
	if (f == NULL) {
		if (err[0] == '\0')
			fail("fmt_compile failed without a reason");
		free(tmpl);
		return 0;
	}
	record_init(&r);
	r.topic = xstrdup("fuzz/topic");
	if (nul != NULL) {
		r.payload_len = size - tlen - 1;
		r.payload = (unsigned char *)xmemdup0(nul + 1, r.payload_len);
	}
	r.qos = 1;
	r.retain = 1;
	r.mid = 7;
	r.ts.tv_sec = 1795334400;
	r.ts.tv_nsec = 123456789;
	mosquitto_property_add_string(&r.props, MQTT_PROP_CONTENT_TYPE, "ct");
	mosquitto_property_add_string(&r.props, MQTT_PROP_RESPONSE_TOPIC, "rt");
	mosquitto_property_add_string_pair(
	    &r.props, MQTT_PROP_USER_PROPERTY, "k", "v");
	mosquitto_property_add_int32(
	    &r.props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 60);
	mosquitto_property_add_byte(
	    &r.props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
	mosquitto_property_add_binary(
	    &r.props, MQTT_PROP_CORRELATION_DATA, "\x00\x01", 2);
	mosquitto_property_add_int16(&r.props, MQTT_PROP_TOPIC_ALIAS, 3);
	mosquitto_property_add_varint(
	    &r.props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, 4);
	out = evbuffer_new();
	fmt_render(f, &r, out);
	/* Plain text renders as itself. */
	if (strpbrk(tmpl, "%@\\") == NULL &&
	    (evbuffer_get_length(out) != tlen ||
	        (tlen > 0 &&
	            memcmp(evbuffer_pullup(out, -1), tmpl, tlen) != 0)))
		fail("a template without sequences is not copied as is");
	evbuffer_free(out);
	record_cleanup(&r);
	fmt_free(f);
	free(tmpl);
	return 0;
}

int
fuzz_topic(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t flen = nul != NULL ? (size_t)(nul - data) : size;
	size_t tlen = nul != NULL ? size - flen - 1 : 0;
	char *filter = xmemdup0(data, flen);
	char *topic = xmemdup0(nul != NULL ? nul + 1 : data, tlen);
	char err[256];
	bool sub_ok, pub_ok, got;
	const char *unshared;

	sub_ok = topic_check_sub(filter, err, sizeof(err)) == 0;
	pub_ok = topic_check_pub(topic, tlen, err, sizeof(err)) == 0;
	unshared = topic_unshare(filter);
	if (unshared < filter || unshared > filter + flen)
		fail("topic_unshare points outside the filter");
	got = topic_matches(filter, topic);
	if (sub_ok && pub_ok && got != ref_match(filter, topic)) {
		fprintf(stderr, "fuzz: '%s' vs '%s': topic_matches says %d\n",
		    filter, topic, got);
		fail("topic_matches disagrees with the reference");
	}
	/* A valid topic is a valid filter that matches itself. */
	if (pub_ok && strncmp(topic, "$share/", 7) != 0) {
		if (topic_check_sub(topic, err, sizeof(err)) != 0)
			fail("a valid topic is not a valid filter");
		if (!topic_matches(topic, topic))
			fail("a topic does not match itself");
	}
	free(filter);
	free(topic);
	return 0;
}

/*
 * text/event-stream. What a parser reports is kept as a list: events,
 * retry values and skipped events (struct log), compared between feeding
 * patterns and with a reference that applies the WHATWG rules to the whole
 * stream (both in tests/lib/sse_ref.h).
 */

/* Valid UTF-8, NUL bytes allowed (utf8_is_text refuses them). */
static bool
fz_utf8(const char *s, size_t n)
{
	while (n > 0) {
		const char *nul = memchr(s, '\0', n);
		size_t k = nul != NULL ? (size_t)(nul - s) : n;

		if (!utf8_is_text(s, k))
			return false;
		if (nul == NULL)
			break;
		s += k + 1;
		n -= k + 1;
	}
	return true;
}

static void
fz_on_event(void *arg, const struct sse_event *ev)
{
	if (ev->type == NULL || ev->type_len == 0)
		fail("an event without a type");
	if (ev->id == NULL || (ev->data == NULL && ev->data_len > 0))
		fail("an event with a NULL id or data");
	if (!fz_utf8(ev->type, ev->type_len) || !fz_utf8(ev->id, ev->id_len) ||
	    !fz_utf8(ev->data, ev->data_len))
		fail("an event that is not UTF-8");
	if (memchr(ev->id, '\0', ev->id_len) != NULL)
		fail("an id holding NUL");
	log_event(arg, ev->type, ev->type_len, ev->data, ev->data_len, ev->id,
	    ev->id_len);
}

static void
fz_on_retry(void *arg, uint64_t ms)
{
	log_push(arg, REC_RETRY)->num = ms;
}

static void
fz_on_too_big(void *arg, size_t size)
{
	struct log *lg = arg;

	if (size < lg->max)
		fail("too_big reports a size below the limit");
	log_push(lg, REC_TOO_BIG)->num = size;
}

static const struct sse_parse_cbs fz_cbs = {
    fz_on_event, fz_on_retry, fz_on_too_big};

/*
 * Parse S with limit MAX in pieces ending at CUTS (ascending); STEP > 0
 * feeds STEP bytes at a time instead.
 */
static void
fz_parse(struct log *lg, const uint8_t *s, size_t n, size_t max,
    const size_t *cuts, size_t ncuts, size_t step)
{
	struct sse_parser *p;
	size_t off = 0;

	memset(lg, 0, sizeof(*lg));
	lg->max = max;
	p = sse_parser_new(max, &fz_cbs, lg);
	if (step > 0) {
		for (off = 0; off < n; off += step)
			feed_copy(p, s + off, n - off < step ? n - off : step);
	} else {
		for (size_t i = 0; i < ncuts; i++) {
			feed_copy(p, s + off, cuts[i] - off);
			off = cuts[i];
		}
		feed_copy(p, s + off, n - off);
	}
	lg->last_id = xstrdup(sse_parser_last_id(p));
	sse_parser_free(p);
}

static bool
fz_mem_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Whether two reports are the same; WITH_ID compares the ids too. */
static bool
fz_rep_eq(const struct rec *a, const struct rec *b, bool with_id)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind != REC_EVENT)
		return a->num == b->num;
	return fz_mem_eq(a->type, a->type_len, b->type, b->type_len) &&
	    fz_mem_eq(a->data, a->data_len, b->data, b->data_len) &&
	    (!with_id || fz_mem_eq(a->id, a->id_len, b->id, b->id_len));
}

static void
fz_print(const char *what, const struct log *lg)
{
	fprintf(stderr, "fuzz: %s: %zu reports, last id '%s'\n", what, lg->n,
	    lg->last_id);
	for (size_t i = 0; i < lg->n; i++) {
		const struct rec *r = &lg->v[i];

		if (r->kind == REC_EVENT)
			fprintf(stderr,
			    "fuzz:   event '%s' id '%s' data %zu '%s'\n",
			    r->type, r->id, r->data_len, r->data);
		else
			fprintf(stderr, "fuzz:   %s %llu\n",
			    r->kind == REC_RETRY ? "retry" : "too_big",
			    (unsigned long long)r->num);
	}
}

static void
fz_same(const struct log *a, const struct log *b, const char *what)
{
	bool same = a->n == b->n && strcmp(a->last_id, b->last_id) == 0;

	for (size_t i = 0; same && i < a->n; i++)
		same = fz_rep_eq(&a->v[i], &b->v[i], true);
	if (!same) {
		fz_print("first", a);
		fz_print("second", b);
		fail(what);
	}
}

int
fuzz_sse_parse(const uint8_t *data, size_t size)
{
	size_t max = size > 0 ? 1 + (size_t)data[0] * 16 : 4096;
	size_t cuts[2];
	struct log whole, bytes, split, ref, big, again, fresh;
	size_t i, j;

	if (data == NULL)
		data = (const uint8_t *)"";

	cuts[0] = size > 0
	    ? ((size_t)data[size - 1] * 257 + size / 3) % (size + 1)
	    : 0;
	cuts[1] =
	    cuts[0] + (size > 0 ? data[size / 2] % (size - cuts[0] + 1) : 0);

	/* A small limit: the same reports whatever the reads. */
	fz_parse(&whole, data, size, max, NULL, 0, 0);
	fz_parse(&bytes, data, size, max, NULL, 0, 1);
	fz_same(&whole, &bytes, "fed byte by byte differs from fed whole");
	fz_parse(&split, data, size, max, cuts, 2, 0);
	fz_same(&whole, &split, "fed in three pieces differs from fed whole");

	/* No limit: exactly the reference. */
	ref_parse(&ref, (const char *)data, size);
	fz_parse(&big, data, size, SIZE_MAX, NULL, 0, 0);
	fz_same(&ref, &big, "the parser differs from the reference");

	/*
	 * With the limit, each event of the reference is delivered (same
	 * type and data; the id may differ after a skipped event) or
	 * reported too big, and the retry values are the same.
	 */
	if (whole.n != ref.n) {
		fz_print("limited", &whole);
		fz_print("reference", &ref);
		fail("the limit changes the number of reports");
	}
	for (i = 0; i < whole.n; i++) {
		const struct rec *a = &whole.v[i], *b = &ref.v[i];

		if (a->kind == REC_TOO_BIG ? b->kind != REC_EVENT
		                           : !fz_rep_eq(a, b, false)) {
			fz_print("limited", &whole);
			fz_print("reference", &ref);
			fail(
			    "the limit changes an event that it does not skip");
		}
	}

	/*
	 * After sse_parser_reset the parser reads the stream again as a new
	 * parser that starts from the last id.
	 */
	{
		struct sse_parser *p;

		memset(&again, 0, sizeof(again));
		again.max = max;
		p = sse_parser_new(max, &fz_cbs, &again);
		feed_copy(p, data, size);
		j = again.n;
		sse_parser_reset(p);
		memset(&fresh, 0, sizeof(fresh));
		fresh.max = max;
		{
			struct sse_parser *q =
			    sse_parser_new(max, &fz_cbs, &fresh);

			sse_parser_set_id(q, sse_parser_last_id(p));
			feed_copy(q, data, size);
			fresh.last_id = xstrdup(sse_parser_last_id(q));
			sse_parser_free(q);
		}
		feed_copy(p, data, size);
		again.last_id = xstrdup(sse_parser_last_id(p));
		sse_parser_free(p);
		/* Only the reports of the second pass. */
		for (i = 0; i < j; i++) {
			free(again.v[i].type);
			free(again.v[i].id);
			free(again.v[i].data);
		}
		if (j > 0) {
			memmove(again.v, again.v + j,
			    (again.n - j) * sizeof(*again.v));
			again.n -= j;
		}
		fz_same(&fresh, &again,
		    "after reset the parser differs from a new one");
	}

	log_free(&whole);
	log_free(&bytes);
	log_free(&split);
	log_free(&ref);
	log_free(&big);
	log_free(&again);
	log_free(&fresh);
	return 0;
}

/*
 * Each event takes a 4-byte header from the input: FLAGS, TYPE_LEN,
 * ID_LEN, DATA_LEN, then its type, id and data bytes. FLAGS & 3: no type,
 * "", "message" or the type bytes; & 4: the id bytes, else & 8: "", else
 * no id; & 0x10: a retry line (& 0x20: near INT64_MAX); & 0x80: the data
 * is the rest of the input.
 */
int
fuzz_sse_roundtrip(const uint8_t *data, size_t size)
{
	struct evbuffer *out = evbuffer_new();
	struct log want, got, bytes;
	struct buf t = {0}, d = {0}, last = {0};
	size_t pos = 0;

	memset(&want, 0, sizeof(want));
	buf_set(&last, "", 0);
	while (pos < size) {
		uint8_t h[4] = {0, 0, 0, 0};
		struct sse_out_event ev;
		size_t before = evbuffer_get_length(out), tl, il, dl;
		bool fine;
		long r;

		for (int k = 0; k < 4 && pos < size; k++)
			h[k] = data[pos++];
		tl = h[1] % 16;
		il = h[2] % 16;
		dl = h[3];
		memset(&ev, 0, sizeof(ev));
		switch (h[0] & 3) {
		case 0:
			ev.type = NULL;
			break;
		case 1:
			ev.type = "";
			break;
		case 2:
			ev.type = "message", ev.type_len = 7;
			break;
		default:
			tl = tl < size - pos ? tl : size - pos;
			ev.type = (const char *)data + pos;
			ev.type_len = tl;
			pos += tl;
		}
		if (h[0] & 4) {
			il = il < size - pos ? il : size - pos;
			ev.id = (const char *)data + pos;
			ev.id_len = il;
			pos += il;
		} else if (h[0] & 8) {
			ev.id = "";
		}
		if (h[0] & 0x80 || dl > size - pos)
			dl = size - pos;
		ev.data = (const char *)data + pos;
		ev.data_len = dl;
		pos += dl;
		ev.retry = !(h[0] & 0x10) ? -1
		    : (h[0] & 0x20)       ? INT64_MAX - h[1]
		                          : (int64_t)h[1] * 256 + h[2];

		fine =
		    (ev.type == NULL || sse_field_ok(ev.type, ev.type_len)) &&
		    (ev.id == NULL || sse_field_ok(ev.id, ev.id_len));
		r = sse_emit(out, &ev);
		if (!fine) {
			if (r != -1 || evbuffer_get_length(out) != before)
				fail("sse_emit took a type or id with CR, LF "
				     "or NUL");
			continue;
		}
		if (r < 0 || (size_t)r != sse_emit_size(&ev) ||
		    evbuffer_get_length(out) - before != (size_t)r)
			fail(
			    "sse_emit appended other than sse_emit_size bytes");
		{
			char *buf = xmalloc((size_t)r + 1);
			size_t n;

			buf[r] = '#';
			n = sse_emit_buf(buf, &ev);
			if (n != (size_t)r || buf[r] != '#')
				fail("sse_emit_buf wrote other than its size");
			if (memcmp(buf, evbuffer_pullup(out, -1) + before, n) !=
			    0)
				fail("sse_emit_buf differs from sse_emit");
			free(buf);
		}

		if (ev.retry >= 0)
			log_push(&want, REC_RETRY)->num = (uint64_t)ev.retry;
		if (ev.id != NULL)
			ref_sanitise(&last, ev.id, ev.id_len);
		if (ev.type != NULL && ev.type_len > 0)
			ref_sanitise(&t, ev.type, ev.type_len);
		else
			buf_set(&t, "message", 7);
		ref_expect_data(&d, ev.data, ev.data_len);
		log_event(&want, t.p, t.len, d.p, d.len, last.p, last.len);
	}
	want.last_id = xstrdup(last.p);

	{
		size_t n = evbuffer_get_length(out);
		const uint8_t *s =
		    n > 0 ? evbuffer_pullup(out, -1) : (const uint8_t *)"";
		size_t cut[1];

		cut[0] = size > 0 ? (size_t)data[0] * 7 % (n + 1) : 0;
		fz_parse(&got, s, n, SIZE_MAX, cut, 1, 0);
		fz_same(&want, &got, "the round trip changes the events");
		fz_parse(&bytes, s, n, SIZE_MAX, NULL, 0, 1);
		fz_same(&want, &bytes,
		    "the round trip fed byte by byte changes the events");
	}
	log_free(&want);
	log_free(&got);
	log_free(&bytes);
	free(t.p);
	free(d.p);
	free(last.p);
	evbuffer_free(out);
	return 0;
}
