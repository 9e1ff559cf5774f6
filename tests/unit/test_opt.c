/*
 * common/opt.c: the range-checked parsers for numbers, durations and sizes.
 * Each table row is one input with its bounds, the expected status, the
 * expected value (for successes) or a substring of the reason (for errors).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "common/opt.h"

#define U64MAX UINT64_MAX

struct uint_case {
	const char *in;
	uint64_t min, max;
	int rc;
	uint64_t want;
	const char *err; /* substring of the reason when rc == -1 */
};

static const struct uint_case uint_cases[] = {
    {"0", 0, 10, 0, 0, NULL},
    {"7", 0, 10, 0, 7, NULL},
    {"10", 0, 10, 0, 10, NULL},
    {"007", 0, 10, 0, 7, NULL},
    {"1", 1, 1, 0, 1, NULL},
    {"18446744073709551615", 0, U64MAX, 0, U64MAX, NULL},
    {"65535", 1, 65535, 0, 65535, NULL},
    {"", 0, 10, -1, 0, "not a number: ''"},
    {"x", 0, 10, -1, 0, "not a number: 'x'"},
    {"1x", 0, 10, -1, 0, "not a number: '1x'"},
    {"1 ", 0, 10, -1, 0, "not a number"},
    {" 1", 0, 10, -1, 0, "not a number"},
    {"-1", 0, 10, -1, 0, "not a number: '-1'"},
    {"+1", 0, 10, -1, 0, "not a number: '+1'"},
    {"1.5", 0, 10, -1, 0, "not a number"},
    {"0x10", 0, 100, -1, 0, "not a number"},
    {"11", 0, 10, -1, 0, "'11' is out of range (0 to 10)"},
    {"0", 1, 10, -1, 0, "'0' is out of range (1 to 10)"},
    {"65536", 1, 65535, -1, 0, "out of range (1 to 65535)"},
    {"18446744073709551616", 0, U64MAX, -1, 0, "out of range"},
    {"99999999999999999999999", 0, U64MAX, -1, 0, "out of range"},
};

struct dur_case {
	const char *in;
	uint64_t max_ms;
	int rc;
	uint64_t want;
	const char *err;
};

static const struct dur_case dur_cases[] = {
    {"1", 86400000, 0, 1000, NULL},
    {"0", 86400000, 0, 0, NULL},
    {"0.5", 86400000, 0, 500, NULL},
    {".5", 86400000, 0, 500, NULL},
    {"1.", 86400000, 0, 1000, NULL},
    {"1.2345", 86400000, 0, 1234, NULL},
    {"1.999999", 86400000, 0, 1999, NULL},
    {"0.001", 86400000, 0, 1, NULL},
    {"250ms", 86400000, 0, 250, NULL},
    {"0.5ms", 86400000, 0, 0, NULL},
    {"3s", 86400000, 0, 3000, NULL},
    {"1.5s", 86400000, 0, 1500, NULL},
    {"2m", 86400000, 0, 120000, NULL},
    {"0.5m", 86400000, 0, 30000, NULL},
    {"1h", 86400000, 0, 3600000, NULL},
    {"1.5h", 86400000, 0, 5400000, NULL},
    {"24h", 86400000, 0, 86400000, NULL},
    {"86400", 86400000, 0, 86400000, NULL},
    {"", 86400000, -1, 0, "not a duration: ''"},
    {"x", 86400000, -1, 0, "not a duration: 'x'"},
    {".", 86400000, -1, 0, "not a duration: '.'"},
    {"1x", 86400000, -1, 0, "not a duration: '1x'"},
    {"1 s", 86400000, -1, 0, "not a duration"},
    {"1S", 86400000, -1, 0, "not a duration"},
    {"1ms2", 86400000, -1, 0, "not a duration"},
    {"-1", 86400000, -1, 0, "not a duration"},
    {"1..5", 86400000, -1, 0, "not a duration"},
    {"s", 86400000, -1, 0, "not a duration"},
    {"86401", 86400000, -1, 0, "out of range (at most 86400 seconds)"},
    {"24.001h", 86400000, -1, 0, "out of range"},
    {"86400.001", 86400000, -1, 0, "out of range"},
    {"1441m", 86400000, -1, 0, "out of range"},
    {"25h", 86400000, -1, 0, "out of range"},
    {"18446744073709551616", U64MAX, -1, 0, "out of range"},
    {"18446744073709551615", U64MAX, -1, 0, "out of range"},
    {"18446744073709551615ms", U64MAX, 0, U64MAX, NULL},
    {"18446744073709551615.9ms", U64MAX, 0, U64MAX, NULL},
    /*
	 * Near UINT64_MAX the fraction must not wrap the sum around: the
	 * largest whole number of seconds is 18446744073709551 with 615 ms
	 * to spare, of hours 5124095576030 with 1551615 ms to spare.
	 */
    {"18446744073709551.615", U64MAX, 0, U64MAX, NULL},
    {"18446744073709551.616", U64MAX, -1, 0, "out of range"},
    {"18446744073709551.9", U64MAX, -1, 0, "out of range"},
    {"5124095576030.4h", U64MAX, 0, 18446744073709440000ULL, NULL},
    {"5124095576030.9h", U64MAX, -1, 0, "out of range"},
};

struct size_case {
	const char *in;
	uint64_t max;
	int rc;
	uint64_t want;
	const char *err;
};

#define GiB 1073741824ULL

static const struct size_case size_cases[] = {
    {"0", 1024, 0, 0, NULL},
    {"100", 1024, 0, 100, NULL},
    {"100B", 1024, 0, 100, NULL},
    {"1k", U64MAX, 0, 1024, NULL},
    {"1K", U64MAX, 0, 1024, NULL},
    {"1KB", U64MAX, 0, 1024, NULL},
    {"1KiB", U64MAX, 0, 1024, NULL},
    {"1kib", U64MAX, 0, 1024, NULL},
    {"64M", U64MAX, 0, 64ULL << 20, NULL},
    {"64MiB", U64MAX, 0, 64ULL << 20, NULL},
    {"2G", U64MAX, 0, 2 * GiB, NULL},
    {"10G", 10 * GiB, 0, 10 * GiB, NULL},
    {"1024", 1024, 0, 1024, NULL},
    {"1K", 1024, 0, 1024, NULL},
    {"10G", 10 * GiB - 1, -1, 0, "out of range (at most 10737418239 bytes)"},
    {"1025", 1024, -1, 0, "'1025' is out of range (at most 1024 bytes)"},
    {"2K", 1024, -1, 0, "out of range"},
    {"17179869184G", U64MAX, -1, 0, "out of range"},
    {"18446744073709551616", U64MAX, -1, 0, "out of range"},
    {"", 1024, -1, 0, "not a size: ''"},
    {"x", 1024, -1, 0, "not a size: 'x'"},
    {"K", 1024, -1, 0, "not a size: 'K'"},
    {"1T", U64MAX, -1, 0, "not a size: '1T'"},
    {"1 K", U64MAX, -1, 0, "not a size"},
    {"1KK", U64MAX, -1, 0, "not a size"},
    {"1.5M", U64MAX, -1, 0, "not a size"},
    {"-1", U64MAX, -1, 0, "not a size"},
    {"1Ki", U64MAX, -1, 0, "not a size"},
};

static void
check(const char *what, const char *in, int rc, int want_rc, uint64_t got,
    uint64_t want, const char *err, const char *want_err)
{
	char name[256];

	snprintf(name, sizeof(name), "%s '%s' returns %d", what, in, want_rc);
	if (!is_int(rc, want_rc, name))
		printf("#   reason: %s\n", err);
	if (want_rc == 0) {
		snprintf(name, sizeof(name), "%s '%s' = %llu", what, in,
		    (unsigned long long)want);
		ok(got == want, name);
		if (got != want)
			printf("#   got %llu\n", (unsigned long long)got);
	} else {
		snprintf(name, sizeof(name), "%s '%s' reason has \"%s\"", what,
		    in, want_err);
		ok(strstr(err, want_err) != NULL, name);
		if (strstr(err, want_err) == NULL)
			printf("#   reason: %s\n", err);
	}
}

int
main(void)
{
	char err[256];
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(uint_cases) / sizeof(uint_cases[0]); i++) {
		const struct uint_case *c = &uint_cases[i];

		v = 12345;
		err[0] = '\0';
		rc =
		    opt_parse_uint(c->in, c->min, c->max, &v, err, sizeof(err));
		check("uint", c->in, rc, c->rc, v, c->want, err, c->err);
	}
	for (i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		const struct dur_case *c = &dur_cases[i];

		v = 12345;
		err[0] = '\0';
		rc = opt_parse_duration_ms(
		    c->in, c->max_ms, &v, err, sizeof(err));
		check("duration", c->in, rc, c->rc, v, c->want, err, c->err);
	}
	for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		const struct size_case *c = &size_cases[i];

		v = 12345;
		err[0] = '\0';
		rc = opt_parse_size(c->in, c->max, &v, err, sizeof(err));
		check("size", c->in, rc, c->rc, v, c->want, err, c->err);
	}

	/* A failed parse leaves *OUT alone; NULL is refused, not crashed on. */
	v = 42;
	opt_parse_uint("x", 0, 10, &v, err, sizeof(err));
	is_int((long long)v, 42, "uint: *out untouched on error");
	v = 42;
	opt_parse_duration_ms("2h", 1000, &v, err, sizeof(err));
	is_int((long long)v, 42, "duration: *out untouched on error");
	is_int(opt_parse_uint(NULL, 0, 10, &v, err, sizeof(err)), -1,
	    "uint: NULL refused");
	is_int(opt_parse_duration_ms(NULL, 10, &v, err, sizeof(err)), -1,
	    "duration: NULL refused");
	is_int(opt_parse_size(NULL, 10, &v, err, sizeof(err)), -1,
	    "size: NULL refused");

	/* The reason is truncated to ERRLEN, never overflowing it. */
	memset(err, 'Z', sizeof(err));
	opt_parse_uint("junk", 0, 10, &v, err, 8);
	is_int((long long)strlen(err), 7, "uint: reason truncated to errlen");
	ok(err[8] == 'Z', "uint: nothing written past errlen");
	return done();
}
