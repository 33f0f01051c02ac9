/*
 * goodslot.c: which counted boots are a good slot's, not a new update's trial.
 *
 * GRUB counts the boots of an update's slot until it is marked good, and then every
 * boot of the good slot while the other slot holds a system (docs/update.md): grubenv
 * alone cannot tell the two apart (wisp_tries=2 either way), and a grub.cfg written
 * once by image-builder, never by an update, cannot be taught to. So the updater keeps
 * wisp_good in grubenv, which GRUB neither loads nor changes (save_env keeps what it
 * does not name): the slot that passed its trial (mark-good), that the operator chose
 * (rollback), that GRUB's fallback ended a trial on, or an image's own default slot;
 * apply names the running slot, never the one it writes. On a good slot's counted boot
 * only the system's own failures count, never the health of a unit.
 */
#include "update.h"

/* grubenv's NAME is the slot BOOTED, whole ("B", not "B " nor "BA") */
static bool names(const struct grubenv *env, const char *name, char booted)
{
	const char *v = grubenv_get(env, name);

	return (booted == 'A' || booted == 'B') && v[0] == booted && v[1] == '\0';
}

bool slot_counted_good(const struct grubenv *env, char booted)
{
	return *grubenv_get(env, "wisp_tries") && names(env, "wisp_slot", booted) &&
	       names(env, "wisp_good", booted);
}

int slot_mark_good(struct grubenv *env, char slot, struct err *e)
{
	if (grubenv_set(env, "wisp_tries", "", e) < 0)
		return -1;
	return grubenv_set(env, "wisp_good", (char[]){slot, 0}, e);
}
