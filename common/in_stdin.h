/*
 * The stdin source: reads records (lines, NUL-terminated records or the
 * whole input) inside the event loop, one read per readiness, so the loop
 * never blocks on stdin. Reading can be paused (flow control): while paused
 * no record is delivered and nothing more is read, so memory stays bounded
 * by one read plus the longest record.
 */
#ifndef MQSSE_IN_STDIN_H
#define MQSSE_IN_STDIN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

enum in_mode {
	IN_LINE,  /* records end at \n (the \n is not part of the record) */
	IN_NUL,   /* records end at \0 */
	IN_WHOLE, /* the whole input is one record */
	IN_CHUNK, /* each read is one "record" (a byte stream: ssepush --raw) */
};

struct in_cbs {
	/* One record; N counts records from 1 (the line number in IN_LINE). */
	void (*record)(
	    void *arg, const char *data, size_t len, unsigned long n);
	/* Record N was longer than the limit and was skipped. */
	void (*too_long)(void *arg, unsigned long n);
	/* End of input, after the last record. */
	void (*eof)(void *arg);
	/* A read error (errno ERR); no more callbacks follow. */
	void (*error)(void *arg, int err);
};

struct in_stdin;

/* Read FD (normally 0) in MODE; records longer than MAX are skipped. */
struct in_stdin *in_new(struct event_base *base, int fd, enum in_mode mode,
    size_t max, const struct in_cbs *cbs, void *arg);
void in_free(struct in_stdin *in);
/* Stop delivering and reading until in_resume(); safe inside a callback. */
void in_pause(struct in_stdin *in);
void in_resume(struct in_stdin *in);
bool in_paused(const struct in_stdin *in);
/* Stop for good (e.g. on SIGINT): no callbacks at all from now on. */
void in_stop(struct in_stdin *in);

#endif
