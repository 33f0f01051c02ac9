/* build.c: spec -> partitions -> disk image.
 *
 * Every intermediate file lives in one private directory under --tmpdir;
 * the outputs are written to temporary names next to their final ones and
 * renamed only when everything succeeded, so a failed or interrupted build
 * leaves the previous outputs (or nothing) behind, never a partial image.
 */
#include "image-builder.h"
#include "live.h"
#include "../init/update/update.h"
#include "../init/lib/regcfg.h"
#include "../init/lib/decl.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { P_BIOS, P_ESP, P_ROOT_A, P_ROOT_B, P_STATE, NPARTS };
/* The outputs: the disk image first (make compares it against its inputs, and
 * the others must not look older), then its siblings: the kernel and command
 * line for direct -kernel boots, ROOT with its verity tree and the tree's
 * parameters (what an update bundle carries, docs/update-bundle.md). */
enum { O_IMAGE, O_KERNEL, O_CMDLINE, O_ROOT, O_VERITY, NOUTS };

#define BIOS_BOOT_SIZE IB_MIB

struct build {
	const struct ib_opts *o;
	struct ib_spec spec;
	struct ib_manifest man;
	struct ib_deps deps;
	struct ib_gpt gpt;
	time_t epoch;
	char *tmp;	      /* private temp directory */
	char *out[NOUTS];     /* final names ([O_IMAGE] is o->out's copy) */
	char *tmp_out[NOUTS]; /* before rename */
	struct ib_verity verity;
	struct ib_slotb slotb; /* update.slot_b's bundle, when the spec has one */
	struct ib_secboot sb;  /* secure_boot's signer, when the spec has one */
	char partuuid[NPARTS][37];
	char volid[10];
	uint64_t esp_files, root_size, state_alloc, kernel_size, core_size, efi_size;
};

/* ---- inputs ---------------------------------------------------------- */

static struct ib_deps *nftw_deps;

static int add_file_dep(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	return flag == FTW_F && S_ISREG(st->st_mode) ? ib_deps_add(nftw_deps, path) : 0;
}

/* An archive may be an OCI layout directory: every file in it. */
static int image_deps(struct build *b)
{
	int ret = 0;

	if (b->spec.nimages)
		ret |= ib_deps_add(&b->deps, b->o->containerd_lite);
	nftw_deps = &b->deps;
	for (size_t i = 0; i < b->spec.nimages; i++)
		ret |= nftw(b->spec.images[i].archive, add_file_dep, 16, FTW_PHYS);
	return ret;
}

static int collect_deps(struct build *b)
{
	int ret = ib_deps_add(&b->deps, b->o->spec);

	ret |= ib_deps_add(&b->deps, b->spec.kernel_image);
	for (size_t i = 0; i < b->spec.nupdate_keys; i++)
		ret |= ib_deps_add(&b->deps, b->spec.update_keys[i]);
	if (b->spec.update_slot_b)
		ret |= ib_deps_add(&b->deps, b->spec.update_slot_b);
	if (b->spec.sb_key) {
		ret |= ib_deps_add(&b->deps, b->spec.sb_key);
		ret |= ib_deps_add(&b->deps, b->spec.sb_cert);
		ret |= ib_deps_add(&b->deps, b->spec.sb_gpg_key);
	}
	for (size_t i = 0; i < b->man.nfiles; i++)
		ret |= ib_deps_add(&b->deps, b->man.files[i]);
	for (size_t i = 0; i < b->man.n; i++)
		if (b->man.e[i].type == IB_M_FILE)
			ret |= ib_deps_add(&b->deps, b->man.e[i].arg);
	return ret | image_deps(b);
}

static int load_inputs(struct build *b, struct ib_err *err)
{
	if (ib_spec_load(&b->spec, b->o->spec, err) < 0)
		return -1;
	if (ib_manifest_load(&b->man, b->spec.manifest, err) < 0)
		return -1;
	if (collect_deps(b) < 0)
		return ib_err_set(err, ENOMEM, "dependency list");
	return 0;
}

int ib_source_date(time_t *epoch, struct ib_err *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s) {
		*epoch = IB_DEFAULT_EPOCH;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	/* FAT can't date anything before 1980. */
	if (errno || *end || v < 315532800 || v > 4102444800)
		return ib_err_set(
		    err, 0, "SOURCE_DATE_EPOCH=%s: expected seconds between 1980 and 2100", s);
	*epoch = (time_t)v;
	return 0;
}

static int read_epoch(struct build *b, struct ib_err *err)
{
	char buf[32];

	if (ib_source_date(&b->epoch, err) < 0)
		return -1;
	/* The tools read it too (mtools for directory dates, mkfs.erofs). */
	snprintf(buf, sizeof(buf), "%lld", (long long)b->epoch);
	setenv("SOURCE_DATE_EPOCH", buf, 1);
	return 0;
}

/* ---- names and identifiers ------------------------------------------- */

static char *sibling(const char *out, const char *ext)
{
	size_t n = strlen(out);

	if (n > 4 && strcmp(out + n - 4, ".img") == 0)
		n -= 4;
	return ib_asprintf("%.*s%s", (int)n, out, ext);
}

static int make_tmpdir(struct build *b, struct ib_err *err)
{
	char *dir;

	if (ib_mkdir_p(b->o->tmpdir, 0755, err) < 0)
		return -1;
	dir = ib_asprintf("%s/image-builder.XXXXXX", b->o->tmpdir);
	if (!mkdtemp(dir)) {
		int ret = ib_err_set(err, errno, "create temporary directory %s", dir);

		free(dir);
		return ret;
	}
	b->tmp = dir;
	return 0;
}

static char *tmp_path(const struct build *b, const char *name)
{
	return ib_path_join(b->tmp, name);
}

static void derive_partitions(struct build *b)
{
	static const char *const names[NPARTS] = {"BIOS-BOOT", "ESP", "ROOT-A", "ROOT-B", "STATE"};
	static const char *const types[NPARTS] = {IB_TYPE_BIOS_BOOT, IB_TYPE_ESP, IB_TYPE_ROOT_X64,
						  IB_TYPE_ROOT_X64, IB_TYPE_LINUX};
	const uint64_t sizes[NPARTS] = {BIOS_BOOT_SIZE, b->spec.esp_size, b->spec.root_size,
					b->spec.root_size, b->spec.state_size};

	ib_uuid_derive(b->gpt.disk_guid, b->spec.name, "disk");
	b->gpt.nparts = NPARTS;
	for (int i = 0; i < NPARTS; i++) {
		struct ib_part *p = &b->gpt.part[i];

		p->name = names[i];
		uuid_parse(types[i], p->type);
		ib_part_uuid(p->uuid, b->spec.name, names[i]);
		uuid_unparse_lower(p->uuid, b->partuuid[i]);
		p->size = sizes[i];
	}
	ib_fat_volid_str(ib_fat_volid(b->spec.name), b->volid);
}

/* ---- ROOT -------------------------------------------------------------- */

/* A file (mode: its mode) or directory (0755) the builder writes into ROOT from the spec. */
static int add_generated_mode(struct build *b, const char *path, enum ib_mtype type,
			      const char *data, mode_t mode, struct ib_err *err)
{
	struct ib_mentry e = {
	    .type = type, .path = (char *)path, .mode = mode, .origin = b->o->spec, .line = 0};
	const struct ib_mentry *old = ib_manifest_find(&b->man, path);

	if (type == IB_M_DIR) {
		if (old && old->type == IB_M_DIR)
			return 0; /* the manifest's own mode wins */
		e.mode = 0755;
	} else {
		e.arg = (char *)data, e.len = strlen(data);
	}
	if (old)
		return ib_err_set(err, 0,
				  "%s:%u: %s: written by the builder from the spec; "
				  "remove it from the manifest",
				  old->origin, old->line, path);
	if (ib_manifest_add(&b->man, &e, err) < 0)
		return ib_err_ctx(err, "adding builder file");
	return 0;
}

static int add_generated(struct build *b, const char *path, enum ib_mtype type, const char *data,
			 struct ib_err *err)
{
	return add_generated_mode(b, path, type, data, 0644, err);
}

/* update.key's Nth key in ROOT: image.pub, then image-2.pub... (the updater trusts
 * every *.pub of the directory), each checked as the updater reads it. */
static int add_update_key(struct build *b, size_t n, struct ib_err *err)
{
	const char *path = b->spec.update_keys[n];
	char *text = NULL, *dst;
	struct upd_pubkey k;
	struct err e;
	size_t len;
	int ret = ib_read_file(path, &text, &len, err);

	if (ret == 0 && (len != strlen(text) || upd_pubkey_parse(text, len, path, &k, &e) < 0))
		ret = ib_err_set(err, 0, "update.key %s: not a minisign public key", path);
	dst = n ? ib_asprintf("/etc/wisp/update-keys/image-%zu.pub", n + 1)
		: ib_strdup("/etc/wisp/update-keys/image.pub");
	if (ret == 0)
		ret = add_generated(b, dst, IB_M_DATA, text, err);
	free(text), free(dst);
	return ret;
}

/* registries' ca as a path: a file (or a symlink, not followed) that ROOT holds, as the
 * manifest and the builder list it: else every pull from that registry would fail. */
static int check_registry_ca(struct build *b, size_t i, struct ib_err *err)
{
	const struct reg_cfg *r = &b->spec.registries[i];
	const unsigned *at = b->spec.registry_ca_at[i];
	const struct ib_mentry *e = at[0] ? ib_manifest_find(&b->man, r->ca) : NULL;

	if (!at[0] || (e && e->type != IB_M_DIR))
		return 0;
	return ib_err_set(err, 0, "%s:%u:%u: key \"registries.%s.ca\": %s: %s", b->o->spec, at[0],
			  at[1], r->host, r->ca,
			  e ? "a directory of ROOT, not a file"
			    : "not in ROOT (the manifest lists no such file)");
}

/* registries: containerd-lite's files, rendered by init/lib/regcfg.c as provision renders
 * user-data's wisp.registries (whose files, written at every boot, replace these). */
static int add_registry_files(struct build *b, struct ib_err *err)
{
	struct reg_file *f = NULL;
	size_t n = 0;
	int ret = 0;

	if (b->spec.nregistries && reg_render(b->spec.registries, b->spec.nregistries, &f, &n) < 0)
		return ib_err_set(err, ENOMEM, "registries");
	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (strncmp(f[i].path, REG_CA_DIR "/", sizeof(REG_CA_DIR)) == 0)
			ret = add_generated(b, REG_CA_DIR, IB_M_DIR, NULL, err);
		if (ret == 0)
			ret =
			    add_generated_mode(b, f[i].path, IB_M_DATA, f[i].text, f[i].mode, err);
	}
	for (size_t i = 0; ret == 0 && i < b->spec.nregistries; i++)
		ret = check_registry_ca(b, i, err);
	reg_files_free(f, n);
	return ret;
}

/* For the updater (docs/update.md): the image's name, which a bundle's variant must
 * match, and update.key, the keys a bundle must be signed with (one of). */
static int add_update_files(struct build *b, struct ib_err *err)
{
	char *variant = ib_asprintf("%s\n", b->spec.name);
	int ret = add_generated(b, "/etc/wisp/variant", IB_M_DATA, variant, err);

	if (ret == 0 && b->spec.nupdate_keys)
		ret = add_generated(b, "/etc/wisp/update-keys", IB_M_DIR, NULL, err);
	for (size_t i = 0; ret == 0 && i < b->spec.nupdate_keys; i++)
		ret = add_update_key(b, i, err);
	free(variant);
	return ret;
}

static int add_spec_files(struct build *b, struct ib_err *err)
{
	char *hostname = ib_asprintf("%s\n", b->spec.hostname), hosts[512];
	char *live_store = tmp_path(b, "live-store.ext4");
	char *image_yaml = ib_asprintf("# Written by image-builder from %s; read by init "
				       "(docs/declarations.md).\n%s",
				       b->o->spec, b->spec.services_yaml);
	int ret = add_generated(b, "/etc", IB_M_DIR, NULL, err);

	if (ret == 0)
		ret = add_generated(b, "/etc/hostname", IB_M_DATA, hostname, err);
	/* what init once wrote at every boot, with init's text (init/lib/etcfiles.c) */
	if (ret == 0 && etc_hosts_render(b->spec.hostname, hosts, sizeof(hosts)) < 0)
		ret = ib_err_set(err, 0, "%s: hostname too long for /etc/hosts", b->o->spec);
	if (ret == 0)
		ret = add_generated(b, "/etc/hosts", IB_M_DATA, hosts, err);
	if (ret == 0)
		ret = add_generated(b, "/etc/resolv.conf", IB_M_DATA, etc_resolv_placeholder, err);
	if (ret == 0)
		ret = add_generated(b, "/etc/wisp", IB_M_DIR, NULL, err);
	if (ret == 0)
		ret = add_generated(b, "/etc/wisp/image.yaml", IB_M_DATA, image_yaml, err);
	/* their content is compiled from the staged tree (decls.c, build_root) */
	if (ret == 0)
		ret = add_generated(b, DECL_DIR "/" DECL_UNITS_FILE, IB_M_DATA, "", err);
	if (ret == 0)
		ret = add_generated(b, DECL_DIR "/" DECL_EARLY_FILE, IB_M_DATA, "", err);
	/* firewall.allow: read by provision (init/provision/firewall.c) */
	if (ret == 0 && b->spec.firewall_allow)
		ret =
		    add_generated(b, "/etc/wisp/firewall", IB_M_DATA, b->spec.firewall_allow, err);
	/* bridge.subnet: read by containerd-lite network (cli/network.c) */
	if (ret == 0 && b->spec.bridge_subnet) {
		char text[64];
		snprintf(text, sizeof(text), "subnet %s\n", b->spec.bridge_subnet);
		ret = add_generated(b, "/etc/wisp/bridge", IB_M_DATA, text, err);
	}
	if (ret == 0)
		ret = add_update_files(b, err);
	if (ret == 0)
		ret = add_registry_files(b, err);
	/* the live media's (live.c): a live boot has no STATE */
	if (ret == 0)
		ret = ib_live_files(&b->man, &b->spec, live_store, b->epoch, b->o->spec, err);
	free(hostname);
	free(live_store);
	free(image_yaml);
	return ret;
}

static int build_root(struct build *b, struct ib_err *err)
{
	char *dir = tmp_path(b, "root"), *img = tmp_path(b, "root.erofs");
	uuid_t uuid;
	int ret = add_spec_files(b, err);

	ib_uuid_derive(uuid, b->spec.name, "root/erofs");
	if (ret == 0 && mkdir(dir, 0755) < 0)
		ret = ib_err_set(err, errno, "mkdir %s", dir);
	if (ret == 0)
		ret = ib_stage_tree(&b->man, dir, b->epoch, err);
	if (ret == 0)
		ret = ib_compile_decls(dir, b->o->allow_decl_errors, err);
	if (ret == 0)
		ret = ib_erofs_build(img, dir, uuid, b->epoch, ib_manifest_all_root(&b->man),
				     b->spec.root_size, err);
	if (ret == 0)
		ret = ib_verity_format(img, b->spec.name, b->spec.root_size, &b->verity, err);
	b->root_size = b->verity.total_size;
	free(dir);
	free(img);
	return ret;
}

/* ---- STATE ------------------------------------------------------------- */

/* With images (bake.c), STATE is made from a staged tree. */
static int build_state(struct build *b, struct ib_err *err)
{
	char *img = tmp_path(b, "state.ext4"), *scratch = tmp_path(b, "verify-store");
	char *dir = b->spec.nimages ? tmp_path(b, "state") : NULL;
	uuid_t uuid, seed;
	int ret;

	ib_uuid_derive(uuid, b->spec.name, "state/ext4");
	ib_uuid_derive(seed, b->spec.name, "state/ext4-hash-seed");
	ret = dir && mkdir(dir, 0755) < 0 ? ib_err_set(err, errno, "mkdir %s", dir) : 0;
	if (ret == 0 && dir)
		ret = ib_bake_stage(&b->spec, b->o->containerd_lite, dir, scratch, b->epoch, err);
	if (ret == 0)
		ret = ib_ext4_build(img, b->spec.state_size, uuid, seed, b->epoch, dir, err);
	if (ret == 0 && dir)
		ret = ib_bake_fix(img, dir, b->epoch, err);
	if (ret == 0)
		ret = ib_file_size(img, NULL, &b->state_alloc, err);
	free(img), free(dir), free(scratch);
	return ret;
}

/* ---- GRUB and ESP -------------------------------------------------------- */

/* Write a generated ESP file with the fixed mtime mcopy -m will keep. */
static int write_dated(const struct build *b, const char *name, const void *data, size_t len,
		       struct ib_err *err)
{
	char *path = tmp_path(b, name);
	int ret = ib_write_file(path, data, len, 0644, err);

	if (ret == 0)
		ret = ib_set_mtime(path, b->epoch, err);
	free(path);
	return ret;
}

/* update.slot_b's bundle into b.vmlinuz and b.root, and its /B/slot.cfg. */
static int build_slot_b(struct build *b, struct ib_err *err)
{
	char *kernel = tmp_path(b, "b.vmlinuz"), *root = tmp_path(b, "b.root"), *cfg = NULL;
	int ret = ib_slotb_unpack(&b->spec, kernel, root, &b->slotb, err);

	if (ret == 0 && b->slotb.verity.total_size > b->spec.root_size)
		ret = ib_err_set(err, 0, "update.slot_b: its root is larger than disk.root_size");
	if (ret == 0)
		ret = ib_set_mtime(kernel, b->epoch, err);
	if (ret == 0) {
		cfg = ib_slot_cfg('B', b->partuuid[P_ROOT_B], &b->slotb.verity, b->slotb.version,
				  b->slotb.cmdline, NULL);
		ret = write_dated(b, "b.slot.cfg", cfg, strlen(cfg), err);
	}
	free(kernel), free(root), free(cfg);
	return ret;
}

/* grubenv: the spec's default slot; with a system in both slots, the other one is
 * wisp_prev, what GRUB falls back to, and GRUB counts the default slot's boots: it is
 * wisp_good, the image's own, so that only the system's failures count there, no unit's
 * health (docs/update.md). */
static int write_grubenv(struct build *b, struct ib_err *err)
{
	char slot_var[] = "wisp_slot=A", prev_var[] = "wisp_prev=B", good_var[] = "wisp_good=A";
	const char *vars[] = {slot_var, prev_var, good_var};
	uint8_t env[IB_GRUBENV_SIZE];
	int ret;

	slot_var[sizeof(slot_var) - 2] = b->spec.default_slot;
	good_var[sizeof(good_var) - 2] = b->spec.default_slot;
	prev_var[sizeof(prev_var) - 2] = b->spec.default_slot == 'A' ? 'B' : 'A';
	ret = ib_grubenv_block(env, vars, b->spec.update_slot_b ? 3 : 1, err);
	if (ret == 0)
		ret = write_dated(b, "grubenv", env, sizeof(env), err);
	return ret;
}

static int write_grub_config(struct build *b, struct ib_err *err)
{
	char *early = ib_grub_early_cfg(b->volid, false);
	char *efi_early = ib_grub_early_cfg(b->volid, b->spec.sb_key != NULL);
	char *cfg = ib_grub_cfg(b->spec.timeout, b->spec.default_slot, !b->spec.sb_key);
	char *slot = ib_slot_cfg('A', b->partuuid[P_ROOT_A], &b->verity, WISP_VERSION,
				 b->spec.kernel_cmdline, NULL);
	int ret = write_dated(b, "early.cfg", early, strlen(early), err);

	if (ret == 0)
		ret = write_dated(b, "early-efi.cfg", efi_early, strlen(efi_early), err);
	if (ret == 0)
		ret = write_dated(b, "grub.cfg", cfg, strlen(cfg), err);
	if (ret == 0)
		ret = write_dated(b, "slot.cfg", slot, strlen(slot), err);
	if (ret == 0 && b->spec.update_slot_b)
		ret = build_slot_b(b, err);
	if (ret == 0)
		ret = write_grubenv(b, err);
	free(early), free(efi_early), free(cfg), free(slot);
	return ret;
}

/* Secure Boot: GRUB's EFI image with the OpenPGP key, signed for the firmware's db. */
static int build_signed_efi(struct build *b, const char *early, const char *efi, struct ib_err *err)
{
	char *unsigned_efi = tmp_path(b, "grubx64-unsigned.efi");
	int ret = ib_sb_begin(&b->sb, &b->spec, b->tmp, b->epoch, err);

	if (ret == 0)
		ret = ib_grub_mkimage("x86_64-efi", early, b->sb.pubkey, unsigned_efi, err);
	if (ret == 0)
		ret = ib_sb_pe_sign(&b->sb, unsigned_efi, efi, err);
	free(unsigned_efi);
	return ret;
}

static int build_grub(struct build *b, struct ib_err *err)
{
	char *early = tmp_path(b, "early.cfg"), *core = tmp_path(b, "core.img");
	char *efi = tmp_path(b, "BOOTX64.EFI"), *efi_early = tmp_path(b, "early-efi.cfg");
	int ret = write_grub_config(b, err);

	if (ret == 0)
		ret = ib_grub_mkimage("i386-pc", early, NULL, core, err);
	if (ret == 0 && b->spec.sb_key)
		ret = build_signed_efi(b, efi_early, efi, err);
	else if (ret == 0)
		ret = ib_grub_mkimage("x86_64-efi", efi_early, NULL, efi, err);
	if (ret == 0)
		ret = ib_set_mtime(efi, b->epoch, err);
	if (ret == 0)
		ret = ib_file_size(core, &b->core_size, NULL, err);
	if (ret == 0)
		ret = ib_file_size(efi, &b->efi_size, NULL, err);
	if (ret == 0 && b->core_size > BIOS_BOOT_SIZE)
		ret = ib_err_set(err, EFBIG, "core.img is larger than the BIOS boot partition");
	free(early), free(core), free(efi), free(efi_early);
	return ret;
}

/* Secure Boot: GRUB reads each of these only with a good detached .sig beside it. */
static int sign_esp_files(struct build *b, struct ib_esp_file *files, size_t *n, struct ib_err *err)
{
	size_t signed_n = *n;

	for (size_t i = 1; i < signed_n; i++) { /* [0], GRUB's image, is the firmware's */
		if (strcmp(files[i].dst, "::/grub/grubenv") == 0)
			continue; /* GRUB writes it: grub.cfg checks what it reads from it */
		files[*n].src = ib_asprintf("%s.sig", files[i].src);
		if (ib_sb_detach_sign(&b->sb, files[i].src, files[*n].src, err) < 0) {
			free((char *)files[*n].src);
			return -1;
		}
		files[(*n)++].dst = ib_asprintf("%s.sig", files[i].dst);
	}
	return 0;
}

static int build_esp(struct build *b, struct ib_err *err)
{
	static const char *const dirs[] = {"::/EFI", "::/EFI/BOOT", "::/grub",
					   "::/A",   "::/B",	    NULL};
	static const char *const names[][2] = {
	    {"BOOTX64.EFI", "::/EFI/BOOT/BOOTX64.EFI"},
	    {"grub.cfg", "::/grub/grub.cfg"},
	    {"grubenv", "::/grub/grubenv"},
	    {"vmlinuz", "::/A/vmlinuz"},
	    {"slot.cfg", "::/A/slot.cfg"},
	    {"b.vmlinuz", "::/B/vmlinuz"}, /* the last two: update.slot_b's */
	    {"b.slot.cfg", "::/B/slot.cfg"},
	};
	enum { NNAMES = sizeof(names) / sizeof(names[0]) };
	struct ib_esp_file files[2 * NNAMES];
	size_t n = NNAMES - (b->spec.update_slot_b ? 0 : 2), base = n;
	char *img = tmp_path(b, "esp.img"), *kernel = tmp_path(b, "vmlinuz");
	int ret = ib_copy_file(b->spec.kernel_image, kernel, 0644, err);

	for (size_t i = 0; i < n; i++)
		files[i] = (struct ib_esp_file){tmp_path(b, names[i][0]), names[i][1]};
	if (ret == 0)
		ret = ib_set_mtime(kernel, b->epoch, err);
	if (ret == 0)
		ret = ib_file_size(kernel, &b->kernel_size, NULL, err);
	if (ret == 0 && b->spec.sb_key)
		ret = sign_esp_files(b, files, &n, err);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		uint64_t size;

		ret = ib_file_size(files[i].src, &size, NULL, err);
		b->esp_files += size;
	}
	if (ret == 0)
		ret = ib_esp_build(img, b->spec.esp_size, ib_fat_volid(b->spec.name), dirs, files,
				   n, err);
	for (size_t i = 0; i < n; i++) {
		free((char *)files[i].src);
		if (i >= base)
			free((char *)files[i].dst);
	}
	free(img), free(kernel);
	return ret;
}

/* ---- the disk image -------------------------------------------------------- */

static int create_tmp_output(struct build *b, int idx, const char *final, int *fd,
			     struct ib_err *err)
{
	char *copy = ib_strdup(final), *copy2 = ib_strdup(final);
	char *path = ib_asprintf("%s/.%s.XXXXXX", dirname(copy), basename(copy2));

	free(copy), free(copy2);
	if ((*fd = mkostemp(path, O_CLOEXEC)) < 0) {
		int ret = ib_err_set(err, errno, "create %s", path);

		free(path);
		return ret;
	}
	b->tmp_out[idx] = path;
	if (fchmod(*fd, 0644) < 0)
		return ib_err_set(err, errno, "chmod %s", path);
	return 0;
}

static int write_boot_area(struct build *b, int fd, const char *name, struct ib_err *err)
{
	uint8_t mbr[IB_SECTOR] = {0}, boot[IB_SECTOR];
	uint64_t core_lba = b->gpt.part[P_BIOS].first_lba;
	char *core_path = tmp_path(b, "core.img");
	char *boot_path = ib_asprintf("%s/i386-pc/boot.img", IB_GRUB_DIR);
	char *core = NULL, *bootimg = NULL;
	size_t core_len, boot_len;
	int ret = ib_read_file(boot_path, &bootimg, &boot_len, err);

	if (ret == 0 && boot_len != IB_SECTOR)
		ret = ib_err_set(err, 0, "%s: not %u bytes", boot_path, IB_SECTOR);
	if (ret == 0)
		ret = ib_read_file(core_path, &core, &core_len, err);
	if (ret == 0) {
		memcpy(boot, bootimg, IB_SECTOR);
		ib_gpt_pmbr(&b->gpt, mbr);
		ret = ib_bios_patch_mbr(mbr, boot, core_lba, err);
	}
	if (ret == 0)
		ret = ib_bios_patch_core((uint8_t *)core, core_len, core_lba, err);
	if (ret == 0)
		ret = ib_pwrite_all(fd, mbr, IB_SECTOR, 0, name, err);
	if (ret == 0)
		ret = ib_pwrite_all(fd, core, core_len, core_lba * IB_SECTOR, name, err);
	free(core_path), free(boot_path), free(core), free(bootimg);
	return ret;
}

static int write_gpt(struct build *b, int fd, const char *name, struct ib_err *err)
{
	static uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR];
	uint8_t hdr[IB_SECTOR];
	uint64_t last = b->gpt.total_sectors - 1;

	ib_gpt_entries(&b->gpt, entries);
	ib_gpt_header(&b->gpt, false, entries, hdr);
	if (ib_pwrite_all(fd, hdr, sizeof(hdr), IB_SECTOR, name, err) < 0 ||
	    ib_pwrite_all(fd, entries, sizeof(entries), 2 * IB_SECTOR, name, err) < 0)
		return -1;
	ib_gpt_header(&b->gpt, true, entries, hdr);
	if (ib_pwrite_all(fd, entries, sizeof(entries), (last - IB_GPT_ENTRY_SECTORS) * IB_SECTOR,
			  name, err) < 0 ||
	    ib_pwrite_all(fd, hdr, sizeof(hdr), last * IB_SECTOR, name, err) < 0)
		return -1;
	return 0;
}

static int place(struct build *b, int fd, int part, const char *file, const char *name,
		 struct ib_err *err)
{
	const struct ib_part *p = &b->gpt.part[part];
	char *path = tmp_path(b, file);
	int ret = ib_copy_sparse(fd, p->first_lba * IB_SECTOR, path, p->size, name, err);

	free(path);
	return ret;
}

static int assemble(struct build *b, struct ib_err *err)
{
	const char *name = b->o->out;
	int fd, ret;

	if (ib_gpt_layout(&b->gpt, err) < 0 || create_tmp_output(b, 0, name, &fd, err) < 0)
		return -1;
	ret = ftruncate(fd, (off_t)(b->gpt.total_sectors * IB_SECTOR));
	if (ret < 0)
		ret = ib_err_set(err, errno, "size %s", b->tmp_out[0]);
	if (ret == 0)
		ret = write_boot_area(b, fd, name, err);
	if (ret == 0)
		ret = write_gpt(b, fd, name, err);
	if (ret == 0)
		ret = place(b, fd, P_ESP, "esp.img", name, err);
	if (ret == 0)
		ret = place(b, fd, P_ROOT_A, "root.erofs", name, err);
	if (ret == 0)
		ret = place(b, fd, P_STATE, "state.ext4", name, err);
	if (ret == 0 && b->spec.update_slot_b) /* else ROOT-B stays zero */
		ret = place(b, fd, P_ROOT_B, "b.root", name, err);
	if (close(fd) < 0 && ret == 0)
		ret = ib_err_set(err, errno, "close %s", b->tmp_out[0]);
	return ret;
}

/* A sibling output: a temporary file next to its final name, then src's
 * bytes or data's. */
static int write_output(struct build *b, int idx, const char *src, const char *data,
			struct ib_err *err)
{
	int fd, ret = create_tmp_output(b, idx, b->out[idx], &fd, err);

	if (fd >= 0)
		close(fd);
	if (ret == 0 && src)
		ret = ib_copy_file(src, b->tmp_out[idx], 0644, err);
	if (ret == 0 && data)
		ret = ib_write_file(b->tmp_out[idx], data, strlen(data), 0644, err);
	return ret;
}

/* wisp.kernel and wisp.cmdline: for direct `qemu -kernel` boots; wisp.root
 * and wisp.verity: what an update bundle is made of. */
static int write_siblings(struct build *b, struct ib_err *err)
{
	char *cmdline =
	    ib_kernel_cmdline('A', b->partuuid[P_ROOT_A], &b->verity, b->spec.kernel_cmdline);
	char *line = ib_asprintf("%s\n", cmdline), *verity = ib_verity_text(&b->verity);
	char *root = tmp_path(b, "root.erofs");
	int ret = write_output(b, O_KERNEL, b->spec.kernel_image, NULL, err);

	if (ret == 0)
		ret = write_output(b, O_CMDLINE, NULL, line, err);
	if (ret == 0)
		ret = write_output(b, O_ROOT, root, NULL, err);
	if (ret == 0)
		ret = write_output(b, O_VERITY, NULL, verity, err);
	free(cmdline), free(line), free(verity), free(root);
	return ret;
}

static int commit_outputs(struct build *b, struct ib_err *err)
{
	if (ib_check_interrupt(err) < 0)
		return -1;
	for (int i = 0; i < NOUTS; i++) {
		if (rename(b->tmp_out[i], b->out[i]) < 0)
			return ib_err_set(err, errno, "rename %s to %s", b->tmp_out[i], b->out[i]);
		free(b->tmp_out[i]);
		b->tmp_out[i] = NULL;
	}
	return 0;
}

/* ---- summary and cleanup ------------------------------------------------------ */

/* One line per artefact (busybox's rule: size is a feature, show it). */
static void summary(const struct build *b)
{
	char h[4][32];
	uint64_t alloc = 0;
	struct ib_err ignored;

	ib_file_size(b->out[O_IMAGE], NULL, &alloc, &ignored);
	printf("image-builder: %s %s (%s allocated), boots slot %c\n", b->out[O_IMAGE],
	       ib_human_size(b->gpt.total_sectors * IB_SECTOR, h[0], 32),
	       ib_human_size(alloc, h[1], 32), b->spec.default_slot);
	printf("  ESP       FAT%u %s, %s used (BOOTX64.EFI %s, A/vmlinuz %s)\n",
	       ib_esp_fat_bits(b->spec.esp_size), ib_human_size(b->spec.esp_size, h[0], 32),
	       ib_human_size(b->esp_files, h[1], 32), ib_human_size(b->efi_size, h[2], 32),
	       ib_human_size(b->kernel_size, h[3], 32));
	printf("  BIOS-BOOT core.img %s of %s\n", ib_human_size(b->core_size, h[0], 32),
	       ib_human_size(BIOS_BOOT_SIZE, h[1], 32));
	printf("  ROOT-A    erofs %s and its verity tree: %s of %s, root hash %s\n",
	       ib_human_size(b->verity.data_blocks * IB_VERITY_BLOCK, h[0], 32),
	       ib_human_size(b->root_size, h[1], 32), ib_human_size(b->spec.root_size, h[2], 32),
	       b->verity.root_hash);
	if (b->spec.update_slot_b)
		printf("  ROOT-B    Wisp %s from %s, root hash %s\n", b->slotb.version,
		       b->spec.update_slot_b, b->slotb.verity.root_hash);
	printf("  STATE     ext4 %s (%s allocated)\n", ib_human_size(b->spec.state_size, h[0], 32),
	       ib_human_size(b->state_alloc, h[1], 32));
	printf("  kernel    %s (%s)\n", ib_human_size(b->kernel_size, h[0], 32), b->out[O_KERNEL]);
	for (size_t i = 0; i < b->spec.nimages; i++) {
		const struct ib_image *img = &b->spec.images[i];

		printf("  image     %s %s (%s%s)\n", img->ref, img->digest, img->archive,
		       img->at_boot ? ", imported at boot" : "");
	}
}

static void cleanup(struct build *b)
{
	for (int i = 0; i < NOUTS; i++) {
		if (b->tmp_out[i])
			unlink(b->tmp_out[i]);
		free(b->tmp_out[i]);
		free(b->out[i]);
	}
	ib_sb_end(&b->sb); /* its agent's socket is in tmp */
	if (b->tmp && !getenv("IB_KEEP_TMP"))
		ib_rm_rf(b->tmp);
	free(b->tmp);
	free(b->slotb.cmdline);
	ib_deps_free(&b->deps);
	ib_manifest_free(&b->man);
	ib_spec_free(&b->spec);
}

static void print_deps(const struct build *b)
{
	for (size_t i = 0; i < b->deps.n; i++)
		printf("%s\n", b->deps.v[i]);
}

/* Like make rules' mkdir -p $(@D), and before any work is done. */
static int make_parent(const char *path, struct ib_err *err)
{
	char *copy = ib_strdup(path);
	int ret = ib_mkdir_p(dirname(copy), 0755, err);

	free(copy);
	return ret;
}

static int run_steps(struct build *b, struct ib_err *err)
{
	if (read_epoch(b, err) < 0 || make_parent(b->o->out, err) < 0 ||
	    (b->o->depfile && make_parent(b->o->depfile, err) < 0) || make_tmpdir(b, err) < 0)
		return -1;
	derive_partitions(b);
	if (build_root(b, err) < 0 || ib_check_interrupt(err) < 0 || build_state(b, err) < 0 ||
	    build_grub(b, err) < 0 || build_esp(b, err) < 0 || assemble(b, err) < 0 ||
	    write_siblings(b, err) < 0 || commit_outputs(b, err) < 0)
		return -1;
	if (b->o->depfile && ib_depfile_write(b->o->depfile, b->o->out, &b->deps, err) < 0)
		return -1;
	summary(b);
	return 0;
}

int ib_build(const struct ib_opts *o, struct ib_err *err)
{
	struct build b = {.o = o};
	int ret = load_inputs(&b, err);

	if (ret == 0 && o->print_deps) {
		print_deps(&b);
	} else if (ret == 0) {
		b.out[O_IMAGE] = ib_strdup(o->out);
		b.out[O_KERNEL] = sibling(o->out, ".kernel");
		b.out[O_CMDLINE] = sibling(o->out, ".cmdline");
		b.out[O_ROOT] = sibling(o->out, ".root");
		b.out[O_VERITY] = sibling(o->out, ".verity");
		ret = run_steps(&b, err);
	}
	cleanup(&b);
	return ret;
}
