/*
 * args.c: the updater's command line (docs/update-bundle.md, "The updater").
 *
 * As wispctl's: one table of options, known wherever they stand among the
 * operands ("update verify B --keys D" and "update --keys D verify B"), "--"
 * ends them, and --help and --version win over any error so that a user who
 * asks for help gets it. Which command takes which option is main.c's
 * business: it knows the commands.
 */
#include "update.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char upd_usage_text[] =
    "usage: update COMMAND [ARGS] [OPTIONS]\n"
    "  apply BUNDLE      verify BUNDLE while writing it to the other slot, then boot\n"
    "                    that slot next, on trial (" UPD_TRIES " tries)\n"
    "  status            both slots, their versions, the trial and the last rollback\n"
    "  rollback          boot the other slot next\n"
    "  mark-good [UNIT...]  end this boot's trial (its slot is good) once each UNIT is up\n"
    "  watch             guard a trial boot: reboot when it is not good in time\n"
    "  verify BUNDLE     check the signature against the trusted keys, the expiry\n"
    "                    and every part's size and SHA-256; print the manifest\n"
    "  inspect BUNDLE    print the manifest, trusting nothing\n"
    "BUNDLE: a file, - for standard input, or (apply) an http:// or https:// URL;\n"
    "  apply with no BUNDLE: the URL in $" UPD_URL_ENV " (out of the argv users read)\n"
    "options, anywhere on the line (-- ends them):\n"
    "  --keys DIR        trusted minisign public keys, *.pub (default " UPD_KEYS_DIR ")\n"
    "  --now SECONDS     the time to check the expiry against (default: the clock)\n"
    "  --allow-downgrade apply a bundle older than the running system\n"
    "  --reboot          apply: reboot into the new slot when it is written\n"
    "  --reboot-at HH:MM apply: then, at the next HH:MM (UTC; a maintenance window)\n"
    "  --sha256 HEX      apply: the whole bundle must have this SHA-256\n"
    "  --if-newer        apply: a bundle not newer than the running system: nothing to do\n"
    "  --deadline SECONDS  watch: how long a trial boot has (default: the command line's\n"
    "                      wisp.update_deadline=, else 300)\n"
    "  -h, --help  --version\n";

enum opt_id {
	O_KEYS = 1,
	O_NOW,
	O_DEADLINE,
	O_DOWNGRADE,
	O_REBOOT,
	O_SHA256,
	O_REBOOT_AT,
	O_IF_NEWER,
	O_HELP,
	O_VERSION
};

static const struct opt {
	const char *lng;
	char shrt;
	bool takes_value;
	enum opt_id id;
} opts[] = {
    {"--keys", 0, true, O_KEYS},	   {"--now", 0, true, O_NOW},
    {"--deadline", 0, true, O_DEADLINE},   {"--allow-downgrade", 0, false, O_DOWNGRADE},
    {"--reboot", 0, false, O_REBOOT},	   {"--sha256", 0, true, O_SHA256},
    {"--reboot-at", 0, true, O_REBOOT_AT}, {"--if-newer", 0, false, O_IF_NEWER},
    {"--help", 'h', false, O_HELP},	   {"--version", 0, false, O_VERSION},
};

static void usage_err(struct upd_args *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void usage_err(struct upd_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->msg[0])
		return; /* the first error is the one to report */
	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
}

/* "--name", "--name=VALUE", "-x": the table's entry, NULL if none. *val: attached value. */
static const struct opt *match(const char *arg, const char **val)
{
	*val = NULL;
	for (size_t k = 0; k < ARRAY_LEN(opts); k++) {
		const struct opt *o = &opts[k];
		size_t n = strlen(o->lng);

		if (strncmp(arg, o->lng, n) == 0 &&
		    (arg[n] == '\0' || (arg[n] == '=' && o->takes_value))) {
			*val = arg[n] ? arg + n + 1 : NULL;
			return o;
		}
		if (o->shrt && arg[1] == o->shrt && arg[2] == '\0')
			return o;
	}
	return NULL;
}

/* The option at argv[*i] (moved past its value when that is the next argument). */
static int option(struct upd_args *a, int argc, char **argv, int *i)
{
	const char *val;
	const struct opt *o = match(argv[*i], &val);

	if (!o) {
		usage_err(a, "unknown option %s", argv[*i]);
		return 0;
	}
	if (o->takes_value && !val) {
		if (*i + 1 == argc) {
			usage_err(a, "option %s needs a value", argv[*i]);
			return 0;
		}
		val = argv[++*i];
	}
	if (o->id == O_KEYS)
		a->keys = val;
	else if (o->id == O_NOW)
		a->now = val;
	else if (o->id == O_DEADLINE)
		a->deadline = val;
	else if (o->id == O_SHA256)
		a->sha256 = val;
	else if (o->id == O_REBOOT_AT)
		a->reboot_at = val;
	a->if_newer |= o->id == O_IF_NEWER;
	a->allow_downgrade |= o->id == O_DOWNGRADE;
	a->reboot |= o->id == O_REBOOT;
	return o->id;
}

static void operand(struct upd_args *a, const char *arg)
{
	if (!a->command)
		a->command = arg;
	else if (a->noperands < (int)ARRAY_LEN(a->operand))
		a->operand[a->noperands++] = arg;
	else
		usage_err(a, "unexpected argument %s", arg);
}

enum upd_action upd_args(int argc, char **argv, struct upd_args *a)
{
	bool ended = false, help = false, version = false;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int id;

		if (ended || arg[0] != '-' || arg[1] == '\0') {
			operand(a, arg);
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			ended = true;
			continue;
		}
		id = option(a, argc, argv, &i);
		help |= id == O_HELP;
		version |= id == O_VERSION;
	}
	if (help)
		return UPD_HELP;
	if (version)
		return UPD_VERSION_ACT;
	if (!a->command)
		usage_err(a, "no command");
	return a->msg[0] ? UPD_USAGE : UPD_RUN;
}
