/* Allocators that exit 1 with a message when memory runs out. */
#ifndef MQSSE_XALLOC_H
#define MQSSE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A copy of LEN bytes of P followed by a NUL byte. */
char *xmemdup0(const void *p, size_t len);

#endif
