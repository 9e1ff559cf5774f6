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
/*
 * A text/event-stream: parse it whole, byte by byte and in three pieces
 * with a small --max-event (from the first byte) and compare; compare an
 * unbounded parse with a reference of the WHATWG rules.
 */
int fuzz_sse_parse(const uint8_t *data, size_t size);
/* Events described by the input: sse_emit them, parse them back, compare. */
int fuzz_sse_roundtrip(const uint8_t *data, size_t size);

#endif
