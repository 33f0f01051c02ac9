/* mounts.c: the container's filesystem view, built by the container
 * process in its own mount namespace: rootfs bind, the spec's mounts,
 * default devices, pivot_root, then masked and read-only paths. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Paths in the spec may not climb out of the rootfs. (Symlinks inside the
 * rootfs are not yet resolved within it: a known gap, see the docs.) */
static int check_path(const char *p, struct cl_err *e)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
			return cl_error(e, EINVAL, "mount destination %s", p);
	return 0;
}

/* PATH inside the rootfs, its symlinks resolved within the rootfs. */
static char *in_root(const char *root, const char *path, struct cl_err *e)
{
	char *p = cl_secure_join(root, path);

	if (!p)
		cl_error(e, errno, "resolve %s in the rootfs", path);
	return p;
}

static int make_mountpoint(const char *path, bool file, struct cl_err *e)
{
	char *parent;
	int fd;

	if (!file)
		return cl_mkdir_p(path, 0755, e);
	parent = cl_strdup(path);
	*strrchr(parent, '/') = 0;
	if (parent[0] && cl_mkdir_p(parent, 0755, e) < 0) {
		free(parent);
		return -1;
	}
	free(parent);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EISDIR)
		return cl_error(e, errno, "create mount point %s", path);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The flags of an existing mount that a remount must keep (in a user
 * namespace nosuid/nodev/noexec are locked and a remount dropping them
 * fails). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs st;
	unsigned long f = 0;

	if (statvfs(path, &st) < 0)
		return 0;
	if (st.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

static int mount_bind(const struct cl_mount *m, const char *dest, struct cl_err *e)
{
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

	if (m->idmapped) {
		if (cl_idmap_attach(m, dest, e) < 0)
			return -1;
	} else if (mount(m->source, dest, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0) {
		return cl_error(e, errno, "bind %s on %s", m->source, m->dest);
	}
	if (extra &&
	    mount(NULL, dest, NULL, MS_REMOUNT | MS_BIND | extra | locked_flags(dest), NULL) < 0)
		return cl_error(e, errno, "remount %s with its options", m->dest);
	return 0;
}

static int mount_one(const struct cl_mount *m, const char *root, struct cl_err *e)
{
	char *dest = in_root(root, m->dest, e);
	struct stat st;
	bool file = m->bind && stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode);
	const char *type = m->type;
	int ret = -1;

	if (!dest)
		return -1;
	if (m->rec_ro) {
		cl_error(e, EOPNOTSUPP, "mount %s: option rro", m->dest);
		goto out;
	}
	if (check_path(m->dest, e) < 0 || make_mountpoint(dest, file, e) < 0)
		goto out;
	if (m->bind) {
		ret = mount_bind(m, dest, e);
		goto out;
	}
	/* cgroup v2 only: a "cgroup" mount is the unified hierarchy */
	if (strcmp(type, "cgroup") == 0)
		type = "cgroup2";
	if (mount(m->source ? m->source : type, dest, type, m->flags, m->data) < 0) {
		cl_error(e, errno, "mount %s on %s", m->type, m->dest);
		goto out;
	}
	ret = 0;
out:
	if (ret == 0 && m->propagate && mount(NULL, dest, NULL, m->propagate, NULL) < 0)
		ret = cl_error(e, errno, "set propagation of %s", m->dest);
	free(dest);
	return ret;
}

static const struct {
	const char *path;
	unsigned maj, min;
} default_devs[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},	   {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/* runc's default devices; bound from the host where mknod is not allowed
 * (in a user namespace). */
static int make_devices(const char *root, struct cl_err *e)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", "/dev/fd"},	{"/proc/self/fd/0", "/dev/stdin"},
	    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
	    {"/proc/kcore", "/dev/core"},	{"pts/ptmx", "/dev/ptmx"},
	};
	for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
		char *p = in_root(root, default_devs[i].path, e);
		int r;

		if (!p)
			return -1;
		r = mknod(p, S_IFCHR | 0666, makedev(default_devs[i].maj, default_devs[i].min));
		/* 0666 whatever the umask the runtime inherited: users other than root use them */
		if (r == 0)
			r = chmod(p, 0666);

		if (r < 0 && errno == EPERM && make_mountpoint(p, true, e) == 0)
			r = mount(default_devs[i].path, p, NULL, MS_BIND, NULL);
		if (r < 0 && errno != EEXIST) {
			cl_error(e, errno, "create device %s", default_devs[i].path);
			free(p);
			return -1;
		}
		free(p);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char *p = in_root(root, links[i][1], e);
		if (!p)
			return -1;
		if (symlink(links[i][0], p) < 0 && errno != EEXIST) {
			cl_error(e, errno, "symlink %s", links[i][1]);
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

/* linux.devices: made with mknod, or bound from the host's node of the
 * same path where mknod is not allowed (in a user namespace). */
static int make_spec_device(const struct cl_device *d, const char *root, struct cl_err *e)
{
	char *p = in_root(root, d->path, e), *parent;
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	int r = -1;

	if (!p)
		return -1;
	parent = cl_strdup(p);
	*strrchr(parent, '/') = 0;
	if (check_path(d->path, e) < 0 || cl_mkdir_p(parent, 0755, e) < 0)
		goto out;
	unlink(p); /* the spec's node replaces what the rootfs has */
	r = mknod(p, type | (d->mode & 07777), makedev(d->major, d->minor));
	if (r < 0 && errno == EPERM && make_mountpoint(p, true, e) == 0)
		r = mount(d->path, p, NULL, MS_BIND, NULL);
	else if (r == 0 && (chown(p, d->uid, d->gid) < 0 || chmod(p, d->mode & 07777) < 0))
		r = -1;
	if (r < 0)
		cl_error(e, errno, "create device %s", d->path);
out:
	free(parent);
	free(p);
	return r;
}

static bool dev_is_tmpfs(const struct cl_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (strcmp(s->mounts[i].dest, "/dev") == 0 && s->mounts[i].type &&
		    strcmp(s->mounts[i].type, "tmpfs") == 0)
			return true;
	return false;
}

static int pivot(const char *root, struct cl_err *e)
{
	/* pivot_root(".", "."): the old root ends up on top of the new one,
	 * and is detached at once; no directory in the rootfs is needed. */
	if (chdir(root) < 0)
		return cl_error(e, errno, "chdir %s", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return cl_error(e, errno, "pivot_root to %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return cl_error(e, errno, "detach the old root");
	if (chdir("/") < 0)
		return cl_error(e, errno, "chdir /");
	return 0;
}

/* Everything up to pivot_root: the createContainer hooks run between. */
int cl_mounts_prepare(const struct cl_spec *s, struct cl_err *e)
{
	const char *root = s->root_path;

	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return cl_error(e, errno, "make / a slave mount");
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cl_error(e, errno, "bind the rootfs %s", root);
	for (size_t i = 0; i < s->nmounts; i++)
		if (mount_one(&s->mounts[i], root, e) < 0)
			return -1;
	if (dev_is_tmpfs(s) && make_devices(root, e) < 0)
		return -1;
	for (size_t i = 0; i < s->ndevices; i++)
		if (make_spec_device(&s->devices[i], root, e) < 0)
			return -1;
	return 0;
}

int cl_mounts_pivot(const struct cl_spec *s, struct cl_err *e)
{
	unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_REC | MS_PRIVATE;

	if (pivot(s->root_path, e) < 0)
		return -1;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return cl_error(e, errno, "set the propagation of /");
	return 0;
}

static int mask_one(const char *p, struct cl_err *e)
{
	struct stat st;

	if (stat(p, &st) < 0)
		return errno == ENOENT ? 0 : cl_error(e, errno, "mask %s", p);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
			return cl_error(e, errno, "mask %s with a tmpfs", p);
	} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
		return cl_error(e, errno, "mask %s with /dev/null", p);
	}
	return 0;
}

static int readonly_one(const char *p, struct cl_err *e)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : cl_error(e, errno, "bind %s read-only", p);
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(p), NULL) < 0)
		return cl_error(e, errno, "remount %s read-only", p);
	return 0;
}

/* After pivot_root, with /proc and /sys mounted. */
int cl_mounts_finish(const struct cl_spec *s, struct cl_err *e)
{
	for (size_t i = 0; i < s->readonly.n; i++)
		if (readonly_one(s->readonly.v[i], e) < 0)
			return -1;
	for (size_t i = 0; i < s->masked.n; i++)
		if (mask_one(s->masked.v[i], e) < 0)
			return -1;
	if (s->root_readonly &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/"), NULL) < 0)
		return cl_error(e, errno, "remount / read-only");
	return 0;
}
