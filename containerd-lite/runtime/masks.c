/* runtime/masks.c: maskedPaths and readonlyPaths, applied after pivot_root onto
 * fds resolved beneath the new root. A masked file gets a bind of a null
 * device checked to be one (char 1:3) through the fd that is bound: the
 * container's /dev/null when it is (the node the runtime made, as runc),
 * else the host's, opened before pivot_root. Never "/dev/null" by path:
 * a container can make it (through a persistent /dev volume) a symlink
 * to a host file such as /proc/sys/kernel/core_pattern, that "masking"
 * would then bind writable over the masked path (runc's
 * CVE-2025-31133). A masked directory gets an empty read-only tmpfs. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The host's null device as a detached mount, from cl_masks_open. */
static int host_null = -1;

/* Where masked files' null device comes from: an attached mount is
 * cloned for each; a detached one (the host's) is attached to the first
 * and cloned from there (Linux 6.1 clones no detached mount). */
struct null_src {
	int fd;
	bool detached;
};

int cl_masks_open(const struct cl_spec *s, struct cl_err *e)
{
	int fd;

	if (s->masked.n == 0)
		return 0;
	fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cl_error(e, errno, "open the host's /dev/null");
	if (cl_node_check(fd, S_IFCHR, makedev(1, 3), "the host's /dev/null", e) < 0) {
		close(fd);
		return -1;
	}
	host_null = cl_mount_clone(fd, false);
	close(fd);
	if (host_null < 0)
		return cl_error(e, errno, "bind the host's /dev/null");
	return 0;
}

static struct null_src null_source(int rootfd)
{
	struct cl_err ignored;
	int fd = cl_root_open(rootfd, "/dev/null", CL_ROOT_OPTIONAL, NULL, &ignored);
	struct null_src src = {host_null, true};

	if (fd >= 0 && cl_node_check(fd, S_IFCHR, makedev(1, 3), "/dev/null", &ignored) == 0) {
		src.fd = fd;
		src.detached = false;
	} else if (fd >= 0) {
		close(fd);
	}
	return src;
}

static int mask_file(struct null_src *null, int target, int rootfd, const char *rel, const char *p,
		     struct cl_err *e)
{
	int mnt = null->detached ? null->fd : cl_mount_clone(null->fd, false), r;

	if (mnt < 0)
		return cl_error(e, errno, "mask %s: bind the null device", p);
	r = cl_node_check(mnt, S_IFCHR, makedev(1, 3), "the mask's null device", e);
	if (r == 0)
		r = cl_mount_attach(mnt, target, rootfd, rel, p, e);
	if (!null->detached)
		close(mnt);
	else if (r == 0)
		null->detached = false; /* attached now: cloned from here on */
	return r;
}

static int mask_one(struct null_src *null, const char *p, int rootfd, struct cl_err *e)
{
	char *rel = NULL;
	int target = cl_root_open(rootfd, p, CL_ROOT_OPTIONAL, &rel, e), mnt, r = -1;
	struct stat st;

	if (target == CL_ROOT_MISSING)
		return 0;
	if (target < 0)
		return -1;
	if (fstat(target, &st) < 0) {
		cl_error(e, errno, "mask %s", p);
	} else if (!S_ISDIR(st.st_mode)) {
		r = mask_file(null, target, rootfd, rel, p, e);
	} else if ((mnt = cl_mount_fs("tmpfs", "tmpfs", MS_RDONLY, NULL, p, e)) >= 0) {
		r = cl_mount_attach(mnt, target, rootfd, rel, p, e);
		close(mnt);
	}
	close(target);
	free(rel);
	return r;
}

/* A recursive bind of P on itself, its top read-only (as runc). */
static int readonly_one(const char *p, int rootfd, struct cl_err *e)
{
	char *rel = NULL;
	int target = cl_root_open(rootfd, p, CL_ROOT_OPTIONAL, &rel, e), mnt, r = -1;

	if (target == CL_ROOT_MISSING)
		return 0;
	if (target < 0)
		return -1;
	mnt = cl_mount_clone(target, true);
	if (mnt < 0 || cl_mount_setattr(mnt, false, CL_MOUNT_ATTR_RDONLY, 0, 0, -1) < 0)
		cl_error(e, errno, "bind %s read-only", p);
	else
		r = cl_mount_attach(mnt, target, rootfd, rel, p, e);
	if (mnt >= 0)
		close(mnt);
	close(target);
	free(rel);
	return r;
}

int cl_masks_apply(const struct cl_spec *s, int rootfd, struct cl_err *e)
{
	struct null_src null = null_source(rootfd);
	int r = 0;

	for (size_t i = 0; i < s->readonly.n && r == 0; i++)
		r = readonly_one(s->readonly.v[i], rootfd, e);
	for (size_t i = 0; i < s->masked.n && r == 0; i++)
		r = mask_one(&null, s->masked.v[i], rootfd, e);
	if (null.fd != host_null && null.fd >= 0)
		close(null.fd);
	if (host_null >= 0)
		close(host_null);
	host_null = -1;
	return r;
}
