/* image/shift.c: a tree's owners moved from one id range to another, for
 * a container's upper directory and volumes when its user namespace
 * changes (made before user namespaces, or `userns: host` <-> `auto`).
 *
 * Only ids in [from, from + IMG_USERNS_SIZE) move, so a walk cut short
 * (a crash) is simply run again: what it moved already is outside the
 * source range (the ranges never overlap) and stays. The walk goes
 * through directory fds opened without following symlinks and stays on
 * the tree's own filesystem; symlinks themselves are chowned, never
 * followed. chown clears the setuid and setgid bits of a file: they are
 * put back (file capabilities, security.capability, are dropped by the
 * kernel and are not). */
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

/* name beneath dirfd (st its lstat): chowned when its ids move. */
static int shift_one(const struct shift *s, int dirfd, const char *name, const struct stat *st,
		     struct cl_err *err)
{
	uid_t uid = moved(s, st->st_uid);
	gid_t gid = moved(s, st->st_gid);

	if (uid == st->st_uid && gid == st->st_gid)
		return 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0)
		return cl_error(err, errno, "chown %s", *name ? name : "the tree's top");
	/* not through a symlink that replaced the file since its lstat (a tree a container
	 * wrote): the chmod fails instead of reaching the link's target on the host */
	if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
	    fchmodat(dirfd, name, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return cl_error(err, errno, "chmod %s", name);
	return 0;
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
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? 0 : cl_error(err, errno, "stat %s", de->d_name);
			continue;
		}
		if (st.st_dev != s->dev) /* a mount on it: not the tree's */
			continue;
		if ((r = shift_one(s, dirfd(d), de->d_name, &st, err)) < 0 || !S_ISDIR(st.st_mode))
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			r = cl_error(err, errno, "open %s", de->d_name);
		else if ((r = walk(s, sub, depth + 1, err)) < 0)
			cl_error_wrap(err, "%s", de->d_name);
	}
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
	if (shift_one(&s, fd, "", &st, err) < 0)
		return close(fd), cl_error_wrap(err, "shift the owners of %s", path);
	if (walk(&s, fd, 0, err) < 0)
		return cl_error_wrap(err, "shift the owners of %s", path);
	return 0;
}
