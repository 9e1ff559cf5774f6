/*
 * common/topic.c: topic and filter checks, $share handling, matching (with
 * the $-topic rule), and a differential check of topic_matches against a
 * slow reference matcher written from the MQTT 5 specification (4.7).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "tests/lib/topic_ref.h"
#include "common/topic.h"

struct pub_case {
	const char *topic;
	size_t len;      /* 0: strlen */
	const char *err; /* NULL: valid; else a substring of the reason */
};

static const struct pub_case pub_cases[] = {
    {"a", 0, NULL},
    {"a/b/c", 0, NULL},
    {"/", 0, NULL},
    {"a//b", 0, NULL},
    {"/leading", 0, NULL},
    {"trailing/", 0, NULL},
    {"$SYS/broker", 0, NULL},
    {"sp ace/\xc3\xa9/\xf0\x9f\x98\x80", 0, NULL},
    {"", 0, "empty topic"},
    {"a/+", 0, "wildcards + and # are not allowed when publishing"},
    {"+", 0, "wildcards + and # are not allowed"},
    {"#", 0, "wildcards + and # are not allowed"},
    {"a/#", 0, "invalid topic 'a/#'"},
    {"a+b", 0, "wildcards"},
    {"a#b", 0, "wildcards"},
    {"\xff", 0, "topic is not valid UTF-8"},
    {"a/\xc0\x80", 0, "topic is not valid UTF-8"},
    {"a/\xed\xa0\x80", 0, "topic is not valid UTF-8"},
    {"a\0b", 3, "topic is not valid UTF-8"},
};

struct sub_case {
	const char *filter;
	const char *err; /* NULL: valid; else a substring of the reason */
};

static const struct sub_case sub_cases[] = {
    {"a", NULL},
    {"a/b/c", NULL},
    {"#", NULL},
    {"+", NULL},
    {"a/#", NULL},
    {"+/+/#", NULL},
    {"a/+/c", NULL},
    {"/", NULL},
    {"/#", NULL},
    {"+/", NULL},
    {"a//b", NULL},
    {"$SYS/#", NULL},
    {"$share/g/a/#", NULL},
    {"$share/g/#", NULL},
    {"$share/g/+/b", NULL},
    {"$share/group.1/a", NULL},
    {"$share/g//", NULL},
    {"$sharex/a", NULL},
    {"", "empty topic filter"},
    {"a#", "+ and # must stand alone"},
    {"a/#/b", "invalid topic filter 'a/#/b'"},
    {"#/", "+ and # must stand alone"},
    {"##", "+ and # must stand alone"},
    {"+a", "+ and # must stand alone"},
    {"a+", "+ and # must stand alone"},
    {"a/b+/c", "+ and # must stand alone"},
    {"++", "+ and # must stand alone"},
    {"$share//a", "invalid shared subscription '$share//a'"},
    {"$share/g", "expected $share/GROUP/FILTER"},
    {"$share/g/", "expected $share/GROUP/FILTER"},
    {"$share/", "expected $share/GROUP/FILTER"},
    {"$share/g+/a", "expected $share/GROUP/FILTER"},
    {"$share/+/a", "expected $share/GROUP/FILTER"},
    {"$share/g#/a", "expected $share/GROUP/FILTER"},
    {"$share/#", "expected $share/GROUP/FILTER"},
    {"$share/g/a#", "+ and # must stand alone"},
    {"\xff/a", "not UTF-8 text"},
    {"a/\xe0\x80\x80", "not UTF-8 text"},
};

struct match_case {
	const char *filter, *topic;
	bool want;
};

static const struct match_case match_cases[] = {
    {"a/b", "a/b", true},
    {"a/b", "a/c", false},
    {"a/b", "a/b/", false},
    {"a/b", "a", false},
    {"a", "A", false},
    {"a/+", "a/b", true},
    {"a/+", "a/", true},
    {"a/+", "a/b/c", false},
    {"a/+", "a", false},
    {"+/b", "a/b", true},
    {"+/+", "/", true},
    {"/+", "/", true},
    {"+", "/", false},
    {"+", "a", true},
    {"a/#", "a", true},
    {"a/#", "a/", true},
    {"a/#", "a/b/c", true},
    {"a/#", "ab", false},
    {"a/#", "b/a", false},
    {"+/#", "a", true},
    {"#", "a/b", true},
    {"#", "/", true},
    {"/#", "/a", true},
    {"/#", "a", false},
    {"a/+/c/#", "a/b/c", true},
    {"a/+/c/#", "a/b/d/e", false},
    /* $-topics: no wildcard at the first level matches them. */
    {"#", "$SYS/x", false},
    {"#", "$SYS", false},
    {"+/x", "$SYS/x", false},
    {"+", "$x", false},
    {"+/#", "$SYS/a/b", false},
    {"$SYS/#", "$SYS/x", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/+", "$SYS/x", true},
    {"$SYS/x", "$SYS/x", true},
    {"a/#", "a/$x", true},
    {"a/+", "a/$x", true},
    /* A $share/GROUP/ prefix is not part of the filter. */
    {"$share/g/a/#", "a/b", true},
    {"$share/g/a/#", "a", true},
    {"$share/g/+/b", "a/b", true},
    {"$share/g/c", "a", false},
    {"$share/g/c", "c", true},
    {"$share/g/#", "x/y", true},
    {"$share/g/#", "$SYS/x", false},
    {"$share/g/#", "$share/g/x", false},
    {"$share/g/$SYS/#", "$SYS/x", true},
    /* Invalid input never matches. */
    {"a/b", "a/+", false},
    {"#", "a/#", false},
    {"a#", "a#", false},
    {"a/#/b", "a/x/b", false},
    {"#", "", false},
    {"", "a", false},
};

/* Printable form of S[0..LEN) for test names. */
static const char *
shown(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* Join N levels chosen by the digits of IDX in base NALPHA into BUF. */
static void
build(char *buf, const char *const *alpha, size_t nalpha, size_t n, size_t idx,
    const char *prefix)
{
	size_t o = (size_t)snprintf(buf, 64, "%s", prefix);

	for (size_t i = 0; i < n; i++) {
		const char *lv = alpha[idx % nalpha];

		idx /= nalpha;
		o +=
		    (size_t)snprintf(buf + o, 64 - o, "%s%s", i ? "/" : "", lv);
	}
}

static void
differential(void)
{
	static const char *const flevels[] = {"a", "b", "+", "#", ""};
	static const char *const tlevels[] = {"a", "b", "", "$SYS", "$x"};
	static const char *const prefixes[] = {"", "$share/g/"};
	char filter[64], topic[64];
	long compared = 0, matched = 0, bad = 0, skipped = 0;

	for (size_t pi = 0; pi < 2; pi++)
		for (size_t fn = 1; fn <= 4; fn++) {
			size_t fcount = 1;

			for (size_t k = 0; k < fn; k++)
				fcount *= 5;
			for (size_t fi = 0; fi < fcount; fi++) {
				char err[256];

				build(filter, flevels, 5, fn, fi, prefixes[pi]);
				if (topic_check_sub(filter, err, sizeof(err)) !=
				    0) {
					skipped++;
					continue;
				}
				for (size_t tn = 1; tn <= 4; tn++) {
					size_t tcount = 1;

					for (size_t k = 0; k < tn; k++)
						tcount *= 5;
					for (size_t ti = 0; ti < tcount; ti++) {
						bool got, want;

						build(topic, tlevels, 5, tn, ti,
						    "");
						if (topic_check_pub(topic,
						        strlen(topic), err,
						        sizeof(err)) != 0)
							continue;
						got = topic_matches(
						    filter, topic);
						want = ref_match(filter, topic);
						compared++;
						matched += want;
						if (got != want && bad++ < 5)
							printf(
							    "#   '%s' vs '%s': "
							    "got %d, want %d\n",
							    filter, topic, got,
							    want);
					}
				}
			}
		}
	is_int(bad, 0, "topic_matches agrees with the reference");
	ok(compared > 100000, "differential: more than 100000 pairs compared");
	ok(matched > 1000 && matched < compared / 2,
	    "differential: both outcomes well represented");
	ok(skipped > 0, "differential: invalid filters were generated");
	printf("# compared %ld pairs, %ld matches, %ld invalid filters\n",
	    compared, matched, skipped);
}

/* Containment of filters (mq2sse's ?topic= within --allow). */
static const struct within_case {
	const char *inner, *outer;
	bool want;
} within_cases[] = {
    {"a", "a/#", true},
    {"a/+/b", "a/#", true},
    {"a/b/c", "a/#", true},
    {"a/#", "a/#", true},
    {"#", "a/#", false},
    {"+/b", "a/#", false},
    {"a/b", "a/+", true},
    {"a/b/c", "a/+", false},
    {"a/#", "a/+", false},
    {"a/+/+", "a/+", false},
    {"a/+", "a/+", true},
    {"a", "a/+", false},
    {"a/b", "#", true},
    {"#", "#", true},
    {"+", "#", true},
    {"+/+", "+/#", true},
    {"#", "+/#", true},
    {"a/#", "a/+/#", false},
    {"a", "+", true},
    {"+", "a", false},
    {"a/b", "a/b", true},
    {"a/b", "a/c", false},
    {"a/b", "a", false},
    {"a", "a/b", false},
    {"a//b", "a/+/b", true},
    {"a/+/b", "a//b", false},
    {"$share/g/a/b", "a/#", true},
    {"a/b", "$share/g/a/+", true},
    {"$SYS/#", "#", false},
    {"$SYS/broker/uptime", "+/#", false},
    {"$SYS/broker/uptime", "$SYS/#", true},
    {"$SYS/+", "$SYS/+", true},
};

static bool
universe_within(const char **filters, size_t nf, const char **topics, size_t nt,
    const char *inner, const char *outer)
{
	(void)filters;
	(void)nf;
	for (size_t t = 0; t < nt; t++)
		if (ref_match(inner, topics[t]) && !ref_match(outer, topics[t]))
			return false;
	return true;
}

/*
 * Every filter of up to 3 levels over {a, b, +, #} against every other:
 * topic_within must say exactly whether each topic of up to 5 levels
 * over {a, b, c} that INNER matches is matched by OUTER.
 */
static void
within_exhaustive(void)
{
	static const char *lv[] = {"a", "b", "+", "#"};
	static const char *tl[] = {"a", "b", "c"};
	char **filters = NULL, **topics = NULL;
	size_t nf = 0, nt = 0, bad = 0, pairs = 0;
	char buf[64];

	for (int depth = 1; depth <= 3; depth++) {
		int total = 1;

		for (int i = 0; i < depth; i++)
			total *= 4;
		for (int k = 0; k < total; k++) {
			int x = k;
			char err[128];

			buf[0] = '\0';
			for (int i = 0; i < depth; i++) {
				if (i > 0)
					strncat(buf, "/",
					    sizeof(buf) - strlen(buf) - 1);
				strncat(buf, lv[x % 4],
				    sizeof(buf) - strlen(buf) - 1);
				x /= 4;
			}
			if (topic_check_sub(buf, err, sizeof(err)) != 0)
				continue;
			filters = realloc(filters, (nf + 1) * sizeof(*filters));
			filters[nf++] = strdup(buf);
		}
	}
	for (int depth = 1; depth <= 5; depth++) {
		int total = 1;

		for (int i = 0; i < depth; i++)
			total *= 3;
		for (int k = 0; k < total; k++) {
			int x = k;

			buf[0] = '\0';
			for (int i = 0; i < depth; i++) {
				if (i > 0)
					strncat(buf, "/",
					    sizeof(buf) - strlen(buf) - 1);
				strncat(buf, tl[x % 3],
				    sizeof(buf) - strlen(buf) - 1);
				x /= 3;
			}
			topics = realloc(topics, (nt + 1) * sizeof(*topics));
			topics[nt++] = strdup(buf);
		}
	}
	for (size_t i = 0; i < nf; i++) {
		for (size_t j = 0; j < nf; j++) {
			bool want = universe_within((const char **)filters, nf,
			    (const char **)topics, nt, filters[i], filters[j]);

			pairs++;
			if (topic_within(filters[i], filters[j]) != want) {
				if (bad++ < 5)
					printf("# within(%s, %s): want %d\n",
					    filters[i], filters[j], want);
			}
		}
	}
	printf("# %zu filters, %zu topics, %zu pairs\n", nf, nt, pairs);
	is_int((long long)bad, 0,
	    "topic_within agrees with matching over every topic of the universe");
	ok(pairs > 2500, "topic_within: more than 2500 filter pairs checked");
	for (size_t i = 0; i < nf; i++)
		free(filters[i]);
	for (size_t i = 0; i < nt; i++)
		free(topics[i]);
	free(filters);
	free(topics);
}

int
main(void)
{
	char err[256], name[300], sbuf[100];
	char *big;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(pub_cases) / sizeof(pub_cases[0]); i++) {
		const struct pub_case *c = &pub_cases[i];
		size_t len = c->len ? c->len : strlen(c->topic);

		err[0] = '\0';
		rc = topic_check_pub(c->topic, len, err, sizeof(err));
		shown(c->topic, len, sbuf, sizeof(sbuf));
		snprintf(name, sizeof(name), "pub '%s' is %s", sbuf,
		    c->err ? "refused" : "valid");
		is_int(rc, c->err ? -1 : 0, name);
		if (c->err != NULL) {
			snprintf(name, sizeof(name),
			    "pub '%s': reason has '%s'", sbuf, c->err);
			if (!ok(strstr(err, c->err) != NULL, name))
				printf("#   reason: %s\n", err);
		}
	}

	/* Length limits: 65535 bytes is the maximum of both kinds. */
	big = malloc(65537);
	memset(big, 'a', 65536);
	big[65536] = '\0';
	is_int(topic_check_pub(big, 65535, err, sizeof(err)), 0,
	    "pub: 65535 bytes is valid");
	rc = topic_check_pub(big, 65536, err, sizeof(err));
	is_int(rc, -1, "pub: 65536 bytes is refused");
	is_str(err, "topic longer than 65535 bytes", "pub: 65536 bytes reason");
	ok(strlen(err) < 100, "pub: the reason does not quote the topic");
	is_int(topic_check_sub(big, err, sizeof(err)), -1,
	    "sub: 65536 bytes is refused");
	big[65535] = '\0';
	is_int(topic_check_sub(big, err, sizeof(err)), 0,
	    "sub: 65535 bytes is valid");
	memset(big, '+', 65536);
	rc = topic_check_pub(big, 1000, err, sizeof(err));
	ok(rc == -1 && strlen(err) < 300,
	    "pub: a long wildcard topic is quoted shortened");
	free(big);

	for (i = 0; i < sizeof(sub_cases) / sizeof(sub_cases[0]); i++) {
		const struct sub_case *c = &sub_cases[i];

		err[0] = '\0';
		rc = topic_check_sub(c->filter, err, sizeof(err));
		shown(c->filter, strlen(c->filter), sbuf, sizeof(sbuf));
		snprintf(name, sizeof(name), "sub '%s' is %s", sbuf,
		    c->err ? "refused" : "valid");
		if (!is_int(rc, c->err ? -1 : 0, name))
			printf("#   reason: %s\n", err);
		if (c->err != NULL) {
			snprintf(name, sizeof(name),
			    "sub '%s': reason has '%s'", sbuf, c->err);
			if (!ok(strstr(err, c->err) != NULL, name))
				printf("#   reason: %s\n", err);
		}
	}

	is_str(topic_unshare("$share/g/a/b"), "a/b", "unshare $share/g/a/b");
	is_str(topic_unshare("$share/group/#"), "#", "unshare $share/group/#");
	is_str(topic_unshare("a/b"), "a/b", "unshare leaves a/b");
	is_str(topic_unshare("$share/g"), "$share/g",
	    "unshare leaves an incomplete $share alone");
	is_str(topic_unshare("$SHARE/g/a"), "$SHARE/g/a",
	    "unshare is case-sensitive");
	{
		const char *f = "$share/g/x";

		ok(topic_unshare(f) == f + 9, "unshare points into FILTER");
	}

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];

		snprintf(name, sizeof(name), "'%s' %s '%s'", c->filter,
		    c->want ? "matches" : "does not match", c->topic);
		is_int(topic_matches(c->filter, c->topic), c->want, name);
	}

	/* The reference agrees with the hand-written table on valid input. */
	{
		int bad = 0;

		for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]);
		     i++) {
			const struct match_case *c = &match_cases[i];

			if (topic_check_sub(c->filter, err, sizeof(err)) != 0 ||
			    topic_check_pub(c->topic, strlen(c->topic), err,
			        sizeof(err)) != 0)
				continue;
			if (ref_match(c->filter, c->topic) != c->want)
				bad++;
		}
		is_int(bad, 0, "the reference matcher agrees with the table");
	}

	differential();
	for (i = 0; i < sizeof(within_cases) / sizeof(within_cases[0]); i++) {
		const struct within_case *c = &within_cases[i];

		snprintf(name, sizeof(name), "topic_within(%s, %s) is %s",
		    c->inner, c->outer, c->want ? "true" : "false");
		ok(topic_within(c->inner, c->outer) == c->want, name);
	}
	within_exhaustive();
	return done();
}
