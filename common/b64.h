/* Standard base64 (RFC 4648, with padding) for binary payloads in JSON. */
#ifndef MQSSE_B64_H
#define MQSSE_B64_H

#include <stddef.h>

/* Length of the encoding of LEN bytes, without the terminating NUL. */
size_t b64_encoded_len(size_t len);
/* Encode SRC into DST, which holds b64_encoded_len(len) + 1 bytes. */
void b64_encode(const void *src, size_t len, char *dst);
/*
 * Decode the NUL-free text SRC of SRCLEN bytes into DST (at least
 * SRCLEN / 4 * 3 bytes). Padding is required; whitespace and other
 * characters are refused. Returns the decoded length, or -1.
 */
long b64_decode(const char *src, size_t srclen, unsigned char *dst);

#endif
