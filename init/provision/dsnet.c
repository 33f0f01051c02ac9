/*
 * dsnet.c: the datasource's network configuration (network-config, or
 * the config drive's network_data.json), read here as root and parsed by
 * the unprivileged child (parse/sandbox.c); net.c gets the netcfg the
 * plan rebuilt. The child's messages are logged in their order when
 * net.c asks, so the console tells the network's story where it always
 * did. Any problem, a crash or a plan that does not read: DHCP on every
 * NIC, as for an invalid file.
 */
#include "provision.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The child's words, logged and reported; the number of problems among them. */
static int replay(const struct parse_plan *p)
{
	int bad = 0;

	for (size_t i = 0; i < p->n; i++) {
		const char *t = p->items[i].text;
		if (p->items[i].kind == PLAN_WARN) {
			bad++;
			log_msg(LOG_ERR, "%s", t);
			cloudinit_report("warning: %s", t);
		} else if (p->items[i].kind == PLAN_INFO) {
			log_msg(LOG_INFO, "%s", t);
		} else {
			bad++; /* a part in a network plan: not this child's */
		}
	}
	return bad;
}

/* path parsed in the child into cfg. Returns the number of problems (a failure is one). */
static int from_file(const char *path, struct netcfg *cfg)
{
	char *buf = malloc(YAML_MAX_BYTES + 1), *out = NULL;
	struct parse_input in = {.name = path, .data = buf};
	struct parse_plan *p = calloc(1, sizeof(*p));
	struct err e;
	size_t len;
	int n, bad = 1;

	if (!buf || !p)
		log_msg(LOG_ERR, "%s: network: out of memory", path);
	else if ((n = read_file(path, buf, YAML_MAX_BYTES + 1, &e)) < 0)
		log_msg(LOG_ERR, "%s:0:0: network: %s", path, e.msg);
	else if ((in.len = (size_t)n, sandbox_run(parse_network, &in, SANDBOX_MS, &out, &len, &e)) <
		     0 ||
		 plan_read(out, len, p, &e) < 0) {
		log_msg(LOG_ERR, "%s: network-config parser %s", path, e.msg);
		cloudinit_report("warning: %s: network-config parser %s", path, e.msg);
	} else {
		bad = replay(p);
		if (!bad && p->has_net)
			*cfg = p->net;
		plan_free(p);
	}
	free(p);
	free(out);
	free(buf);
	return bad;
}

int netcfg_from_ds(const char *dir, struct netcfg *cfg)
{
	static const char *const names[] = {"network-config", "network_data.json"};
	char path[512];

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (fmt_path(path, sizeof(path), "%s/%s", dir, names[i]) < 0 ||
		    access(path, F_OK) < 0)
			continue;
		if (from_file(path, cfg) > 0) {
			log_msg(LOG_WARNING,
				"cloud-init: %s: invalid network configuration (above); DHCP on "
				"every NIC instead",
				path);
			cloudinit_report("warning: %s: invalid network configuration; DHCP on "
					 "every NIC instead",
					 path);
			memset(cfg, 0, sizeof(*cfg));
			return 0;
		}
		if (cfg->present) {
			log_msg(LOG_INFO, "network: from %s (%zu interface%s)", path, cfg->n,
				cfg->n == 1 ? "" : "s");
			cloudinit_report("network: from %s (%zu interface%s)", path, cfg->n,
					 cfg->n == 1 ? "" : "s");
		}
		return cfg->present;
	}
	return 0;
}
