#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "common/b64.h"
#include "common/diag.h"
#include "common/exitcode.h"
#include "common/jsonrec.h"
#include "common/utf8.h"
#include "common/xalloc.h"

void
jsonrec_iso_utc(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	time_t t = ts->tv_sec;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts->tv_nsec / 1000000);
}

static void
add_b64(cJSON *obj, const char *key, const void *data, size_t len)
{
	char *enc = xmalloc(b64_encoded_len(len) + 1);

	b64_encode(data, len, enc);
	cJSON_AddStringToObject(obj, key, enc);
	free(enc);
}

/* Add a string that may not be NUL-terminated; text, else base64 under KEY_B64. */
static void
add_bytes(cJSON *obj, const char *key, const char *key_b64, const void *data,
    size_t len)
{
	if (utf8_is_text(data, len)) {
		char *s = xmemdup0(data, len);

		cJSON_AddStringToObject(obj, key, s);
		free(s);
	} else {
		add_b64(obj, key_b64, data, len);
	}
}

static cJSON *
encode_props(const mosquitto_property *props)
{
	cJSON *o = cJSON_CreateObject(), *user = NULL;
	const mosquitto_property *p;

	for (p = props; p != NULL; p = mosquitto_property_next(p)) {
		int id = mosquitto_property_identifier(p);
		char *s = NULL, *v = NULL;
		void *bin = NULL;
		uint16_t blen = 0;
		uint32_t u32;
		uint8_t u8;

		switch (id) {
		case MQTT_PROP_CONTENT_TYPE:
		case MQTT_PROP_RESPONSE_TOPIC:
			if (mosquitto_property_read_string(p, id, &s, false)) {
				cJSON_AddStringToObject(o,
				    id == MQTT_PROP_CONTENT_TYPE
				        ? "content_type"
				        : "response_topic",
				    s);
			}
			break;
		case MQTT_PROP_USER_PROPERTY:
			if (mosquitto_property_read_string_pair(
			        p, id, &s, &v, false)) {
				cJSON *pair = cJSON_CreateArray();

				cJSON_AddItemToArray(
				    pair, cJSON_CreateString(s));
				cJSON_AddItemToArray(
				    pair, cJSON_CreateString(v));
				if (user == NULL)
					user =
					    cJSON_AddArrayToObject(o, "user");
				cJSON_AddItemToArray(user, pair);
			}
			break;
		case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
			if (mosquitto_property_read_int32(p, id, &u32, false))
				cJSON_AddNumberToObject(
				    o, "message_expiry", u32);
			break;
		case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
			if (mosquitto_property_read_byte(p, id, &u8, false))
				cJSON_AddNumberToObject(
				    o, "payload_format", u8);
			break;
		case MQTT_PROP_CORRELATION_DATA:
			if (mosquitto_property_read_binary(
			        p, id, &bin, &blen, false))
				add_b64(o, "correlation_data_b64", bin, blen);
			break;
		default:
			break;
		}
		free(s);
		free(v);
		free(bin);
	}
	if (o->child == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void
jsonrec_encode(const struct record *r, struct evbuffer *out)
{
	cJSON *o = cJSON_CreateObject(), *props;
	char ts[40], *text;

	cJSON_AddStringToObject(o, "topic", r->topic);
	add_bytes(o, "payload", "payload_b64", r->payload, r->payload_len);
	cJSON_AddNumberToObject(o, "qos", r->qos < 0 ? 0 : r->qos);
	cJSON_AddBoolToObject(o, "retain", r->retain > 0);
	jsonrec_iso_utc(&r->ts, ts, sizeof(ts));
	cJSON_AddStringToObject(o, "ts", ts);
	if (r->props != NULL && (props = encode_props(r->props)) != NULL)
		cJSON_AddItemToObject(o, "properties", props);
	text = cJSON_PrintUnformatted(o);
	if (text == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	evbuffer_add(out, text, strlen(text));
	cJSON_free(text);
	cJSON_Delete(o);
}

/*
 * cJSON keeps strings NUL-terminated, so an escaped U+0000 would silently
 * cut a string short. Find one in the raw text instead: a "\u0000" whose
 * backslash is not itself escaped.
 */
static bool
has_escaped_nul(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 5 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++; /* skip the escaped character, e.g. the second \ of \\ */
	}
	return false;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int
parse_props(const cJSON *p, struct record *r, char *err, size_t errlen)
{
	const cJSON *it;

	if (!cJSON_IsObject(p))
		return fail(err, errlen, "\"properties\" is not an object");
	cJSON_ArrayForEach(it, p)
	{
		const char *k = it->string;
		int rc = 0;

		if (strcmp(k, "content_type") == 0 ||
		    strcmp(k, "response_topic") == 0) {
			if (!cJSON_IsString(it))
				return fail(err, errlen,
				    "a string property is not a string");
			rc = mosquitto_property_add_string(&r->props,
			    k[0] == 'c' ? MQTT_PROP_CONTENT_TYPE
			                : MQTT_PROP_RESPONSE_TOPIC,
			    it->valuestring);
		} else if (strcmp(k, "message_expiry") == 0 ||
		    strcmp(k, "payload_format") == 0) {
			double d = cJSON_GetNumberValue(it);
			double max = k[0] == 'm' ? 4294967295.0 : 1.0;

			if (!cJSON_IsNumber(it) || d < 0 || d > max ||
			    d != (double)(uint32_t)d)
				return fail(
				    err, errlen, "bad numeric property value");
			if (k[0] == 'm')
				rc = mosquitto_property_add_int32(&r->props,
				    MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
				    (uint32_t)d);
			else
				rc = mosquitto_property_add_byte(&r->props,
				    MQTT_PROP_PAYLOAD_FORMAT_INDICATOR,
				    (uint8_t)d);
		} else if (strcmp(k, "correlation_data_b64") == 0 ||
		    strcmp(k, "correlation_data") == 0) {
			unsigned char *bin;
			size_t slen;
			long blen;

			if (!cJSON_IsString(it))
				return fail(err, errlen,
				    "correlation data is not a string");
			slen = strlen(it->valuestring);
			if (k[16] == '\0') {
				bin = (unsigned char *)xstrdup(it->valuestring);
				blen = (long)slen;
			} else {
				bin = xmalloc(slen / 4 * 3 + 1);
				blen = b64_decode(it->valuestring, slen, bin);
			}
			if (blen < 0 || blen > 65535) {
				free(bin);
				return fail(
				    err, errlen, "bad correlation data");
			}
			rc = mosquitto_property_add_binary(&r->props,
			    MQTT_PROP_CORRELATION_DATA, bin, (uint16_t)blen);
			free(bin);
		} else if (strcmp(k, "user") == 0) {
			const cJSON *pair;

			if (!cJSON_IsArray(it))
				return fail(err, errlen,
				    "\"user\" is not an array of pairs");
			cJSON_ArrayForEach(pair, it)
			{
				const cJSON *a = cJSON_GetArrayItem(pair, 0);
				const cJSON *b = cJSON_GetArrayItem(pair, 1);

				if (!cJSON_IsArray(pair) ||
				    cJSON_GetArraySize(pair) != 2 ||
				    !cJSON_IsString(a) || !cJSON_IsString(b))
					return fail(err, errlen,
					    "\"user\" is not an array of pairs");
				rc = mosquitto_property_add_string_pair(
				    &r->props, MQTT_PROP_USER_PROPERTY,
				    a->valuestring, b->valuestring);
				if (rc != 0)
					break;
			}
		}
		/* Unknown property names are ignored, as other keys are. */
		if (rc != 0)
			return fail(err, errlen, "invalid property value");
	}
	return 0;
}

int
jsonrec_parse(
    const char *line, size_t len, struct record *r, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *topic, *payload, *b64, *qos, *retain, *props;
	char *copy;
	int rc = -1;

	if (memchr(line, '\0', len) != NULL)
		return fail(err, errlen, "NUL byte in JSON text");
	if (has_escaped_nul(line, len))
		return fail(err, errlen, "string contains U+0000");
	copy = xmemdup0(line, len);
	root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
	free(copy);
	if (root == NULL) {
		fail(err, errlen, "invalid JSON or trailing text");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, "not a JSON object");
		goto out;
	}
	topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
	payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
	b64 = cJSON_GetObjectItemCaseSensitive(root, "payload_b64");
	qos = cJSON_GetObjectItemCaseSensitive(root, "qos");
	retain = cJSON_GetObjectItemCaseSensitive(root, "retain");
	props = cJSON_GetObjectItemCaseSensitive(root, "properties");

	if (topic != NULL) {
		if (!cJSON_IsString(topic)) {
			fail(err, errlen, "\"topic\" is not a string");
			goto out;
		}
		r->topic = xstrdup(topic->valuestring);
	}
	if ((payload != NULL) == (b64 != NULL)) {
		fail(err, errlen,
		    payload ? "both \"payload\" and \"payload_b64\""
		            : "neither \"payload\" nor \"payload_b64\"");
		goto out;
	}
	if (payload != NULL) {
		if (!cJSON_IsString(payload)) {
			fail(err, errlen, "\"payload\" is not a string");
			goto out;
		}
		r->payload_len = strlen(payload->valuestring);
		r->payload = (unsigned char *)xmemdup0(
		    payload->valuestring, r->payload_len);
	} else {
		size_t slen;
		long n;

		if (!cJSON_IsString(b64)) {
			fail(err, errlen, "\"payload_b64\" is not a string");
			goto out;
		}
		slen = strlen(b64->valuestring);
		r->payload = xmalloc(slen / 4 * 3 + 1);
		n = b64_decode(b64->valuestring, slen, r->payload);
		if (n < 0) {
			fail(err, errlen, "\"payload_b64\" is not base64");
			goto out;
		}
		r->payload_len = (size_t)n;
	}
	if (qos != NULL) {
		double d = cJSON_GetNumberValue(qos);

		if (!cJSON_IsNumber(qos) || !(d == 0 || d == 1 || d == 2)) {
			fail(err, errlen, "\"qos\" is not 0, 1 or 2");
			goto out;
		}
		r->qos = (int)d;
	}
	if (retain != NULL) {
		if (cJSON_IsBool(retain))
			r->retain = cJSON_IsTrue(retain);
		else if (cJSON_IsNumber(retain) &&
		    (retain->valuedouble == 0 || retain->valuedouble == 1))
			r->retain = (int)retain->valuedouble;
		else {
			fail(err, errlen, "\"retain\" is not a boolean");
			goto out;
		}
	}
	if (props != NULL && parse_props(props, r, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc == -1)
		record_cleanup(r);
	return rc;
}

void
json_add_string(struct evbuffer *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct evbuffer_iovec v;
	const unsigned char *p = (const unsigned char *)s;
	char *o;

	/* At worst every byte becomes \u00XX: reserve that once. */
	if (evbuffer_reserve_space(out, (ev_ssize_t)(len * 6 + 2), &v, 1) < 1)
		return;
	o = v.iov_base;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\t':
			*o++ = 't';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	v.iov_len = (size_t)(o - (char *)v.iov_base);
	evbuffer_commit_space(out, &v, 1);
}
