/*
 * tspub -- timestamped input for the SSE benchmarks.
 *
 *   cc -O2 -std=gnu11 -Wall -Wextra -Werror -o tspub bench/tspub.c
 *   tspub -r RATE -n COUNT [-s SIZE]                    | ssepush ...
 *   tspub -r RATE -n COUNT [-s SIZE] --post http://127.0.0.1:PORT/pub
 *
 * Writes exactly COUNT lines "T=<microseconds since the epoch> xxx...x\n":
 * the timestamp is CLOCK_REALTIME when the line is written, the x padding
 * makes the line SIZE bytes without its newline (default 32; no padding if
 * the timestamp alone is longer; -s 0: just "T=<us>").  bench/sseload reads
 * the timestamp back out of each event and records the latency.
 *
 * RATE is lines per second; 0 means as fast as the reader takes them
 * (stdout: lines are batched into 64 KiB writes, one timestamp per write).
 * Pacing uses clock_nanosleep on absolute CLOCK_MONOTONIC deadlines (line i
 * is due at start + i / RATE), so a late wakeup is caught up and the long-run
 * rate is exact.  Above 10,000 lines/s the wakeups are at least 100 us apart
 * and each writes every line that is due (one write, one timestamp).
 *
 * --post URL: instead of stdout, every line (without its newline) is the body
 * of one HTTP/1.1 POST over a single keep-alive connection (Content-Length,
 * TCP_NODELAY); the response is read and discarded before the next POST, a
 * non-2xx status counts as an error, and a connection the server closes is
 * reopened.  This is how nginx + nchan is fed (its publisher location).
 *
 * At the end a summary goes to stderr: lines, seconds, lines/s, errors.
 * Exit status: 0, or 1 if a write failed or a POST was answered non-2xx.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double opt_rate = 0;
static uint64_t opt_count = 0;
static long opt_size = 32;
static const char *opt_post;

static uint64_t errors, sent;
static char first_error[256];

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tspub: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
note_error(const char *fmt, ...)
{
	errors++;
	if (first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof first_error, fmt, ap);
	va_end(ap);
}

static int64_t
real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until_ns(int64_t t)
{
	struct timespec ts = {
	    .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR) {
	}
}

/* One line, without its newline, for the timestamp now; returns its length. */
static char *line;
static size_t line_cap;
static size_t
make_line(int64_t ts)
{
	int n = snprintf(line, line_cap, "T=%" PRId64, ts);
	size_t len = (size_t)n;
	if (opt_size > 0 && (size_t)opt_size > len) {
		line[len] = ' ';
		if ((size_t)opt_size > len + 1)
			memset(line + len + 1, 'x', (size_t)opt_size - len - 1);
		len = (size_t)opt_size;
	}
	return len;
}

/* --------------------------------------------------------------- stdout */

static char *obuf;
static size_t obuf_cap;

static void
write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr,
			    "tspub: write: %s after %" PRIu64 " lines\n",
			    strerror(errno), sent);
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Writes k lines with one timestamp, in writes of at most obuf_cap bytes. */
static void
emit_stdout(uint64_t k)
{
	while (k) {
		size_t len = make_line(real_us());
		size_t per = len + 1;
		uint64_t fit = obuf_cap / per;
		if (fit == 0)
			fit = 1;
		uint64_t m = k < fit ? k : fit;
		if (m * per > obuf_cap) {
			obuf_cap = m * per;
			obuf = realloc(obuf, obuf_cap);
			if (!obuf)
				die("out of memory");
		}
		line[len] = '\n';
		char *o = obuf;
		for (uint64_t i = 0; i < m; i++, o += per)
			memcpy(o, line, per);
		write_all(obuf, (size_t)(o - obuf));
		sent += m;
		k -= m;
	}
}

/* ----------------------------------------------------------------- POST */

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int addr_family;
static char hosthdr[300], path[1024];
static int sock = -1;
static char rbuf[65536];
static size_t rlen; /* unconsumed response bytes in rbuf */

static void
parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz)
{
	if (strncasecmp(url, "http://", 7) != 0)
		die("URL must begin with http://: %s", url);
	const char *h = url + 7;
	const char *slash = strchr(h, '/');
	const char *hp_end = slash ? slash : h + strlen(h);
	snprintf(path, sizeof path, "%s", slash ? slash : "/");
	size_t hl = (size_t)(hp_end - h);
	if (hl == 0 || hl >= sizeof hosthdr)
		die("bad host in URL: %s", url);
	memcpy(hosthdr, h, hl);
	hosthdr[hl] = 0;
	const char *pstart = NULL;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', hl);
		if (!rb || (size_t)(rb - h - 1) >= hostsz)
			die("bad IPv6 literal in URL: %s", url);
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = 0;
		if (rb + 1 < hp_end) {
			if (rb[1] != ':')
				die("bad URL: %s", url);
			pstart = rb + 2;
		}
	} else {
		const char *colon = memchr(h, ':', hl);
		size_t l = colon ? (size_t)(colon - h) : hl;
		if (l >= hostsz)
			die("host too long");
		memcpy(host, h, l);
		host[l] = 0;
		if (colon)
			pstart = colon + 1;
	}
	if (pstart) {
		size_t l = (size_t)(hp_end - pstart);
		if (l == 0 || l >= portsz)
			die("bad port in URL: %s", url);
		memcpy(port, pstart, l);
		port[l] = 0;
	} else {
		snprintf(port, portsz, "80");
	}
}

static void
post_connect(void)
{
	sock = socket(addr_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket: %s", strerror(errno));
	if (connect(sock, (struct sockaddr *)&addr, addrlen) < 0)
		die("connect %s: %s", opt_post, strerror(errno));
	int one = 1;
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rlen = 0;
}

/* Reads more response bytes; returns 0 at EOF. */
static size_t
read_more(void)
{
	if (rlen == sizeof rbuf)
		die("response headers too large");
	for (;;) {
		ssize_t r = read(sock, rbuf + rlen, sizeof rbuf - rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read %s: %s", opt_post, strerror(errno));
		rlen += (size_t)r;
		return (size_t)r;
	}
}

static void
consume(size_t n)
{
	memmove(rbuf, rbuf + n, rlen - n);
	rlen -= n;
}

/* Skips n body bytes (some may be buffered already). */
static int
skip_body(uint64_t n)
{
	while (n) {
		if (rlen == 0 && read_more() == 0)
			return -1;
		size_t k = rlen < n ? rlen : (size_t)n;
		consume(k);
		n -= k;
	}
	return 0;
}

/* A line (ending in LF) from the response; returns its length with the LF,
 * 0 at EOF. */
static size_t
get_line(void)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		if (nl)
			return (size_t)(nl - rbuf) + 1;
		if (read_more() == 0)
			return 0;
	}
}

/* Reads one response; returns its status, or -1 if the connection ended. */
static int
read_response(int *close_after)
{
	size_t end;
	char *hdr_end;
	for (;;) {
		hdr_end = memmem(rbuf, rlen, "\r\n\r\n", 4);
		if (hdr_end) {
			end = (size_t)(hdr_end - rbuf) + 4;
			break;
		}
		if (read_more() == 0)
			return -1;
	}
	int status = -1;
	if (rlen > 12 && strncmp(rbuf, "HTTP/1.", 7) == 0)
		status = (int)strtol(rbuf + 9, NULL, 10);
	int chunked = 0, have_len = 0;
	uint64_t clen = 0;
	*close_after = strncmp(rbuf, "HTTP/1.0", 8) == 0;
	for (char *p = memchr(rbuf, '\n', end) + 1; p < rbuf + end - 2;) {
		char *eol = memchr(p, '\n', (size_t)(rbuf + end - p));
		size_t l = (size_t)(eol - p);
		if (l > 18 && strncasecmp(p, "Transfer-Encoding:", 18) == 0 &&
		    memmem(p, l, "chunked", 7))
			chunked = 1;
		if (l > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
			have_len = 1;
			clen = strtoull(p + 15, NULL, 10);
		}
		if (l > 11 && strncasecmp(p, "Connection:", 11) == 0 &&
		    (memmem(p, l, "close", 5) || memmem(p, l, "Close", 5)))
			*close_after = 1;
		p = eol + 1;
	}
	consume(end);
	if (status == 204 || status == 304 || (status >= 100 && status < 200))
		return status;
	if (chunked) {
		for (;;) {
			size_t l = get_line();
			if (l == 0)
				return -1;
			uint64_t sz = strtoull(rbuf, NULL, 16);
			consume(l);
			if (sz == 0) {
				/* trailers up to an empty line */
				for (;;) {
					l = get_line();
					if (l == 0)
						return -1;
					int empty = l <= 2;
					consume(l);
					if (empty)
						return status;
				}
			}
			if (skip_body(sz + 2) < 0)
				return -1;
		}
	}
	if (have_len) {
		if (skip_body(clen) < 0)
			return -1;
		return status;
	}
	/* Delimited by close. */
	while (read_more() > 0)
		rlen = 0;
	*close_after = 1;
	return status;
}

static void
emit_post(uint64_t k)
{
	for (uint64_t i = 0; i < k; i++) {
		size_t len = make_line(real_us());
		char head[1536];
		int hl = snprintf(head, sizeof head,
		    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
		    path, hosthdr, len);
		if (sock < 0)
			post_connect();
		struct iovec iov[2] = {{head, (size_t)hl}, {line, len}};
		size_t total = (size_t)hl + len, done = 0;
		while (done < total) {
			ssize_t w = writev(sock, iov, 2);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				die("write %s: %s after %" PRIu64 " messages",
				    opt_post, strerror(errno), sent);
			done += (size_t)w;
			/* advance the iovecs */
			size_t adv = (size_t)w;
			for (int j = 0; j < 2; j++) {
				size_t a =
				    adv < iov[j].iov_len ? adv : iov[j].iov_len;
				iov[j].iov_base = (char *)iov[j].iov_base + a;
				iov[j].iov_len -= a;
				adv -= a;
			}
		}
		int close_after = 0;
		int status = read_response(&close_after);
		if (status < 0)
			die("%s closed the connection after %" PRIu64
			    " messages",
			    opt_post, sent);
		if (status < 200 || status > 299)
			note_error("POST %s: status %d (message %" PRIu64 ")",
			    path, status, sent + 1);
		sent++;
		if (close_after) {
			close(sock);
			sock = -1;
		}
	}
}

/* ----------------------------------------------------------------- main */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tspub -r RATE -n COUNT [-s SIZE] [--post http://HOST:PORT/PATH]\n");
	exit(2);
}

static double
num_arg(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		die("bad %s: %s", what, s);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rate", required_argument, NULL, 'r'},
	    {"count", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"post", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, have_n = 0;
	while (
	    (ch = getopt_long(argc, argv, "r:n:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			opt_rate = num_arg(optarg, "-r");
			break;
		case 'n':
			opt_count = (uint64_t)num_arg(optarg, "-n");
			have_n = 1;
			break;
		case 's':
			opt_size = (long)num_arg(optarg, "-s");
			break;
		case 'p':
			opt_post = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_n)
		usage();
	if (opt_size > 16 * 1024 * 1024)
		die("-s too large");
	line_cap = (size_t)opt_size + 64;
	line = malloc(line_cap);
	obuf_cap = 65536;
	obuf = malloc(obuf_cap);
	if (!line || !obuf)
		die("out of memory");
	signal(SIGPIPE, SIG_IGN);

	if (opt_post) {
		char host[256], port[16];
		parse_url(opt_post, host, sizeof host, port, sizeof port);
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
		int gai = getaddrinfo(host, port, &hints, &ai);
		if (gai)
			die("%s: %s", host, gai_strerror(gai));
		memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
		addrlen = ai->ai_addrlen;
		addr_family = ai->ai_family;
		freeaddrinfo(ai);
		post_connect();
	}
	void (*emit)(uint64_t) = opt_post ? emit_post : emit_stdout;

	int64_t t0 = mono_ns();
	/* Batch size without pacing: a 64 KiB write (stdout), one POST. */
	uint64_t free_batch = opt_post ? 1 : obuf_cap / ((size_t)opt_size + 21);
	if (free_batch == 0)
		free_batch = 1;
	const int64_t min_gap = 100000; /* ns between wakeups above 10,000/s */
	while (sent < opt_count) {
		uint64_t k;
		int64_t wake = mono_ns();
		if (opt_rate > 0) {
			/* line i is due at t0 + i / rate */
			double d = (double)(wake - t0) * opt_rate / 1e9;
			uint64_t due = (uint64_t)d + 1;
			if (due > opt_count)
				due = opt_count;
			if (due <= sent) {
				sleep_until_ns(t0 +
				    (int64_t)((double)sent * 1e9 / opt_rate));
				continue;
			}
			k = due - sent;
		} else {
			k = opt_count - sent < free_batch ? opt_count - sent
			                                  : free_batch;
		}
		emit(k);
		if (opt_rate > 10000 && sent < opt_count)
			sleep_until_ns(wake + min_gap);
	}
	double secs = (double)(mono_ns() - t0) / 1e9;
	fprintf(stderr,
	    "tspub: %" PRIu64 " lines in %.3f s (%.0f/s)%s%s, %" PRIu64
	    " errors%s%s\n",
	    sent, secs, secs > 0 ? (double)sent / secs : 0,
	    opt_post ? " posted to " : "", opt_post ? opt_post : "", errors,
	    first_error[0] ? "; first: " : "", first_error);
	return errors ? 1 : 0;
}
