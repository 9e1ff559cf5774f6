/*
 * An MQTT session driven by a libevent loop through libmosquitto's
 * external-loop API: connecting (in a helper thread, since libmosquitto
 * resolves names and connects with blocking calls), the read/write/misc
 * events, the connect timeout, reconnection with back-off, and the MQTT 5
 * to 3.1.1 fallback. Tool-neutral: mqpub, mqsub and mq2sse use it.
 *
 * While a session is connected the caller may use mqtt_mosq() to publish,
 * subscribe or unsubscribe, then must call mqtt_kick() so that queued
 * packets are written.
 */
#ifndef MQSSE_MQTT_H
#define MQSSE_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <mosquitto.h>

#include "common/mqconn.h"

struct mqtt_cbs {
	/* CONNACK accepted. SESSION_PRESENT as the broker said. */
	void (*connected)(void *arg, bool session_present);
	/* An established connection was lost; a reconnection follows (optional). */
	void (*lost)(void *arg);
	void (*message)(void *arg, const struct mosquitto_message *m,
	    const mosquitto_property *props);
	/* QoS 1/2: acknowledged with REASON; QoS 0: written out. */
	void (*published)(void *arg, int mid, int reason);
	void (*subscribed)(void *arg, int mid, int count, const int *granted);
	void (*unsubscribed)(void *arg, int mid);
	/*
	 * The session gave up (the reason is already printed): STATUS is
	 * EXIT_CONNECT (could not connect, refused) or EXIT_RUNTIME (lost
	 * with --no-reconnect, session taken over). No callbacks follow.
	 */
	void (*fatal)(void *arg, int status);
	/* mqtt_disconnect() finished: DISCONNECT was sent, or no connection. */
	void (*closed)(void *arg);
};

struct mqtt;

/* A session for the options C (kept by reference). Exits 1 on failure. */
struct mqtt *mqtt_new(struct event_base *base, const struct mqconn *c,
    const struct mqtt_cbs *cbs, void *arg);
/*
 * Start connecting. The first connection is retried with back-off until
 * --connect-timeout has passed.
 */
void mqtt_start(struct mqtt *s);
/*
 * How long a lost connection may stay lost before the session gives up
 * (fatal, EXIT_CONNECT). 0, the default, means reconnect for ever.
 */
void mqtt_set_reconnect_limit(struct mqtt *s, uint64_t ms);
/*
 * Retry the first connection for ever (mq2sse serves its clients while the
 * broker is away): past --connect-timeout a message says it still tries.
 */
void mqtt_set_patient(struct mqtt *s);
/* Maximum messages in flight the broker accepts (Receive Maximum). */
int mqtt_receive_maximum(const struct mqtt *s);
/* The protocol in use: MQTT_PROTOCOL_V31, _V311 or _V5. */
int mqtt_protocol(const struct mqtt *s);
bool mqtt_connected(const struct mqtt *s);
struct mosquitto *mqtt_mosq(struct mqtt *s);
/* Write what libmosquitto queued (call after publish/subscribe). */
void mqtt_kick(struct mqtt *s);
/* Send DISCONNECT (no will) and call closed() when it is out. */
void mqtt_disconnect(struct mqtt *s);
void mqtt_free(struct mqtt *s);

#endif
