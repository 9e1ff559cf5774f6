/*
 * common/in_stdin.c: records read inside the event loop. Every table case
 * runs four ways: over a pipe written by a child process in small random
 * chunks, over a regular file (not pollable: read by a timer), and both
 * again with flow control, where the record callback pauses and a timer
 * resumes, so that exactly one record arrives per resume.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tests/lib/tap.h"
#include "common/in_stdin.h"
#include "common/loop.h"

struct want_rec {
	const char *s;
	size_t len;
	unsigned long n;
};

#define REC(str, num)                                                          \
	{                                                                      \
		str, sizeof(str) - 1, num                                      \
	}
#define IN(str) .in = str, .inlen = sizeof(str) - 1

struct in_case {
	const char *name;
	enum in_mode mode;
	size_t max;
	const char *in;
	size_t inlen;
	struct want_rec recs[8];
	size_t nrecs;
	unsigned long too_long[4];
	size_t ntoo;
};

static const struct in_case cases[] = {
    {.name = "lines",
        .mode = IN_LINE,
        .max = 100,
        IN("a\nbb\nccc\n"),
        .recs = {REC("a", 1), REC("bb", 2), REC("ccc", 3)},
        .nrecs = 3},
    {.name = "last line without newline",
        .mode = IN_LINE,
        .max = 100,
        IN("a\nlast"),
        .recs = {REC("a", 1), REC("last", 2)},
        .nrecs = 2},
    {.name = "only a partial line",
        .mode = IN_LINE,
        .max = 100,
        IN("x"),
        .recs = {REC("x", 1)},
        .nrecs = 1},
    {.name = "empty lines",
        .mode = IN_LINE,
        .max = 100,
        IN("\n\na\n\n"),
        .recs = {REC("", 1), REC("", 2), REC("a", 3), REC("", 4)},
        .nrecs = 4},
    {.name = "a single newline",
        .mode = IN_LINE,
        .max = 100,
        IN("\n"),
        .recs = {REC("", 1)},
        .nrecs = 1},
    {.name = "empty input, lines",
        .mode = IN_LINE,
        .max = 100,
        IN(""),
        .nrecs = 0},
    {.name = "CRLF kept as is",
        .mode = IN_LINE,
        .max = 100,
        IN("a\r\nb\r\n\r\n"),
        .recs = {REC("a\r", 1), REC("b\r", 2), REC("\r", 3)},
        .nrecs = 3},
    {.name = "NUL bytes inside lines",
        .mode = IN_LINE,
        .max = 100,
        IN("a\0b\n\0\n"),
        .recs = {REC("a\0b", 1), REC("\0", 2)},
        .nrecs = 2},
    {.name = "NUL mode",
        .mode = IN_NUL,
        .max = 100,
        IN("a\0b\0\0x\ny\0last"),
        .recs = {REC("a", 1), REC("b", 2), REC("", 3), REC("x\ny", 4),
            REC("last", 5)},
        .nrecs = 5},
    {.name = "NUL mode, empty input",
        .mode = IN_NUL,
        .max = 100,
        IN(""),
        .nrecs = 0},
    {.name = "whole input",
        .mode = IN_WHOLE,
        .max = 100,
        IN("a\nb\0c\r\n"),
        .recs = {REC("a\nb\0c\r\n", 1)},
        .nrecs = 1},
    {.name = "whole, binary",
        .mode = IN_WHOLE,
        .max = 100,
        IN("\x00\xff\x80\n\x01"),
        .recs = {REC("\x00\xff\x80\n\x01", 1)},
        .nrecs = 1},
    {.name = "whole, empty input gives one empty record",
        .mode = IN_WHOLE,
        .max = 100,
        IN(""),
        .recs = {REC("", 1)},
        .nrecs = 1},
    {.name = "whole, exactly max",
        .mode = IN_WHOLE,
        .max = 4,
        IN("abcd"),
        .recs = {REC("abcd", 1)},
        .nrecs = 1},
    {.name = "whole, longer than max",
        .mode = IN_WHOLE,
        .max = 3,
        IN("abcd"),
        .too_long = {1},
        .ntoo = 1},
    {.name = "too long lines are skipped",
        .mode = IN_LINE,
        .max = 3,
        IN("abc\nabcd\nxy\nabcdefgh\nz"),
        .recs = {REC("abc", 1), REC("xy", 3), REC("z", 5)},
        .nrecs = 3,
        .too_long = {2, 4},
        .ntoo = 2},
    {.name = "exactly max",
        .mode = IN_LINE,
        .max = 4,
        IN("abcd\nabcd"),
        .recs = {REC("abcd", 1), REC("abcd", 2)},
        .nrecs = 2},
    {.name = "too long last line without newline",
        .mode = IN_LINE,
        .max = 3,
        IN("a\nabcdef"),
        .recs = {REC("a", 1)},
        .nrecs = 1,
        .too_long = {2},
        .ntoo = 1},
    {.name = "too long first line",
        .mode = IN_LINE,
        .max = 3,
        IN("abcdefghij\nok\n"),
        .recs = {REC("ok", 2)},
        .nrecs = 1,
        .too_long = {1},
        .ntoo = 1},
    {.name = "max 0: only empty lines",
        .mode = IN_LINE,
        .max = 0,
        IN("\na\n\n"),
        .recs = {REC("", 1), REC("", 3)},
        .nrecs = 2,
        .too_long = {2},
        .ntoo = 1},
    {.name = "NUL mode too long",
        .mode = IN_NUL,
        .max = 2,
        IN("abc\0de\0fgh"),
        .recs = {REC("de", 2)},
        .nrecs = 1,
        .too_long = {1, 3},
        .ntoo = 2},
};

/* What one run saw. */
struct got_rec {
	char *s;
	size_t len;
	unsigned long n;
};

struct run {
	struct event_base *base;
	struct in_stdin *in;
	struct event *resume, *finish, *watchdog;
	bool pause_each;
	size_t stop_after; /* in_stop after this many records (0: never) */
	struct got_rec *recs;
	size_t nrecs, cap;
	unsigned long too_long[64];
	size_t ntoo;
	int eofs, errors, err;
	bool after_end;    /* a callback after eof or error */
	bool while_paused; /* a record while paused */
	bool timed_out;
	size_t resumes;
	uint64_t last_beat, max_gap; /* heartbeat timer, in ms */
};

static void
end_soon(struct run *r)
{
	static const struct timeval tv = {0, 10000};

	evtimer_add(r->finish, &tv);
}

static void
on_record(void *arg, const char *data, size_t len, unsigned long n)
{
	struct run *r = arg;
	struct got_rec *g;

	if (r->eofs > 0 || r->errors > 0)
		r->after_end = true;
	if (in_paused(r->in))
		r->while_paused = true;
	if (r->nrecs == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->recs = realloc(r->recs, r->cap * sizeof(*r->recs));
	}
	g = &r->recs[r->nrecs++];
	g->s = malloc(len + 1);
	if (len > 0)
		memcpy(g->s, data, len);
	g->len = len;
	g->n = n;
	if (r->pause_each) {
		static const struct timeval zero = {0, 0};

		in_pause(r->in);
		evtimer_add(r->resume, &zero);
	}
	if (r->stop_after > 0 && r->nrecs == r->stop_after) {
		in_stop(r->in);
		end_soon(r);
	}
}

static void
on_too_long(void *arg, unsigned long n)
{
	struct run *r = arg;

	if (r->eofs > 0 || r->errors > 0)
		r->after_end = true;
	if (r->ntoo < sizeof(r->too_long) / sizeof(r->too_long[0]))
		r->too_long[r->ntoo] = n;
	r->ntoo++;
}

static void
on_eof(void *arg)
{
	struct run *r = arg;

	if (r->eofs > 0 || r->errors > 0)
		r->after_end = true;
	r->eofs++;
	end_soon(r);
}

static void
on_error(void *arg, int err)
{
	struct run *r = arg;

	if (r->eofs > 0 || r->errors > 0)
		r->after_end = true;
	r->errors++;
	r->err = err;
	end_soon(r);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	r->resumes++;
	in_resume(r->in);
}

static void
on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	event_base_loopexit(r->base, NULL);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	r->timed_out = true;
	event_base_loopbreak(r->base);
}

static void
run_free(struct run *r)
{
	for (size_t i = 0; i < r->nrecs; i++)
		free(r->recs[i].s);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}

/* Read FD to the end in MODE with limit MAX; results in R. */
static void
run_loop(struct run *r, int fd, enum in_mode mode, size_t max)
{
	static const struct in_cbs cbs = {
	    on_record, on_too_long, on_eof, on_error};
	static const struct timeval limit = {60, 0};

	r->base = loop_new();
	r->resume = evtimer_new(r->base, on_resume, r);
	r->finish = evtimer_new(r->base, on_finish, r);
	r->watchdog = evtimer_new(r->base, on_watchdog, r);
	evtimer_add(r->watchdog, &limit);
	r->in = in_new(r->base, fd, mode, max, &cbs, r);
	ok(!in_paused(r->in), "a new source is not paused");
	event_base_dispatch(r->base);
	in_free(r->in);
	event_free(r->resume);
	event_free(r->finish);
	event_free(r->watchdog);
	event_base_free(r->base);
	r->in = NULL;
	r->base = NULL;
}

/*
 * Write DATA to a pipe from a child, in chunks of CHUNK bytes, or of 1 to
 * 4096 bytes at random when CHUNK is 0, and read it in this process.
 */
static void
run_pipe(struct run *r, enum in_mode mode, size_t max, const char *data,
    size_t len, size_t chunk)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) == -1) {
		perror("pipe");
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsigned seed = (unsigned)len * 2654435761u;
		size_t off = 0;

		close(fds[0]);
		while (off < len) {
			size_t n = chunk;
			ssize_t w;

			if (n == 0) {
				seed = seed * 1103515245u + 12345u;
				n = 1 + (seed >> 16) % 4096;
			}
			if (n > len - off)
				n = len - off;
			w = write(fds[1], data + off, n);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	run_loop(r, fds[0], mode, max);
	close(fds[0]);
	/* A reader that stopped early may leave the writer dead by SIGPIPE. */
	waitpid(pid, NULL, 0);
}

static void
run_file(
    struct run *r, enum in_mode mode, size_t max, const char *data, size_t len)
{
	char path[] = "/tmp/test_in_stdin.XXXXXX";
	int fd = mkstemp(path);
	size_t off = 0;

	if (fd == -1) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0) {
			perror("write");
			exit(1);
		}
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	run_loop(r, fd, mode, max);
	close(fd);
}

/* Compare a run with what was wanted; one TAP line per property. */
static void
check(const char *name, const struct run *r, const struct want_rec *want,
    size_t nwant, const unsigned long *too_long, size_t ntoo)
{
	char t[300];
	size_t i, bad = nwant;

	snprintf(t, sizeof(t), "%s: finished in time", name);
	ok(!r->timed_out, t);
	snprintf(t, sizeof(t), "%s: record count", name);
	is_int((long long)r->nrecs, (long long)nwant, t);
	for (i = 0; i < nwant && i < r->nrecs; i++) {
		if (r->recs[i].len != want[i].len ||
		    r->recs[i].n != want[i].n ||
		    memcmp(r->recs[i].s, want[i].s, want[i].len) != 0) {
			bad = i;
			break;
		}
	}
	snprintf(t, sizeof(t), "%s: records and numbers", name);
	if (!ok(r->nrecs == nwant && i == nwant, t) && bad < r->nrecs &&
	    bad < nwant)
		printf("#   record %zu: got %zu bytes, n=%lu; want %zu bytes, "
		       "n=%lu\n",
		    bad, r->recs[bad].len, r->recs[bad].n, want[bad].len,
		    want[bad].n);
	snprintf(t, sizeof(t), "%s: too_long calls", name);
	ok(r->ntoo == ntoo &&
	        (ntoo == 0 ||
	            memcmp(r->too_long, too_long, ntoo * sizeof(*too_long)) ==
	                0),
	    t);
	if (r->ntoo != ntoo)
		printf("#   %zu too_long calls, want %zu\n", r->ntoo, ntoo);
	snprintf(t, sizeof(t), "%s: eof once, no error", name);
	ok(r->eofs == 1 && r->errors == 0, t);
	snprintf(t, sizeof(t), "%s: nothing after eof", name);
	ok(!r->after_end, t);
	if (r->pause_each) {
		snprintf(t, sizeof(t), "%s: one record per resume", name);
		ok(!r->while_paused && r->resumes >= r->nrecs, t);
	}
}

static void
run_case(const char *name, enum in_mode mode, size_t max, const char *data,
    size_t len, const struct want_rec *want, size_t nwant,
    const unsigned long *too_long, size_t ntoo, size_t chunk)
{
	static const char *const how[] = {
	    "pipe", "file", "pipe, paused", "file, paused"};
	char t[300];

	for (int k = 0; k < 4; k++) {
		struct run r;

		memset(&r, 0, sizeof(r));
		r.pause_each = k >= 2;
		if (k % 2 == 0)
			run_pipe(&r, mode, max, data, len, chunk);
		else
			run_file(&r, mode, max, data, len);
		snprintf(t, sizeof(t), "%s (%s)", name, how[k]);
		check(t, &r, want, nwant, too_long, ntoo);
		run_free(&r);
	}
}

static void
big_cases(void)
{
	size_t mib = 1024 * 1024, i, n, len;
	char *data = malloc(3 * mib + 100);
	struct want_rec want[3];
	unsigned long tl[2];

	/* A 1 MiB line with a limit of 2 MiB arrives whole. */
	memset(data, 'x', mib);
	data[mib / 2] = 'M';
	memcpy(data + mib, "\ntail\n", 6);
	want[0] = (struct want_rec){data, mib, 1};
	want[1] = (struct want_rec){"tail", 4, 2};
	run_case("a 1 MiB line, max 2 MiB", IN_LINE, 2 * mib, data, mib + 6,
	    want, 2, NULL, 0, 65536);

	/* A line of 300 KiB over many reads, limit 100 KiB: skipped. */
	memset(data, 'y', 300 * 1024);
	memcpy(data + 300 * 1024, "\nafter\n", 7);
	want[0] = (struct want_rec){"after", 5, 2};
	tl[0] = 1;
	run_case("a 300 KiB line, max 100 KiB", IN_LINE, 100 * 1024, data,
	    300 * 1024 + 7, want, 1, tl, 1, 0);

	/* Exactly at the limit across reads, then one byte more. */
	memset(data, 'z', 70001 + 70001 + 1);
	data[70000] = '\n';
	data[70001 + 70001] = '\n';
	want[0] = (struct want_rec){data, 70000, 1};
	tl[0] = 2;
	run_case("70000 bytes at max 70000, then 70001", IN_LINE, 70000, data,
	    70001 + 70001 + 1, want, 1, tl, 1, 0);

	/* Whole input: 200 KiB of binary data, and 300 KiB over a limit. */
	for (i = 0; i < 200 * 1024; i++)
		data[i] = (char)(i * 7 + (i >> 8));
	want[0] = (struct want_rec){data, 200 * 1024, 1};
	run_case("whole, 200 KiB binary", IN_WHOLE, mib, data, 200 * 1024, want,
	    1, NULL, 0, 0);
	tl[0] = 1;
	run_case("whole, 300 KiB with max 100 KiB", IN_WHOLE, 100 * 1024, data,
	    300 * 1024, NULL, 0, tl, 1, 0);
	free(data);

	/* Many short lines: order kept across read boundaries. */
	n = 20000;
	data = malloc(n * 12);
	len = 0;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(data + len, 12, "line %zu\n", i + 1);
	{
		struct want_rec *w = malloc(n * sizeof(*w));
		size_t off = 0;

		for (i = 0; i < n; i++) {
			char *nl = memchr(data + off, '\n', len - off);

			w[i] = (struct want_rec){
			    data + off, (size_t)(nl - (data + off)), i + 1};
			off = (size_t)(nl - data) + 1;
		}
		run_case(
		    "20000 lines", IN_LINE, 100, data, len, w, n, NULL, 0, 0);
		free(w);
	}
	free(data);
}

/* in_stop inside a callback: nothing more, not even eof. */
static void
stop_case(void)
{
	static const char data[] = "a\nb\nc\n";
	struct run r;

	memset(&r, 0, sizeof(r));
	r.stop_after = 1;
	run_pipe(&r, IN_LINE, 100, data, sizeof(data) - 1, 0);
	ok(!r.timed_out, "in_stop: the loop ends");
	is_int((long long)r.nrecs, 1, "in_stop: one record, then nothing");
	is_int(r.eofs + r.errors, 0, "in_stop: no eof and no error");
	run_free(&r);

	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	run_file(&r, IN_LINE, 100, data, sizeof(data) - 1);
	ok(!r.timed_out, "in_stop (file): the loop ends");
	is_int((long long)r.nrecs, 2, "in_stop (file): two records");
	is_int(r.eofs + r.errors, 0, "in_stop (file): no eof and no error");
	run_free(&r);
}

static void
on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	uint64_t now = loop_now_ms();

	if (now - r->last_beat > r->max_gap)
		r->max_gap = now - r->last_beat;
	r->last_beat = now;
}

/*
 * Flow control must not make the loop block on the input: after a resume
 * with an incomplete record buffered, the source must wait for the pipe to
 * be readable instead of calling read() at once. The writer sends "a\nb",
 * waits 1.5 s, then "\n"; a 20 ms heartbeat timer in the same loop must
 * keep running meanwhile.
 */
static void
no_block_case(void)
{
	static const struct in_cbs cbs = {
	    on_record, on_too_long, on_eof, on_error};
	static const struct timeval limit = {20, 0}, beat = {0, 20000};
	struct event *hb;
	struct run r;
	int fds[2];
	pid_t pid;

	if (pipe(fds) == -1) {
		perror("pipe");
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (write(fds[1], "a\nb", 3) != 3)
			_exit(1);
		usleep(1500000);
		if (write(fds[1], "\n", 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	memset(&r, 0, sizeof(r));
	r.pause_each = true;
	r.base = loop_new();
	r.resume = evtimer_new(r.base, on_resume, &r);
	r.finish = evtimer_new(r.base, on_finish, &r);
	r.watchdog = evtimer_new(r.base, on_watchdog, &r);
	hb = event_new(r.base, -1, EV_PERSIST, on_beat, &r);
	evtimer_add(r.watchdog, &limit);
	evtimer_add(hb, &beat);
	r.in = in_new(r.base, fds[0], IN_LINE, 100, &cbs, &r);
	r.last_beat = loop_now_ms();
	event_base_dispatch(r.base);
	on_beat(-1, 0, &r);
	in_free(r.in);
	event_free(hb);
	event_free(r.resume);
	event_free(r.finish);
	event_free(r.watchdog);
	event_base_free(r.base);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	ok(!r.timed_out && r.nrecs == 2 && r.eofs == 1,
	    "partial record at resume: both records, then eof");
	if (!ok(r.max_gap < 500,
	        "partial record at resume: the loop is not blocked in read()"))
		printf("#   the heartbeat stopped for %llu ms\n",
		    (unsigned long long)r.max_gap);
	run_free(&r);
}

/* A read error (a directory) is reported once, with errno. */
static void
error_case(void)
{
	struct run r;
	int fd = open("/", O_RDONLY);

	memset(&r, 0, sizeof(r));
	run_loop(&r, fd, IN_LINE, 100);
	close(fd);
	ok(!r.timed_out, "read error: the loop ends");
	is_int(r.errors, 1, "read error: error called once");
	is_int(r.err, EISDIR, "read error: errno is EISDIR");
	is_int(r.eofs, 0, "read error: no eof");
	ok(!r.after_end, "read error: nothing after the error");
	run_free(&r);
}

int
main(void)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct in_case *c = &cases[i];

		run_case(c->name, c->mode, c->max, c->in, c->inlen, c->recs,
		    c->nrecs, c->too_long, c->ntoo, 0);
		/* The same over a pipe written one byte at a time. */
		{
			struct run r;
			char t[200];

			memset(&r, 0, sizeof(r));
			run_pipe(&r, c->mode, c->max, c->in, c->inlen, 1);
			snprintf(
			    t, sizeof(t), "%s (pipe, 1-byte writes)", c->name);
			check(t, &r, c->recs, c->nrecs, c->too_long, c->ntoo);
			run_free(&r);
		}
	}
	big_cases();
	stop_case();
	error_case();
	no_block_case();
	return done();
}
