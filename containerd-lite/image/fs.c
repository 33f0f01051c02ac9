/* image/fs.c: directory walking beneath a root without following any
 * symlink (openat2, kernel >= 5.6), and recursive removal. */
#include "../runtime/cl-private.h"
#include "image.h"
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int openat2_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags,
			       .resolve =
				   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/* Component comp (n bytes of rel's, at its start) of the directory rel, in fd. */
static int step(int fd, const char *rel, const char *start, size_t n, bool create,
		struct cl_err *err)
{
	char comp[256];
	int next;

	if (n >= sizeof(comp))
		return cl_error(err, ENAMETOOLONG, "%s", rel);
	memcpy(comp, start, n);
	comp[n] = 0;
	next = openat2_beneath(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (next < 0 && errno == ENOENT && create) {
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
			return cl_error(err, errno, "mkdir %s in %s", comp, rel);
		next = openat2_beneath(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (next < 0 && (errno == ELOOP || errno == EXDEV || errno == ENOTDIR))
		return cl_error(err, 0, "%s: %s is a symlink or not a directory", rel, comp);
	if (next < 0)
		return cl_error(err, errno, "%s: open %s", rel, comp);
	return next;
}

void img_dirs_init(struct img_dirs *d, int root)
{
	d->root = root;
	d->n = 0;
}

/* The held fds beyond the first keep, closed. */
static void cut(struct img_dirs *d, size_t keep)
{
	while (d->n > keep)
		close(d->fd[--d->n]);
}

void img_dirs_close(struct img_dirs *d)
{
	cut(d, 0);
}

/* How many of d's fds lead to rel or above it (rel clean: no empty, "." or
 * ".." component, so a prefix ending at a '/' is an ancestor). */
static size_t shared(const struct img_dirs *d, const char *rel)
{
	size_t i = 1;

	while (i < d->n && strncmp(rel, d->path, d->end[i]) == 0 &&
	       (rel[d->end[i]] == 0 || rel[d->end[i]] == '/'))
		i++;
	return d->n ? i : 0;
}

int img_dirs_open(struct img_dirs *d, const char *rel, bool create, struct cl_err *err)
{
	size_t at;

	if (strlen(rel) >= sizeof(d->path))
		return cl_error(err, ENAMETOOLONG, "%.64s...", rel);
	/* what is not on rel's path goes: its children may be removed next */
	cut(d, shared(d, rel));
	if (d->n == 0) {
		if ((d->fd[0] = openat2_beneath(d->root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) <
		    0)
			return cl_error(err, errno, "open layer root");
		d->end[0] = 0;
		d->n = 1;
	}
	at = d->end[d->n - 1];
	while (rel[at]) {
		size_t from = at + (rel[at] == '/'), n = strcspn(rel + from, "/");
		int next;

		if (d->n == sizeof(d->fd) / sizeof(d->fd[0]))
			return cl_error(err, 0, "%.64s...: more than %d path components", rel,
					TAR_MAX_DEPTH);
		if ((next = step(d->fd[d->n - 1], rel, rel + from, n, create, err)) < 0)
			return -1;
		memcpy(d->path + at, rel + at, from + n - at);
		at = from + n;
		d->fd[d->n] = next;
		d->end[d->n++] = at;
	}
	return d->fd[d->n - 1];
}

int img_open_dir_beneath(int root, const char *rel, bool create, struct cl_err *err)
{
	struct img_dirs d;
	int fd;

	img_dirs_init(&d, root);
	if (img_dirs_open(&d, rel, create, err) < 0)
		return img_dirs_close(&d), -1;
	fd = d.fd[--d.n]; /* the caller's now */
	img_dirs_close(&d);
	return fd;
}

/* Why openat2 refused a member, in words. */
static int member_error(const char *rel, int e, struct cl_err *err)
{
	if (e == ELOOP)
		return cl_error(err, 0, "%s: a symlink (not followed)", rel);
	if (e == EXDEV)
		return cl_error(err, 0, "%s: outside the directory", rel);
	return cl_error(err, e, "open %s", rel);
}

int img_open_file_at(int dirfd, const char *rel, struct stat *st, struct cl_err *err)
{
	int path = openat2_beneath(dirfd, rel, O_PATH | O_CLOEXEC), fd;
	struct stat first;

	if (path < 0)
		return member_error(rel, errno, err);
	/* the type first, through an O_PATH fd: opening a device node (a
	 * watchdog, a tape) has effects of its own */
	if (fstat(path, &first) < 0 || !S_ISREG(first.st_mode)) {
		close(path);
		return cl_error(err, 0, "%s: not a regular file", rel);
	}
	close(path);
	/* O_NONBLOCK: swapped for a FIFO since, the open still returns */
	fd = openat2_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return member_error(rel, errno, err);
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_ino != first.st_ino ||
	    st->st_dev != first.st_dev) {
		close(fd);
		return cl_error(err, 0, "%s: not a regular file", rel);
	}
	return fd;
}

int img_open_file(const char *dir, const char *rel, struct stat *st, struct cl_err *err)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return cl_error(err, errno, "open %s", dir);
	fd = img_open_file_at(dfd, rel, st, err);
	close(dfd);
	return fd;
}

int img_mkdir_private(const char *path, struct cl_err *err)
{
	char parent[4096], *slash;

	img_fmt(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if (cl_mkdir_p(parent, 0755, err) < 0)
			return -1;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return cl_error(err, errno, "mkdir %s", path);
	return 0;
}

static int rm_children(int fd, struct cl_err *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d)
		return close(fd), cl_error(err, errno, "opendir");
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = img_rm_tree_at(dirfd(d), de->d_name, err);
	}
	closedir(d);
	return r;
}

int img_rm_tree_at(int dirfd, const char *name, struct cl_err *err)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cl_error(err, errno, "stat %s", name);
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT
			   ? cl_error(err, errno, "unlink %s", name)
			   : 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cl_error(err, errno, "open %s", name);
	if (rm_children(fd, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cl_error(err, errno, "rmdir %s", name);
	return 0;
}

int img_rm_tree(const char *path, struct cl_err *err)
{
	return img_rm_tree_at(AT_FDCWD, path, err);
}

void img_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

int img_chmod_fd(int fd, mode_t mode)
{
	char proc[32];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode);
}
