/*
 * users.c: user and group names, from ETC/passwd and ETC/group.
 *
 * A number is taken as is (a container image's users need not be in the
 * host's files); a name must be there. No NSS: PID 1 reads the files.
 */
#include "decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool number(const char *s, unsigned long *v)
{
	uint64_t n;
	const char *end = dec_scan(s, &n);

	*v = (unsigned long)n;
	return end && *end == '\0' && n < 0xffffffffUL;
}

/*
 * The line of file whose field 0 (name) or, for a number, field 2 (id)
 * matches; fields split into f[0..3]. Returns 0 or -1.
 */
static int find_entry(const char *etc, const char *file, const char *name, char *line, size_t size,
		      char *f[4])
{
	char path[4096];
	unsigned long want = 0;
	bool byid = number(name, &want);
	int ret = -1;
	FILE *fp;

	if (fmt_path(path, sizeof(path), "%s/%s", etc, file) < 0 || !(fp = fopen(path, "re")))
		return -1;
	while (fgets(line, (int)size, fp)) {
		char *p = line;
		unsigned long id;

		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; i < 4; i++)
			f[i] = p ? strsep(&p, ":") : (char *)"";
		if (byid ? (number(f[2], &id) && id == want) : !strcmp(f[0], name)) {
			ret = 0;
			break;
		}
	}
	fclose(fp);
	return ret;
}

int user_lookup(const char *etc, const char *name, uid_t *uid, gid_t *gid, bool *has_gid)
{
	char line[1024], *f[4];
	unsigned long v;

	*has_gid = false;
	if (find_entry(etc, "passwd", name, line, sizeof(line), f) == 0 && number(f[2], &v)) {
		*uid = (uid_t)v;
		if (number(f[3], &v)) {
			*gid = (gid_t)v;
			*has_gid = true;
		}
		return 0;
	}
	if (number(name, &v)) {
		*uid = (uid_t)v;
		return 0;
	}
	return -1;
}

int group_lookup(const char *etc, const char *name, gid_t *gid)
{
	char line[1024], *f[4];
	unsigned long v;

	if (number(name, &v)) {
		*gid = (gid_t)v;
		return 0;
	}
	if (find_entry(etc, "group", name, line, sizeof(line), f) == 0 && number(f[2], &v)) {
		*gid = (gid_t)v;
		return 0;
	}
	return -1;
}
