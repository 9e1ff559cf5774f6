/*
 * The event loop every long-running tool shares: a libevent base with two
 * priorities (0 for I/O, 1 for work done when the loop is otherwise idle,
 * such as flushing stdout) and SIGINT/SIGTERM/SIGHUP as events.
 */
#ifndef MQSSE_LOOP_H
#define MQSSE_LOOP_H

#include <stdint.h>
#include <stdnoreturn.h>

#include <event2/event.h>

#define LOOP_PRIO_IO 0
#define LOOP_PRIO_IDLE 1

/* A new base with the priorities above. Exits 1 when libevent fails. */
struct event_base *loop_new(void);

/*
 * Call CB(SIGNO, ARG) from the loop when SIGINT or SIGTERM arrives, and
 * ignore SIGPIPE. Returns the events, to be freed with loop_signals_free.
 */
struct loop_signals;
struct loop_signals *loop_signals_new(
    struct event_base *base, void (*cb)(int signo, void *arg), void *arg);
void loop_signals_free(struct loop_signals *s);

/*
 * After a clean shutdown caused by signal SIGNO, die by that signal so that
 * the shell sees 128+SIGNO (as cat and curl do). Does not return.
 */
noreturn void loop_reraise(int signo);

/* Milliseconds, and microseconds, on the monotonic clock. */
uint64_t loop_now_ms(void);
uint64_t loop_now_us(void);

#endif
