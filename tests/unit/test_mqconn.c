/*
 * common/mqconn.c: -L URLs, the environment and defaults applied by
 * mqconn_finish, its usage errors (exit 2, run in a child process with
 * stderr captured), and mqconn_peer.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/tap.h"
#include "common/diag.h"
#include "common/mqconn.h"

struct url_case {
	const char *url;
	const char *err; /* NULL: must parse; else a substring of ERR */
	const char *host;
	int port;
	const char *user, *pass;
	bool tls;
	const char *path;
};

#define BADURL(u, why)                                                         \
	{                                                                      \
		u, why, NULL, 0, NULL, NULL, false, NULL                       \
	}

static const struct url_case url_cases[] = {
    {"mqtt://host", NULL, "host", 0, NULL, NULL, false, NULL},
    {"mqtt://host:1884", NULL, "host", 1884, NULL, NULL, false, NULL},
    {"mqtt://host/", NULL, "host", 0, NULL, NULL, false, NULL},
    {"mqtt://h:1", NULL, "h", 1, NULL, NULL, false, NULL},
    {"mqtt://h:65535", NULL, "h", 65535, NULL, NULL, false, NULL},
    {"mqtt://h:01883", NULL, "h", 1883, NULL, NULL, false, NULL},
    {"mqtts://host", NULL, "host", 0, NULL, NULL, true, NULL},
    {"mqtts://u:p@host/a/b", NULL, "host", 0, "u", "p", true, "a/b"},
    {"mqtt://u@host:1", NULL, "host", 1, "u", NULL, false, NULL},
    {"mqtt://u:@host", NULL, "host", 0, "u", "", false, NULL},
    {"mqtt://u:p:q@host", NULL, "host", 0, "u", "p:q", false, NULL},
    {"mqtt://us%40er:p%3Ass%2Fw%40@host/t%2Fx%23", NULL, "host", 0, "us@er",
        "p:ss/w@", false, "t/x#"},
    {"mqtt://a@b@host", NULL, "host", 0, "a@b", NULL, false, NULL},
    {"mqtt://host/a+b/#", NULL, "host", 0, NULL, NULL, false, "a+b/#"},
    {"mqtt://host/%2B/%23", NULL, "host", 0, NULL, NULL, false, "+/#"},
    {"mqtt://host/%E2%82%AC", NULL, "host", 0, NULL, NULL, false,
        "\xe2\x82\xac"},
    {"mqtt://host//a", NULL, "host", 0, NULL, NULL, false, "/a"},
    {"mqtt://host/a@b", NULL, "host", 0, NULL, NULL, false, "a@b"},
    {"mqtt://[::1]:1883/t", NULL, "::1", 1883, NULL, NULL, false, "t"},
    {"mqtt://[::1]", NULL, "::1", 0, NULL, NULL, false, NULL},
    {"mqtts://u:p@[2001:db8::2]:8884/x", NULL, "2001:db8::2", 8884, "u", "p",
        true, "x"},
    {"mqtt://192.0.2.1:1", NULL, "192.0.2.1", 1, NULL, NULL, false, NULL},
    BADURL("http://x", "'http://x': the scheme must be mqtt:// or mqtts://"),
    BADURL("mqtt:/x", "the scheme must be mqtt:// or mqtts://"),
    BADURL("x", "the scheme must be"),
    BADURL("", "the scheme must be"),
    BADURL("mqtt://", "'mqtt://': no host"),
    BADURL("mqtt://:1883", "no host"),
    BADURL("mqtt:///topic", "no host"),
    BADURL("mqtt://u:p@", "no host"),
    BADURL("mqtt://u:p@:1883/t", "no host"),
    BADURL("mqtt://[]:1883", "no host"),
    BADURL("mqtt://h:0", "'mqtt://h:0': invalid port"),
    BADURL("mqtt://h:65536", "invalid port"),
    BADURL("mqtt://h:x", "invalid port"),
    BADURL("mqtt://h:", "invalid port"),
    BADURL("mqtt://h:/t", "invalid port"),
    BADURL("mqtt://h:-1", "invalid port"),
    BADURL("mqtt://h:1883x", "invalid port"),
    BADURL("mqtt://h:99999999", "invalid port"),
    BADURL("mqtt://h:1:2", "invalid port"),
    BADURL("mqtt://[::1", "'mqtt://[::1': malformed URL"),
    BADURL("mqtt://[::1]x", "malformed URL"),
    BADURL("mqtt://[::1]:0", "invalid port"),
    BADURL("mqtt://h/a%00b", "malformed URL"),
    BADURL("mqtt://u%00:p@h", "malformed URL"),
    BADURL("mqtt://u:p%00@h", "malformed URL"),
};

static bool
same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void
test_urls(void)
{
	char err[256], name[300];
	size_t i;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *u = &url_cases[i];
		struct mqconn c;
		int rc;

		mqconn_init(&c);
		err[0] = '\0';
		rc = mqconn_parse_url(&c, u->url, err, sizeof(err));
		if (u->err != NULL) {
			snprintf(
			    name, sizeof(name), "url '%s' is refused", u->url);
			is_int(rc, -1, name);
			snprintf(name, sizeof(name),
			    "url '%s': reason has '%s'", u->url, u->err);
			if (!ok(strstr(err, u->err) != NULL, name))
				printf("#   reason: %s\n", err);
			snprintf(name, sizeof(name), "url '%s': conn untouched",
			    u->url);
			ok(c.host == NULL && c.port == 0 &&
			        c.username == NULL && c.password == NULL &&
			        !c.tls && c.url_path == NULL,
			    name);
			mqconn_cleanup(&c);
			continue;
		}
		snprintf(name, sizeof(name), "url '%s' parses", u->url);
		if (!is_int(rc, 0, name))
			printf("#   reason: %s\n", err);
		snprintf(name, sizeof(name), "url '%s': host", u->url);
		is_str(c.host, u->host, name);
		snprintf(name, sizeof(name), "url '%s': port", u->url);
		is_int(c.port, u->port, name);
		snprintf(
		    name, sizeof(name), "url '%s': user and password", u->url);
		if (!ok(same(c.username, u->user) && same(c.password, u->pass),
		        name))
			printf("#   got user '%s', password '%s'\n",
			    c.username ? c.username : "(null)",
			    c.password ? c.password : "(null)");
		snprintf(name, sizeof(name), "url '%s': tls", u->url);
		ok(c.tls == u->tls && c.url_tls == u->tls, name);
		snprintf(name, sizeof(name), "url '%s': path", u->url);
		is_str(c.url_path, u->path, name);
		mqconn_cleanup(&c);
	}
}

/* A URL replaces what it names and keeps the rest. */
static void
test_url_merge(void)
{
	char err[256];
	struct mqconn c;

	mqconn_init(&c);
	mqconn_option(&c, 'u', "optuser");
	mqconn_option(&c, 'P', "optpass");
	mqconn_option(&c, 'p', "1999");
	is_int(mqconn_parse_url(&c, "mqtt://h1/t1", err, sizeof(err)), 0,
	    "merge: a first URL");
	is_str(c.username, "optuser", "merge: a URL without user keeps -u");
	is_str(c.password, "optpass", "merge: and -P");
	is_int(c.port, 1999, "merge: a URL without port keeps -p");
	is_int(mqconn_parse_url(&c, "mqtt://x:y@h2:2000", err, sizeof(err)), 0,
	    "merge: a second URL");
	is_str(c.host, "h2", "merge: the last host wins");
	is_str(c.username, "x", "merge: the URL user replaces -u");
	is_int(c.port, 2000, "merge: the URL port replaces -p");
	is_str(c.url_path, NULL, "merge: no path clears the earlier one");
	is_int(mqconn_parse_url(&c, "mqtt://h3:bad", err, sizeof(err)), -1,
	    "merge: a bad URL");
	is_str(c.host, "h2", "merge: a bad URL changes nothing");
	mqconn_cleanup(&c);
}

static const char *const env_names[] = {
    "MQTT_HOST", "MQTT_PORT", "MQTT_USERNAME", "MQTT_PASSWORD"};

/* Clear the four variables, then set each "NAME=value" of ENV. */
static void
apply_env(const char *const *env)
{
	for (size_t i = 0; i < 4; i++)
		unsetenv(env_names[i]);
	for (; env != NULL && *env != NULL; env++) {
		const char *eq = strchr(*env, '=');
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
		setenv(name, eq + 1, 1);
	}
}

struct opt {
	int opt;
	const char *arg;
};

struct finish_case {
	const char *name;
	const char *env[5];
	struct opt opts[5];
	const char *host;
	int port;
	const char *user, *pass;
	bool tls;
	int qos;
};

static const struct finish_case finish_cases[] = {
    {.name = "defaults", .host = "localhost", .port = 1883, .qos = 0},
    {.name = "tls",
        .opts = {{MQCONN_OPT_TLS, NULL}},
        .host = "localhost",
        .port = 8883,
        .tls = true},
    {.name = "tls-use-os-certs",
        .opts = {{MQCONN_OPT_TLS_OS, NULL}},
        .host = "localhost",
        .port = 8883,
        .tls = true},
    {.name = "cafile implies tls",
        .opts = {{MQCONN_OPT_CAFILE, "/x/ca.pem"}},
        .host = "localhost",
        .port = 8883,
        .tls = true},
    {.name = "capath implies tls",
        .opts = {{MQCONN_OPT_CAPATH, "/x"}},
        .host = "localhost",
        .port = 8883,
        .tls = true},
    {.name = "mqtts URL",
        .opts = {{'L', "mqtts://b.example"}},
        .host = "b.example",
        .port = 8883,
        .tls = true},
    {.name = "tls with a port",
        .opts = {{MQCONN_OPT_TLS, NULL}, {'p', "1884"}},
        .host = "localhost",
        .port = 1884,
        .tls = true},
    {.name = "-q",
        .opts = {{'q', "2"}},
        .host = "localhost",
        .port = 1883,
        .qos = 2},
    {.name = "environment",
        .env = {"MQTT_HOST=envhost", "MQTT_PORT=1999", "MQTT_USERNAME=eu",
            "MQTT_PASSWORD=ep"},
        .host = "envhost",
        .port = 1999,
        .user = "eu",
        .pass = "ep"},
    {.name = "options win over the environment",
        .env = {"MQTT_HOST=envhost", "MQTT_PORT=1999", "MQTT_USERNAME=eu",
            "MQTT_PASSWORD=ep"},
        .opts = {{'h', "opthost"}, {'p', "2000"}, {'u', "ou"}, {'P', "op"}},
        .host = "opthost",
        .port = 2000,
        .user = "ou",
        .pass = "op"},
    {.name = "a URL wins over the environment",
        .env = {"MQTT_HOST=envhost", "MQTT_PORT=1999", "MQTT_USERNAME=eu",
            "MQTT_PASSWORD=ep"},
        .opts = {{'L', "mqtt://uu:pp@urlhost:2001/t"}},
        .host = "urlhost",
        .port = 2001,
        .user = "uu",
        .pass = "pp"},
    {.name = "env fills what the options leave",
        .env = {"MQTT_HOST=envhost", "MQTT_PORT=1999", "MQTT_USERNAME=eu",
            "MQTT_PASSWORD=ep"},
        .opts = {{'h', "opthost"}, {'u', "ou"}},
        .host = "opthost",
        .port = 1999,
        .user = "ou",
        .pass = "ep"},
    {.name = "empty MQTT_HOST and MQTT_PORT are ignored",
        .env = {"MQTT_HOST=", "MQTT_PORT="},
        .host = "localhost",
        .port = 1883},
    {.name = "env port with tls",
        .env = {"MQTT_PORT=1999"},
        .opts = {{MQCONN_OPT_TLS, NULL}},
        .host = "localhost",
        .port = 1999,
        .tls = true},
    {.name = "env user without password",
        .env = {"MQTT_USERNAME=eu"},
        .host = "localhost",
        .port = 1883,
        .user = "eu"},
    {.name = "cert and key imply tls",
        .opts = {{MQCONN_OPT_CERT, "c.pem"}, {MQCONN_OPT_KEY, "k.pem"}},
        .host = "localhost",
        .port = 8883,
        .tls = true},
};

static void
test_finish(void)
{
	char name[300];
	size_t i;

	for (i = 0; i < sizeof(finish_cases) / sizeof(finish_cases[0]); i++) {
		const struct finish_case *f = &finish_cases[i];
		struct mqconn c;

		apply_env(f->env);
		mqconn_init(&c);
		for (size_t k = 0; k < 5 && f->opts[k].opt != 0; k++)
			mqconn_option(&c, f->opts[k].opt, f->opts[k].arg);
		mqconn_finish(&c, f->qos == 2 ? 0 : f->qos);
		snprintf(name, sizeof(name), "finish, %s: host", f->name);
		is_str(c.host, f->host, name);
		snprintf(name, sizeof(name), "finish, %s: port", f->name);
		is_int(c.port, f->port, name);
		snprintf(name, sizeof(name), "finish, %s: user and password",
		    f->name);
		if (!ok(same(c.username, f->user) && same(c.password, f->pass),
		        name))
			printf("#   got user '%s', password '%s'\n",
			    c.username ? c.username : "(null)",
			    c.password ? c.password : "(null)");
		snprintf(name, sizeof(name), "finish, %s: tls", f->name);
		is_int(c.tls, f->tls, name);
		snprintf(name, sizeof(name), "finish, %s: qos", f->name);
		is_int(c.qos, f->qos, name);
		mqconn_cleanup(&c);
	}
	apply_env(NULL);

	/* The default QoS applies only without -q. */
	{
		struct mqconn c;

		mqconn_init(&c);
		mqconn_finish(&c, 1);
		is_int(c.qos, 1, "finish: default_qos when -q is not given");
		mqconn_cleanup(&c);
		mqconn_init(&c);
		mqconn_option(&c, 'q', "0");
		mqconn_finish(&c, 1);
		is_int(c.qos, 0, "finish: -q 0 wins over default_qos");
		mqconn_cleanup(&c);
	}
	/* --id-prefix becomes the client id with the pid appended. */
	{
		struct mqconn c;
		char want[64];

		mqconn_init(&c);
		mqconn_option(&c, 'I', "pre-");
		mqconn_finish(&c, 0);
		snprintf(want, sizeof(want), "pre-%ld", (long)getpid());
		is_str(c.id, want, "finish: --id-prefix gives prefix + pid");
		mqconn_cleanup(&c);
	}
}

/*
 * A usage error exits; run it in a child with the environment ENV and the
 * options OPTS, capturing stderr and the exit status.
 */
struct usage_case {
	const char *name;
	const char *env[3];
	struct opt opts[4];
	int status;
	const char *err; /* the whole of stderr */
};

static const struct usage_case usage_cases[] = {
    {"MQTT_PORT junk", {"MQTT_PORT=abc"}, {{0, NULL}}, 2,
        "mqtest: MQTT_PORT: not a number: 'abc'\n"
        "Try 'mqtest --help' for more information.\n"},
    {"MQTT_PORT 0", {"MQTT_PORT=0"}, {{0, NULL}}, 2,
        "mqtest: MQTT_PORT: '0' is out of range (1 to 65535)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"MQTT_PORT 65536", {"MQTT_PORT=65536"}, {{0, NULL}}, 2,
        "mqtest: MQTT_PORT: '65536' is out of range (1 to 65535)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad MQTT_PORT ignored after -p", {"MQTT_PORT=abc"}, {{'p', "1883"}}, 0,
        ""},
    {"password without user", {NULL}, {{'P', "pw"}}, 2,
        "mqtest: a password needs a user name (-u or MQTT_USERNAME)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"MQTT_PASSWORD without user", {"MQTT_PASSWORD=pw"}, {{0, NULL}}, 2,
        "mqtest: a password needs a user name (-u or MQTT_USERNAME)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"cert without key", {NULL}, {{MQCONN_OPT_CERT, "c.pem"}}, 2,
        "mqtest: --cert and --key go together\n"
        "Try 'mqtest --help' for more information.\n"},
    {"key without cert", {NULL}, {{MQCONN_OPT_KEY, "k.pem"}}, 2,
        "mqtest: --cert and --key go together\n"
        "Try 'mqtest --help' for more information.\n"},
    {"unix with tls", {NULL}, {{MQCONN_OPT_UNIX, "/s"}, {MQCONN_OPT_TLS, NULL}},
        2,
        "mqtest: --unix cannot be combined with TLS\n"
        "Try 'mqtest --help' for more information.\n"},
    {"no clean session without id", {NULL}, {{'c', NULL}}, 2,
        "mqtest: --no-clean-session needs a client id (-i)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"id and id-prefix", {NULL}, {{'i', "a"}, {'I', "b"}}, 2,
        "mqtest: --id and --id-prefix exclude each other\n"
        "Try 'mqtest --help' for more information.\n"},
    {"session expiry with 311", {NULL}, {{'x', "60"}, {'V', "311"}}, 2,
        "mqtest: --session-expiry needs MQTT 5\n"
        "Try 'mqtest --help' for more information.\n"},
    {"session expiry with 5", {NULL}, {{'x', "60"}, {'V', "5"}}, 0, ""},
    {"will payload without topic", {NULL}, {{MQCONN_OPT_WILL_PAYLOAD, "bye"}},
        2,
        "mqtest: --will-payload needs --will-topic\n"
        "Try 'mqtest --help' for more information.\n"},
    {"will topic with a wildcard", {NULL}, {{MQCONN_OPT_WILL_TOPIC, "a/+"}}, 2,
        "mqtest: --will-topic: invalid topic 'a/+': wildcards + and # "
        "are not allowed when publishing\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad -p", {NULL}, {{'p', "0"}}, 2,
        "mqtest: --port: '0' is out of range (1 to 65535)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad -L", {NULL}, {{'L', "http://x"}}, 2,
        "mqtest: --url: 'http://x': the scheme must be mqtt:// or "
        "mqtts://\nTry 'mqtest --help' for more information.\n"},
    {"empty -i", {NULL}, {{'i', ""}}, 2,
        "mqtest: --id: the client id must not be empty\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad -V", {NULL}, {{'V', "6"}}, 2,
        "mqtest: --protocol: '6' is not 31, 311 or 5\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad -k", {NULL}, {{'k', "4"}}, 2,
        "mqtest: --keepalive: '4' is out of range (5 to 65535)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"bad -q", {NULL}, {{'q', "3"}}, 2,
        "mqtest: --qos: '3' is out of range (0 to 2)\n"
        "Try 'mqtest --help' for more information.\n"},
    {"zero --connect-timeout", {NULL}, {{MQCONN_OPT_CONNECT_TIMEOUT, "0"}}, 2,
        "mqtest: --connect-timeout: must be more than 0\n"
        "Try 'mqtest --help' for more information.\n"},
    {"password in clear to a remote host", {NULL},
        {{'h', "broker.example"}, {'u', "u"}, {'P', "p"}}, 0,
        "mqtest: warning: sending a password without TLS to "
        "broker.example\n"},
    {"password in clear, --quiet", {NULL},
        {{'h', "broker.example"}, {'u', "u"}, {'P', "p"},
            {MQCONN_OPT_QUIET, NULL}},
        0, ""},
    {"password in clear to localhost", {NULL}, {{'u', "u"}, {'P', "p"}}, 0, ""},
    {"password in clear to 127.0.0.2", {NULL},
        {{'h', "127.0.0.2"}, {'u', "u"}, {'P', "p"}}, 0, ""},
    {"password over TLS", {NULL},
        {{'h', "broker.example"}, {'u', "u"}, {'P', "p"},
            {MQCONN_OPT_TLS, NULL}},
        0, ""},
};

static void
run_usage_case(const struct usage_case *u)
{
	char name[300], err[2048];
	int p[2], status = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(p) == -1) {
		perror("pipe");
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct mqconn c;

		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		apply_env(u->env);
		mqconn_init(&c);
		for (size_t k = 0; k < 4 && u->opts[k].opt != 0; k++)
			mqconn_option(&c, u->opts[k].opt, u->opts[k].arg);
		mqconn_finish(&c, 0);
		mqconn_cleanup(&c);
		fflush(stderr);
		_exit(0);
	}
	close(p[1]);
	while (len < sizeof(err) - 1) {
		n = read(p[0], err + len, sizeof(err) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	err[len] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	snprintf(name, sizeof(name), "%s: exit status %d", u->name, u->status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == u->status, name);
	snprintf(name, sizeof(name), "%s: stderr", u->name);
	is_str(err, u->err, name);
}

static void
test_peer(void)
{
	struct mqconn c;

	mqconn_init(&c);
	mqconn_option(&c, 'h', "broker");
	mqconn_option(&c, 'p', "1884");
	apply_env(NULL);
	mqconn_finish(&c, 0);
	is_str(mqconn_peer(&c), "broker:1884", "peer: host:port");
	mqconn_cleanup(&c);

	mqconn_init(&c);
	mqconn_option(&c, 'L', "mqtt://[::1]:1883");
	mqconn_finish(&c, 0);
	is_str(mqconn_peer(&c), "[::1]:1883", "peer: [::1]:1883");
	mqconn_cleanup(&c);

	mqconn_init(&c);
	mqconn_option(&c, 'h', "fe80::1");
	mqconn_finish(&c, 0);
	is_str(mqconn_peer(&c), "[fe80::1]:1883", "peer: IPv6 via -h");
	mqconn_cleanup(&c);

	mqconn_init(&c);
	mqconn_finish(&c, 0);
	is_str(mqconn_peer(&c), "localhost:1883", "peer: the default");
	mqconn_cleanup(&c);

	mqconn_init(&c);
	mqconn_option(&c, MQCONN_OPT_UNIX, "/run/mosquitto.sock");
	mqconn_finish(&c, 0);
	is_str(mqconn_peer(&c), "/run/mosquitto.sock", "peer: a unix socket");
	mqconn_cleanup(&c);
}

int
main(void)
{
	diag_init("/usr/bin/mqtest");
	test_urls();
	test_url_merge();
	test_finish();
	for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]);
	     i++)
		run_usage_case(&usage_cases[i]);
	test_peer();
	return done();
}
