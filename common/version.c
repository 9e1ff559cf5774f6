#include "config.h"

#include <stdio.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <mosquitto.h>

#include "common/diag.h"
#include "common/version.h"

void
version_print(FILE *fp)
{
	int maj, min, rev;

	mosquitto_lib_version(&maj, &min, &rev);
	fprintf(fp, "%s (mqsse) %s\n", diag_prog(), PACKAGE_VERSION);
	fprintf(fp, "libmosquitto %d.%d.%d\n", maj, min, rev);
	fprintf(fp, "libevent %s\n", event_get_version());
	fprintf(fp, "cJSON %s\n", cJSON_Version());
}
