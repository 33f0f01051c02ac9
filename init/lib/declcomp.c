/*
 * declcomp.c: declarations compiled from their YAML (docs/declarations.md,
 * "Compiled declarations"), by the programs that parse YAML so that PID 1 does
 * not: image-builder for ROOT's /etc/wisp, provision for what it declares.
 * What PID 1 would have said parsing the YAML (a declaration left out for its
 * problems) travels in the compiled set, so that it is still said at every
 * boot.
 */
#include "decl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct compiling {
	const char *dir, *as_dir;
	decl_report_fn *error;
	void *ctx;
	struct decls *set;
	bool oom;
};

/* One problem: as as_dir names it, kept for PID 1 and told to the caller. */
static void problem(void *ctx, const char *msg)
{
	struct compiling *c = ctx;
	size_t n = strlen(c->dir);
	char *line;

	if (strncmp(msg, c->dir, n) == 0 && msg[n] == '/') {
		if (asprintf(&line, "%s%s", c->as_dir, msg + n) < 0)
			line = NULL; /* asprintf leaves it undefined */
	} else
		line = strdup(msg);
	if (!line) {
		c->oom = true;
		c->error(c->ctx, msg);
		return;
	}
	n = strv_len(c->set->errors);
	c->set->errors = strv_push(c->set->errors, line);
	c->oom |= strv_len(c->set->errors) != n + 1; /* strv_push drops what it cannot copy */
	c->error(c->ctx, line);
	free(line);
}

/* decl_load_dir() named each unit's file dir/NAME.yaml: as_dir/NAME.yaml now. */
static int rename_files(struct decls *set, const char *as_dir)
{
	for (size_t i = 0; i < set->n; i++) {
		char *file;

		if (asprintf(&file, "%s%s", as_dir, strrchr(set->v[i].file, '/')) < 0)
			return -1;
		free(set->v[i].file);
		set->v[i].file = file;
	}
	return 0;
}

int declc_load(struct decls *set, const char *dir, const char *as_dir, decl_report_fn *error,
	       void *ctx)
{
	struct compiling c = {dir, as_dir, error, ctx, set, false};

	decl_load_dir(set, dir, problem, &c);
	return c.oom || rename_files(set, as_dir) < 0 ? -1 : 0;
}

static void ignore(void *ctx, const char *msg)
{
	(void)ctx, (void)msg; /* init checks dependencies against every unit, provision's too */
}

void declc_early(struct decls *set, decl_report_fn *warn, void *ctx)
{
	/* PID 1 says the problems once, when it loads every unit */
	strv_free(set->errors), set->errors = NULL;
	strv_free(set->broken), set->broken = NULL;
	deps_check(set, ignore, NULL);
	deps_early(set, warn, ctx);
}

int declbin_write(const struct decls *set, const char *path, mode_t mode, struct err *e)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char tmp[4200], *buf;
	size_t len;
	int ret;

	/* .NAME.tmp beside it: a reader sees the old file or the new one, whole */
	if (fmt_path(tmp, sizeof(tmp), "%.*s.%s.tmp", (int)(base - path), path, base) < 0)
		return err_set(e, ENAMETOOLONG, "%s", path);
	if (declbin_encode(set, &buf, &len) < 0)
		return err_set(e, ENOMEM, "%s", path);
	if (len > DECLBIN_MAX)
		ret =
		    err_set(e, 0, "%s: %zu bytes of compiled declarations, over init's limit of %d",
			    path, len, DECLBIN_MAX);
	else
		ret = write_file(tmp, buf, len, mode, e);
	/* the mode asked, not the umask's: ROOT's bytes must not depend on the builder's */
	if (ret == 0 && chmod(tmp, mode) < 0)
		ret = err_set(e, errno, "chmod %s", tmp);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = err_set(e, errno, "rename %s", tmp);
	if (ret < 0)
		unlink(tmp);
	free(buf);
	return ret;
}
