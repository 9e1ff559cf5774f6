/*
 * The stdout sink: records are appended to a buffer and written in batches,
 * flushed as soon as the loop has nothing else to do (so output to a pipe is
 * prompt when idle, and batched under load). Writes never block the loop on
 * a pipe or socket; a closed reader (EPIPE) ends the output quietly.
 */
#ifndef MQSSE_OUT_STDOUT_H
#define MQSSE_OUT_STDOUT_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/event.h>

struct out;

struct out_cbs {
	/* The reader went away (EPIPE): the tool should end, status 0. */
	void (*closed)(void *arg);
	/* Another write error (errno ERR): the tool should end, status 1. */
	void (*error)(void *arg, int err);
	/* Everything buffered was written (used to wait before exiting). */
	void (*drained)(void *arg);
};

/* Write to FD (normally 1) from BASE (made by loop_new). */
struct out *out_new(
    struct event_base *base, int fd, const struct out_cbs *cbs, void *arg);
/* Restore FD's flags and free; unwritten data is dropped. */
void out_free(struct out *o);
/* The buffer to append to; call out_commit() after appending. */
struct evbuffer *out_buffer(struct out *o);
/* Schedule a flush; write at once when a batch (64 KiB) is ready. */
void out_commit(struct out *o);
/* Bytes appended but not yet written. */
size_t out_pending(const struct out *o);
/* True once EPIPE or an error was seen (later output is discarded). */
bool out_failed(const struct out *o);
/*
 * Write everything still buffered, waiting for the reader if need be, but
 * at most TIMEOUT_MS between progress (-1: no limit). Returns 0, or -1 on
 * a write error other than EPIPE (reported) or on the timeout (silent).
 */
int out_flush_blocking(struct out *o, int timeout_ms);

#endif
