/*
 * Range-checked parsing of numbers, durations and sizes given on the command
 * line. The parse functions return 0, or -1 with a reason in ERR; the opt_*
 * wrappers name the option and exit 2 on a bad value (they are for cmd/).
 */
#ifndef MQSSE_OPT_H
#define MQSSE_OPT_H

#include <stddef.h>
#include <stdint.h>

/* A decimal integer in [MIN, MAX]; no sign, no junk, no empty string. */
int opt_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen);
/*
 * A duration in seconds: a decimal number (fractions allowed) with an
 * optional unit ms, s, m or h. Result in milliseconds, at most MAX_MS.
 */
int opt_parse_duration_ms(
    const char *s, uint64_t max_ms, uint64_t *out, char *err, size_t errlen);
/* A byte count with an optional suffix K, M, G (powers of 1024; KiB etc.). */
int opt_parse_size(
    const char *s, uint64_t max, uint64_t *out, char *err, size_t errlen);

uint64_t opt_uint(const char *name, const char *s, uint64_t min, uint64_t max);
uint64_t opt_duration_ms(const char *name, const char *s, uint64_t max_ms);
uint64_t opt_size(const char *name, const char *s, uint64_t max);

#endif
