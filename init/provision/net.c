/*
 * net.c: loopback, then DHCP on every NIC, or the static configuration.
 *
 * The configuration (parsed by netcfg.c, docs/network.md) is the top-level
 * `network:` key of the /etc/wisp YAML files, else the datasource's
 * network-config or network_data.json (copied to /run/wisp/cidata by ds.c).
 * Without one, every NIC gets busybox udhcpc as a supervised unit
 * ("dhcp-eth0", declared in /run/wisp/units), whose script (/usr/share/udhcpc/default.script) sets
 * the address, routes and /etc/resolv.conf. With one, only the NICs it names are configured, as
 * netplan does: DHCP where dhcp4 is true, otherwise a one-shot unit ("net-eth0") that runs busybox
 * `ip`. Busybox ip rather than netlink in init: the commands are the ones an admin would type,
 * their errors land in the unit's log, and PID 1 stays small.
 */
#include "provision.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDHCPC_SCRIPT "/usr/share/udhcpc/default.script"

struct plan {
	net_unit_fn *fn;
	void *ctx;
	const char *resolv;
};

static void load_file(const char *path, struct netcfg *cfg)
{
	struct yfile y;
	struct err e;

	if (ytree_load(path, &y, &e) < 0) {
		log_err(&e);
		return;
	}
	for (size_t i = 0; i < y.ndoc; i++) {
		const struct ynode *net = ytree_get(y.doc[i], "network");
		if (net && net->type == Y_MAP)
			netcfg_read(path, net, cfg);
		else if (net)
			log_msg(LOG_ERR, "%s:%d:%d: network: \"network\" must be a mapping", path,
				net->line, net->col);
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

/* The units declared, for cloud-final's depends_on; the interfaces DHCP configures. */
static char **declared, *dhcp_ifs;

char *const *net_units(void)
{
	static char *const none[] = {NULL};

	return declared ? declared : none;
}

/* net_setup()'s net_unit_fn: the unit becomes a declaration file. */
static void declare(void *ctx, const char *name, char *const argv[], bool oneshot)
{
	const struct wunit u = {.name = name,
				.kind = oneshot ? KIND_ONESHOT : KIND_SERVICE,
				.argv = argv,
				.restart = oneshot ? RESTART_NO : RESTART_ALWAYS,
				.about = oneshot ? "network: static addresses" : "network: DHCP"};
	size_t n = strv_len(declared);
	char **v;

	(void)ctx;
	if (declw_unit(10, &u) < 0 || !(v = realloc(declared, (n + 2) * sizeof(*v))))
		return;
	declared = v;
	v[n] = strdup(name);
	v[n + (v[n] != NULL)] = NULL;
}

const char *net_dhcp_ifs(void)
{
	return dhcp_ifs ? dhcp_ifs : "";
}

/* ifname to the space-separated list net_dhcp_ifs() gives */
static void dhcp_if_add(const char *ifname)
{
	char *v;

	if (asprintf(&v, "%s%s%s", net_dhcp_ifs(), dhcp_ifs ? " " : "", ifname) < 0)
		return;
	free(dhcp_ifs);
	dhcp_ifs = v;
}

static void dhcp_unit(const struct plan *pl, const char *ifname, const char *rename)
{
	char unit[DECL_NAME_MAX + 1], cmd[256];
	char *argv[] = {"udhcpc", "-f", "-i", (char *)ifname, "-s", UDHCPC_SCRIPT, NULL};
	char *sh[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(unit, sizeof(unit), "dhcp-%.*s", NET_IFNAMSIZ, rename ? rename : ifname);
	for (char *p = unit; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	dhcp_if_add(rename ? rename : ifname);
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
	char text[1024] = "# /etc/resolv.conf: from the static network configuration (provision)\n";
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
	snprintf(unit, sizeof(unit), "net-%.*s", NET_IFNAMSIZ, dev);
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
	return strlen(name) < NET_IFNAMSIZ && net_safe(name, NET_NAME_CHARS);
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

/* /etc/wisp's network: (the image's, like cloud-init's system config) wins over the
 * datasource's (ds; NULL in safe mode), which replaces the default of DHCP everywhere;
 * "config: disabled" in /etc/wisp keeps that default whatever the datasource says. */
static void load_config(const char *dir, const char *ds, struct netcfg *cfg)
{
	char path[512];

	load_dir(dir, cfg);
	if (!ds) /* safe mode: the image's configuration or DHCP */
		return;
	if (!cfg->present && !cfg->disabled) {
		netcfg_from_ds(ds, cfg);
		return;
	}
	if ((fmt_path(path, sizeof(path), "%s/network-config", ds) == 0 && !access(path, F_OK)) ||
	    (fmt_path(path, sizeof(path), "%s/network_data.json", ds) == 0 && !access(path, F_OK)))
		log_msg(LOG_NOTICE, "network: %s has a network: key; %s is not used", dir, path);
}

void net_plan(const char *sys, const char *dir, const char *ds, const char *resolv, net_unit_fn *fn,
	      void *ctx)
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
	load_config(dir, ds, cfg);
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
	char dir[4096], resolv[4096];

	if (!prov.dry)
		lo_up();
	snprintf(dir, sizeof(dir), "%s", ROOTED(DECL_DIR));
	snprintf(resolv, sizeof(resolv), "%s", ROOTED("/etc/resolv.conf"));
	net_plan(ROOTED(sys), dir, prov.safe ? NULL : ROOTED(CLOUD_RUN), resolv, declare, NULL);
}
