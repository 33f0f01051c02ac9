/* runtime/util.c: small file and string helpers. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

char *cl_strdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		abort(); /* out of memory: nothing sensible to do in a runtime */
	return d;
}

char *cl_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *p;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	p = malloc(la + strlen(b) + 2);
	if (!p)
		abort();
	sprintf(p, "%.*s/%s", (int)la, a, b);
	return p;
}

int cl_write_file(const char *path, const char *data, size_t len, struct cl_err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return cl_error(e, errno, "open %s", path);
	n = write(fd, data, len);
	if (n < 0 || (size_t)n != len) {
		int err = n < 0 ? errno : EIO;
		close(fd);
		return cl_error(e, err, "write %s", path);
	}
	close(fd);
	return 0;
}

int cl_copy_fd(int out, int in)
{
	ssize_t n;

	while ((n = sendfile(out, in, NULL, 1u << 30)) != 0)
		if (n < 0 && errno != EINTR)
			return -1;
	return 0;
}

int cl_read_file(const char *path, char **out, size_t *len, struct cl_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	if (fd < 0)
		return cl_error(e, errno, "open %s", path);
	buf = malloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		if (!buf)
			abort();
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			int err = errno;
			free(buf);
			close(fd);
			return cl_error(e, err, "read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int cl_mkdir_p(const char *path, mode_t mode, struct cl_err *e)
{
	char *p = cl_strdup(path);

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int err = errno;
			cl_error(e, err, "mkdir %s", p);
			free(p);
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

void cl_strv_free(struct cl_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

unsigned long long cl_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p, *save = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields are
	 * counted from the last ')', which ends field 2. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p = strtok_r(p + 1, " ", &save); /* field 3: the state */
	/* a zombie is a stopped container (nobody may reap it soon: the
	 * runtime does not stay, and not every PID 1 reaps) */
	if (!p || *p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; p && field < 22; field++)
		p = strtok_r(NULL, " ", &save);
	return p ? strtoull(p, NULL, 10) : 0;
}
