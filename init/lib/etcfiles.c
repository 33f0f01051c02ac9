/*
 * etcfiles.c: the text of /etc/hosts and of resolv.conf's placeholder.
 *
 * image-builder writes both into ROOT from the spec's host name, so that
 * /etc reads right from the first instruction of the first unit, with
 * nothing for init to write on the boot's critical path; provision
 * writes /etc/hosts again when cloud-config names the host (this boot
 * only: /etc's upper layer is on /run); init writes them only for a
 * root that lacks them (pid1/etc.c). One text for all three.
 */
#include "base.h"

#include <stdio.h>

const char etc_resolv_placeholder[] =
    "# /etc/resolv.conf: no name servers yet. Written by udhcpc when a DHCP lease\n"
    "# arrives, or by init from the static network configuration; this boot only.\n";

int etc_hosts_render(const char *name, char *buf, size_t size)
{
	int n = snprintf(
	    buf, size,
	    "# /etc/hosts: the host's name from the image spec, or cloud-config's hostname\n"
	    "127.0.0.1\tlocalhost\n"
	    "127.0.1.1\t%s\n"
	    "::1\tlocalhost ip6-localhost ip6-loopback\n",
	    name);

	return n < 0 || (size_t)n >= size ? -1 : n;
}
