/*
 * decls.c: ROOT's declarations, compiled (docs/declarations.md, "Compiled
 * declarations").
 *
 * PID 1 reads no YAML: it loads ROOT's /etc/wisp from two files made here
 * with init's own parser (init/lib/declcomp.c), from the staged tree: its
 * /etc/wisp, and its passwd and group for user names (the image's users: a
 * unit of the image runs as one of them). /etc/wisp/units.compiled holds
 * every unit, loaded after provisioning; /etc/wisp/early.compiled the early
 * ones alone, which PID 1 starts before it (and reads on the boot's critical
 * path: the fewer bytes the better). An early unit that has to wait after all
 * is a warning; a declaration that does not parse, an error (s6-rc-compile's
 * rule: a broken image fails its build, not its boots), unless the builder is
 * told --allow-declaration-errors (the tests of init's own report of them:
 * the compiled file carries the lines init says at every boot). Dependencies
 * are left to init: some are on units that provision declares at boot.
 */
#include "image-builder.h"
#include "../init/lib/decl.h"

#include <errno.h>
#include <string.h>

struct said {
	bool allow;
	unsigned errors;
};

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "image-builder: warning: %s\n", msg);
}

static void error(void *ctx, const char *msg)
{
	struct said *s = ctx;

	s->errors++;
	fprintf(stderr, "image-builder: %s%s\n", s->allow ? "warning: " : "", msg);
}

/* set as dir/name, 0644 (ROOT's files are every user's to read, as the YAML is). */
static int write_compiled(const struct decls *set, const char *dir, const char *name,
			  struct ib_err *err)
{
	char *out = ib_path_join(dir, name);
	struct err e;
	int ret = 0;

	if (declbin_write(set, out, 0644, &e) < 0)
		ret = ib_err_set(err, 0, "%s", e.msg);
	free(out);
	return ret;
}

int ib_compile_decls(const char *root, bool allow_errors, struct ib_err *err)
{
	char *etc = ib_path_join(root, "etc"), *dir = ib_path_join(root, DECL_DIR);
	struct said said = {allow_errors, 0};
	struct decls set = {0};
	int ret = 0;

	decl_set_etc(etc);
	if (declc_load(&set, dir, DECL_DIR, error, &said) < 0)
		ret = ib_err_set(err, ENOMEM, "%s: compiling its declarations", dir);
	else if (said.errors && !allow_errors)
		ret = ib_err_set(err, 0,
				 DECL_DIR ": %u declaration error(s) (above); "
					  "--allow-declaration-errors builds anyway",
				 said.errors);
	if (ret == 0)
		ret = write_compiled(&set, dir, DECL_UNITS_FILE, err);
	if (ret == 0) {
		declc_early(&set, warn, NULL);
		ret = write_compiled(&set, dir, DECL_EARLY_FILE, err);
	}
	decl_set_etc("/etc");
	decls_free(&set);
	free(etc);
	free(dir);
	return ret;
}
