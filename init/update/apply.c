/*
 * apply.c: `update apply BUNDLE`, a signed bundle into the other slot.
 *
 * The order is what makes a power cut at any moment harmless (docs/update.md):
 *  1. trust first: the head (manifest and signature) is read and checked before
 *     a byte is written; the version must be newer than the running one (the
 *     updater's, or the booted slot's if higher; or --allow-downgrade), the
 *     variant this image's;
 *  2. the target slot stops being bootable: its slot.cfg goes, so GRUB boots
 *     nothing from it (the entry fails over to the running slot);
 *  3. the kernel streams into the ESP's /X/vmlinuz.new and the root into
 *     ROOT-X, each checked against its SHA-256 as it goes; the bundle must end;
 *  4. only then: vmlinuz.new becomes vmlinuz and a new slot.cfg (the verity
 *     table with the manifest's root hash) is written and renamed into place,
 *     each after its Secure Boot signature (format 2) is in place beside it;
 *  5. grubenv, one sector rewritten in place: wisp_slot=X, wisp_prev=the
 *     running slot, wisp_tries=3, wisp_good=the running slot.
 * From 1's grubenv on, under the updater's lock (lock.c): a second apply fails. Not
 * before: the head's download is a mirror's to hold (for minutes within the fetcher's
 * limits), and a trial's mark-good waits for the lock only so long.
 * A cut before 5 boots the running slot as before; after it, the new one on
 * trial. Nothing of the running slot, its directory or its partition is written.
 */
#include "update.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An ESP whose grub.cfg is signed boots under a GRUB that enforces signatures
 * (docs/image-spec.md, "Secure Boot"): a slot written without them would not boot. */
static int check_signed(const struct upd_head *h, char slot, struct err *e)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/grub/grub.cfg.sig", ESP_DIR);
	if (h->m.format < 2 && access(path, F_OK) == 0)
		return err_set(e, 0,
			       "%s: this host's boot files are signed (Secure Boot), and the "
			       "bundle (format %u) brings no signatures for slot %c's kernel and "
			       "slot.cfg",
			       h->name, h->m.format, slot);
	return 0;
}

static int check_target(const struct boot_state *b, struct err *e)
{
	if (!b->booted)
		return err_set(e, 0, "this boot names no slot (wisp.slot= on the command line)");
	if (*grubenv_get(&b->env, "wisp_tries") &&
	    slot_of(grubenv_get(&b->env, "wisp_slot")) == b->booted)
		return err_set(e, 0,
			       "slot %c is on trial: its fallback, slot %c, is not overwritten "
			       "until it is marked good",
			       b->booted, slot_other(b->booted));
	return 0;
}

/* The floor: the installed version, not only the updater's (a release whose bundle said
 * 0.3.0 but whose ROOT was built as 0.1.0 would take any 0.2.x). The booted slot's
 * slot.cfg says what was installed (version.c: it can only raise the floor). */
static void floor_of(const struct boot_state *b, struct upd_version *floor,
		     char text[UPD_VERSION_MAX])
{
	char installed[UPD_VERSION_MAX] = "";

	if (b->booted)
		slot_version(b->booted, installed, sizeof(installed));
	upd_version_floor(WISP_VERSION, installed, floor, text);
}

/* 0: go on; 1: not newer and --if-newer (done: nothing to apply); -1: refused. */
static int check_bundle(const struct upd_head *h, const struct boot_state *b, bool downgrade,
			bool if_newer, struct err *e)
{
	struct upd_version running;
	char variant[128], text[UPD_VERSION_MAX];
	struct err ignored;

	floor_of(b, &running, text);
	if (upd_version_cmp(&h->m.version, &running) <= 0 && if_newer && !downgrade) {
		printf("update: Wisp %s is not newer than the running %s: nothing to do\n",
		       h->m.version_str, text);
		return 1;
	}
	if (upd_version_cmp(&h->m.version, &running) <= 0 && !downgrade)
		return err_set(e, 0,
			       "%s: version %s is not newer than the running %s "
			       "(--allow-downgrade to apply it)",
			       h->name, h->m.version_str, text);
	if (read_text("/etc/wisp/variant", variant, sizeof(variant), &ignored) < 0)
		return 0; /* an image made before variants: any */
	variant[strcspn(variant, "\n")] = '\0';
	if (strcmp(variant, h->m.variant) != 0)
		return err_set(e, 0, "%s: variant %s, this image is %s", h->name, h->m.variant,
			       variant);
	return 0;
}

/* Step 2: the slot's directory without slot.cfg, durably. */
static int unboot(char slot, char *dir, size_t size, struct err *e)
{
	char cfg[96];

	snprintf(dir, size, "%s/%c", ESP_DIR, slot);
	snprintf(cfg, sizeof(cfg), "%s/slot.cfg", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir %s", dir);
	if (unlink(cfg) < 0 && errno != ENOENT)
		return err_set(e, errno, "remove %s", cfg);
	return sync_path(dir, e);
}

/* Step 3: one part into path (created) or onto a device (written over). */
static int stream_part(int in, const struct upd_head *h, int id, const char *path, bool create,
		       struct err *e)
{
	int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC | O_NOFOLLOW : 0);
	int fd = open(path, flags, 0600), ret;

	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	ret = upd_part_copy(in, h, &h->m.part[id], fd, path, e);
	if (ret == 0 && fsync(fd) < 0)
		ret = err_set(e, errno, "fsync %s", path);
	close(fd);
	return ret;
}

/* FROM renamed to TO on the ESP, durably. vfat writes a renamed file's directory entry
 * (its first cluster and size) with the file's inode, not with the directory: until
 * writeback the new name has the old file's entry, or an empty one, whatever fsync
 * of the directory says. So TO is synced under its new name, then DIR. */
static int rename_synced(const char *from, const char *to, const char *dir, struct err *e)
{
	if (rename(from, to) < 0)
		return err_set(e, errno, "rename %s to %s", from, to);
	if (sync_path(to, e) < 0)
		return -1;
	return sync_path(dir, e);
}

/* Step 4: NAME's signature (format 2) as NAME.sig beside it, before NAME itself. */
static int write_boot_sig(const struct upd_head *h, int id, const char *dir, const char *name,
			  struct err *e)
{
	const struct upd_boot_sig *s = &h->m.boot_sig[id];
	char tmp[96], sig[96];

	if (!s->len)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/%s.sig.new", dir, name);
	snprintf(sig, sizeof(sig), "%s/%s.sig", dir, name);
	if (write_file_synced(tmp, s->data, s->len, 0600, e) < 0)
		return -1;
	return rename_synced(tmp, sig, dir, e);
}

/* Step 4's slot.cfg: image-builder's format (docs/update.md, slotcfg.c). */
static int write_slot_cfg(const struct upd_head *h, const struct slot_dev *d, const char *dir,
			  struct err *e)
{
	char tmp[96], cfg[96], writer[UPD_VARIANT_MAX + 48];
	char *text;
	int ret;

	snprintf(writer, sizeof(writer), "the updater from a bundle of %s", h->m.variant);
	text = slot_cfg(d->slot, d->partuuid, &h->m.verity, h->m.version_str, h->m.cmdline, writer);
	if (!text)
		return err_set(e, ENOMEM, "%s: slot.cfg", h->name);
	snprintf(tmp, sizeof(tmp), "%s/slot.new", dir);
	snprintf(cfg, sizeof(cfg), "%s/slot.cfg", dir);
	ret =
	    write_boot_sig(h, d->slot == 'A' ? UPD_SIG_SLOT_A : UPD_SIG_SLOT_B, dir, "slot.cfg", e);
	if (ret == 0)
		ret = write_file_synced(tmp, text, strlen(text), 0600, e);
	free(text);
	if (ret < 0)
		return -1;
	return rename_synced(tmp, cfg, dir, e);
}

/* --sha256: the whole bundle's digest, the framing line and head included (the line is
 * canonical: the reader takes no other spelling of the two lengths). */
static void hash_head(const struct upd_head *h, crypto_hash_sha256_state *st)
{
	char line[UPD_PREAMBLE_MAX + 1];
	int n = snprintf(line, sizeof(line), UPD_MAGIC " 1 %zu %zu\n", h->manifest_len, h->sig_len);

	crypto_hash_sha256_init(st);
	crypto_hash_sha256_update(st, (const unsigned char *)line, (size_t)n);
	crypto_hash_sha256_update(st, (const unsigned char *)h->manifest_raw, h->manifest_len);
	crypto_hash_sha256_update(st, (const unsigned char *)h->sig_raw, h->sig_len);
}

static int check_whole(const struct upd_head *h, const uint8_t *want, struct err *e)
{
	uint8_t sum[crypto_hash_sha256_BYTES];

	if (!want)
		return 0;
	crypto_hash_sha256_final(h->whole, sum);
	if (sodium_memcmp(sum, want, sizeof(sum)) != 0)
		return err_set(e, 0, "%s: its SHA-256 is not the one given (--sha256)", h->name);
	return 0;
}

static int parse_sha256(const char *hex, uint8_t out[32], struct err *e)
{
	size_t n;

	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64 ||
	    sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL) != 0 || n != 32)
		return err_set(e, 0, "--sha256 %s: not 64 lower-case hex digits", hex);
	return 0;
}

static int write_slot(int in, const struct upd_head *h, const struct slot_dev *d,
		      const uint8_t *want, struct err *e)
{
	char dir[64], kernel_new[96], kernel[96];

	if (h->m.part[UPD_ROOT].size > d->size)
		return err_set(e, 0, "%s: root is %llu bytes, %s only %llu", h->name,
			       (unsigned long long)h->m.part[UPD_ROOT].size, d->dev,
			       (unsigned long long)d->size);
	if (unboot(d->slot, dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(kernel_new, sizeof(kernel_new), "%s/vmlinuz.new", dir);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	if (stream_part(in, h, UPD_KERNEL, kernel_new, true, e) < 0 ||
	    stream_part(in, h, UPD_ROOT, d->dev, false, e) < 0 || upd_bundle_end(in, h, e) < 0 ||
	    check_whole(h, want, e) < 0)
		return -1;
	if (write_boot_sig(h, UPD_SIG_KERNEL, dir, "vmlinuz", e) < 0 ||
	    rename_synced(kernel_new, kernel, dir, e) < 0)
		return -1;
	return write_slot_cfg(h, d, dir, e);
}

/* Step 5. The slot's record of an older trial goes first: its boots are not this one's.
 * wisp_good names the running slot (not on trial: check_target), never SLOT, whose new
 * system must pass its trial (goodslot.c). */
static int boot_next(struct boot_state *b, char slot, struct err *e)
{
	trial_clear(TRIAL_DIR, slot);
	if (grubenv_set(&b->env, "wisp_slot", (char[]){slot, 0}, e) < 0 ||
	    grubenv_set(&b->env, "wisp_prev", (char[]){b->booted, 0}, e) < 0 ||
	    grubenv_set(&b->env, "wisp_tries", UPD_TRIES, e) < 0 ||
	    grubenv_set(&b->env, "wisp_rollback", "", e) < 0 ||
	    grubenv_set(&b->env, "wisp_good", (char[]){b->booted, 0}, e) < 0)
		return -1;
	return grubenv_store(&b->env, b->path, e);
}

static int apply(const struct upd_args *a, const char *name, int in, struct boot_state *b,
		 struct upd_head *h, struct err *e)
{
	static struct upd_keys keys;
	static crypto_hash_sha256_state whole;
	uint8_t want[32];
	struct slot_dev d;
	uint64_t now;
	int go;

	if ((a->sha256 && parse_sha256(a->sha256, want, e) < 0) ||
	    upd_parse_now(a->now, &now, e) < 0 ||
	    upd_keys_load(a->keys ? a->keys : UPD_KEYS_DIR, &keys, e) < 0 ||
	    upd_head_read(in, name, h, e) < 0 || upd_head_verify(h, &keys, now, e) < 0 ||
	    upd_lock(UPD_APPLY_WAIT, e) < 0 || boot_load(b, e) < 0 ||
	    (go = check_bundle(h, b, a->allow_downgrade, a->if_newer, e)) < 0)
		return -1;
	if (go == 1)
		return 1;
	if (check_target(b, e) < 0 || slot_dev_find(slot_other(b->booted), &d, e) < 0 ||
	    check_signed(h, d.slot, e) < 0)
		return -1;
	if (a->sha256) {
		hash_head(h, &whole);
		h->whole = &whole;
	}
	printf("update: writing Wisp %s to slot %c (%s)\n", h->m.version_str, d.slot, d.dev);
	fflush(stdout);
	if (write_slot(in, h, &d, a->sha256 ? want : NULL, e) < 0 || boot_next(b, d.slot, e) < 0)
		return -1;
	console_say("Wisp %s is in slot %c: the next boot tries it (%s tries), slot %c is its "
		    "fallback",
		    h->m.version_str, d.slot, UPD_TRIES, b->booted);
	return 0;
}

/* --reboot-at HH:MM: seconds since midnight UTC. */
static int parse_hhmm(const char *s, unsigned *secs, struct err *e)
{
	unsigned h, m;

	if (!s)
		return 0;
	/* by hand: sscanf brings musl's scanf, 10 KiB, for two numbers */
	if (strlen(s) != 5 || strspn(s, "0123456789") != 2 || s[2] != ':' ||
	    strspn(s + 3, "0123456789") != 2)
		return err_set(e, 0, "--reboot-at %s: not HH:MM (UTC)", s);
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (h > 23 || m > 59)
		return err_set(e, 0, "--reboot-at %s: not a time of day", s);
	*secs = h * 3600 + m * 60;
	return 0;
}

/* The maintenance window: sleep until the next HH:MM UTC (the wall clock's: a clock set
 * meanwhile moves it), then the orderly reboot. */
static int reboot_at(unsigned secs, const char *text, struct err *e)
{
	struct timespec now, at;

	clock_gettime(CLOCK_REALTIME, &now);
	at.tv_sec = now.tv_sec - now.tv_sec % 86400 + secs;
	at.tv_nsec = 0;
	if (at.tv_sec <= now.tv_sec)
		at.tv_sec += 86400;
	printf("update: rebooting into it at %s UTC, in %lld s\n", text,
	       (long long)(at.tv_sec - now.tv_sec));
	fflush(stdout);
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	if (kill(1, SIGTERM) < 0)
		return err_set(e, errno, "reboot (signal PID 1)");
	return 0;
}

/* BUNDLE: a file, - (standard input) or an http(s):// URL (f: its fetcher). */
static int open_input(const char *path, struct fetch *f, struct err *e)
{
	int in;

	f->pid = -1;
	if (fetch_is_url(path))
		return fetch_open(path, f, e);
	in = strcmp(path, "-") == 0 ? dup(STDIN_FILENO)
				    : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return err_set(e, errno, "open %s", path);
	return in;
}

int cmd_apply(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;
	static struct upd_head h;
	static char shown[UPD_URL_SHOWN];
	const char *path = a->operand[0], *name = fetch_shown(path, shown, sizeof(shown));
	struct err fetched;
	struct fetch f = {.pid = -1, .err_fd = -1};
	unsigned at = 0;
	bool ended;
	int in, ret;

	if (parse_hhmm(a->reboot_at, &at, e) < 0)
		return -1;
	if ((in = open_input(path, &f, e)) < 0)
		return err_ctx(e, "apply");
	ret = apply(a, name, in, &b, &h, e);
	upd_unlock(); /* written: --reboot-at's wait must not hold off rollback or mark-good */
	/* A bundle that passed every check is applied, whatever the fetcher says after.
	 * One whose stream ended early is explained by the fetcher's failure (a 404 reads
	 * as a truncated bundle); one refused while the fetcher still sent it, by the
	 * refusal: the fetcher's complaint about the stream closed on it ("write: Broken
	 * pipe") would pass a forged or tampered bundle off as a network fault. */
	ended = f.pid > 0 && ret < 0 && fetch_ended(in);
	if (f.pid > 0 && ret < 0 && !ended) /* cut off: not waited for (a silent one never ends) */
		kill(f.pid, SIGKILL);
	if (f.pid > 0 && ret < 0)
		fetch_silence(name, e);
	if (f.pid > 0 && fetch_close(in, &f, path, &fetched) < 0 && ended)
		*e = fetched;
	else if (f.pid <= 0)
		close(in);
	if (ret < 0)
		return err_ctx(e, "apply");
	if (ret == 1) /* --if-newer: nothing to do */
		return 0;
	if (a->reboot_at)
		return reboot_at(at, a->reboot_at, e);
	if (a->reboot && kill(1, SIGTERM) < 0)
		return err_set(e, errno, "apply: written; reboot (signal PID 1)");
	return 0;
}
