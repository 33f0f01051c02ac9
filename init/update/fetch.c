/*
 * fetch.c: a bundle named by an http:// or https:// URL, read from the
 * output of `containerd-lite image fetch URL` (image/urlget.c).
 *
 * The bundle carries its own trust (its signature and digests, checked as it
 * streams), so TLS adds privacy and a sooner refusal, not trust; it is still
 * verified (the system's CAs, which user-data's ca_certs extends). TLS lives
 * in the runtime, which pulls images with it: the updater stays small. The
 * runtime's stderr is kept, so that a failed download is the updater's one
 * line ("GET URL: HTTP 404"), not two.
 *
 * The URL goes to the fetcher in its environment (CL_FETCH_URL), not its argv:
 * a presigned URL's query is a credential, and /proc/PID/cmdline is every
 * user's to read, /proc/PID/environ root's alone here. A message names the URL
 * without its query and its userinfo (fetch_shown: "https://user:password@host/" as
 * "https://host/", git's transport_anonymize_url): the unit's log keeps it. What the fetcher
 * says, it says as nobody: its error line is quoted with its controls escaped.
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define FETCHER		  "/bin/containerd-lite"
#define FETCHER_URL_ENV	  "CL_FETCH_URL" /* containerd-lite's IMG_FETCH_URL_ENV */
#define FETCH_SILENCE_S	  600u
#define FETCH_SILENCE_ENV "WISP_TEST_FETCH_SILENCE"

/* The scheme in any case (RFC 3986 3.1): "HTTPS://u:p@h/x" taken for a file's path was
 * opened, and its "No such file" named it whole, password and all. */
bool fetch_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Where the host starts after "scheme://": past the authority's last '@' (userinfo, RFC 3986
 * 3.2.1), which ends at the first '/', '?' or '#'; an '@' past it is the path's or query's. */
static const char *url_host(const char *auth)
{
	const char *host = auth;

	for (const char *p = auth; *p && !strchr("/?#", *p); p++)
		if (*p == '@')
			host = p + 1;
	return host;
}

const char *fetch_shown(const char *s, char *out, size_t size)
{
	const char *auth, *host;
	size_t keep;

	if (!fetch_is_url(s))
		return s;
	auth = strstr(s, "://") + 3;
	host = url_host(auth);
	keep = strcspn(host, "?#");
	if (host == auth && !host[keep])
		return s;
	snprintf(out, size, "%.*s%.*s", (int)(auth - s), s, (int)keep, host);
	return out;
}

/* The longest the fetcher may send nothing: its own limits end a download whose bytes stop
 * (60 s under 1 KiB/s, a 30 s connect, 5 redirects: 540 s at most), but only its own; one
 * taken over would hold the updater, and its lock, for ever. Tests lower it (never raise). */
static unsigned fetch_silence_s(void)
{
	const char *s = getenv(FETCH_SILENCE_ENV);
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	return v > 0 && v < FETCH_SILENCE_S ? (unsigned)v : FETCH_SILENCE_S;
}

void fetch_silence(const char *name, struct err *e)
{
	if (e->num == EAGAIN || e->num == EWOULDBLOCK)
		err_set(e, 0, "%s: %s sent nothing for %u s (stopped)", name, FETCHER,
			fetch_silence_s());
}

static void child(const int out[2], const int errp[2], const char *url)
{
	dup2(out[1], STDOUT_FILENO);
	dup2(errp[1], STDERR_FILENO);
	if (setenv(FETCHER_URL_ENV, url, 1) < 0) {
		dprintf(STDERR_FILENO, "%s: %s\n", FETCHER_URL_ENV, strerror(errno));
		_exit(127);
	}
	execl(FETCHER, "containerd-lite", "image", "fetch", (char *)NULL);
	dprintf(STDERR_FILENO, "exec %s: %s\n", FETCHER, strerror(errno));
	_exit(127);
}

int fetch_open(const char *url, struct fetch *f, struct err *e)
{
	int out[2], errp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0 ||
	    setsockopt(out[0], SOL_SOCKET, SO_RCVTIMEO,
		       &(struct timeval){.tv_sec = fetch_silence_s()}, sizeof(struct timeval)) < 0)
		return err_set(e, errno, "socket for %s", FETCHER);
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]);
		return err_set(e, errno, "pipe for %s", FETCHER);
	}
	f->pid = fork();
	if (f->pid == 0)
		child(out, errp, url);
	close(out[1]), close(errp[1]);
	f->err_fd = errp[0];
	if (f->pid < 0) {
		close(out[0]), close(errp[0]);
		return err_set(e, errno, "fork for %s", FETCHER);
	}
	return out[0];
}

bool fetch_ended(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	/* readable and empty: the end; bytes, or none yet: the fetcher was still sending */
	return poll(&p, 1, 0) == 1 && read(fd, &c, 1) == 0;
}

/* The fetcher's last line on stderr, without its "containerd-lite: " prefix: what it wrote
 * until it closed its stderr, or until the deadline (a taken-over one may never close it). */
static void last_line(int fd, char *buf, size_t size, uint64_t deadline)
{
	size_t len = 0;
	char *nl;

	while (len + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		int r = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(fd, buf + len, size - 1 - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	buf[len] = 0;
	while (len && buf[len - 1] == '\n')
		buf[--len] = 0;
	nl = strrchr(buf, '\n');
	memmove(buf, nl ? nl + 1 : buf, strlen(nl ? nl + 1 : buf) + 1);
	if (!strncmp(buf, "containerd-lite: ", 17))
		memmove(buf, buf + 17, strlen(buf + 17) + 1);
}

/* Its exit status by the deadline: one that outlives it (a taken-over fetcher that ended
 * its stream but not itself) is killed, and the apply ends in one line. */
static int reaped(const struct fetch *f, const char *url, uint64_t deadline, int *status,
		  struct err *e)
{
	char shown[UPD_URL_SHOWN];
	int r = spawn_wait(f->pid, deadline, status, e);

	if (r < 0)
		return -1;
	if (r == 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, status, 0);
		return err_set(e, 0, "%s: %s did not end within %u s of its stream's end (stopped)",
			       fetch_shown(url, shown, sizeof(shown)), FETCHER, fetch_silence_s());
	}
	return 0;
}

int fetch_close(int fd, const struct fetch *f, const char *url, struct err *e)
{
	char why[512], shown[UPD_URL_SHOWN], text[sizeof(e->msg)];
	/* the bound on its stream's silence: no fetcher needs longer to say why and end */
	uint64_t deadline = now_ms() + 1000ull * fetch_silence_s();
	int status;

	close(fd); /* a fetcher still writing gets EPIPE and ends */
	last_line(f->err_fd, why, sizeof(why), deadline);
	close(f->err_fd);
	if (reaped(f, url, deadline, &status, e) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* The fetcher parses the network's bytes as nobody, in case a flaw there hands a
	 * mirror its code: what it says goes to root's terminal (wispctl update apply URL)
	 * as text, never as the escape sequences a taken-over fetcher would write. */
	if (why[0])
		return err_set(e, 0, "%s", text_escaped(why, strlen(why), text, sizeof(text)));
	return err_set(e, 0, "%s: %s failed (status %d)", fetch_shown(url, shown, sizeof(shown)),
		       FETCHER, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
