#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/exitcode.h"
#include "common/xalloc.h"

static void *
check(void *p)
{
	if (p == NULL)
		diag_die(EXIT_RUNTIME, "out of memory");
	return p;
}

void *
xmalloc(size_t n)
{
	return check(malloc(n == 0 ? 1 : n));
}

void *
xcalloc(size_t nmemb, size_t size)
{
	return check(calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size));
}

void *
xrealloc(void *p, size_t n)
{
	return check(realloc(p, n == 0 ? 1 : n));
}

char *
xstrdup(const char *s)
{
	return check(strdup(s));
}

char *
xmemdup0(const void *p, size_t len)
{
	char *s = xmalloc(len + 1);

	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}
