#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->qos = -1;
	r->retain = -1;
	r->owned = true;
}

void
record_cleanup(struct record *r)
{
	if (r->owned) {
		free(r->topic);
		free(r->payload);
		mosquitto_property_free_all(&r->props);
	}
	record_init(r);
}

void
record_view_message(struct record *r, const struct mosquitto_message *m,
    const mosquitto_property *props)
{
	memset(r, 0, sizeof(*r));
	r->topic = m->topic;
	r->payload = m->payload;
	r->payload_len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
	r->qos = m->qos;
	r->retain = m->retain ? 1 : 0;
	r->mid = m->mid;
	/* The view never frees, so dropping const here is safe. */
	r->props = (mosquitto_property *)(uintptr_t)props;
	r->owned = false;
	clock_gettime(CLOCK_REALTIME, &r->ts);
}
