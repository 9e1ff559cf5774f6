#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/exitcode.h"

static const char *prog = "mqsse";
static bool quiet;
static int debug_level;

void
diag_init(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	prog = slash != NULL ? slash + 1 : argv0;
}

const char *
diag_prog(void)
{
	return prog;
}

void
diag_set_quiet(bool q)
{
	quiet = q;
}

void
diag_set_debug(int level)
{
	debug_level = level;
}

int
diag_debug_level(void)
{
	return debug_level;
}

/*
 * One fprintf per message, so that lines from concurrent processes sharing
 * a terminal do not interleave within a line.
 */
static void vprint(const char *fmt, va_list ap, int errnum)
    __attribute__((format(printf, 1, 0)));

static void
vprint(const char *fmt, va_list ap, int errnum)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0)
		fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}

void
diag_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, 0);
	va_end(ap);
}

void
diag_err_e(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vprint(fmt, ap, errnum);
	va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprint(fmt, ap, 0);
	va_end(ap);
}

void
diag_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (debug_level < level)
		return;
	va_start(ap, fmt);
	vprint(fmt, ap, 0);
	va_end(ap);
}

void
diag_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void
diag_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap, 0);
	va_end(ap);
	diag_try_help();
}

void
diag_try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(EXIT_USAGE);
}
