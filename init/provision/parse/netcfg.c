/*
 * netcfg.c: the network configuration formats, all into one struct netcfg
 * that net.c applies (docs/network.md):
 *   - version 2 (netplan's subset that cloud-init writes): our own
 *     `network:` key in /etc/wisp and a NoCloud network-config;
 *   - version 1 (cloud-init's `config:` list of physical and nameserver
 *     entries), in the same places;
 *   - OpenStack's network_data.json (links, networks, services), read
 *     with the YAML reader as meta_data.json is (JSON is YAML flow style).
 * Every value is checked against a character set before it is stored,
 * because net.c puts it in a shell command line. Problems are told as
 * path:line:col (to the log for /etc/wisp's, to the parser child's sink
 * for a datasource's) and counted in the file's struct nctx: a
 * datasource's configuration with any problem is dropped as a whole (DHCP
 * instead), as a half-applied one could leave the host unreachable. Keys
 * of an interface are tables (struct nkey), read by read_keys().
 */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One file's reading: its name for messages, where they go, how many problems so far. */
struct nctx {
	const char *path;
	struct ud_sink
	    *sink; /* the datasource's (the child's): messages go there, not to the log */
	int problems;
};

bool net_safe(const char *s, const char *allowed)
{
	return s[0] && s[0] != '-' && strspn(s, allowed) == strlen(s);
}

static void problem(struct nctx *x, const struct ynode *n, const char *what, const char *val)
{
	x->problems++;
	if (x->sink)
		x->sink->warn(x->sink->ctx, "%s:%d:%d: network: %s%s%s%s", x->path, n ? n->line : 0,
			      n ? n->col : 0, what, val ? " \"" : "", val ? val : "",
			      val ? "\"" : "");
	else
		log_msg(LOG_ERR, "%s:%d:%d: network: %s%s%s%s", x->path, n ? n->line : 0,
			n ? n->col : 0, what, val ? " \"" : "", val ? val : "", val ? "\"" : "");
}

/* A note that is not a problem: the log (or the sink's info) only. */
static void PRINTF_LIKE(2, 3) note(struct nctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!x->sink)
		log_msg(LOG_INFO, "%s", msg);
	else if (x->sink->info)
		x->sink->info(x->sink->ctx, "%s", msg);
}

/* A scalar into buf, checked against allowed. Returns 0, or -1 (reported). */
static int get_str(struct nctx *x, const struct ynode *v, const char *what, const char *allowed,
		   char *buf, size_t size)
{
	if (!v)
		return 0;
	if (v->type != Y_SCALAR || strlen(v->str) >= size || !net_safe(v->str, allowed)) {
		problem(x, v, what, v->type == Y_SCALAR ? v->str : NULL);
		return -1;
	}
	strcpy(buf, v->str);
	return 0;
}

/* A list of scalars (or one scalar, as v1 allows) appended to list[NET_MAX_LIST][width]. */
static int get_list(struct nctx *x, const struct ynode *v, const char *what, const char *allowed,
		    char *list, size_t width, size_t *n)
{
	const struct ynode *const *item = (const struct ynode *const *)&v;
	size_t count = 1;

	if (!v)
		return 0;
	if (v->type == Y_SEQ)
		item = (const struct ynode *const *)v->kid, count = v->n;
	else if (v->type != Y_SCALAR)
		return problem(x, v, what, "not a list"), -1;
	for (size_t i = 0; i < count; i++) {
		if (*n == NET_MAX_LIST)
			return problem(x, item[i], "too many entries in", what), -1;
		if (get_str(x, item[i], what, allowed, list + *n * width, width) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static bool truthy(const struct ynode *v)
{
	return v && v->type == Y_SCALAR &&
	       (!strcmp(v->str, "true") || !strcmp(v->str, "yes") || !strcmp(v->str, "on"));
}

/* One key of an interface's mapping (m[key] or m[key][sub]): what it may hold and where
 * it goes in struct ifcfg; a list when count is set; or read by read(). */
struct nkey {
	const char *key, *sub;
	const char *what, *allowed;
	size_t off, width, count;
	int (*read)(struct nctx *x, const struct ynode *v, struct ifcfg *c);
};

#define NK(k, s, what, allowed, m)                                                                 \
	{                                                                                          \
		k, s, what, allowed, offsetof(struct ifcfg, m), sizeof(((struct ifcfg *)0)->m), 0, \
		    NULL                                                                           \
	}
#define NL(k, s, what, allowed, m, n)                                                              \
	{                                                                                          \
		k, s, what, allowed, offsetof(struct ifcfg, m), sizeof(((struct ifcfg *)0)->m[0]), \
		    offsetof(struct ifcfg, n), NULL                                                \
	}

/* The keys of table in m into c, in the table's order; the first problem stops it. */
static int read_keys(struct nctx *x, const struct ynode *m, const struct nkey *keys, size_t n,
		     struct ifcfg *c)
{
	for (size_t i = 0; i < n; i++) {
		const struct nkey *k = &keys[i];
		const struct ynode *v = ytree_get(m, k->key);
		char *dst = (char *)c + k->off;
		int r;

		if (k->sub)
			v = ytree_get(v, k->sub);
		if (k->read)
			r = k->read(x, v, c);
		else if (k->count)
			r = get_list(x, v, k->what, k->allowed, dst, k->width,
				     (size_t *)(void *)((char *)c + k->count));
		else
			r = get_str(x, v, k->what, k->allowed, dst, k->width);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- version 2 ----------------------------------------------------- */

static int v2_routes(struct nctx *x, const struct ynode *v, struct ifcfg *c)
{
	if (!v)
		return 0;
	if (v->type != Y_SEQ)
		return problem(x, v, "routes must be a list", NULL), -1;
	for (size_t i = 0; i < v->n; i++) {
		struct net_route *r = &c->route[c->nroute];
		const struct ynode *to = ytree_get(v->kid[i], "to"),
				   *via = ytree_get(v->kid[i], "via");

		if (c->nroute == NET_MAX_LIST || !to || !via)
			return problem(x, v->kid[i], "a route needs \"to\" and \"via\"", NULL), -1;
		if (to->type == Y_SCALAR && strcmp(to->str, "default") == 0)
			strcpy(r->to, "default");
		else if (get_str(x, to, "bad route \"to\"", NET_ADDR_CHARS, r->to, sizeof(r->to)))
			return -1;
		if (get_str(x, via, "bad route \"via\"", NET_ADDR_CHARS, r->via, sizeof(r->via)))
			return -1;
		c->nroute++;
	}
	return 0;
}

static const struct nkey v2_keys[] = {
    NK("match", "name", "bad match.name", NET_NAME_CHARS "*?", match_name),
    NK("match", "macaddress", "bad match.macaddress", NET_ADDR_CHARS, match_mac),
    NK("set-name", NULL, "bad set-name", NET_NAME_CHARS, set_name),
    NL("addresses", NULL, "bad address", NET_ADDR_CHARS, addr, naddr),
    NK("gateway4", NULL, "bad gateway4", NET_ADDR_CHARS, gw4),
    {"routes", NULL, NULL, NULL, 0, 0, 0, v2_routes},
    NL("nameservers", "addresses", "bad nameserver", NET_ADDR_CHARS, dns, ndns),
    NL("nameservers", "search", "bad search domain", NET_NAME_CHARS, search, nsearch),
};

static int v2_if(struct nctx *x, const char *key, const struct ynode *m, struct ifcfg *c)
{
	memset(c, 0, sizeof(*c));
	if (strlen(key) > NET_IFNAMSIZ || !net_safe(key, NET_NAME_CHARS))
		return problem(x, m, "bad interface key", key), -1;
	strcpy(c->key, key);
	c->dhcp4 = truthy(ytree_get(m, "dhcp4"));
	return read_keys(x, m, v2_keys, ARRAY_LEN(v2_keys), c);
}

static void v2_read(struct nctx *x, const struct ynode *net, struct netcfg *cfg)
{
	static const char *const unsupported[] = {"bonds", "bridges", "vlans", "wifis", "tunnels"};
	const struct ynode *eth = ytree_get(net, "ethernets");

	for (size_t i = 0; i < ARRAY_LEN(unsupported); i++)
		if (ytree_get(net, unsupported[i]))
			problem(x, ytree_get(net, unsupported[i]),
				"not supported by Wisp:", unsupported[i]);

	if (eth && eth->type != Y_MAP)
		problem(x, eth, "\"ethernets\" must be a mapping", NULL);
	for (size_t i = 0; eth && eth->type == Y_MAP && i + 1 < eth->n; i += 2) {
		const struct ynode *k = eth->kid[i];

		if (cfg->n == NET_MAX_IFS)
			problem(x, k, "too many interfaces; from here on ignored", NULL);
		else if (k->type == Y_SCALAR &&
			 v2_if(x, k->str, eth->kid[i + 1], &cfg->ifs[cfg->n]) == 0)
			cfg->n++;
		if (cfg->n == NET_MAX_IFS)
			break;
	}
}

/* ---- version 1 and network_data.json: addresses with netmasks --------- */

/* An IPv6 netmask ("ffff:ffff:ffff:ffff::", as network_data.json gives one) as a length. */
static int mask6_len(const char *m)
{
	bool tail = false; /* past the ones: only zeros may follow */
	int n = 0;
	char *end;

	while (*m) {
		if (*m == ':') {
			tail = tail || m[1] == ':';
			m++;
			continue;
		}
		unsigned long g = strtoul(m, &end, 16);
		uint32_t inv = ~(uint32_t)g & 0xffff;
		if (end == m || g > 0xffff || (inv & (inv + 1)) || (tail && g))
			return -1;
		tail = tail || g != 0xffff;
		for (; g & 0x8000; g = g << 1 & 0xffff)
			n++;
		m = end;
	}
	return n <= 128 ? n : -1;
}

/* A netmask ("255.255.255.0", or IPv6) or a prefix length ("24") as a prefix length, or -1.
 * Parsed by hand: inet_pton would add most of a kilobyte to PID 1. */
static int prefix_len(const char *mask)
{
	const char *p = mask;
	uint32_t m = 0, inv;
	char *end;
	long n = strtol(mask, &end, 10);

	if (*mask && !*end)
		return n >= 0 && n <= 128 ? (int)n : -1;
	if (strchr(mask, ':'))
		return mask6_len(mask);
	for (int i = 0; i < 4; i++, p = end + 1) {
		unsigned long b = strtoul(p, &end, 10);
		if (end == p || b > 255 || *end != (i < 3 ? '.' : '\0'))
			return -1;
		m = m << 8 | (uint32_t)b;
	}
	inv = ~m;
	if (inv & (inv + 1))
		return -1; /* ones, then zeros only */
	for (n = 32; inv; inv >>= 1)
		n--;
	return (int)n;
}

/* addr, plus "/len" from mask (dotted or a length) when it has no prefix yet, into out. */
static int cidr(struct nctx *x, const struct ynode *addr, const struct ynode *mask, char *out,
		size_t size)
{
	char a[48] = "";
	int len;

	if (!addr)
		return 0;
	if (get_str(x, addr, "bad address", NET_ADDR_CHARS, a, sizeof(a)) < 0)
		return -1;
	if (!mask || strchr(a, '/'))
		return snprintf(out, size, "%s", a) < (int)size ? 0 : -1;
	if (mask->type != Y_SCALAR || (len = prefix_len(mask->str)) < 0)
		return problem(x, mask, "bad netmask", mask->str), -1;
	if (snprintf(out, size, "%s/%d", a, len) >= (int)size)
		return problem(x, addr, "address too long", a), -1;
	return 0;
}

/* {network, netmask|prefix, gateway}: the route form of both v1 and network_data.json. */
static int mask_route(struct nctx *x, const struct ynode *r, struct ifcfg *c)
{
	struct net_route *rt = &c->route[c->nroute];
	const struct ynode *mask = ytree_get(r, "netmask");

	if (c->nroute == NET_MAX_LIST || !ytree_get(r, "network") || !ytree_get(r, "gateway"))
		return problem(x, r, "a route needs \"network\" and \"gateway\"", NULL), -1;
	if (cidr(x, ytree_get(r, "network"), mask ? mask : ytree_get(r, "prefix"), rt->to,
		 sizeof(rt->to)) < 0 ||
	    get_str(x, ytree_get(r, "gateway"), "bad gateway", NET_ADDR_CHARS, rt->via,
		    sizeof(rt->via)) < 0)
		return -1;
	/* The default route is the gateway: a second `ip route add default` would fail and,
	 * as net.c chains the commands with &&, stop the rest. */
	if (!strcmp(rt->to, "0.0.0.0/0") && (!c->gw4[0] || !strcmp(c->gw4, rt->via))) {
		strcpy(c->gw4, rt->via);
		return 0;
	}
	if (!strcmp(rt->to, "0.0.0.0/0") || !strcmp(rt->to, "::/0"))
		strcpy(rt->to, "default");
	c->nroute++;
	return 0;
}

static int mask_routes(struct nctx *x, const struct ynode *v, struct ifcfg *c)
{
	if (v && v->type != Y_SEQ)
		return problem(x, v, "routes must be a list", NULL), -1;
	for (size_t i = 0; v && i < v->n; i++)
		if (mask_route(x, v->kid[i], c) < 0)
			return -1;
	return 0;
}

/* A static address (v1 subnet, network_data.json network) with its gateway and routes. */
static int add_static(struct nctx *x, const struct ynode *s, const char *addr_key, struct ifcfg *c)
{
	if (c->naddr == NET_MAX_LIST)
		return problem(x, s, "too many addresses", NULL), -1;
	if (!ytree_get(s, addr_key))
		return problem(x, s, "a static address needs", addr_key), -1;
	if (cidr(x, ytree_get(s, addr_key), ytree_get(s, "netmask"), c->addr[c->naddr],
		 sizeof(c->addr[0])) < 0)
		return -1;
	c->naddr++;
	if (!c->gw4[0] && get_str(x, ytree_get(s, "gateway"), "bad gateway", NET_ADDR_CHARS, c->gw4,
				  sizeof(c->gw4)) < 0)
		return -1;
	return mask_routes(x, ytree_get(s, "routes"), c);
}

/* Types that need nothing from Wisp or that it does not do (IPv6 autoconfiguration is the
 * kernel's): skipped with a note, not an error, so a dual-stack config still applies. */
static bool skipped_type(struct nctx *x, const struct ynode *t)
{
	static const char *const skip[] = {
	    "dhcp6",	 "ipv6_slaac", "ipv6_dhcpv6-stateful", "ipv6_dhcpv6-stateless",
	    "ipv6_dhcp", "manual"};

	for (size_t i = 0; t && t->type == Y_SCALAR && i < ARRAY_LEN(skip); i++)
		if (!strcmp(t->str, skip[i])) {
			note(x, "%s:%d:%d: network: type %s: not done by Wisp; skipped", x->path,
			     t->line, t->col, t->str);
			return true;
		}
	return false;
}

static bool is(const struct ynode *v, const char *s)
{
	return v && v->type == Y_SCALAR && !strcmp(v->str, s);
}

/* ---- version 1 ----------------------------------------------------- */

static const struct nkey v1_subnet_keys[] = {
    NL("dns_nameservers", NULL, "bad nameserver", NET_ADDR_CHARS, dns, ndns),
    NL("dns_search", NULL, "bad search domain", NET_NAME_CHARS, search, nsearch),
};

static int v1_subnet(struct nctx *x, const struct ynode *s, struct ifcfg *c)
{
	const struct ynode *t = ytree_get(s, "type");

	if (is(t, "dhcp") || is(t, "dhcp4"))
		c->dhcp4 = true;
	else if (is(t, "static") || is(t, "static4") || is(t, "static6")) {
		if (add_static(x, s, "address", c) < 0)
			return -1;
	} else if (!skipped_type(x, t))
		return problem(x, t ? t : s, "unknown subnet type", t ? t->str : NULL), -1;
	return read_keys(x, s, v1_subnet_keys, ARRAY_LEN(v1_subnet_keys), c);
}

static const struct nkey v1_phys_keys[] = {
    NK("name", NULL, "bad name", NET_NAME_CHARS, set_name),
    NK("mac_address", NULL, "bad mac_address", NET_ADDR_CHARS, match_mac),
};

/* type: physical. mac_address picks the NIC and name is then its new name, as in cloud-init. */
static int v1_physical(struct nctx *x, const struct ynode *e, struct ifcfg *c)
{
	const struct ynode *subnets = ytree_get(e, "subnets");

	memset(c, 0, sizeof(*c));
	if (!ytree_get(e, "name"))
		return problem(x, e, "a physical entry needs \"name\"", NULL), -1;
	if (read_keys(x, e, v1_phys_keys, ARRAY_LEN(v1_phys_keys), c) < 0)
		return -1;
	strcpy(c->key, c->set_name);
	if (!c->match_mac[0])
		c->set_name[0] = '\0';
	if (subnets && subnets->type != Y_SEQ)
		return problem(x, subnets, "subnets must be a list", NULL), -1;
	for (size_t i = 0; subnets && i < subnets->n; i++)
		if (v1_subnet(x, subnets->kid[i], c) < 0)
			return -1;
	return 0;
}

static void v1_read(struct nctx *x, const struct ynode *net, struct netcfg *cfg,
		    struct ifcfg *global)
{
	const struct ynode *list = ytree_get(net, "config");

	if (!list || list->type != Y_SEQ) {
		problem(x, list ? list : net, "version 1 needs a \"config\" list", NULL);
		return;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *e = list->kid[i], *t = ytree_get(e, "type");

		if (is(t, "physical") && cfg->n == NET_MAX_IFS)
			problem(x, e, "too many interfaces", NULL);
		else if (is(t, "physical")) {
			if (v1_physical(x, e, &cfg->ifs[cfg->n]) == 0)
				cfg->n++;
		} else if (is(t, "nameserver")) {
			get_list(x, ytree_get(e, "address"), "bad nameserver", NET_ADDR_CHARS,
				 global->dns[0], sizeof(global->dns[0]), &global->ndns);
			get_list(x, ytree_get(e, "search"), "bad search domain", NET_NAME_CHARS,
				 global->search[0], sizeof(global->search[0]), &global->nsearch);
		} else
			problem(x, t ? t : e, "entry type not supported by Wisp",
				t && t->type == Y_SCALAR ? t->str : NULL);
	}
}

/* Name servers given for the whole host go to every interface that has none of its own. */
static void spread_dns(struct netcfg *cfg, const struct ifcfg *global)
{
	for (size_t i = 0; i < cfg->n; i++) {
		struct ifcfg *c = &cfg->ifs[i];
		if (!c->ndns) {
			memcpy(c->dns, global->dns, sizeof(c->dns));
			c->ndns = global->ndns;
		}
		if (!c->nsearch) {
			memcpy(c->search, global->search, sizeof(c->search));
			c->nsearch = global->nsearch;
		}
	}
}

static int v_read(struct nctx *x, const struct ynode *net, struct netcfg *cfg)
{
	const struct ynode *v = ytree_get(net, "version");
	struct ifcfg *global = calloc(1, sizeof(*global));
	int before = x->problems;

	if (is(ytree_get(net, "config"), "disabled")) {
		note(x, "network: %s: config: disabled: DHCP on every NIC", x->path);
		cfg->disabled = true;
		free(global);
		return 0;
	}
	cfg->present = true;
	if (!global)
		problem(x, net, "out of memory", NULL);
	else if (is(v, "1"))
		v1_read(x, net, cfg, global);
	else if (!v || is(v, "2"))
		v2_read(x, net, cfg);
	else
		problem(x, v, "unknown version (1 or 2)", v->type == Y_SCALAR ? v->str : NULL);
	if (global)
		spread_dns(cfg, global);
	free(global);
	return x->problems - before;
}

/* ---- OpenStack network_data.json ------------------------------------- */

static const char *const phys_links[] = {"phy", "ethernet", "vif",    "ovs",	   "bridge",
					 "tap", "hw_veb",   "hyperv", "vhostuser", "dvs"};

static int os_link(struct nctx *x, const struct ynode *l, struct ifcfg *c)
{
	const struct ynode *t = ytree_get(l, "type");
	bool phys = !t;

	for (size_t i = 0; t && i < ARRAY_LEN(phys_links); i++)
		phys = phys || is(t, phys_links[i]);
	memset(c, 0, sizeof(*c));
	if (!phys)
		return problem(x, t, "link type not supported by Wisp",
			       t->type == Y_SCALAR ? t->str : NULL),
		       -1;
	if (!ytree_get(l, "ethernet_mac_address"))
		return problem(x, l, "a link needs \"ethernet_mac_address\"", NULL), -1;
	return get_str(x, ytree_get(l, "ethernet_mac_address"), "bad ethernet_mac_address",
		       NET_ADDR_CHARS, c->match_mac, sizeof(c->match_mac));
}

/* The interface whose link id is network n's "link", or NULL (reported). */
static struct ifcfg *os_find(struct nctx *x, const struct ynode *n, const struct ynode *links,
			     struct netcfg *cfg)
{
	const struct ynode *want = ytree_get(n, "link");

	for (size_t i = 0; want && want->type == Y_SCALAR && i < cfg->n; i++) {
		const struct ynode *id = ytree_get(links->kid[i], "id");
		if (id && id->type == Y_SCALAR && !strcmp(id->str, want->str))
			return &cfg->ifs[i];
	}
	problem(x, want ? want : n, "network's link is not in \"links\"",
		want && want->type == Y_SCALAR ? want->str : NULL);
	return NULL;
}

/* services: [{type: dns, address: ...}] into c's name servers. */
static void os_dns(struct nctx *x, const struct ynode *v, struct ifcfg *c)
{
	for (size_t i = 0; v && v->type == Y_SEQ && i < v->n; i++)
		if (is(ytree_get(v->kid[i], "type"), "dns"))
			get_list(x, ytree_get(v->kid[i], "address"), "bad dns address",
				 NET_ADDR_CHARS, c->dns[0], sizeof(c->dns[0]), &c->ndns);
}

static void os_network(struct nctx *x, const struct ynode *n, const struct ynode *links,
		       struct netcfg *cfg)
{
	const struct ynode *t = ytree_get(n, "type");
	struct ifcfg *c = os_find(x, n, links, cfg);

	if (!c)
		return;
	if (is(t, "ipv4_dhcp"))
		c->dhcp4 = true;
	else if (is(t, "ipv4") || is(t, "ipv6"))
		add_static(x, n, "ip_address", c);
	else if (!skipped_type(x, t))
		problem(x, t ? t : n, "unknown network type", t ? t->str : NULL);
	os_dns(x, ytree_get(n, "services"), c);
}

static int os_read(struct nctx *x, const struct ynode *root, struct netcfg *cfg)
{
	const struct ynode *links = ytree_get(root, "links"), *nets = ytree_get(root, "networks");
	struct ifcfg *global = calloc(1, sizeof(*global));
	int before = x->problems;

	cfg->present = true;
	if (!global || !links || links->type != Y_SEQ || links->n > NET_MAX_IFS ||
	    (nets && nets->type != Y_SEQ)) {
		problem(x, links ? links : root,
			"needs a \"links\" list (at most 8) and a \"networks\" list", NULL);
		free(global);
		return x->problems - before;
	}
	for (size_t i = 0; i < links->n; i++) {
		if (os_link(x, links->kid[i], &cfg->ifs[i]) == 0)
			memcpy(cfg->ifs[i].key, (char[]){'l', 'i', 'n', 'k', (char)('0' + i), 0},
			       6);
		cfg->n++; /* kept even if bad, so that link i stays ifs[i]: any problem drops all */
	}
	for (size_t i = 0; nets && i < nets->n; i++)
		os_network(x, nets->kid[i], links, cfg);
	os_dns(x, ytree_get(root, "services"), global);
	spread_dns(cfg, global);
	free(global);
	return x->problems - before;
}

/* ---- the datasource's file ------------------------------------------- */

int netcfg_read(const char *path, const struct ynode *net, struct netcfg *cfg)
{
	struct nctx x = {.path = path};
	return v_read(&x, net, cfg);
}

int netcfg_openstack(const char *path, const struct ynode *root, struct netcfg *cfg)
{
	struct nctx x = {.path = path};
	return os_read(&x, root, cfg);
}

int netcfg_parse_ds(const char *name, const char *buf, size_t len, struct netcfg *cfg,
		    struct ud_sink *w)
{
	struct nctx x = {.path = name, .sink = w};
	const struct ynode *root, *net;
	struct yfile y;
	struct err e;

	if (ytree_parse(name, buf, len, &y, &e) < 0) {
		problem(&x, NULL, e.msg, NULL);
		return x.problems;
	}
	if (y.failed)
		problem(&x, &(struct ynode){.line = y.line, .col = y.col}, y.problem, NULL);
	root = y.ndoc ? y.doc[0] : NULL;
	net = ytree_get(root, "network") ? ytree_get(root, "network") : root;
	if (!root) /* empty: no configuration, as in cloud-init */
		;
	else if (net->type != Y_MAP)
		problem(&x, net, "expected a mapping", NULL);
	else if (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".json"))
		os_read(&x, net, cfg);
	else
		v_read(&x, net, cfg);
	ytree_free(&y);
	return x.problems;
}
