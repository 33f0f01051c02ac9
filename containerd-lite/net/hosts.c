/*
 * net/hosts.c: names on a container network (issue 13 point 4). One hosts
 * file per network, HOSTS_ROOT/NAME: localhost, then "ADDRESS ID"
 * of every container that holds a lease. `image bundle --network bridge`
 * binds it read-only on the container's /etc/hosts; attach and detach
 * rewrite it under the lease lock, so containers find each other by name
 * (a declaration's name is its container's id) as they come and go.
 *
 * A file, not a DNS responder: nothing of the network stays resident, and
 * every libc (musl, glibc) and busybox read /etc/hosts before asking DNS.
 * It is rewritten in place, the same inode: a bind mount holds the inode,
 * and a file renamed over it would leave every container with the old one.
 * Its directory is 0755 (the leases' is 0700): a container in a user
 * namespace opens its bind source as its own, unprivileged, root.
 */
#include "../runtime/cl-private.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOSTS_HEAD "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

struct text {
	char *buf;
	size_t len, cap;
};

static int add_line(const struct net_lease *l, void *arg)
{
	struct text *t = arg;
	char ip[16];
	size_t need = 16 + strlen(l->id) + 3;

	if (t->len + need > t->cap) {
		size_t cap = (t->cap + need) * 2;
		char *p = realloc(t->buf, cap);
		if (!p)
			return -1;
		t->buf = p;
		t->cap = cap;
	}
	net_ntoa(l->addr, ip);
	t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "%s\t%s\n", ip, l->id);
	return 0;
}

int net_hosts_path(const char *network, char *path, size_t size, struct cl_err *e)
{
	int fd;

	if ((size_t)snprintf(path, size, "%s/%s", NET_HOSTS_ROOT, network) >= size)
		return cl_error(e, ENAMETOOLONG, "network %s: hosts file", network);
	if (cl_mkdir_p(NET_HOSTS_ROOT, 0755, e) < 0)
		return cl_error_wrap(e, "network %s: hosts file", network);
	/* made once with its head; its content is attach's and detach's */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno != EEXIST)
		return cl_error(e, errno, "network %s: %s", network, path);
	if (fd >= 0) {
		int r = write_all(fd, HOSTS_HEAD, strlen(HOSTS_HEAD));
		close(fd);
		if (r < 0)
			return cl_error(e, errno, "network %s: write %s", network, path);
	}
	return 0;
}

int net_hosts_sync(const struct net_cfg *c, int dfd, struct cl_err *e)
{
	struct text t = {.buf = strdup(HOSTS_HEAD), .len = strlen(HOSTS_HEAD)};
	char path[300];
	int fd = -1, r = -1;

	t.cap = t.buf ? t.len + 1 : 0;
	if (!t.buf || net_each_lease(dfd, add_line, &t) != 0) {
		cl_error(e, ENOMEM, "network %s: hosts file", c->name);
		goto out;
	}
	if (net_hosts_path(c->name, path, sizeof(path), e) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	/* the new lines over the old, then the old tail cut off: one inode */
	if (fd < 0 || pwrite(fd, t.buf, t.len, 0) != (ssize_t)t.len ||
	    ftruncate(fd, (off_t)t.len) < 0)
		cl_error(e, errno, "network %s: write %s/%s/hosts", c->name, c->lease_root,
			 c->name);
	else
		r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(t.buf);
	return r;
}
