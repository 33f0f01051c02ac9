/*
 * grow.c: make the last GPT partition (STATE) fill a disk that has grown.
 *
 * Images are small and cloud disks are large: after the disk is resized,
 * the backup GPT is no longer at the end. This moves it there, extends
 * the partition to the new end (whole MiB, as image-builder aligns), and
 * recomputes every CRC. The backup copy is written first and the primary
 * last, so an interruption leaves one valid GPT that still describes the
 * old layout or the new one: never neither. Works on any fd (the unit
 * tests use an image file); telling the kernel is the caller's business.
 */
#include "pid1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR		512u
#define ALIGN_SECTORS	2048u /* 1 MiB */
#define MAX_ENTRY_BYTES (1u << 20)

/* GPT header field offsets (UEFI 2.x, 5.3.2). */
enum {
	H_SIG = 0,
	H_SIZE = 12,
	H_CRC = 16,
	H_MY_LBA = 24,
	H_ALT_LBA = 32,
	H_FIRST = 40,
	H_LAST = 48,
	H_ENTRIES_LBA = 72,
	H_NENTRIES = 80,
	H_ENTRY_SIZE = 84,
	H_ENTRIES_CRC = 88,
};
enum { E_FIRST = 32, E_LAST = 40 };

uint32_t gpt_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffffu;

	/* Bitwise: a few KiB once per boot do not need a table. */
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1u));
	}
	return ~crc;
}

static uint64_t le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off, struct err *e)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n != (ssize_t)len)
		return err_set(e, n < 0 ? errno : EIO, "read %zu bytes at %llu", len,
			       (unsigned long long)off);
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off, struct err *e)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)off);

	if (n != (ssize_t)len)
		return err_set(e, n < 0 ? errno : EIO, "write %zu bytes at %llu", len,
			       (unsigned long long)off);
	return 0;
}

static void header_crc(unsigned char *h)
{
	uint32_t size = (uint32_t)le(h + H_SIZE, 4);

	put_le(h + H_CRC, 0, 4);
	put_le(h + H_CRC, gpt_crc32(h, size), 4);
}

/* The primary header, checked. */
static int read_header(int fd, unsigned char *h, struct err *e)
{
	uint32_t size, crc;

	if (pread_all(fd, h, SECTOR, SECTOR, e) < 0)
		return err_ctx(e, "GPT header");
	if (memcmp(h + H_SIG, "EFI PART", 8) != 0)
		return err_set(e, 0, "no GPT (primary header signature missing)");
	size = (uint32_t)le(h + H_SIZE, 4);
	if (size < 92 || size > SECTOR)
		return err_set(e, 0, "GPT header size %u is invalid", size);
	crc = (uint32_t)le(h + H_CRC, 4);
	put_le(h + H_CRC, 0, 4);
	if (gpt_crc32(h, size) != crc)
		return err_set(e, 0, "GPT primary header CRC mismatch");
	put_le(h + H_CRC, crc, 4);
	return 0;
}

static unsigned char *read_entries(int fd, const unsigned char *h, size_t *len, struct err *e)
{
	uint32_t n = (uint32_t)le(h + H_NENTRIES, 4), esz = (uint32_t)le(h + H_ENTRY_SIZE, 4);
	unsigned char *buf;

	if (esz < 128 || esz % 8 || n == 0 || (uint64_t)n * esz > MAX_ENTRY_BYTES) {
		err_set(e, 0, "GPT entry array %u x %u is invalid", n, esz);
		return NULL;
	}
	*len = (size_t)n * esz;
	/* Whole sectors, zero-padded: that is what is written back. */
	if (!(buf = calloc(1, (*len + SECTOR - 1) / SECTOR * SECTOR))) {
		err_set(e, ENOMEM, "GPT entries");
		return NULL;
	}
	if (pread_all(fd, buf, *len, le(h + H_ENTRIES_LBA, 8) * SECTOR, e) < 0) {
		err_ctx(e, "GPT entries");
		free(buf);
		return NULL;
	}
	if (gpt_crc32(buf, *len) != (uint32_t)le(h + H_ENTRIES_CRC, 4)) {
		err_set(e, 0, "GPT entries CRC mismatch");
		free(buf);
		return NULL;
	}
	return buf;
}

/* Is entry partno (1-based) in use and after every other one? */
static int check_last(const unsigned char *ents, size_t len, size_t esz, unsigned partno,
		      struct err *e)
{
	size_t n = len / esz;
	const unsigned char *mine;
	static const unsigned char unused[16];

	if (partno == 0 || partno > n)
		return err_set(e, 0, "GPT has no entry %u", partno);
	mine = ents + (partno - 1) * esz;
	if (!memcmp(mine, unused, 16))
		return err_set(e, 0, "GPT entry %u is unused", partno);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *o = ents + i * esz;
		if (o != mine && memcmp(o, unused, 16) && le(o + E_LAST, 8) > le(mine + E_LAST, 8))
			return err_set(e, 0, "partition %u is not the last on the disk", partno);
	}
	return 0;
}

/* The protective MBR's 0xEE entry covers the whole disk (or 2 TiB at most). */
static int fix_mbr(int fd, uint64_t sectors, struct err *e)
{
	unsigned char mbr[SECTOR];
	uint64_t n = sectors - 1 > 0xffffffffu ? 0xffffffffu : sectors - 1;

	if (pread_all(fd, mbr, SECTOR, 0, e) < 0)
		return -1;
	if (mbr[510] != 0x55 || mbr[511] != 0xaa || mbr[446 + 4] != 0xee)
		return 0; /* a hybrid or no MBR: not ours to touch */
	put_le(mbr + 446 + 12, n, 4);
	return pwrite_all(fd, mbr, SECTOR, 0, e);
}

/* Write backup (entries, header) at the new end, then the primary ones. */
static int write_both(int fd, unsigned char *h, const unsigned char *ents, size_t elen,
		      uint64_t alt_entries, uint64_t old_alt, struct err *e)
{
	size_t ebytes = (elen + SECTOR - 1) / SECTOR * SECTOR;
	unsigned char b[SECTOR], zero[SECTOR] = {0};

	memcpy(b, h, SECTOR);
	put_le(b + H_MY_LBA, le(h + H_ALT_LBA, 8), 8);
	put_le(b + H_ALT_LBA, 1, 8);
	put_le(b + H_ENTRIES_LBA, alt_entries, 8);
	header_crc(b);
	header_crc(h);
	if (pwrite_all(fd, ents, ebytes, alt_entries * SECTOR, e) < 0 ||
	    pwrite_all(fd, b, SECTOR, le(b + H_MY_LBA, 8) * SECTOR, e) < 0 || fsync(fd) < 0 ||
	    pwrite_all(fd, ents, ebytes, le(h + H_ENTRIES_LBA, 8) * SECTOR, e) < 0 ||
	    pwrite_all(fd, h, SECTOR, SECTOR, e) < 0)
		return err_ctx(e, "write GPT");
	/* The old backup header, now inside the partition, must not be found by a scan. */
	if (pwrite_all(fd, zero, SECTOR, old_alt * SECTOR, e) < 0 || fsync(fd) < 0)
		return err_ctx(e, "clear the old backup GPT header");
	return 0;
}

static int grow(int fd, uint64_t sectors, unsigned partno, unsigned char *h, unsigned char *ents,
		size_t elen, uint64_t *new_end, struct err *e)
{
	size_t esz = (size_t)le(h + H_ENTRY_SIZE, 4);
	uint64_t esect = (elen + SECTOR - 1) / SECTOR, old_alt = le(h + H_ALT_LBA, 8);
	uint64_t alt_entries = sectors - 1 - esect, last_usable = alt_entries - 1;
	uint64_t want = (last_usable + 1) / ALIGN_SECTORS * ALIGN_SECTORS - 1;
	unsigned char *p;
	uint64_t first, end;

	if (check_last(ents, elen, esz, partno, e) < 0)
		return -1;
	p = ents + (partno - 1) * esz;
	first = le(p + E_FIRST, 8);
	end = le(p + E_LAST, 8);
	if (want <= end || want <= first)
		return 0; /* less than a MiB more: not worth a GPT rewrite */
	put_le(p + E_LAST, want, 8);
	put_le(h + H_ALT_LBA, sectors - 1, 8);
	put_le(h + H_LAST, last_usable, 8);
	put_le(h + H_ENTRIES_CRC, gpt_crc32(ents, elen), 4);
	if (write_both(fd, h, ents, elen, alt_entries, old_alt, e) < 0 ||
	    fix_mbr(fd, sectors, e) < 0)
		return -1;
	*new_end = want;
	return 1;
}

int gpt_grow(int fd, uint64_t size, unsigned partno, uint64_t *new_end, struct err *e)
{
	uint64_t sectors = size / SECTOR, alt;
	unsigned char h[SECTOR], *ents;
	size_t elen;
	int ret;

	if (read_header(fd, h, e) < 0)
		return -1;
	alt = le(h + H_ALT_LBA, 8);
	if (alt == sectors - 1)
		return 0; /* the backup is at the end: the disk has not grown */
	if (alt > sectors - 1)
		return err_set(e, 0, "GPT backup header at %llu is beyond the disk (%llu sectors)",
			       (unsigned long long)alt, (unsigned long long)sectors);
	if (!(ents = read_entries(fd, h, &elen, e)))
		return -1;
	ret = grow(fd, sectors, partno, h, ents, elen, new_end, e);
	free(ents);
	return ret;
}
