/*
 * bridge.c: user-data's wisp.bridge.subnet (docs/network.md, "Container
 * networks"): the containers' bridge wisp0's subnet this boot, for
 * containerd-lite network, which reads /run/wisp/bridge before the image
 * spec's /etc/wisp/bridge. Written before any container starts (they wait
 * for provisioning); checked twice already (the parser, the plan reader).
 */
#include "provision.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void bridge_subnet(const char *cidr)
{
	FILE *f = fopen(ROOTED("/run/wisp/bridge"), "we");

	if (!f || fprintf(f, "subnet %s\n", cidr) < 0 || fclose(f) != 0)
		log_msg(LOG_WARNING, "provision: /run/wisp/bridge: %s", strerror(errno));
	else
		log_msg(LOG_INFO, "provision: containers' bridge subnet %s (user-data)", cidr);
}
