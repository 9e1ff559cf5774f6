#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/loop.h"
#include "common/xalloc.h"

struct loop_signals {
	struct event *ev[2];
	void (*cb)(int, void *);
	void *arg;
	int last_signo;
	uint64_t last_ms;
};

/*
 * The same signal again within this many milliseconds is one delivery made
 * twice: timeout(1) sends SIGTERM to its child and then to the child's
 * process group. A real second signal (a second Ctrl-C) comes later.
 */
#define LOOP_SIGNAL_REPEAT_MS 200

/* libevent's own warnings are for debugging, not for users. */
static void
on_libevent_log(int severity, const char *msg)
{
	diag_debug(1, "libevent: %s", msg);
}

struct event_base *
loop_new(void)
{
	struct event_base *base;

	event_set_log_callback(on_libevent_log);
	base = event_base_new();

	if (base == NULL || event_base_priority_init(base, 2) == -1)
		diag_die(EXIT_RUNTIME, "cannot create the event loop");
	return base;
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct loop_signals *s = arg;
	uint64_t now = loop_now_ms();

	if ((int)fd == s->last_signo &&
	    now - s->last_ms < LOOP_SIGNAL_REPEAT_MS)
		return;
	s->last_signo = (int)fd;
	s->last_ms = now;
	s->cb((int)fd, s->arg);
}

struct loop_signals *
loop_signals_new(struct event_base *base, void (*cb)(int, void *), void *arg)
{
	static const int signos[2] = {SIGINT, SIGTERM};
	struct loop_signals *s = xcalloc(1, sizeof(*s));

	signal(SIGPIPE, SIG_IGN);
	s->cb = cb;
	s->arg = arg;
	for (int i = 0; i < 2; i++) {
		s->ev[i] = evsignal_new(base, signos[i], on_signal, s);
		if (s->ev[i] == NULL || event_add(s->ev[i], NULL) == -1)
			diag_die(EXIT_RUNTIME, "cannot watch signals");
	}
	return s;
}

void
loop_signals_free(struct loop_signals *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (s->ev[i] != NULL)
			event_free(s->ev[i]);
	free(s);
}

void
loop_reraise(int signo)
{
	sigset_t set;

	signal(signo, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	_exit(128 + signo);
}

uint64_t
loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
loop_now_ms(void)
{
	return loop_now_us() / 1000;
}
