/* bios.c: what grub-bios-setup does, done on bytes.
 *
 * grub-bios-setup wants a real block device, so its few writes are redone
 * here (GRUB 2.06 util/setup.c): boot.img goes into the MBR code area and
 * is told the LBA of core.img; core.img's first sector (diskboot.img) gets
 * the blocklist of the rest of core.img, which the builder stores
 * contiguously in the BIOS boot partition.
 */
#include "image-builder.h"

#include <errno.h>
#include <string.h>

/* Offsets in boot.img and diskboot.img (GRUB 2.06 include/grub/i386/pc/boot.h,
 * util/setup.c); the rest are in image-builder.h. */
#define IB_BOOT_KERNEL_SECTOR 0x5c
#define IB_BOOT_BOOT_DRIVE    0x64
#define IB_CORE_BLOCKLIST     0x1f4 /* 512 - sizeof(struct grub_boot_blocklist) */

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int ib_bios_patch_mbr(uint8_t mbr[IB_SECTOR], const uint8_t boot_img[IB_SECTOR], uint64_t core_lba,
		      struct ib_err *err)
{
	/* boot.img starts with "jmp short" (0xeb) in every GRUB 2. */
	if (boot_img[0] != 0xeb || boot_img[510] != 0x55 || boot_img[511] != 0xaa)
		return ib_err_set(err, 0, "boot.img: not a GRUB boot sector");
	/* Only the code area: the disk signature and the protective MBR's
	 * partition table (440..511) stay as the GPT writer made them. */
	memcpy(mbr, boot_img, IB_BOOT_CODE_SIZE);
	put_le64(mbr + IB_BOOT_KERNEL_SECTOR, core_lba);
	/* 0xff: use the drive number the BIOS passes in %dl. */
	mbr[IB_BOOT_BOOT_DRIVE] = 0xff;
	/* NOP the "is %dl a hard disk?" jump, as setup.c does for hard disks:
	 * some BIOSes pass 0x00 even when booting from 0x80. */
	mbr[IB_BOOT_DRIVE_CHECK] = 0x90;
	mbr[IB_BOOT_DRIVE_CHECK + 1] = 0x90;
	return 0;
}

int ib_bios_patch_core(uint8_t *core, size_t len, uint64_t core_lba, struct ib_err *err)
{
	size_t sectors = (len + IB_SECTOR - 1) / IB_SECTOR;
	uint8_t *bl = core + IB_CORE_BLOCKLIST; /* {u64 start; u16 len; u16 segment} */

	if (len < 2 * IB_SECTOR)
		return ib_err_set(err, EINVAL, "core.img: too small (%zu bytes)", len);
	/* diskboot.img loads to 0x8200 and up; setup.c caps it below 0x78000. */
	if (sectors - 1 > (0x78000 - 0x8200) / IB_SECTOR)
		return ib_err_set(err, EFBIG, "core.img: too large (%zu sectors)", sectors);
	/* The segment GRUB's mkimage left there is diskboot's load address;
	 * setup.c writes the same value (0x820). */
	if (bl[10] != 0x20 || bl[11] != 0x08)
		return ib_err_set(err, 0, "core.img: no blocklist at 0x%x (GRUB version?)",
				  IB_CORE_BLOCKLIST);
	put_le64(bl, core_lba + 1);
	put_le16(bl + 8, (uint16_t)(sectors - 1));
	/* One contiguous run: the entry below must be the terminator. */
	memset(bl - 12, 0, 12);
	return 0;
}
