/*
 * Unit tests: init/pid1/klog.c, PID 1's relay of the kernel's records to the
 * console. /dev/kmsg is a SOCK_SEQPACKET socket (a read is one record, as
 * kmsg's), the console a pipe, /proc/sys/kernel/printk and the printk
 * parameters plain files: open() is wrapped (-Wl,--wrap=open,--wrap=lseek) to
 * hand them out by path. Checked: the kernel's level goes down to 2 and comes
 * back; records below the boot's level and not below 2 reach the console as the
 * kernel prints them, escaped as kmsg gave them; a root's `dmesg -n N` is
 * followed; a full console stops the reading of kmsg until it has room; records
 * the ring overwrote are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../init/pid1/klog.c"

#include <sys/socket.h>

static int kmsg_pair[2], con_pipe[2];
static bool kmsg_watched, con_waited;
static bool (*relay_fn)(int prio);

void log_set_relay(bool (*shows)(int prio))
{
	relay_fn = shows;
}

int loop_watch(struct watch *w, struct err *e)
{
	(void)e;
	assert_ptr_equal(w, &kmsg);
	kmsg_watched = true;
	return 0;
}

void loop_unwatch(struct watch *w)
{
	if (w == &kmsg)
		kmsg_watched = false;
}

int loop_watch_writable(struct watch *w, bool on)
{
	assert_ptr_equal(w, &con);
	con_waited = on;
	return 0;
}

/* /dev/kmsg and the console: the socket's and the pipe's ends. */
static int special(const char *path)
{
	if (strcmp(path, "/dev/kmsg") == 0)
		return dup(kmsg_pair[0]);
	if (strcmp(path, "/dev/console") == 0)
		return dup(con_pipe[1]);
	return -2;
}

static const char *const fake_paths[][2] = {
    {PRINTK_LEVELS, "printk"},
    {PRINTK_TIME, "time"},
    {IGNORE_LOGLEVEL, "ignore"},
    {KLOG_LEVEL_FILE, "level"},
};
#define FAKE_OPEN special
#include "fakefs.h"
#include "logged.h"

off_t __real_lseek(int fd, off_t off, int whence);

off_t __wrap_lseek(int fd, off_t off, int whence)
{
	if (fd == kmsg.fd) /* SEEK_END: the records from now on, as kmsg's */
		return 0;
	return __real_lseek(fd, off, whence);
}

/* A record as /dev/kmsg hands it out: the text already escaped. */
static void record(int prio, uint64_t seq, uint64_t usec, const char *text)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%d,%llu,%llu,-;%s\n SUBSYSTEM=x\n", prio,
			 (unsigned long long)seq, (unsigned long long)usec, text);

	assert_int_equal(write(kmsg_pair[1], buf, (size_t)n), n);
}

/* What the console received since the last call. */
static const char *console(void)
{
	static char buf[65536];
	ssize_t n = read(con_pipe[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	(void)state;
	fake_setup();
	fake_put("printk", "7\t4\t1\t7\n");
	fake_put("time", "Y\n");
	fake_put("ignore", "N\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, kmsg_pair), 0);
	assert_int_equal(pipe2(con_pipe, O_NONBLOCK), 0);
	logged[0] = '\0';
	active = busy = seq_known = false;
	own = -1, level = 0, lost = 0, out_len = out_off = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	klog_stop();
	for (int i = 0; i < 2; i++)
		close(kmsg_pair[i]), close(con_pipe[i]);
	fake_teardown();
	return 0;
}

static void test_start_stop(void **state)
{
	(void)state;
	klog_start();
	assert_true(active && kmsg_watched);
	assert_string_equal(fake_got("printk"), "2");
	assert_string_equal(fake_got("level"), "7 2\n");
	assert_ptr_equal(relay_fn, klog_shows);
	klog_stop();
	assert_string_equal(fake_got("printk"), "7");
	assert_false(active);
	assert_null(relay_fn);
}

static void test_relayed_as_the_kernel_prints(void **state)
{
	(void)state;
	klog_start();
	record(6, 10, 12345678, "Killed process 42 (\\x1b]2;pwned\\x07)");
	record(0, 11, 12345679, "an emergency: the kernel printed it itself");
	record(7, 12, 12345680, "debug: below no level of 7");
	record(27, 13, 3000001, "init: daemon.warning, a line of init's");
	record(4, 14, 3000002, "two\\x0alines");
	kmsg.ready(&kmsg, 0);
	assert_string_equal(console(), "[   12.345678] Killed process 42 (\\x1b]2;pwned\\x07)\n"
				       "[    3.000001] init: daemon.warning, a line of init's\n"
				       "[    3.000002] two\n[    3.000002] lines\n");
	assert_true(klog_shows(6));
	assert_false(klog_shows(7));
	assert_string_equal(logged, "");
}

static void test_no_stamps(void **state)
{
	(void)state;
	fake_put("time", "N\n");
	klog_start();
	record(5, 1, 1, "plain");
	kmsg.ready(&kmsg, 0);
	assert_string_equal(console(), "plain\n");
}

/* `dmesg -n 1` quiets the console, `dmesg -n 7` brings it back, the relay's own level
 * below it. */
static void test_follows_dmesg_n(void **state)
{
	(void)state;
	klog_start();
	fake_put("printk", "1\t4\t1\t7\n");
	record(3, 1, 1, "quiet");
	kmsg.ready(&kmsg, 0);
	assert_string_equal(console(), "");
	assert_string_equal(fake_got("level"), "1 1\n");
	assert_string_equal(fake_got("printk"), "1\t4\t1\t7\n"); /* left as the root set it */
	assert_false(klog_shows(3));
	fake_put("printk", "5\t4\t1\t7\n");
	record(4, 2, 2, "shown");
	record(5, 3, 3, "not shown");
	kmsg.ready(&kmsg, 0);
	assert_string_equal(console(), "[    0.000002] shown\n");
	assert_string_equal(fake_got("printk"), "2");
	assert_string_equal(fake_got("level"), "5 2\n");
	klog_stop();
	assert_string_equal(fake_got("printk"), "5");
}

/* A console without room: kmsg is not read until it has some, nothing is lost. */
static void test_full_console(void **state)
{
	char line[400];
	int n = 0;

	(void)state;
	assert_int_equal(fcntl(con_pipe[1], F_SETPIPE_SZ, 4096), 4096);
	klog_start();
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 40; i++)
		record(6, (uint64_t)i, 1, line);
	kmsg.ready(&kmsg, 0);
	assert_true(con_waited && !kmsg_watched);
	for (;;) {
		const char *s = console();

		if (!*s)
			break;
		for (; *s; s++)
			n += *s == '\n';
		con.ready(&con, 0);
	}
	assert_int_equal(n, 40);
	assert_true(!con_waited && kmsg_watched);
}

static void test_overwritten_counted(void **state)
{
	(void)state;
	klog_start();
	record(6, 100, 1, "a");
	record(6, 105, 1, "b"); /* 101..104 overwritten in the ring */
	kmsg.ready(&kmsg, 0);
	assert_non_null(strstr(logged, "4 kernel messages were overwritten"));
}

/* ignore_loglevel: the kernel prints everything whatever the level; nothing to relay. */
static void test_ignore_loglevel(void **state)
{
	(void)state;
	fake_put("ignore", "Y\n");
	klog_start();
	assert_false(active);
	assert_string_equal(fake_got("printk"), "7\t4\t1\t7\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_start_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relayed_as_the_kernel_prints, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_stamps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follows_dmesg_n, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_console, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overwritten_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_loglevel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
