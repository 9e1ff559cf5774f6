/*
 * common/sse_emit.c: the exact text/event-stream bytes of typical events,
 * sse_emit_size and sse_emit_buf against sse_emit, the refusal of types and
 * ids that cannot be sent, and a round trip through common/sse_parse of
 * many generated events (fixed seed): the parser must read back the type,
 * the id and the data with CR and CRLF turned into LF and the bytes that
 * are not UTF-8 turned into U+FFFD the way the WHATWG decoder does.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "tests/lib/tap.h"
#include "tests/lib/sse_ref.h"
#include "common/sse_emit.h"
#include "common/sse_parse.h"
#include "common/xalloc.h"

#define S(x) x, sizeof(x) - 1
#define R "\xEF\xBF\xBD"

struct emit_case {
	const char *name;
	const char *type; /* NULL: no type */
	size_t type_len;
	const char *id; /* NULL: no id line */
	size_t id_len;
	const char *data;
	size_t data_len;
	int64_t retry;
	const char *want;
	size_t want_len;
};

#define NONE NULL, 0

static const struct emit_case emit_cases[] = {
    {"data only", NONE, NONE, S("hello"), -1, S("data: hello\n\n")},
    {"empty type omitted", S(""), NONE, S("hello"), -1, S("data: hello\n\n")},
    {"type message omitted", S("message"), NONE, S("hello"), -1,
        S("data: hello\n\n")},
    {"type messages kept", S("messages"), NONE, S("x"), -1,
        S("event: messages\ndata: x\n\n")},
    {"type Message kept", S("Message"), NONE, S("x"), -1,
        S("event: Message\ndata: x\n\n")},
    {"prefix of message kept", "message", 4, NONE, S("x"), -1,
        S("event: mess\ndata: x\n\n")},
    {"type", S("update"), NONE, S("hello"), -1,
        S("event: update\ndata: hello\n\n")},
    {"type with a leading space", S(" t"), NONE, S("x"), -1,
        S("event:  t\ndata: x\n\n")},
    {"everything", S("t"), S("42"), S("a"), 3000,
        S("retry: 3000\nid: 42\nevent: t\ndata: a\n\n")},
    {"retry zero", NONE, NONE, S("a"), 0, S("retry: 0\ndata: a\n\n")},
    {"retry INT64_MAX", NONE, NONE, S("a"), INT64_MAX,
        S("retry: 9223372036854775807\ndata: a\n\n")},
    {"negative retry omitted", NONE, NONE, S("a"), -5, S("data: a\n\n")},
    {"empty id", NONE, S(""), S("x"), -1, S("id: \ndata: x\n\n")},
    {"id with a leading space", NONE, S(" 7"), S("x"), -1,
        S("id:  7\ndata: x\n\n")},
    {"id of exactly the given length", NONE, "12345", 3, S("x"), -1,
        S("id: 123\ndata: x\n\n")},
    {"LF splits data", NONE, NONE, S("a\nb"), -1, S("data: a\ndata: b\n\n")},
    {"CR splits data", NONE, NONE, S("a\rb"), -1, S("data: a\ndata: b\n\n")},
    {"CRLF splits data once", NONE, NONE, S("a\r\nb"), -1,
        S("data: a\ndata: b\n\n")},
    {"LF CR is two breaks", NONE, NONE, S("a\n\rb"), -1,
        S("data: a\ndata: \ndata: b\n\n")},
    {"CR CR LF is two breaks", NONE, NONE, S("a\r\r\nb"), -1,
        S("data: a\ndata: \ndata: b\n\n")},
    {"empty data", NONE, NONE, S(""), -1, S("data: \n\n")},
    {"data of a space", NONE, NONE, S(" "), -1, S("data:  \n\n")},
    {"data starting with a space", NONE, NONE, S(" x"), -1, S("data:  x\n\n")},
    {"trailing LF", NONE, NONE, S("a\n"), -1, S("data: a\ndata: \n\n")},
    {"trailing CR", NONE, NONE, S("a\r"), -1, S("data: a\ndata: \n\n")},
    {"trailing CRLF", NONE, NONE, S("a\r\n"), -1, S("data: a\ndata: \n\n")},
    {"data of one LF", NONE, NONE, S("\n"), -1, S("data: \ndata: \n\n")},
    {"data of one CR", NONE, NONE, S("\r"), -1, S("data: \ndata: \n\n")},
    {"leading LF", NONE, NONE, S("\nx"), -1, S("data: \ndata: x\n\n")},
    {"NUL in data", NONE, NONE, S("a\0b"), -1, S("data: a\0b\n\n")},
    {"data looking like fields", NONE, NONE, S("data: x\n:c\nid: 1"), -1,
        S("data: data: x\ndata: :c\ndata: id: 1\n\n")},
    {"invalid UTF-8 copied as is", S("\xFF"), S("\xC3"), S("\xE0\x80"), -1,
        S("id: \xC3\nevent: \xFF\ndata: \xE0\x80\n\n")},
};

/* Check one event's bytes three ways: sse_emit, sse_emit_size, _buf. */
static void
check_emit(const struct emit_case *c)
{
	struct sse_out_event ev = {c->type, c->type_len, c->data, c->data_len,
	    c->id, c->id_len, c->retry};
	struct evbuffer *out = evbuffer_new();
	char name[256];
	size_t size, n;
	long r;
	char *arr;

	evbuffer_add(out, "prev", 4);
	r = sse_emit(out, &ev);
	snprintf(name, sizeof(name), "%s: sse_emit bytes", c->name);
	is_mem(evbuffer_pullup(out, -1) + 4, evbuffer_get_length(out) - 4,
	    c->want, c->want_len, name);
	snprintf(
	    name, sizeof(name), "%s: sse_emit returns the length", c->name);
	is_int(r, (long long)c->want_len, name);

	size = sse_emit_size(&ev);
	snprintf(name, sizeof(name), "%s: sse_emit_size", c->name);
	is_int((long long)size, (long long)c->want_len, name);

	/* Canary bytes after SIZE: sse_emit_buf writes exactly SIZE bytes. */
	arr = xmalloc(size + 16);
	memset(arr, '#', size + 16);
	n = sse_emit_buf(arr, &ev);
	snprintf(name, sizeof(name), "%s: sse_emit_buf", c->name);
	ok(n == size && memcmp(arr, c->want, c->want_len) == 0 &&
	        memcmp(arr + size, "################", 16) == 0,
	    name);
	free(arr);
	evbuffer_free(out);
}

struct bad_case {
	const char *name;
	const char *type;
	size_t type_len;
	const char *id;
	size_t id_len;
};

static const struct bad_case bad_cases[] = {
    {"type with LF", S("a\nb"), NONE},
    {"type with CR", S("a\rb"), NONE},
    {"type with NUL", S("a\0b"), NONE},
    {"type ending in LF", S("message\n"), NONE},
    {"id with LF", NONE, S("1\n")},
    {"id with CR", NONE, S("\r1")},
    {"id with NUL", NONE, S("1\0")},
    {"good type, bad id", S("t"), S("\n")},
    {"bad type, good id", S("\r"), S("1")},
};

static void
check_bad(const struct bad_case *c)
{
	struct sse_out_event ev = {
	    c->type, c->type_len, "data", 4, c->id, c->id_len, 5};
	struct evbuffer *out = evbuffer_new();
	char name[256];
	long r;

	evbuffer_add(out, "prev", 4);
	r = sse_emit(out, &ev);
	snprintf(name, sizeof(name), "%s: sse_emit returns -1", c->name);
	is_int(r, -1, name);
	snprintf(name, sizeof(name), "%s: nothing appended", c->name);
	is_mem(evbuffer_pullup(out, -1), evbuffer_get_length(out), "prev", 4,
	    name);
	evbuffer_free(out);
}

static void
check_field_ok(void)
{
	ok(sse_field_ok("", 0), "sse_field_ok: empty");
	ok(sse_field_ok("abc def:", 8), "sse_field_ok: text, space, colon");
	ok(sse_field_ok("\xFF\xC3", 2),
	    "sse_field_ok: bytes that are not UTF-8");
	ok(sse_field_ok("ab\n", 2),
	    "sse_field_ok: only LEN bytes are looked at");
	ok(!sse_field_ok("\n", 1), "sse_field_ok: LF");
	ok(!sse_field_ok("a\r", 2), "sse_field_ok: CR");
	ok(!sse_field_ok("a\0b", 3), "sse_field_ok: NUL");
	ok(!sse_field_ok("abc\r\n", 5), "sse_field_ok: CRLF at the end");
}

/*
 * The expected reading (tests/lib/sse_ref.h): CRLF and CR become LF, then
 * every maximal subpart of an ill-formed UTF-8 sequence becomes U+FFFD (the
 * WHATWG decoder).
 */
static void
check_sanitiser(void)
{
	struct buf b = {0};

	ref_expect_data(&b, S("a\r\nb\rc\n\rd"));
	is_str(b.p, "a\nb\nc\n\nd", "reference: CRLF and CR become LF");
	ref_expect_data(&b, S("\xC3\x28\xE0\x80\xF0\x9F\x98x\xED\xA0\x80"));
	is_str(b.p, R "(" R R R "x" R R R, "reference: maximal subparts");
	ref_expect_data(&b, S("\xF4\x90\x80\x80\xC0\xAF\xE2\x82"));
	is_str(
	    b.p, R R R R R R R, "reference: F4 90, C0, truncated at the end");
	free(b.p);
}

/* What the parser reads back: one line per report, as a string. */
static void
on_event(void *arg, const struct sse_event *ev)
{
	struct buf *b = arg;

	buf_add(b, "E", 1);
	buf_add(b, ev->type, ev->type_len);
	buf_add(b, "\0", 1);
	buf_add(b, ev->id, ev->id_len);
	buf_add(b, "\0", 1);
	buf_add(b, ev->data, ev->data_len);
	buf_add(b, "\0\n", 2);
}

static void
on_retry(void *arg, uint64_t ms)
{
	char num[32];

	snprintf(num, sizeof(num), "R%llu\n", (unsigned long long)ms);
	buf_add(arg, num, strlen(num));
}

static void
on_too_big(void *arg, size_t size)
{
	buf_add(arg, "TOO BIG\n", 8);
}

static const struct sse_parse_cbs cbs = {on_event, on_retry, on_too_big};

/* The expected reading of EV after a stream whose last id is *LAST. */
static void
expect_event(struct buf *want, const struct sse_out_event *ev, struct buf *last)
{
	struct buf t = {0};
	char num[32];

	if (ev->retry >= 0) {
		snprintf(num, sizeof(num), "R%lld\n", (long long)ev->retry);
		buf_add(want, num, strlen(num));
	}
	if (ev->id != NULL)
		ref_sanitise(last, ev->id, ev->id_len);
	buf_add(want, "E", 1);
	if (ev->type == NULL || ev->type_len == 0)
		buf_add(want, "message", 7);
	else {
		ref_sanitise(&t, ev->type, ev->type_len);
		buf_add(want, t.p, t.len);
	}
	buf_add(want, "\0", 1);
	buf_add(want, last->p, last->len);
	buf_add(want, "\0", 1);
	ref_expect_data(&t, ev->data, ev->data_len);
	buf_add(want, t.p, t.len);
	buf_add(want, "\0\n", 2);
	free(t.p);
}

/* Parse LEN bytes of S fed in pieces of at most STEP bytes (0: whole). */
static void
read_back(struct buf *got, const char *s, size_t len, size_t step)
{
	struct sse_parser *p = sse_parser_new((size_t)1 << 24, &cbs, got);
	size_t off = 0;

	got->len = 0;
	buf_add(got, "", 0);
	if (step == 0)
		step = len;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		feed_copy(p, s + off, n);
		off += n;
	}
	sse_parser_free(p);
}

/* Round trips of a few hand-written events with the expected reading. */
struct trip_case {
	const char *name;
	struct sse_out_event ev;
	const char *want; /* "E" TYPE NUL ID NUL DATA NUL LF */
	size_t want_len;
};

static const struct trip_case trip_cases[] = {
    {"plain", {NULL, 0, S("hi"), NULL, 0, -1}, S("Emessage\0\0hi\0\n")},
    {"CR and CRLF come back as LF", {S("t"), S("a\r\nb\rc\nd"), S("1"), -1},
        S("Et\0"
          "1\0a\nb\nc\nd\0\n")},
    {"trailing newline kept", {NULL, 0, S("a\n"), NULL, 0, -1},
        S("Emessage\0\0a\n\0\n")},
    {"empty data", {NULL, 0, S(""), NULL, 0, -1}, S("Emessage\0\0\0\n")},
    {"leading space kept", {NULL, 0, S("  x"), S(" i"), 9},
        S("R9\nEmessage\0 i\0  x\0\n")},
    {"invalid UTF-8 becomes U+FFFD",
        {S("\xC3"), S("\xE0\x80"), S("\xC3\x28\xF0\x9F\x98"), -1},
        S("E" R "\0" R "(" R "\0" R R "\0\n")},
    {"NUL kept in data", {NULL, 0, S("\0a\0"), NULL, 0, -1},
        S("Emessage\0\0\0a\0\0\n")},
};

static void
check_trip_cases(void)
{
	struct buf got = {0}, want = {0}, last = {0};
	struct evbuffer *out;
	char name[256];

	for (size_t i = 0; i < sizeof(trip_cases) / sizeof(trip_cases[0]);
	     i++) {
		const struct trip_case *c = &trip_cases[i];

		out = evbuffer_new();
		sse_emit(out, &c->ev);
		read_back(&got, (const char *)evbuffer_pullup(out, -1),
		    evbuffer_get_length(out), 0);
		snprintf(name, sizeof(name), "round trip: %s", c->name);
		is_mem(got.p, got.len, c->want, c->want_len, name);
		/* The reference expectation says the same. */
		want.len = 0;
		buf_add(&want, "", 0);
		last.len = 0;
		buf_add(&last, "", 0);
		expect_event(&want, &c->ev, &last);
		snprintf(name, sizeof(name),
		    "round trip: %s: reference expectation", c->name);
		is_mem(want.p, want.len, c->want, c->want_len, name);
		evbuffer_free(out);
	}
	free(got.p);
	free(want.p);
	free(last.p);
}

/* A fixed-seed generator (xorshift64*), so that failures reproduce. */
static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint32_t
rnd(uint32_t n)
{
	return xorshift_below(&rng_state, n);
}

static const char *const pieces[] = {"a", "xyz", " ", ":", "\n", "\r", "\r\n",
    "\n\r", "data: ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
    "\xEF\xBB\xBF", "\xC3", "\x80", "\xFF", "\xE0\x80", "\xED\xA0\x80",
    "\xF4\x90\x80\x80", "\xF0\x9F\x98"};

/*
 * N random bytes into B: from PIECES or any byte at all; NO_EOL leaves
 * out CR, LF and NUL (for a type or an id).
 */
static void
random_bytes(struct buf *b, size_t n, bool no_eol)
{
	b->len = 0;
	buf_add(b, "", 0);
	while (b->len < n) {
		if (rnd(3) == 0) {
			char c = (char)rnd(256);

			if (no_eol && (c == '\r' || c == '\n' || c == '\0'))
				c = '_';
			buf_add(b, &c, 1);
		} else {
			const char *s =
			    pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

			if (no_eol && strpbrk(s, "\r\n") != NULL)
				continue;
			buf_add(b, s, strlen(s));
		}
	}
}

/*
 * Many random events in one stream: the parser, fed whole, byte by byte
 * and in odd-sized pieces, reads back every type, id and data as
 * expected; the id goes on from event to event when none is given.
 */
static void
check_random_trip(void)
{
	enum { NEV = 2000 };
	struct buf types[NEV], ids[NEV], datas[NEV];
	struct sse_out_event evs[NEV];
	struct buf want = {0}, got = {0}, last = {0};
	struct evbuffer *out = evbuffer_new();
	long total = 0;
	bool sizes_ok = true;
	const char *stream;
	size_t len;

	buf_add(&want, "", 0);
	buf_add(&last, "", 0);
	for (int i = 0; i < NEV; i++) {
		struct sse_out_event *ev = &evs[i];
		long r;

		memset(&types[i], 0, sizeof(types[i]));
		memset(&ids[i], 0, sizeof(ids[i]));
		memset(&datas[i], 0, sizeof(datas[i]));
		random_bytes(&types[i], rnd(6), true);
		random_bytes(&ids[i], rnd(6), true);
		random_bytes(&datas[i], rnd(40), false);
		switch (rnd(5)) {
		case 0:
			ev->type = NULL, ev->type_len = 0;
			break;
		case 1:
			ev->type = "message", ev->type_len = 7;
			break;
		default:
			ev->type = types[i].p, ev->type_len = types[i].len;
		}
		if (rnd(3) == 0)
			ev->id = NULL, ev->id_len = 0;
		else
			ev->id = ids[i].p, ev->id_len = ids[i].len;
		ev->data = datas[i].p;
		ev->data_len = datas[i].len;
		ev->retry = rnd(4) == 0 ? (int64_t)rnd(100000) : -1;
		r = sse_emit(out, ev);
		if (r < 0 || (size_t)r != sse_emit_size(ev))
			sizes_ok = false;
		total += r;
		expect_event(&want, ev, &last);
	}
	ok(sizes_ok, "2000 random events: sse_emit returns sse_emit_size");
	is_int((long long)evbuffer_get_length(out), total,
	    "2000 random events: the stream is the sum of the returns");
	len = evbuffer_get_length(out);
	stream = (const char *)evbuffer_pullup(out, -1);

	read_back(&got, stream, len, 0);
	is_mem(got.p, got.len, want.p, want.len,
	    "2000 random events read back (fed whole)");
	read_back(&got, stream, len, 1);
	is_mem(got.p, got.len, want.p, want.len,
	    "2000 random events read back (fed byte by byte)");
	read_back(&got, stream, len, 7);
	is_mem(got.p, got.len, want.p, want.len,
	    "2000 random events read back (fed 7 bytes at a time)");

	/* sse_emit_buf writes the same stream. */
	{
		struct buf all = {0};
		bool same = true;

		buf_add(&all, "", 0);
		for (int i = 0; i < NEV; i++) {
			size_t n = sse_emit_size(&evs[i]);
			char *a = xmalloc(n + 1);

			a[n] = '#';
			if (sse_emit_buf(a, &evs[i]) != n || a[n] != '#')
				same = false;
			buf_add(&all, a, n);
			free(a);
		}
		ok(same && all.len == len && memcmp(all.p, stream, len) == 0,
		    "2000 random events: sse_emit_buf writes what sse_emit "
		    "appends");
		free(all.p);
	}

	for (int i = 0; i < NEV; i++) {
		free(types[i].p);
		free(ids[i].p);
		free(datas[i].p);
	}
	free(want.p);
	free(got.p);
	free(last.p);
	evbuffer_free(out);
}

/* A long event: 1 MB of data with a line break every 1000 bytes. */
static void
check_long(void)
{
	const size_t n = 1000 * 1000;
	char *data = xmalloc(n);
	struct sse_out_event ev = {"big", 3, NULL, 0, "1", 1, -1};
	struct evbuffer *out = evbuffer_new();
	struct buf got = {0}, want = {0}, last = {0};
	long r;

	for (size_t i = 0; i < n; i++)
		data[i] = i % 1000 == 999 ? (i % 3000 == 999 ? '\r' : '\n')
		                          : (char)('a' + i % 26);
	ev.data = data;
	ev.data_len = n;
	r = sse_emit(out, &ev);
	is_int(r, (long long)sse_emit_size(&ev), "1 MB event: size");
	buf_add(&want, "", 0);
	buf_add(&last, "", 0);
	expect_event(&want, &ev, &last);
	read_back(&got, (const char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out), 4096);
	is_mem(got.p, got.len, want.p, want.len, "1 MB event read back");
	free(got.p);
	free(want.p);
	free(last.p);
	free(data);
	evbuffer_free(out);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(emit_cases) / sizeof(emit_cases[0]); i++)
		check_emit(&emit_cases[i]);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(&bad_cases[i]);
	check_field_ok();
	check_sanitiser();
	check_trip_cases();
	check_random_trip();
	check_long();
	return done();
}
