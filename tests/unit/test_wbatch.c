/*
 * common/wbatch.c: batched socket writes, through io_uring and through the
 * fallback (one sendmsg per write, MQSSE_NO_URING set). Real loopback TCP
 * connections: whole writes arrive byte for byte and in order, a full
 * socket reports -EAGAIN, a large write is partial and says how much went,
 * a reset peer is an error (no SIGPIPE), the callbacks come in the order
 * of the writes, and the batch's bounds hold.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "common/wbatch.h"
#include "tests/lib/tap.h"

#define NSOCK 250

static int lfd = -1;
static struct sockaddr_in laddr;

/* A connected loopback TCP pair: *W the non-blocking writer, *R reader. */
static void
tcp_pair(int *w, int *r)
{
	socklen_t len = sizeof(laddr);

	if (lfd == -1) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		laddr.sin_family = AF_INET;
		laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) == -1 ||
		    listen(lfd, 512) == -1 ||
		    getsockname(lfd, (struct sockaddr *)&laddr, &len) == -1) {
			perror("listen");
			exit(1);
		}
	}
	*r = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*r, (struct sockaddr *)&laddr, sizeof(laddr)) == -1 ||
	    (*w = accept(lfd, NULL, NULL)) == -1) {
		perror("connect");
		exit(1);
	}
	fcntl(*w, F_SETFL, fcntl(*w, F_GETFL) | O_NONBLOCK);
}

/* Read exactly N bytes (waiting at most 5 s); returns the bytes read. */
static size_t
read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 5000) != 1)
			break;
		if ((r = read(fd, buf + got, n - got)) <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

struct result {
	void *arg;
	ssize_t res;
};

struct results {
	struct result r[2048];
	size_t n;
};

static void
record(void *arg, ssize_t res, void *ctx)
{
	struct results *rs = ctx;

	if (rs->n < sizeof(rs->r) / sizeof(rs->r[0]))
		rs->r[rs->n] = (struct result){arg, res};
	rs->n++;
}

/* Whether io_uring can be set up here at all, asked directly. */
static int
uring_usable(void)
{
#ifdef HAVE_LIBURING
	struct io_uring ring;

	if (io_uring_queue_init(8, &ring, 0) < 0)
		return 0;
	io_uring_queue_exit(&ring);
	return 1;
#else
	return 0;
#endif
}

static void
suite(const char *mode)
{
	char name[160], buf[4096];
	struct results *rs = calloc(1, sizeof(*rs));
	struct wbatch *wb = wbatch_new(1024);
	int w[NSOCK], r[NSOCK];
	int order_ok = 1, bytes_ok = 1;

	/* Three writes of three iovecs each to every socket, in one batch. */
	for (int i = 0; i < NSOCK; i++)
		tcp_pair(&w[i], &r[i]);
	static char text[NSOCK][3][3][16];
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < NSOCK; i++) {
			struct iovec *iov = wbatch_iov(wb, 3);

			if (iov == NULL) {
				bytes_ok = 0;
				break;
			}
			for (int j = 0; j < 3; j++) {
				snprintf(text[i][k][j], sizeof(text[i][k][j]),
				    "<%d.%d.%d>", i, k, j);
				iov[j].iov_base = text[i][k][j];
				iov[j].iov_len = strlen(text[i][k][j]);
			}
			wbatch_add(wb, w[i], 3, &text[i][k][0]);
		}
	snprintf(name, sizeof(name), "%s: %d writes queued", mode, 3 * NSOCK);
	is_int((long long)wbatch_pending(wb), 3 * NSOCK, name);
	wbatch_run(wb, record, rs);
	snprintf(name, sizeof(name), "%s: one result per write", mode);
	is_int((long long)rs->n, 3 * NSOCK, name);
	is_int(
	    (long long)wbatch_pending(wb), 0, "the batch is empty after run");
	for (size_t n = 0; n < rs->n && n < 3 * NSOCK; n++) {
		int k = (int)n / NSOCK, i = (int)n % NSOCK;
		size_t want = strlen(text[i][k][0]) + strlen(text[i][k][1]) +
		    strlen(text[i][k][2]);

		if (rs->r[n].arg != &text[i][k][0])
			order_ok = 0;
		if (rs->r[n].res != (ssize_t)want)
			bytes_ok = 0;
	}
	snprintf(name, sizeof(name), "%s: callbacks in the order added", mode);
	ok(order_ok, name);
	snprintf(name, sizeof(name), "%s: every write whole", mode);
	ok(bytes_ok, name);
	bytes_ok = 1;
	for (int i = 0; i < NSOCK; i++) {
		char want[256];
		size_t wl = 0;

		for (int k = 0; k < 3; k++)
			for (int j = 0; j < 3; j++) {
				size_t l = strlen(text[i][k][j]);

				memcpy(want + wl, text[i][k][j], l);
				wl += l;
			}
		if (read_n(r[i], buf, wl) != wl || memcmp(buf, want, wl) != 0)
			bytes_ok = 0;
	}
	snprintf(
	    name, sizeof(name), "%s: each reader got its bytes in order", mode);
	ok(bytes_ok, name);

	/* A full socket takes nothing: -EAGAIN, not a wait. */
	{
		static char fill[65536];
		struct iovec *iov;

		while (send(w[0], fill, sizeof(fill), MSG_DONTWAIT) > 0)
			;
		rs->n = 0;
		iov = wbatch_iov(wb, 1);
		iov[0].iov_base = fill;
		iov[0].iov_len = 10;
		wbatch_add(wb, w[0], 1, NULL);
		iov = wbatch_iov(wb, 1);
		iov[0].iov_base = (void *)"next";
		iov[0].iov_len = 4;
		wbatch_add(wb, w[1], 1, NULL);
		wbatch_run(wb, record, rs);
		snprintf(name, sizeof(name), "%s: a full socket gives -EAGAIN",
		    mode);
		is_int((long long)rs->r[0].res, -EAGAIN, name);
		snprintf(name, sizeof(name),
		    "%s: the next write of the batch still goes", mode);
		is_int((long long)rs->r[1].res, 4, name);
	}

	/* A large write is partial and says how much went. */
	{
		size_t big = 32 << 20;
		char *data = malloc(big);
		struct iovec *iov;
		size_t got;

		for (size_t i = 0; i < big; i++)
			data[i] = (char)('a' + i % 26);
		rs->n = 0;
		iov = wbatch_iov(wb, 1);
		iov[0].iov_base = data;
		iov[0].iov_len = big;
		wbatch_add(wb, w[2], 1, NULL);
		wbatch_run(wb, record, rs);
		snprintf(name, sizeof(name),
		    "%s: a 32 MiB write is partial (0 < %zd < %zu)", mode,
		    rs->r[0].res, big);
		ok(rs->r[0].res > 0 && (size_t)rs->r[0].res < big, name);
		if (rs->r[0].res > 0) {
			char *back = malloc((size_t)rs->r[0].res);

			got = read_n(r[2], back, (size_t)rs->r[0].res);
			snprintf(name, sizeof(name),
			    "%s: the reader gets exactly the bytes reported",
			    mode);
			ok(got == (size_t)rs->r[0].res &&
			        memcmp(back, data, got) == 0,
			    name);
			free(back);
		}
		free(data);
	}

	/* A peer that reset the connection: an error, and no SIGPIPE. */
	{
		struct linger lg = {1, 0};
		struct iovec *iov;
		char c;

		setsockopt(r[3], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(r[3]);
		r[3] = -1;
		/* Wait until the reset has arrived. */
		for (int i = 0; i < 100; i++) {
			struct pollfd p = {w[3], POLLIN, 0};

			if (poll(&p, 1, 50) == 1)
				break;
		}
		(void)read(w[3], &c, 0);
		rs->n = 0;
		iov = wbatch_iov(wb, 1);
		iov[0].iov_base = (void *)"gone";
		iov[0].iov_len = 4;
		wbatch_add(wb, w[3], 1, NULL);
		wbatch_run(wb, record, rs);
		snprintf(name, sizeof(name),
		    "%s: a reset peer is an error (%zd), the process lives",
		    mode, rs->r[0].res);
		ok(rs->r[0].res == -ECONNRESET || rs->r[0].res == -EPIPE, name);
	}

	for (int i = 0; i < NSOCK; i++) {
		close(w[i]);
		if (r[i] != -1)
			close(r[i]);
	}
	wbatch_free(wb);

	/* The bounds: DEPTH writes, and the iovec arena. */
	wb = wbatch_new(4);
	{
		int full_ok = 1;
		int fds[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
		for (int i = 0; i < 4; i++) {
			struct iovec *iov = wbatch_iov(wb, 1);

			if (iov == NULL) {
				full_ok = 0;
				break;
			}
			iov[0].iov_base = (void *)"x";
			iov[0].iov_len = 1;
			wbatch_add(wb, fds[0], 1, NULL);
		}
		snprintf(name, sizeof(name), "%s: DEPTH writes fit", mode);
		ok(full_ok, name);
		snprintf(name, sizeof(name),
		    "%s: one more does not (NULL: run first)", mode);
		ok(wbatch_iov(wb, 1) == NULL, name);
		rs->n = 0;
		wbatch_run(wb, record, rs);
		snprintf(
		    name, sizeof(name), "%s: room again after the run", mode);
		ok(wbatch_iov(wb, 1) != NULL && rs->n == 4, name);
		snprintf(name, sizeof(name),
		    "%s: more iovecs than the arena holds: NULL", mode);
		ok(wbatch_iov(wb, 10000) == NULL, name);
		close(fds[0]);
		close(fds[1]);
	}
	wbatch_free(wb);
	free(rs);
}

int
main(void)
{
	struct wbatch *wb;

	wb = wbatch_new(8);
	printf("# io_uring: %s\n", wbatch_uring(wb) ? "yes" : "no");
#ifdef HAVE_LIBURING
	ok(wbatch_uring(wb) == uring_usable(),
	    "built with liburing: io_uring is used where it can be set up");
#else
	ok(!wbatch_uring(wb), "built without liburing: no io_uring");
#endif
	wbatch_free(wb);
	suite(uring_usable() ? "io_uring" : "sendmsg (no io_uring here)");

	setenv("MQSSE_NO_URING", "1", 1);
	wb = wbatch_new(8);
	ok(!wbatch_uring(wb), "MQSSE_NO_URING: no io_uring");
	wbatch_free(wb);
	suite("sendmsg");
	return done();
}
