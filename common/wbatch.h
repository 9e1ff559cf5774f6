/*
 * Batched socket writes: a round of writes to many sockets, handed to the
 * kernel together. With io_uring (liburing) the whole batch is one system
 * call; without it, or where io_uring is refused (seccomp, old kernels,
 * MQSSE_NO_URING set in the environment), each write is its own sendmsg.
 * Either way every write is non-blocking and its result is reported.
 *
 * Usage: for each write, wbatch_iov() for room, fill the iovecs, then
 * wbatch_add(); wbatch_run() performs the writes and calls the callback
 * once per write, in the order they were added. When wbatch_iov() returns
 * NULL the batch is full: run it first.
 */
#ifndef MQSSE_WBATCH_H
#define MQSSE_WBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct wbatch;

/*
 * Called for each write: RES is the bytes written (possibly fewer than
 * asked) or -errno (-EAGAIN: the socket took nothing).
 */
typedef void (*wbatch_done_fn)(void *arg, ssize_t res, void *ctx);

/* A batch of up to DEPTH writes. Never NULL (exits 1 on no memory). */
struct wbatch *wbatch_new(unsigned depth);
void wbatch_free(struct wbatch *wb);

/* Whether the writes go through io_uring. */
bool wbatch_uring(const struct wbatch *wb);

/* Room for one more write of up to N iovecs, or NULL when full. */
struct iovec *wbatch_iov(struct wbatch *wb, int n);

/* Queue a write to FD of the IOVCNT iovecs just filled in. */
void wbatch_add(struct wbatch *wb, int fd, int iovcnt, void *arg);

/* Writes queued and not yet run. */
size_t wbatch_pending(const struct wbatch *wb);

/* Perform the queued writes, then DONE(arg, res, CTX) for each. */
void wbatch_run(struct wbatch *wb, wbatch_done_fn done, void *ctx);

#endif
