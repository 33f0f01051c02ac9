/*
 * pxe.c: a netboot of a Wisp disk image (`convert --format pxe`,
 * docs/image-spec.md, "Network boot"): OUT is a directory a TFTP or HTTP
 * server serves as it is,
 *
 *   vmlinuz     slot A's kernel, from the image's ESP
 *   initrd.img  the initramfs (cpio.c): /init, ROOT-A's bytes as /root.img
 *               (the erofs and its verity tree) and the mount points /init uses
 *   cmdline     the kernel's command line: slot A's, for a root on loop0
 *   boot.ipxe   an iPXE script that boots the three (BIOS clients: iPXE)
 *   grubx64.efi GRUB for UEFI clients, their firmware's PXE boot file: it reads
 *   grub.cfg    from the same TFTP server, which boots the three
 *
 * /init is init/initramfs (initramfs.h), taken from the image's own ROOT
 * (/usr/libexec/wisp/initramfs-init, read by fsck.erofs --extract): the
 * medium boots the image's code only. It puts root.img on loop0 and makes
 * the slot's own verity table over it, given as wisp.initramfs.dm= in
 * dm-mod.create='s syntax, its devices moved from the partition to loop0
 * (7:0): the root hash the slot was built with checks every block read.
 * The boot is live (wisp.live=1): /var on a tmpfs, as the live CD's.
 */
#include "iso.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../init/update/update.h" /* single_quoted(), as iso_boot.c quotes for GRUB */

#define INITRAMFS_INIT "usr/libexec/wisp/initramfs-init"
#define LOOP0	       "7:0" /* block major 7, the loop device /init adds */

/* The slot's arguments for a netboot: no partition, no slot, no kernel-made root. */
static const struct ib_live_arg pxe_args[] = {
    {"dm-mod.waitfor=", NULL}, {"root=", NULL}, {"rootfstype=", NULL}, {"ro", NULL},
    {"wisp.slot=", NULL},      {NULL, NULL},
};

/* GRUB for UEFI clients: their firmware's PXE (over the NIC's driver) loads it
 * by TFTP, and it reads grub.cfg from the server it came from, ($root) being
 * (tftp,SERVER). tpm: a measured network boot (grub.cfg, kernel, initramfs in
 * PCR 9, the command line in PCR 8); linuxefi: the kernel through its EFI stub. */
static const char *const net_modules[] = {
    "efinet", "tftp",	  "configfile", "normal", "linux",   "linuxefi", "boot",
    "serial", "terminal", "echo",	"test",	  "efi_gop", "tpm",	 NULL,
};

static int grub_efi(const char *dir, const char *out, time_t epoch, struct ib_err *err)
{
	static const char early_cfg[] = "configfile ($root)/grub.cfg\n";
	const char *const *lists[] = {net_modules, NULL};
	char *early = ib_path_join(dir, "early.cfg"), *efi = ib_path_join(out, "grubx64.efi");
	int ret = -1;

	if (ib_write_file(early, early_cfg, strlen(early_cfg), 0644, err) == 0 &&
	    ib_live_mkimage("x86_64-efi", "/", lists, early, efi, err) == 0)
		ret = ib_set_mtime(efi, epoch, err);
	free(early), free(efi);
	return ret;
}

/* DM: the slot's table on loop0; ARGS: its arguments for a netboot. */
static char *grub_cfg(const struct ib_iso_slot *s, const char *dm, const char *args)
{
	char *qdm = single_quoted(dm), *qargs = single_quoted(args), *cfg = NULL;

	if (qdm && qargs)
		cfg = ib_asprintf(
		    "# Written by image-builder convert --format pxe: slot A's kernel and ROOT\n"
		    "# over the network, ROOT verified (docs/image-spec.md, \"Network boot\").\n"
		    "serial --unit=0 --speed=115200\n"
		    "terminal_input serial console\nterminal_output serial console\n"
		    "set timeout=0\nset wisp_dm=%s\nset wisp_args=%s\n"
		    "menuentry \"Wisp %s (network)\" --id wisp-net {\n"
		    "\techo \"Wisp %s, network boot\"\n"
		    "\tlinuxefi /vmlinuz \"wisp.initramfs.dm=$wisp_dm\" $wisp_args\n"
		    "\tinitrdefi /initrd.img\n}\n",
		    qdm, qargs, s->version, s->version);
	free(qdm), free(qargs);
	return cfg;
}

/* ROOT's tree in DIR/rootfs, for its /init. */
static int extract(const char *root, const char *dir, struct ib_err *err)
{
	char *to = ib_asprintf("--extract=%s/rootfs", dir);
	const char *argv[] = {"fsck.erofs", to, root, NULL};
	int ret = ib_run(argv, NULL, err);

	free(to);
	return ret < 0 ? ib_err_ctx(err, "ROOT-A's erofs") : 0;
}

static int initrd(const char *dir, const char *root, const char *out, time_t epoch,
		  struct ib_err *err)
{
	char *init = ib_asprintf("%s/rootfs/" INITRAMFS_INIT, dir);
	const struct ib_cpio_entry entries[] = {
	    {"dev", S_IFDIR | 0755, NULL},     {"init", S_IFREG | 0755, init},
	    {"proc", S_IFDIR | 0555, NULL},    {"root.img", S_IFREG | 0444, root},
	    {"sysroot", S_IFDIR | 0755, NULL},
	};
	struct stat st;
	int ret = -1;

	if (stat(init, &st) < 0 || !S_ISREG(st.st_mode))
		ib_err_set(err, 0, "ROOT-A has no /%s (an image older than netboot)",
			   INITRAMFS_INIT);
	else
		ret = ib_cpio_write(out, entries, sizeof(entries) / sizeof(entries[0]), epoch, err);
	free(init);
	return ret;
}

/* FILE in OUT holding TEXT, dated EPOCH as the rest. */
static int text_file(const char *out, const char *file, const char *text, time_t epoch,
		     struct ib_err *err)
{
	char *path = ib_path_join(out, file);
	int ret = ib_write_file(path, text, strlen(text), 0644, err);

	if (ret == 0)
		ret = ib_set_mtime(path, epoch, err);
	free(path);
	return ret;
}

static int outputs(const char *out, const struct ib_iso_slot *s, time_t epoch, struct ib_err *err)
{
	char *dm = ib_iso_on_device(s->dm, LOOP0), *args = ib_iso_live_args(s->args, pxe_args);
	char *line = ib_asprintf("\"wisp.initramfs.dm=%s\" %s", dm, args);
	char *text = ib_asprintf("%s\n", line), *cfg = grub_cfg(s, dm, args);
	char *ipxe =
	    ib_asprintf("#!ipxe\n"
			"# Written by image-builder convert --format pxe: Wisp %s, slot A,\n"
			"# ROOT verified (docs/image-spec.md, \"Network boot\").\n"
			"kernel vmlinuz %s\ninitrd initrd.img\nboot\n",
			s->version, line);
	int ret = -1;

	if (!cfg)
		ib_err_set(err, ENOMEM, "grub.cfg");
	else if (text_file(out, "cmdline", text, epoch, err) == 0 &&
		 text_file(out, "boot.ipxe", ipxe, epoch, err) == 0 &&
		 text_file(out, "grub.cfg", cfg, epoch, err) == 0)
		ret = 0;
	free(dm), free(args), free(line), free(text), free(ipxe), free(cfg);
	return ret;
}

int ib_pxe_make(const char *image, const char *dir, const char *out, time_t epoch,
		struct ib_err *err)
{
	char *kernel = ib_path_join(out, "vmlinuz"), *rd = ib_path_join(out, "initrd.img");
	char *root = ib_path_join(dir, "root.img");
	struct ib_iso_slot s;
	uint64_t len;
	int ret = -1;

	if (mkdir(out, 0755) < 0) {
		ib_err_set(err, errno, "mkdir %s", out);
		goto out;
	}
	if (ib_media_slot_a(image, dir, kernel, root, &s, &len, err) < 0)
		goto out;
	if (extract(root, dir, err) == 0 && initrd(dir, root, rd, epoch, err) == 0 &&
	    grub_efi(dir, out, epoch, err) == 0 && ib_set_mtime(kernel, epoch, err) == 0 &&
	    ib_set_mtime(rd, epoch, err) == 0 && outputs(out, &s, epoch, err) == 0 &&
	    ib_set_mtime(out, epoch, err) == 0)
		ret = 0;
	ib_iso_slot_free(&s);
out:
	free(kernel), free(rd), free(root);
	return ret;
}
