/* runtime/kerneltree.c: a mount the spec places outside /dev, /proc and
 * /sys must not land in them through a symlink of the root.
 *
 * The spec's author (or `image bundle`, whose image Volumes are refused
 * under those trees by their text) chose the destination's text; the
 * rootfs chooses its symlinks, and an image layer or a container writing
 * its own persistent upper can make /data a link to /dev or ../proc. The
 * mount would then cover the container's /dev (its nodes and mask
 * sources at the next start: the CVE-2025-31133 class), /proc or /sys
 * (what the runtime masks or makes read-only). The resolution beneath
 * the root (rootpath.c) walks the path itself, component by component:
 * it stops where it enters one of these trees that the text does not
 * name, before it looks at or makes anything there (through /proc's
 * magic links too), and comparing first components costs no system
 * call. A destination written under the same tree (/dev/pts,
 * /proc, a privileged bind of /dev) is the author's choice and passes,
 * as does a link that stays out of these trees (/var/run -> /run). */
#include "cl-private.h"
#include <string.h>

/* "/" runs and "." are skipped; ".." never reaches here (refused by
 * mounts.c, absent from a resolved path). */
const char *cl_kernel_tree(const char *path)
{
	static const char *const trees[] = {"dev", "proc", "sys"};
	size_t n;

	for (;;) {
		while (*path == '/')
			path++;
		n = strcspn(path, "/");
		if (n != 1 || path[0] != '.')
			break;
		path += n;
	}
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (n == strlen(trees[i]) && strncmp(path, trees[i], n) == 0)
			return trees[i];
	return NULL;
}

int cl_kernel_refused(const char *what, const char *path, const char *rel, struct cl_err *e)
{
	return cl_error(e, 0, "%s %s: resolves into %s through a symlink in the root (refused)",
			what, path, rel);
}
