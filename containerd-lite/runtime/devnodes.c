/* runtime/devnodes.c: the device nodes of the container's /dev: runc's default
 * devices (when /dev is a tmpfs) and linux.devices, made with mknodat in
 * a directory fd resolved beneath the root (rootpath.c). Where mknod is
 * not allowed (in a user namespace) the host's node of the same path is
 * bound instead, once checked to be that very device: a path is not
 * taken on trust for what it names. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* runc's default devices. Not /dev/console (c 5:1): runc dropped it, a
 * container able to mknod it could read the host's console. */
static const struct {
	const char *name;
	unsigned maj, min;
} default_devs[] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const default_links[][2] = {
    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},	 {"pts/ptmx", "ptmx"},
};

/* mknodat with MODE as given: the runtime's inherited umask must not
 * narrow it (users other than root use 0666 nodes). */
static int mknod_exact(int dir, const char *name, mode_t mode, dev_t dev)
{
	mode_t old = umask(0);
	int r = mknodat(dir, name, mode, dev), err = errno;

	umask(old);
	errno = err;
	return r;
}

/* The host's node HOST, if it is TYPE RDEV, bound on PATH beneath ROOTFD
 * (an empty file made there as its mount point). */
static int bind_host_node(int rootfd, const char *host, const char *path, mode_t type, dev_t rdev,
			  struct cl_err *e)
{
	int src = open(host, O_PATH | O_CLOEXEC), tree = -1, target = -1, r = -1;
	char *rel = NULL;

	if (src < 0)
		return cl_error(e, errno, "open the host's %s", host);
	if (cl_node_check(src, type, rdev, host, e) < 0)
		goto out;
	tree = cl_mount_clone(src, false);
	if (tree < 0) {
		cl_error(e, errno, "bind the host's %s", host);
		goto out;
	}
	target = cl_root_open(rootfd, path, CL_ROOT_MKFILE, &rel, e);
	if (target >= 0)
		r = cl_mount_attach(tree, target, rootfd, rel, path, e);
out:
	if (target >= 0)
		close(target);
	if (tree >= 0)
		close(tree);
	close(src);
	free(rel);
	return r;
}

int cl_devnodes_default(int rootfd, struct cl_err *e)
{
	int dev = cl_root_open(rootfd, "/dev", CL_ROOT_MKDIR, NULL, e), r = 0;

	if (dev < 0)
		return -1;
	for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]) && r == 0; i++) {
		dev_t rdev = makedev(default_devs[i].maj, default_devs[i].min);
		char path[32];

		snprintf(path, sizeof(path), "/dev/%s", default_devs[i].name);
		if (mknod_exact(dev, default_devs[i].name, S_IFCHR | 0666, rdev) == 0 ||
		    errno == EEXIST)
			continue;
		if (errno == EPERM)
			r = bind_host_node(rootfd, path, path, S_IFCHR, rdev, e);
		else
			r = cl_error(e, errno, "create device %s", path);
	}
	for (size_t i = 0; i < sizeof(default_links) / sizeof(default_links[0]) && r == 0; i++)
		if (symlinkat(default_links[i][0], dev, default_links[i][1]) < 0 && errno != EEXIST)
			r = cl_error(e, errno, "symlink /dev/%s", default_links[i][1]);
	close(dev);
	return r;
}

/* The node just made as NAME in DIR: owner and mode, through an O_PATH
 * fd checked to be it (chmod follows links: never by name). */
static int set_owner(int dir, const char *name, const struct cl_device *d, mode_t type,
		     struct cl_err *e)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r = -1;
	char proc[64];

	if (fd < 0)
		return cl_error(e, errno, "open device %s", d->path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (cl_node_check(fd, type, makedev(d->major, d->minor), d->path, e) == 0) {
		/* chown clears the set-id bits: the mode after it */
		if (fchownat(fd, "", d->uid, d->gid, AT_EMPTY_PATH) < 0 ||
		    chmod(proc, d->mode & 07777) < 0)
			cl_error(e, errno, "set the owner and mode of device %s", d->path);
		else
			r = 0;
	}
	close(fd);
	return r;
}

/* linux.devices: made with mknod (replacing what the rootfs has), or
 * bound from the host's node of the same path. */
int cl_devnodes_spec(const struct cl_device *d, int rootfd, struct cl_err *e)
{
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	dev_t rdev = makedev(d->major, d->minor);
	char *parent = cl_strdup(d->path), *name = strrchr(parent, '/');
	int dir, r = -1;

	if (!name || !name[1]) {
		free(parent);
		return cl_error(e, EINVAL, "device path %s", d->path);
	}
	*name++ = 0;
	dir = cl_root_open(rootfd, parent[0] ? parent : "/", CL_ROOT_MKDIR, NULL, e);
	if (dir >= 0) {
		unlinkat(dir, name, 0);
		if (mknod_exact(dir, name, type | (d->mode & 07777), rdev) == 0)
			r = set_owner(dir, name, d, type, e);
		else if (errno == EPERM)
			r = bind_host_node(rootfd, d->path, d->path, type, rdev, e);
		else
			cl_error(e, errno, "create device %s", d->path);
		close(dir);
	}
	free(parent);
	return r;
}
