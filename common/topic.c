#include "config.h"

#include <stdio.h>
#include <string.h>

#include <mosquitto.h>

#include "common/diag.h"
#include "common/topic.h"
#include "common/xalloc.h"
#include "common/utf8.h"

int
topic_check_pub(const char *topic, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "empty topic");
		return -1;
	}
	if (!utf8_is_text(topic, len)) {
		snprintf(err, errlen, "topic is not valid UTF-8");
		return -1;
	}
	if (len > 65535) {
		snprintf(err, errlen, "topic longer than 65535 bytes");
		return -1;
	}
	if (mosquitto_pub_topic_check2(topic, len) != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen,
		    "invalid topic '%.*s': wildcards + and # are not allowed "
		    "when publishing",
		    (int)(len > 200 ? 200 : len), topic);
		return -1;
	}
	return 0;
}

const char *
topic_unshare(const char *filter)
{
	const char *p;

	if (strncmp(filter, "$share/", 7) != 0)
		return filter;
	p = strchr(filter + 7, '/');
	return p != NULL ? p + 1 : filter;
}

int
topic_check_sub(const char *filter, char *err, size_t errlen)
{
	size_t len = strlen(filter);
	const char *f = filter;

	if (len == 0) {
		snprintf(err, errlen, "empty topic filter");
		return -1;
	}
	if (!utf8_is_text(filter, len) || len > 65535) {
		snprintf(err, errlen, "invalid topic filter: not UTF-8 text");
		return -1;
	}
	if (strncmp(filter, "$share/", 7) == 0) {
		const char *slash = strchr(filter + 7, '/');
		const char *wild = strpbrk(filter + 7, "+#");

		if (slash == NULL || slash == filter + 7 || slash[1] == '\0' ||
		    (wild != NULL && wild < slash)) {
			snprintf(err, errlen,
			    "invalid shared subscription '%s': "
			    "expected $share/GROUP/FILTER",
			    filter);
			return -1;
		}
		f = slash + 1;
	}
	if (mosquitto_sub_topic_check(f) != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen,
		    "invalid topic filter '%s': + and # must stand alone "
		    "between slashes, # only at the end",
		    filter);
		return -1;
	}
	return 0;
}

bool
topic_matches(const char *filter, const char *topic)
{
	bool result = false;

	if (mosquitto_topic_matches_sub(
	        topic_unshare(filter), topic, &result) != MOSQ_ERR_SUCCESS)
		return false;
	return result;
}

/* The length of the level at S (up to '/' or the end). */
static size_t
level_len(const char *s)
{
	return strcspn(s, "/");
}

bool
topic_within(const char *inner, const char *outer)
{
	const char *n = topic_unshare(inner), *o = topic_unshare(outer);
	bool top = true;

	/* A filter that starts with a wildcard matches no "$" topic. */
	if (n[0] == '$' && (o[0] == '#' || o[0] == '+'))
		return false;

	for (;;) {
		size_t nl = level_len(n), ol = level_len(o);

		/* "#" covers what is left, the parent level included. */
		if (ol == 1 && o[0] == '#')
			return true;
		/*
		 * A "#" is within "+/#" only at the top, where there is no
		 * parent level for "#" to match and "+" to miss.
		 */
		if (nl == 1 && n[0] == '#')
			return top && strcmp(o, "+/#") == 0;
		top = false;
		if (ol == 1 && o[0] == '+') {
			/* Any one level, a wildcard one too, but not "#". */
		} else if (nl == 1 && n[0] == '+') {
			return false;
		} else if (nl != ol || memcmp(n, o, nl) != 0) {
			return false;
		}
		n += nl;
		o += ol;
		if (*n == '\0' || *o == '\0') {
			/* INNER ended: OUTER may go on only with "/#". */
			if (*n == '\0' && *o == '\0')
				return true;
			return *n == '\0' && strcmp(o, "/#") == 0;
		}
		n++;
		o++;
	}
}

void
topic_add_filter(char ***list, int *n, const char *filter, const char *opt)
{
	char err[256];

	if (topic_check_sub(filter, err, sizeof(err)) == -1)
		diag_usage("%s: %s", opt, err);
	*list = xrealloc(*list, (size_t)(*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(filter);
}
