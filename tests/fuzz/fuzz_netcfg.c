/*
 * Fuzz target: the network configuration parsers (init/provision/parse/netcfg.c +
 * yamltree.c) on one input taken as a network-config (v1 or v2, wrapped
 * in network: or not) and as a network_data.json, as net.c reads a
 * datasource's files. Every value stored must pass the character check
 * net.c relies on when it builds `ip` command lines.
 * Build and run: bench/fuzz.sh netcfg.
 */
#include "provision/provision.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* init's log.c needs the console; every message must name a position ("path:l:c: ..."). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct netcfg *cfg = calloc(1, sizeof(*cfg));
	struct yfile y;
	struct err e;

	if (fd < 0) {
		if ((fd = memfd_create("netcfg", 0)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (!cfg || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (ytree_load(path, &y, &e) == 0) {
		const struct ynode *root = y.ndoc ? y.doc[0] : NULL;
		const struct ynode *net = ytree_get(root, "network");
		netcfg_read(path, net ? net : root, cfg);
		check(cfg);
		memset(cfg, 0, sizeof(*cfg));
		netcfg_openstack(path, root, cfg);
		check(cfg);
		ytree_free(&y);
	}
	free(cfg);
	return 0;
}
