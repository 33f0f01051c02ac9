/* image/shift.c: a tree's owners moved from one id range to another, for
 * a container's upper directory and volumes when its user namespace
 * changes (made before user namespaces, or `userns: host` <-> `auto`).
 *
 * Only ids in [from, from + IMG_USERNS_SIZE) move, so a walk cut short
 * (a crash) is simply run again: what it moved already is outside the
 * source range (the ranges never overlap) and stays. The walk goes
 * through fds opened without following symlinks (O_PATH, then the
 * directory reopened through its fd) and stays on the tree's own
 * filesystem; every owner and mode is set on such an fd, never by name:
 * symlinks themselves are chowned, never followed. chown clears the
 * setuid and setgid bits of a file: they are put back (file capabilities,
 * security.capability, are dropped by the kernel and are not). */
#include "image.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A bound on the fds one walk holds: as deep as a layer's paths may go
 * (image.h), deeper than any real tree. */
#define SHIFT_DEPTH TAR_MAX_DEPTH

struct shift {
	uint32_t from, to;
	dev_t dev;
};

static uint32_t moved(const struct shift *s, uint32_t id)
{
	return id >= s->from && id - s->from < IMG_USERNS_SIZE ? id - s->from + s->to : id;
}

/* The inode fd holds (st its fstat; name for errors): chowned when its ids
 * move. Through the fd, not the name: a name a container swapped since (for
 * a symlink, or a hardlink to another file) is not looked up again. */
static int shift_fd(const struct shift *s, int fd, const struct stat *st, const char *name,
		    struct cl_err *err)
{
	uid_t uid = moved(s, st->st_uid);
	gid_t gid = moved(s, st->st_gid);

	if (uid == st->st_uid && gid == st->st_gid)
		return 0;
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		return cl_error(err, errno, "chown %s", name);
	if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
	    img_chmod_fd(fd, st->st_mode & 07777) < 0)
		return cl_error(err, errno, "chmod %s", name);
	return 0;
}

static int walk(const struct shift *s, int fd, int depth, struct cl_err *err);

/* name beneath dirfd, opened O_PATH|O_NOFOLLOW once (nothing of a FIFO or
 * a device runs): shifted, and walked when a directory. */
static int shift_entry(const struct shift *s, int dirfd, const char *name, int depth,
		       struct cl_err *err)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), sub, r = 0;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : cl_error(err, errno, "open %s", name);
	if (fstat(fd, &st) < 0)
		r = cl_error(err, errno, "stat %s", name);
	else if (st.st_dev != s->dev) /* a mount on it: not the tree's */
		r = 0;
	else if ((r = shift_fd(s, fd, &st, name, err)) == 0 && S_ISDIR(st.st_mode)) {
		sub = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			r = cl_error(err, errno, "open %s", name);
		else if ((r = walk(s, sub, depth + 1, err)) < 0)
			cl_error_wrap(err, "%s", name);
	}
	close(fd);
	return r;
}

static int walk(const struct shift *s, int fd, int depth, struct cl_err *err)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > SHIFT_DEPTH)
		return close(fd),
		       cl_error(err, ELOOP, "more than %d directories deep", SHIFT_DEPTH);
	if (!(d = fdopendir(fd)))
		return close(fd), cl_error(err, errno, "opendir");
	while (r == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = shift_entry(s, dirfd(d), de->d_name, depth, err);
	closedir(d);
	return r;
}

int img_shift_tree(const char *path, uint32_t from, uint32_t to, struct cl_err *err)
{
	struct shift s = {.from = from, .to = to};
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : cl_error(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return close(fd), cl_error(err, errno, "stat %s", path);
	s.dev = st.st_dev;
	if (from == to)
		return close(fd), 0;
	if (shift_fd(&s, fd, &st, "the tree's top", err) < 0)
		return close(fd), cl_error_wrap(err, "shift the owners of %s", path);
	if (walk(&s, fd, 0, err) < 0)
		return cl_error_wrap(err, "shift the owners of %s", path);
	return 0;
}
