/* iso.h: the live media of a disk image (docs/image-spec.md, "Cloud image
 * formats", "Network boot"): `convert --format iso`, a live CD (iso.c lays it
 * out, iso_boot.c makes what boots it: GRUB's images, grub.cfg, the command
 * line), and `convert --format pxe`, a netboot's kernel, initramfs and iPXE
 * script (pxe.c, cpio.c); media.c reads slot A out of the disk image. */
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
/* OUT, a directory: vmlinuz, initrd.img, cmdline and boot.ipxe (pxe.c). */
int ib_pxe_make(const char *image, const char *dir, const char *out, time_t epoch,
		struct ib_err *err);

/* Slot A of IMAGE: its kernel as KERNEL, ROOT-A's erofs and tree (*root_len bytes)
 * as ROOT, its slot.cfg parsed into *s (freed by the caller); DIR: scratch. */
int ib_media_slot_a(const char *image, const char *dir, const char *kernel, const char *root,
		    struct ib_iso_slot *s, uint64_t *root_len, struct ib_err *err);

int ib_iso_slot_parse(const char *text, struct ib_iso_slot *s, struct ib_err *err);
void ib_iso_slot_free(struct ib_iso_slot *s);
/* Bytes of the slot's ROOT that verity reads: the data and the hash tree after it. */
int ib_iso_root_bytes(const char *dm, uint64_t *bytes, struct ib_err *err);
/* TABLE with each device named by partition (PARTUUID=...) named as DEV. */
char *ib_iso_on_device(const char *table, const char *dev);
/* How a live medium changes one of the slot's kernel arguments: PREFIX, a key
 * ending in '=' or a whole word, replaced by LIVE, or dropped (LIVE NULL). */
struct ib_live_arg {
	const char *prefix, *live;
};
/* The slot's arguments ARGS for a live medium: wisp.live=1 first, then each word
 * as the first rule matching it says (RULES ends with a NULL prefix), kept if none. */
char *ib_iso_live_args(const char *args, const struct ib_live_arg *rules);
/* The live grub.cfg; *mark: the offset of IB_ISO_LBA_MARK in it. NULL on a bad table. */
char *ib_iso_grub_cfg(const struct ib_iso_slot *s, uint64_t root_sectors, size_t *mark);
/* TREE/boot/bios.img (El Torito, no emulation) and TREE/boot/efi.img (a FAT image
 * holding EFI/BOOT/BOOTX64.EFI), made in the scratch directory DIR; both find the CD
 * by its volume UUID (GRUB's form of its date: "2026-01-01-00-00-00-00"). */
int ib_iso_grub_images(const char *dir, const char *tree, const char *iso_uuid, time_t epoch,
		       struct ib_err *err);

/* grub-mkimage of FORMAT (i386-pc-eltorito, x86_64-efi, ...) as OUT: $prefix PREFIX,
 * the early config EARLY, the modules of each NULL-ended list in LISTS (NULL-ended). */
int ib_live_mkimage(const char *format, const char *prefix, const char *const *const *lists,
		    const char *early, const char *out, struct ib_err *err);

/* ---- cpio.c: the initramfs, in the kernel's "newc" format ---------------- */

struct ib_cpio_entry {
	const char *name; /* in the archive, no leading '/' */
	mode_t mode;	  /* S_IFDIR or S_IFREG and permissions */
	const char *src;  /* a regular file's bytes; NULL for a directory */
};

/* OUT with ENTRIES in order, owned by root, dated EPOCH: the same bytes each time. */
int ib_cpio_write(const char *out, const struct ib_cpio_entry *entries, size_t n, time_t epoch,
		  struct ib_err *err);

#endif
