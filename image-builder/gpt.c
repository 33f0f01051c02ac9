/* gpt.c: the GUID partition table, written by hand.
 *
 * UEFI 2.x chapter 5: protective MBR in LBA 0, header in LBA 1, 128
 * entries of 128 bytes from LBA 2, and the same entries plus a header
 * pointing back at the primary in the last 33 sectors. Partitions start on
 * 1 MiB boundaries, like every modern partitioner, so filesystems line up
 * with any underlying block or erase size.
 */
#include "image-builder.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#define ALIGN_LBA   (IB_ALIGN / IB_SECTOR)
#define HEADER_SIZE 92
#define GPT_SECTORS (1 + IB_GPT_ENTRY_SECTORS) /* header + entries */
#define NAME_CHARS  36

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int ib_gpt_layout(struct ib_gpt *g, struct ib_err *err)
{
	uint64_t lba = ALIGN_LBA; /* the first MiB holds MBR and primary GPT */

	if (g->nparts > IB_GPT_MAX_PARTS)
		return ib_err_set(err, E2BIG, "GPT: too many partitions");
	for (size_t i = 0; i < g->nparts; i++) {
		struct ib_part *p = &g->part[i];

		if (!p->size || p->size % IB_ALIGN)
			return ib_err_set(err, EINVAL,
					  "GPT: partition %s: size not a multiple "
					  "of 1MiB",
					  p->name);
		if (strlen(p->name) > NAME_CHARS)
			return ib_err_set(err, EINVAL, "GPT: partition name %s too long", p->name);
		p->first_lba = lba;
		lba += p->size / IB_SECTOR;
		p->last_lba = lba - 1;
	}
	/* One more aligned MiB at the end for the backup GPT (33 sectors). */
	g->total_sectors = lba + ALIGN_LBA;
	return 0;
}

void ib_gpt_pmbr(const struct ib_gpt *g, uint8_t mbr[IB_SECTOR])
{
	uint8_t *e = mbr + 446;
	uint64_t n = g->total_sectors - 1;

	memset(mbr + IB_BOOT_CODE_SIZE, 0, IB_SECTOR - IB_BOOT_CODE_SIZE);
	e[0] = 0x00;			       /* not active: UEFI requires it */
	e[1] = 0x00, e[2] = 0x02, e[3] = 0x00; /* CHS of LBA 1 */
	e[4] = 0xee;			       /* GPT protective */
	e[5] = 0xff, e[6] = 0xff, e[7] = 0xff;
	put_le32(e + 8, 1);
	put_le32(e + 12, n > 0xffffffffu ? 0xffffffffu : (uint32_t)n);
	mbr[510] = 0x55, mbr[511] = 0xaa;
}

static void put_name(uint8_t *dst, const char *name)
{
	/* ASCII names: UTF-16LE is the byte followed by zero. */
	for (size_t i = 0; name[i] && i < NAME_CHARS; i++)
		put_le16(dst + 2 * i, (uint8_t)name[i]);
}

void ib_gpt_entries(const struct ib_gpt *g, uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR])
{
	memset(entries, 0, IB_GPT_ENTRY_SECTORS * IB_SECTOR);
	for (size_t i = 0; i < g->nparts; i++) {
		const struct ib_part *p = &g->part[i];
		uint8_t *e = entries + i * IB_GPT_ENTRY_SIZE;

		ib_uuid_to_guid(e, p->type);
		ib_uuid_to_guid(e + 16, p->uuid);
		put_le64(e + 32, p->first_lba);
		put_le64(e + 40, p->last_lba);
		put_le64(e + 48, 0); /* attributes */
		put_name(e + 56, p->name);
	}
}

void ib_gpt_header(const struct ib_gpt *g, bool backup,
		   const uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR], uint8_t hdr[IB_SECTOR])
{
	uint64_t last = g->total_sectors - 1;
	uint64_t entries_bytes = IB_GPT_ENTRY_SECTORS * IB_SECTOR;

	memset(hdr, 0, IB_SECTOR);
	memcpy(hdr, "EFI PART", 8);
	put_le32(hdr + 8, 0x00010000); /* revision 1.0 */
	put_le32(hdr + 12, HEADER_SIZE);
	put_le64(hdr + 24, backup ? last : 1);	/* this header */
	put_le64(hdr + 32, backup ? 1 : last);	/* the other one */
	put_le64(hdr + 40, 1 + GPT_SECTORS);	/* first usable: 34 */
	put_le64(hdr + 48, last - GPT_SECTORS); /* last usable */
	ib_uuid_to_guid(hdr + 56, g->disk_guid);
	put_le64(hdr + 72, backup ? last - IB_GPT_ENTRY_SECTORS : 2);
	put_le32(hdr + 80, IB_GPT_ENTRIES);
	put_le32(hdr + 84, IB_GPT_ENTRY_SIZE);
	put_le32(hdr + 88, (uint32_t)crc32(0, entries, (uInt)entries_bytes));
	/* The header CRC covers the header with its CRC field zeroed. */
	put_le32(hdr + 16, (uint32_t)crc32(0, hdr, HEADER_SIZE));
}
