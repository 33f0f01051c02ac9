/*
 * Fuzz target: the parsers of a datasource's files other than user-data
 * (init/provision/parse/netcfg.c, meta.c + yamltree.c) on one input taken
 * as a network-config (v1 or v2, wrapped in network: or not), as a
 * network_data.json and as meta-data (YAML and meta_data.json, Azure's
 * IMDS answer, goal state and ovf-env.xml), as the
 * parser child reads them. Every message names a position; every value
 * stored must pass the character check net.c relies on when it builds `ip`
 * command lines, every key is one line; and the plan of a valid result
 * must read back.
 * Build and run: bench/fuzz.sh netcfg.
 */
#include "provision/parse/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* netcfg_read() without a sink logs (as for /etc/wisp); the same rule applies. */
void log_msg(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strchr(msg, ':'))
		abort();
}

static void warn(void *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strchr(msg, ':'))
		abort();
}

static void check(const struct netcfg *cfg)
{
	if (cfg->n > NET_MAX_IFS)
		abort();
	for (size_t i = 0; i < cfg->n; i++) {
		const struct ifcfg *c = &cfg->ifs[i];
		if (c->naddr > NET_MAX_LIST || c->nroute > NET_MAX_LIST || c->ndns > NET_MAX_LIST ||
		    c->nsearch > NET_MAX_LIST)
			abort();
		for (size_t j = 0; j < c->naddr; j++)
			if (!net_safe(c->addr[j], NET_ADDR_CHARS))
				abort();
		for (size_t j = 0; j < c->nroute; j++)
			if (!net_safe(c->route[j].via, NET_ADDR_CHARS) ||
			    (strcmp(c->route[j].to, "default") &&
			     !net_safe(c->route[j].to, NET_ADDR_CHARS)))
				abort();
		if ((c->gw4[0] && !net_safe(c->gw4, NET_ADDR_CHARS)) ||
		    (c->set_name[0] && !net_safe(c->set_name, NET_NAME_CHARS)))
			abort();
	}
}

/* A plan of a network configuration or of a meta-data record (the other NULL). */
static char *write_plan(const struct netcfg *cfg, const struct ds_meta *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	plan_begin(f);
	if (cfg)
		plan_put_netcfg(f, cfg);
	if (m)
		plan_put_meta(f, m);
	plan_finish(f);
	fclose(f);
	return buf;
}

/* A valid configuration goes into a plan that the reader must take as it is: read and
 * written again, the same bytes (slots past a count may differ: they are not used). */
static void round_trip(const struct netcfg *cfg)
{
	struct parse_plan p;
	size_t l1, l2;
	struct err e;
	char *one = write_plan(cfg, NULL, &l1), *two;

	if (plan_read(one, l1, &p, &e) < 0) {
		fprintf(stderr, "a valid configuration's plan does not read: %s\n", e.msg);
		abort();
	}
	two = write_plan(&p.net, NULL, &l2);
	if (l1 != l2 || memcmp(one, two, l1) != 0)
		abort();
	plan_free(&p);
	free(one), free(two);
}

/* meta-data: keys are single lines, and its plan reads back into the same record. */
static void meta(const char *name, const uint8_t *data, size_t size, struct ud_sink *w)
{
	struct ds_meta m = {0};
	struct parse_plan p;
	size_t l1, l2;
	struct err e;
	char *one, *two;

	meta_parse(name, (const char *)data, size, &m, w);
	for (char **k = m.keys; k && *k; k++)
		if (strpbrk(*k, "\r\n"))
			abort();
	one = write_plan(NULL, &m, &l1);
	if (plan_read(one, l1, &p, &e) < 0) {
		fprintf(stderr, "meta-data's plan does not read: %s\n", e.msg);
		abort();
	}
	two = write_plan(NULL, &p.meta, &l2);
	if (l1 != l2 || memcmp(one, two, l1) != 0)
		abort();
	plan_free(&p);
	meta_free(&m);
	free(one), free(two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"network-config", "network_data.json"};
	static const char *const metas[] = {"meta-data", "meta_data.json", AZURE_IMDS_FILE,
					    AZURE_GOALSTATE_FILE, AZURE_OVF_FILE};
	struct ud_sink w = {.warn = warn};
	struct netcfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		abort();
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		memset(cfg, 0, sizeof(*cfg));
		int bad = netcfg_parse_ds(names[i], (const char *)data, size, cfg, &w);
		check(cfg);
		if (!bad)
			round_trip(cfg);
	}
	for (size_t i = 0; i < ARRAY_LEN(metas); i++)
		meta(metas[i], data, size, &w);
	free(cfg);
	return 0;
}
