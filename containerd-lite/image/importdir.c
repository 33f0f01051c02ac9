/* image/importdir.c: `image import-dir DIR`, the boot-time drop directory
 * (init runs it as the oneshot unit image-import when DIR has entries).
 *
 * Every entry of DIR is an archive (OCI layout tar or directory, or a
 * docker-archive), imported in name order. NAME.name beside it, if there,
 * holds the reference to record (as --name). An imported archive is
 * removed; a failed one is moved to DIR/failed/ with NAME.error holding
 * the error line, so that it is not retried at every boot and the reason
 * stays. Names starting with '.' are skipped: a file being copied in
 * under a dot name and renamed when complete is never half imported. */
#include "image.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAILED_DIR "failed"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_archive(const struct dirent *de)
{
	return de->d_name[0] != '.' && strcmp(de->d_name, FAILED_DIR) != 0 &&
	       !has_suffix(de->d_name, ".name");
}

/* The first line of NAME.name, or NULL (none, or unreadable: a FIFO or
 * a symlink is not read). */
static char *sidecar_name(const char *dir, const char *name)
{
	char p[4096];
	size_t len;
	struct cl_err ignored;
	char *s;

	img_fmt(p, sizeof(p), "%s.name", name);
	if (!(s = img_slurp(dir, p, 1024, &len, &ignored)))
		return NULL;
	s[strcspn(s, "\r\n")] = 0;
	return s;
}

static void forget(const char *path)
{
	char p[4096];
	struct cl_err ignored;

	img_rm_tree(path, &ignored);
	img_fmt(p, sizeof(p), "%s.name", path);
	unlink(p);
}

/* DIR/failed/NAME (and NAME.name), and NAME.error with the reason. */
static void set_aside(const char *dir, const char *name, const char *why)
{
	char from[4096], to[4096];
	FILE *f;

	img_fmt(to, sizeof(to), "%s/%s", dir, FAILED_DIR);
	mkdir(to, 0700);
	img_fmt(from, sizeof(from), "%s/%s", dir, name);
	img_fmt(to, sizeof(to), "%s/%s/%s", dir, FAILED_DIR, name);
	if (rename(from, to) < 0) {
		forget(from); /* never retried at every boot */
		return;
	}
	img_fmt(from, sizeof(from), "%s/%s.name", dir, name);
	img_fmt(to, sizeof(to), "%s/%s/%s.name", dir, FAILED_DIR, name);
	rename(from, to);
	img_fmt(to, sizeof(to), "%s/%s/%s.error", dir, FAILED_DIR, name);
	if ((f = fopen(to, "we"))) {
		fprintf(f, "%s\n", why);
		fclose(f);
	}
}

static int import_entry(const struct img_opts *o, const char *dir, const char *name)
{
	struct img_opts one = *o;
	char path[4096], digest[72], *ref = NULL, *as;
	struct cl_err e = {0};

	struct stat st;
	int r;

	img_fmt(path, sizeof(path), "%s/%s", dir, name);
	if ((as = sidecar_name(dir, name)))
		one.name = as;
	/* the drop directory's entries themselves, not where they point */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		r = cl_error(&e, 0, "image import %s: a symlink (not followed)", path);
	else
		r = img_import_one(&one, path, &ref, digest, &e);
	cl_print_name(stdout, name); /* a file's name, and then an archive's */
	if (r < 0) {
		printf(": failed: %s\n", e.msg);
		set_aside(dir, name, e.msg);
		free(as);
		return -1;
	}
	fputs(": imported ", stdout);
	cl_print_name(stdout, ref);
	printf(" %s\n", digest);
	forget(path);
	free(ref);
	free(as);
	return 0;
}

int img_import_dir(const struct img_opts *o, const char *dir, struct cl_err *err)
{
	struct dirent **v;
	int n = scandir(dir, &v, is_archive, alphasort), failed = 0;

	if (n < 0)
		return cl_error(err, errno, "image import-dir %s", dir);
	for (int i = 0; i < n; i++) {
		failed += import_entry(o, dir, v[i]->d_name) < 0;
		fflush(stdout);
		free(v[i]);
	}
	free(v);
	if (failed)
		return cl_error(err, 0, "image import-dir %s: %d of %d failed (see %s/%s)", dir,
				failed, n, dir, FAILED_DIR);
	return 0;
}
