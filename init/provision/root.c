/*
 * root.c: where provision works. On a host every path is the host's; with
 * `--root DIR` (golden tests on the build host, docs/provisioning.md) every
 * path it reads or writes is the same path under DIR, so a run against a
 * fake tree touches nothing else.
 */
#include "provision.h"

#include <stdio.h>

struct prov_opts prov = {.root = ""};

const char *rooted(const char *path, char *buf, size_t size)
{
	if (!*prov.root)
		return path;
	/* a cut path would name another file: an empty one names none */
	if (fmt_path(buf, size, "%s%s", prov.root, path) < 0)
		buf[0] = '\0';
	return buf;
}
