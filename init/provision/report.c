/*
 * report.c: CLOUD_REPORT, what provisioning found, applied and warned
 * about this boot, one line each, for `wispctl config` (control.c sends
 * the file). Written by provision (cloudinit.c, declw.c) and, for the
 * datasource's network configuration, netcfg.c; emptied at the start of
 * every run (main.c). report_warn() is provision's one way to warn: the
 * same text in the log and in the report, counted per source.
 */
#include "provision.h"

#include <stdarg.h>
#include <stdio.h>

/* Set by main.c (its --root) through cloudinit_report_to(); unit tests set their own. */
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

void report_warn(void *w, const char *fmt, ...)
{
	struct warner *from = w;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	from->count++;
	log_msg(LOG_WARNING, "%s: %s", from->who, msg);
	cloudinit_report("warning: %s", msg);
}
