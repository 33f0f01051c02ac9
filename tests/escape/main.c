/* escape-probe: the container escape suite's probe (docs/escape-suite.md).
 *
 *   escape-probe [all [stay]]  every in-container probe (default settings);
 *                              stay: then sleep until killed
 *   escape-probe hcexe         a health check exec'ing the runtime's binary
 *   escape-probe net           the network probes (a private network)
 *   escape-probe cwd           the WorkingDir containers: where is "."?
 *   escape-probe vol PATH...   symlinked volumes: where do they lead?
 *   escape-probe restart [V]   plants links in its root and exits 1; at the
 *                              next start checks where the mounts landed
 *   escape-probe hc            a health check: exits 0
 *   escape-probe euid          prints its real and effective uid (planted setuid)
 *   escape-probe as UID GID PROG ARG...   host side: run PROG as UID:GID
 *
 * Each probe prints `PROBE name RESULT detail`; the end is one line
 * `PROBES mode=M total=N blocked=B expected=X escaped=E error=R`. The
 * exit status is 0 (the test reads the lines, not the status), but for
 * restart's first start (1: its restart policy starts it again). */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

struct stat root_st;
static int counts[4];
static const char *const words[] = {"BLOCKED", "EXPECTED", "ESCAPED", "ERROR"};

enum res report(const char *name, enum res res, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (char *p = detail; *p; p++)
		if (*p == '\n')
			*p = ' ';
	/* one write per line: the log is a pipe shared with nobody, but a
	 * line must not be cut by a child's output */
	dprintf(1, "PROBE %s %s %s\n", name, words[res], detail);
	counts[res]++;
	return res;
}

void fmt(char *dst, size_t size, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(dst, size, f, ap);
	va_end(ap);
}

const char *errname(int err)
{
	static char buf[96];
	static const struct {
		int e;
		const char *n;
	} names[] = {{EPERM, "EPERM"},	 {ENOENT, "ENOENT"},	    {EACCES, "EACCES"},
		     {EROFS, "EROFS"},	 {ENOSYS, "ENOSYS"},	    {EINVAL, "EINVAL"},
		     {EBADF, "EBADF"},	 {ENXIO, "ENXIO"},	    {ENODEV, "ENODEV"},
		     {EFAULT, "EFAULT"}, {ETXTBSY, "ETXTBSY"},	    {ESRCH, "ESRCH"},
		     {EBUSY, "EBUSY"},	 {ENOTDIR, "ENOTDIR"},	    {EAFNOSUPPORT, "EAFNOSUPPORT"},
		     {EEXIST, "EEXIST"}, {EOPNOTSUPP, "EOPNOTSUPP"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err) {
			snprintf(buf, sizeof(buf), "%s (%s)", names[i].n, strerror(err));
			return buf;
		}
	snprintf(buf, sizeof(buf), "errno %d (%s)", err, strerror(err));
	return buf;
}

enum res syscall_result(const char *name, long ret, int err, const char *why)
{
	if (ret == -1)
		return report(name, BLOCKED, "%s", errname(err));
	return report(name, ESCAPED, "returned %ld: %s", ret, why);
}

/* The child writes its result and detail into a pipe; the parent reads them. */
enum res child_call(enum res (*fn)(void *arg, char *detail, size_t size), void *arg, char *detail,
		    size_t size)
{
	char buf[1024] = {0};
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0) {
		snprintf(detail, size, "pipe: %s", errname(errno));
		return ERROR;
	}
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		snprintf(detail, size, "fork: %s", errname(errno));
		return ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		buf[0] = (char)fn(arg, buf + 1, sizeof(buf) - 2);
		if (write(p[1], buf, 1 + strlen(buf + 1)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	if (n < 1 || buf[0] < BLOCKED || buf[0] > ERROR) {
		snprintf(detail, size, "the child reported nothing (status %#x)", st);
		return ERROR;
	}
	snprintf(detail, size, "%s", buf + 1);
	return (enum res)buf[0];
}

enum res in_child(const char *name, enum res (*fn)(void *arg, char *detail, size_t size), void *arg)
{
	char detail[1024];
	enum res r = child_call(fn, arg, detail, sizeof(detail));

	return report(name, r, "%s", detail);
}

static int summary(const char *mode)
{
	int total = counts[0] + counts[1] + counts[2] + counts[3];

	dprintf(1, "PROBES mode=%s total=%d blocked=%d expected=%d escaped=%d error=%d\n", mode,
		total, counts[BLOCKED], counts[EXPECTED], counts[ESCAPED], counts[ERROR]);
	return 0;
}

/* stay: the container keeps running (its health checks go on, its bundle
 * stays mounted for the host side's checks) */
static int run_all(bool stay)
{
	probes_fds();
	probes_ns();
	probes_mounts();
	probes_calls();
	probes_devices();
	probes_files();
	probes_net(true); /* the default network: a bridge's */
	plant();
	probes_watch();
	summary("all");
	while (stay)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	/* before anything opens an fd of its own */
	fds_record();
	if (strcmp(mode, "as") == 0)
		return host_as(argv + 2);
	if (strcmp(mode, "hc") == 0)
		return 0;
	if (strcmp(mode, "euid") == 0) {
		printf("EUID=%d UID=%d\n", (int)geteuid(), (int)getuid());
		return 0;
	}
	if (stat("/", &root_st) < 0) {
		dprintf(1, "PROBE root ERROR stat /: %s\n", errname(errno));
		return 1;
	}
	dprintf(1, "ESCAPE-PROBE mode=%s pid=%d uid=%d root=%u:%u:%lu\n", mode, (int)getpid(),
		(int)getuid(), major(root_st.st_dev), minor(root_st.st_dev),
		(unsigned long)root_st.st_ino);
	if (strcmp(mode, "all") == 0)
		return run_all(argc > 2 && strcmp(argv[2], "stay") == 0);
	if (strcmp(mode, "net") == 0) {
		probes_net(false); /* declared network: host */
		return summary("net");
	}
	if (strcmp(mode, "hcexe") == 0) {
		probes_hcexe();
		return summary("hcexe");
	}
	if (strcmp(mode, "cwd") == 0) {
		probes_cwd();
		return summary("cwd");
	}
	if (strcmp(mode, "vol") == 0) {
		probes_volumes(argc - 2, argv + 2);
		return summary("vol");
	}
	if (strcmp(mode, "restart") == 0) {
		int r = probes_restart(argc > 2 ? argv[2] : NULL);
		summary("restart");
		return r;
	}
	dprintf(2, "escape-probe: unknown mode %s\n", mode);
	return 2;
}
