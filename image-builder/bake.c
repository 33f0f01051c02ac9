/* bake.c: the spec's images, baked into STATE.
 *
 * Each archive is imported at build time by the host build of
 * containerd-lite (the very verification the running host does) into a
 * store staged under the temporary directory, which mke2fs -d copies into
 * STATE as /var/lib/wisp/images. The import is lazy (--no-unpack): the
 * builder is unprivileged and a stored layer holds what only root can
 * create (overlay whiteouts as 0/0 devices, trusted.* xattrs), so the host
 * makes the layers from the verified blobs when they are first used
 * (docs/images.md). An `import: boot` archive is verified the same way
 * into a scratch store, then copied to /var/lib/wisp/import for init.
 *
 * mke2fs -d copies owners, modes and times from the staged files. Modes
 * are made independent of the umask (containerd-lite runs under 022),
 * mtimes and atimes are set to SOURCE_DATE_EPOCH here, and ib_bake_fix()
 * sets owners to 0:0 and ctimes (which nothing unprivileged can set on
 * the host) to the epoch with debugfs, so STATE stays reproducible.
 */
#include "image-builder.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IB_STORE_DIR  "lib/wisp/images" /* /var/lib/wisp/images */
#define IB_IMPORT_DIR "lib/wisp/import" /* /var/lib/wisp/import, init's drop directory */

static int mkdir_mode(const char *path, mode_t mode, struct ib_err *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return ib_err_set(err, errno, "mkdir %s", path);
	if (chmod(path, mode) < 0)
		return ib_err_set(err, errno, "chmod %s", path);
	return 0;
}

/* containerd-lite's own error line says it all ("containerd-lite: image
 * import X: blob sha256:...: sha256 is ..."); else ib_run's message. */
static int import_failed(char *errout, struct ib_err *err)
{
	char *line = errout + strlen(errout);

	while (line > errout && line[-1] == '\n')
		*--line = '\0';
	while (line > errout && line[-1] != '\n')
		line--;
	if (strncmp(line, "containerd-lite: ", 17) == 0 && !ib_interrupted)
		ib_err_set(err, 0, "%s", line);
	return -1;
}

/* containerd-lite prints "REF DIGEST" for an import. */
static int import(const char *cl, const char *store, struct ib_image *img, struct ib_err *err)
{
	const char *argv[] = {cl,	"image",   "--store",	 store, "import", "--no-unpack",
			      "--name", img->name, img->archive, NULL};
	char out[1024], errout[2048], *sp;

	if (!img->name) /* the archive's own reference */
		argv[6] = img->archive, argv[7] = NULL;
	errout[0] = '\0';
	if (ib_run_out(argv, NULL, out, sizeof(out), errout, sizeof(errout), err) < 0)
		return import_failed(errout, err);
	out[strcspn(out, "\n")] = '\0';
	sp = strrchr(out, ' ');
	if (!sp || strlen(sp + 1) != 71 || strncmp(sp + 1, "sha256:", 7) != 0)
		return ib_err_set(err, 0, "%s: unexpected output \"%s\"", cl, out);
	*sp = '\0';
	img->ref = ib_strdup(out);
	memcpy(img->digest, sp + 1, 72);
	return 0;
}

/* import: boot: the verified archive as /var/lib/wisp/import/BASE, and
 * BASE.name with the reference to record when the spec names one. */
static int drop(const char *dir, const struct ib_image *img, struct ib_err *err)
{
	const char *base =
	    strrchr(img->archive, '/') ? strrchr(img->archive, '/') + 1 : img->archive;
	char *idir = ib_path_join(dir, IB_IMPORT_DIR), *dst = ib_path_join(idir, base);
	char *name = ib_asprintf("%s.name", dst);
	char *text = img->name ? ib_asprintf("%s\n", img->name) : NULL;
	int ret = mkdir_mode(idir, 0755, err);

	if (ret == 0 && access(dst, F_OK) == 0)
		ret = ib_err_set(err, 0, "%s: two archives named %s for import: boot",
				 IB_IMPORT_DIR, base);
	if (ret == 0)
		ret = ib_copy_file(img->archive, dst, 0644, err);
	if (ret == 0 && img->name)
		ret = ib_write_file(name, text, strlen(text), 0644, err);
	free(idir), free(dst), free(name), free(text);
	return ret;
}

static int bake_one(struct ib_spec *spec, size_t i, const char *cl, const char *dir,
		    const char *scratch, struct ib_err *err)
{
	struct ib_image *img = &spec->images[i];
	char *store = img->at_boot ? ib_strdup(scratch) : ib_path_join(dir, IB_STORE_DIR);
	int ret = import(cl, store, img, err);

	if (ret == 0 && img->at_boot)
		ret = drop(dir, img, err);
	free(store);
	if (ret < 0 && !ib_interrupted)
		ib_err_ctx(err, "%s:%u: images[%zu] %s", spec->file, img->line, i, img->archive);
	return ret;
}

static time_t nftw_epoch;

static int date_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct timespec ts[2] = {{.tv_sec = nftw_epoch}, {.tv_sec = nftw_epoch}};

	(void)st, (void)flag, (void)ftw;
	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

int ib_bake_stage(struct ib_spec *spec, const char *cl, const char *dir, const char *scratch,
		  time_t epoch, struct ib_err *err)
{
	char *lib = ib_path_join(dir, "lib"), *wisp = ib_path_join(dir, "lib/wisp");
	mode_t old = umask(022);
	int ret =
	    access(cl, X_OK) < 0
		? ib_err_set(err, errno, "images: containerd-lite %s (see --containerd-lite)", cl)
		: mkdir_mode(lib, 0755, err);

	if (ret == 0)
		ret = mkdir_mode(wisp, 0755, err);
	for (size_t i = 0; ret == 0 && i < spec->nimages; i++)
		ret = bake_one(spec, i, cl, dir, scratch, err);
	umask(old);
	nftw_epoch = epoch;
	/* children first: dating an entry must not be undone by its siblings */
	if (ret == 0 && nftw(dir, date_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		ret = ib_err_set(err, errno, "set mtimes under %s", dir);
	free(lib), free(wisp);
	return ret;
}

/* ---- owners and ctimes, after mke2fs -d ---------------------------------- */

static FILE *nftw_cmds;
static size_t nftw_prefix;

static int fix_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + nftw_prefix;

	(void)st, (void)flag;
	if (ftw->level == 0)
		return 0; /* the root: mke2fs -E root_owner=0:0 and the fake time */
	fprintf(nftw_cmds, "sif %s uid 0\nsif %s gid 0\nsif %s ctime @%lld\n", rel, rel, rel,
		(long long)nftw_epoch);
	return 0;
}

/* debugfs exits 0 whatever its commands do: any stderr line but its
 * banner ("debugfs 1.47.0 (5-Feb-2023)") is an error. */
static int debugfs_errors(char *text, struct ib_err *err)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "debugfs ", 8) != 0 && *line)
			return ib_err_set(err, 0, "STATE (ext4): debugfs: %s", line);
	return 0;
}

int ib_bake_fix(const char *img, const char *dir, time_t epoch, struct ib_err *err)
{
	char *cmds = ib_asprintf("%s.debugfs", img), fake[64], errout[8192];
	const char *env[] = {fake, NULL};
	const char *argv[] = {"debugfs", "-w", "-f", cmds, img, NULL};
	int ret = 0;

	snprintf(fake, sizeof(fake), "E2FSPROGS_FAKE_TIME=%lld", (long long)epoch);
	if (!(nftw_cmds = fopen(cmds, "we"))) {
		ret = ib_err_set(err, errno, "create %s", cmds);
		free(cmds);
		return ret;
	}
	nftw_prefix = strlen(dir);
	nftw_epoch = epoch;
	if (nftw(dir, fix_one, 16, FTW_PHYS) != 0)
		ret = ib_err_set(err, errno, "walk %s", dir);
	if ((ferror(nftw_cmds) | fclose(nftw_cmds)) && ret == 0)
		ret = ib_err_set(err, errno, "write %s", cmds);
	if (ret == 0)
		ret = ib_run_out(argv, env, NULL, 0, errout, sizeof(errout), err);
	if (ret == 0)
		ret = debugfs_errors(errout, err);
	free(cmds);
	return ret;
}
