/*
 * idmap.c: the user and group ids provision gave, kept on STATE
 * (ID_MAP, docs/provisioning.md "The ids it gave").
 *
 * /etc is rebuilt from ROOT at every boot, so without this file a user's
 * uid would be found afresh at each: user-data listing one user less (or
 * in another order, or an image adding a user) would move the others'
 * ids, while their homes, keys and files on STATE keep the numbers, so
 * that one user would own another's files. A distribution keeps
 * /etc/passwd and never reuses an id; this file does that for Wisp: a
 * name keeps its id (its last one: user-data's `uid:` may change it), and
 * an id once given is never given to another name, even once its own is
 * gone from user-data (as the userns ranges of userns.c).
 *
 * The file, "wisp-ids 1" then one "KIND NAME ID" line per id given:
 *
 *	wisp-ids 1
 *	user alice 1000
 *	group alice 1000
 *
 * is read whole and strictly: a file not of provision's user (root) or
 * writable by another, over IDMAP_MAX, of another version, with a bad line
 * or an id given to two names is one warning, and is neither used nor
 * written over this boot (its ids cannot be trusted, nor thrown away).
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDMAP_HEAD "wisp-ids 1\n"
#define IDMAP_MAX  (1024 * 1024) /* bytes: some 20 000 names */

static const char *const kinds[] = {[ID_USER] = "user", [ID_GROUP] = "group"};

/* ---- reading --------------------------------------------------------- */

static const char *take_kind(struct id_rec *r, const char *s)
{
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++)
		if (!strcmp(s, kinds[k]))
			return r->kind = (unsigned char)k, NULL;
	return "not user or group";
}

static const char *take_name(struct id_rec *r, const char *s)
{
	if (!cc_valid_name(s))
		return "not a user or group name";
	memcpy(r->name, s, strlen(s) + 1); /* at most 32 (cc_valid_name) */
	return NULL;
}

static const char *take_id(struct id_rec *r, const char *s)
{
	uint64_t v;
	const char *end = dec_scan(s, &v);

	/* 0 is root's, 2^32-1 no id at all; "007" is not what idmap_save writes */
	if (!end || *end || v == 0 || v >= UINT32_MAX || *s == '0')
		return "not an id from 1 to 4294967294";
	r->id = (unsigned)v;
	return NULL;
}

/* A record's fields, in their order on the line, each separated by one space. */
static const struct {
	const char *what;
	const char *(*take)(struct id_rec *r, const char *s);
} fields[] = {{"kind", take_kind}, {"name", take_name}, {"id", take_id}};

/* line (NUL-terminated, no '\n') into r; NULL, or what is wrong with it. */
static const char *parse_line(char *line, struct id_rec *r, char *why, size_t size)
{
	char *s = line;

	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		char *sp = strchr(s, ' ');
		const char *bad;

		if ((sp != NULL) != (i + 1 < ARRAY_LEN(fields)))
			return "expected KIND NAME ID";
		if (sp)
			*sp = '\0';
		if ((bad = fields[i].take(r, s))) {
			snprintf(why, size, "%s %.40s: %s", fields[i].what, s, bad);
			return why;
		}
		if (sp)
			s = sp + 1;
	}
	return NULL;
}

static const char *add(struct idmap *m, const struct id_rec *r)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct id_rec *v = realloc(m->rec, cap * sizeof(*v));

		if (!v)
			return "out of memory";
		m->rec = v, m->cap = cap;
	}
	m->rec[m->n++] = *r;
	return NULL;
}

/* text's records into m: NULL, or what is wrong (*line: where). */
static const char *parse(struct idmap *m, char *text, int *line, char *why, size_t size)
{
	const char *bad = NULL, *other;

	*line = 1;
	if (strncmp(text, IDMAP_HEAD, strlen(IDMAP_HEAD)))
		return "not a wisp-ids 1 file";
	for (char *l = text + strlen(IDMAP_HEAD), *nl; !bad && *l; l = nl + 1) {
		struct id_rec r = {0};

		++*line;
		if (!(nl = strchr(l, '\n')))
			return "cut short (no newline at its end)";
		*nl = '\0';
		if (!(bad = parse_line(l, &r, why, size)) &&
		    (other = idmap_owner(m, (enum id_kind)r.kind, r.id, r.name))) {
			snprintf(why, size, "%s %s: id %u is %s's already", kinds[r.kind], r.name,
				 r.id, other);
			bad = why;
		}
		if (!bad)
			bad = add(m, &r);
	}
	return bad;
}

/* fd's text (malloc'd) when it is a file provision may trust; NULL and *bad why not. */
static char *read_trusted(int fd, const char **bad)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n = 1;

	if (fstat(fd, &st) < 0)
		return *bad = strerror(errno), NULL;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return *bad = "not a file of provision's user, or writable by others", NULL;
	if (st.st_size >= IDMAP_MAX)
		return *bad = "over 1 MiB", NULL;
	if (!(text = malloc((size_t)st.st_size + 1)))
		return *bad = "out of memory", NULL;
	while (n > 0 && len < (size_t)st.st_size)
		if ((n = read(fd, text + len, (size_t)st.st_size - len)) > 0)
			len += (size_t)n;
	if (n < 0 || memchr(text, '\0', len)) {
		free(text);
		return *bad = n < 0 ? strerror(errno) : "a NUL byte", NULL;
	}
	text[len] = '\0';
	return text;
}

void idmap_load(struct idmap *m, const char *path, struct ud_sink *w)
{
	const char *bad = NULL;
	char *text = NULL, why[128], where[16] = "";
	int line = 0, fd;

	*m = (struct idmap){.usable = true};
	if (fmt_path(m->path, sizeof(m->path), "%s", path) < 0)
		bad = "path too long";
	else if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		bad = errno == ENOENT ? NULL : strerror(errno); /* none yet: the first boot */
	else {
		text = read_trusted(fd, &bad);
		close(fd);
		if (text)
			bad = parse(m, text, &line, why, sizeof(why));
	}
	free(text);
	if (!bad)
		return;
	if (line)
		snprintf(where, sizeof(where), ":%d", line);
	w->warn(w->ctx,
		"user ids: %s%s: %s; not used nor written this boot (ids given as without it)",
		path, where, bad);
	idmap_free(m);
	m->usable = false;
}

/* ---- looking up, noting --------------------------------------------- */

long idmap_get(const struct idmap *m, enum id_kind k, const char *name)
{
	for (size_t i = m ? m->n : 0; i-- > 0;) /* the last one given: a name's id now */
		if (m->rec[i].kind == k && !strcmp(m->rec[i].name, name))
			return (long)m->rec[i].id;
	return -1;
}

const char *idmap_owner(const struct idmap *m, enum id_kind k, unsigned id, const char *name)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->rec[i].kind == k && m->rec[i].id == id && strcmp(m->rec[i].name, name))
			return m->rec[i].name;
	return NULL;
}

void idmap_note(struct idmap *m, enum id_kind k, const char *name, unsigned id)
{
	struct id_rec r = {.kind = (unsigned char)k, .id = id};

	if (!m || !m->usable || idmap_get(m, k, name) == (long)id || strlen(name) >= sizeof(r.name))
		return;
	memcpy(r.name, name, strlen(name) + 1);
	if (!add(m, &r))
		m->changed = true;
}

/* ---- writing ----------------------------------------------------------- */

/* m's text (malloc'd, *len), or NULL: out of memory, or over what idmap_load reads. */
static char *render(const struct idmap *m, size_t *len)
{
	size_t size = strlen(IDMAP_HEAD) + m->n * (6 + 33 + 11) + 1;
	char *text = size < IDMAP_MAX ? malloc(size) : NULL;

	if (!text)
		return NULL;
	*len = (size_t)snprintf(text, size, "%s", IDMAP_HEAD);
	for (size_t i = 0; i < m->n; i++)
		*len += (size_t)snprintf(text + *len, size - *len, "%s %s %u\n",
					 kinds[m->rec[i].kind], m->rec[i].name, m->rec[i].id);
	return text;
}

/* text as path, whole or not at all: a temporary, synced, renamed over it, the rename
 * synced with its directory (a power cut leaves the old file or the new one). */
static int put(const char *path, const char *text, size_t len, struct err *e)
{
	char tmp[4200], dir[4200];
	int r;

	if (fmt_path(tmp, sizeof(tmp), "%s.tmp", path) < 0 ||
	    fmt_path(dir, sizeof(dir), "%s", path) < 0)
		return err_set(e, ENAMETOOLONG, "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	unlink(tmp); /* one a power cut left: O_TRUNC would keep its mode and owner */
	r = write_file_synced(tmp, text, len, 0600, e);
	if (r == 0 && rename(tmp, path) < 0)
		r = err_set(e, errno, "rename %s", tmp);
	if (r < 0)
		unlink(tmp);
	return r < 0 ? r : sync_path(dir, e);
}

void idmap_save(struct idmap *m, struct ud_sink *w)
{
	struct err e;
	size_t len = 0;
	char *text;

	if (!m || !m->usable || !m->changed)
		return;
	if (!(text = render(m, &len)))
		err_set(&e, 0, "%s: more names than it may hold, or out of memory", m->path);
	if (!text || put(m->path, text, len, &e) < 0)
		w->warn(w->ctx, "user ids: %s; the ids given this boot are not remembered", e.msg);
	else
		m->changed = false;
	free(text);
}

void idmap_free(struct idmap *m)
{
	free(m->rec);
	m->rec = NULL, m->n = m->cap = 0;
}
