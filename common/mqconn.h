/*
 * The MQTT connection options shared by mqpub, mqsub and mq2sse (SPEC
 * section 2): the getopt table entries, their parsing, the environment,
 * -L URLs, and the checks that run before any network activity.
 */
#ifndef MQSSE_MQCONN_H
#define MQSSE_MQCONN_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mqconn {
	char *host; /* NULL until finished: then never NULL */
	int port;   /* 0: not given */
	char *unix_path;
	char *username, *password;
	char *id, *id_prefix;
	int keepalive;
	int protocol; /* 0: 5 with fallback; else 3, 4 or 5 */
	int qos;      /* -1: not given */
	bool clean;
	int64_t session_expiry; /* -1: not given */
	bool tls, tls_os_certs, insecure;
	char *cafile, *capath, *cert, *key;
	char *will_topic, *will_payload;
	int will_qos;
	bool will_retain;
	uint64_t connect_timeout_ms;
	bool no_reconnect;
	int debug;
	bool quiet;
	char *url_path; /* the topic or filter of -L, or NULL */
	bool url_tls;
};

/* Long-only option codes; tools number their own from MQCONN_OPT_END. */
enum {
	MQCONN_OPT_TLS = CHAR_MAX + 1,
	MQCONN_OPT_TLS_OS,
	MQCONN_OPT_UNIX,
	MQCONN_OPT_CAFILE,
	MQCONN_OPT_CAPATH,
	MQCONN_OPT_CERT,
	MQCONN_OPT_KEY,
	MQCONN_OPT_INSECURE,
	MQCONN_OPT_WILL_TOPIC,
	MQCONN_OPT_WILL_PAYLOAD,
	MQCONN_OPT_WILL_QOS,
	MQCONN_OPT_WILL_RETAIN,
	MQCONN_OPT_CONNECT_TIMEOUT,
	MQCONN_OPT_NO_RECONNECT,
	MQCONN_OPT_QUIET,
	MQCONN_OPT_END
};

/* The short options (to start a tool's optstring). */
#define MQCONN_SHORTOPTS "cdh:i:I:k:L:p:P:q:u:V:x:"

/* The long options, to splice into a tool's struct option array. */
#define MQCONN_LONGOPTS                                                        \
	{"host", required_argument, NULL, 'h'},                                \
	    {"port", required_argument, NULL, 'p'},                            \
	    {"url", required_argument, NULL, 'L'},                             \
	    {"username", required_argument, NULL, 'u'},                        \
	    {"password", required_argument, NULL, 'P'},                        \
	    {"id", required_argument, NULL, 'i'},                              \
	    {"id-prefix", required_argument, NULL, 'I'},                       \
	    {"keepalive", required_argument, NULL, 'k'},                       \
	    {"protocol", required_argument, NULL, 'V'},                        \
	    {"qos", required_argument, NULL, 'q'},                             \
	    {"no-clean-session", no_argument, NULL, 'c'},                      \
	    {"session-expiry", required_argument, NULL, 'x'},                  \
	    {"debug", no_argument, NULL, 'd'},                                 \
	    {"tls", no_argument, NULL, MQCONN_OPT_TLS},                        \
	    {"tls-use-os-certs", no_argument, NULL, MQCONN_OPT_TLS_OS},        \
	    {"unix", required_argument, NULL, MQCONN_OPT_UNIX},                \
	    {"cafile", required_argument, NULL, MQCONN_OPT_CAFILE},            \
	    {"capath", required_argument, NULL, MQCONN_OPT_CAPATH},            \
	    {"cert", required_argument, NULL, MQCONN_OPT_CERT},                \
	    {"key", required_argument, NULL, MQCONN_OPT_KEY},                  \
	    {"insecure", no_argument, NULL, MQCONN_OPT_INSECURE},              \
	    {"will-topic", required_argument, NULL, MQCONN_OPT_WILL_TOPIC},    \
	    {"will-payload", required_argument, NULL,                          \
	        MQCONN_OPT_WILL_PAYLOAD},                                      \
	    {"will-qos", required_argument, NULL, MQCONN_OPT_WILL_QOS},        \
	    {"will-retain", no_argument, NULL, MQCONN_OPT_WILL_RETAIN},        \
	    {"connect-timeout", required_argument, NULL,                       \
	        MQCONN_OPT_CONNECT_TIMEOUT},                                   \
	    {"no-reconnect", no_argument, NULL, MQCONN_OPT_NO_RECONNECT},      \
	{                                                                      \
		"quiet", no_argument, NULL, MQCONN_OPT_QUIET                   \
	}

/* Defaults: nothing given yet. */
void mqconn_init(struct mqconn *c);
void mqconn_cleanup(struct mqconn *c);
/* Handle option C with ARG; true when it was an MQTT option. Exits 2 on a bad value. */
bool mqconn_option(struct mqconn *c, int opt, const char *arg);
/*
 * Parse an mqtt:// or mqtts:// URL into C (host, port, user, password,
 * TLS, path). Returns 0, or -1 with a reason in ERR.
 */
int mqconn_parse_url(
    struct mqconn *c, const char *url, char *err, size_t errlen);
/*
 * Apply the environment and the defaults, then check the combination;
 * exits 2 with a message when it is wrong. DEFAULT_QOS applies when -q was
 * not given.
 */
void mqconn_finish(struct mqconn *c, int default_qos);
/* "HOST:PORT" or the socket path, for messages. */
const char *mqconn_peer(const struct mqconn *c);
/* The --help lines of the shared options. */
void mqconn_usage(FILE *fp);

#endif
