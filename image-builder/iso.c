/*
 * iso.c: a live CD of a Wisp disk image (`convert --format iso`,
 * docs/image-spec.md, "Cloud image formats"), laid out by xorriso:
 *
 *   /boot/grub/grub.cfg  the live menu entry (iso_boot.c)
 *   /boot/vmlinuz        slot A's kernel, from the image's ESP
 *   /boot/bios.img       GRUB i386-pc-eltorito: El Torito, BIOS, no emulation
 *   /boot/efi.img        a FAT image with EFI/BOOT/BOOTX64.EFI: El Torito, EFI
 *   /boot/boot.cat       the El Torito catalog
 *   /wisp/root.img       ROOT-A's bytes: the erofs and its verity tree
 *
 * The kernel reads the root from the CD's sectors, not through iso9660: it
 * needs root.img's first sector on the command line, and that is known only
 * once xorriso has placed the file. Rather than predict xorriso's layout
 * (which depends on its version and on every directory's size), grub.cfg is
 * written with a fixed-width mark (IB_ISO_LBA_MARK) where the sector goes, and
 * after the layout the file's block is read back with xorriso's report_lba and
 * written over the mark, in place: grub.cfg keeps its size and extent, and
 * ISO 9660 holds no checksum of file data. The same image and epoch give the
 * same layout and so the same bytes.
 *
 * Everything is made unprivileged (mtools, grub-mkimage, xorriso on files) in
 * the caller's private directory, which convert.c renames into place.
 */
#include "iso.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROOT_FILE "wisp/root.img"
#define CFG_FILE  "boot/grub/grub.cfg"

/* The tree xorriso writes: kernel, grub.cfg, ROOT from the image, GRUB's images. */
static int stage(const char *image, const char *dir, const char *tree, const char *uuid,
		 time_t epoch, size_t *mark, struct ib_err *err)
{
	char *boot = ib_path_join(tree, "boot/grub"), *wisp = ib_path_join(tree, "wisp");
	char *kernel = ib_path_join(tree, "boot/vmlinuz"), *root = ib_path_join(tree, ROOT_FILE);
	char *cfgpath = ib_path_join(tree, CFG_FILE), *cfg = NULL;
	struct ib_iso_slot s;
	uint64_t len = 0;
	int ret = -1;

	if (ib_mkdir_p(boot, 0755, err) < 0 || ib_mkdir_p(wisp, 0755, err) < 0 ||
	    ib_media_slot_a(image, dir, kernel, root, &s, &len, err) < 0)
		goto out;
	if (!(cfg = ib_iso_grub_cfg(&s, len / IB_SECTOR, mark)))
		ib_err_set(err, 0, "%s: /A/slot.cfg: wisp_dm is not NAME,UUID,MINOR,FLAGS,TABLE",
			   image);
	else if (ib_write_file(cfgpath, cfg, strlen(cfg), 0644, err) == 0 &&
		 ib_iso_grub_images(dir, tree, uuid, epoch, err) == 0)
		ret = 0;
	ib_iso_slot_free(&s);
out:
	free(boot), free(wisp), free(kernel), free(root), free(cfgpath), free(cfg);
	return ret;
}

/* xorriso's mkisofs emulation: Rock Ridge, owners and modes fixed; El Torito's
 * BIOS entry (GRUB, no emulation, the boot info table GRUB's cdboot reads) and
 * its UEFI entry (the FAT image). */
static const struct {
	const char *opt, *arg; /* arg NULL: none */
} mkisofs_opts[] = {
    {"-R", NULL},
    {"-V", "WISP_LIVE"},
    {"-uid", "0"},
    {"-gid", "0"},
    {"-file-mode", "0444"},
    {"-dir-mode", "0555"},
    {"-b", "boot/bios.img"},
    {"-no-emul-boot", NULL},
    {"-boot-load-size", "4"},
    {"-boot-info-table", NULL},
    {"-c", "boot/boot.cat"},
    {"-eltorito-alt-boot", NULL},
    {"-e", "boot/efi.img"},
    {"-no-emul-boot", NULL},
};

/* The dates (SOURCE_DATE_EPOCH's) make the volume's UUID too, by which GRUB finds
 * the CD. */
static int xorriso(const char *tree, const char *out, const char *date, struct ib_err *err)
{
	char *mdate = ib_asprintf("--modification-date=%s", date);
	const char *argv[64] = {"xorriso", "-no_rc", "-as",
				"mkisofs", "-quiet", "-o",
				out,	   mdate,    "--set_all_file_dates",
				date};
	size_t n = 10;
	int ret;

	for (size_t i = 0; i < sizeof(mkisofs_opts) / sizeof(mkisofs_opts[0]); i++) {
		argv[n++] = mkisofs_opts[i].opt;
		if (mkisofs_opts[i].arg)
			argv[n++] = mkisofs_opts[i].arg;
	}
	argv[n++] = tree;
	argv[n] = NULL;
	ret = ib_run(argv, NULL, err);
	free(mdate);
	return ret < 0 ? ib_err_ctx(err, "xorriso") : 0;
}

/* FILE's first block in ISO, from xorriso's report:
 * "File data lba:  0 ,  BLOCK ,  BLOCKS ,  BYTES , '/PATH'", one extent. */
static int lba_of(const char *iso, const char *file, uint64_t *lba, struct ib_err *err)
{
	static char out[8192];
	char *path = ib_asprintf("/%s", file);
	const char *argv[] = {"xorriso", "-no_rc", "-indev",	 iso,  "-find",
			      path,	 "-exec",  "report_lba", "--", NULL};
	const char *line;
	unsigned long long xt, block;
	int ret = -1;

	if (ib_run_out(argv, NULL, out, sizeof(out), NULL, 0, err) < 0)
		ib_err_ctx(err, "xorriso report_lba %s", path);
	else if (!(line = strstr(out, "File data lba:")) ||
		 sscanf(line, "File data lba: %llu , %llu ,", &xt, &block) != 2 || xt != 0 ||
		 strstr(line + 1, "File data lba:"))
		ib_err_set(err, 0, "%s: xorriso reports no single extent for %s", iso, path);
	else
		*lba = block, ret = 0;
	free(path);
	return ret;
}

/* The ROOT file's sector (512 bytes) written over the mark in grub.cfg. */
static int patch(const char *iso, size_t mark, struct ib_err *err)
{
	uint64_t cfg, root;
	char now[sizeof(IB_ISO_LBA_MARK)], digits[sizeof(IB_ISO_LBA_MARK) + 1];
	int fd, ret = -1;
	off_t at;

	if (lba_of(iso, CFG_FILE, &cfg, err) < 0 || lba_of(iso, ROOT_FILE, &root, err) < 0)
		return -1;
	/* zero-padded: dm-linear reads the offset as a decimal number */
	snprintf(digits, sizeof(digits), "%010llu",
		 (unsigned long long)(root * (IB_ISO_BLOCK / IB_SECTOR)));
	if (strlen(digits) != strlen(IB_ISO_LBA_MARK))
		return ib_err_set(err, EFBIG, "%s: the ROOT file's sector does not fit", iso);
	at = (off_t)(cfg * IB_ISO_BLOCK + mark);
	if ((fd = open(iso, O_RDWR | O_CLOEXEC)) < 0)
		return ib_err_set(err, errno, "open %s", iso);
	if (pread(fd, now, strlen(IB_ISO_LBA_MARK), at) != (ssize_t)strlen(IB_ISO_LBA_MARK) ||
	    memcmp(now, IB_ISO_LBA_MARK, strlen(IB_ISO_LBA_MARK)) != 0)
		ib_err_set(err, 0, "%s: no %s in %s at block %llu", iso, IB_ISO_LBA_MARK, CFG_FILE,
			   (unsigned long long)cfg);
	else
		ret = ib_pwrite_all(fd, digits, strlen(digits), (uint64_t)at, iso, err);
	close(fd);
	return ret;
}

int ib_iso_make(const char *image, const char *dir, const char *out, time_t epoch,
		struct ib_err *err)
{
	char *tree = ib_path_join(dir, "tree"), date[32], uuid[32];
	struct tm tm;
	size_t mark = 0;
	int ret = -1;

	gmtime_r(&epoch, &tm);
	strftime(date, sizeof(date), "%Y%m%d%H%M%S00", &tm);
	strftime(uuid, sizeof(uuid), "%Y-%m-%d-%H-%M-%S-00", &tm);
	if (stage(image, dir, tree, uuid, epoch, &mark, err) == 0 &&
	    xorriso(tree, out, date, err) == 0 && patch(out, mark, err) == 0)
		ret = 0;
	free(tree);
	return ret;
}
