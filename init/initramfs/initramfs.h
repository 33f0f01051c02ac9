/*
 * initramfs.h: /init of a netboot initramfs (docs/image-spec.md, "Network
 * boot"). A netbooted kernel has no disk with ROOT on it: the initramfs
 * carries slot A's ROOT as one file (the erofs and its verity tree), and this
 * program puts it on loop0, makes the slot's verified root over it with the
 * table the command line gives (wisp.initramfs.dm=, dm-mod.create='s syntax),
 * mounts it and hands the machine to its /sbin/init. Nothing else: no
 * modules, no network, no shell. Any failure is one line on the console and
 * the kernel's panic (panic= on the command line restarts the machine).
 */
#ifndef WISP_INITRAMFS_H
#define WISP_INITRAMFS_H

#include "../lib/base.h"

#include <stdint.h>

/* The initramfs's layout, written by image-builder (image-builder/pxe.c). */
#define INITRAMFS_ROOT_FILE "/root.img"
#define INITRAMFS_SYSROOT   "/sysroot"
#define INITRAMFS_DM_KEY    "wisp.initramfs.dm"

/* ---- dmspec.c: the device of dm-mod.create= ("NAME,UUID,MINOR,FLAGS,TABLE") ---- */

struct dm_spec {
	char name[128], uuid[129];
	bool read_only;
	uint64_t start, length;
	char target[16];
	char params[768];
};

/* One device with one target line (what a slot's root is); e filled on a bad spec. */
int dm_spec_parse(const char *text, struct dm_spec *s, struct err *e);

/* ---- devmapper.c: the device, through /dev/mapper/control ------------------ */

/* Create, load and resume the device; *dev: its number. */
int dm_make(const struct dm_spec *s, dev_t *dev, struct err *e);

/* ---- switchroot.c ------------------------------------------------------- */

/* Mount the root device DEV (erofs, read-only) on INITRAMFS_SYSROOT, move /dev
 * there, make it / and exec its /sbin/init with ARGV; returns only on failure. */
int switch_root(dev_t dev, char **argv, struct err *e);

#endif
