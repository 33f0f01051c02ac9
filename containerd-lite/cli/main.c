/* cli/main.c: the runc-compatible command line over the library.
 *
 *   containerd-lite [global options] COMMAND [options] ID [options]
 *
 * (parsed by cli/args.c). Errors: one line "containerd-lite: what: why"
 * on stderr (and in --log), exit status 1 (exec's own: 255); `run` exits with the container's
 * status (128+N for a signal), as runc. */
#include "../runtime/cl-private.h"
#include "cliopt.h"
#include "../image/image.h"
#include "../net/net.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct global {
	const char *root, *log, *log_format;
	bool debug;
};

static struct global g = {.root = CL_DEFAULT_ROOT, .log_format = "text"};

static void log_line(const char *level, const char *msg)
{
	FILE *f;
	char *now;

	if (!g.log)
		return;
	f = fopen(g.log, "a");
	if (!f)
		return;
	now = cl_now_rfc3339();
	if (strcmp(g.log_format, "json") == 0) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(f, "%s\n", s);
		free(s);
		json_decref(o);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", now, level, msg);
	}
	free(now);
	fclose(f);
}

static int fail(const struct cl_err *e)
{
	fprintf(stderr, "containerd-lite: %s\n", e->msg);
	log_line("error", e->msg);
	return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	struct cl_err e = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return fail(&e);
}

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!g.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line("debug", buf);
	if (!g.log)
		fprintf(stderr, "containerd-lite: debug: %s\n", buf);
}

/* --- commands --------------------------------------------------------------- */

static int do_create(struct cl_cmdline *c, pid_t *pid)
{
	struct cl_err e = {0};
	char bundle[4096];

	if (!c->o.bundle)
		c->o.bundle = ".";
	/* the state records the bundle as an absolute path, as runc's */
	if (!realpath(c->o.bundle, bundle)) {
		cl_error(&e, errno, "bundle %s", c->o.bundle);
		return fail(&e);
	}
	c->o.bundle = bundle;
	c->o.root = g.root;
	if (cl_create(&c->o, pid, &e) < 0)
		return fail(&e);
	debug("created %s: pid %d", c->o.id, (int)*pid);
	return 0;
}

static int cmd_create(struct cl_cmdline *c)
{
	pid_t pid;

	return do_create(c, &pid);
}

static int cmd_start(struct cl_cmdline *c)
{
	struct cl_err e = {0};

	return cl_start(g.root, c->o.id, &e) < 0 ? fail(&e) : 0;
}

static int run_status(pid_t pid, sigset_t *set)
{
	int status;
	pid_t r;

	/* reap our child; forward other signals meanwhile */
	for (;;) {
		int sig;
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return 255;
		if (sigwait(set, &sig) == 0 && sig != SIGCHLD)
			kill(pid, sig);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int cmd_run(struct cl_cmdline *c)
{
	static const int fwd[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,
				  SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH};
	struct cl_err e = {0};
	sigset_t set, old;
	pid_t pid;
	int ret;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaddset(&set, fwd[i]);
	/* blocked before the container exists, so no signal is lost; the
	 * container process unblocks them (see below) before exec */
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = do_create(c, &pid);
	if (ret != 0)
		return ret; /* nothing of ours to delete (the id may be another's) */
	if (cl_start(g.root, c->o.id, &e) < 0) {
		ret = fail(&e);
		cl_delete(g.root, c->o.id, true, &e);
		return ret;
	}
	if (c->o.detach)
		return 0;
	ret = run_status(pid, &set);
	if (!c->keep && cl_delete(g.root, c->o.id, true, &e) < 0)
		fail(&e);
	return ret;
}

static int cmd_state(struct cl_cmdline *c)
{
	struct cl_err e = {0};
	struct cl_state st;
	char *s;

	if (cl_state_read(g.root, c->o.id, &st, &e) < 0)
		return fail(&e);
	s = cl_state_json(&st);
	cl_json_write(stdout, s, isatty(STDOUT_FILENO)); /* annotations: an image's labels */
	putchar('\n');
	free(s);
	cl_state_free(&st);
	return 0;
}

static int cmd_kill(struct cl_cmdline *c)
{
	struct cl_err e = {0};
	int sig = c->nargs > 1 ? cl_signal_from_name(c->args[1]) : SIGTERM;

	if (sig < 0)
		return usage_error("kill: unknown signal %s", c->args[1]);
	return cl_kill(g.root, c->o.id, sig, c->all, &e) < 0 ? fail(&e) : 0;
}

static int cmd_delete(struct cl_cmdline *c)
{
	struct cl_err e = {0};

	return cl_delete(g.root, c->o.id, c->force, &e) < 0 ? fail(&e) : 0;
}

static int cmd_pause(struct cl_cmdline *c)
{
	struct cl_err e = {0};

	return cl_pause(g.root, c->o.id, true, &e) < 0 ? fail(&e) : 0;
}

static int cmd_resume(struct cl_cmdline *c)
{
	struct cl_err e = {0};

	return cl_pause(g.root, c->o.id, false, &e) < 0 ? fail(&e) : 0;
}

/* --format json: the pids, as runc's; the table is one pid a line (runc
 * runs ps(1) for it, which a Wisp host does not need). */
static int cmd_ps(struct cl_cmdline *c)
{
	struct cl_err e = {0};
	bool json = c->json;
	pid_t *pids;
	size_t n;

	if (cl_pids(g.root, c->o.id, &pids, &n, &e) < 0)
		return fail(&e);
	printf(json ? "[" : "PID\n");
	for (size_t i = 0; i < n; i++)
		printf(json ? "%s%d" : "%s%d\n", json && i ? "," : "", (int)pids[i]);
	if (json)
		printf("]\n");
	free(pids);
	return 0;
}

/* --- exec ------------------------------------------------------------------ */

#define SWAP(a, b)                                                                                 \
	do {                                                                                       \
		__typeof__(a) tmp_ = (a);                                                          \
		(a) = (b);                                                                         \
		(b) = tmp_;                                                                        \
	} while (0)

/* process.json's process replaces the container's (both stay freeable). */
static int take_process_json(struct cl_spec *s, const char *file, struct cl_err *e)
{
	struct cl_spec *p;
	char *text, *doc;
	size_t len;
	int ret;

	if (cl_read_file(file, &text, &len, e) < 0)
		return -1;
	doc = malloc(len + 64);
	if (!doc)
		abort();
	/* the decoder's own rules and messages, in a minimal document */
	len = (size_t)sprintf(doc, "{\"root\": {\"path\": \"/\"}, \"process\": %s}", text);
	free(text);
	ret = cl_spec_parse(doc, len, NULL, &p, e);
	free(doc);
	if (ret < 0)
		return cl_error_wrap(e, "%s", file);
	SWAP(s->args, p->args);
	SWAP(s->env, p->env);
	SWAP(s->cwd, p->cwd);
	SWAP(s->uid, p->uid);
	SWAP(s->gid, p->gid);
	SWAP(s->umask, p->umask);
	SWAP(s->add_gids, p->add_gids);
	SWAP(s->nadd_gids, p->nadd_gids);
	SWAP(s->no_new_privs, p->no_new_privs);
	SWAP(s->terminal, p->terminal);
	SWAP(s->console_height, p->console_height);
	SWAP(s->console_width, p->console_width);
	SWAP(s->rlimits, p->rlimits);
	SWAP(s->nrlimits, p->nrlimits);
	memcpy(s->caps, p->caps, sizeof(s->caps));
	cl_spec_free(p);
	return 0;
}

static void set_env(struct cl_spec *s, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < s->env.n; i++)
		if (strncmp(s->env.v[i], kv, klen) == 0 && s->env.v[i][klen] == '=') {
			free(s->env.v[i]);
			s->env.v[i] = cl_strdup(kv);
			return;
		}
	s->env.v = realloc(s->env.v, (s->env.n + 2) * sizeof(char *));
	if (!s->env.v)
		abort();
	s->env.v[s->env.n++] = cl_strdup(kv);
	s->env.v[s->env.n] = NULL;
}

/* The container's process with exec's changes. */
static int exec_process(struct cl_spec *s, const struct cl_cmdline *x, struct cl_err *e)
{
	if (x->process && take_process_json(s, x->process, e) < 0)
		return -1;
	if (!x->process) {
		s->umask = 022; /* runc's exec does not take the container's umask */
		s->terminal = x->tty;
		cl_strv_free(&s->args);
		s->args.v = calloc((size_t)x->nrest + 1, sizeof(char *));
		if (!s->args.v)
			abort();
		for (int i = 0; i < x->nrest; i++)
			s->args.v[s->args.n++] = cl_strdup(x->rest[i]);
	}
	if (x->tty)
		s->terminal = true;
	for (int i = 0; i < x->nenv; i++)
		set_env(s, x->env[i]);
	if (x->cwd) {
		free(s->cwd);
		s->cwd = cl_strdup(x->cwd);
	}
	if (x->user) {
		char *end;
		unsigned long uid = strtoul(x->user, &end, 10), gid = s->gid;
		if (*end == ':')
			gid = strtoul(end + 1, &end, 10);
		if (*end || end == x->user)
			return cl_error(e, 0, "exec: --user %s: expected UID[:GID]", x->user);
		s->uid = (uint32_t)uid;
		s->gid = (uint32_t)gid;
	}
	return 0;
}

/* exec's own failures exit 255, as runc's: the process's statuses take
 * the rest of the range. */
static int cmd_exec(struct cl_cmdline *x)
{
	struct cl_err e = {0};
	struct cl_state st;
	struct cl_spec *s = NULL;
	int status = 0, ret = 255;
	pid_t pid;
	struct cl_exec_opts o = {.root = g.root,
				 .id = x->o.id,
				 .console_socket = x->o.console_socket,
				 .detach = x->o.detach};
	if (cl_state_read(g.root, o.id, &st, &e) < 0) {
		fail(&e);
		return 255;
	}
	if (cl_spec_load(st.bundle, &s, &e) < 0 || exec_process(s, x, &e) < 0 ||
	    cl_exec(&o, s, &pid, &status, &e) < 0) {
		fail(&e);
		goto out;
	}
	ret = status;
	if (x->o.pid_file) {
		FILE *f = fopen(x->o.pid_file, "w");
		if (!f || fprintf(f, "%d", (int)pid) < 0) {
			cl_error(&e, errno, "write pid file %s", x->o.pid_file);
			fail(&e);
			ret = 255;
		}
		if (f)
			fclose(f);
	}
out:
	cl_spec_free(s);
	cl_state_free(&st);
	return ret;
}

static void list_json(char **ids)
{
	json_t *a = json_array();
	struct cl_err e;
	char *s;

	for (size_t i = 0; ids[i]; i++) {
		struct cl_state st;
		if (cl_state_read(g.root, ids[i], &st, &e) < 0)
			continue;
		s = cl_state_json(&st);
		json_array_append_new(a, json_loads(s, 0, NULL));
		free(s);
		cl_state_free(&st);
	}
	s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cl_json_write(stdout, s, isatty(STDOUT_FILENO)); /* as state's */
	putchar('\n');
	free(s);
	json_decref(a);
}

static int cmd_list(struct cl_cmdline *c)
{
	struct cl_err e = {0};
	char **ids;

	if (cl_list(g.root, &ids, &e) < 0)
		return fail(&e);
	if (c->json)
		list_json(ids);
	else if (!c->quiet)
		printf("ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
	for (size_t i = 0; ids[i] && !c->json; i++) {
		struct cl_state st;
		if (c->quiet) {
			printf("%s\n", ids[i]);
		} else if (cl_state_read(g.root, ids[i], &st, &e) == 0) {
			printf("%s\t%d\t%s\t%s\t%s\t%s\n", st.id,
			       st.status == CL_STOPPED ? 0 : (int)st.pid, cl_status_name(st.status),
			       st.bundle ? st.bundle : "", st.created ? st.created : "",
			       st.owner ? st.owner : "");
			cl_state_free(&st);
		}
	}
	for (size_t i = 0; ids[i]; i++)
		free(ids[i]);
	free(ids);
	return 0;
}

static int cmd_spec(struct cl_cmdline *c)
{
	char *path = cl_path_join(c->o.bundle ? c->o.bundle : ".", "config.json");
	char *text = cl_spec_default();
	struct cl_err e = {0};
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		ret = fail((cl_error(&e, errno, "create %s", path), &e));
	else if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0)
		ret = fail((cl_error(&e, errno, "write %s", path), &e));
	if (fd >= 0)
		close(fd);
	free(text);
	free(path);
	return ret;
}

static int cmd_features(struct cl_cmdline *c)
{
	json_t *caps = json_array(), *o;
	char *s;

	(void)c;
	for (int i = 0; cl_cap_name(i); i++)
		json_array_append_new(caps, json_string(cl_cap_name(i)));
	o = json_pack("{s:s, s:s, s:[s,s,s,s,s,s], s:{s:[s,s,s,s,s,s,s,s], s:o, "
		      "s:{s:b, s:b}, s:{s:b, s:[s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s]}}}",
		      "ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", "prestart",
		      "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
		      "linux", "namespaces", "cgroup", "ipc", "mount", "network", "pid", "user",
		      "uts", "time", "capabilities", caps, "cgroup", "v1", 0, "v2", 1, "seccomp",
		      "enabled", 1, "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
		      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		      "SCMP_ACT_TRAP", "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
		      "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE");
	/* runc 1.2's key for idmapped mounts (mounts[].uidMappings) */
	json_object_set_new(json_object_get(o, "linux"), "mountExtensions",
			    json_pack("{s:{s:b}}", "idmap", "enabled", 1));
	s = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	return 0;
}

static int cmd_image(struct cl_cmdline *c)
{
	return cl_image_main(c->nrest, c->rest, g.root);
}

static int cmd_network(struct cl_cmdline *c)
{
	return cl_net_main(c->nrest, c->rest);
}

static const struct {
	const char *name;
	int (*fn)(struct cl_cmdline *);
} commands[] = {
    {"create", cmd_create}, {"start", cmd_start},   {"run", cmd_run},
    {"state", cmd_state},   {"kill", cmd_kill},	    {"delete", cmd_delete},
    {"list", cmd_list},	    {"spec", cmd_spec},	    {"features", cmd_features},
    {"pause", cmd_pause},   {"resume", cmd_resume}, {"ps", cmd_ps},
    {"exec", cmd_exec},	    {"image", cmd_image},   {"network", cmd_network},
};

int main(int argc, char **argv)
{
	struct cl_cmdline c;
	struct cl_err e = {0};
	char msg[sizeof(e.msg)];
	enum cl_action act = cl_cmdline_parse(argc, argv, &c, msg, sizeof(msg));

	g = (struct global){
	    .root = c.root, .log = c.log, .log_format = c.log_format, .debug = c.debug};
	if (act == CL_HELP)
		return fputs(cl_usage_text, stdout) == EOF;
	if (act == CL_VERSION)
		return printf("containerd-lite version %s\nspec: 1.1.0\n", WISP_VERSION) < 0;
	if (act == CL_USAGE) {
		usage_error("%s", msg);
		return c.cmd && strcmp(c.cmd, "exec") == 0 ? 255 : 1;
	}
	/* create, run, exec: from a sealed copy (exeseal.c) */
	if (cl_exe_seal(c.cmd, argv, &e) < 0)
		return fail(&e);
	c.o.root = g.root;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(c.cmd, commands[k].name) == 0)
			return commands[k].fn(&c);
	return usage_error("unknown command %s", c.cmd);
}
