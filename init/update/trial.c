/*
 * trial.c: how far the boots of a slot on trial got, kept on STATE, so that once
 * GRUB has rolled the slot back the running one can say why. GRUB only counts
 * tries; what a boot leaves here is the rest of the story, and a boot that leaves
 * nothing (the kernel or init failed or hung before /var) is an answer too.
 *
 * One small file per slot, DIR/trial-X, replaced whole (write, fsync, rename):
 *     reached N      boots of this trial that came up as far as update-watch
 *     last TEXT      what the latest of them said last
 * apply removes the target slot's file before its trial, mark-good the good slot's.
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int trial_path(const char *dir, char slot, const char *suffix, char *buf, size_t size,
		      struct err *e)
{
	if (fmt_path(buf, size, "%s/trial-%c%s", dir, slot, suffix) < 0)
		return err_set(e, ENAMETOOLONG, "%s: trial record", dir);
	return 0;
}

/* Our own file, but on a disk: anything unexpected reads as "no record". */
void trial_load(const char *dir, char slot, struct trial *t)
{
	char path[256], text[512], *nl;
	const char *end;
	uint64_t n;
	struct err e;

	memset(t, 0, sizeof(*t));
	if (trial_path(dir, slot, "", path, sizeof(path), &e) < 0 ||
	    read_file(path, text, sizeof(text), &e) < 0 || strncmp(text, "reached ", 8) != 0 ||
	    !(end = dec_scan(text + 8, &n)) || n > 1000 || strncmp(end, "\nlast ", 6) != 0)
		return;
	if ((nl = strchr(end + 6, '\n')))
		*nl = '\0';
	t->reached = (unsigned)n;
	snprintf(t->last, sizeof(t->last), "%s", end + 6);
}

/* Synced before it counts: a watchdog reset may follow at any moment. */
int trial_store(const char *dir, char slot, const struct trial *t, struct err *e)
{
	char path[256], tmp[256], text[TRIAL_TEXT_MAX + 32];
	struct err ignored;
	int len = snprintf(text, sizeof(text), "reached %u\nlast %s\n", t->reached, t->last);

	if (trial_path(dir, slot, "", path, sizeof(path), e) < 0 ||
	    trial_path(dir, slot, ".new", tmp, sizeof(tmp), e) < 0 || mkdir_p(dir, 0700, e) < 0 ||
	    write_file_synced(tmp, text, (size_t)len, 0600, e) < 0)
		return -1;
	if (rename(tmp, path) < 0)
		return err_set(e, errno, "rename %s to %s", tmp, path);
	(void)sync_path(dir, &ignored); /* the rename's durability: best effort, as before */
	return 0;
}

void trial_clear(const char *dir, char slot)
{
	char path[256];
	struct err e;

	if (trial_path(dir, slot, "", path, sizeof(path), &e) == 0)
		unlink(path);
}

/* No boot of the trial came up, and update-watch recorded why: GRUB's fallback
 * booted the other slot instead (watch.c), so the slot had no tries of its own. */
bool trial_not_booted(const struct trial *t)
{
	return t->reached == 0 && *t->last;
}

/* The record is a file on STATE, which anyone with the disk may have written: its text
 * goes to root's terminal and the console escaped. */
void trial_why(const struct trial *t, char *out, size_t size)
{
	char last[4 * TRIAL_TEXT_MAX + 1];

	text_escaped(t->last, strlen(t->last), last, sizeof(last));
	if (trial_not_booted(t))
		snprintf(out, size, "%s", last);
	else if (t->reached == 0)
		snprintf(out, size,
			 "none of its boots came up as far as update-watch on STATE (the kernel or "
			 "init failed or hung before: its console log says which)");
	else
		snprintf(out, size, "%u of its boots came up as far as update-watch; the last: %s",
			 t->reached, last);
}
