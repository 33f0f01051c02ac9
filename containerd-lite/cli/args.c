/* cli/args.c: main.c's runc-compatible command line, parsed into a
 * struct cl_cmdline (docs/containerd-lite.md, "Command line").
 *
 * Global options come before the command, as runc takes them, and are
 * also taken after it; a command's own options may stand anywhere among
 * its operands. exec's COMMAND ends the options: what follows is the
 * command's. Errors wait until the scan has ended, so that --help and
 * --version win wherever they are. */
#include "cliopt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char cl_usage_text[] =
    "usage: containerd-lite [--root DIR] [--log FILE] [--log-format text|json] [--debug] "
    "COMMAND ...\n"
    "  create   [--bundle|-b DIR] [--pid-file FILE] [--console-socket SOCK] ID\n"
    "  start    ID\n"
    "  run      [--bundle|-b DIR] [--pid-file FILE] [--console-socket SOCK] [--detach|-d] "
    "[--keep] ID\n"
    "  state    ID\n"
    "  exec     [--env|-e K=V]... [--cwd DIR] [--user|-u UID[:GID]] [--detach|-d] "
    "[--pid-file FILE]\n"
    "           [--tty|-t --console-socket SOCK] ID COMMAND [ARG...]\n"
    "  exec     [--process|-p process.json] ID\n"
    "  kill     [--all|-a] ID [SIGNAL]\n"
    "  delete   [--force|-f] ID\n"
    "  list     [--quiet|-q] [--format|-f table|json] [--json]\n"
    "  ps       [--format|-f table|json] [--json] ID\n"
    "  pause    ID\n"
    "  resume   ID\n"
    "  spec     [--bundle|-b DIR]\n"
    "  features\n"
    "  image    ...  (containerd-lite image --help)\n"
    "  network  attach|detach|ls ...  (containerd-lite network --help)\n"
    "Options may follow the command and its operands (-- ends them); exec's options\n"
    "end at COMMAND. --help (-h) and --version (-v) work anywhere.\n";

enum {
	G_ROOT = 1,
	G_LOG,
	G_LOG_FORMAT,
	G_DEBUG,
	G_SYSTEMD,
	G_HELP,
	G_VERSION,
	C_BUNDLE,
	C_PID_FILE,
	C_CONSOLE,
	C_FORMAT,
	C_JSON,
	C_FORCE,
	C_ALL,
	C_DETACH,
	C_QUIET,
	C_KEEP,
	C_IGNORED,
	X_PROCESS,
	X_CWD,
	X_USER,
	X_ENV,
	X_TTY,
};

static const struct cli_opt global[] = {
    {"--root", NULL, true, G_ROOT, NULL},
    {"--log", NULL, true, G_LOG, NULL},
    {"--log-format", NULL, true, G_LOG_FORMAT, NULL},
    {"--debug", NULL, false, G_DEBUG, NULL},
    {"--systemd-cgroup", NULL, false, G_SYSTEMD, NULL},
    {"--help", "-h", false, G_HELP, NULL},
    {"--version", "-v", false, G_VERSION, NULL},
    {0},
};

/* runc's options per command; "-f" is --format for list and ps, --force for delete. */
static const struct cli_opt cmd_opts[] = {
    {"--bundle", "-b", true, C_BUNDLE, "create run spec"},
    {"--pid-file", NULL, true, C_PID_FILE, "create run exec"},
    {"--console-socket", NULL, true, C_CONSOLE, "create run exec"},
    {"--format", "-f", true, C_FORMAT, "list ps"},
    {"--json", NULL, false, C_JSON, "list ps"},
    {"--force", "-f", false, C_FORCE, "delete"},
    {"--all", "-a", false, C_ALL, "kill"},
    {"--detach", "-d", false, C_DETACH, "run exec"},
    {"--quiet", "-q", false, C_QUIET, "list"},
    {"--keep", NULL, false, C_KEEP, "run"},
    {"--no-pivot", NULL, false, C_IGNORED, "create run"},
    {"--no-new-keyring", NULL, false, C_IGNORED, "create run"},
    {"--process", "-p", true, X_PROCESS, "exec"},
    {"--cwd", NULL, true, X_CWD, "exec"},
    {"--user", "-u", true, X_USER, "exec"},
    {"--env", "-e", true, X_ENV, "exec"},
    {"--tty", "-t", false, X_TTY, "exec"},
    {0},
};

/* The commands and how many operands each takes (exec: ID, then COMMAND). */
static const struct {
	const char *name;
	int min, max;
} commands[] = {
    {"create", 1, 1}, {"start", 1, 1}, {"run", 1, 1},  {"state", 1, 1},	   {"kill", 1, 2},
    {"delete", 1, 1}, {"list", 0, 0},  {"spec", 0, 0}, {"features", 0, 0}, {"pause", 1, 1},
    {"resume", 1, 1}, {"ps", 1, 1},    {"exec", 1, 1}, {"image", 0, 0},	   {"network", 0, 0},
};

struct parse {
	struct cl_cmdline *c;
	bool help, version;
	char *msg; /* the first error, "" if none */
	size_t size;
	int cmd; /* index in commands, -1 none */
};

static void error(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->msg, p->size, fmt, ap);
	va_end(ap);
}

static void take_global(struct parse *p, int id, const char *val)
{
	struct cl_cmdline *c = p->c;

	if (id == G_ROOT)
		c->root = val;
	else if (id == G_LOG)
		c->log = val;
	else if (id == G_LOG_FORMAT)
		c->log_format = val;
	else if (id == G_DEBUG)
		c->debug = true;
	else if (id == G_SYSTEMD)
		error(p, "--systemd-cgroup: not supported (cgroupfs only)");
	else if (id == G_HELP)
		p->help = true;
	else if (id == G_VERSION)
		p->version = true;
}

static void take_exec(struct parse *p, int id, const char *val)
{
	struct cl_cmdline *c = p->c;

	if (id == X_PROCESS)
		c->process = val;
	else if (id == X_CWD)
		c->cwd = val;
	else if (id == X_USER)
		c->user = val;
	else if (id == X_TTY)
		c->tty = true;
	else if (id == X_ENV && c->nenv == 64)
		error(p, "exec: too many --env");
	else if (id == X_ENV)
		c->env[c->nenv++] = val;
}

static void take(struct parse *p, int id, const char *val)
{
	struct cl_cmdline *c = p->c;

	if (id < C_BUNDLE)
		take_global(p, id, val);
	else if (id >= X_PROCESS)
		take_exec(p, id, val);
	else if (id == C_BUNDLE)
		c->o.bundle = val;
	else if (id == C_PID_FILE)
		c->o.pid_file = val;
	else if (id == C_CONSOLE)
		c->o.console_socket = val;
	else if (id == C_FORMAT)
		c->format = val;
	else if (id == C_JSON)
		c->json = true;
	else if (id == C_FORCE)
		c->force = true;
	else if (id == C_ALL)
		c->all = true;
	else if (id == C_DETACH)
		c->o.detach = true;
	else if (id == C_QUIET)
		c->quiet = true;
	else if (id == C_KEEP)
		c->keep = true;
}

/* An operand after the command: ID, kill's SIGNAL, exec's COMMAND (the rest). */
static void operand(struct parse *p, struct cli_scan *s)
{
	struct cl_cmdline *c = p->c;

	if (strcmp(c->cmd, "exec") == 0 && c->nargs == 1) {
		c->rest = s->argv + s->i - 1;
		c->nrest = s->argc - s->i + 1;
		s->i = s->argc; /* the command's own arguments, options or not */
		return;
	}
	if (c->nargs == commands[p->cmd].max)
		error(p, "%s: too many arguments", c->cmd);
	else
		c->args[c->nargs++] = s->arg;
}

static bool bad_scan(struct parse *p, int r, const char *arg)
{
	const char *cmd = p->c->cmd;

	if (r == CLI_UNKNOWN && !cmd)
		error(p, "unknown global option %s", arg);
	else if (r == CLI_UNKNOWN)
		error(p, "%s: unknown option %s", cmd, arg);
	else if (r == CLI_NOVALUE)
		error(p, "%s%soption %s needs a value", cmd ? cmd : "", cmd ? ": " : "", arg);
	return r == CLI_UNKNOWN || r == CLI_NOVALUE;
}

static int find_command(const char *name)
{
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(commands[k].name, name) == 0)
			return (int)k;
	return -1;
}

/* Before the command: global options only, as runc. */
static void scan_global(struct parse *p, struct cli_scan *s)
{
	int r;

	while ((r = cli_next(s, global, NULL)) != CLI_END) {
		if (r == CLI_OPERAND) {
			p->c->cmd = s->arg;
			return;
		}
		if (!bad_scan(p, r, s->arg))
			take(p, r, s->val);
	}
}

static void scan_command(struct parse *p, struct cli_scan *s)
{
	int r;

	s->cmd = p->c->cmd;
	while ((r = cli_next(s, cmd_opts, global)) != CLI_END) {
		if (r == CLI_OPERAND)
			operand(p, s);
		else if (!bad_scan(p, r, s->arg))
			take(p, r, s->val);
	}
}

/* What the options and operands say together. */
static void check(struct parse *p)
{
	struct cl_cmdline *c = p->c;
	const char *f = c->format;

	if (f && strcmp(f, "json") != 0 && strcmp(f, "table") != 0)
		error(p, "%s: --format %s: table or json", c->cmd, f);
	c->json = c->json || (f && strcmp(f, "json") == 0);
	if (c->nargs < commands[p->cmd].min)
		error(p, "%s: container id missing", c->cmd);
	if (strcmp(c->cmd, "exec") == 0 && c->nargs == 1 && !c->process && !c->nrest)
		error(p, "exec: a command or --process is needed");
	c->o.id = c->args[0];
}

enum cl_action cl_cmdline_parse(int argc, char **argv, struct cl_cmdline *c, char *msg, size_t size)
{
	struct cli_scan s = {.argv = argv, .argc = argc, .i = 1};
	struct parse p = {.c = c, .msg = msg, .size = size, .cmd = -1};

	memset(c, 0, sizeof(*c));
	c->root = CL_DEFAULT_ROOT;
	c->log_format = "text";
	msg[0] = '\0';
	scan_global(&p, &s);
	if (c->cmd && (p.cmd = find_command(c->cmd)) < 0)
		error(&p, "unknown command %s", c->cmd);
	if (p.cmd >= 0 && (strcmp(c->cmd, "image") == 0 || strcmp(c->cmd, "network") == 0)) {
		c->rest = argv + s.i; /* cli/image.c's and cli/network.c's own options */
		c->nrest = argc - s.i;
	} else if (p.cmd >= 0) {
		scan_command(&p, &s);
		check(&p);
	}
	if (strcmp(c->log_format, "text") != 0 && strcmp(c->log_format, "json") != 0)
		error(&p, "--log-format: text or json, not %s", c->log_format);
	if (p.help)
		return CL_HELP;
	if (p.version)
		return CL_VERSION;
	if (!c->cmd)
		error(&p, "no command (containerd-lite --help for usage)");
	return msg[0] ? CL_USAGE : CL_RUN;
}
