#include "config.h"

#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
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
	fprintf(
	    fp, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	fprintf(fp, "libevent %s\n", event_get_version());
	fprintf(fp, "cJSON %s\n", cJSON_Version());
}
