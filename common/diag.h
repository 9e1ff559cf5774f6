/*
 * Diagnostics: every message a tool prints on stderr goes through here, as
 * "PROG: message", following --quiet and -d.
 */
#ifndef MQSSE_DIAG_H
#define MQSSE_DIAG_H

#include <stdbool.h>
#include <stdnoreturn.h>

/* Remember the program name (the basename of argv0). */
void diag_init(const char *argv0);
/* The program name given to diag_init(). */
const char *diag_prog(void);
/* --quiet suppresses warnings; errors are always printed. */
void diag_set_quiet(bool quiet);
/* Each -d raises the debug level by one. */
void diag_set_debug(int level);
int diag_debug_level(void);

/* An error: always printed. The _e variants append ": strerror(errno)". */
void diag_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_err_e(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning: suppressed by --quiet. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line, printed when the debug level is at least LEVEL. */
void diag_debug(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print an error and exit with STATUS. */
noreturn void diag_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * diag_try_help: after getopt_long has described a bad option, print
 * "Try 'PROG --help' for more information." and exit 2.
 * diag_usage: a usage error: print it, then "Try 'PROG --help' for more information.",
 * and exit 2.
 */
noreturn void diag_try_help(void);
noreturn void diag_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
