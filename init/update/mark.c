/*
 * mark.c: `update mark-good`, the end of a trial boot.
 *
 * PID 1 starts it (the boot-good oneshot, docs/update.md) once every unit
 * declared `critical: true` is healthy; what every boot needs is checked
 * here: STATE mounted on /var (not the tmpfs of a failed mount) and PID 1's
 * control socket answering. Then an update's slot has proved itself:
 * wisp_tries is emptied in grubenv (rewritten in place, fsync'd), and GRUB
 * boots it as a good slot from now on.
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXT4_MAGIC 0xEF53

static int state_mounted(struct err *e)
{
	struct statfs st;

	if (statfs("/var", &st) < 0)
		return err_set(e, errno, "statfs /var");
	if (st.f_type != EXT4_MAGIC)
		return err_set(e, 0, "STATE is not mounted on /var");
	return 0;
}

/* wispctl ps: PID 1 reads and answers its control socket. */
static int control_answers(struct err *e)
{
	char *const argv[] = {"/bin/wispctl", "ps", NULL};
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC), status;
	struct spawn_req r = {.argv = argv, .envp = (char *const[]){NULL}, .out_fd = null};
	pid_t pid = spawn(&r, NULL, e); /* its table is not the log's business */

	if (null >= 0)
		close(null);
	if (pid < 0)
		return -1;
	if (spawn_wait(pid, now_ms() + 30000, &status, e) <= 0)
		return err_set(e, ETIMEDOUT, "PID 1's control socket: no answer in 30 s");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, 0, "PID 1's control socket: wispctl ps failed");
	return 0;
}

/* `update watch` (watch.c) waits for this file. */
static void tell_watch(void)
{
	struct err e;

	if (mkdir_p("/run/wisp/update", 0700, &e) == 0)
		write_file(BOOT_GOOD_FILE, "good\n", 5, 0600, &e);
}

static int mark(struct boot_state *b, struct err *e)
{
	char tries[8], slot = slot_of(grubenv_get(&b->env, "wisp_slot"));

	snprintf(tries, sizeof(tries), "%s", grubenv_get(&b->env, "wisp_tries")); /* set below */
	if (!*tries || !b->booted || slot != b->booted) {
		printf("update: slot %c is good (not a trial boot)\n", b->booted ? b->booted : '?');
		return 0;
	}
	if (grubenv_set(&b->env, "wisp_tries", "", e) < 0 || grubenv_store(&b->env, b->path, e) < 0)
		return -1;
	console_say("slot %c is good: its trial ends with %s tries left", slot, tries);
	return 0;
}

int cmd_mark_good(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;

	(void)a;
	if (state_mounted(e) < 0 || control_answers(e) < 0 || boot_load(&b, e) < 0 ||
	    mark(&b, e) < 0)
		return err_ctx(e, "mark-good");
	tell_watch();
	return 0;
}
