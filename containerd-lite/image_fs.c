/* image_fs.c: directory walking beneath a root without following any
 * symlink (openat2, kernel >= 5.6), and recursive removal. */
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
