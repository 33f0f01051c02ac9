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

int img_open_dir_beneath(int root, const char *rel, bool create, struct cl_err *err)
{
	int fd = openat2_beneath(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *p = rel;

	if (fd < 0)
		return cl_error(err, errno, "open layer root");
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char comp[256];
		int next;

		if (n >= sizeof(comp))
			return close(fd), cl_error(err, ENAMETOOLONG, "%s", rel);
		memcpy(comp, p, n);
		comp[n] = 0;
		next = openat2_beneath(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				return close(fd), cl_error(err, errno, "mkdir %s in %s", comp, rel);
			next = openat2_beneath(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		close(fd);
		if (next < 0 && (errno == ELOOP || errno == EXDEV || errno == ENOTDIR))
			return cl_error(err, 0, "%s: %s is a symlink or not a directory", rel,
					comp);
		if (next < 0)
			return cl_error(err, errno, "%s: open %s", rel, comp);
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
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
