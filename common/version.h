/* --version output shared by every tool. */
#ifndef MQSSE_VERSION_H
#define MQSSE_VERSION_H

#include <stdio.h>

/*
 * "PROG (mqsse) VERSION", then the versions of the libraries every tool
 * links (libmosquitto, libevent, cJSON); a tool that links more (libcurl)
 * prints those lines itself after this.
 */
void version_print(FILE *fp);

#endif
