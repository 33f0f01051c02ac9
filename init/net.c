/*
 * net.c: loopback, then DHCP on every NIC, or the static configuration.
 *
 * The configuration is the top-level `network:` key of the /etc/wisp YAML files,
 * in the netplan version 2 subset that cloud-init writes (docs/network.md).
 * Without one, every NIC gets busybox udhcpc as a supervised unit
 * ("dhcp-eth0"), whose script (/usr/share/udhcpc/default.script) sets the
 * address, routes and /etc/resolv.conf. With one, only the NICs it names
 * are configured, as netplan does: DHCP where dhcp4 is true, otherwise a
 * one-shot unit ("net-eth0") that runs busybox `ip`. Busybox ip rather than
 * netlink in init: the commands are the ones an admin would type, their
 * errors land in the unit's log, and PID 1 stays small.
 */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDHCPC_SCRIPT "/usr/share/udhcpc/default.script"
#define NET_MAX_IFS   8
#define NET_MAX_LIST  8

struct route {
	char to[48], via[48];
};

struct ifcfg {
	char key[IFNAMSIZ + 1];
	char match_name[IFNAMSIZ + 1], match_mac[24], set_name[IFNAMSIZ];
	bool dhcp4;
	char addr[NET_MAX_LIST][48];
	size_t naddr;
	char gw4[48];
	struct route route[NET_MAX_LIST];
	size_t nroute;
	char dns[NET_MAX_LIST][48];
	size_t ndns;
	char search[NET_MAX_LIST][128];
	size_t nsearch;
};

struct netcfg {
	bool present;
	struct ifcfg ifs[NET_MAX_IFS];
	size_t n;
};

struct plan {
	net_unit_fn *fn;
	void *ctx;
	const char *resolv;
};

/* Values go into a shell command: only these characters, so nothing can be injected. */
static bool safe(const char *s, const char *allowed)
{
	return s[0] && s[0] != '-' && strspn(s, allowed) == strlen(s);
}

#define ADDR_CHARS "0123456789abcdefABCDEF.:/"
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static const struct ynode *map_get(const struct ynode *m, const char *key)
{
	if (!m || m->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kid[i]->type == Y_SCALAR && strcmp(m->kid[i]->str, key) == 0)
			return m->kid[i + 1];
	return NULL;
}

static void problem(const char *path, const struct ynode *n, const char *what, const char *val)
{
	log_msg(LOG_ERR, "%s:%d:%d: network: %s%s%s%s", path, n ? n->line : 0, n ? n->col : 0, what,
		val ? " \"" : "", val ? val : "", val ? "\"" : "");
}

/* A scalar into buf, checked against allowed. Returns 0, or -1 (reported). */
static int get_str(const char *path, const struct ynode *v, const char *what, const char *allowed,
		   char *buf, size_t size)
{
	if (!v)
		return 0;
	if (v->type != Y_SCALAR || strlen(v->str) >= size || !safe(v->str, allowed)) {
		problem(path, v, what, v->type == Y_SCALAR ? v->str : NULL);
		return -1;
	}
	strcpy(buf, v->str);
	return 0;
}

/* A list of scalars into list[max][width]. */
static int get_list(const char *path, const struct ynode *v, const char *what, const char *allowed,
		    char *list, size_t width, size_t *n)
{
	if (!v)
		return 0;
	if (v->type != Y_SEQ) {
		problem(path, v, what, "not a list");
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (*n == NET_MAX_LIST) {
			problem(path, v->kid[i], "too many entries in", what);
			return -1;
		}
		if (get_str(path, v->kid[i], what, allowed, list + *n * width, width) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int get_routes(const char *path, const struct ynode *v, struct ifcfg *c)
{
	if (!v)
		return 0;
	if (v->type != Y_SEQ)
		return problem(path, v, "routes must be a list", NULL), -1;
	for (size_t i = 0; i < v->n; i++) {
		struct route *r = &c->route[c->nroute];
		const struct ynode *to = map_get(v->kid[i], "to"), *via = map_get(v->kid[i], "via");

		if (c->nroute == NET_MAX_LIST || !to || !via)
			return problem(path, v->kid[i], "a route needs \"to\" and \"via\"", NULL),
			       -1;
		if (to->type == Y_SCALAR && strcmp(to->str, "default") == 0)
			strcpy(r->to, "default");
		else if (get_str(path, to, "bad route \"to\"", ADDR_CHARS, r->to, sizeof(r->to)))
			return -1;
		if (get_str(path, via, "bad route \"via\"", ADDR_CHARS, r->via, sizeof(r->via)))
			return -1;
		c->nroute++;
	}
	return 0;
}

static bool truthy(const struct ynode *v)
{
	return v && v->type == Y_SCALAR &&
	       (!strcmp(v->str, "true") || !strcmp(v->str, "yes") || !strcmp(v->str, "on"));
}

static int read_if(const char *path, const char *key, const struct ynode *m, struct ifcfg *c)
{
	const struct ynode *match = map_get(m, "match"), *ns = map_get(m, "nameservers");

	memset(c, 0, sizeof(*c));
	if (strlen(key) > IFNAMSIZ || !safe(key, NAME_CHARS))
		return problem(path, m, "bad interface key", key), -1;
	strcpy(c->key, key);
	c->dhcp4 = truthy(map_get(m, "dhcp4"));
	if (get_str(path, map_get(match, "name"), "bad match.name", NAME_CHARS "*?", c->match_name,
		    sizeof(c->match_name)) < 0 ||
	    get_str(path, map_get(match, "macaddress"), "bad match.macaddress", ADDR_CHARS,
		    c->match_mac, sizeof(c->match_mac)) < 0 ||
	    get_str(path, map_get(m, "set-name"), "bad set-name", NAME_CHARS, c->set_name,
		    sizeof(c->set_name)) < 0 ||
	    get_list(path, map_get(m, "addresses"), "bad address", ADDR_CHARS, c->addr[0],
		     sizeof(c->addr[0]), &c->naddr) < 0 ||
	    get_str(path, map_get(m, "gateway4"), "bad gateway4", ADDR_CHARS, c->gw4,
		    sizeof(c->gw4)) < 0 ||
	    get_routes(path, map_get(m, "routes"), c) < 0 ||
	    get_list(path, map_get(ns, "addresses"), "bad nameserver", ADDR_CHARS, c->dns[0],
		     sizeof(c->dns[0]), &c->ndns) < 0 ||
	    get_list(path, map_get(ns, "search"), "bad search domain", NAME_CHARS, c->search[0],
		     sizeof(c->search[0]), &c->nsearch) < 0)
		return -1;
	return 0;
}

static void read_network(const char *path, const struct ynode *net, struct netcfg *cfg)
{
	const struct ynode *eth = map_get(net, "ethernets");

	cfg->present = true;
	if (!eth)
		return;
	if (eth->type != Y_MAP) {
		problem(path, eth, "\"ethernets\" must be a mapping", NULL);
		return;
	}
	for (size_t i = 0; i + 1 < eth->n && cfg->n < NET_MAX_IFS; i += 2) {
		const struct ynode *k = eth->kid[i];

		if (k->type == Y_SCALAR &&
		    read_if(path, k->str, eth->kid[i + 1], &cfg->ifs[cfg->n]) == 0)
			cfg->n++;
	}
}

static void load_file(const char *path, struct netcfg *cfg)
{
	struct yfile y;
	struct err e;

	if (ytree_load(path, &y, &e) < 0) {
		log_err(&e);
		return;
	}
	for (size_t i = 0; i < y.ndoc; i++) {
		const struct ynode *net = map_get(y.doc[i], "network");
		if (net && net->type == Y_MAP)
			read_network(path, net, cfg);
		else if (net)
			problem(path, net, "\"network\" must be a mapping", NULL);
	}
	ytree_free(&y);
}

static void load_dir(const char *dir, struct netcfg *cfg)
{
	struct dirent **names;
	char path[512];
	int n;

	n = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (names[i]->d_name[0] != '.' && len > 5 &&
		    !strcmp(names[i]->d_name + len - 5, ".yaml") &&
		    fmt_path(path, sizeof(path), "%s/%s", dir, names[i]->d_name) == 0)
			load_file(path, cfg);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void lo_up(void)
{
	struct ifreq ifr = {0};
	struct err e;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	/* Up is enough: the kernel gives lo 127.0.0.1/8 and ::1 itself. */
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		err_set(&e, errno, "bring up lo");
		log_err(&e);
	}
	if (fd >= 0)
		close(fd);
}

/* net_setup()'s net_unit_fn: the unit joins init's table. */
static void add_unit(void *ctx, const char *name, char *const argv[], bool oneshot)
{
	struct decl d = {0};
	struct err e;

	(void)ctx;
	d.name = strdup(name);
	d.kind = oneshot ? KIND_ONESHOT : KIND_SERVICE;
	d.restart = oneshot ? RESTART_NO : RESTART_ALWAYS;
	d.stop_signal = SIGTERM;
	d.stop_timeout_ms = DECL_STOP_TIMEOUT_MS;
	d.backoff_initial_ms = BACKOFF_MIN_MS;
	d.backoff_max_ms = BACKOFF_MAX_MS;
	d.backoff_reset_ms = BACKOFF_RESET_MS;
	d.file = strdup("network");
	d.argv = calloc(8, sizeof(char *));
	d.env = calloc(1, sizeof(char *));
	for (size_t i = 0; argv[i] && d.argv; i++)
		if (!(d.argv[i] = strdup(argv[i])))
			break;
	if (!d.name || !d.file || !d.argv || !d.env) {
		decl_clear(&d);
		log_msg(LOG_ERR, "%s: out of memory", name);
		return;
	}
	if (units_add(&d, &e) < 0)
		log_msg(LOG_ERR, "%s: %s", name, e.msg);
}

static void dhcp_unit(const struct plan *pl, const char *ifname, const char *rename)
{
	char unit[DECL_NAME_MAX + 1], cmd[256];
	char *argv[] = {"udhcpc", "-f", "-i", (char *)ifname, "-s", UDHCPC_SCRIPT, NULL};
	char *sh[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(unit, sizeof(unit), "dhcp-%.*s", IFNAMSIZ, rename ? rename : ifname);
	for (char *p = unit; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!rename) {
		pl->fn(pl->ctx, unit, argv, false);
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "ip link set dev %s name %s 2>/dev/null; exec udhcpc -f -i %s -s " UDHCPC_SCRIPT,
		 ifname, rename, rename);
	pl->fn(pl->ctx, unit, sh, false);
}

static void append(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void write_resolv(const struct plan *pl, const struct ifcfg *c)
{
	char text[1024] = "# /etc/resolv.conf: from the static network configuration (init)\n";
	struct err e;
	FILE *f;

	if (c->ndns == 0)
		return;
	if (c->nsearch > 0) {
		append(text, sizeof(text), "search");
		for (size_t i = 0; i < c->nsearch; i++)
			append(text, sizeof(text), " %s", c->search[i]);
		append(text, sizeof(text), "\n");
	}
	for (size_t i = 0; i < c->ndns; i++)
		append(text, sizeof(text), "nameserver %s\n", c->dns[i]);
	if (!(f = fopen(pl->resolv, "we")) || fputs(text, f) == EOF || fclose(f) != 0) {
		err_set(&e, errno, "write %s", pl->resolv);
		log_err(&e);
	}
}

static void static_unit(const struct plan *pl, const char *ifname, const struct ifcfg *c)
{
	const char *dev = c->set_name[0] ? c->set_name : ifname;
	char unit[DECL_NAME_MAX + 1], cmd[4096] = "set -x; "; /* fits 8 of each, see NET_MAX_LIST */
	char *sh[] = {"/bin/sh", "-c", cmd, NULL};

	if (c->set_name[0])
		append(cmd, sizeof(cmd), "ip link set dev %s name %s; ", ifname, dev);
	append(cmd, sizeof(cmd), "ip link set dev %s up", dev);
	for (size_t i = 0; i < c->naddr; i++)
		append(cmd, sizeof(cmd), " && ip addr add %s dev %s", c->addr[i], dev);
	if (c->gw4[0])
		append(cmd, sizeof(cmd), " && ip route add default via %s dev %s", c->gw4, dev);
	for (size_t i = 0; i < c->nroute; i++)
		append(cmd, sizeof(cmd), " && ip route add %s via %s dev %s", c->route[i].to,
		       c->route[i].via, dev);
	snprintf(unit, sizeof(unit), "net-%.*s", IFNAMSIZ, dev);
	for (char *p = unit; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	pl->fn(pl->ctx, unit, sh, true);
	write_resolv(pl, c);
}

/* The configuration entry for NIC ifname (MAC mac), or NULL. */
static const struct ifcfg *match(const struct netcfg *cfg, const char *ifname, const char *mac)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const struct ifcfg *c = &cfg->ifs[i];
		bool has_match = c->match_name[0] || c->match_mac[0];

		if (!has_match && strcmp(c->key, ifname) == 0)
			return c;
		if (has_match && (!c->match_name[0] || fnmatch(c->match_name, ifname, 0) == 0) &&
		    (!c->match_mac[0] || strcasecmp(c->match_mac, mac) == 0))
			return c;
	}
	return NULL;
}

/* A NIC is a network device with a device behind it (not lo, not a bridge or veth). */
static bool is_nic(const char *sys, const char *name, char *mac, size_t size)
{
	char path[512];
	struct err e;

	if (fmt_path(path, sizeof(path), "%s/class/net/%s/device", sys, name) < 0 ||
	    access(path, F_OK) < 0)
		return false;
	mac[0] = '\0';
	if (fmt_path(path, sizeof(path), "%s/class/net/%s/address", sys, name) == 0 &&
	    read_text(path, mac, size, &e) >= 0)
		mac[strcspn(mac, "\n")] = '\0';
	return strlen(name) < IFNAMSIZ && safe(name, NAME_CHARS);
}

static void configure(const struct plan *pl, const char *ifname, const char *mac,
		      const struct netcfg *cfg)
{
	const struct ifcfg *c;

	if (!cfg->present) {
		dhcp_unit(pl, ifname, NULL);
		return;
	}
	if (!(c = match(cfg, ifname, mac))) {
		log_msg(LOG_INFO, "%s: not in the network configuration; left down", ifname);
		return;
	}
	if (c->dhcp4)
		dhcp_unit(pl, ifname, c->set_name[0] ? c->set_name : NULL);
	else
		static_unit(pl, ifname, c);
}

void net_plan(const char *sys, const char *dir, const char *resolv, net_unit_fn *fn, void *ctx)
{
	const struct plan pl = {fn, ctx, resolv};
	struct netcfg *cfg = calloc(1, sizeof(*cfg));
	struct dirent **names;
	char path[256], mac[64];
	int n;

	if (!cfg) {
		log_msg(LOG_ERR, "network: out of memory");
		return;
	}
	load_dir(dir, cfg);
	snprintf(path, sizeof(path), "%s/class/net", sys);
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && is_nic(sys, names[i]->d_name, mac, sizeof(mac)))
			configure(&pl, names[i]->d_name, mac, cfg);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	free(cfg);
}

void net_setup(const char *sys)
{
	lo_up();
	net_plan(sys, DECL_DIR, "/etc/resolv.conf", add_unit, NULL);
}
