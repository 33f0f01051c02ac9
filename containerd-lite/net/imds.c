/*
 * net/imds.c: the metadata endpoints whose traffic from containers is
 * dropped (net/nat.c): the clouds' own (169.254.169.254, EC2's and GCE's
 * IPv6 twins, Azure's wire server) and those the kernel command line
 * moves them to. wisp.imds=HOST[:PORT] and wisp.wireserver=HOST[:PORT]
 * point provisioning elsewhere (init/provision/ds.c: a private cloud's
 * metadata proxy, a test's server); what is served there is the same
 * user-data and credentials. The command line is root's (the boot
 * loader's, signed on Secure Boot), read at every network sync: no state
 * to go stale. Only an address can be matched: a HOST that is a name,
 * or a value provision would refuse, adds no rule (docs/network.md).
 */
#include "net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The last KEY=VALUE word of LINE before "--" (the kernel's rule: a later
 * setting overrides an earlier one), into val; false when there is none. */
static bool cmdline_value(const char *line, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	bool found = false;

	while (*line) {
		size_t n = strcspn(line, " \t\n");

		if (n == 2 && !strncmp(line, "--", 2))
			break;
		if (n > klen && !strncmp(line, key, klen) && line[klen] == '=' &&
		    n - klen - 1 < size) {
			memcpy(val, line + klen + 1, n - klen - 1);
			val[n - klen - 1] = '\0';
			found = true;
		}
		line += n;
		line += strspn(line, " \t\n");
	}
	return found;
}

/* "1".."65535" */
static bool port_of(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	v = strtoul(s, &end, 10);
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* HOST[:PORT] as provision reads it: an IPv4 address, [IPv6], or a bare
 * IPv6 address (no port then). false for a name or anything else. */
static bool endpoint_parse(const char *s, struct net_endpoint *ep)
{
	char host[64];
	const char *colon;

	if (inet_pton(AF_INET6, s, ep->addr) == 1)
		return ep->family = AF_INET6, ep->port = 0, true;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof(host))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
		ep->family = AF_INET6;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return false;
	} else {
		colon = strchr(s, ':');
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		if (len >= sizeof(host))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)len, s);
		ep->family = AF_INET;
	}
	ep->port = 0;
	if (colon && !port_of(colon + 1, &ep->port))
		return false;
	return inet_pton(ep->family, host, ep->addr) == 1;
}

/* The clouds' own: every port, but the wire server's DNS. */
static size_t builtin(struct net_endpoint *out)
{
	uint32_t imds = htonl(NET_IMDS4), ws = htonl(NET_WIRESERVER);
	size_t n = 0;

	out[n] = (struct net_endpoint){.family = AF_INET};
	memcpy(out[n++].addr, &imds, 4);
	for (size_t i = 0; i < NET_IMDS6_N; i++) {
		out[n] = (struct net_endpoint){.family = AF_INET6};
		memcpy(out[n++].addr, net_imds6[i], 16);
	}
	out[n] = (struct net_endpoint){.family = AF_INET, .keep_dns = true};
	memcpy(out[n++].addr, &ws, 4);
	return n;
}

size_t net_imds_endpoints(const char *cmdline, struct net_endpoint out[NET_IMDS_MAX])
{
	static const char *const keys[] = {"wisp.imds", "wisp.wireserver"};
	size_t n = builtin(out);
	char val[128];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		struct net_endpoint ep = {.keep_dns = k == 1};

		if (!cmdline_value(cmdline, keys[k], val, sizeof(val)) || !endpoint_parse(val, &ep))
			continue;
		if (ep.port) /* only the service's port: the host may serve others */
			ep.keep_dns = false;
		out[n++] = ep;
	}
	return n;
}

size_t net_imds_read(struct net_endpoint out[NET_IMDS_MAX])
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "re");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	return net_imds_endpoints(line, out);
}
