/*
 * common/b64.c: RFC 4648 section 10 vectors, round trips of every byte
 * value and every length up to 300, and the strict decoder's refusals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "common/b64.h"

struct vector {
	const char *plain;
	const char *enc;
};

static const struct vector rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

/* Decodings that must succeed, with the bytes they give. */
struct good {
	const char *enc;
	const char *dec;
	size_t declen;
};

static const struct good goods[] = {
    {"Zg==", "f", 1},
    {"Zm8=", "fo", 2},
    {"AA==", "\0", 1},
    {"AAA=", "\0\0", 2},
    {"AAAA", "\0\0\0", 3},
    {"////", "\xff\xff\xff", 3},
    {"+/+/", "\xfb\xff\xbf", 3},
    {"/w==", "\xff", 1},
    {"//8=", "\xff\xff", 2},
};

/* Encodings that must be refused. */
struct bad {
	const char *why;
	const char *enc;
};

static const struct bad bads[] = {
    {"length 1", "Z"},
    {"length 2", "Zg"},
    {"length 3 (padding is required)", "Zm8"},
    {"length 5", "Zm9vY"},
    {"length 6, unpadded", "Zm9vYg"},
    {"bad character !", "Zm9!"},
    {"bad character -", "Zm9-"},
    {"bad character _ (base64url)", "Zm9_"},
    {"bad character in the first quantum", "Z.9vYmFy"},
    {"high byte", "Zm9\xc3"},
    {"'=' in the middle", "Zg==Zg=="},
    {"'=' in the first quantum of two", "Zm8=Zm9v"},
    {"'=' at position 0", "===="},
    {"'=' at position 1", "Z==="},
    {"'=' then a letter", "Zg=a"},
    {"'=' between letters", "Z=g="},
    {"three '='", "Z==="},
    {"non-canonical Zh== (low bits set)", "Zh=="},
    {"non-canonical Zm9= (low bits set)", "Zm9="},
    {"non-canonical Zm+= (low bits set)", "Zm+="},
    {"non-canonical //9=", "//9="},
    {"non-canonical /x==", "/x=="},
    {"space", "Zm9v YmFy"},
    {"space, length 8", "Zm9 YmFy"},
    {"newline", "Zm9v\nYmFy"},
    {"CR LF", "Zm9vYm\r\n"},
    {"tab", "Zm9\t"},
    {"leading space", " Zm9"},
};

/* Copy S into DST with control and high bytes as \xNN, for test names. */
static const char *
printable(const char *s, char *dst, size_t size)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return dst;
}

static void
random_bytes(unsigned char *p, size_t n, unsigned *seed)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(*seed >> 16);
	}
}

/* Encode LEN bytes and decode them back; 1 when everything agrees. */
static int
round_trip(const unsigned char *src, size_t len)
{
	size_t elen = b64_encoded_len(len);
	char *enc = malloc(elen + 1);
	unsigned char *dec = malloc(elen / 4 * 3 + 1);
	long n;
	int r;

	memset(enc, '#', elen + 1);
	b64_encode(src, len, enc);
	n = b64_decode(enc, elen, dec);
	r = enc[elen] == '\0' && strlen(enc) == elen && elen % 4 == 0 &&
	    n == (long)len && memcmp(dec, src, len) == 0;
	free(enc);
	free(dec);
	return r;
}

int
main(void)
{
	char name[200], enc[64];
	unsigned char dec[64], all[256], buf[300];
	unsigned seed = 4648;
	size_t i;
	long n;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const struct vector *v = &rfc4648[i];
		size_t plen = strlen(v->plain), elen = strlen(v->enc);

		is_int((long long)b64_encoded_len(plen), (long long)elen,
		    "b64_encoded_len");
		b64_encode(v->plain, plen, enc);
		snprintf(name, sizeof(name), "encode \"%s\" = \"%s\"", v->plain,
		    v->enc);
		is_str(enc, v->enc, name);
		n = b64_decode(v->enc, elen, dec);
		snprintf(name, sizeof(name), "decode \"%s\" = \"%s\"", v->enc,
		    v->plain);
		is_mem(dec, n < 0 ? 0 : (size_t)n, v->plain, plen, name);
	}

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		n = b64_decode(g->enc, strlen(g->enc), dec);
		snprintf(name, sizeof(name), "decode \"%s\"", g->enc);
		is_mem(dec, n < 0 ? 0 : (size_t)n, g->dec, g->declen, name);
	}

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		char shown[64];

		snprintf(name, sizeof(name), "decode refuses %s: \"%s\"",
		    bads[i].why, printable(bads[i].enc, shown, sizeof(shown)));
		is_int(b64_decode(bads[i].enc, strlen(bads[i].enc), dec), -1,
		    name);
	}

	/* A NUL inside the given length is a bad character, not the end. */
	is_int(b64_decode("Zm\0v", 4, dec), -1, "decode refuses a NUL byte");
	/* Only SRCLEN bytes are read: a valid prefix of a longer string. */
	n = b64_decode("Zm9vYmFy", 4, dec);
	is_mem(dec, n < 0 ? 0 : (size_t)n, "foo", 3, "decode honours srclen");

	/* Lengths: 0 -> 0, 1..3 -> 4, 4..6 -> 8, and so on. */
	is_int((long long)b64_encoded_len(0), 0, "encoded_len(0)");
	is_int((long long)b64_encoded_len(1), 4, "encoded_len(1)");
	is_int((long long)b64_encoded_len(3), 4, "encoded_len(3)");
	is_int((long long)b64_encoded_len(4), 8, "encoded_len(4)");
	is_int((long long)b64_encoded_len(65535), 87380, "encoded_len(65535)");

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	ok(round_trip(all, sizeof(all)), "round trip of all 256 byte values");
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	ok(round_trip(all, sizeof(all)), "round trip of 256 bytes descending");
	{
		int failed = -1;

		for (i = 0; i <= 300 && failed < 0; i++) {
			random_bytes(buf, sizeof(buf), &seed);
			if (!round_trip(buf, i))
				failed = (int)i;
		}
		ok(failed < 0, "round trip of random bytes, lengths 0..300");
		if (failed >= 0)
			printf("#   failed at length %d\n", failed);
	}
	{
		/* Every single byte and every pair through the decoder. */
		int failed = 0;

		for (i = 0; i < 65536; i++) {
			unsigned char two[2] = {
			    (unsigned char)(i >> 8), (unsigned char)i};

			if (!round_trip(two, 2) || !round_trip(two, 1))
				failed++;
		}
		is_int(failed, 0, "round trip of every 1- and 2-byte input");
	}
	{
		/*
		 * Of the 64 last characters before "==", only those with
		 * the four low bits clear are canonical (A, Q, g, w).
		 */
		static const char alpha[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/";
		int accepted = 0, accepted1 = 0;

		for (i = 0; i < 64; i++) {
			char q[5] = {'Z', alpha[i], '=', '=', '\0'};
			char q1[5] = {'Z', 'm', alpha[i], '=', '\0'};

			if (b64_decode(q, 4, dec) == 1)
				accepted++;
			if (b64_decode(q1, 4, dec) == 2)
				accepted1++;
		}
		is_int(accepted, 4, "exactly 4 canonical X== endings");
		is_int(accepted1, 16, "exactly 16 canonical XX= endings");
	}
	return done();
}
