/*
 * Fuzz target: the plan reader (init/provision/parse/plan.c), which runs in
 * provision as root on whatever the parser child wrote: any bytes must be
 * refused or read without a fault, and a plan that reads, written again
 * with the writer, must read again into the same plan (written a third
 * time: the same bytes).
 * Build and run: bench/fuzz.sh plan.
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

static char *rewrite(const struct parse_plan *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	plan_begin(f);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_part *pp = p->items[i].part;
		if (!pp) {
			plan_put_str(f, p->items[i].kind == PLAN_WARN ? "warn" : "info",
				     p->items[i].text);
			continue;
		}
		plan_put_part(f, pp->kind, pp->name, pp->data, pp->len, pp->whole);
		for (char **w = pp->warn; w && *w; w++)
			plan_put_str(f, "warn", *w);
		if (pp->kind == UD_CLOUD_CONFIG)
			plan_put_cloudcfg(f, &pp->cc);
		plan_put_end(f);
	}
	if (p->has_net)
		plan_put_netcfg(f, &p->net);
	if (p->has_meta)
		plan_put_meta(f, &p->meta);
	plan_finish(f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_plan p, q;
	struct err e;
	size_t l1, l2;
	char *one, *two;

	if (plan_read((const char *)data, size, &p, &e) < 0) {
		if (p.items || p.n || !strstr(e.msg, "plan: "))
			abort(); /* refused: nothing left behind, and a message that says so */
		return 0;
	}
	one = rewrite(&p, &l1);
	if (plan_read(one, l1, &q, &e) < 0) {
		fprintf(stderr, "a plan that read does not read again: %s\n", e.msg);
		abort();
	}
	two = rewrite(&q, &l2);
	if (l1 != l2 || memcmp(one, two, l1) != 0)
		abort();
	plan_free(&p), plan_free(&q);
	free(one), free(two);
	return 0;
}
