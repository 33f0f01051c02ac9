/* runtime/hooks.c: OCI hooks run in the runtime's namespaces with the state on
 * stdin, each within its timeout. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[CL_HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

static void hook_child(const struct cl_hook *h, int in)
{
	char *empty[] = {NULL};
	char *argv0[] = {h->path, NULL};

	dup2(in, 0);
	execve(h->path, h->args.n ? h->args.v : argv0, h->env.n ? h->env.v : empty);
	_exit(127);
}

/* Waits for PID, up to TIMEOUT seconds (0: forever); kills it after. */
static int wait_hook(pid_t pid, int timeout, int *status)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	long waited_ms = 0;

	for (;;) {
		pid_t r = waitpid(pid, status, timeout ? WNOHANG : 0);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (timeout && waited_ms >= timeout * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&ts, NULL);
		waited_ms += 10;
	}
}

static int run_one(const struct cl_hook *h, const char *kind, const char *state, struct cl_err *e)
{
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return cl_error(e, errno, "%s hook %s: pipe", kind, h->path);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return cl_error(e, errno, "%s hook %s: fork", kind, h->path);
	}
	if (pid == 0)
		hook_child(h, p[0]);
	close(p[0]);
	/* A hook that does not read its stdin must not kill us: SIGPIPE is
	 * ignored for the write only (the container process runs hooks too,
	 * and an ignored signal would outlive its exec). */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	if (write(p[1], state, strlen(state)) < 0) {
		/* the hook's business */
	}
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	if (wait_hook(pid, h->timeout, &status) < 0)
		return errno == ETIMEDOUT ? cl_error(e, 0, "%s hook %s: timed out after %d s", kind,
						     h->path, h->timeout)
					  : cl_error(e, errno, "%s hook %s", kind, h->path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cl_error(e, 0, "%s hook %s: %s %d", kind, h->path,
				WIFEXITED(status) ? "exit status" : "killed by signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int cl_hooks_run(const struct cl_spec *s, enum cl_hook_kind k, const char *state_json,
		 struct cl_err *e)
{
	for (size_t i = 0; i < s->nhooks[k]; i++)
		if (run_one(&s->hooks[k][i], kind_names[k], state_json, e) < 0)
			return -1;
	return 0;
}

char *cl_hooks_state(const char *oci_version, const char *id, const char *status, pid_t pid,
		     const char *bundle, const char *annotations_json)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "ociVersion", oci_version, "id", id, "status", status);
	char *text;

	/* no pid once stopped: runc leaves the key out then */
	if (pid > 0)
		json_object_set_new(o, "pid", json_integer(pid));
	json_object_set_new(o, "bundle", json_string(bundle));
	if (annotations_json)
		json_object_set_new(o, "annotations", json_loads(annotations_json, 0, NULL));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}
