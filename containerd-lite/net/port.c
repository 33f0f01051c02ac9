/*
 * net/port.c: a published port in docker's `-p` syntax,
 *     [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]
 * ("8080:80", "127.0.0.1:5353:53/udp"). The host address is IPv4 (the
 * bridge is); without it the port is published on every address of the
 * host. A container port alone (docker's random host port) and ranges
 * are refused: a host OS publishes what its declarations say.
 * The canonical text (net_port_format) is what a lease file keeps.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1-65535 in decimal, the whole of [s, end). */
static int port_num(const char *s, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int bad(const char *spec, const char *why, struct cl_err *e)
{
	return cl_error(e, 0,
			"port \"%s\": %s (HOST_PORT:CONTAINER_PORT[/tcp|udp], "
			"optionally after HOST_IP:)",
			spec, why);
}

/* "/tcp", "/udp" or nothing (tcp) at the end of SPEC; END becomes its start. */
static int proto_of(const char *spec, const char **end, uint8_t *proto)
{
	const char *slash = strchr(spec, '/');

	*proto = IPPROTO_TCP;
	*end = slash ? slash : spec + strlen(spec);
	if (!slash || strcmp(slash, "/tcp") == 0)
		return 0;
	if (strcmp(slash, "/udp") == 0) {
		*proto = IPPROTO_UDP;
		return 0;
	}
	return -1;
}

int net_port_parse(const char *spec, struct net_port *p, struct cl_err *e)
{
	const char *end, *last, *first;
	char ip[16];
	struct in_addr a;

	memset(p, 0, sizeof(*p));
	if (strlen(spec) > 40)
		return bad(spec, "too long", e);
	if (proto_of(spec, &end, &p->proto) < 0)
		return bad(spec, "the protocol must be tcp or udp", e);
	last = memrchr(spec, ':', (size_t)(end - spec));
	if (!last)
		return bad(spec, "a host port is needed", e);
	if (port_num(last + 1, end, &p->ctr_port) < 0)
		return bad(spec, "the container port must be 1-65535", e);
	first = memrchr(spec, ':', (size_t)(last - spec));
	if (port_num(first ? first + 1 : spec, last, &p->host_port) < 0)
		return bad(spec, "the host port must be 1-65535", e);
	if (!first)
		return 0;
	if ((size_t)(first - spec) >= sizeof(ip))
		return bad(spec, "the host address must be IPv4", e);
	memcpy(ip, spec, (size_t)(first - spec));
	ip[first - spec] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return bad(spec, "the host address must be IPv4", e);
	p->host_ip = ntohl(a.s_addr);
	return 0;
}

void net_port_format(const struct net_port *p, char out[NET_PORT_TEXT])
{
	char ip[16];

	net_ntoa(p->host_ip, ip);
	snprintf(out, NET_PORT_TEXT, "%s:%u:%u/%s", ip, p->host_port, p->ctr_port,
		 p->proto == IPPROTO_UDP ? "udp" : "tcp");
}

/* Both would take the same packets: one protocol and port, and one address or "every". */
bool net_port_clash(const struct net_port *a, const struct net_port *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
}
