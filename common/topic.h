/* Topic names and filters, checked and matched with libmosquitto's helpers. */
#ifndef MQSSE_TOPIC_H
#define MQSSE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* 0 when TOPIC (LEN bytes) is a valid topic to publish to, else -1 + ERR. */
int topic_check_pub(const char *topic, size_t len, char *err, size_t errlen);
/* 0 when FILTER is a valid subscription filter ($share/G/F included). */
int topic_check_sub(const char *filter, char *err, size_t errlen);
/* FILTER without a "$share/GROUP/" prefix (a pointer into FILTER). */
const char *topic_unshare(const char *filter);
/* True when TOPIC matches FILTER (a $share prefix of FILTER is ignored). */
bool topic_matches(const char *filter, const char *topic);

/*
 * True when every topic that filter INNER matches is also matched by
 * filter OUTER (both valid): mq2sse's ?topic= within --allow. This is not
 * topic matching: "a/#" contains "a/+/b" and "a", but not "#" or "+/b".
 */
bool topic_within(const char *inner, const char *outer);

/*
 * Option parsing: append a copy of FILTER to *LIST (*N entries), or exit 2
 * with "OPT: reason" when it is not a valid filter.
 */
void topic_add_filter(
    char ***list, int *n, const char *filter, const char *opt);

#endif
