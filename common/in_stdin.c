#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/in_stdin.h"
#include "common/xalloc.h"

#define IN_READ (64 * 1024)

/*
 * The buffer holds unread input in buf[start..end). Bytes in
 * buf[start..scanned) are known to hold no delimiter, so a long record is
 * scanned once, not once per read.
 */
struct in_stdin {
	int fd;
	enum in_mode mode;
	size_t max;
	char *buf;
	size_t cap, start, end, scanned;
	unsigned long n; /* records seen, including skipped ones */
	bool skipping;   /* inside a record that is too long */
	bool paused, eof, stopped, pollable;
	struct event *rd;   /* fd readable (pipes, terminals, sockets) */
	struct event *pump; /* zero timer: regular files, /dev/null */
	struct in_cbs cbs;
	void *arg;
};

static void on_readable(evutil_socket_t fd, short what, void *arg);

static void
arm(struct in_stdin *in)
{
	static const struct timeval zero = {0, 0};

	if (in->paused || in->stopped)
		return;
	if (in->eof || !in->pollable)
		evtimer_add(in->pump, &zero);
	else
		event_add(in->rd, NULL);
}

struct in_stdin *
in_new(struct event_base *base, int fd, enum in_mode mode, size_t max,
    const struct in_cbs *cbs, void *arg)
{
	struct in_stdin *in = xcalloc(1, sizeof(*in));

	in->fd = fd;
	in->mode = mode;
	in->max = max;
	in->cap = IN_READ;
	in->buf = xmalloc(in->cap);
	in->cbs = *cbs;
	in->arg = arg;
	in->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, in);
	in->pump = evtimer_new(base, on_readable, in);
	if (in->rd == NULL || in->pump == NULL)
		diag_die(1, "out of memory");
	/* epoll refuses regular files and some devices: poll by timer. */
	in->pollable = event_add(in->rd, NULL) == 0;
	if (!in->pollable)
		arm(in);
	return in;
}

void
in_free(struct in_stdin *in)
{
	if (in == NULL)
		return;
	event_free(in->rd);
	event_free(in->pump);
	free(in->buf);
	free(in);
}

/* Deliver the complete records in the buffer while not paused. */
static void
deliver(struct in_stdin *in)
{
	char delim = in->mode == IN_NUL ? '\0' : '\n';

	if (in->mode == IN_CHUNK) {
		if (!in->paused && !in->stopped && in->end > in->start) {
			in->n++;
			in->cbs.record(in->arg, in->buf + in->start,
			    in->end - in->start, in->n);
			in->start = in->scanned = in->end;
		}
	}
	while (in->mode != IN_CHUNK && !in->paused && !in->stopped &&
	    in->mode != IN_WHOLE) {
		char *p =
		    memchr(in->buf + in->scanned, delim, in->end - in->scanned);
		size_t len;

		if (p == NULL) {
			in->scanned = in->end;
			if (!in->skipping && in->end - in->start > in->max) {
				/* Too long: drop what we have, skip the rest. */
				in->skipping = true;
				in->n++;
				in->cbs.too_long(in->arg, in->n);
				in->start = in->scanned = in->end;
			} else if (in->skipping) {
				in->start = in->scanned = in->end;
			}
			break;
		}
		len = (size_t)(p - (in->buf + in->start));
		if (in->skipping) {
			in->skipping = false;
		} else if (len > in->max) {
			in->n++;
			in->cbs.too_long(in->arg, in->n);
		} else {
			in->n++;
			in->cbs.record(
			    in->arg, in->buf + in->start, len, in->n);
		}
		in->start = in->scanned = (size_t)(p - in->buf) + 1;
	}
	if (in->start == in->end)
		in->start = in->end = in->scanned = 0;
}

/* At EOF: the last record may lack its delimiter. */
static void
finish(struct in_stdin *in)
{
	size_t len = in->end - in->start;

	if (!in->skipping && (in->mode == IN_WHOLE || len > 0)) {
		in->n++;
		if (len > in->max)
			in->cbs.too_long(in->arg, in->n);
		else
			in->cbs.record(
			    in->arg, in->buf + in->start, len, in->n);
	}
	in->start = in->end = in->scanned = 0;
	if (!in->stopped) {
		in->stopped = true;
		in->cbs.eof(in->arg);
	}
}

/* Make room for one more read, growing only up to the record limit. */
static void
make_room(struct in_stdin *in)
{
	if (in->start > 0 && (in->cap - in->end < IN_READ)) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->scanned -= in->start;
		in->start = 0;
	}
	if (in->cap - in->end < IN_READ) {
		size_t want = in->end + IN_READ;

		if (want < in->cap * 2)
			want = in->cap * 2;
		in->buf = xrealloc(in->buf, want);
		in->cap = want;
	}
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct in_stdin *in = arg;
	ssize_t n;

	if (in->paused || in->stopped)
		return;
	/* Records already buffered go first: read only when they are done. */
	deliver(in);
	if (in->paused || in->stopped)
		return;
	if (in->eof) {
		finish(in);
		return;
	}
	if (in->pollable && !(what & EV_READ)) {
		/* Woken by in_resume(): read only when the fd says so. */
		arm(in);
		return;
	}
	make_room(in);
	n = read(in->fd, in->buf + in->end, IN_READ);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN) {
			arm(in);
			return;
		}
		in->stopped = true;
		event_del(in->rd);
		in->cbs.error(in->arg, errno);
		return;
	}
	if (n == 0) {
		in->eof = true;
		event_del(in->rd);
		finish(in);
		return;
	}
	in->end += (size_t)n;
	if (in->mode == IN_WHOLE && in->end - in->start > in->max) {
		/* Keep reading to the end, but forget the data. */
		if (!in->skipping) {
			in->skipping = true;
			in->cbs.too_long(in->arg, 1);
		}
		in->start = in->end = 0;
	}
	deliver(in);
	arm(in);
}

void
in_pause(struct in_stdin *in)
{
	if (in->paused)
		return;
	in->paused = true;
	event_del(in->rd);
	event_del(in->pump);
}

void
in_resume(struct in_stdin *in)
{
	static const struct timeval zero = {0, 0};

	if (!in->paused || in->stopped)
		return;
	in->paused = false;
	/* Deliver what is buffered from the loop, not from our caller. */
	if (in->end > in->start || in->eof)
		evtimer_add(in->pump, &zero);
	else
		arm(in);
}

bool
in_paused(const struct in_stdin *in)
{
	return in->paused;
}

void
in_stop(struct in_stdin *in)
{
	in->stopped = true;
	event_del(in->rd);
	event_del(in->pump);
}
