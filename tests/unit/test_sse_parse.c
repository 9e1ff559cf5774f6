/*
 * common/sse_parse.c: the WHATWG HTML "server-sent events" interpretation
 * rules (BOM, line ends, fields, dispatch, last event ID, retry) and the
 * browser's UTF-8 decoding, plus --max-event.
 *
 * Every table case is parsed fed whole, one byte at a time, split into two
 * feeds at every position and into three feeds at every pair of positions:
 * all must report the same events, retry values, skipped events and last
 * event ID. The table's expectations are also checked against a reference
 * that applies the WHATWG rules literally to the whole stream (decode, split
 * into lines, interpret), and random streams compare the parser with it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "tests/lib/sse_ref.h"
#include "common/sse_parse.h"
#include "common/xalloc.h"

/* S(x): a string literal with its length (without the final NUL). */
#define S(x) x, sizeof(x) - 1
/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define R "\xEF\xBF\xBD"
#define BOM "\xEF\xBB\xBF"
/* The limit of the table cases that do not give one. */
#define BIG ((size_t)1 << 20)

static void
on_event(void *arg, const struct sse_event *ev)
{
	struct log *lg = arg;

	log_event(lg, ev->type, ev->type_len, ev->data, ev->data_len, ev->id,
	    ev->id_len);
	lg->v[lg->n - 1].bad = ev->type == NULL || ev->type_len == 0 ||
	    ev->id == NULL || (ev->data == NULL && ev->data_len > 0);
}

static void
on_retry(void *arg, uint64_t ms)
{
	log_push(arg, REC_RETRY)->num = ms;
}

static void
on_too_big(void *arg, size_t size)
{
	struct log *lg = arg;
	struct rec *r = log_push(lg, REC_TOO_BIG);

	r->num = size;
	r->bad = size < lg->max;
}

static const struct sse_parse_cbs cbs = {on_event, on_retry, on_too_big};

/* Escape S for the rendering: ~ n r 0 p stand for ~ LF CR NUL |. */
static void
esc(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '~':
			buf_str(b, "~~");
			break;
		case '\n':
			buf_str(b, "~n");
			break;
		case '\r':
			buf_str(b, "~r");
			break;
		case '\0':
			buf_str(b, "~0");
			break;
		case '|':
			buf_str(b, "~p");
			break;
		default:
			buf_add(b, s + i, 1);
		}
	}
}

/*
 * One line per report: "TYPE|ID|DATA" for an event ("!" first when the
 * callback got a malformed event), "retry N", "too_big" (with its size
 * when SIZES; "too_big<max" when the size is below the limit).
 */
static void
render(struct buf *b, const struct log *lg, bool sizes)
{
	char num[64];

	buf_add(b, "", 0); /* never NULL, even with nothing to render */

	for (size_t i = 0; i < lg->n; i++) {
		const struct rec *r = &lg->v[i];

		switch (r->kind) {
		case REC_EVENT:
			if (r->bad)
				buf_str(b, "!");
			esc(b, r->type, r->type_len);
			buf_str(b, "|");
			esc(b, r->id, r->id_len);
			buf_str(b, "|");
			esc(b, r->data, r->data_len);
			break;
		case REC_RETRY:
			snprintf(num, sizeof(num), "retry %llu",
			    (unsigned long long)r->num);
			buf_str(b, num);
			break;
		case REC_TOO_BIG:
			buf_str(b, r->bad ? "too_big<max" : "too_big");
			if (sizes) {
				snprintf(num, sizeof(num), " %llu",
				    (unsigned long long)r->num);
				buf_str(b, num);
			}
			break;
		}
		buf_str(b, "\n");
	}
}

/*
 * Parse IN fed in pieces that end at CUTS[0] < ... (the last piece ends at
 * LEN); the log goes to LG (cleared first), the last event ID to its
 * last_id.
 */
static void
parse_cuts(const char *in, size_t len, size_t max, const size_t *cuts,
    size_t ncuts, struct log *lg)
{
	struct sse_parser *p;
	size_t off = 0;

	log_clear(lg);
	lg->max = max;
	p = sse_parser_new(max, &cbs, lg);
	for (size_t i = 0; i < ncuts; i++) {
		feed_copy(p, in + off, cuts[i] - off);
		off = cuts[i];
	}
	feed_copy(p, in + off, len - off);
	free(lg->last_id);
	lg->last_id = xstrdup(sse_parser_last_id(p));
	sse_parser_free(p);
}

/* The rendering of a whole run, with sizes and the last event ID. */
static char *
render_run(struct log *lg)
{
	struct buf b = {0};

	render(&b, lg, true);
	buf_str(&b, "last=");
	esc(&b, lg->last_id, strlen(lg->last_id));
	log_free(lg);
	return b.p;
}

static char *
run(const char *in, size_t len, size_t max, const size_t *cuts, size_t ncuts)
{
	struct log lg = {0};

	parse_cuts(in, len, max, cuts, ncuts, &lg);
	return render_run(&lg);
}

/* The same fed one byte at a time. */
static char *
run_bytes(const char *in, size_t len, size_t max)
{
	size_t *cuts = xmalloc((len + 1) * sizeof(*cuts));
	char *s;

	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	s = run(in, len, max, cuts, len);
	free(cuts);
	return s;
}

/*
 * The same with the reference of tests/lib/sse_ref.h, which applies the
 * WHATWG rules literally to the whole stream and knows no limit.
 */
static char *
run_ref(const char *in, size_t len)
{
	struct log lg = {0};

	ref_parse(&lg, in, len);
	return render_run(&lg);
}

struct parse_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;    /* the reports, see render() */
	const char *last_id; /* NULL: not checked */
	size_t max;          /* 0: BIG */
};

static const struct parse_case cases[] = {
    /* The byte order mark. */
    {"BOM skipped", S(BOM "data: x\n\n"), "message||x\n", NULL, 0},
    {"BOM then a comment", S(BOM ":c\ndata: x\n\n"), "message||x\n", NULL, 0},
    {"BOM then a blank line", S(BOM "\ndata: x\n\n"), "message||x\n", NULL, 0},
    {"second BOM not skipped (field name U+FEFF data)",
        S(BOM BOM "data: x\n\n"), "", NULL, 0},
    {"BOM after a line not skipped", S("\n" BOM "data: x\n\n"), "", NULL, 0},
    {"BOM after an event not skipped", S("data: a\n\n" BOM "data: b\n\n"),
        "message||a\n", NULL, 0},
    {"BOM inside data kept", S("data: " BOM "x\n\n"), "message||" BOM "x\n",
        NULL, 0},
    {"half a BOM is U+FFFD",
        S("\xEF\xBB"
          "data: x\n\ndata: y\n\n"),
        "message||y\n", NULL, 0},
    {"BOM alone", S(BOM), "", NULL, 0},

    /* Line ends. */
    {"LF", S("data: a\n\n"), "message||a\n", NULL, 0},
    {"CR", S("data: a\r\r"), "message||a\n", NULL, 0},
    {"CRLF", S("data: a\r\n\r\n"), "message||a\n", NULL, 0},
    {"mixed line ends join", S("data: a\rdata: b\ndata: c\r\n\r\n"),
        "message||a~nb~nc\n", NULL, 0},
    {"CRLF is one line end (no extra blank line)",
        S("data: a\r\ndata: b\r\n\r\n"), "message||a~nb\n", NULL, 0},
    {"LF CR is two line ends", S("data: a\n\rdata: b\n\n"),
        "message||a\nmessage||b\n", NULL, 0},
    {"CR CR LF", S("data: a\r\r\ndata: b\n\n"), "message||a\nmessage||b\n",
        NULL, 0},
    {"blank line CRLF after LF", S("data: a\n\r\n"), "message||a\n", NULL, 0},
    {"blank line CR at the very end", S("data: a\r\n\r"), "message||a\n", NULL,
        0},
    {"only line ends", S("\r\n\r\n\n\r\r"), "", NULL, 0},
    {"empty stream", S(""), "", "", 0},
    {"CR inside a value ends it", S("data: a\rb\n\n"), "message||a\n", NULL, 0},

    /* Field values. */
    {"no space after the colon", S("data:x\n\n"), "message||x\n", NULL, 0},
    {"one space removed", S("data: x\n\n"), "message||x\n", NULL, 0},
    {"only one space removed", S("data:  x\n\n"), "message|| x\n", NULL, 0},
    {"a tab is kept", S("data:\tx\n\n"), "message||\tx\n", NULL, 0},
    {"value of two spaces", S("data:  \n\n"), "message|| \n", NULL, 0},
    {"trailing spaces kept", S("data: x  \n\n"), "message||x  \n", NULL, 0},
    {"colons in the value", S("data: a:b: c\n\n"), "message||a:b: c\n", NULL,
        0},
    {"value starting with a colon", S("data::x\n\n"), "message||:x\n", NULL, 0},

    /* Comments. */
    {"comment ignored", S(":comment\ndata: x\n\n"), "message||x\n", NULL, 0},
    {"empty comment", S(":\ndata: x\n\n"), "message||x\n", NULL, 0},
    {"comment holding a field", S(": data: x\n\n"), "", NULL, 0},
    {"comment does not dispatch", S("data: x\n:c\n\n"), "message||x\n", NULL,
        0},
    {"comment with CR", S(":c\rdata: x\r\r"), "message||x\n", NULL, 0},
    {"comment does not end the event", S("data: a\n:c\ndata: b\n\n"),
        "message||a~nb\n", NULL, 0},

    /* Data. */
    {"two data lines joined with LF", S("data: a\ndata: b\n\n"),
        "message||a~nb\n", NULL, 0},
    {"empty data line in the middle", S("data: a\ndata:\ndata: b\n\n"),
        "message||a~n~nb\n", NULL, 0},
    {"only one trailing LF removed", S("data: a\ndata\n\n"), "message||a~n\n",
        NULL, 0},
    {"bare data line: empty data", S("data\n\n"), "message||\n", NULL, 0},
    {"data colon: empty data", S("data:\n\n"), "message||\n", NULL, 0},
    {"data colon space: empty data", S("data: \n\n"), "message||\n", NULL, 0},
    {"two bare data lines", S("data\ndata\n\n"), "message||~n\n", NULL, 0},
    {"several blank lines between events", S("data: a\n\n\n\ndata: b\n\n"),
        "message||a\nmessage||b\n", NULL, 0},
    {"NUL bytes in data kept", S("data: a\0b\0\n\n"), "message||a~0b~0\n", NULL,
        0},
    {"NUL alone", S("data:\0\n\n"), "message||~0\n", NULL, 0},
    {"long data",
        S("data: 0123456789012345678901234567890123456789012345"
          "678901234567890123456789\n\n"),
        "message||0123456789012345678901234567890123456789012345678901234"
        "567890123456789\n",
        NULL, 0},

    /* No dispatch without data. */
    {"event only", S("event: foo\n\n"), "", NULL, 0},
    {"id only: no event but the last id set", S("id: 5\n\n"), "", "5", 0},
    {"type reset by a blank line without data", S("event: foo\n\ndata: x\n\n"),
        "message||x\n", NULL, 0},
    {"retry only", S("retry: 10\n\n"), "retry 10\n", NULL, 0},

    /* Event type. */
    {"default type", S("data: x\n\n"), "message||x\n", NULL, 0},
    {"type set", S("event: foo\ndata: x\n\n"), "foo||x\n", NULL, 0},
    {"type after data", S("data: x\nevent: foo\n\n"), "foo||x\n", NULL, 0},
    {"type reset after dispatch", S("event: foo\ndata: x\n\ndata: y\n\n"),
        "foo||x\nmessage||y\n", NULL, 0},
    {"empty type is message", S("event:\ndata: x\n\n"), "message||x\n", NULL,
        0},
    {"bare event line is message", S("event\ndata: x\n\n"), "message||x\n",
        NULL, 0},
    {"last event line wins", S("event: foo\nevent: bar\ndata: x\n\n"),
        "bar||x\n", NULL, 0},
    {"empty event line replaces", S("event: foo\nevent:\ndata: x\n\n"),
        "message||x\n", NULL, 0},
    {"type keeps a second space", S("event:  foo\ndata: x\n\n"), " foo||x\n",
        NULL, 0},
    {"type message", S("event: message\ndata: x\n\n"), "message||x\n", NULL, 0},

    /* The last event ID. */
    {"id", S("id: 1\ndata: a\n\n"), "message|1|a\n", "1", 0},
    {"id persists", S("id: 1\ndata: a\n\ndata: b\n\n"),
        "message|1|a\nmessage|1|b\n", "1", 0},
    {"id after data", S("data: a\nid: 7\n\n"), "message|7|a\n", "7", 0},
    {"last id line wins", S("id: 1\nid: 2\ndata: a\n\n"), "message|2|a\n", "2",
        0},
    {"id with NUL ignored", S("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"),
        "message|1|a\nmessage|1|b\n", "1", 0},
    {"id of one NUL ignored", S("id: 1\n\nid:\0\ndata: b\n\n"), "message|1|b\n",
        "1", 0},
    {"empty id resets", S("id: 1\ndata: a\n\nid:\ndata: b\n\n"),
        "message|1|a\nmessage||b\n", "", 0},
    {"bare id line resets", S("id: 1\ndata: a\n\nid\ndata: b\n\n"),
        "message|1|a\nmessage||b\n", "", 0},
    {"id keeps a second space", S("id:  x\ndata: a\n\n"), "message| x|a\n",
        " x", 0},
    {"id only block sets the last id",
        S("id: 1\ndata: a\n\nid: 2\n\ndata: b\n\n"),
        "message|1|a\nmessage|2|b\n", "2", 0},
    {"id of an unfinished event not the last id",
        S("id: 1\ndata: a\n\nid: 2\ndata: b\n"), "message|1|a\n", "1", 0},
    {"UTF-8 id", S("id: \xC3\xA9\xE2\x82\xAC\ndata: a\n\n"),
        "message|\xC3\xA9\xE2\x82\xAC|a\n", "\xC3\xA9\xE2\x82\xAC", 0},

    /* Retry. */
    {"retry", S("retry: 1000\n"), "retry 1000\n", NULL, 0},
    {"retry zero", S("retry: 0\n"), "retry 0\n", NULL, 0},
    {"retry leading zeros", S("retry: 007\n"), "retry 7\n", NULL, 0},
    {"retry many leading zeros", S("retry: 000000000000000000000000001\n"),
        "retry 1\n", NULL, 0},
    {"retry 2^64-1", S("retry: 18446744073709551615\n"),
        "retry 18446744073709551615\n", NULL, 0},
    {"retry 2^64 ignored", S("retry: 18446744073709551616\n"), "", NULL, 0},
    {"retry far past 2^64 ignored", S("retry: 99999999999999999999999\n"), "",
        NULL, 0},
    {"retry empty ignored", S("retry:\nretry\nretry: \n"), "", NULL, 0},
    {"retry with a letter ignored", S("retry: 1x\nretry: x1\n"), "", NULL, 0},
    {"retry with an inner space ignored", S("retry: 1 0\n"), "", NULL, 0},
    {"retry with a second space ignored", S("retry:  10\n"), "", NULL, 0},
    {"retry with a trailing space ignored", S("retry: 10 \n"), "", NULL, 0},
    {"retry negative or signed ignored", S("retry: -1\nretry: +1\n"), "", NULL,
        0},
    {"retry decimal ignored", S("retry: 1.5\n"), "", NULL, 0},
    {"retry with a non-ASCII digit ignored", S("retry: 1\xD9\xA3\n"), "", NULL,
        0},
    {"retry ordered with events",
        S("retry: 5\ndata: x\n\nretry: 6\ndata: y\n\n"),
        "retry 5\nmessage||x\nretry 6\nmessage||y\n", NULL, 0},
    {"retry does not need a blank line", S("retry: 5\ndata: x"), "retry 5\n",
        NULL, 0},

    /* Unknown fields. */
    {"capitalised Data ignored", S("Data: x\n\n"), "", NULL, 0},
    {"DATA ignored", S("DATA: x\n\n"), "", NULL, 0},
    {"space before the colon ignored", S("data : x\n\n"), "", NULL, 0},
    {"long name ignored", S("dataxxxxxxxxxx: x\n\n"), "", NULL, 0},
    {"8-byte name ignored", S("dataxxxx: x\n\n"), "", NULL, 0},
    {"prefix of data ignored", S("dat: x\n\n"), "", NULL, 0},
    {"data with a suffix ignored", S("datas: x\n\n"), "", NULL, 0},
    {"NUL in the name ignored", S("data\0: x\n\n"), "", NULL, 0},
    {"unknown field among known", S("foo: bar\ndata: x\n\n"), "message||x\n",
        NULL, 0},
    {"long unknown name then data",
        S("eventeventeventeventevent: t\ndata: y\n\n"), "message||y\n", NULL,
        0},
    {"ID and Event ignored", S("ID: 1\nEvent: e\nRetry: 5\ndata: x\n\n"),
        "message||x\n", "", 0},
    {"unknown bare field", S("foo\ndata: x\n\n"), "message||x\n", NULL, 0},
    {"bare retry ignored", S("retry\ndata: x\n\n"), "message||x\n", NULL, 0},

    /* The end of the stream. */
    {"unfinished event discarded", S("data: x\n"), "", NULL, 0},
    {"unfinished line discarded", S("data: x"), "", NULL, 0},
    {"event then unfinished event", S("data: x\n\ndata: y\n"), "message||x\n",
        NULL, 0},
    {"unfinished field name", S("data: x\n\nda"), "message||x\n", NULL, 0},

    /* UTF-8 decoding. */
    {"valid 2, 3, 4-byte sequences",
        S("data: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n\n"),
        "message||\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n", NULL, 0},
    {"boundary code points",
        S("data: \xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"
          "\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\n\n"),
        "message||\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"
        "\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\n",
        NULL, 0},
    {"C3 28", S("data: \xC3\x28\n\n"), "message||" R "(\n", NULL, 0},
    {"E0 80: two", S("data: \xE0\x80\n\n"), "message||" R R "\n", NULL, 0},
    {"F0 9F 98 then x: one", S("data: \xF0\x9F\x98x\n\n"), "message||" R "x\n",
        NULL, 0},
    {"overlong C0 AF: two", S("data: \xC0\xAF\n\n"), "message||" R R "\n", NULL,
        0},
    {"overlong E0 80 AF: three", S("data: \xE0\x80\xAF\n\n"),
        "message||" R R R "\n", NULL, 0},
    {"overlong F0 80 80 AF: four", S("data: \xF0\x80\x80\xAF\n\n"),
        "message||" R R R R "\n", NULL, 0},
    {"surrogate ED A0 80: three", S("data: \xED\xA0\x80\n\n"),
        "message||" R R R "\n", NULL, 0},
    {"surrogate pair: six", S("data: \xED\xA0\xBD\xED\xB8\x80\n\n"),
        "message||" R R R R R R "\n", NULL, 0},
    {"past U+10FFFF F4 90 80 80: four", S("data: \xF4\x90\x80\x80\n\n"),
        "message||" R R R R "\n", NULL, 0},
    {"F5 80: two", S("data: \xF5\x80\n\n"), "message||" R R "\n", NULL, 0},
    {"FE FF", S("data: \xFE\xFF\n\n"), "message||" R R "\n", NULL, 0},
    {"lone continuation bytes", S("data: \x80\xBF\n\n"), "message||" R R "\n",
        NULL, 0},
    {"truncated sequence before LF keeps the LF", S("data: \xC3\n\n"),
        "message||" R "\n", NULL, 0},
    {"truncated 4-byte before CR", S("data: \xF0\x9F\x98\r\r"),
        "message||" R "\n", NULL, 0},
    {"truncated before a valid sequence", S("data: \xE2\x82\xC3\xA9\n\n"),
        "message||" R "\xC3\xA9\n", NULL, 0},
    {"invalid byte in the type", S("event: \xFF\ndata: x\n\n"), R "||x\n", NULL,
        0},
    {"invalid byte in the id", S("id: a\xC3\ndata: x\n\n"),
        "message|a" R "|x\n", "a" R, 0},
    {"invalid byte in the name",
        S("dat\xC3"
          "a: x\n\n"),
        "", NULL, 0},
    {"invalid byte before the colon", S("data\xC3: x\n\n"), "", NULL, 0},
    {"invalid lead before a colon", S("data: \xE0:\n\n"), "message||" R ":\n",
        NULL, 0},

    /* --max-event. */
    {"too big data skipped, next fine",
        S("data: 0123456789abcdefghij\n\ndata: ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 16},
    {"too big over several lines: one report",
        S("data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\ndata: "
          "ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 16},
    {"two too big events",
        S("data: 0123456789abcdefghij\n\ndata: "
          "0123456789abcdefghij\n\ndata: ok\n\n"),
        "too_big\ntoo_big\nmessage||ok\n", NULL, 16},
    {"data one byte under the limit", S("data: 012345678\n\n"),
        "message||012345678\n", NULL, 10},
    /* An event of exactly MAX bytes is not larger than the limit. */
    {"data of exactly the limit delivered", S("data: 0123456789\n\n"),
        "message||0123456789\n", NULL, 10},
    {"data one byte over the limit", S("data: 0123456789a\n\n"), "too_big\n",
        NULL, 10},
    {"too big type with data skipped",
        S("event: 0123456789abcdef\ndata: x\n\ndata: ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 8},
    {"too big type without data: nothing",
        S("event: 0123456789\n\ndata: "
          "x\n\n"),
        "message||x\n", NULL, 8},
    {"id before too big data kept",
        S("id: 1\ndata: 0123456789abcdefghij\n\ndata: b\n\n"),
        "too_big\nmessage|1|b\n", "1", 16},
    /* The skipped event's id field is still processed (WHATWG). */
    {"id after too big data kept",
        S("id: 1\ndata: a\n\ndata: 0123456789abcdefghij\nid: 2\n\ndata: "
          "b\n\n"),
        "message|1|a\ntoo_big\nmessage|2|b\n", "2", 16},
    {"retry inside a too big event",
        S("data: 0123456789abcdefghij\nretry: "
          "5\n\ndata: ok\n\n"),
        "retry 5\ntoo_big\nmessage||ok\n", NULL, 16},
    {"unfinished too big event: no report", S("data: 0123456789abcdefghij\n"),
        "", NULL, 16},
    /* Data, type and id count together, whatever their order. */
    {"data then type over the limit",
        S("data: 0123456\nevent: abcdef\n\ndata: ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 10},
    {"type then data over the limit",
        S("event: abcdef\ndata: 0123456\n\ndata: ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 10},
    {"data then id over the limit",
        S("data: 0123456\nid: abcdef\n\nid: z\ndata: ok\n\n"),
        "too_big\nmessage|z|ok\n", "z", 10},
    {"two data lines then type over the limit",
        S("data: 01\ndata: 23\nevent: abcdef\n\ndata: ok\n\n"),
        "too_big\nmessage||ok\n", NULL, 10},
    {"data and type within the limit", S("data: 012\nevent: abcd\n\n"),
        "abcd||012\n", NULL, 10},
};

/*
 * Check one case: the expected reports, the other feeding patterns, the
 * reference. Inputs longer than MAX3 skip the three-feed splits.
 */
static void
check_case(const struct parse_case *c)
{
	size_t max = c->max ? c->max : BIG;
	struct log lg = {0};
	struct buf b = {0};
	char name[256], *whole, *got;
	size_t cut[2];
	bool same;

	parse_cuts(c->in, c->len, max, NULL, 0, &lg);
	render(&b, &lg, false);
	snprintf(name, sizeof(name), "%s: reports", c->name);
	is_mem(b.p, b.len, c->want, strlen(c->want), name);
	if (c->last_id != NULL) {
		snprintf(name, sizeof(name), "%s: last event ID", c->name);
		is_str(lg.last_id, c->last_id, name);
	}
	free(b.p);
	log_free(&lg);

	whole = run(c->in, c->len, max, NULL, 0);
	got = run_bytes(c->in, c->len, max);
	snprintf(name, sizeof(name), "%s: fed byte by byte", c->name);
	is_str(got, whole, name);
	free(got);

	same = true;
	for (cut[0] = 0; cut[0] <= c->len && same; cut[0]++) {
		got = run(c->in, c->len, max, cut, 1);
		if (strcmp(got, whole) != 0) {
			printf("# split at %zu\n#   got:  %s\n#   want: %s\n",
			    cut[0], got, whole);
			same = false;
		}
		free(got);
	}
	snprintf(name, sizeof(name), "%s: split in two everywhere", c->name);
	ok(same, name);

	same = true;
	for (cut[0] = 0; cut[0] <= c->len && same; cut[0]++) {
		for (cut[1] = cut[0]; cut[1] <= c->len && same; cut[1]++) {
			got = run(c->in, c->len, max, cut, 2);
			if (strcmp(got, whole) != 0) {
				printf("# split at %zu and %zu\n#   got:  "
				       "%s\n#   want: %s\n",
				    cut[0], cut[1], got, whole);
				same = false;
			}
			free(got);
		}
	}
	snprintf(name, sizeof(name), "%s: split in three everywhere", c->name);
	ok(same, name);

	/* The reference knows no limit. */
	if (c->max == 0) {
		got = run_ref(c->in, c->len);
		snprintf(
		    name, sizeof(name), "%s: the reference agrees", c->name);
		is_str(whole, got, name);
		free(got);
	}
	free(whole);
}

/* A fixed-seed generator (xorshift64*), so that failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t
rnd(uint32_t n)
{
	return xorshift_below(&rng_state, n);
}

struct token {
	const char *s;
	size_t n;
};

static const struct token tokens[] = {
    {S("data")},
    {S("data")},
    {S("data")},
    {S("event")},
    {S("id")},
    {S("retry")},
    {S(":")},
    {S(":")},
    {S(": ")},
    {S(" ")},
    {S("\n")},
    {S("\n")},
    {S("\n")},
    {S("\r")},
    {S("\r\n")},
    {S("x")},
    {S("message")},
    {S("12")},
    {S("0")},
    {S("18446744073709551616")},
    {S(BOM)},
    {S("\xEF\xBB")},
    {S("\xC3")},
    {S("\xA9")},
    {S("\xE2\x82")},
    {S("\xAC")},
    {S("\xF0\x9F\x98")},
    {S("\x80")},
    {S("\xFF")},
    {S("\xED\xA0\x80")},
    {S("\xF4\x90")},
    {S("\0")},
    {S("Data")},
    {S("dataxxxxx")},
};

/* A random stream of LEN tokens into B. */
static void
random_stream(struct buf *b, size_t ntok)
{
	b->len = 0;
	buf_add(b, "", 0);
	for (size_t i = 0; i < ntok; i++) {
		const struct token *t =
		    &tokens[rnd(sizeof(tokens) / sizeof(tokens[0]))];

		buf_add(b, t->s, t->n);
	}
}

/* Print the bytes of S as a C string, for a failure's diagnostic. */
static void
diag_bytes(const char *what, const char *s, size_t n)
{
	printf("# %s: \"", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
			putchar(c);
		else
			printf("\\x%02X\"\"", c);
	}
	printf("\"\n");
}

/* Random streams: parser (fed in random pieces) versus the reference. */
static void
check_random(void)
{
	struct buf b = {0};
	int ref_bad = 0, split_bad = 0, small_bad = 0;

	for (int i = 0; i < 3000; i++) {
		size_t cuts[3];
		char *whole, *ref, *got;

		random_stream(&b, 1 + rnd(40));
		whole = run(b.p, b.len, BIG, NULL, 0);
		ref = run_ref(b.p, b.len);
		if (strcmp(whole, ref) != 0 && ref_bad++ == 0) {
			diag_bytes("input", b.p, b.len);
			printf("# parser:\n# %s\n# reference:\n# %s\n", whole,
			    ref);
		}
		cuts[0] = rnd((uint32_t)b.len + 1);
		cuts[1] = cuts[0] + rnd((uint32_t)(b.len - cuts[0]) + 1);
		cuts[2] = cuts[1] + rnd((uint32_t)(b.len - cuts[1]) + 1);
		got = run(b.p, b.len, BIG, cuts, 3);
		if (strcmp(whole, got) != 0 && split_bad++ == 0) {
			diag_bytes("input", b.p, b.len);
			printf(
			    "# cuts %zu %zu %zu\n", cuts[0], cuts[1], cuts[2]);
		}
		free(got);
		/* A small limit: the same in every feeding pattern. */
		free(whole);
		whole = run(b.p, b.len, 8, NULL, 0);
		got = run_bytes(b.p, b.len, 8);
		if (strcmp(whole, got) != 0 && small_bad++ == 0)
			diag_bytes("input (limit 8)", b.p, b.len);
		free(got);
		free(whole);
		free(ref);
	}
	is_int(ref_bad, 0,
	    "3000 random streams: parser agrees with the reference");
	is_int(split_bad, 0, "3000 random streams: fed in pieces as fed whole");
	is_int(small_bad, 0,
	    "3000 random streams, limit 8: fed byte by byte as fed whole");
	free(b.p);
}

static const char *const names[] = {"data", "data", "data", "event", "id",
    "retry", "", "Data", "dataxxxxx", BOM "data"};
static const char *const seps[] = {":", ": ", ": ", ":  ", ""};
static const char *const values[] = {"x", "ab", "12", "0", " ", ":", "\xC3\xA9",
    "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3", "\xFF", "\xE0\x80",
    "\xED\xA0\x80", "0123456789", BOM};
static const char *const eols[] = {"\n", "\n", "\r", "\r\n"};

#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

/* A random stream made of lines that look like fields. */
static void
random_lines(struct buf *b, size_t nlines)
{
	b->len = 0;
	buf_add(b, "", 0);
	if (rnd(8) == 0)
		buf_str(b, BOM);
	for (size_t i = 0; i < nlines; i++) {
		if (rnd(4) > 0) {
			buf_str(b, PICK(names));
			buf_str(b, PICK(seps));
			for (uint32_t k = rnd(5); k > 0; k--) {
				if (rnd(20) == 0)
					buf_add(b, "\0", 1);
				else
					buf_str(b, PICK(values));
			}
		}
		buf_str(b, PICK(eols));
	}
	/* Sometimes an unfinished last line. */
	if (rnd(4) == 0)
		buf_str(b, "data: tail");
}

/*
 * Random field-like streams: the parser agrees with the reference; with a
 * small limit, fed byte by byte and in random pieces as fed whole.
 */
static void
check_random_lines(void)
{
	struct buf b = {0};
	int ref_bad = 0, small_bad = 0;

	for (int i = 0; i < 5000; i++) {
		size_t cuts[2], max = 4 + rnd(24);
		char *whole, *ref, *got, *got2;

		random_lines(&b, 1 + rnd(12));
		whole = run(b.p, b.len, BIG, NULL, 0);
		ref = run_ref(b.p, b.len);
		if (strcmp(whole, ref) != 0 && ref_bad++ == 0) {
			diag_bytes("input", b.p, b.len);
			printf("# parser:\n# %s\n# reference:\n# %s\n", whole,
			    ref);
		}
		free(whole);
		free(ref);
		cuts[0] = rnd((uint32_t)b.len + 1);
		cuts[1] = cuts[0] + rnd((uint32_t)(b.len - cuts[0]) + 1);
		whole = run(b.p, b.len, max, NULL, 0);
		got = run_bytes(b.p, b.len, max);
		got2 = run(b.p, b.len, max, cuts, 2);
		if ((strcmp(whole, got) != 0 || strcmp(whole, got2) != 0) &&
		    small_bad++ == 0) {
			diag_bytes("input", b.p, b.len);
			printf("# limit %zu, cuts %zu %zu\n# whole:\n# %s\n# "
			       "byte by byte:\n# %s\n# in three:\n# %s\n",
			    max, cuts[0], cuts[1], whole, got, got2);
		}
		free(whole);
		free(got);
		free(got2);
	}
	is_int(ref_bad, 0,
	    "5000 random field lines: parser agrees with the reference");
	is_int(small_bad, 0,
	    "5000 random field lines, small limits: any feeding as whole");
	free(b.p);
}

static struct sse_parser *
new_parser(struct log *lg, size_t max)
{
	memset(lg, 0, sizeof(*lg));
	lg->max = max;
	return sse_parser_new(max, &cbs, lg);
}

static void
feed_str(struct sse_parser *p, const char *s)
{
	sse_parser_feed(p, s, strlen(s));
}

/* The rendering of LG without sizes, to compare with an expectation. */
static void
is_log(struct log *lg, const char *want, const char *name)
{
	struct buf b = {0};

	buf_add(&b, "", 0);
	render(&b, lg, false);
	is_mem(b.p, b.len, want, strlen(want), name);
	free(b.p);
}

/* A CR at the end of a read ends the line without waiting for a LF. */
static void
check_cr_at_end(void)
{
	struct log lg;
	struct sse_parser *p = new_parser(&lg, BIG);

	feed_str(p, "data: x\n\r");
	is_int((long long)lg.n, 1, "data: x LF CR dispatches at the CR");
	feed_str(p, "\ndata: y\r");
	is_int((long long)lg.n, 1, "the LF after that CR is not a blank line");
	feed_str(p, "\r");
	is_log(&lg, "message||x\nmessage||y\n",
	    "CR alone in a read ends the blank line at once");
	feed_str(p, "data: z\r\r");
	is_int((long long)lg.n, 3, "data: z CR CR dispatches in the same read");
	sse_parser_free(p);
	log_free(&lg);
}

static void
check_reset(void)
{
	struct log lg;
	struct sse_parser *p = new_parser(&lg, BIG);

	is_str(sse_parser_last_id(p), "", "a new parser's last id is empty");

	feed_str(p, "id: 1\ndata: a\n\nid: 2\ndata: b\n");
	sse_parser_reset(p);
	is_str(sse_parser_last_id(p), "1",
	    "reset keeps the last dispatched id, forgets the unfinished one");
	feed_str(p, "\ndata: c\n\n");
	is_log(&lg, "message|1|a\nmessage|1|c\n",
	    "after reset: the unfinished event is gone, id 1 goes on");
	log_clear(&lg);

	feed_str(p, "data: x");
	sse_parser_reset(p);
	feed_str(p, "\n\n");
	is_log(&lg, "", "reset discards an unfinished line");

	feed_str(p, "event: t\ndata: x\n");
	sse_parser_reset(p);
	feed_str(p, "\ndata: y\n\n");
	is_log(&lg, "message|1|y\n",
	    "reset discards the unfinished event's data and type");
	log_clear(&lg);

	feed_str(p, "da");
	sse_parser_reset(p);
	feed_str(p, "ta: x\n\n");
	is_log(&lg, "", "reset discards a partial field name");

	feed_str(p, "id: 9\n");
	sse_parser_reset(p);
	is_str(sse_parser_last_id(p), "1",
	    "reset forgets an id line without a blank line");

	feed_str(p, BOM "data: a\n\n");
	sse_parser_reset(p);
	feed_str(p, BOM "data: b\n\n");
	is_log(
	    &lg, "message|1|a\nmessage|1|b\n", "BOM skipped again after reset");
	log_clear(&lg);

	feed_str(p, "\xEF\xBB");
	sse_parser_reset(p);
	feed_str(p,
	    "\xBF"
	    "data: c\n\n");
	is_log(&lg, "", "reset discards half a BOM (the rest is U+FFFD)");

	feed_str(p, "data: \xC3");
	sse_parser_reset(p);
	feed_str(p, "\xA9\ndata: d\n\n");
	is_log(&lg, "message|1|d\n", "reset discards a split UTF-8 sequence");
	log_clear(&lg);

	sse_parser_set_id(p, "abc");
	is_str(sse_parser_last_id(p), "abc", "set_id sets the last id");
	feed_str(p, "data: e\n\n");
	sse_parser_reset(p);
	feed_str(p, "data: f\n\nid\n\n");
	is_log(&lg, "message|abc|e\nmessage|abc|f\n",
	    "set_id gives events their id, across reset");
	is_str(sse_parser_last_id(p), "", "an empty id after set_id resets it");
	log_clear(&lg);

	sse_parser_set_id(p, "q");
	sse_parser_reset(p);
	is_str(sse_parser_last_id(p), "q", "set_id then reset keeps the id");
	sse_parser_free(p);
	log_free(&lg);

	p = new_parser(&lg, BIG);
	sse_parser_set_id(p, "start");
	feed_str(p, "id: x\ndata: a\n");
	sse_parser_reset(p);
	feed_str(p, "data: b\n\n");
	is_log(&lg, "message|start|b\n",
	    "set_id then an unfinished event's id: reset goes back to set_id");
	sse_parser_free(p);
	log_free(&lg);

	sse_parser_free(NULL); /* a no-op: a crash here fails the test */
}

/* Optional callbacks may be NULL. */
static void
check_null_cbs(void)
{
	struct sse_parse_cbs only_event = {on_event, NULL, NULL};
	struct log lg = {0};
	struct sse_parser *p;

	lg.max = 8;
	p = sse_parser_new(8, &only_event, &lg);
	feed_str(p, "retry: 5\ndata: 0123456789abcdef\n\ndata: ok\n\n");
	is_log(&lg, "message||ok\n", "retry and too_big callbacks may be NULL");
	sse_parser_free(p);
	log_free(&lg);
}

/*
 * A 10 MB event with a 1 MiB limit is skipped with one report; the next
 * event arrives. Fed in 64 KiB reads, once as one data line and once as
 * many.
 */
static void
check_huge(bool one_line)
{
	const size_t limit = (size_t)1 << 20, total = 10 * 1000 * 1000;
	const size_t chunk = 64 * 1024;
	char *block = xmalloc(chunk);
	struct log lg;
	struct sse_parser *p = new_parser(&lg, limit);
	char name[128];
	size_t sent = 0;

	memset(block, 'x', chunk);
	if (!one_line)
		for (size_t i = 0; i + 7 < chunk; i += 100)
			memcpy(block + i, "\ndata: ", 7);
	feed_str(p, "data: ");
	while (sent < total) {
		sse_parser_feed(p, block, chunk);
		sent += chunk;
	}
	feed_str(p, "\n\ndata: after\n\n");
	snprintf(name, sizeof(name), "10 MB event (%s), limit 1 MiB",
	    one_line ? "one line" : "many lines");
	is_log(&lg, "too_big\nmessage||after\n", name);
	snprintf(name, sizeof(name), "10 MB event (%s): size at least 1 MiB",
	    one_line ? "one line" : "many lines");
	ok(lg.n > 0 && lg.v[0].kind == REC_TOO_BIG && lg.v[0].num >= limit,
	    name);
	sse_parser_free(p);
	log_free(&lg);
	free(block);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	check_random();
	check_random_lines();
	check_cr_at_end();
	check_reset();
	check_null_cbs();
	check_huge(true);
	check_huge(false);
	return done();
}
