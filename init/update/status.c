/*
 * status.c: `update status` and `update rollback`.
 */
#include "update.h"

#include <stdio.h>
#include <string.h>

/* GRUB's rollback (wisp_rollback), and why from what the slot's boots left on STATE. */
static void show_rollback(const char *rolled)
{
	char version[UPD_VERSION_MAX], why[TRIAL_WHY_MAX];
	struct trial t;

	if (!slot_of(rolled))
		return;
	slot_version(slot_of(rolled), version, sizeof(version));
	trial_load(TRIAL_DIR, slot_of(rolled), &t);
	trial_why(&t, why, sizeof(why));
	printf("last result: slot %s %s (Wisp %s): %s\n", rolled,
	       trial_not_booted(&t) ? "was rolled back" : "used its tries and was rolled back",
	       *version ? version : "?", why);
}

/* A good slot's counted boot: what was not up at its deadline (watch.c), never counted. */
static void show_not_up(void)
{
	char text[TRIAL_TEXT_MAX + 64], shown[4 * sizeof(text)];
	struct err e;

	if (read_file(NOT_UP_FILE, text, sizeof(text), &e) < 0)
		return;
	text_escaped(text, strlen(text), shown, sizeof(shown));
	printf("units: %s (not counted: the slot was marked good before)\n", shown);
}

static void show_slot(const struct boot_state *b, char slot)
{
	char version[UPD_VERSION_MAX];
	const char *cur = grubenv_get(&b->env, "wisp_slot");

	slot_version(slot, version, sizeof(version));
	printf("slot %c: %-10s%s%s%s\n", slot, *version ? version : "(empty)",
	       b->booted == slot ? "  booted" : "", slot_of(cur) == slot ? "  next" : "",
	       slot_of(grubenv_get(&b->env, "wisp_prev")) == slot ? "  previous" : "");
}

int cmd_status(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;
	char tries[GRUBENV_SHOWN], slot[GRUBENV_SHOWN];
	const char *rolled;

	(void)a;
	if (boot_load(&b, e) < 0)
		return err_ctx(e, "status");
	show_slot(&b, 'A');
	show_slot(&b, 'B');
	grubenv_shown(&b.env, "wisp_tries", tries, sizeof(tries));
	grubenv_shown(&b.env, "wisp_slot", slot, sizeof(slot));
	rolled = grubenv_get(&b.env, "wisp_rollback");
	if (*tries)
		printf("trial: slot %s, %s tries left\n", slot, tries);
	else
		printf("trial: none (slot %s is good)\n", slot);
	show_rollback(rolled);
	show_not_up();
	return 0;
}

/* The other slot next, as a good slot (no trial, wisp_good): it booted before, and the
 * operator chose it. */
int cmd_rollback(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;
	char to, version[UPD_VERSION_MAX];

	(void)a;
	if (upd_lock(UPD_LOCK_WAIT, e) < 0 || boot_load(&b, e) < 0)
		goto fail;
	to = slot_other(b.booted ? b.booted : slot_of(grubenv_get(&b.env, "wisp_slot")));
	slot_version(to, version, sizeof(version));
	if (!*version) {
		err_set(e, 0, "slot %c holds no system", to);
		goto fail;
	}
	if (grubenv_set(&b.env, "wisp_prev", (char[]){slot_other(to), 0}, e) < 0 ||
	    grubenv_set(&b.env, "wisp_slot", (char[]){to, 0}, e) < 0 ||
	    slot_mark_good(&b.env, to, e) < 0 || grubenv_store(&b.env, b.path, e) < 0)
		goto fail;
	printf("update: the next boot is slot %c (Wisp %s)\n", to, version);
	return 0;
fail:
	return err_ctx(e, "rollback");
}
