/* depfile.c: the inputs of an image, for make (-M) and --print-deps.
 *
 * The manifest decides which files go into ROOT, so only the builder knows
 * the full list; it writes it as a make depfile, with an empty rule per
 * input (like gcc -MP) so that a file dropped from the manifest doesn't
 * break the next make run. */
#include "image-builder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ib_deps_add(struct ib_deps *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i], path) == 0)
			return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -1;
		d->v = v, d->cap = cap;
	}
	d->v[d->n++] = ib_strdup(path);
	return 0;
}

void ib_deps_free(struct ib_deps *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* make's quoting: blanks and '#' get a backslash, '$' doubles. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '#' || *s == '\\')
			fputc('\\', f);
		else if (*s == '$')
			fputc('$', f);
		fputc(*s, f);
	}
}

static void put_depfile(FILE *f, const char *target, const struct ib_deps *d)
{
	put_escaped(f, target);
	fputc(':', f);
	for (size_t i = 0; i < d->n; i++) {
		fputs(" \\\n  ", f);
		put_escaped(f, d->v[i]);
	}
	fputc('\n', f);
	for (size_t i = 0; i < d->n; i++) {
		fputc('\n', f);
		put_escaped(f, d->v[i]);
		fputs(":\n", f);
	}
}

int ib_depfile_write(const char *path, const char *target, const struct ib_deps *d,
		     struct ib_err *err)
{
	char *tmp = ib_asprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "we");
	int ret = 0;

	if (!f) {
		ret = ib_err_set(err, errno, "create %s", tmp);
		free(tmp);
		return ret;
	}
	put_depfile(f, target, d);
	if (ferror(f) | fclose(f))
		ret = ib_err_set(err, errno ? errno : EIO, "write %s", tmp);
	else if (rename(tmp, path) < 0)
		ret = ib_err_set(err, errno, "rename %s to %s", tmp, path);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}
