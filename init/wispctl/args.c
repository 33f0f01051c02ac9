/*
 * args.c: wispctl's command line (docs/wispctl.md, "Command line").
 *
 * One table of options, scanned over the whole argv: an option is known
 * wherever it stands, so "wispctl ps --json" and "wispctl logs -n 100 web"
 * work as their users expect from docker and systemctl. Which command an
 * option belongs to is checked after the scan, when the command is known,
 * so that the error can name it.
 */
#include "wispctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char wctl_usage_text[] =
    "usage: wispctl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n"
    "  ps                       every unit: state, pid, uptime, restarts, last exit, health,\n"
    "                           a container's host ids (userns)\n"
    "  status NAME              one unit\n"
    "  logs NAME [-n N] [-f]    its last N log lines (default 10, at most 10000); -f: then follow\n"
    "  start|stop|restart NAME\n"
    "  reboot | poweroff\n"
    "  config                   what cloud-init found, applied and warned about this boot\n"
    "  images                   the images in the store (containerd-lite image list)\n"
    "  pull REF                 fetch an image from its registry into the store: progress,\n"
    "                           then REF DIGEST (containerd-lite image pull REF)\n"
    "  boot                     the boot's timeline: each step and unit, longest first\n"
    "  update apply|status|rollback ...  the slots and updates (docs/update.md): runs\n"
    "                           /usr/libexec/wisp/update (update --help)\n"
    "options, anywhere on the line (-- ends them):\n"
    "  --json, --format json|table   JSON for scripts, or the table (the default)\n"
    "  -n, --lines N  -f, --follow   logs only\n"
    "  -h, --help  --version\n";

enum opt_id { O_JSON = 1, O_FORMAT, O_LINES, O_FOLLOW, O_HELP, O_VERSION };

static const struct opt {
	const char *lng;
	char shrt;
	bool takes_value;
	enum opt_id id;
	bool logs_only;
} opts[] = {
    {"--json", 0, false, O_JSON, false},   {"--format", 0, true, O_FORMAT, false},
    {"--lines", 'n', true, O_LINES, true}, {"--follow", 'f', false, O_FOLLOW, true},
    {"--help", 'h', false, O_HELP, false}, {"--version", 0, false, O_VERSION, false},
};

/* What the scan found; errors are kept until the command is known. */
struct scan {
	const char *operand[3];
	int noperands;
	const char *extra;		  /* the first operand beyond the name */
	const char *bad, *lines, *format; /* unknown option; -n's and --format's values */
	const char *noval;		  /* an option given without its value */
	const char *logs_opt;		  /* the first -n/-f seen, for another command */
	bool help, version, json, follow;
};

/* "--name", "--name=VALUE", "-x", "-xVALUE": the table's entry, NULL if none.
 * *val: the attached value, or NULL. */
static const struct opt *match(const char *a, const char **val)
{
	*val = NULL;
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		const struct opt *o = &opts[k];
		size_t n = strlen(o->lng);

		if (strncmp(a, o->lng, n) == 0 &&
		    (a[n] == '\0' || (a[n] == '=' && o->takes_value))) {
			*val = a[n] ? a + n + 1 : NULL;
			return o;
		}
		if (o->shrt && a[1] == o->shrt && (a[2] == '\0' || o->takes_value)) {
			*val = a[2] ? a + 2 : NULL;
			return o;
		}
	}
	return NULL;
}

static void take(struct scan *s, const struct opt *o, const char *a, const char *val)
{
	if (o->logs_only && !s->logs_opt)
		s->logs_opt = a;
	switch (o->id) {
	case O_JSON:
		s->json = true;
		break;
	case O_FORMAT:
		s->format = val;
		break;
	case O_LINES:
		s->lines = val;
		break;
	case O_FOLLOW:
		s->follow = true;
		break;
	case O_HELP:
		s->help = true;
		break;
	case O_VERSION:
		s->version = true;
		break;
	}
}

static void operand(struct scan *s, const char *a)
{
	if (s->noperands < 2)
		s->operand[s->noperands++] = a;
	else if (!s->extra)
		s->extra = a;
}

/* One option at argv[*i] (moved past its value if it takes the next one). */
static void option(struct scan *s, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val;
	const struct opt *o = match(a, &val);

	if (!o) {
		if (!s->bad)
			s->bad = a;
		return;
	}
	if (o->takes_value && !val) {
		if (*i + 1 == argc) {
			if (!s->noval)
				s->noval = a;
			return;
		}
		val = argv[++*i];
	}
	take(s, o, a, val);
}

static void scan(int argc, char **argv, struct scan *s)
{
	bool ended = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ended || a[0] != '-' || a[1] == '\0')
			operand(s, a);
		else if (strcmp(a, "--") == 0)
			ended = true;
		else
			option(s, argc, argv, &i);
	}
}

static enum wctl_action usage(struct wctl_args *a, const char *verb, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
static enum wctl_action usage(struct wctl_args *a, const char *verb, const char *fmt, ...)
{
	va_list ap;
	int n = verb ? snprintf(a->msg, sizeof(a->msg), "%s: ", verb) : 0;

	va_start(ap, fmt);
	vsnprintf(a->msg + n, sizeof(a->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return WCTL_USAGE;
}

static unsigned verb_op(const char *verb)
{
	for (unsigned op = P_PS; op <= P_BOOT; op++)
		if (strcmp(proto_op_name(op), verb) == 0)
			return op;
	return 0;
}

static bool takes_name(unsigned op)
{
	return op == P_STATUS || op == P_LOGS || op == P_START || op == P_STOP || op == P_RESTART;
}

/* The options' errors, once the command (verb, NULL if unknown) is known. */
static enum wctl_action option_errors(const struct scan *s, const char *verb, unsigned op,
				      struct wctl_args *a)
{
	if (s->bad)
		return usage(a, verb, "unknown option \"%s\"", s->bad);
	if (s->noval)
		return usage(a, verb, "option \"%s\" needs a value", s->noval);
	if (s->logs_opt && op && op != P_LOGS)
		return usage(a, verb, "unknown option \"%s\" (only logs takes it)", s->logs_opt);
	if (s->format && strcmp(s->format, "json") != 0 && strcmp(s->format, "table") != 0)
		return usage(a, verb, "--format \"%s\": json or table", s->format);
	return WCTL_RUN;
}

static enum wctl_action lines_value(const char *v, struct wctl_args *a)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno || n > PROTO_MAX_LINES)
		return usage(a, "logs", "-n %s: not a number from 0 to %u", v, PROTO_MAX_LINES);
	a->r.lines = (uint32_t)n;
	return WCTL_RUN;
}

static enum wctl_action operands(const struct scan *s, struct wctl_args *a)
{
	const char *verb = s->operand[0], *name = s->operand[1];

	if (takes_name(a->r.op)) {
		if (!name)
			return usage(a, verb, "needs a unit name");
		if (!unit_name_valid(name))
			return usage(
			    a, verb,
			    "\"%.80s\" is not a unit name ([a-z0-9][a-z0-9_.-]*, at most %d "
			    "characters)",
			    name, DECL_NAME_MAX);
		strcpy(a->r.name, name);
		name = s->extra;
	}
	if (name)
		return usage(a, verb, "unexpected argument \"%s\"", name);
	if (a->r.op == P_LOGS && s->lines)
		return lines_value(s->lines, a);
	return WCTL_RUN;
}

enum wctl_action wctl_args(int argc, char **argv, struct wctl_args *a)
{
	struct scan s = {0};
	enum wctl_action act;
	const char *verb;

	memset(a, 0, sizeof(*a));
	a->r.lines = PROTO_DEFAULT_LINES;
	scan(argc, argv, &s);
	if (s.help)
		return WCTL_HELP;
	if (s.version)
		return WCTL_VERSION;
	verb = s.operand[0];
	a->r.op = verb ? verb_op(verb) : 0;
	if (verb && !a->r.op)
		return usage(a, NULL, "unknown command \"%s\"", verb);
	act = option_errors(&s, verb, a->r.op, a);
	if (act != WCTL_RUN)
		return act;
	if (!verb)
		return usage(a, NULL, "no command");
	a->json = s.json || (s.format && strcmp(s.format, "json") == 0);
	a->r.follow = s.follow;
	return operands(&s, a);
}
