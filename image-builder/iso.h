/* iso.h: the live CD of a disk image, `image-builder convert --format iso`
 * (docs/image-spec.md, "Cloud image formats"): iso.c lays the ISO out,
 * iso_boot.c makes what boots it (GRUB's images, grub.cfg, the command line). */
#ifndef IB_ISO_H
#define IB_ISO_H

#include "image-builder.h"

#define IB_ISO_BLOCK 2048u /* an ISO 9660 logical block, a CD's sector */
/* The ROOT file's first 512-byte sector on the CD, written into grub.cfg once
 * xorriso has placed the file: exactly this wide (a 10-digit sector number). */
#define IB_ISO_LBA_MARK "@ROOT-LBA@"

/* Slot A of the disk image, from its /A/slot.cfg: the values GRUB sources. */
struct ib_iso_slot {
	char *version, *dm, *args;
};

int ib_iso_make(const char *image, const char *dir, const char *out, time_t epoch,
		struct ib_err *err);

int ib_iso_slot_parse(const char *text, struct ib_iso_slot *s, struct ib_err *err);
void ib_iso_slot_free(struct ib_iso_slot *s);
/* Bytes of the slot's ROOT that verity reads: the data and the hash tree after it. */
int ib_iso_root_bytes(const char *dm, uint64_t *bytes, struct ib_err *err);
/* The live grub.cfg; *mark: the offset of IB_ISO_LBA_MARK in it. NULL on a bad table. */
char *ib_iso_grub_cfg(const struct ib_iso_slot *s, uint64_t root_sectors, size_t *mark);
/* TREE/boot/bios.img (El Torito, no emulation) and TREE/boot/efi.img (a FAT image
 * holding EFI/BOOT/BOOTX64.EFI), made in the scratch directory DIR; both find the CD
 * by its volume UUID (GRUB's form of its date: "2026-01-01-00-00-00-00"). */
int ib_iso_grub_images(const char *dir, const char *tree, const char *iso_uuid, time_t epoch,
		       struct ib_err *err);

#endif
