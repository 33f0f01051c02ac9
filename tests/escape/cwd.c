/* cwd.c: the containers whose working directory or volumes an image
 * chose to point outside (WorkingDir /proc/self/fd/N, the runc
 * CVE-2024-21626 class; a volume path that is a symlink out of the
 * root). Either the runtime refuses to start them, or they find
 * themselves inside their own root. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int probes_cwd(void)
{
	char cwd[4096], why[768];
	enum res r;

	if (!getcwd(cwd, sizeof(cwd)))
		report("cwd-getcwd", ESCAPED, "getcwd: %s (the cwd is not beneath the root)",
		       errname(errno));
	else if (cwd[0] != '/')
		report("cwd-getcwd", ESCAPED, "getcwd: %s (the cwd is not beneath the root)", cwd);
	else
		report("cwd-getcwd", BLOCKED, "the cwd is %s, beneath the root", cwd);
	r = judge_path(".", why, sizeof(why));
	report("cwd-walk", r, "%s", why);
	return 0;
}

static void volume(int i, const char *path)
{
	char name[32], why[768], link[256] = "", file[512], mark[600];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	enum res r;
	int fd;

	if (n > 0)
		link[n] = 0;
	fmt(name, sizeof(name), "vol-%d-walk", i);
	r = judge_path(path, why, sizeof(why));
	report(name, r, "%s%s%s: %s", path, n > 0 ? " -> " : "", link, why);
	/* the host's /var, if the volume landed there */
	fmt(name, sizeof(name), "vol-%d-marker", i);
	fmt(mark, sizeof(mark), "%s/lib/escape-marker", path);
	if ((fd = open(mark, O_RDONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		report(name, ESCAPED, "%s: the host's marker is readable", mark);
	} else
		report(name, BLOCKED, "%s: %s", mark, errname(errno));
	/* where a write lands: the test looks for it on the host */
	fmt(file, sizeof(file), "%s/escape-vol-written-%d", path, i);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		close(fd);
		dprintf(1, "WROTE %s\n", file);
	} else
		dprintf(1, "NOT-WRITTEN %s: %s\n", file, errname(errno));
}

int probes_volumes(int n, char **paths)
{
	for (int i = 0; i < n; i++)
		volume(i, paths[i]);
	return 0;
}
