/* --version output shared by every tool. */
#ifndef MQSSE_VERSION_H
#define MQSSE_VERSION_H

#include <stdio.h>

/* "PROG (mqsse) VERSION", then the linked libraries' versions. */
void version_print(FILE *fp);

#endif
