/*
 * common/out_stdout.c: the batching, non-blocking stdout sink, on the
 * write end of a pipe: order, the idle flush, the 64 KiB batch, a slow
 * reader (the loop never blocks), a closed reader (EPIPE, SIGPIPE
 * ignored), other write errors, and out_flush_blocking.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "tests/lib/tap.h"
#include "common/loop.h"
#include "common/out_stdout.h"

struct seen {
	int closed, errors, err, drained;
};

static void
on_closed(void *arg)
{
	((struct seen *)arg)->closed++;
}

static void
on_error(void *arg, int err)
{
	struct seen *s = arg;

	s->errors++;
	s->err = err;
}

static void
on_drained(void *arg)
{
	((struct seen *)arg)->drained++;
}

static const struct out_cbs cbs = {on_closed, on_error, on_drained};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Read what is in the pipe now (non-blocking) into B; bytes read. */
static size_t
drain_now(int fd, struct evbuffer *b)
{
	size_t total = 0;
	char buf[65536];

	while (readable(fd)) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		evbuffer_add(b, buf, (size_t)n);
		total += (size_t)n;
	}
	return total;
}

static void
make_pipe(int fds[2])
{
	if (pipe(fds) == -1) {
		perror("pipe");
		exit(1);
	}
}

static void
fill_pattern(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
}

/* Data appended record by record arrives complete and in order. */
static void
test_order(void)
{
	struct event_base *base = loop_new();
	struct evbuffer *want = evbuffer_new(), *got = evbuffer_new();
	struct seen s = {0};
	struct out *o;
	int fds[2];

	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	ok(fcntl(fds[1], F_GETFL) & O_NONBLOCK,
	    "order: the pipe is made non-blocking");
	for (int i = 0; i < 2000; i++) {
		evbuffer_add_printf(out_buffer(o), "record %d\n", i);
		evbuffer_add_printf(want, "record %d\n", i);
		out_commit(o);
		if (i % 100 == 99) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			drain_now(fds[0], got);
		}
	}
	while (out_pending(o) > 0 &&
	    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) != -1)
		drain_now(fds[0], got);
	drain_now(fds[0], got);
	is_int((long long)out_pending(o), 0, "order: nothing left pending");
	is_mem(evbuffer_pullup(got, -1), evbuffer_get_length(got),
	    evbuffer_pullup(want, -1), evbuffer_get_length(want),
	    "order: 2000 records arrive in order");
	ok(s.drained > 0 && s.closed == 0 && s.errors == 0,
	    "order: drained, no error");
	ok(!out_failed(o), "order: not failed");
	out_free(o);
	ok(!(fcntl(fds[1], F_GETFL) & O_NONBLOCK),
	    "order: out_free restores the blocking mode");
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(want);
	evbuffer_free(got);
	event_base_free(base);
}

/* A small commit is written by one idle loop iteration, not before. */
static void
test_idle_flush(void)
{
	struct event_base *base = loop_new();
	struct evbuffer *got = evbuffer_new();
	struct seen s = {0};
	struct out *o;
	int fds[2];

	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	is_int((long long)out_pending(o), 0, "pending: 0 at first");
	evbuffer_add(out_buffer(o), "hello ", 6);
	is_int((long long)out_pending(o), 6, "pending: 6 after an append");
	evbuffer_add(out_buffer(o), "world\n", 6);
	is_int((long long)out_pending(o), 12, "pending: 12 after two");
	out_commit(o);
	ok(!readable(fds[0]), "idle flush: nothing written by out_commit");
	is_int((long long)out_pending(o), 12, "pending: 12 after commit");
	is_int(s.drained, 0, "idle flush: not drained yet");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(readable(fds[0]), "idle flush: written after one loop iteration");
	drain_now(fds[0], got);
	is_mem(evbuffer_pullup(got, -1), evbuffer_get_length(got),
	    "hello world\n", 12, "idle flush: the data");
	is_int((long long)out_pending(o), 0, "pending: 0 after the flush");
	is_int(s.drained, 1, "idle flush: drained called once");
	out_free(o);
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(got);
	event_base_free(base);
}

/* 64 KiB or more is written by out_commit itself. */
static void
test_batch(void)
{
	struct event_base *base = loop_new();
	struct evbuffer *got = evbuffer_new();
	struct seen s = {0};
	struct out *o;
	char *data = malloc(65536);
	int fds[2];

	make_pipe(fds);
	fill_pattern(data, 65536, 1);
	o = out_new(base, fds[1], &cbs, &s);
	evbuffer_add(out_buffer(o), data, 65535);
	out_commit(o);
	ok(!readable(fds[0]), "batch: 65535 bytes wait for the loop");
	evbuffer_add(out_buffer(o), data + 65535, 1);
	out_commit(o);
	ok(readable(fds[0]), "batch: at 65536 bytes out_commit writes");
	while (out_pending(o) > 0 || readable(fds[0])) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		drain_now(fds[0], got);
	}
	is_mem(evbuffer_pullup(got, -1), evbuffer_get_length(got), data, 65536,
	    "batch: all 65536 bytes arrive");
	out_free(o);
	close(fds[0]);
	close(fds[1]);
	free(data);
	evbuffer_free(got);
	event_base_free(base);
}

/* A slow reader in the same loop: reads 4 KiB per readiness. */
struct slow {
	int fd;
	struct evbuffer *got;
	size_t want;
	struct event_base *base;
	int reads;
	bool timed_out;
};

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct slow *sl = arg;

	sl->timed_out = true;
	event_base_loopbreak(sl->base);
}

static void
on_slow_read(evutil_socket_t fd, short what, void *arg)
{
	struct slow *sl = arg;
	char buf[4096];
	ssize_t n = read(sl->fd, buf, sizeof(buf));

	if (n > 0) {
		evbuffer_add(sl->got, buf, (size_t)n);
		sl->reads++;
	}
	if (n <= 0 || evbuffer_get_length(sl->got) >= sl->want)
		event_base_loopexit(sl->base, NULL);
}

static void
test_slow_reader(void)
{
	struct event_base *base = loop_new();
	struct seen s = {0};
	struct slow sl;
	struct event *rd, *guard;
	struct out *o;
	size_t total = 1024 * 1024;
	char *data = malloc(total);
	struct timeval limit = {30, 0};
	double t0, t;
	int fds[2];

	make_pipe(fds);
	fill_pattern(data, total, 2);
	o = out_new(base, fds[1], &cbs, &s);
	t0 = now_s();
	for (size_t off = 0; off < total; off += 8192) {
		evbuffer_add(out_buffer(o), data + off, 8192);
		out_commit(o);
	}
	t = now_s() - t0;
	ok(t < 1.0, "slow reader: 1 MiB of commits with a full pipe return");
	ok(out_pending(o) > 0, "slow reader: data is still pending");
	ok(out_pending(o) <= total, "slow reader: pending is at most 1 MiB");

	sl.fd = fds[0];
	sl.got = evbuffer_new();
	sl.want = total;
	sl.base = base;
	sl.reads = 0;
	sl.timed_out = false;
	rd = event_new(base, fds[0], EV_READ | EV_PERSIST, on_slow_read, &sl);
	event_add(rd, NULL);
	guard = evtimer_new(base, on_watchdog, &sl);
	evtimer_add(guard, &limit);
	event_base_dispatch(base);
	ok(!sl.timed_out, "slow reader: finished in time");
	is_mem(evbuffer_pullup(sl.got, -1), evbuffer_get_length(sl.got), data,
	    total, "slow reader: all 1 MiB arrives in order");
	ok(sl.reads >= (int)(total / 4096), "slow reader: read in 4 KiB steps");
	is_int((long long)out_pending(o), 0, "slow reader: nothing pending");
	ok(s.errors == 0 && s.closed == 0, "slow reader: no error");
	event_free(rd);
	event_free(guard);
	out_free(o);
	close(fds[0]);
	close(fds[1]);
	free(data);
	evbuffer_free(sl.got);
	event_base_free(base);
}

/* The reader went away: EPIPE means closed, later output is discarded. */
static void
test_closed(void)
{
	struct event_base *base = loop_new();
	struct seen s = {0};
	struct out *o;
	int fds[2];
	char *big = calloc(1, 70000);

	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	close(fds[0]);
	evbuffer_add(out_buffer(o), "x\n", 2);
	out_commit(o);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	is_int(s.closed, 1, "closed reader: closed called once");
	is_int(s.errors, 0, "closed reader: error not called");
	ok(out_failed(o), "closed reader: out_failed");
	is_int((long long)out_pending(o), 0, "closed reader: buffer dropped");
	evbuffer_add(out_buffer(o), "more\n", 5);
	out_commit(o);
	is_int((long long)out_pending(o), 0,
	    "closed reader: a later commit discards");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	is_int(s.closed, 1, "closed reader: closed not called again");
	is_int(out_flush_blocking(o, 100), 0,
	    "closed reader: out_flush_blocking returns 0");
	out_free(o);
	close(fds[1]);

	/* The same through the 64 KiB path of out_commit. */
	memset(&s, 0, sizeof(s));
	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	close(fds[0]);
	evbuffer_add(out_buffer(o), big, 70000);
	out_commit(o);
	is_int(s.closed, 1, "closed reader, big commit: closed at once");
	ok(out_failed(o) && out_pending(o) == 0,
	    "closed reader, big commit: failed, dropped");
	out_free(o);
	close(fds[1]);

	/* out_flush_blocking meets EPIPE: 0, silently, and failed. */
	memset(&s, 0, sizeof(s));
	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	close(fds[0]);
	evbuffer_add(out_buffer(o), "x", 1);
	is_int(out_flush_blocking(o, 100), 0,
	    "closed reader: out_flush_blocking on EPIPE returns 0");
	ok(out_failed(o), "closed reader: failed after out_flush_blocking");
	out_free(o);
	close(fds[1]);
	free(big);
	event_base_free(base);
}

/* Another error (writing to a read end: EBADF) goes to the error callback. */
static void
test_error(void)
{
	struct event_base *base = loop_new();
	struct seen s = {0};
	struct out *o;
	int fds[2];

	make_pipe(fds);
	o = out_new(base, fds[0], &cbs, &s);
	evbuffer_add(out_buffer(o), "x", 1);
	out_commit(o);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	is_int(s.errors, 1, "write error: error called once");
	is_int(s.err, EBADF, "write error: with EBADF");
	is_int(s.closed, 0, "write error: closed not called");
	ok(out_failed(o), "write error: out_failed");
	out_free(o);

	memset(&s, 0, sizeof(s));
	o = out_new(base, fds[0], &cbs, &s);
	evbuffer_add(out_buffer(o), "x", 1);
	fprintf(stderr, "test_out_stdout: a write error message follows\n");
	is_int(out_flush_blocking(o, 100), -1,
	    "write error: out_flush_blocking returns -1");
	out_free(o);
	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
}

/* out_flush_blocking: everything, to a reader in a child process. */
static void
test_flush_blocking(void)
{
	struct event_base *base = loop_new();
	struct seen s = {0};
	size_t total = 3 * 1024 * 1024 + 17;
	char *data = malloc(total);
	struct out *o;
	int fds[2], res[2];
	pid_t pid;
	uint64_t got[2] = {0, 0}, hash = 1469598103934665603ULL;
	double t0;

	fill_pattern(data, total, 3);
	for (size_t i = 0; i < total; i++)
		hash = (hash ^ (unsigned char)data[i]) * 1099511628211ULL;
	make_pipe(fds);
	make_pipe(res);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* Read slowly, then report the byte count and FNV-1a hash. */
		uint64_t r[2] = {0, 1469598103934665603ULL};
		char buf[8192];
		ssize_t n;

		close(fds[1]);
		close(res[0]);
		for (;;) {
			n = read(fds[0], buf, sizeof(buf));
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				r[1] = (r[1] ^ (unsigned char)buf[i]) *
				    1099511628211ULL;
			r[0] += (uint64_t)n;
			if (r[0] < 256 * 1024)
				usleep(1000);
		}
		if (write(res[1], r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	close(res[1]);
	o = out_new(base, fds[1], &cbs, &s);
	evbuffer_add(out_buffer(o), data, total);
	t0 = now_s();
	is_int(out_flush_blocking(o, 5000), 0, "flush_blocking: returns 0");
	ok(now_s() - t0 < 20, "flush_blocking: in reasonable time");
	is_int((long long)out_pending(o), 0, "flush_blocking: nothing pending");
	out_free(o);
	close(fds[1]);
	if (read(res[0], got, sizeof(got)) != (ssize_t)sizeof(got))
		got[0] = 0;
	close(res[0]);
	waitpid(pid, NULL, 0);
	is_int((long long)got[0], (long long)total,
	    "flush_blocking: the reader got every byte");
	ok(got[1] == hash, "flush_blocking: the bytes are the same");

	/* A reader that never reads: the timeout ends it, silently. */
	make_pipe(fds);
	o = out_new(base, fds[1], &cbs, &s);
	evbuffer_add(out_buffer(o), data, 1024 * 1024);
	t0 = now_s();
	is_int(out_flush_blocking(o, 200), -1,
	    "flush_blocking: -1 when the reader makes no progress");
	ok(now_s() - t0 >= 0.15 && now_s() - t0 < 5,
	    "flush_blocking: after about the timeout");
	ok(out_pending(o) > 0 && !out_failed(o),
	    "flush_blocking: data kept, not failed");
	out_free(o);
	close(fds[0]);
	close(fds[1]);
	free(data);
	event_base_free(base);
}

/* A regular file is written as is (not made non-blocking). */
static void
test_file(void)
{
	struct event_base *base = loop_new();
	struct seen s = {0};
	char path[] = "/tmp/test_out_stdout.XXXXXX", buf[64];
	int fd = mkstemp(path);
	struct out *o;
	ssize_t n;

	unlink(path);
	o = out_new(base, fd, &cbs, &s);
	ok(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "file: left blocking");
	evbuffer_add(out_buffer(o), "one\ntwo\n", 8);
	out_commit(o);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	is_int((long long)out_pending(o), 0, "file: flushed when idle");
	out_free(o);
	n = pread(fd, buf, sizeof(buf), 0);
	is_mem(buf, n > 0 ? (size_t)n : 0, "one\ntwo\n", 8, "file: contents");
	close(fd);
	event_base_free(base);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_order();
	test_idle_flush();
	test_batch();
	test_slow_reader();
	test_closed();
	test_error();
	test_flush_blocking();
	test_file();
	return done();
}
