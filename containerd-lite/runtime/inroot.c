/* runtime/inroot.c: process.cwd and the program, resolved beneath the container's
 * root.
 *
 * Both are names the image chooses (WorkingDir, Entrypoint) and both are
 * resolved by runtime code running in the container before its execve,
 * when a descriptor of the runtime could still be open. The lookup
 * (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) treats "/" as the
 * floor of every ".." and symlink and refuses the magic links of /proc
 * (/proc/self/fd/N, /proc/self/cwd, /proc/PID/root) that lead out of it.
 * The working directory is then entered by descriptor and checked with
 * getcwd, which reports a directory the root cannot reach (runc's
 * verifyCwd, CVE-2024-21626). Kernels before 5.6 (no openat2) get
 * ENOSYS, as the mounts do (rootpath.c): no user-space fallback. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

int cl_open_in_root(const char *path, int flags)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd, err;

	if (root < 0)
		return -1;
	fd = cl_root_openat(root, path, flags, false);
	err = errno;
	close(root);
	errno = err;
	return fd;
}

/* getcwd(2) prefixes "(unreachable)" to a directory outside the root;
 * the C libraries differ in what they make of it, so the raw call. */
static int verify_cwd(char *buf, size_t size, struct cl_err *e)
{
	long n = syscall(SYS_getcwd, buf, size);

	if (n < 0)
		return cl_error(e, errno, "getcwd");
	if (n == 0 || buf[0] != '/')
		return cl_error(e, 0,
				"process.cwd is outside the container's root: refusing to start "
				"(a leaked directory?)");
	return 0;
}

int cl_enter_cwd(const char *cwd, struct cl_err *e)
{
	int fd = cl_open_in_root(cwd, O_PATH | O_DIRECTORY), ret = 0;
	char buf[PATH_MAX];

	if (fd < 0 && errno == ELOOP)
		return cl_error(e, errno,
				"chdir %s: a magic link of /proc (refused) or a symlink loop", cwd);
	if (fd < 0)
		return cl_error(e, errno, "chdir %s", cwd);
	if (fchdir(fd) < 0)
		ret = cl_error(e, errno, "chdir %s", cwd);
	close(fd);
	if (ret == 0 && verify_cwd(buf, sizeof(buf), e) < 0)
		ret = -1;
	return ret;
}

/* PATH as in the root: absolute, or relative to the (checked) cwd. */
static char *in_root_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return cl_strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return cl_path_join(cwd, path);
}

/* 0 if PATH is, beneath the root, a regular file we may execute;
 * otherwise -1 with errno. */
static int executable(const char *path)
{
	int fd = cl_open_in_root(path, O_PATH), err = 0;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
	else if (syscall(SYS_faccessat2, fd, "", X_OK, AT_EMPTY_PATH) < 0)
		/* before 5.8: what access() of root checks, some x bit */
		err = errno != ENOSYS ? errno : (st.st_mode & 0111) ? 0 : EACCES;
	close(fd);
	errno = err;
	return err ? -1 : 0;
}

char *cl_find_program(const struct cl_spec *s, struct cl_err *e)
{
	const char *name = s->args.v[0], *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
						 "/usr/bin:/sbin:/bin";
	char buf[PATH_MAX], *full;

	if (strchr(name, '/')) {
		full = in_root_path(name);
		if (!full || executable(full) < 0) {
			cl_error(e, errno, "exec %s", name);
			free(full);
			return NULL;
		}
		return full;
	}
	for (size_t i = 0; i < s->env.n; i++)
		if (strncmp(s->env.v[i], "PATH=", 5) == 0)
			path = s->env.v[i] + 5;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (n && (full = in_root_path(buf))) {
			if (executable(full) == 0)
				return full;
			free(full);
		}
		p += n + (p[n] == ':');
	}
	cl_error(e, 0, "exec \"%s\": executable file not found in $PATH", name);
	return NULL;
}
