#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/http.h>

#include "common/diag.h"
#include "common/mqconn.h"
#include "common/opt.h"
#include "common/topic.h"
#include "common/xalloc.h"

void
mqconn_init(struct mqconn *c)
{
	memset(c, 0, sizeof(*c));
	c->keepalive = 60;
	c->qos = -1;
	c->clean = true;
	c->session_expiry = -1;
	c->connect_timeout_ms = 10000;
}

void
mqconn_cleanup(struct mqconn *c)
{
	free(c->host);
	free(c->unix_path);
	free(c->username);
	free(c->password);
	free(c->id);
	free(c->id_prefix);
	free(c->cafile);
	free(c->capath);
	free(c->cert);
	free(c->key);
	free(c->will_topic);
	free(c->will_payload);
	free(c->url_path);
	mqconn_init(c);
}

static void
set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

static int
parse_protocol(const char *s)
{
	if (strcmp(s, "31") == 0 || strcmp(s, "mqttv31") == 0)
		return 3;
	if (strcmp(s, "311") == 0 || strcmp(s, "mqttv311") == 0)
		return 4;
	if (strcmp(s, "5") == 0 || strcmp(s, "mqttv5") == 0)
		return 5;
	return -1;
}

bool
mqconn_option(struct mqconn *c, int opt, const char *arg)
{
	char err[256];

	switch (opt) {
	case 'h':
		set(&c->host, arg);
		break;
	case 'p':
		c->port = (int)opt_uint("--port", arg, 1, 65535);
		break;
	case 'L':
		if (mqconn_parse_url(c, arg, err, sizeof(err)) == -1)
			diag_usage("--url: %s", err);
		break;
	case 'u':
		set(&c->username, arg);
		break;
	case 'P':
		set(&c->password, arg);
		break;
	case 'i':
		if (*arg == '\0' || strlen(arg) > 65535)
			diag_usage("--id: the client id must not be empty");
		set(&c->id, arg);
		break;
	case 'I':
		set(&c->id_prefix, arg);
		break;
	case 'k':
		c->keepalive = (int)opt_uint("--keepalive", arg, 5, 65535);
		break;
	case 'V':
		c->protocol = parse_protocol(arg);
		if (c->protocol == -1)
			diag_usage("--protocol: '%s' is not 31, 311 or 5", arg);
		break;
	case 'q':
		c->qos = (int)opt_uint("--qos", arg, 0, 2);
		break;
	case 'c':
		c->clean = false;
		break;
	case 'x':
		c->session_expiry =
		    (int64_t)opt_uint("--session-expiry", arg, 0, UINT32_MAX);
		break;
	case 'd':
		c->debug++;
		break;
	case MQCONN_OPT_TLS:
		c->tls = true;
		break;
	case MQCONN_OPT_TLS_OS:
		c->tls = c->tls_os_certs = true;
		break;
	case MQCONN_OPT_UNIX:
		set(&c->unix_path, arg);
		break;
	case MQCONN_OPT_CAFILE:
		set(&c->cafile, arg);
		break;
	case MQCONN_OPT_CAPATH:
		set(&c->capath, arg);
		break;
	case MQCONN_OPT_CERT:
		set(&c->cert, arg);
		break;
	case MQCONN_OPT_KEY:
		set(&c->key, arg);
		break;
	case MQCONN_OPT_INSECURE:
		c->insecure = true;
		break;
	case MQCONN_OPT_WILL_TOPIC:
		set(&c->will_topic, arg);
		break;
	case MQCONN_OPT_WILL_PAYLOAD:
		set(&c->will_payload, arg);
		break;
	case MQCONN_OPT_WILL_QOS:
		c->will_qos = (int)opt_uint("--will-qos", arg, 0, 2);
		break;
	case MQCONN_OPT_WILL_RETAIN:
		c->will_retain = true;
		break;
	case MQCONN_OPT_CONNECT_TIMEOUT:
		c->connect_timeout_ms =
		    opt_duration_ms("--connect-timeout", arg, 86400000);
		if (c->connect_timeout_ms == 0)
			diag_usage("--connect-timeout: must be more than 0");
		break;
	case MQCONN_OPT_NO_RECONNECT:
		c->no_reconnect = true;
		break;
	case MQCONN_OPT_QUIET:
		c->quiet = true;
		break;
	default:
		return false;
	}
	return true;
}

/* Percent-decode S[0..LEN) into a new string; NULL when it holds %00. */
static char *
decode(const char *s, size_t len)
{
	char *raw = xmemdup0(s, len), *out;
	size_t outlen;

	out = evhttp_uridecode(raw, 0, &outlen);
	free(raw);
	if (out == NULL)
		diag_die(1, "out of memory");
	if (strlen(out) != outlen) {
		free(out);
		return NULL;
	}
	return out;
}

int
mqconn_parse_url(struct mqconn *c, const char *url, char *err, size_t errlen)
{
	const char *p, *auth_end, *hostport, *path, *colon;
	bool tls;
	char *host = NULL, *user = NULL, *pass = NULL, *topic = NULL;
	int port = 0;

	if (strncmp(url, "mqtt://", 7) == 0) {
		tls = false;
		p = url + 7;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		tls = true;
		p = url + 8;
	} else {
		snprintf(err, errlen,
		    "'%s': the scheme must be mqtt:// or mqtts://", url);
		return -1;
	}
	path = strchr(p, '/');
	if (path == NULL)
		path = p + strlen(p);
	auth_end = memchr(p, '@', (size_t)(path - p));
	/* user:pass@ may itself hold '@' encoded only; take the last '@'. */
	for (const char *q = p; q < path; q++)
		if (*q == '@')
			auth_end = q;
	hostport = p;
	if (auth_end != NULL) {
		const char *sep = memchr(p, ':', (size_t)(auth_end - p));

		user = decode(p, (size_t)((sep ? sep : auth_end) - p));
		if (sep != NULL)
			pass = decode(sep + 1, (size_t)(auth_end - sep - 1));
		if (user == NULL || (sep != NULL && pass == NULL))
			goto bad;
		hostport = auth_end + 1;
	}
	if (*hostport == '[') {
		const char *rb =
		    memchr(hostport, ']', (size_t)(path - hostport));

		if (rb == NULL)
			goto bad;
		host = xmemdup0(hostport + 1, (size_t)(rb - hostport - 1));
		colon = rb + 1 < path && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < path && colon == NULL)
			goto bad;
	} else {
		colon = memchr(hostport, ':', (size_t)(path - hostport));
		host = xmemdup0(
		    hostport, (size_t)((colon ? colon : path) - hostport));
	}
	if (*host == '\0') {
		snprintf(err, errlen, "'%s': no host", url);
		goto fail;
	}
	if (colon != NULL) {
		char digits[8];
		size_t n = (size_t)(path - colon - 1);
		uint64_t v;
		char perr[128];

		if (n == 0 || n >= sizeof(digits))
			goto badport;
		memcpy(digits, colon + 1, n);
		digits[n] = '\0';
		if (opt_parse_uint(digits, 1, 65535, &v, perr, sizeof(perr)) ==
		    -1)
			goto badport;
		port = (int)v;
	}
	if (*path == '/' && path[1] != '\0') {
		topic = decode(path + 1, strlen(path + 1));
		if (topic == NULL)
			goto bad;
	}
	free(c->host);
	c->host = host;
	if (port != 0)
		c->port = port;
	if (user != NULL) {
		free(c->username);
		c->username = user;
	}
	if (pass != NULL) {
		free(c->password);
		c->password = pass;
	}
	free(c->url_path);
	c->url_path = topic;
	if (tls)
		c->tls = c->url_tls = true;
	return 0;
badport:
	snprintf(err, errlen, "'%s': invalid port", url);
	goto fail;
bad:
	snprintf(err, errlen, "'%s': malformed URL", url);
fail:
	free(host);
	free(user);
	free(pass);
	free(topic);
	return -1;
}

static bool
is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

void
mqconn_finish(struct mqconn *c, int default_qos)
{
	const char *env;
	char err[256];

	diag_set_quiet(c->quiet);
	diag_set_debug(c->debug);
	if (c->host == NULL && (env = getenv("MQTT_HOST")) != NULL &&
	    *env != '\0')
		set(&c->host, env);
	if (c->host == NULL)
		set(&c->host, "localhost");
	if (c->port == 0 && (env = getenv("MQTT_PORT")) != NULL &&
	    *env != '\0') {
		uint64_t v;

		if (opt_parse_uint(env, 1, 65535, &v, err, sizeof(err)) == -1)
			diag_usage("MQTT_PORT: %s", err);
		c->port = (int)v;
	}
	if (c->username == NULL && (env = getenv("MQTT_USERNAME")) != NULL)
		set(&c->username, env);
	if (c->password == NULL && (env = getenv("MQTT_PASSWORD")) != NULL)
		set(&c->password, env);
	if (c->cafile != NULL || c->capath != NULL || c->cert != NULL)
		c->tls = true;
	if (c->port == 0)
		c->port = c->tls ? 8883 : 1883;
	if (c->qos == -1)
		c->qos = default_qos;

	if (c->password != NULL && c->username == NULL)
		diag_usage(
		    "a password needs a user name (-u or MQTT_USERNAME)");
	if ((c->cert == NULL) != (c->key == NULL))
		diag_usage("--cert and --key go together");
	if (c->unix_path != NULL && c->tls)
		diag_usage("--unix cannot be combined with TLS");
	if (!c->clean && c->id == NULL)
		diag_usage("--no-clean-session needs a client id (-i)");
	if (c->id != NULL && c->id_prefix != NULL)
		diag_usage("--id and --id-prefix exclude each other");
	if (c->session_expiry >= 0 && c->protocol != 0 && c->protocol != 5)
		diag_usage("--session-expiry needs MQTT 5");
	if (c->id_prefix != NULL) {
		char buf[512];

		snprintf(
		    buf, sizeof(buf), "%s%ld", c->id_prefix, (long)getpid());
		set(&c->id, buf);
	}
	if (c->will_payload != NULL && c->will_topic == NULL)
		diag_usage("--will-payload needs --will-topic");
	if (c->will_topic != NULL &&
	    topic_check_pub(
	        c->will_topic, strlen(c->will_topic), err, sizeof(err)) == -1)
		diag_usage("--will-topic: %s", err);
	if (c->password != NULL && !c->tls && c->unix_path == NULL &&
	    !is_loopback(c->host))
		diag_warn(
		    "warning: sending a password without TLS to %s", c->host);
}

const char *
mqconn_peer(const struct mqconn *c)
{
	static char buf[600];

	if (c->unix_path != NULL)
		return c->unix_path;
	if (strchr(c->host, ':') != NULL)
		snprintf(buf, sizeof(buf), "[%s]:%d", c->host, c->port);
	else
		snprintf(buf, sizeof(buf), "%s:%d", c->host, c->port);
	return buf;
}

void
mqconn_usage(FILE *fp)
{
	fputs(
	    "\nConnection options:\n"
	    " -h, --host <host>          broker host (default localhost, env MQTT_HOST)\n"
	    " -p, --port <port>          broker port (default 1883, 8883 with TLS, env MQTT_PORT)\n"
	    " -L, --url <url>            mqtt[s]://[user[:pass]@]host[:port][/topic]\n"
	    " -u, --username <user>      user name (env MQTT_USERNAME)\n"
	    " -P, --password <pass>      password (env MQTT_PASSWORD is safer)\n"
	    " -i, --id <id>              client id\n"
	    " -I, --id-prefix <prefix>   client id prefix, followed by the pid\n"
	    " -k, --keepalive <secs>     keep-alive interval (default 60)\n"
	    " -V, --protocol <version>   31, 311 or 5 (default 5, falling back to 311)\n"
	    " -q, --qos <0|1|2>          quality of service\n"
	    " -c, --no-clean-session     persistent session (needs --id)\n"
	    " -x, --session-expiry <secs> MQTT 5 session expiry interval\n"
	    "     --tls                  use TLS with the system CA store\n"
	    "     --tls-use-os-certs     the same as --tls\n"
	    "     --cafile <file>        CA certificates to verify the broker (implies TLS)\n"
	    "     --capath <dir>         directory of CA certificates (implies TLS)\n"
	    "     --cert <file>          client certificate\n"
	    "     --key <file>           client private key\n"
	    "     --insecure             do not check the broker's host name\n"
	    "     --unix <path>          connect over a Unix domain socket\n"
	    "     --will-topic <topic>   last will topic\n"
	    "     --will-payload <msg>   last will message\n"
	    "     --will-qos <0|1|2>     last will QoS\n"
	    "     --will-retain          retain the last will\n"
	    "     --connect-timeout <secs> give up connecting after this long (default 10)\n"
	    "     --no-reconnect         exit when the connection is lost\n"
	    " -d, --debug                print protocol events on stderr\n"
	    "     --quiet                print no warnings\n",
	    fp);
}
