/* image/staged.c: what `image pull`'s network side left, taken by root.
 *
 * The child that fetched the blobs (image/pullnet.c) ran as nobody and
 * parsed a registry's bytes: it may be the registry's now. So once it has
 * exited (and, as a pid namespace's init, everything it started with it),
 * each blob the pull uses is checked again before the import reads it: a
 * regular file opened without following a link, its only name (a second
 * one would be another way to change it), the size and the sha256 the
 * manifest names. It is made root's, read-only, and found open for
 * writing nowhere (no_writer) before it is hashed, and the file hashed is
 * the file linked into STAGE/blobs (through its descriptor: a name
 * swapped in between is not taken). */
#include "../runtime/cl-private.h"
#include "pull.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No descriptor open for writing is left on FD's file: one opened before
 * it was made root's, by a process of the child's uid that outlived it (a
 * concurrent pull's child, taken by its registry), could write after the
 * hash. The kernel grants a read lease only while none is (fcntl(2),
 * F_SETLEASE); once the file is root's and 0444 no new one can be opened. */
static int no_writer(int fd, const struct img_want *w, struct cl_err *err)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
		return fcntl(fd, F_SETLEASE, F_UNLCK), 0;
	if (errno != EAGAIN)
		return cl_error(err, errno, "blob %s: lease", w->digest);
	return cl_error(err, 0, "blob %s: as staged, open for writing by another process",
			w->digest);
}

static int take_one(int dir, int blobs, const struct img_want *w, struct cl_err *err)
{
	const char *hex = w->digest + 7;
	char got[65], self[64];
	struct stat st;
	uint64_t size;
	int fd, r = -1;

	if (fstatat(blobs, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0; /* named twice by the manifest: taken already */
	if ((fd = img_open_file_at(dir, hex, &st, err)) < 0)
		return cl_error_wrap(err, "blob %s: as staged", w->digest);
	img_fmt(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (st.st_nlink != 1)
		cl_error(err, 0, "blob %s: as staged, %ju links", w->digest,
			 (uintmax_t)st.st_nlink);
	else if ((uint64_t)st.st_size != w->size)
		cl_error(err, 0, "blob %s: as staged, %lld bytes, the manifest says %llu",
			 w->digest, (long long)st.st_size, (unsigned long long)w->size);
	else if (fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0444) < 0)
		cl_error(err, errno, "blob %s: take", w->digest);
	else if (no_writer(fd, w, err) < 0)
		;
	else if (img_hash_fd(fd, w->size, got, &size, err) < 0)
		cl_error_wrap(err, "blob %s: as staged", w->digest);
	else if (size != w->size || strcmp(got, hex) != 0)
		cl_error(err, 0, "blob %s: as staged, sha256 is %s", w->digest, got);
	else if (linkat(AT_FDCWD, self, blobs, hex, AT_SYMLINK_FOLLOW) < 0)
		cl_error(err, errno, "blob %s: link into the staging directory", w->digest);
	else
		r = unlinkat(dir, hex, 0) < 0 ? cl_error(err, errno, "blob %s: unlink", w->digest)
					      : 0;
	close(fd);
	return r;
}

int img_staged_take(int dir, const char *stage, const struct img_want *w, size_t n,
		    struct cl_err *err)
{
	char path[4096];
	int blobs, r = 0;

	img_fmt(path, sizeof(path), "%s/blobs", stage);
	if ((blobs = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return cl_error(err, errno, "open %s", path);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = take_one(dir, blobs, &w[i], err);
	close(blobs);
	return r;
}
