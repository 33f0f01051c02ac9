/* net.c: sockets. AF_VSOCK reaches the hypervisor's host: Docker's
 * profile denies it. Raw and packet sockets are allowed by Docker's
 * default capability CAP_NET_RAW: they are EXPECTED, and what they can
 * see is the container's network namespace. In its own (`network: bridge`,
 * Wisp's default, as docker's) that is loopback and its end of the veth
 * pair, eth0; with `network: host` (as docker --network host) it is the
 * host's interfaces, by design. */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define ETH_P_ALL_ 0x0003

static void vsock(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		report("vsock-socket", ESCAPED, "an AF_VSOCK socket (Docker's profile denies it)");
	} else
		report("vsock-socket", BLOCKED, "%s", errname(errno));
}

static void raw(const char *name, int family, int type, int proto)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);

	if (fd >= 0) {
		close(fd);
		report(name, EXPECTED,
		       "allowed: CAP_NET_RAW is one of Docker's default capabilities; it sees "
		       "only the container's network namespace (net-interfaces)");
	} else
		report(name, BLOCKED, "%s", errname(errno));
}

static void interfaces(bool own_netns)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	char names[512] = "";
	bool others = false;

	if (!ifs) {
		report("net-interfaces", ERROR, "if_nameindex: %s", errname(errno));
		return;
	}
	for (i = ifs; i->if_index; i++) {
		fmt(names + strlen(names), sizeof(names) - strlen(names), "%s%s", *names ? "," : "",
		    i->if_name);
		others |= strcmp(i->if_name, "lo") != 0 && strcmp(i->if_name, "eth0") != 0;
	}
	if_freenameindex(ifs);
	if (!own_netns)
		report("net-interfaces", EXPECTED,
		       "network: host (declared, as docker --network host): the host's "
		       "interfaces are the container's (raw sockets on them need CAP_NET_RAW "
		       "over the host's network namespace: raw-socket-*): %s",
		       names);
	else if (others)
		report("net-interfaces", ESCAPED, "its own network sees more than lo, eth0: %s",
		       names);
	else
		report("net-interfaces", BLOCKED, "its own network: only %s", names);
}

int probes_net(bool own_netns)
{
	vsock();
	raw("raw-socket-inet", AF_INET, SOCK_RAW, IPPROTO_ICMP);
	raw("packet-socket", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL_));
	interfaces(own_netns);
	return 0;
}
