/* exec.c: run the mkfs/mtools/grub tools.
 *
 * Their output is captured, not shown: a successful build prints one
 * summary. When a tool fails, the error quotes its last output line, which
 * is where every one of these tools puts the reason.
 */
#include "image-builder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool ib_verbose;

#define OUTPUT_MAX 8192

/* Tools live in /usr/sbin and /sbin, often outside an unprivileged PATH. */
static void child_path(void)
{
	const char *path = getenv("PATH");
	char *p;

	if (asprintf(&p, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin") >= 0)
		setenv("PATH", p, 1);
}

static void __attribute__((noreturn))
child(const char *const argv[], const char *const env[], int out, int errfd)
{
	/* Signals blocked or ignored by the builder must not leak into tools. */
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	dup2(out, STDOUT_FILENO);
	dup2(errfd, STDERR_FILENO);
	for (size_t i = 0; env && env[i]; i++)
		putenv((char *)env[i]);
	child_path();
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void log_command(const char *const argv[], const char *const env[])
{
	fputs("+", stderr);
	for (size_t i = 0; env && env[i]; i++)
		fprintf(stderr, " %s", env[i]);
	for (size_t i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fputc('\n', stderr);
}

struct output {
	char buf[OUTPUT_MAX];
	size_t len;
};

/* Keep the tail of the output: the reason for a failure comes last. */
static void append(struct output *o, const char *chunk, size_t n)
{
	if (ib_verbose)
		fwrite(chunk, 1, n, stderr);
	if (n > OUTPUT_MAX - 1) {
		chunk += n - (OUTPUT_MAX - 1);
		n = OUTPUT_MAX - 1;
	}
	if (o->len + n > OUTPUT_MAX - 1) {
		size_t drop = o->len + n - (OUTPUT_MAX - 1);

		memmove(o->buf, o->buf + drop, o->len - drop);
		o->len -= drop;
	}
	memcpy(o->buf + o->len, chunk, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* stdout and stderr apart: tools print banners to stdout (flushed at
 * exit, after the error) and reasons to stderr. */
static void drain(int fds[2], struct output out[2])
{
	struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
	char chunk[4096];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				p[i].fd = -1;
			else
				append(&out[i], chunk, (size_t)n);
		}
	}
}

static const char *last_line(char *buf)
{
	char *end = buf + strlen(buf);

	while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	while (end > buf && end[-1] != '\n')
		end--;
	return end;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static int report(const char *tool, int status, struct output out[2], struct ib_err *err)
{
	const char *line = last_line(out[1].buf);

	if (!*line)
		line = last_line(out[0].buf);
	if (ib_interrupted)
		return ib_check_interrupt(err) < 0 ? ib_err_ctx(err, "%s", tool) : -1;
	if (WIFSIGNALED(status))
		return ib_err_set(err, 0, "%s killed by signal %d%s%s", tool, WTERMSIG(status),
				  *line ? ": " : "", line);
	return ib_err_set(err, 0, "%s failed (exit status %d)%s%s", tool, WEXITSTATUS(status),
			  *line ? ": " : "", line);
}

static int make_pipes(int fds[2][2], const char *tool, struct ib_err *err)
{
	if (pipe2(fds[0], O_CLOEXEC) < 0)
		return ib_err_set(err, errno, "pipe for %s", tool);
	if (pipe2(fds[1], O_CLOEXEC) < 0) {
		close(fds[0][0]), close(fds[0][1]);
		return ib_err_set(err, errno, "pipe for %s", tool);
	}
	return 0;
}

static void keep(const struct output *o, char *buf, size_t len)
{
	if (buf && len)
		snprintf(buf, len, "%s", o->buf);
}

int ib_run(const char *const argv[], const char *const env[], struct ib_err *err)
{
	return ib_run_out(argv, env, NULL, 0, NULL, 0, err);
}

int ib_run_out(const char *const argv[], const char *const env[], char *outbuf, size_t outlen,
	       char *errbuf, size_t errlen, struct ib_err *err)
{
	static struct output out[2]; /* stdout, stderr */
	int fds[2][2], status;
	pid_t pid;

	if (ib_check_interrupt(err) < 0)
		return -1;
	if (ib_verbose)
		log_command(argv, env);
	if (make_pipes(fds, argv[0], err) < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child(argv, env, fds[0][1], fds[1][1]);
	close(fds[0][1]), close(fds[1][1]);
	if (pid < 0) {
		close(fds[0][0]), close(fds[1][0]);
		return ib_err_set(err, errno, "fork for %s", argv[0]);
	}
	out[0].len = out[1].len = 0;
	out[0].buf[0] = out[1].buf[0] = '\0';
	drain((int[2]){fds[0][0], fds[1][0]}, out);
	close(fds[0][0]), close(fds[1][0]);
	if (wait_child(pid, &status) < 0)
		return ib_err_set(err, errno, "wait for %s", argv[0]);
	keep(&out[0], outbuf, outlen);
	keep(&out[1], errbuf, errlen);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return report(argv[0], status, out, err);
}
