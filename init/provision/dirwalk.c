/*
 * dirwalk.c: a directory of a path that root is about to write into or
 * mount on, opened one component at a time.
 *
 * Homes and much of /var belong to users, who can aim any path root
 * follows with a symlink: write_files' and ssh keys' directories,
 * mounts' mountpoints (a device mounted on /etc/wisp through
 * /home/alice/data -> /etc/wisp is root). A symlink is followed only when
 * root owns it (with fs.protected_hardlinks, sysctl.c, no user can make
 * one root's), and its text is walked by the same rule, so that a root's
 * link into a user's directory gains the user nothing either.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40 /* the kernel's own bound on one resolution */

static int walk(int at, const char *path, bool mk, int *links, struct err *e);

/* Component c of dir fd is a symlink: root's is walked from fd, a user's refused. */
static int through_link(int fd, const char *c, bool mk, int *links, struct err *e)
{
	char text[4096];
	struct stat st;
	ssize_t n;

	if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return err_set(e, ENOTDIR, "%s", c);
	if (st.st_uid != 0)
		return err_set(e, 0, "symlink %s of uid %u on the way, not followed", c,
			       (unsigned)st.st_uid);
	if (++*links > MAX_LINKS)
		return err_set(e, ELOOP, "%s: more than %d symlinks on the way", c, MAX_LINKS);
	if ((n = readlinkat(fd, c, text, sizeof(text) - 1)) < 0)
		return err_set(e, errno, "readlink %s", c);
	text[n] = '\0';
	return walk(fd, text, mk, links, e);
}

/* The next directory after fd: c itself (made, 0755, when missing and mk), or its link's. */
static int step(int fd, const char *c, bool mk, int *links, struct err *e)
{
	int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (next < 0 && errno == ENOENT && mk && mkdirat(fd, c, 0755) == 0)
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (next >= 0)
		return next;
	if (errno == ELOOP || errno == ENOTDIR) /* O_NOFOLLOW met a symlink, or a file */
		return through_link(fd, c, mk, links, e);
	return err_set(e, errno, "%s", c);
}

/* path from at (from / when absolute); returns an fd, or -1 with e naming the component */
static int walk(int at, const char *path, bool mk, int *links, struct err *e)
{
	char buf[4096], *save = NULL, *c;
	int fd = openat(at, path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, errno, "open %s", path[0] == '/' ? "/" : ".");
	if (fmt_path(buf, sizeof(buf), "%s", path) < 0) {
		close(fd);
		return err_set(e, ENAMETOOLONG, "a path over %zu bytes", sizeof(buf));
	}
	for (c = strtok_r(buf, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = step(fd, c, mk, links, e);
		close(fd);
		fd = next;
	}
	return fd;
}

int dir_walk(const char *path, bool mk, struct err *e)
{
	int links = 0, fd = walk(AT_FDCWD, path, mk, &links, e);

	if (fd < 0)
		err_ctx(e, "%s", path);
	return fd;
}
