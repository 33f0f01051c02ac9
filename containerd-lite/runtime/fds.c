/* runtime/fds.c: what a container process may inherit from the runtime.
 *
 * Close-on-exec acts only at execve, but a container process runs
 * runtime code inside the container first: it joins namespaces, mounts,
 * runs hooks, chdirs to process.cwd and looks up the program. Any
 * descriptor of the runtime open then (the host's cgroup directory, a
 * namespace of the host, whatever the caller passed) is a way out:
 * /proc/self/fd/N as the cwd or in the program's path reaches the host's
 * tree (runc CVE-2024-21626). So the first step of every container
 * process closes all but the descriptors of its handshake. */
#include "cl-private.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Kernels before 5.9: what /proc/self/fd lists, read in full first (the
 * directory's own descriptor is among them). */
static int close_listed(const int *keep, size_t n, struct cl_err *e)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[4096], nfds = 0, dfd;
	struct dirent *de;

	if (!d)
		return cl_error(e, errno, "close inherited descriptors: /proc/self/fd");
	dfd = dirfd(d);
	while ((de = readdir(d)) && nfds < (int)(sizeof(fds) / sizeof(fds[0]))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd <= 2 || fd == dfd)
			continue;
		if (!bsearch(&(int){(int)fd}, keep, n, sizeof(int), cmp_int))
			fds[nfds++] = (int)fd;
	}
	closedir(d);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return 0;
}

int cl_close_fds_except(const int *keep_in, size_t n, struct cl_err *e)
{
	int keep[CL_KEEP_FDS_MAX];
	unsigned int from = 3;
	size_t k = 0;

	for (size_t i = 0; i < n && k < CL_KEEP_FDS_MAX; i++)
		if (keep_in[i] > 2)
			keep[k++] = keep_in[i];
	qsort(keep, k, sizeof(int), cmp_int);
	/* the gaps between the kept descriptors, and all above the last */
	for (size_t i = 0; i <= k; i++) {
		unsigned int to = i < k ? (unsigned int)keep[i] : UINT_MAX;
		if (to > from && syscall(SYS_close_range, from, to - 1, 0) < 0) {
			if (errno == ENOSYS || errno == EINVAL)
				return close_listed(keep, k, e);
			return cl_error(e, errno, "close inherited descriptors");
		}
		if (i < k)
			from = (unsigned int)keep[i] + 1;
	}
	return 0;
}
