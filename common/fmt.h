/*
 * mqsub's output: the -F format templates of mosquitto_sub(1) (compiled
 * once, rendered per message) and the plain and -v forms.
 */
#ifndef MQSSE_FMT_H
#define MQSSE_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>

#include "common/record.h"

struct fmt;

/*
 * Compile the template S. Returns NULL with a reason in ERR when it holds
 * an unknown or incomplete sequence.
 */
struct fmt *fmt_compile(const char *s, char *err, size_t errlen);
/*
 * The same syntax over another set of fields (the letters in FIELDS, used
 * by ssecat): without AT_TIME, '@' is an ordinary character.
 */
struct fmt *fmt_compile_fields(
    const char *s, const char *fields, bool at_time, char *err, size_t errlen);
void fmt_free(struct fmt *f);
/* Append the rendering of R to OUT. */
void fmt_render(
    const struct fmt *f, const struct record *r, struct evbuffer *out);

/*
 * Render a template of fmt_compile_fields: CB(ARG, LETTER, FIELD) supplies
 * each field's text with fmt_field_put, which applies the width, precision
 * and alignment written in the template.
 */
struct fmt_field;
typedef void fmt_field_cb(void *arg, char conv, const struct fmt_field *fld);
void fmt_field_put(const struct fmt_field *fld, const char *s, size_t len);
void fmt_render_cb(
    const struct fmt *f, fmt_field_cb *cb, void *arg, struct evbuffer *out);

#endif
