#include "config.h"

#include "common/b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
b64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void
b64_encode(const void *src, size_t len, char *dst)
{
	const unsigned char *s = src;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*dst++ = alphabet[s[i] >> 2];
		*dst++ = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*dst++ = alphabet[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*dst++ = alphabet[s[i + 2] & 63];
	}
	if (i < len) {
		*dst++ = alphabet[s[i] >> 2];
		if (i + 1 < len) {
			*dst++ = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			*dst++ = alphabet[(s[i + 1] & 15) << 2];
		} else {
			*dst++ = alphabet[(s[i] & 3) << 4];
			*dst++ = '=';
		}
		*dst++ = '=';
	}
	*dst = '\0';
}

static int
value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
b64_decode(const char *src, size_t srclen, unsigned char *dst)
{
	size_t i, out = 0;

	if (srclen % 4 != 0)
		return -1;
	for (i = 0; i < srclen; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			if (src[i + k] == '=' && i + 4 == srclen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -1;
			v[k] = value(src[i + k]);
			if (v[k] < 0)
				return -1;
		}
		dst[out++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			dst[out++] =
			    (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			dst[out++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
		/* Bits under the padding must be zero (canonical form). */
		if ((pad == 2 && (v[1] & 15) != 0) ||
		    (pad == 1 && (v[2] & 3) != 0))
			return -1;
	}
	return (long)out;
}
