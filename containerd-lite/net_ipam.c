/*
 * net_ipam.c: addresses for containers without a daemon. Each leased
 * address is a file LEASE_ROOT/NETWORK/A.B.C.D holding the container's id,
 * and, when known, "PID STARTTIME" of its first process. Allocation holds
 * an flock on the directory, so two containers starting at once cannot get
 * the same address. An address is free when it has no file, or when the
 * process its file names is gone (a container that died without its
 * poststop hook: the veth pair went with its namespace, the lease goes
 * here). The directory lives in /run, so a reboot frees everything; a
 * container that already holds a lease (a restart) gets its address again;
 * a release removes the file.
 */
#include "cl-private.h"
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

static int lease_dir(const struct net_cfg *c, char *dir, size_t size, struct cl_err *e)
{
	if ((size_t)snprintf(dir, size, "%s/%s", c->lease_root, c->name) >= size)
		return cl_error(e, ENAMETOOLONG, "network %s: lease directory", c->name);
	if (cl_mkdir_p(dir, 0700, e) < 0)
		return cl_error_wrap(e, "network %s: leases", c->name);
	return 0;
}

int net_lease_read(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Whether lease file NAME in dirfd holds ID. */
static bool holds(int dirfd, const char *name, const char *id)
{
	char buf[256];

	if (net_lease_read(dirfd, name, buf, sizeof(buf)) < 0)
		return false;
	buf[strcspn(buf, " \n")] = '\0';
	return strcmp(buf, id) == 0;
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

/* Whether lease file NAME names a process, and that process is gone. */
static bool stale(int dirfd, const char *name)
{
	char buf[512];
	unsigned long long pid, t;

	if (net_lease_read(dirfd, name, buf, sizeof(buf)) < 0)
		return false;
	if (sscanf(buf, "%*s %llu %llu", &pid, &t) != 2 || pid == 0 || pid > 4194304)
		return false; /* no process recorded: the lease is released by detach only */
	return start_time((pid_t)pid) != t;
}

/* The address of ID's lease file in DIR, or 0; its name in name. */
static uint32_t find(const char *dir, const char *id, char name[16])
{
	struct dirent *d;
	struct in_addr a;
	uint32_t found = 0;
	DIR *dp = opendir(dir);

	if (!dp)
		return 0;
	while (!found && (d = readdir(dp)))
		if (inet_pton(AF_INET, d->d_name, &a) == 1 && holds(dirfd(dp), d->d_name, id)) {
			found = ntohl(a.s_addr);
			net_ntoa(found, name);
		}
	closedir(dp);
	return found;
}

int net_leased(const struct net_cfg *c, const char *id, uint32_t *addr)
{
	char dir[4096], name[16];
	struct cl_err e;

	if (lease_dir(c, dir, sizeof(dir), &e) < 0)
		return 0;
	*addr = find(dir, id, name);
	return *addr != 0;
}

/* Writes ID (and PID's identity) into a new lease file PATH; 1 taken, 0
 * someone else's, -1 error. */
static int take(const char *path, const char *id, pid_t pid, struct cl_err *e)
{
	char line[400];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	unsigned long long t = pid > 0 ? start_time(pid) : 0;

	if (fd < 0)
		return errno == EEXIST ? 0 : cl_error(e, errno, "lease %s", path);
	if (t)
		snprintf(line, sizeof(line), "%s %d %llu\n", id, (int)pid, t);
	else
		snprintf(line, sizeof(line), "%s\n", id);
	if (cl_write_all(fd, line, strlen(line)) < 0) {
		cl_error(e, errno, "write lease %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 1;
}

/* The first free address from .2 (.1 is the bridge's), reclaiming stale leases. */
static int allocate(const struct net_cfg *c, int dfd, const char *dir, const char *id, pid_t pid,
		    uint32_t *addr, struct cl_err *e)
{
	char path[4200], ip[16];
	uint32_t hosts = (1u << (32 - c->prefix)) - 1; /* the last is the broadcast address */

	for (uint32_t h = 2; h < hosts; h++) {
		int r;
		net_ntoa(c->net + h, ip);
		snprintf(path, sizeof(path), "%s/%s", dir, ip);
		if ((r = take(path, id, pid, e)) == 0 && stale(dfd, ip)) {
			unlinkat(dfd, ip, 0); /* under the lock: nobody else reclaims it */
			r = take(path, id, pid, e);
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

int net_lease(const struct net_cfg *c, const char *id, pid_t pid, uint32_t *addr, struct cl_err *e)
{
	char dir[4096], ip[16];
	int dfd, r = 0;

	if (lease_dir(c, dir, sizeof(dir), e) < 0)
		return -1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cl_error(e, errno, "open %s", dir);
	if (flock(dfd, LOCK_EX) < 0)
		r = cl_error(e, errno, "lock %s", dir);
	else if (!(*addr = find(dir, id, ip))) /* a restart keeps its address */
		r = allocate(c, dfd, dir, id, pid, addr, e);
	close(dfd); /* and its lock */
	return r;
}

int net_release(const struct net_cfg *c, const char *id, struct cl_err *e)
{
	char dir[4096], path[4200], ip[16];

	if (lease_dir(c, dir, sizeof(dir), e) < 0)
		return -1;
	while (find(dir, id, ip)) {
		snprintf(path, sizeof(path), "%s/%s", dir, ip);
		if (unlink(path) < 0 && errno != ENOENT)
			return cl_error(e, errno, "release lease %s", path);
	}
	return 0;
}
