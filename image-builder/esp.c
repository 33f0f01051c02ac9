/* esp.c: the EFI system partition, a FAT image filled with mtools.
 *
 * No mounts: mkfs.fat -C creates the image file, mmd/mcopy write into it.
 * Reproducibility: --invariant fixes what mkfs.fat would take from the
 * clock, -i the volume id (GRUB finds the ESP by it); mcopy -m keeps the
 * sources' mtimes (set to SOURCE_DATE_EPOCH by the caller) and mtools 4.0.32
 * dates new directories with SOURCE_DATE_EPOCH. FAT stores local time, so
 * the caller runs the tools with TZ=UTC.
 */
#include "image-builder.h"

#include <string.h>

/* FAT32 needs at least 65525 clusters (about 32.5 MiB with 512-byte
 * clusters); a "FAT32" below that is read as FAT16 by spec-following code.
 * FAT16 needs 4085 clusters, which mkfs.fat's cluster sizes reach at 16 MiB. */
unsigned ib_esp_fat_bits(uint64_t size)
{
	if (size >= 33 * IB_MIB)
		return 32;
	if (size >= 16 * IB_MIB)
		return 16;
	return 12;
}

static int mkfs(const char *out, uint64_t size, uint32_t volid, struct ib_err *err)
{
	char id[16], bits[8], kib[32];
	/* --invariant first: it would otherwise override -i. */
	const char *argv[] = {"mkfs.fat", "-C", "--invariant", "-i", id,  "-F",
			      bits,	  "-n", "ESP",	       out,  kib, NULL};

	snprintf(id, sizeof(id), "%08X", (unsigned)volid);
	snprintf(bits, sizeof(bits), "%u", ib_esp_fat_bits(size));
	snprintf(kib, sizeof(kib), "%llu", (unsigned long long)(size / IB_KIB));
	return ib_run(argv, NULL, err);
}

static const char *const mtools_env[] = {"MTOOLS_SKIP_CHECK=1", NULL};

static int make_dirs(const char *out, const char *const *dirs, struct ib_err *err)
{
	const char *argv[16] = {"mmd", "-i", out};
	size_t n = 3;

	for (size_t i = 0; dirs[i]; i++) {
		if (n == sizeof(argv) / sizeof(argv[0]) - 1)
			return ib_err_set(err, 0, "too many ESP directories");
		argv[n++] = dirs[i];
	}
	argv[n] = NULL;
	return ib_run(argv, mtools_env, err);
}

static int copy_files(const char *out, const struct ib_esp_file *files, size_t nfiles,
		      struct ib_err *err)
{
	for (size_t i = 0; i < nfiles; i++) {
		const char *argv[] = {"mcopy", "-i",	     out,	   "-m",
				      "-o",    files[i].src, files[i].dst, NULL};

		if (ib_run(argv, mtools_env, err) < 0)
			return ib_err_ctx(err, "%s", files[i].dst + 2);
	}
	return 0;
}

int ib_esp_build(const char *out, uint64_t size, uint32_t volid, const char *const *dirs,
		 const struct ib_esp_file *files, size_t nfiles, struct ib_err *err)
{
	if (mkfs(out, size, volid, err) < 0 || make_dirs(out, dirs, err) < 0 ||
	    copy_files(out, files, nfiles, err) < 0)
		return ib_err_ctx(err, "ESP (FAT)");
	return 0;
}
