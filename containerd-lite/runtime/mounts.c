/* runtime/mounts.c: the container's filesystem view, built by the container
 * process in its own mount namespace: rootfs bind, the spec's mounts,
 * default devices, pivot_root, then masked and read-only paths. Every
 * target is resolved beneath the root as an fd (rootpath.c) and every
 * mount is made detached and attached onto that fd (mountfd.c): a
 * concurrent writer in the rootfs cannot redirect a mount by swapping a
 * directory for a symlink. A target a symlink of the root leads into
 * /dev, /proc or /sys when the destination's text is not there is
 * refused (CL_ROOT_STAYOUT, kerneltree.c). */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Paths in the spec may not climb out of the rootfs (their symlinks are
 * resolved within it by rootpath.c). */
static int check_path(const char *p, struct cl_err *e)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
			return cl_error(e, EINVAL, "mount destination %s", p);
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

/* A bind as a detached mount with its options, as a MS_REMOUNT|MS_BIND
 * with them sets them: read-only and nodiratime only if asked, the atime
 * mode kept unless given, the source's nosuid/nodev/noexec kept. Those
 * act on the top mount only (as runc's "ro"): an rbind of a tree with
 * mounts below (a host's /, its /sys and their cgroup2, securityfs)
 * leaves those writable. rro makes every one of them read-only. */
static int bind_tree(const struct cl_mount *m, int src, struct cl_err *e)
{
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	int tree = m->idmapped ? m->tree_fd : cl_mount_clone(src, (m->flags & MS_REC) != 0);
	uint64_t set = cl_mount_attrs(extra), clr = 0;

	if (tree < 0)
		return cl_error(e, errno, "bind %s on %s", m->source, m->dest);
	if (!extra)
		return tree;
	if (!(extra & MS_RDONLY))
		clr |= CL_MOUNT_ATTR_RDONLY;
	if (!(extra & MS_NODIRATIME))
		clr |= CL_MOUNT_ATTR_NODIRATIME;
	if (extra & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
		clr |= CL_MOUNT_ATTR__ATIME;
	if (cl_mount_setattr(tree, false, set, clr, 0, -1) < 0 ||
	    (m->rro && cl_mount_setattr(tree, true, CL_MOUNT_ATTR_RDONLY, 0, 0, -1) < 0)) {
		int err = errno;
		close(tree);
		return cl_error(e, err, "remount %s with its options", m->dest);
	}
	return tree;
}

/* "remount" of what is mounted on the target: through its fd's magic
 * link, which ends on the mount itself, not on a path looked up again. */
static int remount(const struct cl_mount *m, int target, struct cl_err *e)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", target);
	if (mount(m->source, path, m->type, m->flags, m->data) < 0)
		return cl_error(e, errno, "remount %s", m->dest);
	if (m->propagate && mount(NULL, path, NULL, m->propagate, NULL) < 0)
		return cl_error(e, errno, "set propagation of %s", m->dest);
	return 0;
}

static bool is_special(const struct cl_mount *m)
{
	return !m->bind && m->type &&
	       (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0);
}

/* A bind onto a target of the other kind (a directory where a file is
 * bound, a file or FIFO where a directory is), which move_mount refuses
 * with a bare EINVAL: the root's choice, e.g. a container that replaced
 * its /etc/resolv.conf in its persistent upper before its restart. */
static int kind_check(const struct cl_mount *m, int src, int target, struct cl_err *e)
{
	struct stat s, t;

	if (!m->bind || fstat(src, &s) < 0 || fstat(target, &t) < 0 ||
	    S_ISDIR(s.st_mode) == S_ISDIR(t.st_mode))
		return 0;
	return cl_error(e, 0, "mount %s: %s in the root where %s is bound (refused)", m->dest,
			S_ISDIR(t.st_mode) ? "a directory" : "not a directory",
			S_ISDIR(s.st_mode) ? "a directory" : "a file");
}

/* The target of M beneath ROOTFD, made if missing (a file for the bind of
 * a file). proc and sysfs go on a directory only, never through a link
 * (runc's CVE-2019-19921 and CVE-2025-52565). */
static int open_target(const struct cl_mount *m, int rootfd, int src, char **rel, struct cl_err *e)
{
	struct stat st;
	/* a remount too: "rw" on /data -> /sys would make sysfs writable */
	int how = CL_ROOT_STAYOUT, fd;

	if (m->bind && fstat(src, &st) == 0 && !S_ISDIR(st.st_mode))
		how |= CL_ROOT_MKFILE;
	else
		how |= CL_ROOT_MKDIR;
	if (is_special(m))
		how |= CL_ROOT_NOFOLLOW;
	fd = cl_root_open(rootfd, m->dest, how, rel, e);
	if (fd == CL_ROOT_KERNEL)
		return cl_kernel_refused("mount", m->dest, *rel, e);
	if (fd >= 0 && is_special(m) && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		close(fd);
		free(*rel);
		*rel = NULL;
		return cl_error(e, ENOTDIR, "mount %s on %s", m->type, m->dest);
	}
	if (fd >= 0 && kind_check(m, src, fd, e) < 0) {
		close(fd);
		free(*rel);
		*rel = NULL;
		return -1;
	}
	return fd;
}

static int mount_one(const struct cl_mount *m, int rootfd, const char *root, struct cl_err *e)
{
	/* cgroup v2 only: a "cgroup" mount is the unified hierarchy */
	const char *type = m->type && strcmp(m->type, "cgroup") == 0 ? "cgroup2" : m->type;
	int src = -1, target = -1, mnt = -1, ret = -1;
	char *rel = NULL;

	if (check_path(m->dest, e) < 0)
		return -1;
	if (m->bind)
		src = m->idmapped ? dup(m->tree_fd) : cl_bind_source(root, m->source, e);
	if (m->bind && src < 0)
		return m->idmapped ? cl_error(e, errno, "bind %s", m->source) : -1;
	target = open_target(m, rootfd, src, &rel, e);
	if (target < 0)
		goto out;
	if (!m->bind && (m->flags & MS_REMOUNT)) {
		ret = remount(m, target, e);
		goto out;
	}
	mnt = m->bind ? bind_tree(m, src, e)
		      : cl_mount_fs(type, m->source, m->flags, m->data, m->dest, e);
	if (mnt < 0 || cl_mount_attach(mnt, target, rootfd, rel, m->dest, e) < 0)
		goto out;
	if (m->propagate && cl_mount_setattr(mnt, (m->propagate & MS_REC) != 0, 0, 0,
					     m->propagate & ~MS_REC, -1) < 0) {
		cl_error(e, errno, "set propagation of %s", m->dest);
		goto out;
	}
	ret = 0;
out:
	if (mnt >= 0 && !(m->idmapped && mnt == m->tree_fd))
		close(mnt);
	if (target >= 0)
		close(target);
	if (src >= 0)
		close(src);
	free(rel);
	return ret;
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

static int open_root(const char *root, struct cl_err *e)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd >= 0 ? fd : cl_error(e, errno, "open the rootfs %s", root);
}

static int make_view(const struct cl_spec *s, int rootfd, struct cl_err *e)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (mount_one(&s->mounts[i], rootfd, s->root_path, e) < 0)
			return -1;
	if (dev_is_tmpfs(s) && cl_devnodes_default(rootfd, e) < 0)
		return -1;
	for (size_t i = 0; i < s->ndevices; i++)
		if (check_path(s->devices[i].path, e) < 0 ||
		    cl_devnodes_spec(&s->devices[i], rootfd, e) < 0)
			return -1;
	return 0;
}

/* Everything up to pivot_root: the createContainer hooks run between. */
int cl_mounts_prepare(const struct cl_spec *s, struct cl_err *e)
{
	const char *root = s->root_path;
	int rootfd, r;

	/* Nothing we mount may propagate back to the host. In the runtime's
	 * own mount namespace the parent bound the rootfs private already
	 * (cl_mounts_bind_root): "/" there is the host's, never ours to change. */
	if (!cl_ns_mnt_inherited(s)) {
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			return cl_error(e, errno, "make / a slave mount");
		if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
			return cl_error(e, errno, "bind the rootfs %s", root);
	}
	rootfd = open_root(root, e);
	if (rootfd < 0)
		return -1;
	r = make_view(s, rootfd, e);
	close(rootfd);
	/* the host's /dev/null, while the host's tree is still ours */
	return r < 0 ? -1 : cl_masks_open(s, e);
}

/* Without a mount namespace of its own the container's root is a chroot
 * into the rootfs bind (pivot_root would move the host's root), as
 * runc's and crun's. */
static int enter_root(const struct cl_spec *s, struct cl_err *e)
{
	if (!cl_ns_mnt_inherited(s))
		return pivot(s->root_path, e);
	if (chdir(s->root_path) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return cl_error(e, errno, "chroot to %s", s->root_path);
	return 0;
}

/* The container inherits the runtime's mount namespace: the rootfs is
 * bound on itself, private, before the container process exists, so that
 * every mount of the container lies under that one bind (never propagated
 * to the host's peers) and `delete` detaches them all at once. */
int cl_mounts_bind_root(const char *root, struct cl_err *e)
{
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cl_error(e, errno, "bind the rootfs %s", root);
	if (mount(NULL, root, NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		umount2(root, MNT_DETACH);
		return cl_error(e, errno, "make the rootfs %s private", root);
	}
	return 0;
}

int cl_mounts_pivot(const struct cl_spec *s, struct cl_err *e)
{
	unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_REC | MS_PRIVATE;

	if (enter_root(s, e) < 0)
		return -1;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return cl_error(e, errno, "set the propagation of /");
	return 0;
}

/* After pivot_root, with /proc and /sys mounted. */
int cl_mounts_finish(const struct cl_spec *s, struct cl_err *e)
{
	int rootfd = open_root("/", e), r;

	if (rootfd < 0)
		return -1;
	r = cl_masks_apply(s, rootfd, e);
	close(rootfd);
	if (r < 0)
		return -1;
	if (s->root_readonly &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/"), NULL) < 0)
		return cl_error(e, errno, "remount / read-only");
	return 0;
}
