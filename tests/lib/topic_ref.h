/*
 * A slow, obviously correct topic matcher that the unit test and the fuzz
 * target hold topic_matches() against.
 */
#ifndef MQSSE_TOPIC_REF_H
#define MQSSE_TOPIC_REF_H

#include <stdbool.h>
#include <string.h>

/*
 * The reference matcher (MQTT 5 section 4.7), level by level: '+' takes one
 * level (possibly empty), '#' the rest including the parent level, and a
 * wildcard first level never matches a topic that starts with '$'. A
 * "$share/GROUP/" prefix is not part of the filter.
 */
static inline bool
ref_match(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;

	if (strncmp(f, "$share/", 7) == 0 && strchr(f + 7, '/') != NULL)
		f = strchr(f + 7, '/') + 1;
	if (t[0] == '$' && (f[0] == '+' || f[0] == '#'))
		return false;
	for (;;) {
		size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");
		bool plus = fl == 1 && f[0] == '+';

		if (fl == 1 && f[0] == '#')
			return true;
		if (!plus && (fl != tl || memcmp(f, t, fl) != 0))
			return false;
		if (f[fl] == '\0' && t[tl] == '\0')
			return true;
		if (t[tl] == '\0')
			return strcmp(f + fl, "/#") == 0;
		if (f[fl] == '\0')
			return false;
		f += fl + 1;
		t += tl + 1;
	}
}

#endif
