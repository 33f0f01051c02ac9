/* fsutil.c: small file helpers with ib_err reporting. */
#include "image-builder.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* Out of memory in a short-lived build tool: report and stop. */
static void *oom(void *p)
{
	if (!p) {
		fputs("image-builder: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *ib_strdup(const char *s)
{
	return oom(strdup(s));
}

char *ib_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return oom(n < 0 ? NULL : s);
}

char *ib_path_join(const char *dir, const char *name)
{
	while (*name == '/')
		name++;
	return ib_asprintf("%s/%s", dir, name);
}

int ib_read_file(const char *path, char **buf, size_t *len, struct ib_err *err)
{
	struct stat st;
	char *p = NULL;
	size_t n = 0;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ib_err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0) {
		ib_err_set(err, errno, "stat %s", path);
		goto out;
	}
	p = oom(malloc((size_t)st.st_size + 1));
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, p + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ib_err_set(err, r < 0 ? errno : EIO, "read %s", path);
			goto out;
		}
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p, *len = n, p = NULL;
	ret = 0;
out:
	free(p);
	close(fd);
	return ret;
}

int ib_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, const char *name,
		  struct ib_err *err)
{
	const char *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ib_err_set(err, errno, "write %s", name);
		p += w, len -= (size_t)w, off += (uint64_t)w;
	}
	return 0;
}

int ib_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct ib_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int ret;

	if (fd < 0)
		return ib_err_set(err, errno, "create %s", path);
	ret = ib_pwrite_all(fd, buf, len, 0, path, err);
	/* Explicit: the umask must not decide the modes inside the image. */
	if (ret == 0 && fchmod(fd, mode) < 0)
		ret = ib_err_set(err, errno, "chmod %s", path);
	if (close(fd) < 0 && ret == 0)
		ret = ib_err_set(err, errno, "close %s", path);
	return ret;
}

static int copy_fd(int in, int out, const char *src, const char *dst, struct ib_err *err)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);

		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
			n = sendfile(out, in, NULL, 1 << 30);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ib_err_set(err, errno, "copy %s to %s", src, dst);
		if (n == 0)
			return 0;
	}
}

int ib_copy_file(const char *src, const char *dst, mode_t mode, struct ib_err *err)
{
	int in, out, ret;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ib_err_set(err, errno, "open %s", src);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		ret = ib_err_set(err, errno, "create %s", dst);
		close(in);
		return ret;
	}
	ret = copy_fd(in, out, src, dst, err);
	if (ret == 0 && fchmod(out, mode) < 0)
		ret = ib_err_set(err, errno, "chmod %s", dst);
	if (close(out) < 0 && ret == 0)
		ret = ib_err_set(err, errno, "close %s", dst);
	close(in);
	return ret;
}

int ib_set_mtime(const char *path, time_t t, struct ib_err *err)
{
	struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};

	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ib_err_set(err, errno, "set mtime of %s", path);
	return 0;
}

int ib_file_size(const char *path, uint64_t *size, uint64_t *allocated, struct ib_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ib_err_set(err, errno, "stat %s", path);
	if (size)
		*size = (uint64_t)st.st_size;
	if (allocated)
		*allocated = (uint64_t)st.st_blocks * 512;
	return 0;
}

int ib_mkdir_p(const char *path, mode_t mode, struct ib_err *err)
{
	char *p = ib_strdup(path);
	int ret = 0;

	if (!*p) {
		free(p);
		return ib_err_set(err, ENOENT, "mkdir \"\"");
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = ib_err_set(err, errno, "mkdir %s", p);
			break;
		}
		if (!(*s = c))
			break;
	}
	free(p);
	return ret;
}

/* An entry gone since the walk listed it is removed, not a reason to stop: a gpg-agent
 * stopped by secboot.c deletes its sockets as it exits, while its home is removed
 * (nftw ends the walk at the first non-zero return, which left the rest behind). */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int r;

	(void)st, (void)ftw;
	r = flag == FTW_DP ? rmdir(path) : unlink(path);
	return r < 0 && errno != ENOENT ? -1 : 0;
}

/* Staged directories may be read-only (mode 0555 from the manifest):
 * open them up first so an unprivileged builder can remove their entries. */
static int open_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

int ib_rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	nftw(path, open_dir, 16, FTW_PHYS | FTW_MOUNT);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
