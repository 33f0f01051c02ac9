/* manifest.c: the ROOT manifest parser (format: docs/build.md).
 *
 *   dir     PATH MODE [UID GID]
 *   file    PATH SOURCE MODE [UID GID]
 *   slink   PATH TARGET
 *   include MANIFEST
 *
 * What goes into ROOT is listed, not discovered, so the parser is strict:
 * every mistake is reported as FILE:LINE with the offending path.
 */
#include "image-builder.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FIELDS   8
#define MAX_INCLUDES 16

struct line_ctx {
	struct ib_manifest *m;
	const char *file;
	unsigned line;
	const char **stack; /* manifests being read, to catch include loops */
	size_t depth;
	struct ib_err *err;
};

static int line_err(struct line_ctx *c, int errnum, const char *fmt, ...) IB_PRINTF(3, 4);

static int line_err(struct line_ctx *c, int errnum, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ib_err_set(c->err, errnum, "%s:%u: %s", c->file, c->line, msg);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	if (*cap < need)
		*cap = need;
	p = realloc(p, *cap * size);
	if (!p) {
		fputs("image-builder: out of memory\n", stderr);
		abort();
	}
	return p;
}

static const char *add_file(struct ib_manifest *m, const char *path)
{
	m->files = grow(m->files, &m->capfiles, m->nfiles + 1, sizeof(*m->files));
	m->files[m->nfiles] = ib_strdup(path);
	return m->files[m->nfiles++];
}

/* Absolute and normalised, so that one path has one spelling. */
static const char *check_path(const char *p)
{
	if (p[0] != '/')
		return "must be absolute";
	if (strlen(p) >= PATH_MAX / 2)
		return "too long";
	if (strcmp(p, "/") == 0)
		return NULL;
	for (const char *s = p; *s;) {
		const char *end = strchr(s + 1, '/');
		size_t n = end ? (size_t)(end - s - 1) : strlen(s + 1);

		if (n == 0 || (n == 1 && s[1] == '.') || (n == 2 && s[1] == '.' && s[2] == '.'))
			return "must be normalised (no empty, . or .. components, no trailing /)";
		s = end ? end : s + 1 + n;
	}
	return NULL;
}

const struct ib_mentry *ib_manifest_find(const struct ib_manifest *m, const char *path)
{
	for (size_t i = m->n; i-- > 0;)
		if (strcmp(m->e[i].path, path) == 0)
			return &m->e[i];
	return NULL;
}

static int check_parent(const struct ib_manifest *m, const char *path, struct ib_err *err)
{
	const char *slash = strrchr(path, '/');
	const struct ib_mentry *e;
	char parent[PATH_MAX];

	if (slash == path)
		return 0; /* the root always exists */
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	e = ib_manifest_find(m, parent);
	if (!e)
		return ib_err_set(err, 0, "%s: parent directory %s is not listed before it", path,
				  parent);
	if (e->type != IB_M_DIR)
		return ib_err_set(err, 0, "%s: parent %s is not a directory (%s:%u)", path, parent,
				  e->origin, e->line);
	return 0;
}

int ib_manifest_add(struct ib_manifest *m, const struct ib_mentry *t, struct ib_err *err)
{
	const struct ib_mentry *dup;
	const char *problem;
	struct ib_mentry *e;

	if ((problem = check_path(t->path)))
		return ib_err_set(err, 0, "%s: path %s", t->path, problem);
	if (strcmp(t->path, "/") == 0 && t->type != IB_M_DIR)
		return ib_err_set(err, 0, "/: only a dir entry can name the root");
	if ((dup = ib_manifest_find(m, t->path)))
		return ib_err_set(err, 0, "%s: already listed at %s:%u", t->path, dup->origin,
				  dup->line);
	if (strcmp(t->path, "/") != 0 && check_parent(m, t->path, err) < 0)
		return -1;
	m->e = grow(m->e, &m->cap, m->n + 1, sizeof(*m->e));
	e = &m->e[m->n++];
	*e = *t;
	e->path = ib_strdup(t->path);
	e->arg = NULL;
	if (t->arg) {
		e->arg = malloc(t->len + 1);
		if (!e->arg)
			abort();
		memcpy(e->arg, t->arg, t->len + 1);
	}
	return 0;
}

static int parse_mode(struct line_ctx *c, const char *s, mode_t *mode)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return line_err(c, 0, "bad mode \"%s\" (expected octal, like 0755)", s);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return line_err(c, 0, "bad mode \"%s\" (expected octal, like 0755)", s);
		v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > 07777)
		return line_err(c, 0, "bad mode \"%s\" (more than 07777)", s);
	if (v & (S_ISUID | S_ISGID))
		return line_err(c, 0,
				"mode %s: setuid/setgid bits are refused (Wisp ships no "
				"setuid binaries)",
				s);
	*mode = (mode_t)v;
	return 0;
}

static int parse_id(struct line_ctx *c, const char *s, const char *what, unsigned *id)
{
	unsigned long long v = 0;

	if (!*s)
		return line_err(c, 0, "bad %s \"%s\"", what, s);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned)(*p - '0')) >= 0xffffffffull)
			return line_err(c, 0, "bad %s \"%s\" (expected a decimal number)", what, s);
	}
	*id = (unsigned)v;
	return 0;
}

/* MODE [UID GID] starting at f[i]. */
static int parse_attrs(struct line_ctx *c, char **f, size_t nf, size_t i, struct ib_mentry *e)
{
	unsigned uid = 0, gid = 0;

	if (nf != i + 1 && nf != i + 3)
		return line_err(c, 0, "%s: expected MODE or MODE UID GID after the path", f[0]);
	if (parse_mode(c, f[i], &e->mode) < 0)
		return -1;
	if (nf == i + 3 &&
	    (parse_id(c, f[i + 1], "uid", &uid) < 0 || parse_id(c, f[i + 2], "gid", &gid) < 0))
		return -1;
	e->uid = uid, e->gid = gid;
	return 0;
}

static int load(struct line_ctx *parent, struct ib_manifest *m, const char *path,
		const char **stack, size_t depth, struct ib_err *err);

static int parse_include(struct line_ctx *c, char **f, size_t nf)
{
	if (nf != 2)
		return line_err(c, 0, "include: expected one manifest path");
	for (size_t i = 0; i < c->depth; i++)
		if (strcmp(c->stack[i], f[1]) == 0)
			return line_err(c, 0, "include %s: include loop", f[1]);
	if (c->depth >= MAX_INCLUDES)
		return line_err(c, 0, "include %s: nested too deeply", f[1]);
	return load(c, c->m, f[1], c->stack, c->depth, c->err);
}

static int parse_entry(struct line_ctx *c, char **f, size_t nf)
{
	struct ib_mentry e = {.origin = c->file, .line = c->line};

	if (strcmp(f[0], "dir") == 0 && nf >= 3) {
		e.type = IB_M_DIR;
		if (parse_attrs(c, f, nf, 2, &e) < 0)
			return -1;
	} else if (strcmp(f[0], "file") == 0 && nf >= 4) {
		e.type = IB_M_FILE, e.arg = f[2], e.len = strlen(f[2]);
		if (parse_attrs(c, f, nf, 3, &e) < 0)
			return -1;
	} else if (strcmp(f[0], "slink") == 0 && nf == 3) {
		e.type = IB_M_SLINK, e.arg = f[2], e.len = strlen(f[2]), e.mode = 0777;
	} else if (!strcmp(f[0], "dir") || !strcmp(f[0], "file") || !strcmp(f[0], "slink")) {
		return line_err(c, 0, "%s: wrong number of fields", f[0]);
	} else {
		return line_err(c, 0,
				"unknown entry type \"%s\" (expected dir, file, slink or "
				"include)",
				f[0]);
	}
	e.path = f[1];
	if (ib_manifest_add(c->m, &e, c->err) < 0)
		return ib_err_ctx(c->err, "%s:%u", c->file, c->line);
	return 0;
}

/* Split on blanks; a field starting with '#' starts a comment. */
static size_t split(char *line, char **f)
{
	char *save = NULL;
	size_t n = 0;

	for (char *tok = strtok_r(line, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (tok[0] == '#')
			break;
		if (n == MAX_FIELDS)
			return n + 1;
		f[n++] = tok;
	}
	return n;
}

static int parse_lines(struct line_ctx *c, char *buf)
{
	char *f[MAX_FIELDS];
	char *next;

	for (char *line = buf; line; line = next) {
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		c->line++;
		nf = split(line, f);
		if (nf == 0)
			continue;
		if (nf > MAX_FIELDS)
			return line_err(c, 0, "too many fields");
		if (strcmp(f[0], "include") == 0 ? parse_include(c, f, nf) < 0
						 : parse_entry(c, f, nf) < 0)
			return -1;
	}
	return 0;
}

static int load(struct line_ctx *parent, struct ib_manifest *m, const char *path,
		const char **stack, size_t depth, struct ib_err *err)
{
	struct line_ctx c = {.m = m, .stack = stack, .depth = depth + 1, .err = err};
	char *buf;
	size_t len;
	int ret;

	c.file = add_file(m, path);
	if (ib_read_file(path, &buf, &len, err) < 0)
		return parent ? ib_err_ctx(err, "%s:%u: include", parent->file, parent->line) : -1;
	if (strlen(buf) != len) {
		free(buf);
		return ib_err_set(err, 0, "%s: contains a NUL byte", path);
	}
	stack[depth] = c.file;
	ret = parse_lines(&c, buf);
	free(buf);
	return ret;
}

int ib_manifest_load(struct ib_manifest *m, const char *path, struct ib_err *err)
{
	const char *stack[MAX_INCLUDES + 1];

	return load(NULL, m, path, stack, 0, err);
}

bool ib_manifest_all_root(const struct ib_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].uid || m->e[i].gid)
			return false;
	return true;
}

void ib_manifest_free(struct ib_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].arg);
	}
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->e);
	free(m->files);
	memset(m, 0, sizeof(*m));
}
