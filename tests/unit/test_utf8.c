/*
 * common/utf8.c: utf8_is_text decides between "payload" and "payload_b64",
 * so every ill-formed sequence of RFC 3629 (and NUL) must be refused.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "common/utf8.h"

struct utf8_case {
	const char *name;
	const char *in;
	size_t len;
	bool want;
};

/* S(x): a string literal with its length (without the final NUL). */
#define S(x) x, sizeof(x) - 1

static const struct utf8_case cases[] = {
    {"empty", S(""), true},
    {"ASCII", S("hello, world"), true},
    {"all printable ASCII",
        S(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
          "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
        true},
    {"newline", S("a\nb\n"), true},
    {"control characters", S("\x01\x02\t\r\x1b\x1f\x7f"), true},
    {"NUL alone", S("\0"), false},
    {"NUL in the middle", S("ab\0cd"), false},
    {"NUL at the end", S("abc\0"), false},
    {"2-byte U+0080", S("\xc2\x80"), true},
    {"2-byte U+00E9", S("caf\xc3\xa9"), true},
    {"2-byte U+07FF", S("\xdf\xbf"), true},
    {"3-byte U+0800", S("\xe0\xa0\x80"), true},
    {"3-byte U+20AC", S("\xe2\x82\xac"), true},
    {"3-byte U+D7FF", S("\xed\x9f\xbf"), true},
    {"3-byte U+E000", S("\xee\x80\x80"), true},
    {"3-byte U+FFFD", S("\xef\xbf\xbd"), true},
    {"3-byte U+FFFF", S("\xef\xbf\xbf"), true},
    {"4-byte U+10000", S("\xf0\x90\x80\x80"), true},
    {"4-byte U+1F600", S("\xf0\x9f\x98\x80"), true},
    {"4-byte U+10FFFF", S("\xf4\x8f\xbf\xbf"), true},
    {"mixed", S("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), true},
    {"overlong C0 80 (NUL)", S("\xc0\x80"), false},
    {"overlong C1 BF", S("\xc1\xbf"), false},
    {"overlong E0 80 80", S("\xe0\x80\x80"), false},
    {"overlong E0 9F BF", S("\xe0\x9f\xbf"), false},
    {"overlong F0 80 80 80", S("\xf0\x80\x80\x80"), false},
    {"overlong F0 8F BF BF", S("\xf0\x8f\xbf\xbf"), false},
    {"surrogate ED A0 80", S("\xed\xa0\x80"), false},
    {"surrogate ED BF BF", S("\xed\xbf\xbf"), false},
    {"surrogate pair as CESU-8", S("\xed\xa0\xbd\xed\xb8\x80"), false},
    {"above U+10FFFF: F4 90 80 80", S("\xf4\x90\x80\x80"), false},
    {"F5 lead", S("\xf5\x80\x80\x80"), false},
    {"F8 lead (5-byte form)", S("\xf8\x88\x80\x80\x80"), false},
    {"FC lead (6-byte form)", S("\xfc\x84\x80\x80\x80\x80"), false},
    {"FE", S("\xfe"), false},
    {"FF", S("\xff"), false},
    {"truncated 2-byte at end", S("abc\xc3"), false},
    {"truncated 3-byte at end (1 of 2)", S("abc\xe2"), false},
    {"truncated 3-byte at end (2 of 2)", S("abc\xe2\x82"), false},
    {"truncated 4-byte at end (1 of 3)", S("\xf0"), false},
    {"truncated 4-byte at end (3 of 3)", S("\xf0\x9f\x98"), false},
    {"truncated 3-byte before ASCII", S("\xe2\x82z"), false},
    {"lone continuation 80", S("\x80"), false},
    {"lone continuation BF after ASCII", S("a\xbf"), false},
    {"continuation after complete char", S("\xc3\xa9\xa9"), false},
    {"2-byte lead then ASCII",
        S("\xc3"
          "a"),
        false},
    {"4-byte with a bad last byte", S("\xf0\x9f\x98\x41"), false},
    {"4-byte with NUL as last byte", S("\xf0\x9f\x98\x00"), false},
};

int
main(void)
{
	char name[160], big[70000];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "%s: %s", cases[i].name,
		    cases[i].want ? "text" : "not text");
		is_int(utf8_is_text(cases[i].in, cases[i].len), cases[i].want,
		    name);
	}

	/* The length is honoured: bytes past LEN are never looked at. */
	is_int(utf8_is_text("ab\0", 2), true, "NUL past LEN is ignored");
	is_int(utf8_is_text("\xc3\xa9", 1), false,
	    "sequence cut by LEN is refused");
	is_int(utf8_is_text(NULL, 0), true, "NULL with length 0 is text");

	/* Every single byte: only 01..7F are text on their own. */
	for (i = 0; i < 256; i++) {
		unsigned char b = (unsigned char)i;

		if (utf8_is_text(&b, 1) != (i >= 1 && i <= 0x7f)) {
			snprintf(name, sizeof(name), "single byte %02zx", i);
			ok(0, name);
			break;
		}
	}
	ok(i == 256, "each single byte: 01..7f text, the rest not");

	/* Every 2-byte lead with every continuation byte. */
	{
		int bad = 0;

		for (unsigned lead = 0x80; lead < 0x100; lead++)
			for (unsigned c = 0; c < 0x100; c++) {
				unsigned char s[2] = {
				    (unsigned char)lead, (unsigned char)c};
				bool want = lead >= 0xc2 && lead <= 0xdf &&
				    c >= 0x80 && c <= 0xbf;

				if (utf8_is_text(s, 2) != want)
					bad++;
			}
		is_int(bad, 0, "all two-byte pairs with a high lead byte");
	}

	/* A long text: the multi-byte sequence just at the end. */
	memset(big, 'a', sizeof(big));
	memcpy(big + sizeof(big) - 4, "\xf0\x9f\x98\x80", 4);
	is_int(utf8_is_text(big, sizeof(big)), true, "70000 bytes of text");
	is_int(utf8_is_text(big, sizeof(big) - 1), false,
	    "70000 bytes cut inside the last character");
	return done();
}
