/*
 * iso_boot.c: what boots the live CD: GRUB's two El Torito images and the
 * command line that makes the verified root of a file on the CD.
 *
 * The kernel boots without an initramfs, so the root must be a block device
 * when dm-init runs, and a CD (sr0) has no partitions: the ROOT file (slot A's
 * erofs and its verity tree, stored contiguously) becomes a dm-linear device
 * over /dev/sr0 at the file's sector, and slot A's own verity table, its root
 * hash unchanged, sits on that device instead of the partition
 * (Documentation/admin-guide/device-mapper/dm-init.rst). Nothing of the slot's
 * verity parameters is rendered anew here: they are slot.cfg's, moved onto
 * another device.
 */
#include "iso.h"
#include "../init/update/update.h" /* single_quoted(), as slot.cfg is quoted */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The device-mapper's block major in the kernel Wisp builds (dm gets the
 * second dynamic major, after virtio-blk's 254): the verity target names the
 * linear device by number, as no /dev node exists when dm-init runs. */
#define LIVE_LINEAR_DEV "253:0"
#define LIVE_CD		"11:0" /* sr0: SCSI CD-ROM major 11, the first drive */

/* One value of slot.cfg, unquoted as GRUB's (sh's) quoting reads it: '...'
 * literal, a backslash escapes the next character. */
static char *unquote(const char *v)
{
	char *out = malloc(strlen(v) + 1), *o = out;

	if (!out)
		abort();
	while (*v && *v != '\n') {
		if (*v == '\'') {
			for (v++; *v && *v != '\''; v++)
				*o++ = *v;
			v += *v == '\'';
		} else if (*v == '\\' && v[1]) {
			*o++ = v[1];
			v += 2;
		} else {
			*o++ = *v++;
		}
	}
	*o = '\0';
	return out;
}

int ib_iso_slot_parse(const char *text, struct ib_iso_slot *s, struct ib_err *err)
{
	static const char *const keys[] = {
	    "\nset wisp_version=", "\nset wisp_dm=", "\nset wisp_args="};
	char **vals[] = {&s->version, &s->dm, &s->args};

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *p = strstr(text, keys[i]);

		if (!p) {
			ib_iso_slot_free(s);
			return ib_err_set(err, 0, "/A/slot.cfg: no \"%s\"", keys[i] + 1);
		}
		*vals[i] = unquote(p + strlen(keys[i]));
	}
	return 0;
}

void ib_iso_slot_free(struct ib_iso_slot *s)
{
	free(s->version), free(s->dm), free(s->args);
	memset(s, 0, sizeof(*s));
}

/* The verity target's arguments after "verity": version, data and hash device,
 * block sizes, data blocks, hash start, algorithm (verity.rst). */
struct vparams {
	unsigned long long data_bs, hash_bs, data_blocks, hash_start;
	char alg[16];
};

static int verity_params(const char *dm, struct vparams *p, struct ib_err *err)
{
	const char *v = strstr(dm, " verity ");
	char data[128], hash[128];
	unsigned ver;

	if (!v || sscanf(v, " verity %u %127s %127s %llu %llu %llu %llu %15s", &ver, data, hash,
			 &p->data_bs, &p->hash_bs, &p->data_blocks, &p->hash_start, p->alg) != 8)
		return ib_err_set(err, 0, "/A/slot.cfg: no verity table in wisp_dm");
	if (strcmp(p->alg, "sha256") != 0 || p->hash_bs < 64 || (p->hash_bs & (p->hash_bs - 1)))
		return ib_err_set(err, 0,
				  "/A/slot.cfg: verity %s with %llu-byte hash blocks: "
				  "only sha256 and a power of two",
				  p->alg, p->hash_bs);
	return 0;
}

/* The tree's size as the kernel computes it (dm-verity-target.c): each level
 * hashes the one below, hash_bs / 32 digests a block, up to a single block. */
int ib_iso_root_bytes(const char *dm, uint64_t *bytes, struct ib_err *err)
{
	struct vparams p;
	uint64_t blocks, tree = 0, per;

	if (verity_params(dm, &p, err) < 0)
		return -1;
	per = p.hash_bs / 32;
	blocks = p.data_blocks;
	do {
		blocks = (blocks + per - 1) / per;
		tree += blocks;
	} while (blocks > 1);
	*bytes = (p.hash_start + tree) * p.hash_bs;
	/* the data lies before the tree on the same device */
	if (p.data_blocks * p.data_bs > p.hash_start * p.hash_bs)
		return ib_err_set(err, 0, "/A/slot.cfg: the hash tree starts inside the data");
	return 0;
}

char *ib_iso_on_device(const char *table, const char *dev)
{
	char *out = ib_strdup("");

	for (const char *w = table; *w;) {
		size_t len = strcspn(w, " ");
		char *next = strncmp(w, "PARTUUID=", 9) == 0
				 ? ib_asprintf("%s%s%s", out, *out ? " " : "", dev)
				 : ib_asprintf("%s%s%.*s", out, *out ? " " : "", (int)len, w);

		free(out);
		out = next;
		w += len + strspn(w + len, " ");
	}
	return out;
}

/* slot.cfg's "NAME,UUID,MINOR,FLAGS,TABLE": first the linear device over the
 * CD (minor 0, so 253:0), then the slot's device (minor 1: root=/dev/dm-1) with
 * its table moved from the partition onto the linear device. */
static char *live_dm(const char *dm, uint64_t root_sectors)
{
	const char *c[4];
	char *table, *out;

	c[0] = strchr(dm, ',');
	for (int i = 1; i < 4; i++)
		if (!c[i - 1] || !(c[i] = strchr(c[i - 1] + 1, ',')))
			return NULL;
	if (!c[3])
		return NULL;
	table = ib_iso_on_device(c[3] + 1, LIVE_LINEAR_DEV);
	out = ib_asprintf("wisp-live,,0,ro,0 %llu linear " LIVE_CD " " IB_ISO_LBA_MARK
			  ";%.*s,1,%.*s,%s",
			  (unsigned long long)root_sectors, (int)(c[1] - dm), dm,
			  (int)(c[3] - c[2] - 1), c[2] + 1, table);
	free(table);
	return out;
}

/* The slot's arguments changed for the CD (iso.h's struct ib_live_arg): its
 * partition and slot are not there. */
static const struct ib_live_arg arg_rules[] = {
    {"dm-mod.waitfor=", "dm-mod.waitfor=/dev/sr0"},
    {"root=", "root=/dev/dm-1"},
    {"wisp.slot=", NULL}, /* no slot: the updater has no ESP to write */
    {NULL, NULL},
};

/* Does word W (LEN bytes) match RULE's prefix: a key ending in '=' or a whole word? */
static bool arg_matches(const char *w, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return prefix[n - 1] == '=' ? len >= n && strncmp(w, prefix, n) == 0
				    : len == n && strncmp(w, prefix, n) == 0;
}

char *ib_iso_live_args(const char *args, const struct ib_live_arg *rules)
{
	/* wisp.live=1: PID 1 puts /var on a tmpfs without looking for STATE, provision
	 * declares no boot-good; wisp.tries= and wisp.rollback= empty, as GRUB passes
	 * them on a disk's ordinary boot: `update watch` ends at once, no grubenv read */
	char *out = ib_strdup("wisp.live=1 wisp.tries= wisp.rollback=");

	for (const char *w = args; *w;) {
		size_t len = strcspn(w, " ");
		const struct ib_live_arg *r = rules;
		char *next;

		while (r->prefix && !arg_matches(w, len, r->prefix))
			r++;
		if (!r->prefix || r->live) {
			next = r->prefix ? ib_asprintf("%s %s", out, r->live)
					 : ib_asprintf("%s %.*s", out, (int)len, w);
			free(out);
			out = next;
		}
		w += len + strspn(w + len, " ");
	}
	return out;
}

char *ib_iso_grub_cfg(const struct ib_iso_slot *s, uint64_t root_sectors, size_t *mark)
{
	char *dm = live_dm(s->dm, root_sectors), *args = ib_iso_live_args(s->args, arg_rules);
	char *qdm = dm ? single_quoted(dm) : NULL, *qargs = single_quoted(args), *cfg = NULL;
	const char *at;

	if (qdm && qargs)
		cfg = ib_asprintf(
		    "# Written by image-builder convert --format iso: slot A's kernel and ROOT\n"
		    "# on this CD, ROOT verified (docs/image-spec.md, \"Cloud image formats\").\n"
		    "serial --unit=0 --speed=115200\n"
		    "terminal_input serial console\nterminal_output serial console\n"
		    "set timeout=0\nset wisp_dm=%s\nset wisp_args=%s\n"
		    "set wisp_linux=linux\n" IB_GRUB_STUB_CFG
		    "menuentry \"Wisp %s (live)\" --id wisp-live {\n"
		    "\techo \"Wisp %s, live medium\"\n"
		    "\t$wisp_linux /boot/vmlinuz \"dm-mod.create=$wisp_dm\" $wisp_args\n}\n",
		    qdm, qargs, s->version, s->version);
	free(dm), free(args), free(qdm), free(qargs);
	/* exactly one mark: the patch after the layout must find its place */
	if (cfg && (!(at = strstr(cfg, IB_ISO_LBA_MARK)) || strstr(at + 1, IB_ISO_LBA_MARK))) {
		free(cfg);
		return NULL;
	}
	if (cfg)
		*mark = (size_t)(at - cfg);
	return cfg;
}

/* ---- GRUB's images -------------------------------------------------------- */

static const char *const live_modules[] = {
    "iso9660", "search", "search_fs_uuid", "configfile", "normal", "linux",
    "boot",    "serial", "terminal",	   "echo",	 "test",   NULL,
};

/* UEFI's own: its console, and the measured boot (docs/security.md): GRUB measures the
 * CD's grub.cfg and kernel into the TPM, and linuxefi starts the kernel through its EFI
 * stub, which hands it the firmware's event log (the CD has no Secure Boot) */
static const char *const efi_extra[] = {"efi_gop", "tpm", "linuxefi", NULL};
static const char *const bios_extra[] = {"biosdisk", NULL};

int ib_live_mkimage(const char *format, const char *prefix, const char *const *const *lists,
		    const char *early, const char *out, struct ib_err *err)
{
	/* the modules of i386-pc-eltorito (and -pxe) are i386-pc's: the platform is the
	 * format's first two words */
	const char *dash = strchr(format, '-');
	size_t plat = dash && strchr(dash + 1, '-') ? (size_t)(strchr(dash + 1, '-') - format)
						    : strlen(format);
	char *moddir = ib_asprintf("%s/%.*s", IB_GRUB_DIR, (int)plat, format);
	const char *argv[48] = {"grub-mkimage", "-O", format, "-d", moddir, "-p",
				prefix,		"-c", early,  "-o", out};
	size_t n = 11;
	int ret;

	for (; *lists; lists++)
		for (const char *const *m = *lists; *m && n + 1 < ARRAY_SIZE(argv); m++)
			argv[n++] = *m;
	argv[n] = NULL;
	ret = ib_run(argv, NULL, err);
	free(moddir);
	return ret < 0 ? ib_err_ctx(err, "GRUB %s image", format) : 0;
}

/* The El Torito EFI image: a FAT image that the firmware reads as the CD's
 * EFI system partition, sized to BOOTX64.EFI with room for FAT's tables. */
static int efi_image(const char *efi, const char *out, const char *uuid, time_t epoch,
		     struct ib_err *err)
{
	static const char *const dirs[] = {"::/EFI", "::/EFI/BOOT", NULL};
	const struct ib_esp_file files[] = {{efi, "::/EFI/BOOT/BOOTX64.EFI"}};
	uint64_t size;

	if (ib_file_size(efi, &size, NULL, err) < 0 || ib_set_mtime(efi, epoch, err) < 0)
		return -1;
	size = (size + 256 * IB_KIB + IB_MIB - 1) / IB_MIB * IB_MIB;
	return ib_esp_build(out, size, ib_fat_volid(uuid), dirs, files, 1, err);
}

int ib_iso_grub_images(const char *dir, const char *tree, const char *iso_uuid, time_t epoch,
		       struct ib_err *err)
{
	char *early = ib_path_join(dir, "early.cfg"), *efi = ib_path_join(dir, "BOOTX64.EFI");
	char *bios = ib_path_join(tree, "boot/bios.img"), *fat = ib_path_join(tree, "boot/efi.img");
	/* GRUB's root is the CD, found by the volume UUID xorriso writes (the ISO's
	 * date), whether the firmware started GRUB from the CD or its FAT image */
	char *cfg = ib_asprintf("search --no-floppy --fs-uuid --set=root %s\n"
				"set prefix=($root)/boot/grub\n"
				"configfile ($root)/boot/grub/grub.cfg\n",
				iso_uuid);
	const char *const *bios_lists[] = {live_modules, bios_extra, NULL};
	const char *const *efi_lists[] = {live_modules, efi_extra, NULL};
	int ret = -1;

	if (ib_write_file(early, cfg, strlen(cfg), 0644, err) == 0 &&
	    ib_live_mkimage("i386-pc-eltorito", "/boot/grub", bios_lists, early, bios, err) == 0 &&
	    ib_live_mkimage("x86_64-efi", "/boot/grub", efi_lists, early, efi, err) == 0 &&
	    efi_image(efi, fat, iso_uuid, epoch, err) == 0)
		ret = 0;
	free(early), free(efi), free(bios), free(fat), free(cfg);
	return ret;
}
