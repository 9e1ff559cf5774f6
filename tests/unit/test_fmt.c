/*
 * common/fmt.c: -F templates. Compile errors with their messages, then the
 * rendering of every field, flag, width, precision, escape and @-time
 * conversion against three records: one with every MQTT 5 property, one
 * with a binary payload and nothing else, one with an empty payload.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "tests/lib/tap.h"
#include "common/fmt.h"
#include "common/jsonrec.h"
#include "common/record.h"

/* 2026-11-22T08:00:00.123456789Z */
#define TS_SEC 1795334400
#define TS_NSEC 123456789L

struct err_case {
	const char *tmpl;
	const char *err; /* the whole message */
};

static const struct err_case err_cases[] = {
    {"%k", "unknown sequence '%k' in format"},
    {"topic=%t %z", "unknown sequence '%z' in format"},
    {"%10k", "unknown sequence '%k' in format"},
    {"%-05.3Y", "unknown sequence '%Y' in format"},
    {"% t", "unknown sequence '% ' in format"},
    {"%", "incomplete % sequence at the end of format"},
    {"abc%", "incomplete % sequence at the end of format"},
    {"%-", "incomplete % sequence at the end of format"},
    {"%10", "incomplete % sequence at the end of format"},
    {"%.", "incomplete % sequence at the end of format"},
    {"%-08.3", "incomplete % sequence at the end of format"},
    {"@", "incomplete @ sequence at the end of format"},
    {"abc @", "incomplete @ sequence at the end of format"},
    {"\\q", "invalid escape '\\q' in format"},
    {"ok \\x41", "invalid escape '\\x' in format"},
    {"\\N", "invalid escape '\\N' in format"},
    {"trailing \\", "invalid escape '\\ ' in format"},
};

enum { REC_FULL, REC_BIN, REC_EMPTY, NREC };

struct render_case {
	int rec;
	const char *tmpl;
	const char *want;
	size_t wantlen; /* 0: strlen(want) */
};

static const struct render_case render_cases[] = {
    /* Plain text and the doubled specials. */
    {REC_FULL, "", "", 0},
    {REC_FULL, "plain text", "plain text", 0},
    {REC_FULL, "100%%", "100%", 0},
    {REC_FULL, "%%%%", "%%", 0},
    {REC_FULL, "user@@host", "user@host", 0},
    {REC_FULL, "@@@@", "@@", 0},
    {REC_FULL, "%%t @@Y", "%t @Y", 0},

    /* Escapes. */
    {REC_FULL, "a\\nb", "a\nb", 0},
    {REC_FULL, "\\t\\r\\e\\a\\v\\\\", "\t\r\033\a\v\\", 0},
    {REC_FULL, "x\\0y", "x\0y", 3},
    {REC_FULL, "\\0", "\0", 1},
    {REC_FULL, "%t\\n", "sensors/room1/temp\n", 0},

    /* Every field of the full record. */
    {REC_FULL, "%t", "sensors/room1/temp", 0},
    {REC_FULL, "%p", "21.5", 0},
    {REC_FULL, "%l", "4", 0},
    {REC_FULL, "%q", "1", 0},
    {REC_FULL, "%r", "1", 0},
    {REC_FULL, "%m", "42", 0},
    {REC_FULL, "%x", "32312e35", 0},
    {REC_FULL, "%X", "32312E35", 0},
    {REC_FULL, "%C", "text/plain", 0},
    {REC_FULL, "%R", "reply/here", 0},
    {REC_FULL, "%E", "3600", 0},
    {REC_FULL, "%F", "1", 0},
    {REC_FULL, "%A", "7", 0},
    {REC_FULL, "%S", "300", 0},
    {REC_FULL, "%D", "\x01\x00z9", 4},
    {REC_FULL, "%P", "k1:v1 k2:v 2", 0},
    {REC_FULL, "%U", "1795334400.123456789", 0},
    {REC_FULL, "%I", "2026-11-22T08:00:00+0000", 0},
    {REC_FULL, "%t %p %q %r", "sensors/room1/temp 21.5 1 1", 0},
    {REC_FULL, "[%C|%R|%E]", "[text/plain|reply/here|3600]", 0},

    /* Widths, flags and precision. */
    {REC_FULL, "%25t|", "       sensors/room1/temp|", 0},
    {REC_FULL, "%-25t|", "sensors/room1/temp       |", 0},
    {REC_FULL, "%10t|", "sensors/room1/temp|", 0},
    {REC_FULL, "%.3t|", "sen|", 0},
    {REC_FULL, "%.0t|", "|", 0},
    {REC_FULL, "%.100t|", "sensors/room1/temp|", 0},
    {REC_FULL, "%6.3t|", "   sen|", 0},
    {REC_FULL, "%-6.3t|", "sen   |", 0},
    {REC_FULL, "%06t|", "sensors/room1/temp|", 0},
    {REC_FULL, "%026t|", "        sensors/room1/temp|", 0},
    {REC_FULL, "%6p|", "  21.5|", 0},
    {REC_FULL, "%-6p|", "21.5  |", 0},
    {REC_FULL, "%.2p|", "21|", 0},
    {REC_FULL, "%05l|", "00004|", 0},
    {REC_FULL, "%5l|", "    4|", 0},
    {REC_FULL, "%-5l|", "4    |", 0},
    {REC_FULL, "%-05l|", "4    |", 0},
    {REC_FULL, "%0-5l|", "4    |", 0},
    {REC_FULL, "%03m|", "042|", 0},
    {REC_FULL, "%1m|", "42|", 0},
    {REC_FULL, "%.1m|", "42|", 0},
    {REC_FULL, "%08x|", "32312e35|", 0},
    {REC_FULL, "%010x|", "0032312e35|", 0},
    {REC_FULL, "%-10X|", "32312E35  |", 0},
    {REC_FULL, "%12C|", "  text/plain|", 0},
    {REC_FULL, "%.4C|", "text|", 0},
    {REC_FULL, "%-12R|", "reply/here  |", 0},
    {REC_FULL, "%06E|", "003600|", 0},
    {REC_FULL, "%3F|", "  1|", 0},
    {REC_FULL, "%02A|", "07|", 0},
    {REC_FULL, "%-5S|", "300  |", 0},
    {REC_FULL, "%.10U|", "1795334400|", 0},
    {REC_FULL, "%.10I|", "2026-11-22|", 0},

    /* @-conversions (strftime, in TZ=UTC) and @N. */
    {REC_FULL, "@Y-@m-@d @H:@M:@S", "2026-11-22 08:00:00", 0},
    {REC_FULL, "@s.@N", "1795334400.123456789", 0},
    {REC_FULL, "@F@T@z", "2026-11-2208:00:00+0000", 0},
    {REC_FULL, "@j", "326", 0},
    {REC_FULL, "t=@Y@@%t", "t=2026@sensors/room1/temp", 0},

    /* A binary payload with no properties: those fields are empty. */
    {REC_BIN, "%p",
        "\x00\xff\x10"
        "A",
        4},
    {REC_BIN, "%l", "4", 0},
    {REC_BIN, "%10t|", "       bin|", 0},
    {REC_BIN, "%-10t|", "bin       |", 0},
    {REC_BIN, "%010t|", "       bin|", 0},
    {REC_BIN, "%.2t|", "bi|", 0},
    {REC_BIN, "%-6.2t|", "bi    |", 0},
    {REC_BIN, "%x", "00ff1041", 0},
    {REC_BIN, "%X", "00FF1041", 0},
    {REC_BIN, "%.2p|", "\x00\xff|", 3},
    {REC_BIN, "%q %r %m", "0 0 0", 0},
    {REC_BIN, "[%C][%R][%E][%F][%A][%S][%D][%P]", "[][][][][][][][]", 0},
    {REC_BIN, "[%10C][%-5E]", "[][]", 0},
    {REC_BIN, "@N", "000000005", 0},
    {REC_BIN, "%U", "1795334400.000000005", 0},

    /* An empty payload. */
    {REC_EMPTY, "[%p]", "[]", 0},
    {REC_EMPTY, "[%x]", "[]", 0},
    {REC_EMPTY, "[%3x]", "[   ]", 0},
    {REC_EMPTY, "[%03x]", "[000]", 0},
    {REC_EMPTY, "[%l]", "[0]", 0},
    {REC_EMPTY, "[%5p]", "[     ]", 0},
    {REC_EMPTY, "[%q %r]", "[2 0]", 0},
};

/* An owned copy of LEN bytes (NULL for 0, as libmosquitto gives). */
static unsigned char *
dup_bytes(const void *p, size_t len)
{
	unsigned char *d;

	if (len == 0)
		return NULL;
	d = malloc(len);
	memcpy(d, p, len);
	return d;
}

static void
make_records(struct record *r)
{
	mosquitto_property *props = NULL;
	int rc = 0;

	record_init(&r[REC_FULL]);
	r[REC_FULL].topic = strdup("sensors/room1/temp");
	r[REC_FULL].payload = dup_bytes("21.5", 4);
	r[REC_FULL].payload_len = 4;
	r[REC_FULL].qos = 1;
	r[REC_FULL].retain = 1;
	r[REC_FULL].mid = 42;
	r[REC_FULL].ts.tv_sec = TS_SEC;
	r[REC_FULL].ts.tv_nsec = TS_NSEC;
	rc |= mosquitto_property_add_string(
	    &props, MQTT_PROP_CONTENT_TYPE, "text/plain");
	rc |= mosquitto_property_add_string_pair(
	    &props, MQTT_PROP_USER_PROPERTY, "k1", "v1");
	rc |= mosquitto_property_add_int32(
	    &props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 3600);
	rc |= mosquitto_property_add_string(
	    &props, MQTT_PROP_RESPONSE_TOPIC, "reply/here");
	rc |= mosquitto_property_add_binary(
	    &props, MQTT_PROP_CORRELATION_DATA, "\x01\x00z9", 4);
	rc |= mosquitto_property_add_byte(
	    &props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
	rc |= mosquitto_property_add_int16(&props, MQTT_PROP_TOPIC_ALIAS, 7);
	rc |= mosquitto_property_add_varint(
	    &props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, 300);
	rc |= mosquitto_property_add_string_pair(
	    &props, MQTT_PROP_USER_PROPERTY, "k2", "v 2");
	is_int(rc, 0, "the properties of the full record are built");
	r[REC_FULL].props = props;

	record_init(&r[REC_BIN]);
	r[REC_BIN].topic = strdup("bin");
	r[REC_BIN].payload = dup_bytes("\x00\xff\x10"
	                               "A",
	    4);
	r[REC_BIN].payload_len = 4;
	r[REC_BIN].ts.tv_sec = TS_SEC;
	r[REC_BIN].ts.tv_nsec = 5;

	record_init(&r[REC_EMPTY]);
	r[REC_EMPTY].topic = strdup("e");
	r[REC_EMPTY].qos = 2;
	r[REC_EMPTY].retain = 0;
	r[REC_EMPTY].ts.tv_sec = TS_SEC;
}

/* Render TMPL for R into a string; *LEN gets its length. NULL: no compile. */
static char *
render(const char *tmpl, const struct record *r, size_t *len, char *err,
    size_t errlen)
{
	struct fmt *f = fmt_compile(tmpl, err, errlen);
	struct evbuffer *b;
	char *s;

	if (f == NULL)
		return NULL;
	b = evbuffer_new();
	fmt_render(f, r, b);
	*len = evbuffer_get_length(b);
	s = malloc(*len + 1);
	evbuffer_remove(b, s, *len);
	s[*len] = '\0';
	evbuffer_free(b);
	fmt_free(f);
	return s;
}

/* The printable form of a template, for test names. */
static const char *
shown(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '#')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

int
main(void)
{
	struct record recs[NREC];
	char err[256], name[300], sbuf[160];
	size_t i, len;
	char *s;

	setenv("TZ", "UTC", 1);
	tzset();
	make_records(recs);

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct fmt *f;

		err[0] = '\0';
		f = fmt_compile(c->tmpl, err, sizeof(err));
		snprintf(name, sizeof(name), "compile '%s' fails",
		    shown(c->tmpl, sbuf, sizeof(sbuf)));
		ok(f == NULL, name);
		fmt_free(f);
		snprintf(name, sizeof(name), "compile '%s': message",
		    shown(c->tmpl, sbuf, sizeof(sbuf)));
		is_str(err, c->err, name);
	}

	for (i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++) {
		const struct render_case *c = &render_cases[i];
		size_t wantlen = c->wantlen ? c->wantlen : strlen(c->want);

		err[0] = '\0';
		s = render(c->tmpl, &recs[c->rec], &len, err, sizeof(err));
		snprintf(name, sizeof(name), "record %d, '%s'", c->rec,
		    shown(c->tmpl, sbuf, sizeof(sbuf)));
		if (s == NULL) {
			ok(0, name);
			printf("#   compile error: %s\n", err);
			continue;
		}
		is_mem(s, len, c->want, wantlen, name);
		free(s);
	}

	/* %j is exactly the JSON record, inside other text. */
	for (i = 0; i < NREC; i++) {
		struct evbuffer *b = evbuffer_new();
		char *want;
		size_t wlen;

		evbuffer_add(b, "<", 1);
		jsonrec_encode(&recs[i], b);
		evbuffer_add(b, ">\n", 2);
		wlen = evbuffer_get_length(b);
		want = (char *)evbuffer_pullup(b, -1);
		s = render("<%j>\\n", &recs[i], &len, err, sizeof(err));
		snprintf(
		    name, sizeof(name), "record %zu: %%j is jsonrec_encode", i);
		if (s == NULL)
			ok(0, name);
		else
			is_mem(s, len, want, wlen, name);
		free(s);
		evbuffer_free(b);
	}

	/* One template compiled once renders each record independently. */
	{
		struct fmt *f = fmt_compile("%t:%l\\n", err, sizeof(err));
		struct evbuffer *b = evbuffer_new();
		const char *want = "sensors/room1/temp:4\nbin:4\ne:0\n";

		for (i = 0; i < NREC; i++)
			fmt_render(f, &recs[i], b);
		is_mem(evbuffer_pullup(b, -1), evbuffer_get_length(b), want,
		    strlen(want), "one compiled template, three records");
		evbuffer_free(b);
		fmt_free(f);
	}

	/* A width as large as the parser takes pads that far. */
	s = render("%5000t", &recs[REC_BIN], &len, err, sizeof(err));
	is_int(s != NULL ? (long long)len : -1, 5000, "%5000t pads to 5000");
	ok(s != NULL && memcmp(s + 4997, "bin", 3) == 0 && s[0] == ' ',
	    "%5000t right-aligns");
	free(s);

	/* A long template made of many fields and text pieces. */
	{
		char tmpl[3001];

		for (i = 0; i < 1000; i++)
			memcpy(tmpl + 3 * i, "%l.", 3);
		tmpl[3000] = '\0';
		s = render(tmpl, &recs[REC_FULL], &len, err, sizeof(err));
		is_int(s != NULL ? (long long)len : -1, 2000,
		    "1000 fields render");
		free(s);
	}

	fmt_free(NULL); /* a no-op: a crash here fails the test */
	for (i = 0; i < NREC; i++)
		record_cleanup(&recs[i]);
	return done();
}
