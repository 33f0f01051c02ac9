/* runtime/userns.c: uid/gid mappings, written by the parent (which holds
 * CAP_SETUID/CAP_SETGID in the parent namespace, so any host range may be
 * mapped, and setgroups need not be denied). */
#include "cl-private.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int write_map(pid_t pid, const char *file, const struct cl_idmap *m, size_t n,
		     struct cl_err *e)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container,
					m[i].host, m[i].size);
	if (len >= sizeof(buf))
		return cl_error(e, E2BIG, "%s: too many mappings", file);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (cl_write_file(path, buf, len, e) < 0) {
		/* name the mapping: "write uid_map \"0 100000 65536\": ..." */
		while (len && buf[len - 1] == '\n')
			buf[--len] = 0;
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ',';
		return cl_error(e, e->num, "write %s \"%.3000s\"", file, buf);
	}
	return 0;
}

int cl_userns_write(pid_t pid, const struct cl_idmap *uids, size_t nuids,
		    const struct cl_idmap *gids, size_t ngids, struct cl_err *e)
{
	if (write_map(pid, "uid_map", uids, nuids, e) < 0 ||
	    write_map(pid, "gid_map", gids, ngids, e) < 0)
		return -1;
	return 0;
}

int cl_userns_write_maps(pid_t pid, const struct cl_spec *s, struct cl_err *e)
{
	return cl_userns_write(pid, s->uid_maps, s->nuid_maps, s->gid_maps, s->ngid_maps, e);
}
