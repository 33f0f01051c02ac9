/* test_update_grubenv.c: the updater's grubenv (init/update/grubenv.c) against GRUB's own
 * grub-editenv: blocks it writes parse, blocks we write it lists, and a rewrite is in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "update/update.h"

static char dir[] = "/tmp/test-grubenv-XXXXXX";
static char path[64];

static void run(const char *cmd)
{
	char line[1200];

	snprintf(line, sizeof(line), "grub-editenv %s %s", path, cmd);
	assert_int_equal(system(line), 0);
}

static char *listed(void)
{
	static char out[1024];
	char line[512];
	FILE *f;
	size_t n;

	snprintf(line, sizeof(line), "grub-editenv %s list", path);
	f = popen(line, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/grubenv", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

/* What grub-editenv writes, we read; escapes (\\ and newline) included. */
static void reads_grub(void **state)
{
	struct grubenv env;
	struct err e;

	(void)state;
	unlink(path);
	run("create");
	run("set wisp_slot=B wisp_prev=A wisp_tries=3 'odd=a\\b'");
	assert_int_equal(grubenv_load(&env, path, &e), 0);
	assert_string_equal(grubenv_get(&env, "wisp_slot"), "B");
	assert_string_equal(grubenv_get(&env, "wisp_prev"), "A");
	assert_string_equal(grubenv_get(&env, "wisp_tries"), "3");
	assert_string_equal(grubenv_get(&env, "odd"), "a\\b");
	assert_string_equal(grubenv_get(&env, "missing"), "");
}

/* What we write, grub-editenv lists; the file keeps its inode and size (GRUB's save_env
 * finds the same blocks), and its second sector is not written. */
static void writes_in_place(void **state)
{
	struct grubenv env;
	struct stat before, after;
	struct err e;
	char block[1024];
	FILE *f;

	(void)state;
	unlink(path);
	run("create");
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(grubenv_load(&env, path, &e), 0);
	assert_int_equal(grubenv_set(&env, "wisp_slot", "B", &e), 0);
	assert_int_equal(grubenv_set(&env, "wisp_tries", "", &e), 0);
	assert_int_equal(grubenv_set(&env, "note", "two\nlines\\", &e), 0);
	assert_int_equal(grubenv_store(&env, path, &e), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(after.st_size, 1024);
	assert_string_equal(listed(), "wisp_slot=B\nwisp_tries=\nnote=two\nlines\\\n");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(block, 1, sizeof(block), f), sizeof(block));
	fclose(f);
	for (int i = 512; i < 1024; i++)
		assert_int_equal(block[i], '#');
}

/* A block whose second sector another tool filled: written whole, nothing of it left. */
static void long_block(void **state)
{
	struct grubenv env = {0};
	char cmd[600];
	struct err e;

	(void)state;
	unlink(path);
	run("create");
	snprintf(cmd, sizeof(cmd), "set long=%0500d stale=1", 7);
	run(cmd);
	assert_int_equal(grubenv_set(&env, "wisp_slot", "A", &e), 0);
	assert_int_equal(grubenv_store(&env, path, &e), 0);
	assert_string_equal(listed(), "wisp_slot=A\n");
}

/* More than one sector of variables: refused, the file as it was. */
static void one_sector(void **state)
{
	struct grubenv env = {0};
	char value[120];
	struct err e;

	(void)state;
	unlink(path);
	run("create");
	run("set wisp_slot=A");
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "big%d", i);
		assert_int_equal(grubenv_set(&env, name, value, &e), 0);
	}
	assert_int_equal(grubenv_store(&env, path, &e), -1);
	assert_non_null(strstr(e.msg, "grubenv: the variables do not fit in 512 bytes"));
	assert_string_equal(listed(), "wisp_slot=A\n");
}

static void not_an_envblk(void **state)
{
	struct grubenv env;
	struct err e;
	char block[1024];

	(void)state;
	memset(block, '#', sizeof(block));
	assert_int_equal(grubenv_parse(&env, block, sizeof(block), &e), -1);
	memcpy(block, "# GRUB Environment Block\nnovalue\n", 34);
	assert_int_equal(grubenv_parse(&env, block, sizeof(block), &e), -1);
	assert_string_equal(e.msg, "grubenv: a line is not NAME=VALUE");
	assert_int_equal(grubenv_parse(&env, block, 1000, &e), -1);
}

/* A good slot's counted boot (goodslot.c): wisp_tries set, wisp_slot and wisp_good the
 * booted slot, each whole; anything else is a trial (or no counted boot at all). */
static void counted_good(void **state)
{
	static const struct {
		const char *slot, *tries, *good;
		char booted;
		bool want;
	} cases[] = {
	    {"B", "2", "B", 'B', true},	  /* a good slot counted */
	    {"A", "1", "A", 'A', true},	  /* the other letter */
	    {"B", "2", "A", 'B', false},  /* an update's trial: apply named the running slot */
	    {"B", "2", NULL, 'B', false}, /* no wisp_good: a grubenv of an older apply */
	    {"B", "2", "", 'B', false},	  /* emptied */
	    {"B", "", "B", 'B', false},	  /* not counted: wisp_tries empty */
	    {"B", "2", "B", 'A', false},  /* GRUB's fallback booted A: watch ends the trial */
	    {"B", "2", "B", 0, false},	  /* no wisp.slot= on the command line */
	    {"B", "2", "BA", 'B', false}, {"B", "2", "B ", 'B', false},
	    {"BB", "2", "B", 'B', false},
	};
	struct grubenv env;
	struct err e;
	char block[GRUBENV_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n =
		    snprintf(block, sizeof(block),
			     "# GRUB Environment Block\nwisp_slot=%s\nwisp_prev=A\nwisp_tries=%s\n",
			     cases[i].slot, cases[i].tries);

		if (cases[i].good)
			n += snprintf(block + n, sizeof(block) - (size_t)n, "wisp_good=%s\n",
				      cases[i].good);
		memset(block + n, '#', sizeof(block) - (size_t)n);
		assert_int_equal(grubenv_parse(&env, block, sizeof(block), &e), 0);
		if (slot_counted_good(&env, cases[i].booted) != cases[i].want)
			fail_msg("case %zu: slot %s tries %s good %s booted %c: want %d", i,
				 cases[i].slot, cases[i].tries,
				 cases[i].good ? cases[i].good : "(none)",
				 cases[i].booted ? cases[i].booted : '-', cases[i].want);
	}
	/* marked good: the count ends, the slot named */
	assert_int_equal(slot_mark_good(&env, 'B', &e), 0);
	assert_string_equal(grubenv_get(&env, "wisp_tries"), "");
	assert_string_equal(grubenv_get(&env, "wisp_good"), "B");
}

/* Nothing signs grubenv: what `update status` and the console show of its values is text,
 * whoever wrote the disk (OSC 52 into the clipboard, a cleared screen, C1's CSI, DEL). */
static void shown_escaped(void **state)
{
	static const char block_head[] = "# GRUB Environment Block\n"
					 "wisp_slot=B\x1b]52;c;cm0gLXJmIH4=\x07\n"
					 "wisp_tries=2\xc2\x9b"
					 "2J\x7f\n"
					 "wisp_prev=A\n";
	char block[GRUBENV_SIZE], out[GRUBENV_SHOWN];
	struct grubenv env;
	struct err e;

	(void)state;
	memcpy(block, block_head, sizeof(block_head) - 1);
	memset(block + sizeof(block_head) - 1, '#', sizeof(block) - (sizeof(block_head) - 1));
	assert_int_equal(grubenv_parse(&env, block, sizeof(block), &e), 0);
	assert_string_equal(grubenv_shown(&env, "wisp_slot", out, sizeof(out)),
			    "B\\x1b]52;c;cm0gLXJmIH4=\\x07");
	assert_string_equal(grubenv_shown(&env, "wisp_tries", out, sizeof(out)),
			    "2\\xc2\\x9b2J\\x7f");
	assert_string_equal(grubenv_shown(&env, "wisp_prev", out, sizeof(out)), "A");
	assert_string_equal(grubenv_shown(&env, "wisp_good", out, sizeof(out)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_grub),    cmocka_unit_test(writes_in_place),
	    cmocka_unit_test(long_block),    cmocka_unit_test(one_sector),
	    cmocka_unit_test(not_an_envblk), cmocka_unit_test(counted_good),
	    cmocka_unit_test(shown_escaped),
	};

	return cmocka_run_group_tests_name("update_grubenv", tests, setup, teardown);
}
