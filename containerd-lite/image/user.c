/* image/user.c: an image's User ("name", "uid", "name:group", "uid:gid")
 * resolved in the image's own /etc/passwd and /etc/group, read beneath
 * its root without following symlinks (a hostile image could point
 * /etc/passwd at the host's). */
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool numeric(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Larger than any real /etc/passwd or /etc/group (100 000 users fit): the
 * container writes these files in its upper layer, and a sparse 16 TiB one
 * would have every start read it for hours, as root, in init's cgroup. */
#define ETC_MAX (8 << 20)

/* A regular file, no symlink on the way: a FIFO (a container can make
 * one in its upper layer) would hang the next start, a device be read. */
static FILE *open_etc(int root, const char *name, struct cl_err *err)
{
	char rel[64];
	struct stat st;
	int fd;

	img_fmt(rel, sizeof(rel), "etc/%s", name);
	if ((fd = img_open_file_at(root, rel, &st, err)) < 0)
		return cl_error_wrap(err, "/etc/%s of the image", name), NULL;
	if (st.st_size > ETC_MAX) {
		close(fd);
		return cl_error(err, 0, "/etc/%s of the image: %lld bytes, more than %d MiB", name,
				(long long)st.st_size, ETC_MAX >> 20),
		       NULL;
	}
	return fdopen(fd, "r");
}

/* Field 3 (and 4) of the line whose field 1 is name: uid (gid) or gid. */
static int lookup(int root, const char *file, const char *name, uint32_t *id, uint32_t *gid,
		  struct cl_err *err)
{
	FILE *f = open_etc(root, file, err);
	char line[1024];

	if (!f)
		return cl_error_wrap(err, "user %s", name);
	while (fgets(line, sizeof(line), f)) {
		char *save, *n = strtok_r(line, ":\n", &save), *x, *i, *g;

		x = strtok_r(NULL, ":\n", &save);
		i = strtok_r(NULL, ":\n", &save);
		g = strtok_r(NULL, ":\n", &save);
		if (!n || !x || !i || strcmp(n, name) != 0)
			continue;
		fclose(f);
		if (!numeric(i, id) || (gid && (!g || !numeric(g, gid))))
			return cl_error(err, 0, "user %s: bad line in /etc/%s", name, file);
		return 0;
	}
	fclose(f);
	return cl_error(err, 0, "user %s: not in the image's /etc/%s", name, file);
}

int img_resolve_user(int root, const char *spec, uint32_t *uid, uint32_t *gid, struct cl_err *err)
{
	char user[256], *colon;
	uint32_t pw_gid = 0;

	*uid = *gid = 0;
	if (!spec || !*spec)
		return 0;
	snprintf(user, sizeof(user), "%s", spec);
	colon = strchr(user, ':');
	if (colon)
		*colon++ = 0;
	/* a numeric uid needs no passwd entry; its group is then 0 */
	if (!numeric(user, uid) && lookup(root, "passwd", user, uid, &pw_gid, err) < 0)
		return -1;
	*gid = pw_gid;
	if (colon && !numeric(colon, gid) && lookup(root, "group", colon, gid, NULL, err) < 0)
		return -1;
	return 0;
}

/* line's ':'-separated fields, in place; returns how many (at most max). */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	for (char *p = line; p && n < max; n++) {
		f[n] = p;
		if ((p = strchr(p, ':')))
			*p++ = 0;
	}
	return n;
}

static bool member_of(char *members, const char *name)
{
	char *save = NULL;

	for (char *m = strtok_r(members, ",\n", &save); m; m = strtok_r(NULL, ",\n", &save))
		if (strcmp(m, name) == 0)
			return true;
	return false;
}

size_t img_user_groups(int root, const char *spec, uint32_t primary, uint32_t *gids, size_t max)
{
	char user[256], line[4096];
	struct cl_err ignored;
	size_t n = 0;
	uint32_t id;
	FILE *f;

	snprintf(user, sizeof(user), "%s", spec ? spec : "");
	user[strcspn(user, ":")] = 0;
	/* a numeric user has no name to be a member by; no /etc/group: no groups */
	if (!*user || numeric(user, &id) || !(f = open_etc(root, "group", &ignored)))
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *f[4]; /* name:password:gid:members */

		if (fields(line, f, 4) == 4 && numeric(f[2], &id) && id != primary &&
		    member_of(f[3], user))
			gids[n++] = id;
	}
	fclose(f);
	return n;
}
