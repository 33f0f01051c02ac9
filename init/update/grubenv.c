/*
 * grubenv.c: GRUB's environment block, read and rewritten in place.
 *
 * The format is GRUB's (lib/envblk.c): the line "# GRUB Environment Block",
 * then NAME=VALUE lines with '\' before '\\' and newline, lines starting with
 * '#' ignored (grub-editenv writes a warning there), then '#' up to 1024
 * bytes. GRUB's save_env writes the same blocks of the file without
 * reallocating it, and so does this: the file is opened for writing without
 * truncation, its blocks stay where GRUB found them, and fsync makes the
 * change durable before anyone reboots into it. Every variable must fit in the
 * first 512-byte sector, and only that sector is written: a power cut leaves
 * the old block or the new one, never half of each (a sector write is atomic
 * on the disks we boot from; the second sector holds only padding).
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char header[] = "# GRUB Environment Block\n";

/* One NAME=VALUE line at p (len bytes, without the newline), unescaped. */
static int parse_line(struct grubenv *env, const char *p, size_t len, struct err *e)
{
	struct grubenv_var *v;
	const char *eq = memchr(p, '=', len);
	size_t n = 0;

	if (!eq || eq == p || (size_t)(eq - p) >= sizeof(v->name))
		return err_set(e, 0, "grubenv: a line is not NAME=VALUE");
	if (env->n == ARRAY_LEN(env->vars))
		return err_set(e, 0, "grubenv: more than %zu variables", ARRAY_LEN(env->vars));
	v = &env->vars[env->n++];
	memcpy(v->name, p, (size_t)(eq - p));
	v->name[eq - p] = '\0';
	for (const char *c = eq + 1; c < p + len; c++) {
		if (*c == '\\' && c + 1 < p + len)
			c++;
		if (n + 1 >= sizeof(v->value))
			return err_set(e, 0, "grubenv: %s's value is too long", v->name);
		v->value[n++] = *c;
	}
	v->value[n] = '\0';
	return 0;
}

int grubenv_parse(struct grubenv *env, const char *block, size_t len, struct err *e)
{
	const char *p = block + sizeof(header) - 1, *end = block + len;

	memset(env, 0, sizeof(*env));
	if (len != GRUBENV_SIZE || memcmp(block, header, sizeof(header) - 1) != 0)
		return err_set(e, 0, "grubenv: not a GRUB environment block of %d bytes",
			       GRUBENV_SIZE);
	while (p < end) {
		const char *nl = p;

		/* an escaped newline belongs to the value */
		while (nl < end && *nl != '\n')
			nl += *nl == '\\' && nl + 1 < end ? 2 : 1;
		if (*p == '#') { /* a comment, or the padding: as GRUB's envblk_iterate */
			p = nl + 1;
			continue;
		}
		if (nl >= end)
			return err_set(e, 0, "grubenv: its last variable has no end");
		if (parse_line(env, p, (size_t)(nl - p), e) < 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

const char *grubenv_get(const struct grubenv *env, const char *name)
{
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->vars[i].name, name) == 0)
			return env->vars[i].value;
	return "";
}

/* grubenv is the ESP's, which nothing signs (not even under Secure Boot): whoever wrote
 * the disk chose its bytes, and `update status` prints them on root's terminal. */
const char *grubenv_shown(const struct grubenv *env, const char *name, char *out, size_t size)
{
	const char *v = grubenv_get(env, name);

	return text_escaped(v, strlen(v), out, size);
}

int grubenv_set(struct grubenv *env, const char *name, const char *value, struct err *e)
{
	struct grubenv_var *v = NULL;

	for (size_t i = 0; i < env->n && !v; i++)
		if (strcmp(env->vars[i].name, name) == 0)
			v = &env->vars[i];
	if (!v && env->n == ARRAY_LEN(env->vars))
		return err_set(e, 0, "grubenv: more than %zu variables", ARRAY_LEN(env->vars));
	if (strlen(name) >= sizeof(v->name) || strlen(value) >= sizeof(v->value))
		return err_set(e, 0, "grubenv: %s is too long", name);
	if (!v)
		v = &env->vars[env->n++];
	strcpy(v->name, name);
	strcpy(v->value, value);
	return 0;
}

/* GRUB's escaping, into out at *n; false when it would pass the first sector. */
static bool put(char *out, size_t *n, const char *s, bool escape)
{
	for (; *s; s++) {
		if (escape && (*s == '\\' || *s == '\n')) {
			if (*n >= GRUBENV_SECTOR)
				return false;
			out[(*n)++] = '\\';
		}
		if (*n >= GRUBENV_SECTOR)
			return false;
		out[(*n)++] = *s;
	}
	return true;
}

int grubenv_format(const struct grubenv *env, char out[GRUBENV_SIZE], struct err *e)
{
	size_t n = 0;
	bool ok = put(out, &n, header, false);

	for (size_t i = 0; ok && i < env->n; i++)
		ok = put(out, &n, env->vars[i].name, false) && put(out, &n, "=", false) &&
		     put(out, &n, env->vars[i].value, true) && put(out, &n, "\n", false);
	if (!ok)
		return err_set(e, 0, "grubenv: the variables do not fit in %d bytes",
			       GRUBENV_SECTOR);
	memset(out + n, '#', GRUBENV_SIZE - n);
	return 0;
}

int grubenv_load(struct grubenv *env, const char *path, struct err *e)
{
	char block[GRUBENV_SIZE + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t got;

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	got = read(fd, block, sizeof(block));
	close(fd);
	if (got < 0)
		return err_set(e, errno, "read %s", path);
	if (grubenv_parse(env, block, (size_t)got, e) < 0)
		return err_ctx(e, "%s", path);
	return 0;
}

/* Only padding in the second sector: writing the first alone is the whole change. (A
 * block another tool filled further is written whole, once.) */
static bool padding_after_sector(int fd)
{
	char old[GRUBENV_SIZE - GRUBENV_SECTOR];

	if (pread(fd, old, sizeof(old), GRUBENV_SECTOR) != (ssize_t)sizeof(old))
		return false;
	for (size_t i = 0; i < sizeof(old); i++)
		if (old[i] != '#')
			return false;
	return true;
}

int grubenv_store(const struct grubenv *env, const char *path, struct err *e)
{
	char block[GRUBENV_SIZE];
	int fd, ret = 0;
	size_t len;

	if (grubenv_format(env, block, e) < 0)
		return err_ctx(e, "%s", path);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	len = padding_after_sector(fd) ? GRUBENV_SECTOR : GRUBENV_SIZE;
	if (pwrite(fd, block, len, 0) != (ssize_t)len)
		ret = err_set(e, errno ? errno : EIO, "write %s", path);
	else if (fsync(fd) < 0)
		ret = err_set(e, errno, "fsync %s", path);
	close(fd);
	return ret;
}
