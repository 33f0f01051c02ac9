/*
 * update/update.h: the one header of the updater (/usr/libexec/wisp/update), which wispctl's
 * `update` verb runs: signed update bundles (docs/update-bundle.md) read from a file or a
 * stream, checked, and copied part by part.
 *
 * Trust comes first: a bundle starts with its manifest and the manifest's minisign signature,
 * so that a reader decides whether to trust it before it reads (or writes) a byte of the
 * parts. The manifest holds each part's size and SHA-256; the parts are checked as copied.
 *
 * Conventions are init/'s (lib/base.h): a fallible function returns a
 * negative value and fills a struct err whose message names the object.
 */
#ifndef WISP_UPDATE_H
#define WISP_UPDATE_H

#include "../lib/base.h"

/* ---- version.c: Wisp versions, "MAJOR.MINOR.PATCH" ------------------ */

struct upd_version {
	uint32_t major, minor, patch;
};

/* Longest version text: three 10-digit numbers (each below 2^32) and two dots; its buffer
 * holds the NUL too. */
#define UPD_VERSION_LEN 32
#define UPD_VERSION_MAX (UPD_VERSION_LEN + 1)

/* Parse s: decimal numbers without sign or leading zero ("0" itself is one),
 * each below 2^32, two dots, nothing else (so at most UPD_VERSION_LEN characters).
 * Returns 0 or -1 (e: "version "S": ..."). */
int upd_version_parse(const char *s, struct upd_version *v, struct err *e);
/* <0, 0, >0 as a is older than, the same as, newer than b (numerically: 0.1.10 > 0.1.9). */
int upd_version_cmp(const struct upd_version *a, const struct upd_version *b);
/* What a bundle must be newer than (apply's downgrade check): the larger of own (the
 * updater's WISP_VERSION) and installed (the booted slot's slot.cfg wisp_version; NULL, ""
 * or not a version: none), in *floor and text. */
void upd_version_floor(const char *own, const char *installed, struct upd_version *floor,
		       char text[UPD_VERSION_MAX]);

/* ---- utc.c ----------------------------------------------------------- */

#define UPD_UTC_LEN 64
/* t as "2027-01-15 08:00:00 UTC" in buf. Returns buf. */
const char *upd_utc(uint64_t t, char buf[UPD_UTC_LEN]);

/* ---- minisig.c: minisign public keys and signatures ----------------- */

#define UPD_KEY_ID_LEN	8
#define UPD_PUBKEY_LEN	32
#define UPD_SIG_LEN	64
#define UPD_COMMENT_MAX 1024 /* minisign's own limit for comments */
#define UPD_KEYS_MAX	16   /* trusted keys in the directory */
#define UPD_KEYS_DIR	"/etc/wisp/update-keys"
#define UPD_MINISIG_MAX 4096 /* a .minisig file with both comments at their longest */

struct upd_pubkey {
	uint8_t id[UPD_KEY_ID_LEN]; /* as stored: little endian */
	uint8_t pk[UPD_PUBKEY_LEN];
	char file[256]; /* where it came from, for messages */
};

struct upd_keys {
	struct upd_pubkey key[UPD_KEYS_MAX];
	size_t n;
};

struct upd_sig {
	bool prehashed; /* "ED": the signature is over BLAKE2b-512 of the data; "Ed": the data */
	uint8_t id[UPD_KEY_ID_LEN];
	uint8_t sig[UPD_SIG_LEN];
	char trusted[UPD_COMMENT_MAX + 1]; /* the trusted comment's text */
	uint8_t global[UPD_SIG_LEN];	   /* over sig || trusted */
};

/* A key id as minisign prints it: 16 upper-case hex digits of the little-endian number. */
void upd_key_id_str(const uint8_t id[UPD_KEY_ID_LEN], char out[2 * UPD_KEY_ID_LEN + 1]);
/* A .pub file's text (name: for messages). Returns 0 or -1 ("NAME: ..."). */
int upd_pubkey_parse(const char *text, size_t len, const char *name, struct upd_pubkey *k,
		     struct err *e);
/* Every *.pub file of dir, in name order; none is an error. Returns 0 or -1. */
int upd_keys_load(const char *dir, struct upd_keys *keys, struct err *e);
/* A .minisig file's text. Returns 0 or -1 ("NAME: ..."). */
int upd_sig_parse(const char *text, size_t len, const char *name, struct upd_sig *s, struct err *e);
/* Check s over data with the trusted key of s's key id, and the global signature over
 * its trusted comment. *used: that key. Returns 0 or -1 ("NAME: ..." says which check). */
int upd_sig_verify(const struct upd_sig *s, const void *data, size_t len,
		   const struct upd_keys *keys, const char *name, const struct upd_pubkey **used,
		   struct err *e);

/* ---- manifest.c: the manifest, "key: value" lines -------------------- */

#define UPD_MANIFEST_MAX 8192
#define UPD_FORMAT	 2 /* the newest read: 2 adds the Secure Boot signatures */
#define UPD_VARIANT_MAX	 64
#define UPD_CMDLINE_MAX	 1024
#define UPD_KERNEL_MAX	 (256ull << 20) /* bytes: far above a kernel with everything built in */
#define UPD_ROOT_MAX	 (16ull << 30)	/* bytes: far above any ROOT slot */
#define UPD_HEX_HASH	 64		/* a SHA-256, a verity root hash or salt, in hex */

enum upd_part_id { UPD_KERNEL, UPD_ROOT, UPD_NPARTS };
/* Format 2: GRUB's detached OpenPGP signatures of the kernel and of the slot.cfg the
 * updater writes into slot A or B (docs/update-bundle.md, "Secure Boot"). */
enum upd_sig_id { UPD_SIG_KERNEL, UPD_SIG_SLOT_A, UPD_SIG_SLOT_B, UPD_NSIGS };
#define UPD_BOOT_SIG_MAX 768 /* bytes: an RSA-4096 signature packet is ~570 */

struct upd_boot_sig {
	uint8_t data[UPD_BOOT_SIG_MAX];
	size_t len; /* 0: none (format 1) */
};

struct upd_part {
	const char *name; /* "kernel", "root" */
	uint64_t size;
	uint8_t sha256[32];
};

/* dm-verity's table parameters for the root part (veritysetup format
 * --no-superblock: the hash tree follows the data, in the same part). */
struct upd_verity {
	uint32_t data_block_size, hash_block_size;
	uint64_t data_blocks, hash_start_block; /* hash_start_block: in hash blocks */
	char root_hash[UPD_HEX_HASH + 1];	/* lower-case hex */
	char salt[UPD_HEX_HASH + 1];
};

struct upd_manifest {
	unsigned format;
	struct upd_version version;
	char version_str[UPD_VERSION_MAX];
	char variant[UPD_VARIANT_MAX + 1];
	uint64_t created, expires; /* UTC seconds */
	char cmdline[UPD_CMDLINE_MAX + 1];
	struct upd_part part[UPD_NPARTS]; /* in the order they follow the head */
	struct upd_verity verity;
	struct upd_boot_sig boot_sig[UPD_NSIGS]; /* format 2 */
};

/* Parse a manifest's bytes (name: for messages): every key once, no other key, every
 * value checked and bounded, the verity layout consistent with the root part.
 * Returns 0 or -1 ("NAME:LINE: ..."). */
int upd_manifest_parse(const char *text, size_t len, const char *name, struct upd_manifest *m,
		       struct err *e);

/* ---- bundle.c: a bundle read from an fd, in stream order ------------- */

/* The first line: "wisp-bundle 1 MANIFEST_LEN SIGNATURE_LEN\n", at most this long. */
#define UPD_MAGIC	 "wisp-bundle"
#define UPD_PREAMBLE_MAX 64

struct upd_head {
	const char *name; /* the bundle, for messages */
	char manifest_raw[UPD_MANIFEST_MAX];
	size_t manifest_len;
	char sig_raw[UPD_MINISIG_MAX];
	size_t sig_len;
	uint64_t len; /* bytes of the head: the first part starts here */
	struct upd_manifest m;
	struct upd_sig sig;
	const struct upd_pubkey *key; /* after upd_head_verify: the key that signed it (in keys) */
	void *whole; /* NULL, or a crypto_hash_sha256_state the parts' bytes are added to */
};

/* Read the head from fd (a file, pipe or socket; reads exactly its bytes, nothing of the
 * parts) and parse its framing and signature file, trusting nothing yet: the manifest is
 * parsed only by upd_head_verify, after its signature has been checked, or by
 * upd_head_inspect. name: the bundle, for messages. Returns 0 or -1 ("NAME: ..."). */
int upd_head_read(int fd, const char *name, struct upd_head *h, struct err *e);
/* The same for a head held in memory (buf, len: at least the head; the fuzz target's
 * entry). Returns 0 or -1. */
int upd_head_parse(const char *buf, size_t len, const char *name, struct upd_head *h,
		   struct err *e);
/* Decide trust: the manifest's signature by one of keys, then the manifest itself, then
 * now (UTC seconds) before its expiry. Sets h->m and h->key. Returns 0 or -1 ("NAME: ..."). */
int upd_head_verify(struct upd_head *h, const struct upd_keys *keys, uint64_t now, struct err *e);
/* Parse the manifest without any trust (`update inspect`). Sets h->m. Returns 0 or -1. */
int upd_head_inspect(struct upd_head *h, struct err *e);
/* Copy part p, the next bytes of in, to out (-1: read and check only), computing its
 * SHA-256: fails if in ends early or the digest differs. out_name: for messages. Nothing
 * is trusted until this returns 0: a caller writing to a slot marks it bootable only
 * after every part has passed. Returns 0 or -1 ("NAME: part P: ..."). */
int upd_part_copy(int in, const struct upd_head *h, const struct upd_part *p, int out,
		  const char *out_name, struct err *e);
/* After the last part: fails unless in is at its end (a longer bundle is refused). */
int upd_bundle_end(int in, const struct upd_head *h, struct err *e);
/* The whole check: the head, its trust, every part (copied nowhere), the end.
 * Returns 0 or -1. */
int upd_bundle_verify(int fd, const char *name, const struct upd_keys *keys, uint64_t now,
		      struct upd_head *h, struct err *e);

/* ---- args.c: the command line ---------------------------------------- */

extern const char upd_usage_text[];

enum upd_action { UPD_RUN, UPD_HELP, UPD_VERSION_ACT, UPD_USAGE };

struct upd_args {
	const char *command;
	const char *operand[64]; /* mark-good: the critical units */
	int noperands;
	const char *keys;      /* --keys DIR */
	const char *now;       /* --now SECONDS, as given */
	const char *deadline;  /* watch --deadline SECONDS */
	const char *sha256;    /* apply --sha256 HEX: the whole bundle's */
	const char *reboot_at; /* apply --reboot-at HH:MM (UTC) */
	bool if_newer;	      /* apply --if-newer: an older or equal bundle is done, not an error */
	bool allow_downgrade; /* apply --allow-downgrade */
	bool reboot;	      /* apply --reboot: reboot into it when written */
	char msg[256];	      /* UPD_USAGE: the one-line error */
};

/* Options anywhere among the operands, "--" ends them; --help and --version win over
 * any error. */
enum upd_action upd_args(int argc, char **argv, struct upd_args *a);

/* ---- grubenv.c: GRUB's environment block, rewritten in place ---------- */

#define GRUBENV_SIZE   1024
#define GRUBENV_SECTOR 512

struct grubenv_var {
	char name[32];
	char value[128];
};

struct grubenv {
	struct grubenv_var vars[16];
	size_t n;
};

/* block: the whole file (GRUBENV_SIZE bytes). */
int grubenv_parse(struct grubenv *env, const char *block, size_t len, struct err *e);
/* NAME's value; "" when it is not set. */
const char *grubenv_get(const struct grubenv *env, const char *name);
#define GRUBENV_SHOWN (4 * 127 + 1) /* a value, each byte escaped */
/* NAME's value, its controls and bytes from 0x80 as \xHH (nothing signs grubenv): to show. */
const char *grubenv_shown(const struct grubenv *env, const char *name, char *out, size_t size);
int grubenv_set(struct grubenv *env, const char *name, const char *value, struct err *e);
/* The block: every variable in its first sector, '#' after them. */
int grubenv_format(const struct grubenv *env, char out[GRUBENV_SIZE], struct err *e);
int grubenv_load(struct grubenv *env, const char *path, struct err *e);
/* Rewrite path's first sector in place (no truncation, no new blocks), then fsync. */
int grubenv_store(const struct grubenv *env, const char *path, struct err *e);

/* ---- esp.c: the ESP, mounted for this process only ------------------- */

#define ESP_DIR "/run/wisp/update/esp"

/* Find the partition named ESP on the root's disk and mount it on ESP_DIR in a
 * mount namespace of this process's own (nobody else sees it; it goes with
 * the process). */
int esp_mount(struct err *e);

/* ---- goodslot.c: a good slot's counted boot, not a trial -------------- */

/* A counted boot of BOOTED, the slot wisp_good names: only the system's failures count. */
bool slot_counted_good(const struct grubenv *env, char booted);
/* The boot of SLOT is good: wisp_tries emptied, wisp_good=SLOT (the caller stores). */
int slot_mark_good(struct grubenv *env, char slot, struct err *e);

/* ---- boot.c: this boot's slot and the state of both ------------------ */

struct boot_state {
	char cmdline[4096]; /* this boot's /proc/cmdline */
	char booted;	    /* its wisp.slot=, 0 if none */
	struct grubenv env;
	char path[64]; /* the grubenv file */
};

int boot_load(struct boot_state *b, struct err *e);
/* "A" -> 'A'; anything else -> 0. */
char slot_of(const char *s);
/* The other slot. */
char slot_other(char s);
/* A slot's version, of its /X/slot.cfg on the mounted ESP (slot_cfg_version; "" if none). */
void slot_version(char slot, char *out, size_t size);
/* A line on the console, through the kernel's log (what a cloud operator's console log shows). */
void console_say(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* ---- slotdev.c: the other slot's partition ------------------------- */

struct slot_dev {
	char slot;	   /* 'A' or 'B' */
	char dev[64];	   /* "/dev/vda4" */
	uint64_t size;	   /* bytes */
	char partuuid[37]; /* from the disk's GPT, lower case */
};

/* ROOT-<slot> on the root's disk: its device, size and PARTUUID. */
int slot_dev_find(char slot, struct slot_dev *d, struct err *e);

/* ---- slotcfg.c: a slot's kernel arguments (image-builder's too) ------ */

#define SLOT_DM_NAME "wisp-root" /* the verified root's device-mapper name */
/* dm-mod.create's value: the verified root of the slot over PARTUUID=partuuid. */
char *slot_dm(const struct upd_verity *v, const char *partuuid);
/* The other arguments: dm-mod.waitfor, root, wisp.slot, panic=, then cmdline. */
char *slot_args(char slot, const char *partuuid, const char *cmdline);
/* /X/slot.cfg for GRUB (values single-quoted, writer in its comment); malloc'd, NULL: no memory */
char *slot_cfg(char slot, const char *partuuid, const struct upd_verity *v, const char *version,
	       const char *cmdline, const char *writer);
/* kargs.c: a tail a bundle or an image spec may give a slot: <= 1024 bytes, printable, no GRUB
 * script character, none of the slot's, GRUB's, the trial's or a live medium's arguments (root=,
 * init=, dm-mod.*, wisp.slot=, softdog.*, "--", ...: one table). NULL, or why not ("argument
 * \"init=/bin/sh\": ...", in why when it names one). */
const char *slot_cmdline_check(const char *cmdline, char *why, size_t size);
/* A slot.cfg's wisp_version, controls and bytes from 0x80 as \xHH (the ESP is unsigned). */
void slot_cfg_version(const char *cfg, char *out, size_t size);

/* ---- fetch.c: a bundle from an http(s):// URL (containerd-lite) ------ */

#define UPD_URL_ENV   "WISP_UPDATE_URL" /* apply's URL without an operand: out of every argv */
#define UPD_URL_SHOWN 512		/* bytes of a URL a message shows (fetch_shown) */

struct fetch {
	pid_t pid;  /* containerd-lite image fetch, the URL in its environment */
	int err_fd; /* its stderr */
};
/* s starts with http:// or https://, in any case. */
bool fetch_is_url(const char *s);
/* s as a message may name it: a URL without its userinfo, query and fragment, else s. */
const char *fetch_shown(const char *s, char *out, size_t size);
/* The read end of the fetcher's output for url; f: the process. */
int fetch_open(const char *url, struct fetch *f, struct err *e);
/* Close fd, reap the fetcher: 0, or -1 with its one-line error. */
int fetch_close(int fd, const struct fetch *f, const char *url, struct err *e);
bool fetch_ended(int fd); /* after a failed apply: it stopped sending, its words count */
void fetch_silence(const char *name, struct err *e); /* a read's EAGAIN: it sent nothing, said */

/* ---- trial.c: how far a slot's trial boots got (on STATE) ------------ */

#define TRIAL_DIR      "/var/lib/wisp/update"
#define TRIAL_TEXT_MAX 240
#define TRIAL_WHY_MAX  (4 * TRIAL_TEXT_MAX + 160) /* trial_why's: the text escaped, and words */

struct trial {
	unsigned reached;	       /* boots of the trial that came up to update-watch */
	char last[TRIAL_TEXT_MAX + 1]; /* what the latest of them said last */
};

/* DIR/trial-SLOT; none, or one that does not parse: all zero. */
void trial_load(const char *dir, char slot, struct trial *t);
/* Replace it whole, synced. Returns 0 or -1. */
int trial_store(const char *dir, char slot, const struct trial *t, struct err *e);
void trial_clear(const char *dir, char slot);
/* No boot of the trial came up; GRUB's fallback booted the other slot (watch.c). */
bool trial_not_booted(const struct trial *t);
/* Why a slot with record t was rolled back, one line, its text's controls and bytes from
 * 0x80 as \xHH (out: TRIAL_WHY_MAX). */
void trial_why(const struct trial *t, char *out, size_t size);

/* ---- lock.c: one updater at a time on grubenv and the slots ---------- */

#define LOCK_DIR "/run/wisp/update"
/* LOCK_DIR made, root's and 0700 whoever made it first: 0 or -1. */
int upd_run_dir(struct err *e);
#define LOCK_FILE     LOCK_DIR "/lock"
#define UPD_LOCK_WAIT 30 /* s: rollback's, mark-good's and the fallback's wait for an apply */
/* s: apply's wait, for a mark-good or rollback (a grubenv's store, seconds under TCG) that
 * holds it as a boot ends; not for another apply's minutes */
#define UPD_APPLY_WAIT 10

/* flock LOCK_FILE (created root's, 0600), trying for wait_s seconds (0: once). Held until
 * upd_unlock or the process ends. Returns 0 or -1 ("another update is running (...)"). */
int upd_lock(unsigned wait_s, struct err *e);
void upd_unlock(void);

/* ---- the commands: apply.c, mark.c, watch.c, status.c ---------------- */

#define BOOT_GOOD_FILE "/run/wisp/update/good"
/* What a good slot's counted boot found not up at its deadline, for `update status` (watch.c) */
#define NOT_UP_FILE "/run/wisp/update/not-up"
#define UPD_TRIES   "3" /* boots an update's slot has to prove itself */

int upd_parse_now(const char *s, uint64_t *now, struct err *e); /* --now's, or the clock */
int cmd_apply(const struct upd_args *a, struct err *e);
int cmd_mark_good(const struct upd_args *a, struct err *e);
int cmd_watch(const struct upd_args *a, struct err *e);
int cmd_status(const struct upd_args *a, struct err *e);
int cmd_rollback(const struct upd_args *a, struct err *e);
/* mark.c: a good slot's counted boot (B loaded) marked good once the system is up (STATE
 * on PID 1's /var, PID 1 answering), under the lock (tried once); refused on a trial. */
int mark_system(struct boot_state *b, struct err *e);

#endif /* WISP_UPDATE_H */
