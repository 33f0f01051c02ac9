/* util.c: helpers too small to deserve a file of their own. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ms(void)
{
	struct timespec ts;

	/* BOOTTIME, not MONOTONIC: the banner reports uptime, and timers
	 * should not drift from it across a suspend. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int read_fd(int fd, const char *path, char *buf, size_t size, struct err *e)
{
	size_t len = 0;
	int ret = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err_set(e, errno, "read %s", path);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return ret < 0 ? ret : (int)len;
}

int read_text(const char *path, char *buf, size_t size, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	return read_fd(fd, path, buf, size, e);
}

/*
 * Bytes from outside (a seed, a metadata service) that PID 1 reads whole:
 * no symlink, nothing that can block (a FIFO, a device), and all or
 * nothing: a file over the limit is refused, not read truncated.
 */
int read_file(const char *path, char *buf, size_t size, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	struct stat st = {0};
	int err;

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	err = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
	if (!err && st.st_size >= (off_t)size)
		err = EFBIG;
	if (err) {
		close(fd);
		if (err == EFBIG)
			return err_set(e, err, "%s: %lld bytes, over the limit of %zu", path,
				       (long long)st.st_size, size - 1);
		return err_set(e, err, "%s: not a regular file", path);
	}
	return read_fd(fd, path, buf, size, e);
}

int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* durable: fsync'd before it is closed (what a reset may follow must be on disk) */
static int put_file(const char *path, const void *data, size_t len, mode_t mode, bool durable,
		    struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	int ret = 0;

	if (fd < 0)
		return err_set(e, errno, "create %s", path);
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0))
		ret = err_set(e, errno, "write %s", path);
	if (close(fd) < 0 && ret == 0)
		ret = err_set(e, errno, "write %s", path);
	return ret;
}

int write_value(const char *path, const char *val, struct err *e)
{
	/* O_TRUNC: what a shell's ">" does; kernfs ignores it, a test's plain file needs it. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	if (write_all(fd, val, strlen(val)) < 0) {
		err_set(e, errno, "write \"%s\" to %s", val, path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int write_file(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	return put_file(path, data, len, mode, false, e);
}

int write_file_synced(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	return put_file(path, data, len, mode, true, e);
}

int sync_path(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	if (fsync(fd) < 0)
		ret = err_set(e, errno, "fsync %s", path);
	close(fd);
	return ret;
}

int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char buf[4096];

	if (fmt_path(buf, sizeof(buf), "%s", path) < 0)
		return err_set(e, ENAMETOOLONG, "mkdir %s", path);
	/* Each '/' ends a directory above path (a leading one names "/", which exists). */
	for (char *s = buf + (buf[0] == '/');; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, c ? 0755 : mode) < 0 && errno != EEXIST)
			return err_set(e, errno, "mkdir %s", buf);
		if (!(*s = c))
			return 0;
	}
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void strv_sort(char **v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char *x = v[i];
		size_t j = i;

		for (; j > 0 && strcmp(v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

char **strv_push(char **v, const char *s)
{
	size_t n = strv_len(v);
	char **nv = realloc(v, (n + 2) * sizeof(*nv));

	if (!nv)
		return v;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv;
}

char *single_quoted(const char *s)
{
	size_t n = 3;
	char *out, *o;

	for (const char *q = s; *q; q++)
		n += *q == '\'' ? 4 : 1;
	if (!(out = o = malloc(n)))
		return NULL;
	*o++ = '\'';
	for (; *s; s++)
		if (*s == '\'')
			memcpy(o, "'\\''", 4), o += 4;
		else
			*o++ = *s;
	*o++ = '\'';
	*o = '\0';
	return out;
}

const char *text_escaped(const void *p, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t o = 0;

	for (size_t i = 0; i < len && size; i++) {
		bool plain = b[i] >= 0x20 && b[i] < 0x7f;

		if (o + (plain ? 1 : 4) >= size)
			break;
		if (plain) {
			out[o++] = (char)b[i];
			continue;
		}
		out[o++] = '\\', out[o++] = 'x';
		out[o++] = hex[b[i] >> 4], out[o++] = hex[b[i] & 15];
	}
	if (size)
		out[o] = '\0';
	return out;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

const char *signal_name(int sig, char buf[static 16])
{
	/* The ones a log reader meets; the rest print as numbers. */
	static const struct {
		int sig;
		const char *name;
	} names[] = {
	    {SIGHUP, "HUP"},   {SIGINT, "INT"},	  {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
	    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
	    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
	    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"}, {SIGCHLD, "CHLD"},
	    {SIGCONT, "CONT"}, {SIGSTOP, "STOP"}, {SIGPWR, "PWR"},   {SIGSYS, "SYS"},
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].sig == sig)
			return names[i].name;
	snprintf(buf, 16, "%d", sig);
	return buf;
}

bool unit_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > DECL_NAME_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == len;
}

const char *dec_scan(const char *s, uint64_t *v)
{
	const char *p = s;

	for (*v = 0; *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return NULL;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return p == s ? NULL : p;
}
