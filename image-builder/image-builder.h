/* image-builder.h: the one header of the image builder.
 *
 * The builder turns an image spec (docs/image-spec.md) into a hybrid BIOS/UEFI GPT
 * disk image without privileges: filesystems are made into plain files by the usual
 * mkfs tools and placed into the disk image by offset. Every fallible function returns
 * a negative value and fills a struct ib_err with errno and a message naming the object.
 */
#ifndef WISP_IMAGE_BUILDER_H
#define WISP_IMAGE_BUILDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <uuid/uuid.h>

#ifndef WISP_VERSION
#define WISP_VERSION "unknown"
#endif

#define IB_SECTOR	 512u
#define IB_KIB		 1024ull
#define IB_MIB		 (1024ull * 1024)
#define IB_GIB		 (1024ull * 1024 * 1024)
#define IB_ALIGN	 IB_MIB /* partition alignment */
#define IB_GRUB_DIR	 "/usr/lib/grub"
#define IB_DEFAULT_EPOCH 1767225600 /* used when SOURCE_DATE_EPOCH is unset */

/* ---- errors (err.c) ---------------------------------------------------- */

/* init's struct err's shape; room for messages that quote a tool's output. */
struct ib_err {
	int num;	/* errno of the failure; 0 when there is none */
	char msg[1024]; /* complete: "open x.yaml: No such file or directory" */
};

#define IB_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* err: num and the text (+ ": strerror(num)" if num); -1, to `return ib_err_set(...)`. */
int ib_err_set(struct ib_err *err, int num, const char *fmt, ...) IB_PRINTF(3, 4);
/* Prefix err's message with context: "context: old message". Returns -1. */
int ib_err_ctx(struct ib_err *err, const char *fmt, ...) IB_PRINTF(2, 3);
/* "image-builder: MSG" on one line. */
void ib_err_print(const struct ib_err *err, FILE *f);

extern volatile sig_atomic_t ib_interrupted; /* SIGINT/SIGTERM/SIGHUP: long steps stop */
int ib_check_interrupt(struct ib_err *err);

/* ---- sizes (size.c) ---------------------------------------------------- */

/* "64MiB", "512KiB", "1GiB", "4096" (bytes). -1 with *problem a static description. */
int ib_parse_size(const char *s, uint64_t *out, const char **problem);
/* "64.0 MiB" style, for the summary. */
const char *ib_human_size(uint64_t bytes, char *buf, size_t len);

/* ---- spec (spec.c, spec_emit.c) ---------------------------------------- */

struct ib_image {      /* one entry of the spec's images: list */
	char *archive; /* OCI layout (tar or directory) or docker-archive, relative to -C */
	char *name;    /* reference to record, or NULL: the archive's own */
	bool at_boot;  /* import: boot: copied to /var/lib/wisp/import, imported by init */
	bool live;     /* live: true: also carried in ROOT for the live media (live.c) */
	unsigned line; /* in the spec, for messages */
	char *ref;     /* after the build: the reference and manifest digest recorded */
	char digest[72];
};

#define IB_UPDATE_KEYS_MAX 8

struct ib_spec {
	char *file; /* the spec path, for messages */
	char *name;
	char *hostname;
	uint64_t esp_size, root_size, state_size;
	char *kernel_image;
	char *kernel_cmdline;
	char *manifest;
	char default_slot; /* 'A' or 'B' */
	unsigned timeout;
	char *services_yaml; /* "services: [...]" document for /etc/wisp/image.yaml */
	size_t services_len;
	struct ib_image *images; /* baked into STATE (bake.c) */
	size_t nimages;
	char
	    *firewall_allow; /* firewall.allow: "PORT/PROTO\n" each, for /etc/wisp/firewall; NULL */
	char *bridge_subnet; /* bridge.subnet: CIDR, for /etc/wisp/bridge; NULL: the default */
	/* update.key: the minisign public keys bundles are checked with (one path, or a
	 * list: a key rotation trusts the old and the new key for a while) */
	char *update_keys[IB_UPDATE_KEYS_MAX];
	size_t nupdate_keys;
	char *update_slot_b; /* update.slot_b: a bundle slot B holds from the start; NULL */
	/* registries (init/lib/regcfg.h) for ROOT; ca_at[i]: line, column of a path ca, or 0 */
	struct reg_cfg *registries;
	size_t nregistries;
	unsigned (*registry_ca_at)[2];
	char *sb_key, *sb_cert, *sb_gpg_key; /* secure_boot: NULL, or all three (secboot.c) */
};

/* Parse and validate a spec; relative paths in it must exist relative to
 * the current directory. Errors read "FILE:LINE:COL: key "a.b": problem". */
int ib_spec_load(struct ib_spec *spec, const char *path, struct ib_err *err);
int ib_spec_parse(struct ib_spec *spec, const char *path, const char *buf, size_t len,
		  struct ib_err *err);
void ib_spec_free(struct ib_spec *spec);

struct yaml_document_s;
struct yaml_node_s;
/* Re-emit the services node as a {services: [...]} YAML document. */
int ib_spec_emit_services(struct yaml_document_s *doc, struct yaml_node_s *services, char **out,
			  size_t *len, struct ib_err *err);

/* ---- UUIDs (uuid.c) ---------------------------------------------------- */

/* Version 5 UUID of "<name>/<purpose>" in Wisp's namespace; a partition's by its GPT name. */
void ib_uuid_derive(uuid_t out, const char *name, const char *purpose);
void ib_part_uuid(uuid_t out, const char *name, const char *part);
void ib_uuid_to_guid(uint8_t out[16], const uuid_t in); /* RFC 4122 -> GPT's mixed-endian */
/* FAT volume id (32 bits) and its "XXXX-XXXX" spelling, as GRUB prints it. */
uint32_t ib_fat_volid(const char *name);
void ib_fat_volid_str(uint32_t volid, char out[10]);

/* ---- manifest (manifest.c) --------------------------------------------- */

enum ib_mtype {
	IB_M_DIR,
	IB_M_FILE,  /* arg: source path relative to -C */
	IB_M_SLINK, /* arg: link target */
	IB_M_DATA,  /* builder-generated file; arg: contents, len: size */
};

struct ib_mentry {
	enum ib_mtype type;
	char *path;
	char *arg;
	size_t len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	const char *origin; /* manifest file (owned by ib_manifest.files) */
	unsigned line;
};

struct ib_manifest {
	struct ib_mentry *e;
	size_t n, cap;
	char **files; /* every manifest read, in order: dependencies */
	size_t nfiles, capfiles;
};

int ib_manifest_load(struct ib_manifest *m, const char *path, struct ib_err *err);
/* Add one entry, checking the path, its parent and duplicates. */
int ib_manifest_add(struct ib_manifest *m, const struct ib_mentry *tmpl, struct ib_err *err);
const struct ib_mentry *ib_manifest_find(const struct ib_manifest *m, const char *path);
void ib_manifest_free(struct ib_manifest *m);

/* ---- staging and filesystems (stage.c, erofs.c, ext4.c, esp.c) --------- */

/* Build the tree of m under dir (which must exist), all mtimes = epoch. */
int ib_stage_tree(const struct ib_manifest *m, const char *dir, time_t epoch, struct ib_err *err);
/* ROOT's declarations, compiled from root's /etc/wisp for PID 1 (decls.c): every unit, and
 * the early ones; a declaration that does not parse fails the build unless allow_errors. */
int ib_compile_decls(const char *root, bool allow_errors, struct ib_err *err);
/* True when every entry is owned by 0:0 (mkfs.erofs --all-root suffices). */
bool ib_manifest_all_root(const struct ib_manifest *m);

int ib_erofs_build(const char *out, const char *dir, const uuid_t uuid, time_t epoch, bool all_root,
		   uint64_t max_size, struct ib_err *err);
/* dir: a tree to copy in (mke2fs -d), or NULL for an empty STATE. */
int ib_ext4_build(const char *out, uint64_t size, const uuid_t uuid, const uuid_t hash_seed,
		  time_t epoch, const char *dir, struct ib_err *err);

/* bake.c: the spec's images in a tree for STATE (dir: its root, which
 * must exist; scratch: a directory for verifying import: boot archives).
 * Fills each image's ref and digest. cl is the host containerd-lite. */
int ib_bake_stage(struct ib_spec *spec, const char *cl, const char *dir, const char *scratch,
		  time_t epoch, struct ib_err *err);
/* After mke2fs -d: every inode of the tree owned by 0:0, ctime = epoch. */
int ib_bake_fix(const char *img, const char *dir, time_t epoch, struct ib_err *err);

struct ib_esp_file {
	const char *src; /* host file, its mtime already set to the epoch */
	const char *dst; /* "::/EFI/BOOT/BOOTX64.EFI" */
};
/* FAT32 from 33 MiB (65525 clusters), FAT16 from 16 MiB, else FAT12. */
unsigned ib_esp_fat_bits(uint64_t size);
int ib_esp_build(const char *out, uint64_t size, uint32_t volid, const char *const *dirs,
		 const struct ib_esp_file *files, size_t nfiles, struct ib_err *err);

/* ---- dm-verity (verity.c) --------------------------------------------- */

#define IB_VERITY_BLOCK 4096u

/* veritysetup's parameters of the root part; build/wisp.verity's KEY=VALUE lines
 * (docs/update-bundle.md). */
struct ib_verity {
	uint32_t data_block_size, hash_block_size; /* 4 KiB, both */
	uint64_t data_blocks;			   /* of erofs */
	uint64_t hash_start_block;		   /* the tree's first block, in hash blocks */
	uint64_t total_size;			   /* erofs and tree: what the slot holds */
	char root_hash[65], salt[65];
};

/* Append the hash tree to img (ROOT's erofs), salted from the image's name. */
int ib_verity_format(const char *img, const char *name, uint64_t max_size, struct ib_verity *v,
		     struct ib_err *err);
/* KEY=VALUE lines of build/wisp.verity (docs/update-bundle.md). */
char *ib_verity_text(const struct ib_verity *v);

/* ---- GRUB (grub.c, bios.c) --------------------------------------------- */

#define IB_GRUBENV_SIZE 1024 /* GRUB's standard environment block, vars "k=v" */
int ib_grubenv_block(uint8_t out[IB_GRUBENV_SIZE], const char *const *vars, size_t n,
		     struct ib_err *err);
/* The early config embedded into a GRUB image; enforce: check_signatures (Secure Boot). */
char *ib_grub_early_cfg(const char *volid_str, bool enforce);
/* /grub/grub.cfg: counting, slots' entries (docs/update.md); efi_stub: IB_GRUB_STUB_CFG. */
char *ib_grub_cfg(unsigned timeout, char default_slot, bool efi_stub);
/* UEFI boots the kernel through its EFI stub (its TPM event log); BIOS with linux. */
#define IB_GRUB_STUB_CFG "if [ \"$grub_platform\" = efi ]; then set wisp_linux=linuxefi; fi\n"
/* /X/slot.cfg: slot X's arguments, root hash included, for Wisp version (writer: NULL). */
char *ib_slot_cfg(char slot, const char *partuuid, const struct ib_verity *v, const char *version,
		  const char *spec_cmdline, const char *writer);

/* ---- Secure Boot (secboot.c) ------------------------------------------- */
struct ib_secboot {
	const char *key, *cert; /* the db key and certificate (PEM) */
	char *home, *pubkey;	/* gpg's private home (and agent); the public key GRUB embeds */
	time_t epoch;		/* every signature's date */
};
/* gpg's home in tmp with the spec's OpenPGP key (one secret key) and its public part;
 * FILE's detached signature into SIG; an EFI image signed for the db key. */
int ib_sb_begin(struct ib_secboot *sb, const struct ib_spec *spec, const char *tmp, time_t epoch,
		struct ib_err *err);
int ib_sb_detach_sign(const struct ib_secboot *sb, const char *file, const char *sig,
		      struct ib_err *err);
int ib_sb_pe_sign(const struct ib_secboot *sb, const char *in, const char *out, struct ib_err *err);
void ib_sb_end(struct ib_secboot *sb); /* stops the agent; safe to call twice */

/* ---- update.slot_b (slotb.c) -------------------------------------------- */
struct ib_slotb {
	char version[33]; /* the updater's UPD_VERSION_MAX: 32 characters and the NUL */
	char *cmdline;	  /* the bundle's kernel.cmdline */
	struct ib_verity verity;
};
/* Check spec's update.slot_b as the device would (update.key, expiry, variant, every
 * part's SHA-256) and copy its kernel and root out to the files kernel and root. */
int ib_slotb_unpack(const struct ib_spec *spec, const char *kernel, const char *root,
		    struct ib_slotb *sb, struct ib_err *err);
/* The kernel command line of slot X, as GRUB passes it (wisp.cmdline). */
char *ib_kernel_cmdline(char slot, const char *partuuid, const struct ib_verity *v,
			const char *spec_cmdline);
/* grub-mkimage, i386-pc or x86_64-efi, every module in; pubkey: GRUB's OpenPGP key or NULL */
int ib_grub_mkimage(const char *format, const char *early_cfg, const char *pubkey, const char *out,
		    struct ib_err *err);

/* Offsets in boot.img and diskboot.img (GRUB 2.06 include/grub/i386/pc/boot.h) */
#define IB_BOOT_DRIVE_CHECK 0x66
#define IB_BOOT_CODE_SIZE   440 /* up to the disk signature */

/* Copy boot.img's code into mbr[0..440) and point it at core_lba. */
int ib_bios_patch_mbr(uint8_t mbr[IB_SECTOR], const uint8_t boot_img[IB_SECTOR], uint64_t core_lba,
		      struct ib_err *err);
/* Fill diskboot.img's blocklist for a core.img stored contiguously at core_lba. */
int ib_bios_patch_core(uint8_t *core, size_t len, uint64_t core_lba, struct ib_err *err);

/* ---- GPT (gpt.c) ------------------------------------------------------- */

#define IB_GPT_ENTRIES	     128
#define IB_GPT_ENTRY_SIZE    128
#define IB_GPT_ENTRY_SECTORS (IB_GPT_ENTRIES * IB_GPT_ENTRY_SIZE / IB_SECTOR)
#define IB_GPT_MAX_PARTS     8

#define IB_TYPE_BIOS_BOOT "21686148-6449-6e6f-744e-656564454649"
#define IB_TYPE_ESP	  "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define IB_TYPE_ROOT_X64  "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define IB_TYPE_LINUX	  "0fc63daf-8483-4772-8e79-3d69d8477de4"

struct ib_part {
	const char *name; /* ASCII; stored as UTF-16LE */
	uuid_t type;
	uuid_t uuid;
	uint64_t size;		      /* bytes, multiple of IB_ALIGN */
	uint64_t first_lba, last_lba; /* filled by ib_gpt_layout */
};

struct ib_gpt {
	uuid_t disk_guid;
	struct ib_part part[IB_GPT_MAX_PARTS];
	size_t nparts;
	uint64_t total_sectors; /* filled by ib_gpt_layout */
};

/* Place the partitions 1 MiB aligned; size the disk with room for the
 * backup GPT. */
int ib_gpt_layout(struct ib_gpt *g, struct ib_err *err);
/* Protective MBR (sector 0). Only bytes 440..511 are written. */
void ib_gpt_pmbr(const struct ib_gpt *g, uint8_t mbr[IB_SECTOR]);
/* Header sector + entry array, for the primary (backup=false) or backup copy. */
void ib_gpt_entries(const struct ib_gpt *g, uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR]);
void ib_gpt_header(const struct ib_gpt *g, bool backup,
		   const uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR], uint8_t hdr[IB_SECTOR]);

/* ---- processes and files (exec.c, fsutil.c, sparse.c) ------------------ */

extern bool ib_verbose;

/* Run argv with extra "K=V" environment entries (NULL-terminated, may be
 * NULL). Output is captured and quoted in the error when the tool fails. */
int ib_run(const char *const argv[], const char *const env[], struct ib_err *err);
/* The same, keeping (the last 8 KiB of) its stdout and stderr when the
 * buffers are not NULL. */
int ib_run_out(const char *const argv[], const char *const env[], char *outbuf, size_t outlen,
	       char *errbuf, size_t errlen, struct ib_err *err);

char *ib_strdup(const char *s);
char *ib_asprintf(const char *fmt, ...) IB_PRINTF(1, 2);
char *ib_path_join(const char *dir, const char *name);

int ib_read_file(const char *path, char **buf, size_t *len, struct ib_err *err);
int ib_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct ib_err *err);
int ib_copy_file(const char *src, const char *dst, mode_t mode, struct ib_err *err);
int ib_set_mtime(const char *path, time_t t, struct ib_err *err);
int ib_file_size(const char *path, uint64_t *size, uint64_t *allocated, struct ib_err *err);
int ib_mkdir_p(const char *path, mode_t mode, struct ib_err *err);
int ib_rm_rf(const char *path);
int ib_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, const char *name,
		  struct ib_err *err);

/* Copy src into fd at offset, skipping holes and all-zero blocks so the
 * target stays sparse. Fails when src is larger than max. */
int ib_copy_sparse(int fd, uint64_t offset, const char *src, uint64_t max, const char *name,
		   struct ib_err *err);

/* ---- subcommands: bundles (bundle*.c), cloud formats (convert.c) ------- */

/* build/wisp.verity (struct ib_verity above), read back for a bundle. */
int ib_verity_parse(const char *text, size_t len, const char *name, struct ib_verity *v,
		    struct ib_err *err);
int ib_verity_load(const char *path, struct ib_verity *v, struct ib_err *err);

struct ib_bundle_opts {
	const char *out, *kernel, *root, *verity;
	const char *key;      /* minisign secret key */
	const char *minisign; /* NULL: minisign from PATH */
	const char *version, *variant, *cmdline;
	time_t created;		      /* SOURCE_DATE_EPOCH */
	const struct ib_spec *secure; /* a spec with secure_boot: format 2, its signatures */
	uint64_t expires;	      /* UTC seconds, after created */
};
/* Write o->out: framing, manifest, its minisign signature, kernel, root. */
int ib_bundle(const struct ib_bundle_opts *o, struct ib_err *err);
/* "365d" (days after created), "2027-06-30" (00:00 UTC) or "@SECONDS". NULL or the problem. */
const char *ib_expires_parse(const char *s, time_t created, uint64_t *out);
/* `image-builder bundle|convert ...` (bundle_args.c; convert.c): main's exit status. */
int ib_bundle_main(int argc, char **argv);
int ib_convert_main(int argc, char **argv);
/* DESC (LEN bytes, NUL-padded text) with CID= the first four bytes of GUID (vmdk.c). */
int ib_vmdk_set_cid(char *desc, size_t len, const uint8_t guid[16]);

/* ---- the build (build.c, depfile.c) ------------------------------------ */

int ib_source_date(time_t *epoch, struct ib_err *err); /* SOURCE_DATE_EPOCH, or the default */
struct ib_opts {
	const char *spec;
	const char *out;    /* disk image */
	const char *tmpdir; /* parent of the private temp directory */
	const char *depfile;
	const char *containerd_lite;	    /* host build, for images: (bake.c) */
	bool print_deps, allow_decl_errors; /* --allow-declaration-errors (early.c) */
};

struct ib_deps {
	char **v;
	size_t n, cap;
};
int ib_deps_add(struct ib_deps *d, const char *path);
void ib_deps_free(struct ib_deps *d);
/* Write "target: deps" plus an empty rule per dependency (like gcc -MP). */
int ib_depfile_write(const char *path, const char *target, const struct ib_deps *d,
		     struct ib_err *err);

int ib_build(const struct ib_opts *o, struct ib_err *err);

/* args.c: the command line. IB_USAGE: msg holds the one-line error
 * (without "image-builder: "); --help and --version win over any error. */
struct ib_cmdline {
	struct ib_opts o;
	const char *dir; /* -C */
	bool verbose;	 /* -v */
};
enum ib_action { IB_RUN, IB_HELP, IB_VERSION, IB_USAGE };
enum ib_action ib_args(int argc, char **argv, struct ib_cmdline *cl, char *msg, size_t size);
void ib_usage(FILE *f);

#endif
