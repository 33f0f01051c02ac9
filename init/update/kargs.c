/*
 * kargs.c: the kernel arguments a slot's tail may not set (docs/update.md, "Where a
 * slot's command line lives"), one table for both doors a tail comes in by: a
 * bundle's signed cmdline (the updater's manifest, image-builder bundle --cmdline)
 * and an image spec's kernel.cmdline (image-builder/spec.c). Two tables drifted:
 * the spec's refused only root= and let init= through.
 */
#include "update.h"

#include <stdio.h>
#include <string.h>

/* What the slot's own arguments (slot_args, slot_dm) and GRUB's (wisp.tries=,
 * wisp.rollback=, the trial's watchdog: grubenv's wisp_watch, softdog's and
 * wisp.update_deadline=) set, and what a live or network boot's media set: a tail
 * that set them would take the root from dm-verity (root=, dm-mod.*), run another
 * program as init, name the other slot (the next apply would write over the running
 * one) or stop the trial's count and watchdog ("--" moves GRUB's arguments after it
 * into init's argv; softdog.soft_noboot=1 or a long deadline would let a bundle's
 * author keep a bad slot up on trial for ever), or leave a crashed kernel hanging
 * (panic=0 after the slot's panic=10: no restart, no try counted but by a watchdog). */
static const struct {
	const char *key; /* "x.*": every key that starts with "x." */
	const char *why;
} refused[] = {
    {"root", "the slot sets its root (dm-verity)"},
    {"rootfstype", "the slot sets its root (dm-verity)"},
    {"rootflags", "the slot sets its root (dm-verity)"},
    {"init", "would run another program than /sbin/init"},
    {"rdinit", "would run another program than /sbin/init"},
    {"panic", "the slot sets it: a crash restarts the host, and GRUB counts the try"},
    {"dm-mod.*", "the slot sets its root (dm-verity)"},
    {"wisp.slot", "the slot names itself (another name makes the next apply write over it)"},
    {"wisp.tries", "GRUB's boot counting sets it"},
    {"wisp.rollback", "GRUB's boot counting sets it"},
    {"wisp.live", "a live medium sets it"},
    {"wisp.initramfs.*", "a network boot sets it"},
    {"wisp.update_deadline", "the trial's deadline is grubenv's wisp_watch"},
    {"softdog.*", "the trial's watchdog is grubenv's wisp_watch"},
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
