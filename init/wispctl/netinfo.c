/*
 * netinfo.c: a container's address and published ports on the bridge, for
 * `wispctl status` and `ps --json` (docs/wispctl.md). PID 1 keeps nothing
 * of the network: they come from containerd-lite's lease files
 * (/run/wisp/net/wisp0/A.B.C.D: "ID PID STARTTIME", then one published port
 * a line; docs/network.md). A lease counts when it names the unit and the
 * unit's running process, so a stopped container's leftover shows nothing.
 */
#include "wispctl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASES "/run/wisp/net/wisp0"

/* Lease NAME of DFD holds container ID with process PID: its ports into NI. */
static bool lease_of(int dfd, const char *name, const char *id, unsigned pid, struct wctl_net *ni)
{
	char buf[2048], *line, *save = NULL, *sp, *end;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* not sscanf: it would bring musl's float scanner, most of wispctl's size */
	if (!(line = strtok_r(buf, "\n", &save)) || !(sp = strchr(line, ' ')))
		return false;
	*sp = '\0';
	if (strcmp(line, id) || strtoul(sp + 1, &end, 10) != pid || end == sp + 1)
		return false;
	snprintf(ni->addr, sizeof(ni->addr), "%s", name);
	while ((line = strtok_r(NULL, "\n", &save)) && ni->nports < WCTL_NET_PORTS)
		snprintf(ni->ports[ni->nports++], sizeof(ni->ports[0]), "%.39s", line);
	return true;
}

/* getdents, not opendir: wispctl has no malloc, and opendir's would be a fifth of it */
bool wctl_net(const char *id, unsigned pid, struct wctl_net *ni)
{
	static char buf[4096];
	int dfd = open(LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct in_addr a;
	bool found = false;

	memset(ni, 0, sizeof(*ni));
	while (dfd >= 0 && !found && (n = getdents(dfd, (struct dirent *)buf, sizeof(buf))) > 0)
		for (int off = 0; !found && off < n;) {
			struct dirent *e = (struct dirent *)(buf + off);
			found = inet_pton(AF_INET, e->d_name, &a) == 1 &&
				lease_of(dfd, e->d_name, id, pid, ni);
			off += e->d_reclen;
		}
	if (dfd >= 0)
		close(dfd);
	return found;
}
