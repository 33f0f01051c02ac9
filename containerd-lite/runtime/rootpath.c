/* runtime/rootpath.c: paths of the spec (mount destinations, device nodes,
 * masked and read-only paths) resolved beneath the container's root as
 * file descriptors. A path string computed first and used later is open
 * to a concurrent writer in the rootfs (another container sharing a
 * volume, a hook) swapping a directory for a symlink in between (runc's
 * CVE-2021-30465): every lookup here is openat2 with RESOLVE_IN_ROOT
 * from the root's fd, missing components are made with mkdirat/openat
 * in the directory fd just opened, and the caller mounts onto the
 * returned O_PATH fd, never onto a path.
 *
 * The walk resolves symlinks itself, as if the root were "/" (absolute
 * targets and ".." stop at the root), so that dangling links get their
 * targets made as mount points (e.g. /etc/resolv.conf -> ../run/...);
 * the final open then asks the kernel for the resulting path with
 * RESOLVE_NO_SYMLINKS: a component swapped for a symlink meanwhile
 * makes it fail, never escape. With CL_ROOT_STAYOUT the walk also stops
 * where a symlink takes it into /dev, /proc or /sys when the path's
 * text is not there (kerneltree.c). */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define MAX_LINKS 40 /* the kernel's limit */

/* openat2 beneath ROOTFD; REL is relative ("" for the root itself). */
int cl_root_openat(int rootfd, const char *rel, int flags, bool nosymlinks)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve =
		RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (nosymlinks ? RESOLVE_NO_SYMLINKS : 0),
	};

	while (*rel == '/')
		rel++;
	return (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
}

static int open_error(struct cl_err *e, const char *path)
{
	if (errno == ENOSYS)
		return cl_error(e, 0,
				"resolve %s beneath the rootfs: this kernel has no openat2 "
				"(Linux >= 5.6 is needed; mounts are never made by path)",
				path);
	return cl_error(e, errno, "resolve %s beneath the rootfs", path);
}

/* The component NAME missing in DIR: made as asked (a directory, or an
 * empty file when it is the last component of a file mount point). */
static int make_missing(int dir, const char *name, int how, bool last)
{
	int fd;

	if (last && (how & CL_ROOT_MKFILE)) {
		fd = openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		return fd < 0 && errno != EEXIST ? -1 : 0;
	}
	return mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Drops the last component of CUR ("" is the root: ".." stops there). */
static void pop_component(char *cur)
{
	char *slash = strrchr(cur, '/');

	if (slash)
		*slash = 0;
	else
		cur[0] = 0;
}

/* Replaces the head of TODO by the target of the link NAME in DIR. */
static int splice_link(int dir, const char *name, char *todo, size_t cap, char *cur)
{
	char link[PATH_MAX];
	ssize_t len = readlinkat(dir, name, link, sizeof(link) - 1);

	if (len < 0)
		return -1;
	link[len] = 0;
	if (link[0] == '/')
		cur[0] = 0;
	if ((size_t)len + strlen(todo) + 2 > cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memmove(todo + len + 1, todo, strlen(todo) + 1);
	memcpy(todo, link, (size_t)len);
	todo[len] = '/';
	return 0;
}

/* One component: CUR (free of symlinks) gets NAME appended, or is
 * redirected by the link NAME is. Returns 1 when TODO was changed. */
static int step(int rootfd, char *cur, const char *name, char *todo, size_t cap, int how,
		int *links)
{
	bool last = todo[0] == 0;
	struct stat st;
	int dir = cl_root_openat(rootfd, cur, O_PATH | O_DIRECTORY, true), r = 0;

	if (dir < 0)
		return -1;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT || !(how & (CL_ROOT_MKDIR | CL_ROOT_MKFILE)) ||
		    make_missing(dir, name, how, last) < 0)
			r = -1;
	} else if (S_ISLNK(st.st_mode) && !(last && (how & CL_ROOT_NOFOLLOW))) {
		if (++*links > MAX_LINKS) {
			errno = ELOOP;
			r = -1;
		} else {
			r = splice_link(dir, name, todo, cap, cur) < 0 ? -1 : 1;
		}
	}
	close(dir);
	if (r != 0)
		return r;
	if (strlen(cur) + strlen(name) + 2 > PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcat(cur, "/");
	strcat(cur, name);
	return 0;
}

/* With CL_ROOT_STAYOUT, 1 when CUR has entered a kernel tree other than
 * the one (if any) PATH's text names: checked after every component, so
 * that nothing in it is looked up (its magic links) or made. */
static bool strayed(const char *cur, const char *path, int how)
{
	const char *in = cl_kernel_tree(cur);

	return (how & CL_ROOT_STAYOUT) && in && in != cl_kernel_tree(path);
}

/* PATH resolved beneath ROOTFD to a relative path without symlinks or
 * "..", in *REL (malloc'd). Sets errno and returns -1 on failure;
 * CL_ROOT_KERNEL with *REL where the walk strayed (CL_ROOT_STAYOUT). */
static int resolve(int rootfd, const char *path, int how, char **rel)
{
	size_t cap = strlen(path) + PATH_MAX + 2;
	char *todo = malloc(cap), *cur = malloc(PATH_MAX);
	int links = 0, r = 0;

	if (!todo || !cur)
		abort();
	snprintf(todo, cap, "%s", path);
	cur[0] = 0;
	while (todo[0] && r >= 0) {
		char name[NAME_MAX + 1];
		size_t n = strcspn(todo, "/"), skip = n + (todo[n] == '/');

		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			r = -1;
			break;
		}
		memcpy(name, todo, n);
		name[n] = 0;
		memmove(todo, todo + skip, strlen(todo + skip) + 1);
		if (n == 0 || strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0)
			pop_component(cur);
		else
			r = step(rootfd, cur, name, todo, cap, how, &links);
		if (r >= 0 && strayed(cur, path, how))
			r = CL_ROOT_KERNEL;
	}
	free(todo);
	if (r == CL_ROOT_KERNEL) {
		*rel = cur;
		return r;
	}
	if (r < 0) {
		free(cur);
		return -1;
	}
	*rel = cur;
	return 0;
}

int cl_root_open(int rootfd, const char *path, int how, char **rel_out, struct cl_err *e)
{
	char *rel;
	int fd, r = resolve(rootfd, path, how, &rel);

	if (r == CL_ROOT_KERNEL) {
		cl_kernel_refused("resolve", path, rel, e);
		if (rel_out)
			*rel_out = rel;
		else
			free(rel);
		return r;
	}
	if (r < 0) {
		if (errno == ENOENT && (how & CL_ROOT_OPTIONAL))
			return CL_ROOT_MISSING;
		return open_error(e, path);
	}
	fd = cl_root_openat(rootfd, rel, O_PATH | O_NOFOLLOW, true);
	if (fd < 0) {
		int err = errno;
		free(rel);
		if (err == ENOENT && (how & CL_ROOT_OPTIONAL))
			return CL_ROOT_MISSING;
		errno = err;
		return open_error(e, path);
	}
	if (rel_out)
		*rel_out = rel;
	else
		free(rel);
	return fd;
}

/* The source of a bind: inside the rootfs (where the container may
 * write) it is resolved beneath it like a destination; elsewhere it is
 * the host's path the bundle's author chose. */
int cl_bind_source(const char *root, const char *source, struct cl_err *e)
{
	size_t n = strlen(root);
	char *rel = NULL;
	int rootfd, fd;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(source, root, n) != 0 || (source[n] != '/' && source[n] != 0)) {
		fd = open(source, O_PATH | O_CLOEXEC);
		return fd >= 0 ? fd : cl_error(e, errno, "open the bind source %s", source);
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cl_error(e, errno, "open the rootfs %s", root);
	/* the container's own /proc bound elsewhere would be unmasked there */
	fd = cl_root_open(rootfd, source + n, CL_ROOT_STAYOUT, &rel, e);
	close(rootfd);
	if (fd == CL_ROOT_KERNEL)
		fd = cl_kernel_refused("bind source", source + n, rel, e);
	free(rel);
	return fd;
}
