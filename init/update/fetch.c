/*
 * fetch.c: a bundle named by an http:// URL, read from busybox wget's output.
 *
 * The bundle carries its own trust (its signature and digests, checked as it
 * streams), so plain HTTP is enough to carry it; https:// needs the TLS that
 * registry pulls bring (issue 15) and is refused until then: pipe it in from
 * a tool that speaks it (`curl URL | wispctl update apply -`).
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WGET "/usr/bin/wget"

bool fetch_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int fetch_open(const char *url, pid_t *pid, struct err *e)
{
	int p[2];

	if (strncmp(url, "https://", 8) == 0)
		return err_set(e, 0,
			       "%s: no TLS in the updater yet: pipe it in (curl %s | "
			       "wispctl update apply -)",
			       url, url);
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe for %s", WGET);
	*pid = fork();
	if (*pid == 0) {
		dup2(p[1], STDOUT_FILENO); /* stderr stays ours: its errors are not the bundle */
		execl(WGET, "wget", "-q", "-O", "-", url, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (*pid < 0) {
		close(p[0]);
		return err_set(e, errno, "fork for %s", WGET);
	}
	return p[0];
}

int fetch_close(int fd, pid_t pid, const char *url, struct err *e)
{
	int status;

	close(fd);
	if (waitpid(pid, &status, 0) < 0)
		return err_set(e, errno, "wait for %s", WGET);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, 0, "%s: wget failed (status %d)", url,
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
