/*
 * mqsub's output: the -F format templates of mosquitto_sub(1) (compiled
 * once, rendered per message) and the plain and -v forms.
 */
#ifndef MQSSE_FMT_H
#define MQSSE_FMT_H

#include <stddef.h>

#include <event2/buffer.h>

#include "common/record.h"

struct fmt;

/*
 * Compile the template S. Returns NULL with a reason in ERR when it holds
 * an unknown or incomplete sequence.
 */
struct fmt *fmt_compile(const char *s, char *err, size_t errlen);
void fmt_free(struct fmt *f);
/* Append the rendering of R to OUT. */
void fmt_render(
    const struct fmt *f, const struct record *r, struct evbuffer *out);

#endif
