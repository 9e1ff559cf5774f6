#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqtt_protocol.h>

#include "common/fmt.h"
#include "common/jsonrec.h"
#include "common/xalloc.h"

/*
 * A template is a list of operations: literal text, a %-field with flags,
 * width and precision, or an @-strftime conversion.
 */
enum op_kind { OP_TEXT, OP_FIELD, OP_TIME };

struct op {
	enum op_kind kind;
	char conv; /* the letter after % or @ */
	bool left, zero;
	int width, prec; /* -1: not given */
	char *text;      /* OP_TEXT */
	size_t len;
};

struct fmt {
	struct op *ops;
	size_t n;
};

static const char mqtt_fields[] = "ACDEFIjlmPpqRrStUxX";

static void
push(struct fmt *f, struct op op)
{
	f->ops = xrealloc(f->ops, (f->n + 1) * sizeof(*f->ops));
	f->ops[f->n++] = op;
}

static void
push_text(struct fmt *f, const char *s, size_t len)
{
	struct op *last = f->n > 0 ? &f->ops[f->n - 1] : NULL;

	if (last != NULL && last->kind == OP_TEXT) {
		last->text = xrealloc(last->text, last->len + len);
		memcpy(last->text + last->len, s, len);
		last->len += len;
		return;
	}
	struct op op = {.kind = OP_TEXT, .text = xmalloc(len), .len = len};
	memcpy(op.text, s, len);
	push(f, op);
}

struct fmt *
fmt_compile(const char *s, char *err, size_t errlen)
{
	return fmt_compile_fields(s, mqtt_fields, true, err, errlen);
}

struct fmt *
fmt_compile_fields(
    const char *s, const char *fields, bool at_time, char *err, size_t errlen)
{
	struct fmt *f = xcalloc(1, sizeof(*f));

	while (*s != '\0') {
		if (*s == '\\') {
			static const char from[] = "ntre\\av0";
			static const char to[] = "\n\t\r\033\\\a\v";
			const char *p = s[1] ? strchr(from, s[1]) : NULL;
			char c;

			if (p == NULL) {
				snprintf(err, errlen,
				    "invalid escape '\\%c' in format",
				    s[1] ? s[1] : ' ');
				goto bad;
			}
			c = *p == '0' ? '\0' : to[p - from];
			push_text(f, &c, 1);
			s += 2;
		} else if (*s == '@' && at_time) {
			if (s[1] == '\0') {
				snprintf(err, errlen,
				    "incomplete @ sequence at the end of format");
				goto bad;
			}
			if (s[1] == '@') {
				push_text(f, "@", 1);
			} else {
				struct op op = {.kind = OP_TIME,
				    .conv = s[1],
				    .width = -1,
				    .prec = -1};
				push(f, op);
			}
			s += 2;
		} else if (*s == '%') {
			struct op op = {
			    .kind = OP_FIELD, .width = -1, .prec = -1};

			s++;
			for (; *s == '-' || *s == '0'; s++) {
				if (*s == '-')
					op.left = true;
				else
					op.zero = true;
			}
			if (*s >= '1' && *s <= '9') {
				op.width = 0;
				while (
				    *s >= '0' && *s <= '9' && op.width < 100000)
					op.width = op.width * 10 + (*s++ - '0');
			}
			if (*s == '.') {
				s++;
				op.prec = 0;
				while (
				    *s >= '0' && *s <= '9' && op.prec < 100000)
					op.prec = op.prec * 10 + (*s++ - '0');
			}
			if (*s == '\0') {
				snprintf(err, errlen,
				    "incomplete %% sequence at the end of format");
				goto bad;
			}
			if (*s != '%' && strchr(fields, *s) == NULL) {
				snprintf(err, errlen,
				    "unknown sequence '%%%c' in format", *s);
				goto bad;
			}
			if (*s == '%') {
				push_text(f, "%", 1);
			} else {
				op.conv = *s;
				push(f, op);
			}
			s++;
		} else {
			size_t n = strcspn(s, at_time ? "\\@%" : "\\%");

			push_text(f, s, n);
			s += n;
		}
	}
	return f;
bad:
	fmt_free(f);
	return NULL;
}

void
fmt_free(struct fmt *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->ops[i].text);
	free(f->ops);
	free(f);
}

/* Add S (LEN bytes) with the field's width, precision and alignment. */
static void
pad(struct evbuffer *out, const struct op *op, const char *s, size_t len,
    bool numeric)
{
	size_t w;
	char fill = op->zero && numeric && !op->left ? '0' : ' ';

	if (op->prec >= 0 && !numeric && len > (size_t)op->prec)
		len = (size_t)op->prec;
	w = op->width > 0 ? (size_t)op->width : 0;
	if (!op->left)
		for (size_t i = len; i < w; i++)
			evbuffer_add(out, &fill, 1);
	evbuffer_add(out, s, len);
	if (op->left)
		for (size_t i = len; i < w; i++)
			evbuffer_add(out, " ", 1);
}

static void
pad_num(struct evbuffer *out, const struct op *op, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	pad(out, op, buf, (size_t)n, true);
}

static void
hex(struct evbuffer *out, const struct op *op, const unsigned char *p,
    size_t len, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *s = xmalloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	pad(out, op, s, len * 2, true);
	free(s);
}

static void
prop_string(
    struct evbuffer *out, const struct op *op, const struct record *r, int id)
{
	char *v = NULL;

	if (mosquitto_property_read_string(r->props, id, &v, false) != NULL) {
		pad(out, op, v, strlen(v), false);
		free(v);
	}
}

static void
prop_number(
    struct evbuffer *out, const struct op *op, const struct record *r, int id)
{
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	if (id == MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) {
		if (mosquitto_property_read_byte(r->props, id, &u8, false))
			pad_num(out, op, u8);
	} else if (id == MQTT_PROP_TOPIC_ALIAS) {
		if (mosquitto_property_read_int16(r->props, id, &u16, false))
			pad_num(out, op, u16);
	} else if (id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
		if (mosquitto_property_read_varint(r->props, id, &u32, false))
			pad_num(out, op, u32);
	} else if (mosquitto_property_read_int32(r->props, id, &u32, false)) {
		pad_num(out, op, u32);
	}
}

static void
user_props(struct evbuffer *out, const struct record *r)
{
	const mosquitto_property *p;
	bool first = true;

	for (p = r->props; p != NULL; p = mosquitto_property_next(p)) {
		char *k = NULL, *v = NULL;

		if (mosquitto_property_identifier(p) != MQTT_PROP_USER_PROPERTY)
			continue;
		if (mosquitto_property_read_string_pair(
		        p, MQTT_PROP_USER_PROPERTY, &k, &v, false) == NULL)
			continue;
		evbuffer_add_printf(out, "%s%s:%s", first ? "" : " ", k, v);
		first = false;
		free(k);
		free(v);
	}
}

static void
field(struct evbuffer *out, const struct op *op, const struct record *r)
{
	char buf[64];
	struct tm tm;
	time_t t = r->ts.tv_sec;
	void *bin = NULL;
	uint16_t blen = 0;

	switch (op->conv) {
	case 't':
		pad(out, op, r->topic, strlen(r->topic), false);
		break;
	case 'p':
		pad(out, op, (const char *)r->payload, r->payload_len, false);
		break;
	case 'x':
	case 'X':
		hex(out, op, r->payload, r->payload_len, op->conv == 'X');
		break;
	case 'l':
		pad_num(out, op, r->payload_len);
		break;
	case 'q':
		pad_num(out, op, (uint64_t)(r->qos < 0 ? 0 : r->qos));
		break;
	case 'r':
		pad_num(out, op, r->retain > 0 ? 1 : 0);
		break;
	case 'm':
		pad_num(out, op, (uint64_t)(r->mid < 0 ? 0 : r->mid));
		break;
	case 'I':
		localtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
		pad(out, op, buf, strlen(buf), false);
		break;
	case 'U':
		snprintf(buf, sizeof(buf), "%lld.%09ld",
		    (long long)r->ts.tv_sec, r->ts.tv_nsec);
		pad(out, op, buf, strlen(buf), false);
		break;
	case 'j':
		jsonrec_encode(r, out);
		break;
	case 'C':
		prop_string(out, op, r, MQTT_PROP_CONTENT_TYPE);
		break;
	case 'R':
		prop_string(out, op, r, MQTT_PROP_RESPONSE_TOPIC);
		break;
	case 'E':
		prop_number(out, op, r, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
		break;
	case 'F':
		prop_number(out, op, r, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
		break;
	case 'A':
		prop_number(out, op, r, MQTT_PROP_TOPIC_ALIAS);
		break;
	case 'S':
		prop_number(out, op, r, MQTT_PROP_SUBSCRIPTION_IDENTIFIER);
		break;
	case 'D':
		if (mosquitto_property_read_binary(r->props,
		        MQTT_PROP_CORRELATION_DATA, &bin, &blen, false)) {
			evbuffer_add(out, bin, blen);
			free(bin);
		}
		break;
	case 'P':
		user_props(out, r);
		break;
	}
}

void
fmt_render(const struct fmt *f, const struct record *r, struct evbuffer *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct op *op = &f->ops[i];

		if (op->kind == OP_TEXT) {
			evbuffer_add(out, op->text, op->len);
		} else if (op->kind == OP_FIELD) {
			field(out, op, r);
		} else if (op->conv == 'N') {
			evbuffer_add_printf(out, "%09ld", r->ts.tv_nsec);
		} else {
			char spec[3] = {'%', op->conv, '\0'}, buf[256];
			struct tm tm;
			time_t t = r->ts.tv_sec;
			size_t n;

			localtime_r(&t, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			n = strftime(buf, sizeof(buf), spec, &tm);
#pragma GCC diagnostic pop
			evbuffer_add(out, buf, n);
		}
	}
}

struct fmt_field {
	const struct op *op;
	struct evbuffer *out;
};

void
fmt_field_put(const struct fmt_field *fld, const char *s, size_t len)
{
	pad(fld->out, fld->op, s, len, false);
}

void
fmt_render_cb(
    const struct fmt *f, fmt_field_cb *cb, void *arg, struct evbuffer *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct op *op = &f->ops[i];

		if (op->kind == OP_TEXT) {
			evbuffer_add(out, op->text, op->len);
		} else if (op->kind == OP_FIELD) {
			struct fmt_field fld = {op, out};

			cb(arg, op->conv, &fld);
		}
	}
}
