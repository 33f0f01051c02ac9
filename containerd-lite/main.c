/* main.c: the runc-compatible command line over the library.
 *
 *   containerd-lite [global options] COMMAND [options] ID
 *
 * Errors: one line "containerd-lite: what: why" on stderr (and in --log),
 * exit status 1; `run` exits with the container's status (128+N for a
 * signal), as runc. */
#include "cl-private.h"
#include "image.h"
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

/* --- options ---------------------------------------------------------------- */

struct cmd_opts {
	struct cl_opts o;
	bool force, all, quiet, keep;
	const char *format;
	const char *args[2]; /* positional: ID, then a signal for kill */
	int nargs;
};

/* "--name=value", "--name value" or "-n value": *VAL set, returns the
 * number of argv entries used; 0 when ARG is not NAME. */
static int opt_value(char **argv, int i, int argc, const char *lng, const char *shrt,
		     const char **val)
{
	const char *a = argv[i];
	size_t n = strlen(lng);

	if (strncmp(a, lng, n) == 0 && a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (i + 1 >= argc)
			return -1;
		*val = argv[i + 1];
		return 2;
	}
	return 0;
}

static bool flag(const char *a, const char *lng, const char *shrt)
{
	return strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0);
}

static int set_flag(bool *b)
{
	*b = true;
	return 1;
}

static int parse_value_opt(char **argv, int i, int argc, struct cmd_opts *c)
{
	static const struct {
		const char *lng, *shrt;
		size_t off;
	} vals[] = {
	    {"--bundle", "-b", offsetof(struct cmd_opts, o.bundle)},
	    {"--pid-file", NULL, offsetof(struct cmd_opts, o.pid_file)},
	    {"--console-socket", NULL, offsetof(struct cmd_opts, o.console_socket)},
	    {"--format", "-f", offsetof(struct cmd_opts, format)},
	};
	for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		const char *v;
		int used = opt_value(argv, i, argc, vals[k].lng, vals[k].shrt, &v);
		if (used < 0)
			return usage_error("option %s needs a value", argv[i]), -1;
		if (used > 0) {
			*(const char **)((char *)c + vals[k].off) = v;
			return used;
		}
	}
	return 0;
}

static int parse_cmd(int argc, char **argv, const char *cmd, struct cmd_opts *c)
{
	/* list's and ps's -f is --format; elsewhere -f is --force */
	bool is_list = strcmp(cmd, "list") == 0 || strcmp(cmd, "ps") == 0;

	for (int i = 0; i < argc;) {
		const char *a = argv[i];
		int used = 0;

		if (a[0] == '-' && a[1]) {
			if (!is_list && flag(a, "--force", "-f"))
				used = set_flag(&c->force);
			else if (flag(a, "--all", "-a"))
				used = set_flag(&c->all);
			else if (flag(a, "--detach", "-d"))
				used = set_flag(&c->o.detach);
			else if (flag(a, "--quiet", "-q"))
				used = set_flag(&c->quiet);
			else if (flag(a, "--keep", NULL))
				used = set_flag(&c->keep);
			else if (flag(a, "--no-pivot", NULL) || flag(a, "--no-new-keyring", NULL))
				used = 1; /* accepted for compatibility, no effect */
			else if ((used = parse_value_opt(argv, i, argc, c)) < 0)
				return -1;
			if (!used)
				return usage_error("%s: unknown option %s", cmd, a), -1;
		} else {
			if (c->nargs == 2)
				return usage_error("%s: too many arguments", cmd), -1;
			c->args[c->nargs++] = a;
			used = 1;
		}
		i += used;
	}
	return 0;
}

static int need_id(const char *cmd, struct cmd_opts *c)
{
	if (c->nargs < 1)
		return usage_error("%s: container id missing", cmd), -1;
	c->o.id = c->args[0];
	return 0;
}

/* --- commands --------------------------------------------------------------- */

static int do_create(struct cmd_opts *c, pid_t *pid)
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

static int cmd_create(struct cmd_opts *c)
{
	pid_t pid;

	return do_create(c, &pid);
}

static int cmd_start(struct cmd_opts *c)
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

static int cmd_run(struct cmd_opts *c)
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

static int cmd_state(struct cmd_opts *c)
{
	struct cl_err e = {0};
	struct cl_state st;
	char *s;

	if (cl_state_read(g.root, c->o.id, &st, &e) < 0)
		return fail(&e);
	s = cl_state_json(&st);
	printf("%s\n", s);
	free(s);
	cl_state_free(&st);
	return 0;
}

static int cmd_kill(struct cmd_opts *c)
{
	struct cl_err e = {0};
	int sig = c->nargs > 1 ? cl_signal_from_name(c->args[1]) : SIGTERM;

	if (sig < 0)
		return usage_error("kill: unknown signal %s", c->args[1]);
	return cl_kill(g.root, c->o.id, sig, c->all, &e) < 0 ? fail(&e) : 0;
}

static int cmd_delete(struct cmd_opts *c)
{
	struct cl_err e = {0};

	return cl_delete(g.root, c->o.id, c->force, &e) < 0 ? fail(&e) : 0;
}

static int cmd_pause(struct cmd_opts *c)
{
	struct cl_err e = {0};

	return cl_pause(g.root, c->o.id, true, &e) < 0 ? fail(&e) : 0;
}

static int cmd_resume(struct cmd_opts *c)
{
	struct cl_err e = {0};

	return cl_pause(g.root, c->o.id, false, &e) < 0 ? fail(&e) : 0;
}

/* --format json: the pids, as runc's; the table is one pid a line (runc
 * runs ps(1) for it, which a Wisp host does not need). */
static int cmd_ps(struct cmd_opts *c)
{
	struct cl_err e = {0};
	bool json = c->format && strcmp(c->format, "json") == 0;
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

struct exec_args {
	const char *process, *cwd, *user, *pid_file, *console_socket;
	const char *env[64];
	int nenv;
	bool detach, tty;
	int first; /* index of ID in argv */
};

static int parse_exec(int argc, char **argv, struct exec_args *x)
{
	int i = 0;

	while (i < argc && argv[i][0] == '-') {
		const char *v = NULL;
		int used;

		if (flag(argv[i], "--detach", "-d")) {
			x->detach = true;
			i++;
			continue;
		}
		if (flag(argv[i], "--tty", "-t")) {
			x->tty = true;
			i++;
			continue;
		}
		if ((used = opt_value(argv, i, argc, "--process", "-p", &v)) > 0)
			x->process = v;
		else if (used == 0 && (used = opt_value(argv, i, argc, "--cwd", NULL, &v)) > 0)
			x->cwd = v;
		else if (used == 0 && (used = opt_value(argv, i, argc, "--user", "-u", &v)) > 0)
			x->user = v;
		else if (used == 0 && (used = opt_value(argv, i, argc, "--pid-file", NULL, &v)) > 0)
			x->pid_file = v;
		else if (used == 0 &&
			 (used = opt_value(argv, i, argc, "--console-socket", NULL, &v)) > 0)
			x->console_socket = v;
		else if (used == 0 && (used = opt_value(argv, i, argc, "--env", "-e", &v)) > 0) {
			if (x->nenv == 64)
				return usage_error("exec: too many --env"), -1;
			x->env[x->nenv++] = v;
		}
		if (used <= 0)
			return usage_error("exec: %s option %s",
					   used < 0 ? "a value for" : "unknown", argv[i]),
			       -1;
		i += used;
	}
	if (i >= argc)
		return usage_error("exec: container id missing"), -1;
	x->first = i;
	if (!x->process && i + 1 >= argc)
		return usage_error("exec: a command or --process is needed"), -1;
	return 0;
}

/* The container's process with exec's changes. */
static int exec_process(struct cl_spec *s, const struct exec_args *x, int argc, char **argv,
			struct cl_err *e)
{
	if (x->process && take_process_json(s, x->process, e) < 0)
		return -1;
	if (!x->process) {
		s->umask = 022; /* runc's exec does not take the container's umask */
		s->terminal = x->tty;
		cl_strv_free(&s->args);
		s->args.v = calloc((size_t)(argc - x->first), sizeof(char *));
		if (!s->args.v)
			abort();
		for (int i = x->first + 1; i < argc; i++)
			s->args.v[s->args.n++] = cl_strdup(argv[i]);
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

static int cmd_exec(int argc, char **argv)
{
	struct exec_args x = {0};
	struct cl_err e = {0};
	struct cl_state st;
	struct cl_spec *s = NULL;
	int status = 0, ret = 255;
	pid_t pid;

	/* exec's own failures exit 255, as runc's: the process's statuses
	 * take the rest of the range */
	if (parse_exec(argc, argv, &x) < 0)
		return 255;
	struct cl_exec_opts o = {.root = g.root,
				 .id = argv[x.first],
				 .console_socket = x.console_socket,
				 .detach = x.detach};
	if (cl_state_read(g.root, o.id, &st, &e) < 0) {
		fail(&e);
		return 255;
	}
	if (cl_spec_load(st.bundle, &s, &e) < 0 || exec_process(s, &x, argc, argv, &e) < 0 ||
	    cl_exec(&o, s, &pid, &status, &e) < 0) {
		fail(&e);
		goto out;
	}
	ret = status;
	if (x.pid_file) {
		FILE *f = fopen(x.pid_file, "w");
		if (!f || fprintf(f, "%d", (int)pid) < 0) {
			cl_error(&e, errno, "write pid file %s", x.pid_file);
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
	printf("%s\n", s);
	free(s);
	json_decref(a);
}

static int cmd_list(struct cmd_opts *c)
{
	struct cl_err e = {0};
	char **ids;

	if (cl_list(g.root, &ids, &e) < 0)
		return fail(&e);
	if (c->format && strcmp(c->format, "json") == 0)
		list_json(ids);
	else if (!c->quiet)
		printf("ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
	for (size_t i = 0; ids[i] && !(c->format && strcmp(c->format, "json") == 0); i++) {
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

static int cmd_spec(struct cmd_opts *c)
{
	char *path = cl_path_join(c->o.bundle ? c->o.bundle : ".", "config.json");
	char *text = cl_spec_default();
	struct cl_err e = {0};
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		ret = fail((cl_error(&e, errno, "create %s", path), &e));
	else if (cl_write_all(fd, text, strlen(text)) < 0 || cl_write_all(fd, "\n", 1) < 0)
		ret = fail((cl_error(&e, errno, "write %s", path), &e));
	if (fd >= 0)
		close(fd);
	free(text);
	free(path);
	return ret;
}

static int cmd_features(struct cmd_opts *c)
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

static const struct {
	const char *name;
	int (*fn)(struct cmd_opts *);
	bool needs_id;
} commands[] = {
    {"create", cmd_create, true}, {"start", cmd_start, true},	{"run", cmd_run, true},
    {"state", cmd_state, true},	  {"kill", cmd_kill, true},	{"delete", cmd_delete, true},
    {"list", cmd_list, false},	  {"spec", cmd_spec, false},	{"features", cmd_features, false},
    {"pause", cmd_pause, true},	  {"resume", cmd_resume, true}, {"ps", cmd_ps, true},
};

static int parse_global(int argc, char **argv, int *i)
{
	while (*i < argc && argv[*i][0] == '-') {
		const char *v;
		int used;

		if ((used = opt_value(argv, *i, argc, "--root", NULL, &v)) > 0)
			g.root = v;
		else if (used == 0 && (used = opt_value(argv, *i, argc, "--log", NULL, &v)) > 0)
			g.log = v;
		else if (used == 0 &&
			 (used = opt_value(argv, *i, argc, "--log-format", NULL, &v)) > 0)
			g.log_format = v;
		else if (used == 0 && flag(argv[*i], "--debug", NULL))
			used = set_flag(&g.debug);
		else if (used == 0 && flag(argv[*i], "--systemd-cgroup", NULL))
			return usage_error("--systemd-cgroup: not supported (cgroupfs only)"), -1;
		else if (used == 0 && flag(argv[*i], "--version", "-v"))
			return printf("containerd-lite version %s\nspec: 1.1.0\n", WISP_VERSION), 1;
		if (used <= 0)
			return usage_error("unknown global option %s", argv[*i]), -1;
		*i += used;
	}
	if (strcmp(g.log_format, "text") != 0 && strcmp(g.log_format, "json") != 0)
		return usage_error("--log-format: text or json, not %s", g.log_format), -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cmd_opts c = {0};
	struct cl_err e = {0};
	int i = 1, r = parse_global(argc, argv, &i);

	if (r != 0)
		return r < 0 ? 1 : 0;
	if (i >= argc)
		return usage_error("usage: containerd-lite [--root DIR] [--log FILE] "
				   "[--log-format text|json] [--debug] COMMAND [OPTIONS] [ID]");
	/* create, run, exec: from a sealed copy (exeseal.c) */
	if (cl_exe_seal(argv[i], argv, &e) < 0)
		return fail(&e);
	if (strcmp(argv[i], "exec") == 0)
		return cmd_exec(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "image") == 0)
		return cl_image_main(argc - i - 1, argv + i + 1);
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(argv[i], commands[k].name) != 0)
			continue;
		if (parse_cmd(argc - i - 1, argv + i + 1, argv[i], &c) < 0)
			return 1;
		if (commands[k].needs_id && need_id(argv[i], &c) < 0)
			return 1;
		return commands[k].fn(&c);
	}
	return usage_error("unknown command %s", argv[i]);
}
