/*
 * report.c: CLOUD_REPORT, what provisioning found, applied and warned
 * about this boot, one line each, for `wispctl config` (control.c sends
 * the file). Written by provision (cloudinit.c, declw.c) and, for the
 * datasource's network configuration, netcfg.c; emptied at the start of
 * every run (main.c).
 */
#include "provision.h"

#include <stdarg.h>
#include <stdio.h>

/* Here, not rooted() (root.c): the parsers' fuzz targets link this file alone. */
static const char *report_path = CLOUD_REPORT;

void cloudinit_report_to(const char *path)
{
	report_path = path;
}

void cloudinit_report(const char *fmt, ...)
{
	FILE *f = fopen(report_path, "ae");
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}
