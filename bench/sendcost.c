/*
 * bench/sendcost.c -- what one small write to one of many loopback TCP
 * sockets costs here, made one system call at a time (writev, as a
 * round of ssepush's writes was before io_uring) or handed to the kernel
 * together (io_uring, as common/wbatch.c does now), with a reader process
 * draining the sockets through epoll meanwhile (as the load client does).
 * Also the cost of a null system call (getppid) and of clock_gettime, to
 * see what kind of machine this is.
 *
 *   cc -O2 -o /tmp/sendcost bench/sendcost.c -luring && /tmp/sendcost
 *
 * 1000 connections, 200 rounds of one 38-byte chunk to each; the time of
 * each round's writes only (the reader runs on its own); prints the mean
 * per write for each way, interleaved, three times.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 1000
#define ROUNDS 200

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

int
main(void)
{
	static const char msg[] =
	    "20\r\ndata: T=1732280000000000 xxxxxx\n\n\r\n";
	size_t ml = sizeof msg - 1;
	int cl[N], sv[N];
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	double t0;

	t0 = now();
	for (int i = 0; i < 1000000; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
	}
	printf("clock_gettime: %.0f ns\n", (now() - t0) * 1e9 / 1000000);
	t0 = now();
	for (int i = 0; i < 200000; i++)
		getppid();
	printf("null system call (getppid): %.0f ns\n",
	    (now() - t0) * 1e9 / 200000);

	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 2048) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		die("listen");
	for (int i = 0; i < N; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cl[i], (struct sockaddr *)&a, sizeof a))
			die("connect");
		if ((sv[i] = accept(l, NULL, NULL)) < 0)
			die("accept");
		fcntl(sv[i], F_SETFL, O_NONBLOCK);
	}
	pid_t reader = fork();
	if (reader == 0) {
		int ep = epoll_create1(0);
		static struct epoll_event ev[1024];
		static char b[65536];
		for (int i = 0; i < N; i++) {
			struct epoll_event e = {
			    .events = EPOLLIN, .data.fd = cl[i]};
			epoll_ctl(ep, EPOLL_CTL_ADD, cl[i], &e);
		}
		for (;;) {
			int n = epoll_wait(ep, ev, 1024, -1);
			for (int k = 0; k < n; k++)
				if (read(ev[k].data.fd, b, sizeof b) <= 0)
					_exit(0);
		}
	}
	struct io_uring ring;
	if (io_uring_queue_init(2048, &ring, 0) < 0)
		die("io_uring_queue_init");
	for (int rep = 0; rep < 3; rep++) {
		for (int mode = 0; mode < 2; mode++) {
			double tw = 0;
			for (int r = 0; r < ROUNDS; r++) {
				t0 = now();
				if (mode == 0) {
					for (int i = 0; i < N; i++) {
						struct iovec v[3] = {
						    {(char *)msg, 4},
						    {(char *)msg + 4, ml - 6},
						    {(char *)msg + ml - 2, 2}};
						if (writev(sv[i], v, 3) !=
						    (ssize_t)ml)
							die("writev");
					}
				} else {
					struct io_uring_cqe *c;
					unsigned h, cnt = 0;
					for (int i = 0; i < N; i++) {
						struct io_uring_sqe *s =
						    io_uring_get_sqe(&ring);
						io_uring_prep_send(s, sv[i],
						    msg, ml, MSG_DONTWAIT);
					}
					io_uring_submit_and_wait(&ring, N);
					io_uring_for_each_cqe(&ring, h, c)
					{
						if (c->res != (int)ml)
							die("send");
						cnt++;
					}
					io_uring_cq_advance(&ring, cnt);
				}
				tw += now() - t0;
				usleep(1000);
			}
			printf("%s: %.2f us per write (%d sockets)\n",
			    mode == 0 ? "writev, one call each"
			              : "io_uring, one submission per round",
			    tw / ROUNDS / N * 1e6, N);
		}
	}
	kill(reader, SIGTERM);
	waitpid(reader, NULL, 0);
	return 0;
}
