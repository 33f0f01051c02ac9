/* stage.c: materialise the manifest as a directory tree for mkfs.erofs.
 *
 * mkfs.erofs 1.5 only reads directories, so ROOT is staged as plain files.
 * Directories are created owner-writable and get their final modes last,
 * so that read-only directories (0555) can still be filled without
 * privileges; all mtimes are then set to SOURCE_DATE_EPOCH, children
 * before parents, because creating an entry touches its directory.
 */
#include "image-builder.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int entry_err(const struct ib_mentry *e, struct ib_err *err)
{
	return ib_err_ctx(err, "%s:%u: %s", e->origin, e->line, e->path);
}

static int stage_file(const struct ib_mentry *e, const char *dst, struct ib_err *err)
{
	struct stat st;

	if (stat(e->arg, &st) < 0)
		return ib_err_set(err, errno, "source %s", e->arg);
	if (!S_ISREG(st.st_mode))
		return ib_err_set(err, 0, "source %s is not a regular file", e->arg);
	return ib_copy_file(e->arg, dst, e->mode, err);
}

static int stage_one(const struct ib_mentry *e, const char *dst, struct ib_err *err)
{
	switch (e->type) {
	case IB_M_DIR:
		if (strcmp(e->path, "/") == 0)
			return 0;
		if (mkdir(dst, 0700) < 0)
			return ib_err_set(err, errno, "mkdir %s", dst);
		return 0;
	case IB_M_FILE:
		return stage_file(e, dst, err);
	case IB_M_SLINK:
		if (symlink(e->arg, dst) < 0)
			return ib_err_set(err, errno, "symlink %s", dst);
		return 0;
	case IB_M_DATA:
		return ib_write_file(dst, e->arg, e->len, e->mode, err);
	}
	return ib_err_set(err, 0, "unknown entry type");
}

static int set_owner(const struct ib_mentry *e, const char *dst, struct ib_err *err)
{
	if (lchown(dst, e->uid, e->gid) < 0)
		return ib_err_set(err, errno,
				  "owner %u:%u (owners other than 0:0 are staged "
				  "with lchown, which needs root)",
				  (unsigned)e->uid, (unsigned)e->gid);
	return 0;
}

/* Final modes and mtimes, children first (the manifest lists parents first). */
static int finish_one(const struct ib_mentry *e, const char *dst, time_t epoch, struct ib_err *err)
{
	if (e->type == IB_M_DIR && chmod(dst, e->mode) < 0)
		return ib_err_set(err, errno, "chmod %s", dst);
	return ib_set_mtime(dst, epoch, err);
}

int ib_stage_tree(const struct ib_manifest *m, const char *dir, time_t epoch, struct ib_err *err)
{
	bool owners = !ib_manifest_all_root(m);
	int ret = 0;

	if (chmod(dir, 0755) < 0)
		return ib_err_set(err, errno, "chmod %s", dir);
	for (size_t i = 0; i < m->n && ret == 0; i++) {
		const struct ib_mentry *e = &m->e[i];
		char *dst = ib_path_join(dir, e->path);

		ret = ib_check_interrupt(err);
		if (ret == 0)
			ret = stage_one(e, dst, err);
		if (ret == 0 && owners)
			ret = set_owner(e, dst, err);
		if (ret < 0 && !ib_interrupted)
			entry_err(e, err);
		free(dst);
	}
	for (size_t i = m->n; i-- > 0 && ret == 0;) {
		char *dst = ib_path_join(dir, m->e[i].path);

		if ((ret = finish_one(&m->e[i], dst, epoch, err)) < 0)
			entry_err(&m->e[i], err);
		free(dst);
	}
	if (ret == 0)
		ret = ib_set_mtime(dir, epoch, err);
	return ret;
}
