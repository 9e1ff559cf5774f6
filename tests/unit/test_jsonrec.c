/*
 * common/jsonrec.c: the JSON Lines record format. Exact encodings (field
 * order, escaping, payload vs payload_b64, properties, ts), parsing of good
 * and bad lines with the exact reasons, and an encode/parse round trip over
 * random text and binary payloads.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "tests/lib/tap.h"
#include "common/jsonrec.h"
#include "common/record.h"
#include "common/utf8.h"

#define TS_SEC 1795334400 /* 2026-11-22T08:00:00Z */
#define TS_NSEC 123456789L
#define TS_JSON "\"ts\":\"2026-11-22T08:00:00.123Z\""

/* An encoding case: a record without properties and its exact JSON. */
struct enc_case {
	const char *name;
	const char *topic;
	const char *payload; /* NULL: a NULL payload of length 0 */
	size_t len;
	int qos, retain;
	const char *want;
};

#define S(x) x, sizeof(x) - 1

static const struct enc_case enc_cases[] = {
    {"text", "a/b", S("hello"), 1, 0,
        "{\"topic\":\"a/b\",\"payload\":\"hello\",\"qos\":1,"
        "\"retain\":false," TS_JSON "}"},
    {"qos 2, retained", "t", S("x"), 2, 1,
        "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":2,\"retain\":true," TS_JSON
        "}"},
    {"qos and retain not given", "t", S("x"), -1, -1,
        "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false," TS_JSON
        "}"},
    {"binary payload", "bin",
        S("\x00\xff\x10"
          "A"),
        0, 0,
        "{\"topic\":\"bin\",\"payload_b64\":\"AP8QQQ==\",\"qos\":0,"
        "\"retain\":false," TS_JSON "}"},
    {"NUL makes a payload binary", "t", S("abc\0"), 0, 0,
        "{\"topic\":\"t\",\"payload_b64\":\"YWJjAA==\",\"qos\":0,"
        "\"retain\":false," TS_JSON "}"},
    {"invalid UTF-8 is binary", "t", S("caf\xc3"), 0, 0,
        "{\"topic\":\"t\",\"payload_b64\":\"Y2Fmww==\",\"qos\":0,"
        "\"retain\":false," TS_JSON "}"},
    {"zero-length payload (NULL)", "t", NULL, 0, 0, 0,
        "{\"topic\":\"t\",\"payload\":\"\",\"qos\":0,\"retain\":false," TS_JSON
        "}"},
    {"zero-length payload", "t", S(""), 0, 0,
        "{\"topic\":\"t\",\"payload\":\"\",\"qos\":0,\"retain\":false," TS_JSON
        "}"},
    {"newline, quotes, backslash, tab", "t", S("say \"hi\"\n\tback\\slash\r"),
        0, 0,
        "{\"topic\":\"t\",\"payload\":\"say \\\"hi\\\"\\n\\tback\\\\slash"
        "\\r\",\"qos\":0,\"retain\":false," TS_JSON "}"},
    {"control characters", "t", S("\x01\x08\x0c\x1f"), 0, 0,
        "{\"topic\":\"t\",\"payload\":\"\\u0001\\b\\f\\u001f\",\"qos\":0,"
        "\"retain\":false," TS_JSON "}"},
    {"UTF-8 passes through", "t/\xc3\xa9", S("\xe2\x82\xac \xf0\x9f\x98\x80"),
        0, 0,
        "{\"topic\":\"t/\xc3\xa9\",\"payload\":\"\xe2\x82\xac "
        "\xf0\x9f\x98\x80\",\"qos\":0,\"retain\":false," TS_JSON "}"},
    {"topic with quote and slash", "a\"/b\\", S("{}"), 0, 0,
        "{\"topic\":\"a\\\"/b\\\\\",\"payload\":\"{}\",\"qos\":0,"
        "\"retain\":false," TS_JSON "}"},
};

/* A parse case: a line and what must come out of it. */
struct parse_case {
	const char *line;
	size_t len;      /* 0: strlen(line) */
	const char *err; /* NULL: must parse; else a substring of the reason */
	const char *topic; /* NULL: no topic */
	const char *payload;
	size_t plen;
	int qos, retain;
};

/* A line that must be refused with a reason. */
#define BAD(line, len, why)                                                    \
	{                                                                      \
		line, len, why, NULL, NULL, 0, 0, 0                            \
	}

static const struct parse_case parse_cases[] = {
    /* Good records. */
    {"{\"topic\":\"a/b\",\"payload\":\"hello\"}", 0, NULL, "a/b", S("hello"),
        -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"x\",\"qos\":2,\"retain\":true}", 0, NULL,
        "t", S("x"), 2, 1},
    {"{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false}", 0, NULL,
        "t", S("x"), 0, 0},
    {"{\"topic\":\"t\",\"payload\":\"x\",\"qos\":1.0,\"retain\":1}", 0, NULL,
        "t", S("x"), 1, 1},
    {"{\"topic\":\"t\",\"payload\":\"x\",\"retain\":0}", 0, NULL, "t", S("x"),
        -1, 0},
    {"{\"topic\":\"t\",\"payload_b64\":\"AP8Q\",\"qos\":1}", 0, NULL, "t",
        S("\x00\xff\x10"), 1, -1},
    {"{\"payload\":\"no topic\"}", 0, NULL, NULL, S("no topic"), -1, -1},
    {"{\"Topic\":\"case matters\",\"payload\":\"p\"}", 0, NULL, NULL, S("p"),
        -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"\"}", 0, NULL, "t", S(""), -1, -1},
    {"{\"topic\":\"t\",\"payload_b64\":\"\"}", 0, NULL, "t", S(""), -1, -1},
    {"{\"topic\":\"\",\"payload\":\"x\"}", 0, NULL, "", S("x"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"a\\nb\\\"c\\\\d\\/e\\t\"}", 0, NULL, "t",
        S("a\nb\"c\\d/e\t"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", 0, NULL,
        "t", S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"\\u0001\"}", 0, NULL, "t", S("\x01"), -1,
        -1},
    /* An escaped backslash followed by u0000 is text, not U+0000. */
    {"{\"topic\":\"t\",\"payload\":\"a\\\\u0000\"}", 0, NULL, "t",
        S("a\\u0000"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"\\\\\\\\u0000\"}", 0, NULL, "t",
        S("\\\\u0000"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"\\\\u0000\",\"x\":\"\\\\\"}", 0, NULL, "t",
        S("\\u0000"), -1, -1},
    /* Other keys, whitespace around and inside, a CR at the end. */
    {"{\"topic\":\"t\",\"payload\":\"x\",\"ts\":\"2026\",\"n\":[1,{}]}", 0,
        NULL, "t", S("x"), -1, -1},
    {"  { \"topic\" : \"t\" , \"payload\" : \"x\" }  ", 0, NULL, "t", S("x"),
        -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"x\"}\r", 0, NULL, "t", S("x"), -1, -1},
    {"{\"topic\":\"t\",\"payload\":\"x\"}\t ", 0, NULL, "t", S("x"), -1, -1},
    /* Raw invalid UTF-8 inside a string is kept as bytes. */
    {"{\"topic\":\"t\",\"payload\":\"\xff\xfe\"}", 0, NULL, "t", S("\xff\xfe"),
        -1, -1},
    /* Only LEN bytes count: what follows is not trailing text. */
    {"{\"topic\":\"t\",\"payload\":\"x\"} junk", 27, NULL, "t", S("x"), -1, -1},

    /* Not JSON, trailing text, not an object. */
    BAD("", 0, "invalid JSON or trailing text"),
    BAD("not json", 0, "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\"", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x}", 0,
        "invalid JSON or trailing text"),
    BAD("{'topic':'a','payload':'x'}", 0, "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",}", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\"} x", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\"}{}", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\"}\n{\"payload\":\"y\"}", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"t\",\"payload\":\"\\ud800\"}", 0,
        "invalid JSON or trailing text"),
    BAD("{\"topic\":\"t\",\"payload\":\"\\x41\"}", 0,
        "invalid JSON or trailing text"),
    BAD("[1,2]", 0, "not a JSON object"),
    BAD("\"string\"", 0, "not a JSON object"),
    BAD("42", 0, "not a JSON object"),
    BAD("null", 0, "not a JSON object"),
    BAD("true", 0, "not a JSON object"),

    /* Payload rules. */
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"payload_b64\":\"eA==\"}", 0,
        "both \"payload\" and \"payload_b64\""),
    BAD("{\"topic\":\"a\"}", 0, "neither \"payload\" nor \"payload_b64\""),
    BAD("{}", 0, "neither \"payload\" nor \"payload_b64\""),
    BAD("{\"topic\":\"a\",\"payload\":5}", 0, "\"payload\" is not a string"),
    BAD("{\"topic\":\"a\",\"payload\":null}", 0, "\"payload\" is not a string"),
    BAD("{\"topic\":\"a\",\"payload\":[\"x\"]}", 0,
        "\"payload\" is not a string"),
    BAD("{\"topic\":\"a\",\"payload_b64\":true}", 0,
        "\"payload_b64\" is not a string"),
    BAD("{\"topic\":\"a\",\"payload_b64\":\"Zh==\"}", 0,
        "\"payload_b64\" is not base64"),
    BAD("{\"topic\":\"a\",\"payload_b64\":\"Zm9v YmFy\"}", 0,
        "\"payload_b64\" is not base64"),
    BAD("{\"topic\":\"a\",\"payload_b64\":\"Zm9\"}", 0,
        "\"payload_b64\" is not base64"),
    BAD("{\"topic\":\"a\",\"payload_b64\":\"Zm9v\\n\"}", 0,
        "\"payload_b64\" is not base64"),

    /* Topic, qos, retain types and ranges. */
    BAD("{\"topic\":5,\"payload\":\"x\"}", 0, "\"topic\" is not a string"),
    BAD("{\"topic\":null,\"payload\":\"x\"}", 0, "\"topic\" is not a string"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"qos\":3}", 0,
        "\"qos\" is not 0, 1 or 2"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"qos\":-1}", 0,
        "\"qos\" is not 0, 1 or 2"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"qos\":1.5}", 0,
        "\"qos\" is not 0, 1 or 2"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"qos\":\"1\"}", 0,
        "\"qos\" is not 0, 1 or 2"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"qos\":null}", 0,
        "\"qos\" is not 0, 1 or 2"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"retain\":\"yes\"}", 0,
        "\"retain\" is not a boolean"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"retain\":2}", 0,
        "\"retain\" is not a boolean"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"retain\":null}", 0,
        "\"retain\" is not a boolean"),

    /* U+0000, escaped or raw, anywhere in the text. */
    BAD("{\"topic\":\"a\",\"payload\":\"x\\u0000y\"}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\",\"payload\":\"\\u0000\"}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\\u0000b\",\"payload\":\"x\"}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\",\"payload\":\"\\\\\\u0000\"}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\",\"payload\":\"\\\"\\u0000\"}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\",\"k\\u0000\":1}", 0,
        "string contains U+0000"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\0y\"}", 26, "NUL byte in JSON text"),
    BAD("{\"topic\":\"a\",\"payload\":\"x\"}\0", 28, "NUL byte in JSON text"),
    BAD("\0", 1, "NUL byte in JSON text"),

    /* Properties. */
    BAD("{\"payload\":\"x\",\"properties\":[]}", 0,
        "\"properties\" is not an object"),
    BAD("{\"payload\":\"x\",\"properties\":\"ct\"}", 0,
        "\"properties\" is not an object"),
    BAD("{\"payload\":\"x\",\"properties\":{\"content_type\":5}}", 0,
        "a string property is not a string"),
    BAD("{\"payload\":\"x\",\"properties\":{\"response_topic\":null}}", 0,
        "a string property is not a string"),
    BAD("{\"payload\":\"x\",\"properties\":{\"message_expiry\":-1}}", 0,
        "bad numeric property value"),
    BAD("{\"payload\":\"x\",\"properties\":{\"message_expiry\":1.5}}", 0,
        "bad numeric property value"),
    BAD("{\"payload\":\"x\",\"properties\":{\"message_expiry\":4294967296}}", 0,
        "bad numeric property value"),
    BAD("{\"payload\":\"x\",\"properties\":{\"message_expiry\":\"60\"}}", 0,
        "bad numeric property value"),
    BAD("{\"payload\":\"x\",\"properties\":{\"payload_format\":2}}", 0,
        "bad numeric property value"),
    BAD("{\"payload\":\"x\",\"properties\":{\"correlation_data_b64\":\"!\"}}",
        0, "bad correlation data"),
    BAD("{\"payload\":\"x\",\"properties\":{\"correlation_data_b64\":1}}", 0,
        "correlation data is not a string"),
    BAD("{\"payload\":\"x\",\"properties\":{\"user\":{}}}", 0,
        "\"user\" is not an array of pairs"),
    BAD("{\"payload\":\"x\",\"properties\":{\"user\":[\"a\",\"b\"]}}", 0,
        "\"user\" is not an array of pairs"),
    BAD("{\"payload\":\"x\",\"properties\":{\"user\":[[\"a\"]]}}", 0,
        "\"user\" is not an array of pairs"),
    BAD("{\"payload\":\"x\",\"properties\":{\"user\":[[\"a\",\"b\",\"c\"]]}}",
        0, "\"user\" is not an array of pairs"),
    BAD("{\"payload\":\"x\",\"properties\":{\"user\":[[\"a\",1]]}}", 0,
        "\"user\" is not an array of pairs"),
    {"{\"payload\":\"x\",\"properties\":{\"unknown\":1}}", 0, NULL, NULL,
        S("x"), -1, -1},
};

/* The full set of properties, in the JSON that encodes them. */
#define PROPS_JSON                                                             \
	"{\"content_type\":\"text/plain\",\"user\":[[\"k1\",\"v1\"],"          \
	"[\"k2\",\"v 2\"]],\"message_expiry\":3600,\"response_topic\":"        \
	"\"reply/here\",\"correlation_data_b64\":\"AQB6OQ==\","                \
	"\"payload_format\":1}"

static char *
buffer_string(struct evbuffer *b, size_t *len)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

static char *
encode(const struct record *r)
{
	struct evbuffer *b = evbuffer_new();
	char *s = buffer_string((jsonrec_encode(r, b), b), NULL);

	evbuffer_free(b);
	return s;
}

/* Printable form of a line for test names. */
static const char *
shown(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '#')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static void
test_encode(void)
{
	char name[200];
	size_t i;

	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		const struct enc_case *c = &enc_cases[i];
		struct record r;
		cJSON *parsed;
		char *s;

		record_init(&r);
		r.owned = false; /* everything below is borrowed */
		r.topic = (char *)(uintptr_t)c->topic;
		r.payload = (unsigned char *)(uintptr_t)c->payload;
		r.payload_len = c->len;
		r.qos = c->qos;
		r.retain = c->retain;
		r.ts.tv_sec = TS_SEC;
		r.ts.tv_nsec = TS_NSEC;
		s = encode(&r);
		snprintf(name, sizeof(name), "encode %s", c->name);
		is_str(s, c->want, name);
		parsed = cJSON_Parse(s);
		snprintf(name, sizeof(name), "encode %s: valid JSON", c->name);
		ok(parsed != NULL && cJSON_IsObject(parsed), name);
		cJSON_Delete(parsed);
		free(s);
	}
}

static mosquitto_property *
full_props(void)
{
	mosquitto_property *p = NULL;
	int rc = 0;

	rc |= mosquitto_property_add_string(
	    &p, MQTT_PROP_CONTENT_TYPE, "text/plain");
	rc |= mosquitto_property_add_string_pair(
	    &p, MQTT_PROP_USER_PROPERTY, "k1", "v1");
	rc |= mosquitto_property_add_int32(
	    &p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 3600);
	rc |= mosquitto_property_add_string(
	    &p, MQTT_PROP_RESPONSE_TOPIC, "reply/here");
	rc |= mosquitto_property_add_binary(
	    &p, MQTT_PROP_CORRELATION_DATA, "\x01\x00z9", 4);
	rc |= mosquitto_property_add_byte(
	    &p, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
	rc |= mosquitto_property_add_int16(&p, MQTT_PROP_TOPIC_ALIAS, 7);
	rc |= mosquitto_property_add_string_pair(
	    &p, MQTT_PROP_USER_PROPERTY, "k2", "v 2");
	if (rc != 0)
		ok(0, "building properties");
	return p;
}

static void
test_encode_props_ts(void)
{
	struct record r;
	char *s, buf[25];
	struct timespec ts;

	record_init(&r);
	r.topic = strdup("t");
	r.payload = (unsigned char *)strdup("x");
	r.payload_len = 1;
	r.ts.tv_sec = TS_SEC;
	r.ts.tv_nsec = TS_NSEC;
	r.props = full_props();
	s = encode(&r);
	is_str(s,
	    "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false," TS_JSON
	    ",\"properties\":" PROPS_JSON "}",
	    "encode with every property");
	free(s);
	mosquitto_property_free_all(&r.props);

	/* Only properties that the format does not carry: no object. */
	mosquitto_property_add_int16(&r.props, MQTT_PROP_TOPIC_ALIAS, 7);
	mosquitto_property_add_varint(
	    &r.props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, 9);
	s = encode(&r);
	is_str(s,
	    "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false," TS_JSON
	    "}",
	    "encode: no \"properties\" for topic alias/subscription id only");
	free(s);
	mosquitto_property_free_all(&r.props);

	/* Correlation data that is empty, and a user property with UTF-8. */
	mosquitto_property_add_binary(
	    &r.props, MQTT_PROP_CORRELATION_DATA, "", 0);
	mosquitto_property_add_string_pair(
	    &r.props, MQTT_PROP_USER_PROPERTY, "caf\xc3\xa9", "a\"b");
	s = encode(&r);
	is_str(s,
	    "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false," TS_JSON
	    ",\"properties\":{\"correlation_data_b64\":\"\","
	    "\"user\":[[\"caf\xc3\xa9\",\"a\\\"b\"]]}}",
	    "encode: empty correlation data, escaped user value");
	free(s);
	record_cleanup(&r);

	/* ts: milliseconds truncated, never rounded up; exact 25 bytes. */
	ts.tv_sec = TS_SEC;
	ts.tv_nsec = 999999999;
	jsonrec_iso_utc(&ts, buf, sizeof(buf));
	is_str(buf, "2026-11-22T08:00:00.999Z", "ts .999999999 -> .999Z");
	ts.tv_nsec = 0;
	jsonrec_iso_utc(&ts, buf, sizeof(buf));
	is_str(buf, "2026-11-22T08:00:00.000Z", "ts .0 -> .000Z");
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	jsonrec_iso_utc(&ts, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00.001Z", "ts of the epoch");
	ts.tv_sec = 951782400; /* 2000-02-29 */
	ts.tv_nsec = 42000000;
	jsonrec_iso_utc(&ts, buf, sizeof(buf));
	is_str(buf, "2000-02-29T00:00:00.042Z", "ts on a leap day");
	ts.tv_sec = 4102444799; /* 2099-12-31T23:59:59 */
	ts.tv_nsec = 500000000;
	jsonrec_iso_utc(&ts, buf, sizeof(buf));
	is_str(buf, "2099-12-31T23:59:59.500Z", "ts at the end of 2099");
}

static void
test_parse(void)
{
	char err[256], name[400], sbuf[200];
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->line);
		struct record r;
		int rc;

		record_init(&r);
		err[0] = '\0';
		rc = jsonrec_parse(c->line, len, &r, err, sizeof(err));
		shown(c->line, len, sbuf, sizeof(sbuf));
		if (c->err != NULL) {
			snprintf(name, sizeof(name), "parse '%s' fails", sbuf);
			is_int(rc, -1, name);
			snprintf(name, sizeof(name),
			    "parse '%s': reason has '%s'", sbuf, c->err);
			if (!ok(strstr(err, c->err) != NULL, name))
				printf("#   reason: %s\n", err);
			snprintf(name, sizeof(name),
			    "parse '%s': record cleaned up", sbuf);
			ok(r.topic == NULL && r.payload == NULL &&
			        r.props == NULL && r.qos == -1 &&
			        r.retain == -1,
			    name);
			record_cleanup(&r);
			continue;
		}
		snprintf(name, sizeof(name), "parse '%s'", sbuf);
		if (!is_int(rc, 0, name)) {
			printf("#   reason: %s\n", err);
			record_cleanup(&r);
			continue;
		}
		snprintf(name, sizeof(name), "parse '%s': topic", sbuf);
		is_str(r.topic, c->topic, name);
		snprintf(name, sizeof(name), "parse '%s': payload", sbuf);
		ok(r.payload != NULL, name);
		if (r.payload != NULL)
			is_mem(r.payload, r.payload_len, c->payload, c->plen,
			    name);
		snprintf(name, sizeof(name), "parse '%s': qos", sbuf);
		is_int(r.qos, c->qos, name);
		snprintf(name, sizeof(name), "parse '%s': retain", sbuf);
		is_int(r.retain, c->retain, name);
		record_cleanup(&r);
	}
}

static void
test_parse_props(void)
{
	static const char line[] = "{\"topic\":\"t\",\"payload\":\"x\","
	                           "\"properties\":" PROPS_JSON "}";
	static const char plain_cd[] =
	    "{\"payload\":\"x\",\"properties\":{\"correlation_data\":\"abc\","
	    "\"message_expiry\":4294967295,\"payload_format\":0}}";
	char err[256], *s = NULL, *k = NULL, *v = NULL;
	void *bin = NULL;
	uint16_t blen = 0;
	uint32_t u32 = 0;
	uint8_t u8 = 9;
	const mosquitto_property *p;
	struct record r;
	int users = 0;

	record_init(&r);
	if (!is_int(jsonrec_parse(line, strlen(line), &r, err, sizeof(err)), 0,
	        "parse every property"))
		printf("#   reason: %s\n", err);
	ok(mosquitto_property_read_string(
	       r.props, MQTT_PROP_CONTENT_TYPE, &s, false) != NULL &&
	        strcmp(s, "text/plain") == 0,
	    "parsed content_type");
	free(s);
	s = NULL;
	ok(mosquitto_property_read_string(
	       r.props, MQTT_PROP_RESPONSE_TOPIC, &s, false) != NULL &&
	        strcmp(s, "reply/here") == 0,
	    "parsed response_topic");
	free(s);
	ok(mosquitto_property_read_int32(r.props,
	       MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &u32, false) != NULL &&
	        u32 == 3600,
	    "parsed message_expiry");
	ok(mosquitto_property_read_byte(r.props,
	       MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &u8, false) != NULL &&
	        u8 == 1,
	    "parsed payload_format");
	ok(mosquitto_property_read_binary(r.props, MQTT_PROP_CORRELATION_DATA,
	       &bin, &blen, false) != NULL &&
	        blen == 4 && memcmp(bin, "\x01\x00z9", 4) == 0,
	    "parsed correlation_data_b64");
	free(bin);
	for (p = r.props; p != NULL; p = mosquitto_property_next(p)) {
		if (mosquitto_property_identifier(p) != MQTT_PROP_USER_PROPERTY)
			continue;
		if (mosquitto_property_read_string_pair(
		        p, MQTT_PROP_USER_PROPERTY, &k, &v, false) == NULL)
			continue;
		users++;
		if (users == 1)
			ok(strcmp(k, "k1") == 0 && strcmp(v, "v1") == 0,
			    "first user property");
		else if (users == 2)
			ok(strcmp(k, "k2") == 0 && strcmp(v, "v 2") == 0,
			    "second user property");
		free(k);
		free(v);
	}
	is_int(users, 2, "two user properties, in order");

	/* Encoding the parsed record gives back the same properties. */
	r.ts.tv_sec = TS_SEC;
	r.ts.tv_nsec = TS_NSEC;
	s = encode(&r);
	is_str(s,
	    "{\"topic\":\"t\",\"payload\":\"x\",\"qos\":0,\"retain\":false," TS_JSON
	    ",\"properties\":" PROPS_JSON "}",
	    "parsed properties encode back the same");
	free(s);
	record_cleanup(&r);

	record_init(&r);
	if (!is_int(
	        jsonrec_parse(plain_cd, strlen(plain_cd), &r, err, sizeof(err)),
	        0, "parse plain correlation_data and limits"))
		printf("#   reason: %s\n", err);
	bin = NULL;
	ok(mosquitto_property_read_binary(r.props, MQTT_PROP_CORRELATION_DATA,
	       &bin, &blen, false) != NULL &&
	        blen == 3 && memcmp(bin, "abc", 3) == 0,
	    "plain correlation_data is taken as bytes");
	free(bin);
	ok(mosquitto_property_read_int32(r.props,
	       MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &u32, false) != NULL &&
	        u32 == 4294967295u,
	    "message_expiry 4294967295 (the maximum)");
	ok(mosquitto_property_read_byte(r.props,
	       MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &u8, false) != NULL &&
	        u8 == 0,
	    "payload_format 0");
	record_cleanup(&r);

	/* Correlation data: 65535 bytes is the limit. */
	{
		size_t n = 65535;
		const char *pre = "{\"payload\":\"x\",\"properties\":"
		                  "{\"correlation_data\":\"";
		char *big = malloc(strlen(pre) + n + 1 + 4);
		int rc;

		for (int round = 0; round < 2; round++) {
			size_t len = n + (size_t)round;

			memcpy(big, pre, strlen(pre));
			memset(big + strlen(pre), 'c', len);
			memcpy(big + strlen(pre) + len, "\"}}", 4);
			record_init(&r);
			rc = jsonrec_parse(
			    big, strlen(big), &r, err, sizeof(err));
			if (round == 0)
				is_int(
				    rc, 0, "correlation data of 65535 bytes");
			else
				ok(rc == -1 &&
				        strstr(err, "bad correlation data") !=
				            NULL,
				    "correlation data of 65536 bytes refused");
			record_cleanup(&r);
		}
		free(big);
	}
}

/* The round trip: random records encode and parse back the same. */
static unsigned rng_state = 20261122;

static unsigned
rnd(unsigned n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

/* Random valid UTF-8 text (no NUL) of about N bytes into P; its length. */
static size_t
random_text(unsigned char *p, size_t n)
{
	static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\",
	    "/", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9",
	    "\xdf\xbf", "\xe2\x82\xac", "\xef\xbf\xbf", "\xe2\x80\xa8",
	    "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "{", "}", "u0000",
	    "\\u0000", "%", "@"};
	size_t len = 0;

	while (len + 6 < n) {
		const char *s = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(p + len, s, strlen(s));
		len += strlen(s);
	}
	return len;
}

static void
test_round_trip(void)
{
	unsigned char *buf = malloc(4096);
	char topic[64], err[256];
	int bad = 0, texts = 0;

	for (int i = 0; i < 1000; i++) {
		struct record r, back;
		size_t len, tlen;
		char *s;

		record_init(&r);
		record_init(&back);
		if (i % 2 == 0) {
			len = random_text(buf, rnd(600));
		} else {
			len = rnd(i < 50 ? 4 : 2000);
			for (size_t k = 0; k < len; k++)
				buf[k] = (unsigned char)rnd(256);
		}
		texts += utf8_is_text(buf, len);
		tlen = random_text((unsigned char *)topic, 1 + rnd(50));
		topic[tlen] = '\0';
		r.owned = false;
		r.topic = topic;
		r.payload = buf;
		r.payload_len = len;
		r.qos = (int)rnd(3);
		r.retain = (int)rnd(2);
		r.ts.tv_sec = TS_SEC + (time_t)rnd(100000000);
		r.ts.tv_nsec = (long)rnd(1000000000);
		s = encode(&r);
		if (jsonrec_parse(s, strlen(s), &back, err, sizeof(err)) != 0 ||
		    back.topic == NULL || strcmp(back.topic, topic) != 0 ||
		    back.payload_len != len ||
		    (len > 0 && memcmp(back.payload, buf, len) != 0) ||
		    back.qos != r.qos || back.retain != r.retain) {
			if (bad++ == 0)
				printf("#   first failure: %s (%s)\n", s, err);
		}
		free(s);
		record_cleanup(&back);
	}
	is_int(bad, 0, "1000 random records round-trip");
	ok(texts > 400 && texts < 1000, "round trip mixes text and binary");
	free(buf);
}

int
main(void)
{
	test_encode();
	test_encode_props_ts();
	test_parse();
	test_parse_props();
	test_round_trip();
	return done();
}
