/*
 * Unit tests: init/lib/log.c, where a line of init's or provision's goes: to
 * /dev/kmsg always, and to the console (stdout) only when nothing else shows it
 * there: the kernel (below console_loglevel) or PID 1's relay (below the level
 * in /run/wisp/console-level while console_loglevel is where the relay left it;
 * a root's `dmesg -n N` is followed). What it writes itself has its control
 * bytes escaped; in PID 1 it goes to klog.c's writer instead. /dev/kmsg, /proc/sys/kernel/printk,
 * ignore_loglevel and the level file are plain files, handed out by a wrapped open().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/base.h"
#include "lib/paths.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const fake_paths[][2] = {
    {"/dev/kmsg", "kmsg"},
    {"/proc/sys/kernel/printk", "printk"},
    {"/sys/module/printk/parameters/ignore_loglevel", "ignore"},
    {KLOG_LEVEL_FILE, "level"},
};
#include "fakefs.h"

static int out_pipe[2], saved_stdout;

/* What the console (stdout) received since the last call. */
static const char *console(void)
{
	static char buf[4096];
	ssize_t n = read(out_pipe[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	(void)state;
	fake_setup();
	fake_put("kmsg", "");
	fake_put("printk", "7\t4\t1\t7\n");
	fake_put("ignore", "N\n");
	assert_int_equal(pipe2(out_pipe, O_NONBLOCK), 0);
	saved_stdout = dup(STDOUT_FILENO);
	assert_true(dup2(out_pipe[1], STDOUT_FILENO) == STDOUT_FILENO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout), close(out_pipe[0]), close(out_pipe[1]);
	fake_teardown();
	return 0;
}

/* No relay (the initramfs, or before PID 1's loop): the kernel's level decides. */
static void test_kernel_level(void **state)
{
	(void)state;
	log_msg(LOG_INFO, "shown by the kernel");
	assert_string_equal(fake_got("kmsg"), "<30>init: shown by the kernel\n"); /* daemon.info */
	assert_string_equal(console(), "");
	log_msg(LOG_DEBUG, "not by the kernel");
	assert_string_equal(console(), "init: not by the kernel\n");
	fake_put("printk", "1\t4\t1\t7\n");
	log_msg(LOG_NOTICE, "after dmesg -n 1");
	assert_string_equal(console(), "init: after dmesg -n 1\n");
}

/* Provision under PID 1's relay: its level, unless a root moved console_loglevel. The level
 * file is read once: the relay keeps it while it runs. */
static void test_relay_level(void **state)
{
	(void)state;
	fake_put("level", "7 2\n");
	fake_put("printk", "2\n");
	log_msg(LOG_INFO, "relayed");
	assert_string_equal(console(), "");
	log_msg(LOG_DEBUG, "below no level");
	assert_string_equal(console(), "init: below no level\n");
	fake_put("printk", "1\n"); /* dmesg -n 1: the relay will follow */
	log_msg(LOG_NOTICE, "quiet console");
	assert_string_equal(console(), "init: quiet console\n");
	log_msg(LOG_EMERG, "the kernel prints it");
	assert_string_equal(console(), "");
	fake_put("printk", "2\n"); /* dmesg -n 7: the relay's own level again */
	log_msg(LOG_INFO, "relayed again");
	assert_string_equal(console(), "");
}

/* The console gets no terminal control from a line written to it. */
static void test_escaped(void **state)
{
	(void)state;
	log_msg(LOG_DEBUG, "name \x1b]2;pwned\x07 \xc2\x9b end");
	assert_string_equal(console(), "init: name \\x1b]2;pwned\\x07 \\xc2\\x9b end\n");
}

static char put_got[256];

static void put(const char *s, size_t n)
{
	snprintf(put_got, sizeof(put_got), "%.*s", (int)n, s);
}

/* PID 1 (klog.c's writer set): the line it writes itself goes to the writer, which never
 * waits for the console, not to fd 1 (which blocks on a stopped console). */
static void test_console_writer(void **state)
{
	(void)state;
	log_set_console(put);
	log_msg(LOG_DEBUG, "to the writer \x1b");
	log_set_console(NULL);
	assert_string_equal(put_got, "init: to the writer \\x1b\n");
	assert_string_equal(console(), "");
	log_msg(LOG_DEBUG, "fd 1 again");
	assert_string_equal(console(), "init: fd 1 again\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_kernel_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
