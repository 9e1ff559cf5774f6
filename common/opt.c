#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/diag.h"
#include "common/opt.h"

/* Parse leading digits of S into *OUT; return the end or NULL on overflow. */
static const char *
digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return s;
}

int
opt_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	const char *end;
	uint64_t v;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "not a number: '%s'", s ? s : "");
		return -1;
	}
	end = digits(s, &v);
	if (end == NULL || v > max || v < min) {
		snprintf(err, errlen, "'%s' is out of range (%llu to %llu)", s,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	if (*end != '\0') {
		snprintf(err, errlen, "not a number: '%s'", s);
		return -1;
	}
	*out = v;
	return 0;
}

int
opt_parse_duration_ms(
    const char *s, uint64_t max_ms, uint64_t *out, char *err, size_t errlen)
{
	const char *p;
	uint64_t whole, frac = 0, scale = 1, unit = 1000, ms;
	int fdigits = 0;

	if (s == NULL || !(isdigit((unsigned char)*s) || *s == '.'))
		goto bad;
	p = digits(s, &whole);
	if (p == NULL)
		goto range;
	if (*p == '.') {
		p++;
		/* Keep three fractional digits (milliseconds) and ignore more. */
		while (isdigit((unsigned char)*p)) {
			if (fdigits < 3) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
				fdigits++;
			}
			p++;
		}
		if (p == s + 1)
			goto bad;
	}
	if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (*p == '\0' || strcmp(p, "s") == 0)
		unit = 1000;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else if (strcmp(p, "h") == 0)
		unit = 3600000;
	else
		goto bad;
	if (whole > max_ms / unit)
		goto range;
	ms = whole * unit;
	if (frac * unit / scale > max_ms - ms)
		goto range;
	ms += frac * unit / scale;
	*out = ms;
	return 0;
bad:
	snprintf(err, errlen, "not a duration: '%s'", s ? s : "");
	return -1;
range:
	snprintf(err, errlen, "'%s' is out of range (at most %llu seconds)", s,
	    (unsigned long long)(max_ms / 1000));
	return -1;
}

int
opt_parse_size(
    const char *s, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"K", 1024},
	    {"KB", 1024},
	    {"KiB", 1024},
	    {"M", 1048576},
	    {"MB", 1048576},
	    {"MiB", 1048576},
	    {"G", 1073741824},
	    {"GB", 1073741824},
	    {"GiB", 1073741824},
	};
	const char *p;
	uint64_t v;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "not a size: '%s'", s ? s : "");
		return -1;
	}
	p = digits(s, &v);
	if (p == NULL)
		goto range;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix) != 0)
			continue;
		if (v > max / units[i].mult)
			goto range;
		*out = v * units[i].mult;
		return 0;
	}
	snprintf(err, errlen, "not a size: '%s'", s);
	return -1;
range:
	snprintf(err, errlen, "'%s' is out of range (at most %llu bytes)", s,
	    (unsigned long long)max);
	return -1;
}

uint64_t
opt_uint(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char err[256];
	uint64_t v;

	if (opt_parse_uint(s, min, max, &v, err, sizeof(err)) == -1)
		diag_usage("%s: %s", name, err);
	return v;
}

uint64_t
opt_duration_ms(const char *name, const char *s, uint64_t max_ms)
{
	char err[256];
	uint64_t v;

	if (opt_parse_duration_ms(s, max_ms, &v, err, sizeof(err)) == -1)
		diag_usage("%s: %s", name, err);
	return v;
}

uint64_t
opt_size(const char *name, const char *s, uint64_t max)
{
	char err[256];
	uint64_t v;

	if (opt_parse_size(s, max, &v, err, sizeof(err)) == -1)
		diag_usage("%s: %s", name, err);
	return v;
}
