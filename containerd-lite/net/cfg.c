/*
 * net/cfg.c: a container network's name and IPv4 subnet, checked once so
 * that everything after can trust them: the name becomes an interface name
 * and a directory name, the subnet the addresses handed out; and its IPv6
 * ULA where the host has IPv6 (net.h).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GCE's serves IPv6-only and dual-stack VMs. */
const uint8_t net_imds6[NET_IMDS6_N][16] = {
    {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, 0x54},
    {0xfd, 0x20, 0x00, 0xce, [14] = 0x02, 0x54},
};

/* An interface name the kernel takes and a safe file name: [a-z0-9_-], 1-15. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* IPv6 in this namespace's kernel, not turned off (docker's bridge gets a
 * ULA only when asked; here it costs nothing where IPv6 is there). */
static bool host_has_ipv6(void)
{
	char v = '1';
	FILE *f = fopen("/proc/sys/net/ipv6/conf/all/disable_ipv6", "re");

	if (f) {
		v = (char)fgetc(f);
		fclose(f);
	}
	return v == '0';
}

int net_cfg_init(struct net_cfg *c, const char *name, const char *subnet, struct cl_err *e)
{
	char ip[16], *end;
	const char *slash = strchr(subnet, '/');
	struct in_addr a;
	unsigned long p;

	memset(c, 0, sizeof(*c));
	c->lease_root = NET_LEASE_ROOT;
	if (!name_ok(name))
		return cl_error(e, 0, "network \"%s\": a name is 1-15 of [a-z0-9_-]", name);
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (!slash || (size_t)(slash - subnet) >= sizeof(ip))
		return cl_error(e, 0, "network %s: subnet \"%s\": not A.B.C.D/N", name, subnet);
	memcpy(ip, subnet, (size_t)(slash - subnet));
	ip[slash - subnet] = '\0';
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, ip, &a) != 1 || *end || end == slash + 1 || errno)
		return cl_error(e, 0, "network %s: subnet \"%s\": not A.B.C.D/N", name, subnet);
	/* /30 at most: a gateway and at least one container; /8 at least: sane lease scans. */
	if (p < 8 || p > 30)
		return cl_error(e, 0, "network %s: subnet %s: the prefix must be 8 to 30", name,
				subnet);
	c->prefix = (unsigned)p;
	c->net = ntohl(a.s_addr);
	if (c->net & ~(~0u << (32 - c->prefix)))
		return cl_error(e, 0, "network %s: subnet %s has host bits set", name, subnet);
	c->v6 = host_has_ipv6();
	c->net6[0] = 0xfd;
	c->net6[1] = 0x88;
	for (int i = 0; i < 4; i++)
		c->net6[2 + i] = (uint8_t)(c->net >> (24 - 8 * i));
	c->net6[7] = (uint8_t)c->prefix;
	return 0;
}

void net_addr6(const struct net_cfg *c, uint32_t addr, uint8_t out[16])
{
	uint32_t host = addr & ~(~0u << (32 - c->prefix));

	memcpy(out, c->net6, 16);
	for (int i = 0; i < 4; i++)
		out[12 + i] = (uint8_t)(host >> (24 - 8 * i));
}

uint32_t net_gateway(const struct net_cfg *c)
{
	return c->net + 1;
}

void net_ntoa(uint32_t addr, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
		 addr & 255);
}

/* "subnet CIDR" in the first of FILES there: the image spec's bridge.subnet
 * (/etc/wisp/bridge) or what provisioning set for this boot (/run). */
const char *net_config_subnet(char *buf, size_t size, const char **from)
{
	static const char *const files[] = {NET_CONF_RUN, NET_CONF_ETC};

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		char line[96];
		int ok;
		if (!f)
			continue;
		ok = fgets(line, sizeof(line), f) && sscanf(line, "subnet %63s", buf) == 1 &&
		     strlen(buf) < size;
		fclose(f);
		*from = files[i];
		return ok ? buf : "(unreadable)";
	}
	*from = NULL;
	return NET_DEFAULT_SUBNET;
}
