/*
 * The fuzz targets, shared by the libFuzzer binaries (fuzz_main.c) and by
 * the corpus replay of make check (replay.c). Each takes one input, never
 * keeps state between calls, returns 0, and abort()s when a round-trip or
 * differential check finds a disagreement.
 */
#ifndef MQSSE_FUZZ_TARGETS_H
#define MQSSE_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* Parse a JSON line; if it parses, encode it and parse the encoding again. */
int fuzz_jsonrec(const uint8_t *data, size_t size);
/* "TEMPLATE\0PAYLOAD": compile the template, render a record with PAYLOAD. */
int fuzz_fmt(const uint8_t *data, size_t size);
/* "FILTER\0TOPIC": check both, match, compare with a reference matcher. */
int fuzz_topic(const uint8_t *data, size_t size);

#endif
