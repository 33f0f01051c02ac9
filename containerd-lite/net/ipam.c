/*
 * net/ipam.c: addresses for containers without a daemon. Each leased
 * address is a file LEASE_ROOT/NETWORK/A.B.C.D: a first line with the
 * container's id and, when known, "PID STARTTIME" of its first process,
 * then one line per published port (net_port_format). Every reader and
 * writer holds an flock on the directory (net_lock), so two containers
 * starting at once cannot get the same address or host port, and the
 * nftables rules made from the leases see them whole. An address is free
 * when it has no file, or when the process its file names is gone (a
 * container that died without its poststop hook: the veth pair went with
 * its namespace, the lease goes here). The directory lives in /run, so a
 * reboot frees everything; a container that already holds a lease (a
 * restart) gets its address again, with its new process and ports.
 */
#include "../runtime/cl-private.h"
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int net_lock(const struct net_cfg *c, struct cl_err *e)
{
	char dir[4096];
	int dfd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c->lease_root, c->name) >= sizeof(dir))
		return cl_error(e, ENAMETOOLONG, "network %s: lease directory", c->name);
	if (cl_mkdir_p(dir, 0700, e) < 0)
		return cl_error_wrap(e, "network %s: leases", c->name);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cl_error(e, errno, "open %s", dir);
	if (flock(dfd, LOCK_EX) < 0) {
		cl_error(e, errno, "lock %s", dir);
		close(dfd);
		return -1;
	}
	return dfd;
}

/* Field 22 of /proc/PID/stat, the process's start time; 0 if it is gone. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	/* after the command's closing parenthesis: field 3 on */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &t) != 1)
		t = 0;
	fclose(f);
	return t;
}

/* Lease file NAME of DFD into L; whether its process is gone into *STALE. */
static int load(int dfd, const char *name, struct net_lease *l, bool *stale)
{
	char buf[4096], *line, *save = NULL;
	unsigned long long pid = 0, t = 0;
	struct in_addr a;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0 || inet_pton(AF_INET, name, &a) != 1)
		return -1;
	buf[n] = '\0';
	memset(l, 0, sizeof(*l));
	l->addr = ntohl(a.s_addr);
	line = strtok_r(buf, "\n", &save);
	/* no process recorded: the lease is released by detach only */
	if (!line || sscanf(line, "%255s %llu %llu", l->id, &pid, &t) < 1)
		return -1;
	*stale = pid > 0 && pid <= 4194304 && start_time((pid_t)pid) != t;
	while ((line = strtok_r(NULL, "\n", &save)) && l->nports < NET_MAX_PORTS) {
		struct cl_err ignored;
		if (net_port_parse(line, &l->ports[l->nports], &ignored) == 0)
			l->nports++;
	}
	return 0;
}

/* A stream of DFD's entries from the first: the dup shares DFD's offset. */
static DIR *open_dir(int dfd)
{
	int fd = dup(dfd);
	DIR *dp = fd < 0 ? NULL : fdopendir(fd);

	if (!dp && fd >= 0)
		close(fd);
	if (dp)
		rewinddir(dp);
	return dp;
}

int net_each_lease(int dfd, int (*fn)(const struct net_lease *, void *), void *arg)
{
	DIR *dp = open_dir(dfd);
	struct net_lease *l = malloc(sizeof(*l));
	struct dirent *d;
	bool stale;
	int r = dp && l ? 0 : -1;

	while (r == 0 && (d = readdir(dp)))
		if (load(dfd, d->d_name, l, &stale) == 0 && !stale)
			r = fn(l, arg);
	if (dp)
		closedir(dp);
	free(l);
	return r;
}

/* Writes L (and PID's identity) into lease file NAME: O_EXCL when NEW
 * (1 taken, 0 someone else's), else over the old one; -1 error. */
static int store(int dfd, const char *name, const struct net_lease *l, pid_t pid, bool new,
		 struct cl_err *e)
{
	char text[4096], port[NET_PORT_TEXT];
	unsigned long long t = pid > 0 ? start_time(pid) : 0;
	int fd =
	    openat(dfd, name,
		   O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (new ? O_EXCL : O_TRUNC), 0600);
	size_t n = t ? (size_t)snprintf(text, sizeof(text), "%s %d %llu\n", l->id, (int)pid, t)
		     : (size_t)snprintf(text, sizeof(text), "%s\n", l->id);

	if (fd < 0)
		return errno == EEXIST && new ? 0 : cl_error(e, errno, "lease %s", name);
	for (unsigned i = 0; i < l->nports && n < sizeof(text); i++) {
		net_port_format(&l->ports[i], port);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", port);
	}
	if (n >= sizeof(text) || write_all(fd, text, n) < 0) {
		cl_error(e, errno, "write lease %s", name);
		close(fd);
		unlinkat(dfd, name, 0);
		return -1;
	}
	close(fd);
	return 1;
}

struct claim {
	const struct net_lease *want;
	uint32_t own; /* the address WANT's id holds already, or 0 */
	char why[512];
};

/* Finds WANT's own lease, and a host port another container publishes already. */
static int claim_check(const struct net_lease *l, void *arg)
{
	struct claim *c = arg;
	char port[NET_PORT_TEXT];

	if (strcmp(l->id, c->want->id) == 0) {
		c->own = l->addr;
		return 0;
	}
	for (unsigned i = 0; i < c->want->nports; i++)
		for (unsigned j = 0; j < l->nports; j++)
			if (net_port_clash(&c->want->ports[i], &l->ports[j])) {
				net_port_format(&c->want->ports[i], port);
				snprintf(c->why, sizeof(c->why),
					 "port %s: its host port is published by container %s",
					 port, l->id);
				return 1;
			}
	return 0;
}

/* Two ports of WANT itself that would take the same packets. */
static int self_clash(const struct net_lease *want, struct cl_err *e)
{
	char port[NET_PORT_TEXT];

	for (unsigned i = 0; i < want->nports; i++)
		for (unsigned j = 0; j < i; j++)
			if (net_port_clash(&want->ports[i], &want->ports[j])) {
				net_port_format(&want->ports[i], port);
				return cl_error(e, 0, "port %s: its host port is given twice",
						port);
			}
	return 0;
}

/* The first free address from .2 (.1 is the bridge's), reclaiming stale leases. */
static int allocate(const struct net_cfg *c, int dfd, const struct net_lease *want, pid_t pid,
		    uint32_t *addr, bool *reused, struct cl_err *e)
{
	char ip[16];
	uint32_t hosts = (1u << (32 - c->prefix)) - 1; /* the last is the broadcast address */
	struct net_lease old;
	bool stale;

	for (uint32_t h = 2; h < hosts; h++) {
		int r;
		net_ntoa(c->net + h, ip);
		if ((r = store(dfd, ip, want, pid, true, e)) == 0 &&
		    load(dfd, ip, &old, &stale) == 0 && stale) {
			r = store(dfd, ip, want, pid, false, e); /* under the lock: nobody else */
			*reused = true;
		}
		if (r < 0)
			return -1;
		if (r == 1) {
			*addr = c->net + h;
			return 0;
		}
	}
	net_ntoa(c->net, ip);
	return cl_error(e, ENOSPC, "network %s: no free address in %s/%u", c->name, ip, c->prefix);
}

int net_lease(const struct net_cfg *c, int dfd, const struct net_lease *want, pid_t pid,
	      uint32_t *addr, bool *reused, struct cl_err *e)
{
	struct claim cl = {.want = want};
	char ip[16];

	*reused = false;
	if (self_clash(want, e) < 0)
		return -1;
	if (net_each_lease(dfd, claim_check, &cl) != 0)
		return cl.why[0] ? cl_error(e, 0, "%s", cl.why)
				 : cl_error(e, errno, "network %s: read leases", c->name);
	if (!cl.own)
		return allocate(c, dfd, want, pid, addr, reused, e);
	*addr = cl.own; /* a restart keeps its address, with its new process and ports */
	*reused = true;
	net_ntoa(cl.own, ip);
	return store(dfd, ip, want, pid, false, e) < 0 ? -1 : 0;
}

int net_release(int dfd, const char *id, uint32_t *addr, struct cl_err *e)
{
	DIR *dp = open_dir(dfd);
	struct dirent *d;
	struct net_lease l;
	bool stale;
	int r = 0;

	*addr = 0;
	if (!dp)
		return cl_error(e, errno, "read leases");
	while ((d = readdir(dp)))
		if (load(dfd, d->d_name, &l, &stale) == 0 && strcmp(l.id, id) == 0) {
			if (unlinkat(dfd, d->d_name, 0) < 0 && errno != ENOENT)
				r = cl_error(e, errno, "release lease %s", d->d_name);
			*addr = l.addr;
		}
	closedir(dp);
	return r;
}

static int stop_at_one(const struct net_lease *l, void *arg)
{
	(void)l;
	(void)arg;
	return 1;
}

bool net_others_live(const struct net_cfg *c)
{
	DIR *dp = opendir(c->lease_root);
	struct dirent *d;
	bool live = false;

	while (dp && !live && (d = readdir(dp))) {
		int dfd;
		if (d->d_name[0] == '.' || !strcmp(d->d_name, c->name) ||
		    (dfd = openat(dirfd(dp), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		live = net_each_lease(dfd, stop_at_one, NULL) == 1;
		close(dfd);
	}
	if (dp)
		closedir(dp);
	return live;
}
