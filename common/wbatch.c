#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "common/diag.h"
#include "common/wbatch.h"
#include "common/xalloc.h"

/* iovecs per write, on average, that the arena holds. */
#define IOV_PER_WRITE 4
/* Never block: a write takes what the socket has room for, or nothing. */
#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)

struct wbatch {
	unsigned depth, n;
	size_t niov, iov_used;
	struct iovec *iov;  /* the arena: every write's iovecs */
	struct msghdr *msg; /* one per write, pointing into the arena */
	void **arg;
	int *fd;
	ssize_t *res;
	bool running;
#ifdef HAVE_LIBURING
	bool uring;
	struct io_uring ring;
#endif
};

#ifdef HAVE_LIBURING
/*
 * Whether a send with MSG_DONTWAIT to a full socket completes at once with
 * -EAGAIN. A kernel that instead waits for room would stall a whole round
 * behind one slow client, so such a kernel is not used.
 */
static bool
uring_probe(struct io_uring *ring)
{
	static char fill[16384];
	int sv[2];
	bool ok = false;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = {0, 200 * 1000 * 1000};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return false;
	while (send(sv[0], fill, sizeof(fill), SEND_FLAGS) > 0)
		;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_send(sqe, sv[0], fill, 1, SEND_FLAGS);
		if (io_uring_submit(ring) == 1 &&
		    io_uring_wait_cqe_timeout(ring, &cqe, &ts) == 0) {
			ok = cqe->res == -EAGAIN;
			io_uring_cqe_seen(ring, cqe);
		}
	}
	close(sv[0]);
	close(sv[1]);
	return ok;
}

static bool
uring_init(struct wbatch *wb)
{
	struct io_uring_params p;
	const char *no = getenv("MQSSE_NO_URING");

	if (no != NULL && *no != '\0')
		return false;
	memset(&p, 0, sizeof(p));
#if defined(IORING_SETUP_SINGLE_ISSUER) && defined(IORING_SETUP_DEFER_TASKRUN)
	/* Only the loop's thread submits; completions are reaped at once. */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if (io_uring_queue_init_params(wb->depth, &wb->ring, &p) < 0) {
		memset(&p, 0, sizeof(p));
		if (io_uring_queue_init_params(wb->depth, &wb->ring, &p) < 0)
			return false;
	}
#else
	if (io_uring_queue_init_params(wb->depth, &wb->ring, &p) < 0)
		return false;
#endif
	if (!uring_probe(&wb->ring)) {
		io_uring_queue_exit(&wb->ring);
		return false;
	}
	return true;
}

static void
uring_run(struct wbatch *wb)
{
	unsigned submitted = 0, reaped = 0;
	struct io_uring_cqe *cqe;

	for (unsigned i = 0; i < wb->n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&wb->ring);

		/* The ring holds DEPTH entries and the batch no more. */
		io_uring_prep_sendmsg(sqe, wb->fd[i], &wb->msg[i], SEND_FLAGS);
		io_uring_sqe_set_data64(sqe, i);
	}
	while (reaped < wb->n) {
		int r;

		if (submitted < wb->n) {
			r = io_uring_submit_and_wait(&wb->ring, 1);
			if (r > 0)
				submitted += (unsigned)r;
		} else {
			r = io_uring_wait_cqe(&wb->ring, &cqe);
		}
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			diag_die(1, "io_uring: %s", strerror(-r));
		while (io_uring_peek_cqe(&wb->ring, &cqe) == 0) {
			uint64_t i = io_uring_cqe_get_data64(cqe);

			if (i < wb->n)
				wb->res[i] = cqe->res;
			io_uring_cqe_seen(&wb->ring, cqe);
			reaped++;
		}
	}
}
#endif

struct wbatch *
wbatch_new(unsigned depth)
{
	struct wbatch *wb = xcalloc(1, sizeof(*wb));

	wb->depth = depth;
	wb->niov = (size_t)depth * IOV_PER_WRITE;
	wb->iov = xcalloc(wb->niov, sizeof(*wb->iov));
	wb->msg = xcalloc(depth, sizeof(*wb->msg));
	wb->arg = xcalloc(depth, sizeof(*wb->arg));
	wb->fd = xcalloc(depth, sizeof(*wb->fd));
	wb->res = xcalloc(depth, sizeof(*wb->res));
#ifdef HAVE_LIBURING
	wb->uring = uring_init(wb);
#endif
	return wb;
}

void
wbatch_free(struct wbatch *wb)
{
	if (wb == NULL)
		return;
#ifdef HAVE_LIBURING
	if (wb->uring)
		io_uring_queue_exit(&wb->ring);
#endif
	free(wb->iov);
	free(wb->msg);
	free(wb->arg);
	free(wb->fd);
	free(wb->res);
	free(wb);
}

bool
wbatch_uring(const struct wbatch *wb)
{
#ifdef HAVE_LIBURING
	return wb->uring;
#else
	(void)wb;
	return false;
#endif
}

struct iovec *
wbatch_iov(struct wbatch *wb, int n)
{
	if (wb->n == wb->depth || n < 0 || (size_t)n > wb->niov - wb->iov_used)
		return NULL;
	return wb->iov + wb->iov_used;
}

void
wbatch_add(struct wbatch *wb, int fd, int iovcnt, void *arg)
{
	struct msghdr *m = &wb->msg[wb->n];

	if (wb->running)
		diag_die(1, "wbatch_add during wbatch_run");
	memset(m, 0, sizeof(*m));
	m->msg_iov = wb->iov + wb->iov_used;
	m->msg_iovlen = (size_t)iovcnt;
	wb->iov_used += (size_t)iovcnt;
	wb->arg[wb->n] = arg;
	wb->fd[wb->n] = fd;
	wb->n++;
}

size_t
wbatch_pending(const struct wbatch *wb)
{
	return wb->n;
}

void
wbatch_run(struct wbatch *wb, wbatch_done_fn done, void *ctx)
{
	unsigned n = wb->n;

	if (n == 0)
		return;
#ifdef HAVE_LIBURING
	if (wb->uring)
		uring_run(wb);
	else
#endif
		for (unsigned i = 0; i < n; i++) {
			ssize_t r;

			do
				r = sendmsg(wb->fd[i], &wb->msg[i], SEND_FLAGS);
			while (r == -1 && errno == EINTR);
			wb->res[i] = r >= 0 ? r : -errno;
		}
	/* The batch is empty again before the callbacks run. */
	wb->n = 0;
	wb->iov_used = 0;
	wb->running = true;
	for (unsigned i = 0; i < n; i++)
		done(wb->arg[i], wb->res[i], ctx);
	wb->running = false;
}
