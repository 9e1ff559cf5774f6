#include "config.h"

#include <stdint.h>

#include "common/utf8.h"

bool
utf8_is_text(const void *s, size_t len)
{
	const unsigned char *p = s, *end;

	if (len == 0)
		return true; /* S may be NULL: no arithmetic on it */
	end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			if (c == 0)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}
