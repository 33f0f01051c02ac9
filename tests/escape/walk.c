/* walk.c: where a directory fd leads. ".." from anywhere inside the
 * container stops at its root (the kernel stops a walk at the process's
 * root); from a directory outside it, it climbs to a root that is not the
 * container's: the host's, where the host marker can be read. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The top of DIR's ".." chain, as a new fd; -1 on error (errno). */
static int top_of(int dir)
{
	int cur = openat(dir, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	for (int i = 0; cur >= 0 && i < 4096; i++) {
		struct stat a, b;
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (up < 0 || fstat(cur, &a) < 0 || fstat(up, &b) < 0) {
			int err = errno;

			if (up >= 0)
				close(up);
			close(cur);
			errno = err;
			return -1;
		}
		if (same(&a, &b)) {
			close(up);
			return cur;
		}
		close(cur);
		cur = up;
	}
	return cur;
}

/* The host marker's first line, read beneath TOP; empty when absent. */
static void marker(int top, char *out, size_t size)
{
	int fd = openat(top, HOST_MARKER, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	out[0] = 0;
	if (fd < 0)
		return;
	n = read(fd, out, size - 1);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	out[strcspn(out, "\n")] = 0;
}

enum res judge_dir(int dir, char *detail, size_t size)
{
	char mark[128];
	struct stat st;
	int top = top_of(dir);

	if (top < 0) {
		fmt(detail, size, "walking \"..\": %s", errname(errno));
		return ERROR;
	}
	if (fstat(top, &st) < 0) {
		fmt(detail, size, "fstat: %s", errname(errno));
		close(top);
		return ERROR;
	}
	if (same(&st, &root_st)) {
		close(top);
		fmt(detail, size, "\"..\" stops at the container's root");
		return BLOCKED;
	}
	marker(top, mark, sizeof(mark));
	close(top);
	if (*mark)
		fmt(detail, size, "reached the host's root (dev %u:%u ino %lu): read %s: %s",
		    major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, HOST_MARKER,
		    mark);
	else
		fmt(detail, size,
		    "\"..\" climbs to a root that is not the container's (dev %u:%u ino %lu; "
		    "no host marker there)",
		    major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
	return ESCAPED;
}

enum res judge_path(const char *path, char *detail, size_t size)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	enum res r;

	if (fd < 0) {
		fmt(detail, size, "open %s: %s", path, errname(errno));
		return BLOCKED;
	}
	r = judge_dir(fd, detail, size);
	close(fd);
	return r;
}
