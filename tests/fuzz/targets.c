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
#include "common/topic.h"
#include "common/xalloc.h"
#include "tests/fuzz/targets.h"
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
