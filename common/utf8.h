/* UTF-8 checks used to decide between "payload" and "payload_b64". */
#ifndef MQSSE_UTF8_H
#define MQSSE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when S[0..LEN) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) and holds no NUL byte. Control
 * characters such as newline are allowed.
 */
bool utf8_is_text(const void *s, size_t len);

#endif
