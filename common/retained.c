#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/retained.h"
#include "common/xalloc.h"

/*
 * A hash table of entries (chained), and a list of the same entries in
 * the order they were last updated.
 */
struct entry {
	char *topic, *type, *data;
	size_t type_len, data_len;
	uint64_t id, sum;
	struct entry *next_hash;
	struct entry *prev, *next; /* oldest at r->head */
};

struct retained {
	struct entry **table;
	size_t nbuckets, count, max;
	struct entry *head, *tail;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

struct retained *
retained_new(size_t max)
{
	struct retained *r = xcalloc(1, sizeof(*r));

	r->max = max;
	r->nbuckets = 1024;
	r->table = xcalloc(r->nbuckets, sizeof(*r->table));
	return r;
}

static void
entry_free(struct entry *e)
{
	free(e->topic);
	free(e->type);
	free(e->data);
	free(e);
}

void
retained_free(struct retained *r)
{
	struct entry *e, *next;

	if (r == NULL)
		return;
	for (e = r->head; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	free(r->table);
	free(r);
}

static void
list_unlink(struct retained *r, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		r->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		r->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
list_append(struct retained *r, struct entry *e)
{
	e->prev = r->tail;
	e->next = NULL;
	if (r->tail != NULL)
		r->tail->next = e;
	else
		r->head = e;
	r->tail = e;
}

/* The link that points at TOPIC's entry (or at the NULL ending its chain). */
static struct entry **
find(struct retained *r, const char *topic)
{
	struct entry **p = &r->table[hash(topic) % r->nbuckets];

	while (*p != NULL && strcmp((*p)->topic, topic) != 0)
		p = &(*p)->next_hash;
	return p;
}

static void
remove_entry(struct retained *r, struct entry **link)
{
	struct entry *e = *link;

	*link = e->next_hash;
	list_unlink(r, e);
	entry_free(e);
	r->count--;
}

static void
grow(struct retained *r)
{
	size_t n = r->nbuckets * 2;
	struct entry **t = xcalloc(n, sizeof(*t));

	for (struct entry *e = r->head; e != NULL; e = e->next) {
		size_t b = hash(e->topic) % n;

		e->next_hash = t[b];
		t[b] = e;
	}
	free(r->table);
	r->table = t;
	r->nbuckets = n;
}

static char *
copy(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool
retained_set(struct retained *r, const char *topic, const char *type,
    size_t type_len, const char *data, size_t data_len, uint64_t id,
    uint64_t sum)
{
	struct entry **link = find(r, topic), *e = *link;
	bool dropped = false;

	if (data == NULL) {
		if (e != NULL)
			remove_entry(r, link);
		return false;
	}
	if (e != NULL) {
		free(e->type);
		free(e->data);
		list_unlink(r, e);
	} else {
		if (r->max > 0 && r->count >= r->max) {
			/* The least recently updated topic makes room. */
			remove_entry(r, find(r, r->head->topic));
			dropped = true;
		}
		if (r->count >= r->nbuckets)
			grow(r);
		e = xcalloc(1, sizeof(*e));
		e->topic = xstrdup(topic);
		link = find(r, topic);
		e->next_hash = *link;
		*link = e;
		r->count++;
	}
	e->type = copy(type != NULL ? type : "", type != NULL ? type_len : 0);
	e->type_len = type != NULL ? type_len : 0;
	e->data = copy(data, data_len);
	e->data_len = data_len;
	e->id = id;
	e->sum = sum;
	list_append(r, e);
	return dropped;
}

bool
retained_has(struct retained *r, const char *topic, uint64_t sum)
{
	const struct entry *e = *find(r, topic);

	return e != NULL && e->sum == sum;
}

bool
retained_holds(struct retained *r, const char *topic)
{
	return *find(r, topic) != NULL;
}

size_t
retained_count(const struct retained *r)
{
	return r->count;
}

void
retained_each(const struct retained *r,
    void (*cb)(void *arg, const char *topic, const char *type, size_t type_len,
        const char *data, size_t data_len, uint64_t id),
    void *arg)
{
	for (const struct entry *e = r->head; e != NULL; e = e->next)
		cb(arg, e->topic, e->type, e->type_len, e->data, e->data_len,
		    e->id);
}
