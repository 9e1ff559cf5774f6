/*
 * JSON Lines encoding of records, the format that mqsub -j writes and
 * mqpub -j reads (SPEC sections 3 and 4), with cJSON.
 */
#ifndef MQSSE_JSONREC_H
#define MQSSE_JSONREC_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>

#include "common/record.h"

/*
 * Append the compact JSON object for R to OUT (no newline). The payload goes
 * out as "payload" when it is UTF-8 text without NUL, else "payload_b64";
 * "ts" is R's time; "properties" only when R has MQTT 5 properties.
 */
void jsonrec_encode(const struct record *r, struct evbuffer *out);

/*
 * Parse one JSON record from LINE (LEN bytes, no newline) into the owned
 * record R (record_init'ed by the caller). Missing topic leaves R->topic
 * NULL; missing qos/retain leave -1. Returns 0, or -1 with a reason in ERR
 * (R is then cleaned up).
 */
int jsonrec_parse(
    const char *line, size_t len, struct record *r, char *err, size_t errlen);

/*
 * Append S (LEN bytes of UTF-8, which may hold NUL) to OUT as a quoted JSON
 * string: quote, backslash and control characters escaped (NUL as
 * \u0000, which cJSON cannot hold), everything else as is.
 */
void json_add_string(struct evbuffer *out, const char *s, size_t len);

/* Format TS as 2026-11-22T08:00:00.123Z into BUF (at least 25 bytes). */
void jsonrec_iso_utc(const struct timespec *ts, char *buf, size_t len);

#endif
