/*
 * mark.c: `update mark-good`, the end of a trial boot.
 *
 * PID 1 starts it (the boot-good oneshot, docs/update.md) once every unit
 * declared `critical: true` is healthy; what every boot needs is checked
 * here: STATE mounted on /var (not the tmpfs of a failed mount) and PID 1's
 * control socket answering. PID 1's "healthy" condition holds from a unit's start
 * when it has no health check, so each critical unit (the operands) is asked again
 * here: healthy, done, or running for UNIT_STEADY_MS (a unit that crashes right
 * after each start does not make a boot good). Then an update's slot has proved itself:
 * wisp_tries is emptied in grubenv (rewritten in place, fsync'd), wisp_good names the
 * slot, and GRUB boots it as a good slot from now on. A good slot's counted boot
 * (goodslot.c) is marked by `update watch` as soon as the system is up (mark_system),
 * whatever its units do.
 */
#include "update.h"
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#define EXT4_MAGIC 0xEF53

/* VAR: /var as PID 1 mounted it (watch's own mount namespace is a copy made early). */
static int state_mounted(const char *var, struct err *e)
{
	struct statfs st;

	if (statfs(var, &st) < 0)
		return err_set(e, errno, "statfs %s", var);
	if (st.f_type != EXT4_MAGIC)
		return err_set(e, 0, "STATE is not mounted on /var");
	return 0;
}

/* Each critical unit up steadily (units.c), which also proves PID 1 answers its control
 * socket. Not yet: a one-line error, and boot-good (restart: on-failure) runs again after
 * its backoff; the trial's deadline bounds it. */
static int critical_up(const struct upd_args *a, struct err *e)
{
	struct unit_now *units;
	size_t n;
	int ret;

	if (units_ps(&units, &n, e) < 0)
		return -1;
	ret = units_critical_up(units, n, a->operand, (size_t)a->noperands, e);
	free(units);
	return ret;
}

/* `update watch` (watch.c) waits for this file; what it said of the units is old now. */
static void tell_watch(void)
{
	struct err e;

	if (upd_run_dir(&e) == 0)
		write_file(BOOT_GOOD_FILE, "good\n", 5, 0600, &e);
	unlink(NOT_UP_FILE);
}

/* SYSTEM: the system alone is up, which makes only a good slot's counted boot good. */
static int mark(struct boot_state *b, bool system, struct err *e)
{
	char tries[GRUBENV_SHOWN], slot = slot_of(grubenv_get(&b->env, "wisp_slot"));
	bool was_good = slot_counted_good(&b->env, b->booted);

	grubenv_shown(&b->env, "wisp_tries", tries, sizeof(tries)); /* set below: said after */
	if (!*tries || !b->booted || slot != b->booted) {
		printf("update: slot %c is good (not a trial boot)\n", b->booted ? b->booted : '?');
		if (b->booted && slot == b->booted)
			trial_clear(TRIAL_DIR,
				    b->booted); /* a good slot counted (docs/update.md) */
		return 0;
	}
	if (system && !was_good)
		return err_set(e, 0, "slot %c is on trial: its critical units decide", slot);
	if (slot_mark_good(&b->env, slot, e) < 0 || grubenv_store(&b->env, b->path, e) < 0)
		return -1;
	trial_clear(TRIAL_DIR, slot);
	if (was_good)
		console_say("slot %c is good (marked good before): the system came up with %s "
			    "tries left",
			    slot, tries);
	else
		console_say("slot %c is good: its trial ends with %s tries left", slot, tries);
	return 0;
}

/* A good slot's counted boot, by `update watch`: STATE on PID 1's /var and PID 1 answering
 * (its units listed) are the system; B is loaded (the ESP mounted in watch's namespace, a
 * copy of PID 1's made before), grubenv again under the lock. The lock is tried once: the
 * caller feeds the watchdogs between tries. */
int mark_system(struct boot_state *b, struct err *e)
{
	struct unit_now *units = NULL;
	size_t n;
	int ret;

	if (state_mounted("/proc/1/root/var", e) < 0 || units_ps(&units, &n, e) < 0)
		return -1;
	free(units); /* PID 1 answered: its units are not the question */
	if (upd_lock(0, e) < 0)
		return -1;
	ret = grubenv_load(&b->env, b->path, e) < 0 ? -1 : mark(b, true, e);
	upd_unlock();
	return ret;
}

int cmd_mark_good(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;

	if (state_mounted("/var", e) < 0 || critical_up(a, e) < 0 ||
	    upd_lock(UPD_LOCK_WAIT, e) < 0 || boot_load(&b, e) < 0 || mark(&b, false, e) < 0)
		return err_ctx(e, "mark-good");
	tell_watch();
	return 0;
}
