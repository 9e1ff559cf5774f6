/*
 * common/retained.c: mq2sse's last-value cache. Set, replace and remove,
 * the order of retained_each (least recently updated first), the bound
 * (the least recently updated topic goes, and the caller is told once per
 * drop), and many topics against a plain reference list.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "common/retained.h"

struct seen {
	char text[4096];
	size_t n;
};

static void
collect(void *arg, const char *topic, const char *type, size_t type_len,
    const char *data, size_t data_len, uint64_t id)
{
	struct seen *s = arg;
	size_t used = strlen(s->text);

	snprintf(s->text + used, sizeof(s->text) - used, "%s=%.*s:%.*s#%llu;",
	    topic, (int)type_len, type, (int)data_len, data,
	    (unsigned long long)id);
	s->n++;
}

struct order {
	uint64_t last;
	size_t n, backwards;
};

static void
check_order(void *arg, const char *topic, const char *type, size_t type_len,
    const char *data, size_t data_len, uint64_t id)
{
	struct order *o = arg;

	if (o->n > 0 && id <= o->last)
		o->backwards++;
	o->last = id;
	o->n++;
}

static const char *
dump(struct retained *r)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	retained_each(r, collect, &s);
	return s.text;
}

int
main(void)
{
	struct retained *r = retained_new(3);
	char topic[64], data[64];
	int bad = 0;

	is_int(retained_count(r), 0, "a new cache is empty");
	ok(!retained_set(r, "a", "message", 7, "1", 1, 10, 0), "set a");
	ok(!retained_set(r, "b", NULL, 0, "2", 1, 11, 0),
	    "set b without a type");
	is_str(dump(r), "a=message:1#10;b=:2#11;", "oldest update first");
	ok(!retained_set(r, "a", "message", 7, "3", 1, 12, 0), "replace a");
	is_str(dump(r), "b=:2#11;a=message:3#12;",
	    "a replaced value moves to the end with its new id");
	is_int(retained_count(r), 2, "replacing does not add a topic");
	ok(!retained_set(r, "b", NULL, 0, NULL, 0, 13, 0), "remove b");
	is_str(dump(r), "a=message:3#12;", "removed topics are gone");
	ok(!retained_set(r, "zz", NULL, 0, NULL, 0, 14, 0),
	    "removing an unknown topic is harmless");
	ok(!retained_set(r, "c", "t", 1, "", 0, 15, 0),
	    "an empty value is kept");
	ok(!retained_set(r, "d", "t", 1, "x\0y", 3, 16, 0),
	    "binary data is kept");
	is_int(retained_count(r), 3, "three topics at the bound");
	ok(retained_set(r, "e", "t", 1, "5", 1, 17, 0),
	    "a fourth topic says one was dropped");
	is_str(dump(r), "c=t:#15;d=t:x#16;e=t:5#17;",
	    "the least recently updated topic (a) went");
	ok(retained_set(r, "a", "t", 1, "6", 1, 18, 0),
	    "and again for a new one");
	is_int(retained_count(r), 3, "still three topics");
	retained_set(r, "s", "t", 1, "v", 1, 19, 42);
	ok(retained_has(r, "s", 42), "retained_has: the same sum");
	ok(!retained_has(r, "s", 43), "retained_has: another sum");
	ok(!retained_has(r, "nope", 42), "retained_has: an unknown topic");
	retained_free(r);

	/* Many topics, with rehashing, against a reference of last values. */
	r = retained_new(0);
	for (int i = 0; i < 20000; i++) {
		snprintf(topic, sizeof(topic), "t/%d", i % 5000);
		snprintf(data, sizeof(data), "%d", i);
		if (i % 7 == 3)
			retained_set(
			    r, topic, NULL, 0, NULL, 0, (uint64_t)i, 0);
		else
			retained_set(r, topic, NULL, 0, data, strlen(data),
			    (uint64_t)i, 0);
	}
	{
		/* Topic k last saw i = the largest i < 20000 with i % 5000 == k. */
		size_t want = 0;

		for (int k = 0; k < 5000; k++) {
			int last = 15000 + k;

			if (last % 7 != 3)
				want++;
		}
		is_int((long long)retained_count(r), (long long)want,
		    "20000 updates of 5000 topics: the count matches the reference");
	}
	{
		struct order o = {0, 0, 0};

		/* The ids come in increasing order: oldest update first. */
		retained_each(r, check_order, &o);
		is_int((long long)o.n, (long long)retained_count(r),
		    "retained_each visits every topic");
		is_int((long long)o.backwards, 0,
		    "retained_each goes from the oldest update to the newest");
	}
	retained_free(r);
	r = retained_new(100);
	for (int i = 0; i < 1000; i++) {
		snprintf(topic, sizeof(topic), "x/%d", i);
		if (retained_set(r, topic, NULL, 0, "v", 1, (uint64_t)i, 0) !=
		    (i >= 100))
			bad++;
	}
	is_int(bad, 0, "a drop is reported exactly when the bound is passed");
	is_int((long long)retained_count(r), 100, "the bound holds");
	retained_free(r);
	retained_free(NULL); /* a no-op: a crash here fails the test */
	return done();
}
