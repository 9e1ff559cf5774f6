#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/loop.h"
#include "common/mqtt.h"
#include "common/xalloc.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
/* Packets read per readiness event before giving other events a turn. */
#define READ_BURST 256
/*
 * Under load, wait this long (microseconds) before reading again, so that
 * the next wake-up finds many messages instead of one: fewer system calls
 * per message, and bigger batches downstream. An idle connection is read
 * at once, so a lone message is not delayed.
 */
#define COALESCE_US 1000

/*
 * The states of a session. CONNECTING means a helper thread owns the
 * mosquitto handle (it is inside the blocking mosquitto_connect*); the loop
 * thread does not touch the handle until the thread has reported back.
 */
enum state {
	S_IDLE,
	S_CONNECTING,
	S_HANDSHAKE, /* socket open, waiting for CONNACK */
	S_CONNECTED,
	S_WAITING, /* back-off before the next attempt */
	S_CLOSING, /* DISCONNECT queued */
	S_CLOSED,
	S_DEAD, /* gave up */
};

struct mqtt {
	struct event_base *base;
	const struct mqconn *c;
	struct mqtt_cbs cbs;
	void *arg;
	struct mosquitto *mosq;
	enum state state;
	int protocol;
	bool ever_connected;
	bool patient;   /* the first connection: retry for ever */
	bool retry_now; /* reconnect without back-off (fallback) */
	bool gave_up;   /* a refusal that retrying cannot fix */
	int receive_max;
	uint64_t backoff_ms;
	uint64_t reconnect_limit_ms;
	/*
	 * The events watch a duplicate of libmosquitto's socket, because
	 * libmosquitto closes its descriptor before we can delete the events;
	 * the duplicate keeps epoll's registration valid until we do.
	 */
	int evfd;
	struct event *rd, *wr; /* on the socket; NULL when there is none */
	struct event *misc, *retry, *deadline, *done, *defer, *coalesce;
	int pipefd[2];
	pthread_t thread;
	bool thread_running;
	int thread_rc, thread_errno;
	char last_error[256];
};

static void schedule_retry(struct mqtt *s);

static void
set_error(struct mqtt *s, int rc, int err)
{
	const char *what;

	if (rc == MOSQ_ERR_ERRNO)
		what = strerror(err);
	else if (rc == MOSQ_ERR_EAI)
		what = "cannot resolve the host name";
	else if (rc == MOSQ_ERR_TLS)
		what = "TLS handshake failed (certificate not trusted, or "
		       "not TLS?)";
	else
		what = mosquitto_strerror(rc);
	snprintf(s->last_error, sizeof(s->last_error), "%s", what);
}

static void
die(struct mqtt *s, int status)
{
	s->state = S_DEAD;
	if (s->rd != NULL)
		event_del(s->rd);
	if (s->wr != NULL)
		event_del(s->wr);
	event_del(s->misc);
	event_del(s->retry);
	event_del(s->deadline);
	s->cbs.fatal(s->arg, status);
}

static void
drop_socket_events(struct mqtt *s)
{
	if (s->rd != NULL) {
		event_free(s->rd);
		s->rd = NULL;
	}
	if (s->wr != NULL) {
		event_free(s->wr);
		s->wr = NULL;
	}
	if (s->evfd != -1) {
		close(s->evfd);
		s->evfd = -1;
	}
	event_del(s->misc);
	event_del(s->coalesce);
}

/* libmosquitto closed the socket: decide what comes next. */
static void
handle_gone(struct mqtt *s)
{
	enum state was = s->state;

	drop_socket_events(s);
	if (was == S_CLOSING) {
		s->state = S_CLOSED;
		s->cbs.closed(s->arg);
		return;
	}
	if (was == S_DEAD || was == S_CLOSED)
		return;
	if (s->gave_up) {
		die(s, EXIT_CONNECT);
		return;
	}
	if (was == S_CONNECTED) {
		diag_warn("connection to %s lost%s%s", mqconn_peer(s->c),
		    s->last_error[0] ? ": " : "", s->last_error);
		if (s->c->no_reconnect) {
			die(s, EXIT_RUNTIME);
			return;
		}
		if (s->cbs.lost != NULL)
			s->cbs.lost(s->arg);
		if (s->state == S_DEAD || s->state == S_CLOSED)
			return;
		if (s->reconnect_limit_ms > 0) {
			struct timeval tv = {
			    (time_t)(s->reconnect_limit_ms / 1000),
			    (suseconds_t)(s->reconnect_limit_ms % 1000) * 1000};

			evtimer_add(s->deadline, &tv);
		}
		s->backoff_ms = 0;
	}
	schedule_retry(s);
}

static void
on_connect_v5(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	struct mqtt *s = arg;
	uint16_t rm;

	if (rc == 0) {
		s->state = S_CONNECTED;
		s->ever_connected = true;
		s->backoff_ms = 0;
		s->last_error[0] = '\0';
		event_del(s->deadline);
		s->receive_max = 65535;
		if (mosquitto_property_read_int16(
		        props, MQTT_PROP_RECEIVE_MAXIMUM, &rm, false) != NULL)
			s->receive_max = rm;
		diag_debug(1, "connected to %s (MQTT %s)", mqconn_peer(s->c),
		    s->protocol == MQTT_PROTOCOL_V5         ? "5"
		        : s->protocol == MQTT_PROTOCOL_V311 ? "3.1.1"
		                                            : "3.1");
		s->cbs.connected(s->arg, (flags & 1) != 0);
		return;
	}
	if (s->c->protocol == 0 && s->protocol == MQTT_PROTOCOL_V5 &&
	    (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION || rc == 1)) {
		diag_debug(1, "%s does not speak MQTT 5: trying 3.1.1",
		    mqconn_peer(s->c));
		s->protocol = MQTT_PROTOCOL_V311;
		mosquitto_int_option(
		    m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
		s->retry_now = true;
	} else {
		diag_err("connect %s: %s", mqconn_peer(s->c),
		    s->protocol == MQTT_PROTOCOL_V5
		        ? mosquitto_reason_string(rc)
		        : mosquitto_connack_string(rc));
		s->gave_up = true;
	}
	/* Make libmosquitto drop the socket; handle_gone() follows. */
	mosquitto_disconnect(m);
}

static void
on_disconnect_v5(
    struct mosquitto *m, void *arg, int rc, const mosquitto_property *props)
{
	struct mqtt *s = arg;

	if (rc == MQTT_RC_SESSION_TAKEN_OVER && s->state == S_CONNECTED) {
		diag_err("%s: session taken over by another client with the "
		         "same id",
		    mqconn_peer(s->c));
		s->state = S_DEAD;
		die(s, EXIT_RUNTIME);
		return;
	}
	if (rc != 0 && s->last_error[0] == '\0') {
		if (rc >= 0x80)
			snprintf(s->last_error, sizeof(s->last_error),
			    "disconnected by the broker: %s",
			    mosquitto_reason_string(rc));
		else
			set_error(s, rc, errno);
	}
}

static void
on_message_v5(struct mosquitto *m, void *arg,
    const struct mosquitto_message *msg, const mosquitto_property *props)
{
	struct mqtt *s = arg;

	if (s->cbs.message != NULL && s->state != S_DEAD)
		s->cbs.message(s->arg, msg, props);
}

static void
on_publish_v5(struct mosquitto *m, void *arg, int mid, int reason,
    const mosquitto_property *props)
{
	struct mqtt *s = arg;

	if (s->cbs.published != NULL && s->state != S_DEAD)
		s->cbs.published(s->arg, mid, reason);
}

static void
on_subscribe_v5(struct mosquitto *m, void *arg, int mid, int count,
    const int *granted, const mosquitto_property *props)
{
	struct mqtt *s = arg;

	if (s->cbs.subscribed != NULL && s->state != S_DEAD)
		s->cbs.subscribed(s->arg, mid, count, granted);
}

static void
on_unsubscribe_v5(
    struct mosquitto *m, void *arg, int mid, const mosquitto_property *props)
{
	struct mqtt *s = arg;

	if (s->cbs.unsubscribed != NULL && s->state != S_DEAD)
		s->cbs.unsubscribed(s->arg, mid);
}

static void
on_log(struct mosquitto *m, void *arg, int level, const char *msg)
{
	/* As mosquitto_sub -d: the protocol's packets, one line each. */
	diag_debug(1, "%s", msg);
}

/* After any libmosquitto call: the socket may be gone or want writing. */
static void
after_io(struct mqtt *s, int rc)
{
	if (s->state == S_DEAD)
		return;
	if (mosquitto_socket(s->mosq) == -1) {
		if (rc != 0 && s->last_error[0] == '\0')
			set_error(s, rc, errno);
		handle_gone(s);
		return;
	}
	if (s->wr != NULL && mosquitto_want_write(s->mosq))
		event_add(s->wr, NULL);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;
	int rc = 0, i;

	/*
	 * libmosquitto reads at most a few packets per call; go on while
	 * data is there so a burst is taken in one readiness event.
	 */
	for (i = 0; i < READ_BURST; i++) {
		errno = 0;
		rc = mosquitto_loop_read(s->mosq, 1);
		if (rc != 0 || mosquitto_socket(s->mosq) == -1 ||
		    errno == EAGAIN || errno == EWOULDBLOCK ||
		    s->state == S_DEAD || s->state == S_CLOSED)
			break;
	}
	after_io(s, rc);
	if (i >= 2 && s->rd != NULL && s->state == S_CONNECTED) {
		/* Busy: let messages gather before the next read. */
		struct timeval tv = {0, COALESCE_US};

		event_del(s->rd);
		evtimer_add(s->coalesce, &tv);
	}
}

static void
on_coalesce(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;

	if (s->rd == NULL)
		return;
	event_add(s->rd, NULL);
	on_readable(s->evfd, EV_READ, s);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;
	int rc;

	errno = 0;
	rc = mosquitto_loop_write(s->mosq, 1);
	after_io(s, rc);
}

static void
on_misc(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;
	int rc;

	errno = 0;
	rc = mosquitto_loop_misc(s->mosq);
	after_io(s, rc);
}

static void *
connect_thread(void *arg)
{
	struct mqtt *s = arg;
	mosquitto_property *props = NULL;
	const struct mqconn *c = s->c;
	int rc;

	if (s->protocol == MQTT_PROTOCOL_V5 &&
	    (c->session_expiry >= 0 || !c->clean))
		mosquitto_property_add_int32(&props,
		    MQTT_PROP_SESSION_EXPIRY_INTERVAL,
		    c->session_expiry >= 0 ? (uint32_t)c->session_expiry
		                           : UINT32_MAX);
	errno = 0;
	if (c->unix_path != NULL)
		rc = mosquitto_connect_bind_v5(
		    s->mosq, c->unix_path, 0, c->keepalive, NULL, props);
	else
		rc = mosquitto_connect_bind_v5(
		    s->mosq, c->host, c->port, c->keepalive, NULL, props);
	s->thread_errno = errno;
	s->thread_rc = rc;
	mosquitto_property_free_all(&props);
	if (write(s->pipefd[1], "x", 1) != 1)
		abort(); /* a pipe of our own cannot fail here */
	return NULL;
}

static void
start_attempt(struct mqtt *s)
{
	s->state = S_CONNECTING;
	s->last_error[0] = '\0';
	diag_debug(1, "connecting to %s", mqconn_peer(s->c));
	if (pthread_create(&s->thread, NULL, connect_thread, s) != 0)
		diag_die(EXIT_RUNTIME, "cannot start a thread");
	s->thread_running = true;
}

static void
on_thread_done(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;
	static const struct timeval one_second = {1, 0};
	char x;
	int sock;

	if (read(fd, &x, 1) != 1)
		return;
	pthread_join(s->thread, NULL);
	s->thread_running = false;
	/* Given up, or mqtt_disconnect() came while connecting: ignore it. */
	if (s->state == S_DEAD || s->state == S_CLOSING || s->state == S_CLOSED)
		return;
	if (s->thread_rc != MOSQ_ERR_SUCCESS) {
		set_error(s, s->thread_rc, s->thread_errno);
		diag_debug(
		    1, "connect %s: %s", mqconn_peer(s->c), s->last_error);
		if (s->thread_rc == MOSQ_ERR_TLS) {
			/* A certificate problem will not go away. */
			diag_err(
			    "connect %s: %s", mqconn_peer(s->c), s->last_error);
			die(s, EXIT_CONNECT);
			return;
		}
		s->state = S_WAITING;
		schedule_retry(s);
		return;
	}
	sock = dup(mosquitto_socket(s->mosq));
	if (sock == -1)
		diag_die(EXIT_RUNTIME, "dup: %s", strerror(errno));
	s->evfd = sock;
	s->state = S_HANDSHAKE;
	s->rd = event_new(s->base, sock, EV_READ | EV_PERSIST, on_readable, s);
	s->wr = event_new(s->base, sock, EV_WRITE, on_writable, s);
	if (s->rd == NULL || s->wr == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	event_add(s->rd, NULL);
	evtimer_add(s->misc, &one_second);
	after_io(s, 0);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	start_attempt(arg);
}

static void
schedule_retry(struct mqtt *s)
{
	struct timeval tv;
	uint64_t ms;

	s->state = S_WAITING;
	if (s->retry_now) {
		s->retry_now = false;
		ms = 0;
	} else {
		/* 1 s doubling to 30 s, each delay between 1/2 and 1 of it. */
		s->backoff_ms =
		    s->backoff_ms == 0 ? BACKOFF_FIRST_MS : s->backoff_ms * 2;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		ms = s->backoff_ms / 2 +
		    (uint64_t)random() % (s->backoff_ms / 2 + 1);
		diag_debug(
		    1, "reconnecting in %llu ms", (unsigned long long)ms);
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(s->retry, &tv);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;

	if (s->state == S_CLOSING) {
		/* DISCONNECT did not go out in time: close anyway. */
		drop_socket_events(s);
		s->state = S_CLOSED;
		s->cbs.closed(s->arg);
		return;
	}
	if (s->state == S_CONNECTED || s->state == S_DEAD ||
	    s->state == S_CLOSED)
		return;
	if (s->ever_connected) {
		diag_err("could not reconnect to %s%s%s", mqconn_peer(s->c),
		    s->last_error[0] ? ": " : "", s->last_error);
	} else if (s->patient) {
		/* A server keeps serving and keeps trying: say so once. */
		diag_err("connect %s: %s; still trying", mqconn_peer(s->c),
		    s->last_error[0] ? s->last_error : "timed out");
		return;
	} else {
		diag_err("connect %s: %s", mqconn_peer(s->c),
		    s->last_error[0] ? s->last_error : "timed out");
	}
	die(s, EXIT_CONNECT);
}

static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt *s = arg;

	s->state = S_CLOSED;
	s->cbs.closed(s->arg);
}

static void
configure(struct mqtt *s)
{
	const struct mqconn *c = s->c;
	int rc = 0;

	mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, s->protocol);
	mosquitto_int_option(s->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	/*
	 * Messages are acknowledged as they arrive (the tools never stop
	 * reading), so let the broker send as many as MQTT allows at once;
	 * libmosquitto's default of 20 makes a fast QoS 2 stream a protocol
	 * error.
	 */
	mosquitto_int_option(s->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
	if (c->username != NULL)
		rc = mosquitto_username_pw_set(
		    s->mosq, c->username, c->password);
	if (rc == 0 && c->tls) {
		if (c->cafile == NULL && c->capath == NULL)
			mosquitto_int_option(
			    s->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (c->cafile != NULL || c->capath != NULL || c->cert != NULL)
			rc = mosquitto_tls_set(s->mosq, c->cafile, c->capath,
			    c->cert, c->key, NULL);
		if (rc == 0 && c->insecure)
			rc = mosquitto_tls_insecure_set(s->mosq, true);
		if (rc != 0)
			diag_die(EXIT_USAGE, "TLS setup: %s%s",
			    mosquitto_strerror(rc),
			    rc == MOSQ_ERR_INVAL
			        ? " (check --cafile, --capath, --cert, --key)"
			        : "");
	}
	if (rc == 0 && c->will_topic != NULL) {
		const char *p = c->will_payload ? c->will_payload : "";

		rc = mosquitto_will_set(s->mosq, c->will_topic, (int)strlen(p),
		    p, c->will_qos, c->will_retain);
	}
	if (rc != 0)
		diag_die(EXIT_USAGE, "MQTT setup: %s", mosquitto_strerror(rc));
	mosquitto_connect_v5_callback_set(s->mosq, on_connect_v5);
	mosquitto_disconnect_v5_callback_set(s->mosq, on_disconnect_v5);
	mosquitto_message_v5_callback_set(s->mosq, on_message_v5);
	mosquitto_publish_v5_callback_set(s->mosq, on_publish_v5);
	mosquitto_subscribe_v5_callback_set(s->mosq, on_subscribe_v5);
	mosquitto_unsubscribe_v5_callback_set(s->mosq, on_unsubscribe_v5);
	if (c->debug > 0)
		mosquitto_log_callback_set(s->mosq, on_log);
}

struct mqtt *
mqtt_new(struct event_base *base, const struct mqconn *c,
    const struct mqtt_cbs *cbs, void *arg)
{
	struct mqtt *s = xcalloc(1, sizeof(*s));

	mosquitto_lib_init();
	s->base = base;
	s->c = c;
	s->cbs = *cbs;
	s->arg = arg;
	s->protocol = c->protocol == 0 ? MQTT_PROTOCOL_V5 : c->protocol;
	s->receive_max = 65535;
	s->evfd = -1;
	s->mosq = mosquitto_new(c->id, c->clean, s);
	if (s->mosq == NULL)
		diag_die(EXIT_RUNTIME, "cannot create the MQTT client: %s",
		    strerror(errno));
	configure(s);
	if (pipe(s->pipefd) == -1)
		diag_die(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	s->done = event_new(
	    base, s->pipefd[0], EV_READ | EV_PERSIST, on_thread_done, s);
	s->misc = event_new(base, -1, EV_PERSIST, on_misc, s);
	s->retry = evtimer_new(base, on_retry, s);
	s->deadline = evtimer_new(base, on_deadline, s);
	s->defer = evtimer_new(base, on_defer, s);
	s->coalesce = evtimer_new(base, on_coalesce, s);
	if (s->done == NULL || s->misc == NULL || s->retry == NULL ||
	    s->deadline == NULL || s->defer == NULL || s->coalesce == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	event_add(s->done, NULL);
	return s;
}

void
mqtt_start(struct mqtt *s)
{
	uint64_t ms = s->c->connect_timeout_ms;
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(s->deadline, &tv);
	start_attempt(s);
}

void
mqtt_set_patient(struct mqtt *s)
{
	s->patient = true;
}

void
mqtt_set_reconnect_limit(struct mqtt *s, uint64_t ms)
{
	s->reconnect_limit_ms = ms;
}

int
mqtt_receive_maximum(const struct mqtt *s)
{
	return s->receive_max;
}

int
mqtt_protocol(const struct mqtt *s)
{
	return s->protocol;
}

bool
mqtt_connected(const struct mqtt *s)
{
	return s->state == S_CONNECTED;
}

struct mosquitto *
mqtt_mosq(struct mqtt *s)
{
	return s->mosq;
}

void
mqtt_kick(struct mqtt *s)
{
	if (s->wr != NULL && s->state != S_DEAD &&
	    mosquitto_want_write(s->mosq))
		event_add(s->wr, NULL);
}

void
mqtt_disconnect(struct mqtt *s)
{
	static const struct timeval zero = {0, 0};

	switch (s->state) {
	case S_CONNECTED:
	case S_HANDSHAKE:
		s->state = S_CLOSING;
		event_del(s->deadline);
		if (mosquitto_disconnect(s->mosq) == MOSQ_ERR_SUCCESS &&
		    mosquitto_socket(s->mosq) != -1) {
			struct timeval two = {2, 0};

			evtimer_add(s->deadline, &two);
			mqtt_kick(s);
			return;
		}
		drop_socket_events(s);
		evtimer_add(s->defer, &zero);
		return;
	case S_CONNECTING:
		/*
		 * The thread owns the handle and may stay blocked in connect()
		 * for minutes: do not wait for it (mqtt_free leaves it be).
		 */
		s->state = S_CLOSING;
		event_del(s->deadline);
		evtimer_add(s->defer, &zero);
		return;
	case S_CLOSING:
		return;
	default:
		event_del(s->retry);
		event_del(s->deadline);
		s->state = S_CLOSING;
		evtimer_add(s->defer, &zero);
		return;
	}
}

void
mqtt_free(struct mqtt *s)
{
	if (s == NULL)
		return;
	drop_socket_events(s);
	event_free(s->done);
	event_free(s->misc);
	event_free(s->retry);
	event_free(s->deadline);
	event_free(s->defer);
	event_free(s->coalesce);
	if (s->thread_running) {
		/* Blocked in connect(): leave it to process exit. */
		pthread_detach(s->thread);
		return;
	}
	close(s->pipefd[0]);
	close(s->pipefd[1]);
	mosquitto_destroy(s->mosq);
	free(s);
}
