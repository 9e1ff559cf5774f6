/*
 * mq2sse's last-value cache: the latest retained message of each topic,
 * as the event it became (type and data), bounded in topics; past the
 * bound the least recently updated topics go first.
 */
#ifndef MQSSE_RETAINED_H
#define MQSSE_RETAINED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct retained;

/* A cache of at most MAX topics. */
struct retained *retained_new(size_t max);
void retained_free(struct retained *r);

/*
 * Set TOPIC's event (copies are kept), the ID it went out with and SUM, a
 * checksum of the payload it came from, or remove TOPIC when DATA is NULL
 * (an empty retained message). Returns true when another topic had to be
 * dropped to make room.
 */
bool retained_set(struct retained *r, const char *topic, const char *type,
    size_t type_len, const char *data, size_t data_len, uint64_t id,
    uint64_t sum);

size_t retained_count(const struct retained *r);

/* True when TOPIC is kept with the checksum SUM (the same payload). */
bool retained_has(struct retained *r, const char *topic, uint64_t sum);

/* True when TOPIC is kept, whatever its value. */
bool retained_holds(struct retained *r, const char *topic);

/* Call CB for each topic, least recently updated first. */
void retained_each(const struct retained *r,
    void (*cb)(void *arg, const char *topic, const char *type, size_t type_len,
        const char *data, size_t data_len, uint64_t id),
    void *arg);

#endif
