/* image_user.c: an image's User ("name", "uid", "name:group", "uid:gid")
 * resolved in the image's own /etc/passwd and /etc/group, read beneath
 * its root without following symlinks (a hostile image could point
 * /etc/passwd at the host's). */
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static FILE *open_etc(int root, const char *name, struct cl_err *err)
{
	int etc = img_open_dir_beneath(root, "etc", false, err), fd;

	if (etc < 0)
		return NULL;
	fd = openat(etc, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(etc);
	if (fd < 0)
		return cl_error(err, errno, "/etc/%s of the image", name), NULL;
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
