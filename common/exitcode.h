/* Exit statuses shared by every tool (SPEC section 1). */
#ifndef MQSSE_EXITCODE_H
#define MQSSE_EXITCODE_H

#define EXIT_OK 0        /* success */
#define EXIT_RUNTIME 1   /* I/O error, lost message, bad input record */
#define EXIT_USAGE 2     /* bad option, argument, topic or URL */
#define EXIT_CONNECT 3   /* could not connect, refused, gave up */
#define EXIT_TIMEOUT 124 /* -W expired before -C was reached */

#endif
