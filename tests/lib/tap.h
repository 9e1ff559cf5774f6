/*
 * A minimal TAP producer for the unit tests: ok(), is_int(), is_str(),
 * is_mem() print one "ok N - name" / "not ok N - name" line each; done()
 * prints the plan and returns the exit status.
 */
#ifndef MQSSE_TAP_H
#define MQSSE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
ok(int cond, const char *name)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	fflush(stdout);
	return cond;
}

static inline int
is_int(long long got, long long want, const char *name)
{
	int r = ok(got == want, name);

	if (!r)
		printf("#   got %lld, want %lld\n", got, want);
	return r;
}

static inline int
is_str(const char *got, const char *want, const char *name)
{
	int r = ok(
	    got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want,
	    name);

	if (!r)
		printf("#   got '%s', want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return r;
}

static inline int
is_mem(const void *got, size_t gotlen, const void *want, size_t wantlen,
    const char *name)
{
	int r = ok(gotlen == wantlen && memcmp(got, want, gotlen) == 0, name);

	if (!r)
		printf("#   got %zu bytes '%.*s', want %zu bytes '%.*s'\n",
		    gotlen, (int)gotlen, (const char *)got, wantlen,
		    (int)wantlen, (const char *)want);
	return r;
}

static inline int
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

#endif
