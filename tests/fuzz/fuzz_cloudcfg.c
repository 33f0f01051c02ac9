/*
 * Fuzz target: user-data as provision's parser child reads it: the format
 * detection, gzip (zlib) and MIME split (init/provision/parse/userdata.c,
 * gunzip.c), every #cloud-config part through the cloud-config parser
 * (cloudcfg.c + yamltree.c), all written as a plan (child.c, plan.c). The
 * plan the child writes must read back (plan_read): a parser result the
 * reader refuses would silently cost a user their user-data. Nothing is
 * applied: applying writes the system.
 * Build and run: bench/fuzz.sh cloudcfg.
 */
#include "provision/parse/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parser child never logs (its seccomp filter would kill it at the open of
 * /dev/kmsg): every message goes into the plan. */
void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_input in = {
	    .name = "/run/wisp/cidata/user-data", .data = (const char *)data, .len = size};
	struct parse_job job = {.in = &in, .n = 1, .partdir = "/run/wisp/cidata"};
	struct parse_plan p;
	char *buf = NULL;
	size_t len = 0;
	struct err e;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	plan_begin(f);
	parse_userdata(f, &job);
	plan_finish(f);
	if (fclose(f) != 0)
		abort();
	if (plan_read(buf, len, &p, &e) < 0) {
		fprintf(stderr, "the child's plan does not read: %s\n", e.msg);
		abort();
	}
	plan_free(&p);
	free(buf);
	return 0;
}
