/*
 * declw.c: the units provision wants, as declaration files in CLOUD_UNITS
 * (docs/provisioning.md). This is provision's one door to PID 1: no table is
 * shared, PID 1 loads the directory once provision has ended. Each file is
 * written under a dot name PID 1 never loads, checked with the very parser
 * PID 1 used to run (lib/decl.h), and renamed into place only when that parser
 * finds nothing wrong; then the directory is compiled again into
 * DECL_UNITS_FILE, the one file PID 1 reads (it parses no YAML: lib/declbin.c),
 * so that it always holds the units of the YAML files in place, which stay for
 * people to read. The directory is root's alone (0700) and the files 0600: a
 * unit's env may hold secrets.
 */
#include "provision.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
	char dir[4096];
	char **names; /* units installed in this run, for duplicates and declw_declared() */
} w;
/* Apart from w: an initialiser would move w (4 KiB of bss) into the file. */
static struct warner warner = {.who = "declarations"};

/* *.yaml, DECL_UNITS_FILE (PID 1 loads it) and .*.tmp (an interrupted run's) go; nothing
 * else is ours. */
static bool stale(const char *n)
{
	size_t len = strlen(n);

	return (len > 5 && !strcmp(n + len - 5, ".yaml")) || !strcmp(n, DECL_UNITS_FILE) ||
	       (n[0] == '.' && len > 4 && !strcmp(n + len - 4, ".tmp"));
}

static void report_problem(void *ctx, const char *msg)
{
	(void)ctx;
	report_warn(&warner, "%s", msg);
}

/* The directory's declarations compiled into DECL_UNITS_FILE, named as PID 1 sees them
 * (CLOUD_UNITS, whatever --root says): each was checked before its rename, so a problem
 * here (one more line) is the directory changing under the run. 0, or -1 with e set. */
static int compile(struct err *e)
{
	char path[4200];
	struct decls set = {0};
	int ret;

	if (fmt_path(path, sizeof(path), "%s/" DECL_UNITS_FILE, w.dir) < 0)
		return err_set(e, ENAMETOOLONG, "%s/" DECL_UNITS_FILE, w.dir);
	if (declc_load(&set, w.dir, CLOUD_UNITS, report_problem, NULL) < 0)
		ret = err_set(e, ENOMEM, "%s", path);
	else
		ret = declbin_write(&set, path, 0600, e);
	decls_free(&set);
	return ret;
}

int declw_open(const char *dir, struct err *e)
{
	struct dirent *de;
	DIR *d;

	declw_close();
	if (fmt_path(w.dir, sizeof(w.dir), "%s", dir) < 0)
		return err_set(e, ENAMETOOLONG, "%s", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir %s", dir);
	if (chmod(dir, 0700) < 0 || !(d = opendir(dir)))
		return err_set(e, errno, "%s", dir);
	while ((de = readdir(d)))
		if (stale(de->d_name) && unlinkat(dirfd(d), de->d_name, 0) < 0)
			err_set(e, errno, "remove %s/%s", dir, de->d_name), log_err(e);
	closedir(d);
	return compile(e); /* none yet: PID 1 loads an empty set, not a missing file */
}

void declw_close(void)
{
	strv_free(w.names);
	memset(&w, 0, sizeof(w));
	warner.count = 0;
}

bool declw_declared(const char *name)
{
	for (char **v = w.names; v && *v; v++)
		if (!strcmp(*v, name))
			return true;
	return false;
}

int declw_warnings(void)
{
	return warner.count;
}

/* ---- rendering ----------------------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->oom || n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s, b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A YAML double-quoted scalar: every value is a string (docs/declarations.md), and a
 * quoted one cannot turn into a key, a list or a comment whatever its bytes. */
static void quoted(struct buf *b, const char *s)
{
	put(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			put(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			put(b, "\\x%02x", c);
		else
			put(b, "%c", c);
	}
	put(b, "\"");
}

static void list(struct buf *b, char *const *v)
{
	put(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		put(b, i ? ", " : "");
		quoted(b, v[i]);
	}
	put(b, "]");
}

char *declw_render(const struct wunit *u)
{
	struct buf b = {0};

	put(&b, "# %s (written by provision: docs/provisioning.md)\nservices:\n  - name: ",
	    u->about ? u->about : u->name);
	quoted(&b, u->name);
	put(&b, "\n    kind: %s\n    command: ", kind_name(u->kind));
	list(&b, u->argv);
	put(&b, "\n    restart: %s\n", restart_name(u->restart));
	if (u->env && *u->env) {
		put(&b, "    env: ");
		list(&b, u->env);
		put(&b, "\n");
	}
	if (u->after && *u->after) {
		put(&b, "    depends_on:\n");
		for (char *const *a = u->after; *a; a++) {
			put(&b, "      ");
			quoted(&b, *a);
			put(&b, ": {condition: started}\n");
		}
	}
	if (b.oom)
		free(b.s), b.s = NULL;
	return b.s;
}

/* ---- installing ------------------------------------------------------ */

/* Every unit of set has a name no earlier file of this run took. */
static int unique(const struct decls *set, const char *path)
{
	int dups = 0;

	for (size_t i = 0; i < set->n; i++)
		if (declw_declared(set->v[i].name)) {
			report_warn(&warner, "%s: unit \"%s\" is declared by an earlier file", path,
				    set->v[i].name);
			dups++;
		}
	return dups;
}

static void remember(const struct decls *set)
{
	size_t n = strv_len(w.names);
	char **v = realloc(w.names, (n + set->n + 1) * sizeof(*v));

	if (!v)
		return;
	w.names = v;
	for (size_t i = 0; i < set->n; i++)
		if ((v[n] = strdup(set->v[i].name)))
			n++;
	v[n] = NULL;
}

int declw_text(int nn, const char *name, const char *text)
{
	char tmp[4200], path[4200];
	struct decls set = {0};
	struct err e;
	int problems;

	if (fmt_path(tmp, sizeof(tmp), "%s/.%02d-%s.yaml.tmp", w.dir, nn, name) < 0 ||
	    fmt_path(path, sizeof(path), "%s/%02d-%s.yaml", w.dir, nn, name) < 0) {
		report_warn(&warner, "%s/%02d-%s.yaml: name too long; not declared", w.dir, nn,
			    name);
		return -1;
	}
	if (write_file(tmp, text, strlen(text), 0600, &e) < 0) {
		report_warn(&warner, "%s", e.msg);
		unlink(tmp);
		return -1;
	}
	problems = decl_load_file(&set, tmp, report_problem, NULL);
	problems += problems ? 0 : unique(&set, tmp);
	if (!problems && rename(tmp, path) < 0) {
		report_warn(&warner, "rename %s: %s", tmp, strerror(errno));
		problems++;
	} else if (!problems && compile(&e) < 0) {
		/* the compiled file is still the one without it: as if never declared */
		report_warn(&warner, "%s", e.msg);
		unlink(path);
		problems++;
	}
	if (problems) {
		report_warn(&warner, "%s: not declared (%d problem%s)", path, problems,
			    problems == 1 ? "" : "s");
		unlink(tmp);
	} else {
		remember(&set);
		cloudinit_report("declared: %02d-%s.yaml", nn, name);
	}
	decls_free(&set);
	return problems ? -1 : 0;
}

int declw_unit(int nn, const struct wunit *u)
{
	char *text = declw_render(u);
	int r;

	if (!text) {
		report_warn(&warner, "%s: out of memory; not declared", u->name);
		return -1;
	}
	r = declw_text(nn, u->name, text);
	free(text);
	return r;
}
