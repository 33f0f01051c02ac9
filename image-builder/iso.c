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

struct part {
	uint64_t off, size;
};

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Does a GPT entry's UTF-16LE name say NAME (ASCII)? */
static bool named(const uint8_t *e, const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (e[56 + 2 * i] != (uint8_t)name[i] || e[57 + 2 * i])
			return false;
	return e[56 + 2 * i] == 0 && e[57 + 2 * i] == 0;
}

/* The ESP and ROOT-A of the image's primary GPT, by name (gpt.c writes them). */
static int find_parts(int fd, const char *image, struct part *esp, struct part *root,
		      struct ib_err *err)
{
	uint8_t hdr[IB_SECTOR], e[IB_GPT_ENTRY_SIZE];
	uint64_t lba;
	uint32_t n, size;

	esp->size = root->size = 0;
	if (pread(fd, hdr, sizeof(hdr), IB_SECTOR) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "EFI PART", 8) != 0)
		return ib_err_set(err, 0, "%s: not a GPT disk image", image);
	lba = get_le(hdr + 72, 8), n = (uint32_t)get_le(hdr + 80, 4);
	size = (uint32_t)get_le(hdr + 84, 4);
	for (uint32_t i = 0; i < n && i < IB_GPT_ENTRIES && size >= sizeof(e); i++) {
		struct part *p = NULL;

		if (pread(fd, e, sizeof(e), (off_t)(lba * IB_SECTOR + i * size)) !=
		    (ssize_t)sizeof(e))
			return ib_err_set(err, errno, "%s: read GPT entry %u", image, i);
		if (named(e, "ESP"))
			p = esp;
		else if (named(e, "ROOT-A"))
			p = root;
		if (p) {
			p->off = get_le(e + 32, 8) * IB_SECTOR;
			p->size = (get_le(e + 40, 8) + 1) * IB_SECTOR - p->off;
		}
	}
	if (!esp->size || !root->size)
		return ib_err_set(err, 0, "%s: no %s partition in its GPT", image,
				  esp->size ? "ROOT-A" : "ESP");
	return 0;
}

/* One file of the image's ESP, read where it lies (mtools' IMAGE@@OFFSET). */
static int esp_get(const char *image, const struct part *esp, const char *file, const char *dst,
		   struct ib_err *err)
{
	static const char *const env[] = {"MTOOLS_SKIP_CHECK=1", NULL};
	char *img = ib_asprintf("%s@@%llu", image, (unsigned long long)esp->off);
	const char *argv[] = {"mcopy", "-n", "-i", img, file, dst, NULL};
	int ret = ib_run(argv, env, err);

	free(img);
	return ret < 0 ? ib_err_ctx(err, "%s: the ESP's %s", image, file + 2) : 0;
}

/* ROOT-A's first LEN bytes as DST. */
static int copy_root(int fd, const char *image, const struct part *root, uint64_t len,
		     const char *dst, struct ib_err *err)
{
	static char buf[1 << 20];
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), ret = 0;

	if (out < 0)
		return ib_err_set(err, errno, "create %s", dst);
	for (uint64_t at = 0; at < len && ret == 0;) {
		size_t n = len - at < sizeof(buf) ? (size_t)(len - at) : sizeof(buf);

		ssize_t got = pread(fd, buf, n, (off_t)(root->off + at));

		if (got != (ssize_t)n)
			ret = ib_err_set(err, got < 0 ? errno : 0, "%s: ROOT-A: %s at byte %llu",
					 image, got < 0 ? "read error" : "the image ends",
					 (unsigned long long)at);
		else
			ret = ib_pwrite_all(out, buf, n, at, dst, err);
		at += n;
	}
	close(out);
	return ret;
}

/* grub.cfg for slot A of the image, its mark's offset in *mark, and the ROOT
 * file's length in *root_len. */
static int slot_a(const char *tmp, uint64_t root_size, char **cfg, size_t *mark, uint64_t *root_len,
		  struct ib_err *err)
{
	struct ib_iso_slot s;
	char *text = NULL;
	size_t len;
	int ret = -1;

	if (ib_read_file(tmp, &text, &len, err) < 0 || ib_iso_slot_parse(text, &s, err) < 0)
		goto out;
	if (ib_iso_root_bytes(s.dm, root_len, err) == 0) {
		if (*root_len > root_size)
			ib_err_set(err, 0,
				   "ROOT-A: its tree ends at %llu bytes, past the partition",
				   (unsigned long long)*root_len);
		else if (!(*cfg = ib_iso_grub_cfg(&s, *root_len / IB_SECTOR, mark)))
			ib_err_set(err, 0,
				   "/A/slot.cfg: wisp_dm is not NAME,UUID,MINOR,FLAGS,TABLE");
		else
			ret = 0;
	}
	ib_iso_slot_free(&s);
out:
	free(text);
	return ret;
}

/* The tree xorriso writes: kernel, grub.cfg, ROOT from the image, GRUB's images. */
static int stage(const char *image, const char *dir, const char *tree, const char *uuid,
		 time_t epoch, size_t *mark, struct ib_err *err)
{
	char *boot = ib_path_join(tree, "boot/grub"), *wisp = ib_path_join(tree, "wisp");
	char *slotcfg = ib_path_join(dir, "slot.cfg"), *kernel = ib_path_join(tree, "boot/vmlinuz");
	char *root = ib_path_join(tree, ROOT_FILE), *cfgpath = ib_path_join(tree, CFG_FILE);
	struct part esp, part;
	char *cfg = NULL;
	uint64_t len = 0;
	int fd = open(image, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0) {
		ib_err_set(err, errno, "open %s", image);
		goto out;
	}
	if (find_parts(fd, image, &esp, &part, err) < 0 || ib_mkdir_p(boot, 0755, err) < 0 ||
	    ib_mkdir_p(wisp, 0755, err) < 0 ||
	    esp_get(image, &esp, "::/A/slot.cfg", slotcfg, err) < 0 ||
	    esp_get(image, &esp, "::/A/vmlinuz", kernel, err) < 0 ||
	    (slot_a(slotcfg, part.size, &cfg, mark, &len, err) < 0 &&
	     ib_err_ctx(err, "%s", image) < 0) ||
	    ib_write_file(cfgpath, cfg, strlen(cfg), 0644, err) < 0 ||
	    copy_root(fd, image, &part, len, root, err) < 0 ||
	    ib_iso_grub_images(dir, tree, uuid, epoch, err) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(boot), free(wisp), free(slotcfg), free(kernel), free(root), free(cfgpath), free(cfg);
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
