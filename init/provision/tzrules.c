/*
 * tzrules.c: a time zone name -> its POSIX TZ rule, from the image's table.
 *
 * Wisp has no zoneinfo in ROOT (size); the build writes one line per zone of
 * Debian's tzdata, "Europe/Berlin CET-1CEST,M3.5.0,M10.5.0/3" (the footer of
 * each TZif file: rootfs/tzrules.py), to TZ_RULES. musl takes such a rule as
 * TZ directly. The table is ROOT's, so it is trusted; the name comes from
 * user-data and was checked by the parser (cc_zone_name) and is only
 * compared here, never used as a path.
 */
#include "provision.h"

#include <stdio.h>
#include <string.h>

int tz_rule(const char *table, const char *name, char *rule, size_t size)
{
	char line[256];
	size_t n = strlen(name);
	int found = -1;
	FILE *f = fopen(table, "re");

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, name, n) || line[n] != ' ')
			continue;
		if (snprintf(rule, size, "%s", line + n + 1) < (int)size && cc_posix_tz(rule))
			found = 0;
		else
			break; /* a rule that does not fit or does not check: none */
	}
	fclose(f);
	return found;
}
