/*
 * sseload -- open N Server-Sent Events connections, count events, measure
 * latency from a timestamp in the data.
 *
 *   cc -O2 -std=gnu11 -Wall -Wextra -Werror -o sseload bench/sseload.c
 *   sseload -n CLIENTS -u URL [-d SECONDS] [-e EXPECTED_EVENTS]
 *           [-r RAMP_PER_SEC] [-c MAX_CONNECTING] [-q] [-j]
 *
 * Every client sends
 *
 *   GET PATH HTTP/1.1\r\nHost: HOST\r\nAccept: text/event-stream\r\n\r\n
 *
 * to the http://HOST[:PORT]/PATH of -u (HOST an IPv4 literal, a bracketed
 * IPv6 literal or a name, resolved once with getaddrinfo).  A response
 * counts as connected when its status is 200 and its Content-Type is
 * text/event-stream; anything else (refused, reset, other status or type,
 * closed before the headers) counts as failed, and the first such error is
 * reported.  The body may be chunked (evhttp), Content-Length delimited or
 * delimited by the server closing the connection (nginx + nchan).
 *
 * Events are parsed as text/event-stream: lines end in LF, CR or CRLF; an
 * event is dispatched on a blank line if it has at least one data line;
 * comments and other fields are ignored.  If the first data line of an event
 * begins with "T=<digits>" (or is a JSON object whose first 64 bytes hold
 * "payload":"T=<digits>, as in an mqsub -j record), the digits are taken as
 * microseconds since the
 * epoch (CLOCK_REALTIME) when the event was produced (bench/tspub writes
 * them), and now - T is recorded in a log-linear histogram (exact below
 * 1024 us, then 512 sub-buckets per power of two: under 0.2% error).  "Now"
 * is taken once per read(), when the bytes reach the load client.
 *
 * The run ends after -d seconds (default 10, counted from the start; 0: no
 * limit), or as soon as every client that is still connected has received
 * -e events (when -e is given), or on SIGINT/SIGTERM.  Connections are
 * started -r per second (default: as fast as possible), with at most -c
 * (default 500) connecting or awaiting their response headers at a time, so
 * that a listen backlog is not overrun.  RLIMIT_NOFILE is raised to its hard
 * limit at start.
 *
 * The report (one JSON object on stdout with -j, else a table) gives:
 * clients requested, connected, failed (with the first error), pending (still
 * connecting at the end), disconnected (closed by the server after
 * connecting, before the end of the run), events in total, events/s (the
 * total divided by the time from the first event to the last one, over all
 * clients), the fewest and most events any connected client received, the
 * per-client event rate of the slowest and fastest client (events over that
 * client's own first-to-last event time), latency p50/p90/p99/p99.9/max in
 * ms and bytes received.  Progress goes to stderr once a second unless -q;
 * a line "sseload: all N clients connected ..." is printed when the last
 * connection is up (scripts can wait for it).  Sockets are closed with
 * SO_LINGER 0 at the end (RST), which leaves no TIME_WAIT ports behind.
 *
 * Exit status: 0 if every client connected, none was disconnected and (with
 * -e) all received the expected events; 1 otherwise; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
#define HDR_MAX 8192
#define PFX 64 /* bytes of each line kept for parsing */

/* ------------------------------------------------------------------ time */

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------- histogram */

/* Values below 1024 us: one bucket each.  Above: for a value with its top
 * bit at position e (10..47), 512 sub-buckets from the next 9 bits. */
#define H_LIN 1024
#define H_SUB 512
#define H_OCT 38
#define H_N (H_LIN + H_OCT * H_SUB)

static uint64_t hist[H_N];
static uint64_t hist_count, hist_negative;
static int64_t hist_max;
static double hist_sum;

static void
hist_add(int64_t v)
{
	size_t i;
	if (v < 0) {
		hist_negative++;
		v = 0;
	}
	if (v > hist_max)
		hist_max = v;
	hist_sum += (double)v;
	hist_count++;
	if (v < H_LIN) {
		i = (size_t)v;
	} else {
		int e = 63 - __builtin_clzll((unsigned long long)v);
		if (e >= 10 + H_OCT) {
			i = H_N - 1;
		} else {
			i = H_LIN + (size_t)(e - 10) * H_SUB +
			    (size_t)((v >> (e - 9)) & (H_SUB - 1));
		}
	}
	hist[i]++;
}

/* The value a bucket stands for: its midpoint. */
static double
hist_value(size_t i)
{
	if (i < H_LIN)
		return (double)i;
	size_t o = (i - H_LIN) / H_SUB, s = (i - H_LIN) % H_SUB;
	int e = (int)o + 10;
	double lo = (double)((1ULL << e) + ((unsigned long long)s << (e - 9)));
	double w = (double)(1ULL << (e - 9));
	return lo + w / 2;
}

/* The q-quantile (0 < q <= 1) in us: the smallest value with at least
 * q * count samples at or below it. */
static double
hist_quantile(double q)
{
	if (hist_count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)hist_count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > hist_count)
		rank = hist_count;
	uint64_t seen = 0;
	for (size_t i = 0; i < H_N; i++) {
		seen += hist[i];
		if (seen >= rank) {
			double v = hist_value(i);
			return v > (double)hist_max ? (double)hist_max : v;
		}
	}
	return (double)hist_max;
}

/* --------------------------------------------------------------- clients */

enum cstate { C_IDLE, C_CONNECTING, C_HEADERS, C_BODY, C_FAILED, C_CLOSED };
enum bmode { B_CLOSE, B_LENGTH, B_CHUNKED };
enum ckstate { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_END, CK_TRAILER };

struct client {
	int fd;
	uint8_t state; /* enum cstate */
	uint8_t bmode; /* enum bmode */
	uint8_t ck;    /* enum ckstate */
	uint8_t after_cr, has_data, pfx_len, done;
	uint32_t sent; /* request bytes written */
	uint32_t hdr_len;
	char *hdr; /* response headers being collected (C_HEADERS only) */
	uint64_t remaining; /* chunk or Content-Length bytes left */
	uint64_t line_len;  /* bytes of the current line so far (SSE), or of the
	                       current trailer line (CK_TRAILER) */
	int64_t ts;         /* T= of the current event, or -1 */
	uint64_t events, bytes;
	int64_t first_ev, last_ev; /* monotonic us of the first/last event */
	char pfx[PFX];
};

static struct client *clients;
static int nclients;
static int ep;
static volatile sig_atomic_t stop_sig;

/* options */
static int opt_n = 0;
static const char *opt_url;
static double opt_d = 10;
static uint64_t opt_e = 0;
static double opt_r = 0;
static int opt_c = 500;
static int opt_q = 0, opt_j = 0;

/* target */
static struct sockaddr_storage addr;
static socklen_t addrlen;
static int addr_family;
static char request[2048];
static size_t request_len;

/* counters */
static int n_started, n_inflight, n_connected, n_failed, n_closed, n_done;
static int n_ever_connected;
static int
    n_waiting; /* with -e: connected clients that still wait for events */
static uint64_t events_total, bytes_total, untimed_events;
static int64_t t_start, t_first_ev, t_last_ev, t_all_connected;
static char first_error[256];
static int64_t now_real; /* CLOCK_REALTIME of the current read */
static int64_t now_mono;

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sseload: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
set_error(struct client *c, const char *fmt, ...)
{
	(void)c;
	if (first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof first_error, fmt, ap);
	va_end(ap);
}

static void
close_fd(struct client *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	free(c->hdr);
	c->hdr = NULL;
}

/* A client that never got as far as a valid response. */
static void
client_fail(struct client *c, const char *fmt, ...)
{
	if (!first_error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof first_error, fmt, ap);
		va_end(ap);
	}
	if (c->state == C_CONNECTING || c->state == C_HEADERS)
		n_inflight--;
	if (c->state == C_BODY) {
		/* A protocol error in the body: count as disconnected. */
		if (opt_e && !c->done)
			n_waiting--;
		n_connected--;
		n_closed++;
		c->state = C_CLOSED;
	} else {
		n_failed++;
		c->state = C_FAILED;
	}
	close_fd(c);
}

/* The server ended a stream that was connected. */
static void
client_closed(struct client *c, const char *why)
{
	if (c->state != C_BODY)
		return;
	if (opt_e && !c->done)
		n_waiting--;
	n_connected--;
	n_closed++;
	c->state = C_CLOSED;
	set_error(c, "client %d: %s after %" PRIu64 " events",
	    (int)(c - clients), why, c->events);
	close_fd(c);
}

/* ------------------------------------------------------------ SSE parser */

static void
event_dispatch(struct client *c)
{
	c->events++;
	events_total++;
	if (c->events == 1)
		c->first_ev = now_mono;
	c->last_ev = now_mono;
	if (!t_first_ev)
		t_first_ev = now_mono;
	t_last_ev = now_mono;
	if (c->ts >= 0)
		hist_add(now_real - c->ts);
	else
		untimed_events++;
	if (opt_e && c->events == opt_e) {
		c->done = 1;
		n_done++;
		n_waiting--;
	}
}

static void
line_done(struct client *c)
{
	size_t n = c->pfx_len;
	const char *p = c->pfx;
	if (c->line_len == 0) {
		if (c->has_data)
			event_dispatch(c);
		c->has_data = 0;
		c->ts = -1;
	} else if (p[0] != ':' && n >= 4 && memcmp(p, "data", 4) == 0 &&
	    (c->line_len == 4 || p[4] == ':')) {
		if (!c->has_data) {
			c->has_data = 1;
			c->ts = -1;
			size_t i = 5;
			if (i < n && p[i] == ' ')
				i++;
			/* An mqsub -j record: {"topic":"..","payload":"T=.. */
			if (i < n && p[i] == '{') {
				static const char key[] = "\"payload\":\"";
				const char *k =
				    memmem(p + i, n - i, key, sizeof key - 1);
				if (k != NULL)
					i = (size_t)(k - p) + sizeof key - 1;
			}
			if (i + 2 < n && p[i] == 'T' && p[i + 1] == '=' &&
			    isdigit((unsigned char)p[i + 2])) {
				int64_t v = 0;
				for (i += 2;
				     i < n && isdigit((unsigned char)p[i]); i++)
					v = v * 10 + (p[i] - '0');
				/* Not when the prefix cut the digits. */
				c->ts = i < n || c->line_len == n ? v : -1;
			}
		}
	}
	c->line_len = 0;
	c->pfx_len = 0;
}

static void
sse_feed(struct client *c, const char *p, size_t len)
{
	const char *e = p + len;
	while (p < e) {
		if (c->after_cr) {
			c->after_cr = 0;
			if (*p == '\n') {
				p++;
				continue;
			}
		}
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *lim = nl ? nl : e;
		const char *cr = memchr(p, '\r', (size_t)(lim - p));
		const char *eol = cr ? cr : nl;
		const char *seg_end = eol ? eol : e;
		size_t n = (size_t)(seg_end - p);
		if (c->pfx_len < PFX && n) {
			size_t k = PFX - c->pfx_len;
			if (k > n)
				k = n;
			memcpy(c->pfx + c->pfx_len, p, k);
			c->pfx_len = (uint8_t)(c->pfx_len + k);
		}
		c->line_len += n;
		if (!eol)
			break;
		line_done(c);
		if (eol == cr)
			c->after_cr = 1;
		p = eol + 1;
	}
}

/* --------------------------------------------------------- body framing */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Returns 0, or -1 if the client was closed (end of body or error). */
static int
body_feed(struct client *c, const char *p, size_t n)
{
	c->bytes += n;
	if (c->bmode == B_CLOSE) {
		sse_feed(c, p, n);
		return 0;
	}
	if (c->bmode == B_LENGTH) {
		size_t m = n < c->remaining ? n : (size_t)c->remaining;
		sse_feed(c, p, m);
		c->remaining -= m;
		if (c->remaining == 0) {
			client_closed(c, "body ended (Content-Length)");
			return -1;
		}
		return 0;
	}
	const char *e = p + n;
	while (p < e) {
		switch (c->ck) {
		case CK_SIZE: {
			int v = hexval((unsigned char)*p);
			if (v >= 0) {
				if (c->remaining >> 56) {
					client_fail(c,
					    "client %d: chunk size too large",
					    (int)(c - clients));
					return -1;
				}
				c->remaining = c->remaining * 16 + (uint64_t)v;
			} else if (*p == ';' || *p == ' ' || *p == '\t') {
				c->ck = CK_EXT;
			} else if (*p == '\r') {
				c->ck = CK_SIZE_LF;
			} else if (*p == '\n') {
				goto size_line_done;
			} else {
				client_fail(c,
				    "client %d: bad chunk size byte 0x%02x",
				    (int)(c - clients), (unsigned char)*p);
				return -1;
			}
			p++;
			break;
		}
		case CK_EXT:
		case CK_SIZE_LF: {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				return 0;
			p = nl;
		size_line_done:
			p++;
			if (c->remaining == 0) {
				c->ck = CK_TRAILER;
				c->line_len = 0;
			} else {
				c->ck = CK_DATA;
			}
			break;
		}
		case CK_DATA: {
			size_t m = (size_t)(e - p);
			if (m > c->remaining)
				m = (size_t)c->remaining;
			sse_feed(c, p, m);
			p += m;
			c->remaining -= m;
			if (c->remaining == 0)
				c->ck = CK_DATA_END;
			break;
		}
		case CK_DATA_END:
			if (*p == '\r') {
				p++;
			} else if (*p == '\n') {
				p++;
				c->ck = CK_SIZE;
				c->remaining = 0;
			} else {
				client_fail(c,
				    "client %d: no CRLF after a chunk",
				    (int)(c - clients));
				return -1;
			}
			break;
		case CK_TRAILER:
			/* Trailer lines until an empty one; line_len counts the
			 * bytes of the current line other than CR. */
			if (*p == '\n') {
				if (c->line_len == 0) {
					client_closed(
					    c, "stream ended (last chunk)");
					return -1;
				}
				c->line_len = 0;
			} else if (*p != '\r') {
				c->line_len++;
			}
			p++;
			break;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- headers */

static const char *
memmem_ci_line(const char *h, size_t n, const char *name, size_t *vlen)
{
	/* Finds header NAME (case-insensitive, at a line start) in h[0..n);
	 * returns its value (leading blanks skipped), length in *vlen. */
	size_t nl = strlen(name);
	const char *p = h, *e = h + n;
	while (p < e) {
		const char *eol = memchr(p, '\n', (size_t)(e - p));
		if (!eol)
			eol = e;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *v = p + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v &&
			    (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

static int
contains_ci(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

/* Headers complete in c->hdr[0..hlen); returns 0 if the stream is good. */
static int
parse_headers(struct client *c, size_t hlen)
{
	const char *h = c->hdr;
	int idx = (int)(c - clients);
	const char *sp = memchr(h, ' ', hlen);
	if (hlen < 12 || strncmp(h, "HTTP/1.", 7) != 0 || !sp) {
		client_fail(c, "client %d: not an HTTP/1.x response", idx);
		return -1;
	}
	int status = (int)strtol(sp + 1, NULL, 10);
	if (status != 200) {
		const char *eol = memchr(h, '\n', hlen);
		int l = eol ? (int)(eol - h) : (int)hlen;
		while (l > 0 && (h[l - 1] == '\r'))
			l--;
		client_fail(c, "client %d: %.*s", idx, l, h);
		return -1;
	}
	size_t vl;
	const char *v = memmem_ci_line(h, hlen, "Content-Type", &vl);
	if (!v || !contains_ci(v, vl, "text/event-stream")) {
		client_fail(c,
		    "client %d: Content-Type is %.*s, not text/event-stream",
		    idx, v ? (int)vl : 6, v ? v : "absent");
		return -1;
	}
	c->bmode = B_CLOSE;
	v = memmem_ci_line(h, hlen, "Transfer-Encoding", &vl);
	if (v && contains_ci(v, vl, "chunked")) {
		c->bmode = B_CHUNKED;
		c->ck = CK_SIZE;
		c->remaining = 0;
	} else if ((v = memmem_ci_line(h, hlen, "Content-Length", &vl))) {
		c->bmode = B_LENGTH;
		c->remaining = strtoull(v, NULL, 10);
	}
	return 0;
}

/* ------------------------------------------------------------- sockets */

static void
start_client(struct client *c)
{
	int idx = (int)(c - clients);
	n_started++;
	n_inflight++;
	c->state = C_CONNECTING;
	c->ts = -1;
	c->fd =
	    socket(addr_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		client_fail(c, "client %d: socket: %s", idx, strerror(errno));
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&addr, addrlen) < 0 &&
	    errno != EINPROGRESS) {
		client_fail(c, "client %d: connect: %s", idx, strerror(errno));
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		client_fail(
		    c, "client %d: epoll_ctl: %s", idx, strerror(errno));
		return;
	}
}

static void
on_writable(struct client *c)
{
	int idx = (int)(c - clients);
	if (c->sent == 0) {
		int err = 0;
		socklen_t l = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			client_fail(
			    c, "client %d: connect: %s", idx, strerror(err));
			return;
		}
	}
	while (c->sent < request_len) {
		ssize_t w = send(c->fd, request + c->sent,
		    request_len - c->sent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_fail(
			    c, "client %d: send: %s", idx, strerror(errno));
			return;
		}
		c->sent += (uint32_t)w;
	}
	c->state = C_HEADERS;
	c->hdr = malloc(HDR_MAX);
	if (!c->hdr)
		die("out of memory");
	c->hdr_len = 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static char rbuf[READ_BUF];

static void
on_readable(struct client *c)
{
	int idx = (int)(c - clients);
	ssize_t r = read(c->fd, rbuf, sizeof rbuf);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		const char *why =
		    r == 0 ? "closed by the server" : strerror(errno);
		if (c->state == C_HEADERS)
			client_fail(c,
			    "client %d: %s before the response headers", idx,
			    why);
		else
			client_closed(c, why);
		return;
	}
	now_real = real_us();
	now_mono = mono_us();
	bytes_total += (uint64_t)r;
	const char *p = rbuf;
	size_t n = (size_t)r;
	if (c->state == C_HEADERS) {
		size_t room = HDR_MAX - c->hdr_len;
		size_t k = n < room ? n : room;
		size_t old = c->hdr_len;
		memcpy(c->hdr + old, p, k);
		c->hdr_len += (uint32_t)k;
		/* Find the blank line ending the headers, starting a little
		 * before the new bytes. */
		size_t from = old > 3 ? old - 3 : 0, end = 0;
		for (size_t i = from; i < c->hdr_len; i++) {
			if (c->hdr[i] != '\n')
				continue;
			if (i >= 1 && c->hdr[i - 1] == '\n') {
				end = i + 1;
				break;
			}
			if (i >= 2 && c->hdr[i - 1] == '\r' &&
			    c->hdr[i - 2] == '\n') {
				end = i + 1;
				break;
			}
		}
		if (!end) {
			if (c->hdr_len == HDR_MAX)
				client_fail(c,
				    "client %d: response headers too large",
				    idx);
			return;
		}
		if (parse_headers(c, end) < 0)
			return;
		free(c->hdr);
		c->hdr = NULL;
		c->state = C_BODY;
		n_inflight--;
		n_connected++;
		n_ever_connected++;
		if (opt_e)
			n_waiting++;
		if (n_ever_connected == nclients && !t_all_connected) {
			t_all_connected = now_mono;
			if (!opt_q)
				fprintf(stderr,
				    "sseload: all %d clients connected in %.3f s\n",
				    nclients,
				    (double)(now_mono - t_start) / 1e6);
		}
		/* The body bytes that came with the headers. */
		size_t used = end - old;
		p += used;
		n -= used;
		c->bytes = 0;
		if (n == 0)
			return;
	}
	body_feed(c, p, n);
}

/* ------------------------------------------------------------------ URL */

static void
parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz,
    char *hosthdr, size_t hhsz, const char **path)
{
	if (strncasecmp(url, "http://", 7) != 0)
		die("URL must begin with http://: %s", url);
	const char *h = url + 7;
	const char *slash = strchr(h, '/');
	const char *hp_end = slash ? slash : h + strlen(h);
	*path = slash ? slash : "/";
	size_t hl = (size_t)(hp_end - h);
	if (hl == 0 || hl >= hhsz)
		die("bad host in URL: %s", url);
	memcpy(hosthdr, h, hl);
	hosthdr[hl] = 0;
	const char *pstart = NULL;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', hl);
		if (!rb)
			die("bad IPv6 literal in URL: %s", url);
		size_t l = (size_t)(rb - h - 1);
		if (l >= hostsz)
			die("host too long");
		memcpy(host, h + 1, l);
		host[l] = 0;
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

/* --------------------------------------------------------------- report */

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int
report(void)
{
	int64_t t_end = mono_us();
	uint64_t min_ev = UINT64_MAX, max_ev = 0;
	double min_rate = -1, max_rate = -1;
	int pending = 0;
	for (int i = 0; i < nclients; i++) {
		struct client *c = &clients[i];
		if (c->state == C_CONNECTING || c->state == C_HEADERS)
			pending++;
		if (c->state != C_BODY && c->state != C_CLOSED)
			continue;
		if (c->events < min_ev)
			min_ev = c->events;
		if (c->events > max_ev)
			max_ev = c->events;
		if (c->events >= 2 && c->last_ev > c->first_ev) {
			double rate = (double)(c->events - 1) /
			    ((double)(c->last_ev - c->first_ev) / 1e6);
			if (min_rate < 0 || rate < min_rate)
				min_rate = rate;
			if (rate > max_rate)
				max_rate = rate;
		}
	}
	if (min_ev == UINT64_MAX)
		min_ev = 0;
	double active =
	    t_last_ev > t_first_ev ? (double)(t_last_ev - t_first_ev) / 1e6 : 0;
	double evps = active > 0 ? (double)events_total / active : 0;
	double wall = (double)(t_end - t_start) / 1e6;
	double conn_s =
	    t_all_connected ? (double)(t_all_connected - t_start) / 1e6 : -1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu_user =
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	double cpu_sys =
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	double p50 = hist_quantile(0.50) / 1e3, p90 = hist_quantile(0.90) / 1e3,
	       p99 = hist_quantile(0.99) / 1e3,
	       p999 = hist_quantile(0.999) / 1e3, pmax = (double)hist_max / 1e3,
	       mean = hist_count ? hist_sum / (double)hist_count / 1e3 : 0;
	if (opt_j) {
		printf(
		    "{\"clients\":%d,\"connected\":%d,\"failed\":%d,\"pending\":%d,\"disconnected\":%d,"
		    "\"first_error\":",
		    nclients, n_ever_connected, n_failed, pending, n_closed);
		json_str(stdout, first_error);
		printf(
		    ",\"connect_s\":%.3f,\"wall_s\":%.3f,\"active_s\":%.3f,\"events\":%" PRIu64
		    ",\"events_per_s\":%.0f,\"min_events\":%" PRIu64
		    ",\"max_events\":%" PRIu64
		    ",\"min_client_rate\":%.1f,\"max_client_rate\":%.1f,\"timed_events\":%" PRIu64
		    ",\"untimed_events\":%" PRIu64
		    ",\"negative_latencies\":%" PRIu64
		    ",\"lat_p50_ms\":%.3f,\"lat_p90_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_p999_ms\":%.3f,"
		    "\"lat_max_ms\":%.3f,\"lat_mean_ms\":%.3f,\"bytes\":%" PRIu64
		    ",\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"max_rss_kb\":%ld}\n",
		    conn_s, wall, active, events_total, evps, min_ev, max_ev,
		    min_rate, max_rate, hist_count, untimed_events,
		    hist_negative, p50, p90, p99, p999, pmax, mean, bytes_total,
		    cpu_user, cpu_sys, ru.ru_maxrss);
	} else {
		printf("clients requested    %d\n", nclients);
		printf("connected            %d", n_ever_connected);
		if (conn_s >= 0)
			printf("  (all in %.3f s)", conn_s);
		printf("\nfailed               %d\n", n_failed);
		printf("pending at the end   %d\n", pending);
		printf("disconnected early   %d\n", n_closed);
		if (first_error[0])
			printf("first error          %s\n", first_error);
		printf("events total         %" PRIu64 "\n", events_total);
		printf(
		    "events/s             %.0f  (over %.3f s from first to last event; run %.3f s)\n",
		    evps, active, wall);
		printf("events per client    min %" PRIu64 "  max %" PRIu64
		       "\n",
		    min_ev, max_ev);
		if (min_rate >= 0)
			printf(
			    "client event rate    slowest %.1f/s  fastest %.1f/s\n",
			    min_rate, max_rate);
		printf("timed events         %" PRIu64 "  (untimed %" PRIu64
		       ", negative %" PRIu64 ")\n",
		    hist_count, untimed_events, hist_negative);
		printf(
		    "latency ms           p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f\n",
		    p50, p90, p99, p999, pmax, mean);
		printf("bytes received       %" PRIu64 "\n", bytes_total);
		printf(
		    "sseload CPU          user %.3f s  sys %.3f s  (max RSS %ld KiB)\n",
		    cpu_user, cpu_sys, ru.ru_maxrss);
	}
	fflush(stdout);
	int ok = n_failed == 0 && n_closed == 0 && n_ever_connected == nclients;
	if (opt_e && n_done < nclients)
		ok = 0;
	return ok ? 0 : 1;
}

/* ----------------------------------------------------------------- main */

static void
on_signal(int sig)
{
	stop_sig = sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sseload -n CLIENTS -u http://HOST:PORT/PATH [-d SECONDS] [-e EXPECTED_EVENTS]\n"
	    "               [-r RAMP_PER_SEC] [-c MAX_CONNECTING] [-q] [-j]\n");
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
	int ch;
	while ((ch = getopt(argc, argv, "n:u:d:e:r:c:qjh")) != -1) {
		switch (ch) {
		case 'n':
			opt_n = (int)num_arg(optarg, "-n");
			break;
		case 'u':
			opt_url = optarg;
			break;
		case 'd':
			opt_d = num_arg(optarg, "-d");
			break;
		case 'e':
			opt_e = (uint64_t)num_arg(optarg, "-e");
			break;
		case 'r':
			opt_r = num_arg(optarg, "-r");
			break;
		case 'c':
			opt_c = (int)num_arg(optarg, "-c");
			break;
		case 'q':
			opt_q = 1;
			break;
		case 'j':
			opt_j = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt_n <= 0 || !opt_url)
		usage();
	if (opt_c <= 0)
		opt_c = 1;

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (rlim_t)opt_n + 16 > rl.rlim_cur)
		fprintf(stderr,
		    "sseload: warning: %d clients but RLIMIT_NOFILE is %llu\n",
		    opt_n, (unsigned long long)rl.rlim_cur);

	char host[256], port[16], hosthdr[300];
	const char *path;
	parse_url(opt_url, host, sizeof host, port, sizeof port, hosthdr,
	    sizeof hosthdr, &path);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                    .ai_family = AF_UNSPEC},
	                *ai;
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai)
		die("%s: %s", host, gai_strerror(gai));
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	addrlen = ai->ai_addrlen;
	addr_family = ai->ai_family;
	freeaddrinfo(ai);
	int rl_len = snprintf(request, sizeof request,
	    "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n",
	    path, hosthdr);
	if (rl_len < 0 || (size_t)rl_len >= sizeof request)
		die("URL too long");
	request_len = (size_t)rl_len;

	nclients = opt_n;
	clients = calloc((size_t)nclients, sizeof *clients);
	if (!clients)
		die("out of memory");
	for (int i = 0; i < nclients; i++)
		clients[i].fd = -1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	t_start = mono_us();
	int64_t deadline = opt_d > 0 ? t_start + (int64_t)(opt_d * 1e6) : 0;
	int64_t next_progress = t_start + 1000000;
	uint64_t prog_events = 0;
	static struct epoll_event evs[1024];

	while (!stop_sig) {
		int64_t now = mono_us();
		/* Start connections: by the ramp, within the in-flight cap. */
		int64_t ramp_wait = -1;
		if (n_started < nclients) {
			int allowed = nclients;
			if (opt_r > 0) {
				double due =
				    (double)(now - t_start) / 1e6 * opt_r + 1;
				allowed = due < nclients ? (int)due : nclients;
				if (allowed < nclients)
					ramp_wait = t_start +
					    (int64_t)((double)allowed / opt_r *
					        1e6) -
					    now;
			}
			while (n_started < allowed && n_inflight < opt_c)
				start_client(&clients[n_started]);
		}
		if (deadline && now >= deadline)
			break;
		/* With -e: stop once no connected client waits for more. */
		if (opt_e && n_started == nclients && n_inflight == 0 &&
		    n_waiting == 0)
			break;
		/* Every client failed or was closed: nothing more can come. */
		if (n_started == nclients && n_inflight == 0 &&
		    n_connected == 0)
			break;
		if (!opt_q && now >= next_progress) {
			fprintf(stderr,
			    "sseload: %6.1fs connected %d/%d failed %d closed %d events %" PRIu64
			    " (%.0f/s)\n",
			    (double)(now - t_start) / 1e6, n_connected,
			    nclients, n_failed, n_closed, events_total,
			    (double)(events_total - prog_events) * 1e6 /
			        (double)(now - next_progress + 1000000));
			prog_events = events_total;
			next_progress = now + 1000000;
		}
		int64_t wait = next_progress - now;
		if (deadline && deadline - now < wait)
			wait = deadline - now;
		if (ramp_wait >= 0 && ramp_wait < wait)
			wait = ramp_wait;
		int timeout = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
		int n = epoll_wait(
		    ep, evs, (int)(sizeof evs / sizeof evs[0]), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (c->state == C_CONNECTING) {
				if (evs[i].events &
				    (EPOLLOUT | EPOLLERR | EPOLLHUP))
					on_writable(c);
			} else if (c->state == C_HEADERS ||
			    c->state == C_BODY) {
				if (evs[i].events &
				    (EPOLLIN | EPOLLERR | EPOLLHUP))
					on_readable(c);
			}
		}
	}
	int rc = report();
	/* RST instead of FIN: no TIME_WAIT left on the client ports. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	for (int i = 0; i < nclients; i++) {
		if (clients[i].fd >= 0) {
			setsockopt(clients[i].fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof lg);
			close(clients[i].fd);
		}
	}
	return rc;
}
