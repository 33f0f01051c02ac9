/*
 * early.c: ROOT's early units, compiled (docs/declarations.md, "Compiled
 * early units").
 *
 * PID 1 starts the units declared `early: true` before provisioning from
 * /etc/wisp/early.compiled alone: parsing the YAML there cost about 35 ms
 * of the boot's critical path under TCG (libyaml and the parser run for
 * the first time), so it is parsed here, once, with init's own parser
 * (init/lib/declbin.c), from the staged tree: its /etc/wisp, and its
 * passwd and group for user names (what PID 1 would read before
 * provisioning adds users). An early unit that has to wait after all is a
 * warning; a declaration that does not parse, an error (s6-rc-compile's
 * rule: a broken image fails its build, not its boots), unless the
 * builder is told --allow-declaration-errors (the tests of init's own
 * report of them). Dependencies are left to init: some are on units that
 * provision declares at boot.
 */
#include "image-builder.h"
#include "../init/lib/decl.h"

#include <errno.h>
#include <string.h>

struct said {
	const char *dir; /* the staged /etc/wisp, which messages name */
	bool allow;
	unsigned errors;
};

/* msg, with the staged directory named as ROOT names it */
static void say(const struct said *s, const char *kind, const char *msg)
{
	size_t n = strlen(s->dir);

	if (strncmp(msg, s->dir, n) == 0 && msg[n] == '/')
		fprintf(stderr, "image-builder: %s" DECL_DIR "%s\n", kind, msg + n);
	else
		fprintf(stderr, "image-builder: %s%s\n", kind, msg);
}

static void warn(void *ctx, const char *msg)
{
	say(ctx, "warning: ", msg);
}

static void error(void *ctx, const char *msg)
{
	struct said *s = ctx;

	s->errors++;
	say(s, s->allow ? "warning: " : "", msg);
}

int ib_compile_early(const char *root, bool allow_errors, struct ib_err *err)
{
	char *etc = ib_path_join(root, "etc"), *dir = ib_path_join(root, DECL_DIR);
	char *out = ib_path_join(dir, DECL_EARLY_FILE), *buf = NULL;
	struct said said = {dir, allow_errors, 0};
	size_t len = 0;
	int ret = 0;

	decl_set_etc(etc);
	if (declbin_compile(dir, DECL_DIR, error, warn, &said, &buf, &len) < 0)
		ret = ib_err_set(err, ENOMEM, "%s", out);
	else if (said.errors && !allow_errors)
		ret = ib_err_set(err, 0,
				 DECL_DIR ": %u declaration error(s) (above); "
					  "--allow-declaration-errors builds anyway",
				 said.errors);
	else if (len > DECLBIN_MAX)
		ret = ib_err_set(err, 0, "%s: %zu bytes of early units, over init's limit of %d",
				 out, len, DECLBIN_MAX);
	if (ret == 0)
		ret = ib_write_file(out, buf, len, 0644, err);
	decl_set_etc("/etc");
	free(buf);
	free(etc);
	free(dir);
	free(out);
	return ret;
}
