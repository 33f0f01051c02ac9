/* live.c: what ROOT carries for live media: the spec's images, and an empty ext4.
 *
 * A disk image's images go into STATE (bake.c). A live boot (the ISO, the network
 * boot: wisp.live=1) has no STATE, /var is a tmpfs, so ROOT itself carries each
 * archive of the spec marked `live: true` in IB_LIVE_IMAGES, in spec order (NNN-BASENAME, with
 * NNN-BASENAME.name holding images[].name when the spec gives one), and the live boot's
 * image-import unit imports them from there (docs/images.md). ROOT is what dm-verity
 * verifies: the archives' bytes and the names they are recorded under are covered by
 * the root hash, and the live media need no format of their own for them (the ISO's
 * root.img and the initramfs's carry ROOT already). The empty ext4 (IB_LIVE_STORE)
 * becomes the live boot's /var/lib/wisp, where the images are imported.
 */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

static int add_entry(struct ib_manifest *m, enum ib_mtype type, const char *path, const char *arg,
		     const char *origin, struct ib_err *err)
{
	struct ib_mentry e = {.type = type,
			      .path = (char *)path,
			      .arg = (char *)arg,
			      .len = arg ? strlen(arg) : 0,
			      .mode = type == IB_M_DIR ? 0755 : 0644,
			      .origin = origin};

	if (type == IB_M_DIR && ib_manifest_find(m, path))
		return 0; /* the manifest's own directory stays */
	return ib_manifest_add(m, &e, err);
}

/* An OCI layout directory: its directories and files, in name order (scandir), so
 * that the manifest is the same whatever order the host's readdir gives. */
static int add_tree(struct ib_manifest *m, const char *src, const char *dst, const char *origin,
		    struct ib_err *err)
{
	struct dirent **de = NULL;
	int n = scandir(src, &de, NULL, alphasort), ret = 0;

	if (n < 0)
		return ib_err_set(err, errno, "scandir %s", src);
	ret = add_entry(m, IB_M_DIR, dst, NULL, origin, err);
	for (int i = 0; i < n; i++) {
		char *s = ib_path_join(src, de[i]->d_name), *d = ib_path_join(dst, de[i]->d_name);
		struct stat st;

		if (ret < 0 || !strcmp(de[i]->d_name, ".") || !strcmp(de[i]->d_name, ".."))
			;
		else if (lstat(s, &st) < 0)
			ret = ib_err_set(err, errno, "%s", s);
		else if (S_ISDIR(st.st_mode))
			ret = add_tree(m, s, d, origin, err);
		else if (S_ISREG(st.st_mode))
			ret = add_entry(m, IB_M_FILE, d, s, origin, err);
		else
			ret = ib_err_set(err, 0, "%s: neither a file nor a directory", s);
		free(s), free(d), free(de[i]);
	}
	free(de);
	return ret;
}

static int add_image(struct ib_manifest *m, const struct ib_image *img, size_t i,
		     const char *origin, struct ib_err *err)
{
	char *copy = ib_strdup(img->archive);
	char *dst = ib_asprintf("%s/%03zu-%s", IB_LIVE_IMAGES, i, basename(copy));
	char *name = ib_asprintf("%s.name", dst);
	char *text = img->name ? ib_asprintf("%s\n", img->name) : NULL;
	struct stat st;
	int ret = stat(img->archive, &st) < 0 ? ib_err_set(err, errno, "%s", img->archive) : 0;

	if (ret == 0 && S_ISDIR(st.st_mode))
		ret = add_tree(m, img->archive, dst, origin, err);
	else if (ret == 0)
		ret = add_entry(m, IB_M_FILE, dst, img->archive, origin, err);
	if (ret == 0 && img->name) {
		struct ib_mentry e = {.type = IB_M_DATA,
				      .path = name,
				      .arg = text,
				      .len = strlen(text),
				      .mode = 0644,
				      .origin = origin};
		ret = ib_manifest_add(m, &e, err);
	}
	if (ret < 0)
		ib_err_ctx(err, "images[%zu] in ROOT for live media", i);
	free(copy), free(dst), free(name), free(text);
	return ret;
}

/* The empty ext4 a live boot's PID 1 grows in RAM for /var/lib/wisp
 * (init/pid1/livestore.c): a tmpfs cannot be idmapped on Linux 6.1. 4 MiB, about 17 KiB
 * in the compressed erofs (erofs-utils 1.5 stores zeros compressed, not as holes, so the
 * size is what costs); no journal (the RAM under it does not survive a crash anyway);
 * 4096 inodes per group, as STATE's 64 MiB has, so that it grows as STATE does; no
 * blocks reserved for root (the store runs as root). Reproducible as STATE (ext4.c). */
static int make_store_fs(const char *out, const char *name, time_t epoch, struct ib_err *err)
{
	char uuid_s[37], seed_s[37], ext[128], fake[64];
	const char *env[] = {fake, NULL};
	const char *argv[] = {"mke2fs", "-q", "-F", "-t", "ext4",	  "-b", "4096",	      "-N",
			      "4096",	"-m", "0",  "-O", "^has_journal", "-L", "wisp-store", "-U",
			      uuid_s,	"-E", ext,  out,  "1024",	  NULL};
	uuid_t uuid, seed;

	ib_uuid_derive(uuid, name, "live-store/ext4");
	ib_uuid_derive(seed, name, "live-store/ext4-hash-seed");
	uuid_unparse_lower(uuid, uuid_s);
	uuid_unparse_lower(seed, seed_s);
	snprintf(ext, sizeof(ext), "hash_seed=%s,root_owner=0:0", seed_s);
	snprintf(fake, sizeof(fake), "E2FSPROGS_FAKE_TIME=%lld", (long long)epoch);
	if (ib_run(argv, env, err) < 0)
		return ib_err_ctx(err, "%s", IB_LIVE_STORE);
	return 0;
}

static int add_store_fs(struct ib_manifest *m, const struct ib_spec *spec, const char *file,
			time_t epoch, const char *origin, struct ib_err *err)
{
	if (make_store_fs(file, spec->name, epoch, err) < 0)
		return -1;
	return add_entry(m, IB_M_FILE, IB_LIVE_STORE, file, origin, err);
}

int ib_live_files(struct ib_manifest *m, const struct ib_spec *spec, const char *store_file,
		  time_t epoch, const char *origin, struct ib_err *err)
{
	int ret = add_entry(m, IB_M_DIR, "/usr/share/wisp", NULL, origin, err);
	bool dir = false;

	if (ret == 0)
		ret = add_store_fs(m, spec, store_file, epoch, origin, err);
	/* Only those asked for: every slot and update bundle carries them, and a disk boot
	 * does not use them (its images are in STATE). */
	for (size_t i = 0; ret == 0 && i < spec->nimages; i++) {
		if (!spec->images[i].live)
			continue;
		if (!dir && (ret = add_entry(m, IB_M_DIR, IB_LIVE_IMAGES, NULL, origin, err)) < 0)
			break;
		dir = true;
		ret = add_image(m, &spec->images[i], i, origin, err);
	}
	return ret;
}
