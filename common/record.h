/*
 * The record that flows from a source to a sink: one MQTT message with its
 * topic, payload, flags, MQTT 5 properties and the time it was received.
 *
 * A record is either a view (every pointer borrowed, e.g. from a message
 * that libmosquitto passed to a callback) or owned (filled by jsonrec_parse
 * or record_set_*); record_cleanup() frees what an owned record holds.
 */
#ifndef MQSSE_RECORD_H
#define MQSSE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <mosquitto.h>

struct record {
	char *topic;            /* NUL-terminated */
	unsigned char *payload; /* PAYLOAD_LEN bytes, may hold NUL */
	size_t payload_len;
	int qos;            /* 0..2, or -1: not given (use the default) */
	int retain;         /* 0/1, or -1: not given */
	int mid;            /* message id as delivered (0 for QoS 0) */
	struct timespec ts; /* when it was received (CLOCK_REALTIME) */
	mosquitto_property *props; /* MQTT 5 properties or NULL */
	bool owned;
};

/* An empty owned record: qos and retain unset. */
void record_init(struct record *r);
/* Free what an owned record holds and reset it; a view is only reset. */
void record_cleanup(struct record *r);
/* A view of a message delivered by libmosquitto, stamped with the time. */
void record_view_message(struct record *r, const struct mosquitto_message *m,
    const mosquitto_property *props);

#endif
