/*
 * convert.c: a raw Wisp disk image in the format a cloud imports
 * (docs/image-spec.md, "Cloud image formats").
 *
 * qemu-img writes qcow2, VHD and VMDK (the tool every cloud's documentation
 * names for them); a GCE image is the raw disk as `disk.raw` in a gzip'd GNU
 * tar (Google's "import a custom image"); a live CD is made by iso.c, a
 * netboot's directory (kernel, initramfs, iPXE script) by pxe.c.
 * qemu-img stamps a VHD with the time and a random UUID and a VMDK with a
 * random content id: both are set here from SOURCE_DATE_EPOCH and the
 * image's own GPT disk GUID, so that the same image always converts to the
 * same bytes. Each output is written in a private directory beside OUT and
 * renamed into place: a failed conversion leaves nothing. The command line:
 * docs/image-spec.md, "Cloud image formats".
 */
#include "image-builder.h"
#include "iso.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VHD_EPOCH     946684800 /* 2000-01-01T00:00:00Z, where a VHD's seconds count from */
#define VHD_FOOTER    512
#define VMDK_DESC_MAX (64u << 10)
#define FORMATS	      "qcow2, vhd, vmdk, gce, iso, pxe"

struct format {
	const char *name;
	/* qemu-img's output format and options; NULL: not qemu-img's (gce, iso, pxe) */
	const char *qemu, *opts;
	bool whole_mib; /* the size must be a whole number of MiB */
	int (*fix)(const char *path, const uint8_t guid[16], time_t epoch, struct ib_err *err);
	/* what makes it when qemu-img does not: out is written in dir */
	int (*make)(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err);
};

static int fix_vhd(const char *path, const uint8_t guid[16], time_t epoch, struct ib_err *err);
static int fix_vmdk(const char *path, const uint8_t guid[16], time_t epoch, struct ib_err *err);
static int make_gce(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err);
static int make_iso(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err);
static int make_pxe(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err);

static const struct format formats[] = {
    {"qcow2", "qcow2", "compat=1.1", false, NULL, NULL},
    /* Azure takes fixed VHDs only, their size a whole number of MiB; force_size
     * keeps the size exact (creator "qem2": readers take the footer's size) */
    {"vhd", "vpc", "subformat=fixed,force_size", true, fix_vhd, NULL},
    {"vmdk", "vmdk", "subformat=streamOptimized", false, fix_vmdk, NULL},
    {"gce", NULL, NULL, false, NULL, make_gce}, /* grown to whole GiB */
    {"iso", NULL, NULL, false, NULL, make_iso}, /* a live CD of slot A (iso.c) */
    {"pxe", NULL, NULL, false, NULL, make_pxe}, /* a netboot of slot A: a directory (pxe.c) */
};

static const struct format *format_of(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The disk GUID of IMAGE's primary GPT header (LBA 1, bytes 56-71): what
 * tells this image from another, and the proof that it is a GPT disk. */
static int read_guid(const char *image, uint64_t *size, uint8_t guid[16], struct ib_err *err)
{
	uint8_t hdr[IB_SECTOR];
	struct stat st = {0};
	int fd = open(image, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return ib_err_set(err, errno, "open %s", image);
	if (fstat(fd, &st) < 0)
		ret = ib_err_set(err, errno, "stat %s", image);
	else if (pread(fd, hdr, sizeof(hdr), IB_SECTOR) != (ssize_t)sizeof(hdr) ||
		 memcmp(hdr, "EFI PART", 8) != 0)
		ret = ib_err_set(err, 0, "%s: not a GPT disk image (no \"EFI PART\" in sector 1)",
				 image);
	close(fd);
	*size = (uint64_t)st.st_size;
	memcpy(guid, hdr + 56, 16);
	return ret;
}

/* The VHD footer's timestamp and UUID, then its checksum (the one's
 * complement of the sum of its other bytes). */
static int fix_vhd(const char *path, const uint8_t guid[16], time_t epoch, struct ib_err *err)
{
	uint8_t f[VHD_FOOTER];
	uint32_t sum = 0;
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return ib_err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0 || st.st_size < VHD_FOOTER ||
	    pread(fd, f, sizeof(f), st.st_size - VHD_FOOTER) != VHD_FOOTER ||
	    memcmp(f, "conectix", 8) != 0) {
		ib_err_set(err, 0, "%s: qemu-img wrote no VHD footer", path);
		goto out;
	}
	put_be32(f + 24, (uint32_t)(epoch - VHD_EPOCH));
	memcpy(f + 68, guid, 16);
	memset(f + 64, 0, 4);
	for (size_t i = 0; i < sizeof(f); i++)
		sum += f[i];
	put_be32(f + 64, ~sum);
	ret = ib_pwrite_all(fd, f, sizeof(f), (uint64_t)st.st_size - VHD_FOOTER, path, err);
out:
	close(fd);
	return ret;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The descriptor's CID= (qemu-img's random content id): the GUID's (vmdk.c). */
static int fix_vmdk(const char *path, const uint8_t guid[16], time_t epoch, struct ib_err *err)
{
	uint8_t hdr[IB_SECTOR];
	char desc[VMDK_DESC_MAX + 1];
	uint64_t off, len;
	int fd = open(path, O_RDWR | O_CLOEXEC), ret = -1;

	(void)epoch; /* a VMDK holds no date */
	if (fd < 0)
		return ib_err_set(err, errno, "open %s", path);
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || memcmp(hdr, "KDMV", 4) != 0 ||
	    (off = le64(hdr + 28) * IB_SECTOR, len = le64(hdr + 36) * IB_SECTOR,
	     len == 0 || len > VMDK_DESC_MAX) ||
	    pread(fd, desc, len, (off_t)off) != (ssize_t)len) {
		ib_err_set(err, 0, "%s: qemu-img wrote no VMDK descriptor", path);
		goto out;
	}
	if (ib_vmdk_set_cid(desc, len, guid) < 0) {
		ib_err_set(err, 0, "%s: no CID in the VMDK descriptor", path);
		goto out;
	}
	ret = ib_pwrite_all(fd, desc, len, off, path, err);
out:
	close(fd);
	return ret;
}

static int run_qemu_img(const struct format *f, const char *image, const char *out,
			struct ib_err *err)
{
	const char *argv[] = {"qemu-img", "convert", "-q",    "-f",  "raw", "-O",
			      f->qemu,	  "-o",	     f->opts, image, out,   NULL};

	return ib_run(argv, NULL, err);
}

/* disk.raw, IMAGE grown (sparse) to whole GiB, in a tar as GCE wants it:
 * oldgnu with sparse files, gzip'd. Owner, mode and dates fixed. */
static int make_gce(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err)
{
	char *raw = ib_path_join(dir, "disk.raw"), *mtime = ib_asprintf("@%lld", (long long)epoch);
	const char *argv[] = {"tar",	     "--format=oldgnu",
			      "--sparse",    "--numeric-owner",
			      "--owner=0",   "--group=0",
			      "--mode=0644", "--mtime",
			      mtime,	     "-I",
			      "gzip -n -9",  "-C",
			      dir,	     "-cf",
			      out,	     "disk.raw",
			      NULL};
	int fd = open(raw, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), ret = -1;

	if (fd < 0) {
		ib_err_set(err, errno, "create %s", raw);
	} else {
		if (ib_copy_sparse(fd, 0, image, size, raw, err) == 0) {
			if (ftruncate(fd, (off_t)((size + IB_GIB - 1) / IB_GIB * IB_GIB)) < 0)
				ib_err_set(err, errno, "grow %s to whole GiB", raw);
			else
				ret = 0;
		}
		close(fd);
	}
	if (ret == 0)
		ret = ib_run(argv, NULL, err);
	unlink(raw);
	free(raw);
	free(mtime);
	return ret;
}

static int convert_in(const struct format *f, const char *image, uint64_t size,
		      const uint8_t guid[16], const char *dir, const char *tmp, time_t epoch,
		      struct ib_err *err)
{
	if (f->whole_mib && size % IB_MIB)
		return ib_err_set(err, 0, "%s: %llu bytes, not a whole number of MiB (%s needs it)",
				  image, (unsigned long long)size, f->name);
	if (f->make)
		return f->make(image, size, dir, tmp, epoch, err);
	if (run_qemu_img(f, image, tmp, err) < 0)
		return -1;
	return f->fix ? f->fix(tmp, guid, epoch, err) : 0;
}

static int make_iso(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err)
{
	(void)size; /* the CD holds slot A's files, not the disk */
	return ib_iso_make(image, dir, out, epoch, err);
}

static int make_pxe(const char *image, uint64_t size, const char *dir, const char *out,
		    time_t epoch, struct ib_err *err)
{
	(void)size;
	return ib_pxe_make(image, dir, out, epoch, err);
}

/* TMP renamed to OUT. A directory (pxe's) replaces an older one whole: the two
 * are exchanged and the old one, now TMP, goes with the private directory. */
static int put_in_place(const char *tmp, const char *out, struct ib_err *err)
{
	struct stat st;

	if (rename(tmp, out) == 0)
		return 0;
	if ((errno == ENOTEMPTY || errno == EEXIST) && stat(tmp, &st) == 0 && S_ISDIR(st.st_mode) &&
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) == 0)
		return 0;
	return ib_err_set(err, errno, "rename %s to %s", tmp, out);
}

/* The private directory beside OUT, to be made by mkdtemp. */
static char *dir_beside(const char *out)
{
	char *copy = ib_strdup(out);
	char *dir = ib_asprintf("%s/.convert-XXXXXX", dirname(copy));

	free(copy);
	return dir;
}

static int convert(const char *format, const char *image, const char *out, time_t epoch,
		   struct ib_err *err)
{
	const struct format *f = format_of(format);
	/* the output keeps OUT's name inside the private directory: a VMDK's
	 * descriptor records it */
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	char *dir, *tmp = NULL;
	uint8_t guid[16];
	uint64_t size = 0;
	int ret = -1;

	if (!f)
		return ib_err_set(err, 0, "--format %s: not one of %s", format, FORMATS);
	dir = dir_beside(out);
	if (read_guid(image, &size, guid, err) < 0)
		goto out;
	if (!mkdtemp(dir)) {
		ib_err_set(err, errno, "mkdtemp %s", dir);
		goto out;
	}
	tmp = ib_path_join(dir, base);
	ret = convert_in(f, image, size, guid, dir, tmp, epoch, err);
	if (ret == 0)
		ret = put_in_place(tmp, out, err);
	ib_rm_rf(dir);
out:
	free(tmp);
	free(dir);
	return ret;
}

/* ---- the command line ---------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: image-builder convert [-C DIR] --format FORMAT [-v] IMAGE OUT\n"
		"\n"
		"Write IMAGE, a raw disk image image-builder made, as OUT in a cloud's\n"
		"format; the same IMAGE and SOURCE_DATE_EPOCH give the same bytes.\n"
		"\n"
		"  --format FORMAT  one of %s:\n"
		"                   qcow2  QEMU/KVM, OpenStack, Proxmox (qcow2 v3)\n"
		"                   vhd    Azure, Hyper-V (fixed VHD, a whole number of MiB)\n"
		"                   vmdk   VMware, AWS VM import (streamOptimized)\n"
		"                   gce    Google Compute Engine (disk.raw, whole GiB, in a\n"
		"                          gzip'd GNU tar)\n"
		"                   iso    a live CD (BIOS and UEFI): slot A, ROOT verified,\n"
		"                          /var on a tmpfs\n"
		"                   pxe    a netboot (iPXE, TFTP, HTTP): OUT is a directory\n"
		"                          of vmlinuz, initrd.img, cmdline, boot.ipxe and,\n"
		"                          for UEFI, grubx64.efi and grub.cfg; slot A, ROOT\n"
		"                          verified, /var on a tmpfs\n"
		"  -C DIR           change to DIR first\n"
		"  -v               show the commands run\n"
		"  -h, --help       print this and exit\n",
		FORMATS);
}

static const struct option long_opts[] = {
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "image-builder convert: %s%s%s (image-builder convert --help)\n", what,
		*arg ? " " : "", arg);
	return 2;
}

int ib_convert_main(int argc, char **argv)
{
	const char *format = NULL, *dir = NULL, *bad = NULL;
	struct ib_err err = {0};
	int c, help = 0;
	time_t epoch;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":C:f:vh", long_opts, NULL)) != -1) {
		if (c == 'h')
			help = 1;
		else if ((c == '?' || c == ':') && !bad)
			bad = argv[optind - 1];
		else if (c == 'C')
			dir = optarg;
		else if (c == 'f')
			format = optarg;
		else if (c == 'v')
			ib_verbose = true;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	if (bad)
		return usage_error("bad option", bad);
	if (!format || argc - optind != 2)
		return usage_error("--format, IMAGE and OUT are needed", "");
	setenv("LC_ALL", "C", 1);
	if ((dir && chdir(dir) < 0 && ib_err_set(&err, errno, "chdir %s", dir) < 0) ||
	    ib_source_date(&epoch, &err) < 0 ||
	    convert(format, argv[optind], argv[optind + 1], epoch, &err) < 0) {
		fprintf(stderr, "image-builder convert: %s\n", err.msg);
		return 1;
	}
	return 0;
}
