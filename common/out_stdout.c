#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/loop.h"
#include "common/out_stdout.h"
#include "common/xalloc.h"

/* Write at once, without waiting for the loop to go idle, past this size. */
#define OUT_BATCH (64 * 1024)

struct out {
	int fd;
	int saved_flags; /* -1 when the flags were not changed */
	struct evbuffer *buf;
	struct event *idle;     /* low priority: flush when the loop is idle */
	struct event *writable; /* the fd is writable again */
	struct event *watch;    /* pipes: notice a reader that went away */
	bool failed;
	struct out_cbs cbs;
	void *arg;
};

static void try_write(struct out *o);

static void
on_idle(evutil_socket_t fd, short what, void *arg)
{
	try_write(arg);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	try_write(arg);
}

static void fail(struct out *o, int err);

/*
 * With nothing to write, a closed pipe would only be noticed at the next
 * message; poll it now and then so that `mqsub | head -n 2` ends promptly.
 */
static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct out *o = arg;
	struct pollfd pfd = {.fd = o->fd, .events = 0};

	if (!o->failed && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLERR | POLLHUP)))
		fail(o, EPIPE);
}

struct out *
out_new(struct event_base *base, int fd, const struct out_cbs *cbs, void *arg)
{
	struct out *o = xcalloc(1, sizeof(*o));
	struct stat st;

	o->fd = fd;
	o->saved_flags = -1;
	o->buf = evbuffer_new();
	o->cbs = *cbs;
	o->arg = arg;
	/*
	 * Only pipes and sockets are made non-blocking: a terminal is shared
	 * with the shell, and a regular file never blocks for long.
	 */
	if (fstat(fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		int fl = fcntl(fd, F_GETFL);

		if (fl != -1 && !(fl & O_NONBLOCK) &&
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
			o->saved_flags = fl;
	}
	o->idle = event_new(base, -1, 0, on_idle, o);
	event_priority_set(o->idle, LOOP_PRIO_IDLE);
	o->writable = event_new(base, fd, EV_WRITE, on_writable, o);
	o->watch = event_new(base, -1, EV_PERSIST, on_watch, o);
	if (o->buf == NULL || o->idle == NULL || o->writable == NULL ||
	    o->watch == NULL)
		diag_die(1, "out of memory");
	if (o->saved_flags != -1) {
		struct timeval tv = {0, 250000};

		event_add(o->watch, &tv);
	}
	return o;
}

void
out_free(struct out *o)
{
	if (o == NULL)
		return;
	if (o->saved_flags != -1)
		fcntl(o->fd, F_SETFL, o->saved_flags);
	event_free(o->idle);
	event_free(o->writable);
	event_free(o->watch);
	evbuffer_free(o->buf);
	free(o);
}

struct evbuffer *
out_buffer(struct out *o)
{
	return o->buf;
}

size_t
out_pending(const struct out *o)
{
	return evbuffer_get_length(o->buf);
}

bool
out_failed(const struct out *o)
{
	return o->failed;
}

static void
fail(struct out *o, int err)
{
	o->failed = true;
	evbuffer_drain(o->buf, evbuffer_get_length(o->buf));
	event_del(o->writable);
	event_del(o->watch);
	if (err == EPIPE)
		o->cbs.closed(o->arg);
	else
		o->cbs.error(o->arg, err);
}

static void
try_write(struct out *o)
{
	while (!o->failed && evbuffer_get_length(o->buf) > 0) {
		int n = evbuffer_write(o->buf, o->fd);

		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(o->writable, NULL);
			return;
		}
		fail(o, n == 0 ? EIO : errno);
		return;
	}
	if (!o->failed && o->cbs.drained != NULL)
		o->cbs.drained(o->arg);
}

void
out_commit(struct out *o)
{
	if (o->failed) {
		evbuffer_drain(o->buf, evbuffer_get_length(o->buf));
		return;
	}
	if (event_pending(o->writable, EV_WRITE, NULL))
		return; /* the reader is slow: on_writable will go on */
	if (evbuffer_get_length(o->buf) >= OUT_BATCH)
		try_write(o);
	else
		event_active(o->idle, 0, 0);
}

int
out_flush_blocking(struct out *o, int timeout_ms)
{
	event_del(o->writable);
	while (!o->failed && evbuffer_get_length(o->buf) > 0) {
		struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
		int n = evbuffer_write(o->buf, o->fd);

		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(&pfd, 1, timeout_ms) == 0)
				return -1;
			continue;
		}
		o->failed = true;
		if (n == 0)
			errno = EIO;
		if (errno == EPIPE)
			return 0;
		diag_err_e("write error on standard output");
		return -1;
	}
	return 0;
}
