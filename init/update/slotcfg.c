/*
 * slotcfg.c: a slot's kernel arguments (docs/update.md, "Where a slot's command
 * line lives"), rendered in this one place: image-builder writes both slots'
 * /X/slot.cfg and the direct-boot command line with it, the updater the slot a
 * bundle fills. Two renderings of one format drift apart (a panic= or waitfor
 * changed in one); a host would then boot its updated slot with other arguments
 * than a fresh image's.
 */
#include "update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *slot_dm(const struct upd_verity *v, const char *partuuid)
{
	char *s;

	/* one verity target over the whole data area, data and tree on the same
	 * partition (Documentation/admin-guide/device-mapper/verity.rst) */
	if (asprintf(&s,
		     SLOT_DM_NAME ",,,ro,0 %llu verity 1 PARTUUID=%s PARTUUID=%s %u %u %llu %llu "
				  "sha256 %.64s %.64s 1 restart_on_corruption",
		     (unsigned long long)v->data_blocks * (v->data_block_size / 512), partuuid,
		     partuuid, v->data_block_size, v->hash_block_size,
		     (unsigned long long)v->data_blocks, (unsigned long long)v->hash_start_block,
		     v->root_hash, v->salt) < 0)
		return NULL;
	return s;
}

char *slot_args(char slot, const char *partuuid, const char *cmdline)
{
	char *s;

	/* dm-mod.waitfor: a slow disk delays the boot instead of failing it; panic=: a
	 * crash reboots, and GRUB counts the try */
	if (asprintf(&s,
		     "dm-mod.waitfor=PARTUUID=%s root=/dev/dm-0 ro rootfstype=erofs wisp.slot=%c "
		     "panic=10%s%s",
		     partuuid, slot, *cmdline ? " " : "", cmdline) < 0)
		return NULL;
	return s;
}

char *slot_cfg(char slot, const char *partuuid, const struct upd_verity *v, const char *version,
	       const char *cmdline, const char *writer)
{
	char *dm = slot_dm(v, partuuid), *args = slot_args(slot, partuuid, cmdline);
	/* GRUB's single quotes are sh's: literal up to the next ', written '\'' */
	char *qdm = dm ? single_quoted(dm) : NULL, *qargs = args ? single_quoted(args) : NULL;
	char *cfg = NULL;

	if (qdm && qargs &&
	    asprintf(&cfg,
		     "# Slot %c's kernel arguments, read by /grub/grub.cfg: written by %s\n"
		     "# (docs/update.md).\n"
		     "set wisp_version=%s\nset wisp_dm=%s\nset wisp_args=%s\n",
		     slot, writer, version, qdm, qargs) < 0)
		cfg = NULL;
	free(dm), free(args), free(qdm), free(qargs);
	return cfg;
}

/* What the slot's own arguments (slot_args, slot_dm) and GRUB's (wisp.tries=,
 * wisp.rollback=, the trial's watchdog) set, and what a live or network boot's
 * media set: a tail that set them would take the root from dm-verity (root=,
 * dm-mod.*), run another program as init, name the other slot (the next apply
 * would write over the running one) or stop the trial's count and watchdog
 * ("--" moves GRUB's arguments after it into init's argv). */
static const struct {
	const char *key; /* "x.*": every key that starts with "x." */
	const char *why;
} refused[] = {
    {"root", "the slot sets its root (dm-verity), not a bundle"},
    {"rootfstype", "the slot sets its root (dm-verity), not a bundle"},
    {"rootflags", "the slot sets its root (dm-verity), not a bundle"},
    {"init", "would run another program than /sbin/init"},
    {"rdinit", "would run another program than /sbin/init"},
    {"dm-mod.*", "the slot sets its root (dm-verity), not a bundle"},
    {"wisp.slot", "the slot names itself (another name makes the next apply write over it)"},
    {"wisp.tries", "GRUB's boot counting sets it"},
    {"wisp.rollback", "GRUB's boot counting sets it"},
    {"wisp.live", "a live medium sets it"},
    {"wisp.initramfs.*", "a network boot sets it"},
    {"--", "would hand GRUB's wisp.tries= and the trial's watchdog arguments to init"},
};

/* The kernel takes '-' and '_' for one another in a parameter's name (parameq). */
static bool key_is(const char *word, size_t n, const char *key)
{
	size_t k = strlen(key);
	bool prefix = k >= 2 && key[k - 1] == '*';

	if (prefix)
		k--;
	if (prefix ? n < k : n != k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (word[i] != key[i] && !(strchr("-_", word[i]) && strchr("-_", key[i])))
			return false;
	return true;
}

/* The word's name: up to its '=' ("--" and a bare flag are all name). */
static const char *refused_word(const char *word, size_t n)
{
	const char *eq = memchr(word, '=', n);
	size_t name = eq ? (size_t)(eq - word) : n;

	for (size_t i = 0; i < ARRAY_LEN(refused); i++)
		if (key_is(word, name, refused[i].key))
			return refused[i].why;
	return NULL;
}

const char *slot_cmdline_check(const char *cmdline, char *why, size_t size)
{
	const char *w = cmdline, *bad;
	size_t n = strlen(cmdline);

	if (n > UPD_CMDLINE_MAX)
		return "longer than 1024";
	/* the image spec's rule for kernel.cmdline: it becomes GRUB script (slot.cfg) */
	for (const char *c = cmdline; *c; c++)
		if (*c < 0x20 || *c > 0x7e || strchr("\"'\\$;&|<>{}#`", *c))
			return "has a character GRUB's script would read (\" ' \\ $ ; & | < > { } "
			       "# `)";
	for (; *w; w += n + strspn(w + n, " ")) {
		n = strcspn(w, " ");
		if (n && (bad = refused_word(w, n))) {
			snprintf(why, size, "argument \"%.*s\": %s", (int)(n > 64 ? 64 : n), w,
				 bad);
			return why;
		}
	}
	return NULL;
}
