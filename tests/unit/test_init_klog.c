/*
 * Unit tests: init/pid1/klog.c, PID 1's relay of the kernel's records to the
 * console. /dev/kmsg is a SOCK_SEQPACKET socket (a read is one record, as
 * kmsg's), the console a pipe, /proc/sys/kernel/printk and the printk
 * parameters plain files: open() is wrapped (-Wl,--wrap=open,--wrap=lseek) to
 * hand them out by path. Checked: the kernel's level goes down to 2 and comes
 * back; records below the boot's level and not below 2 reach the console as the
 * kernel prints them, escaped as kmsg gave them; a root's `dmesg -n N` is
 * followed; a full console stops the reading of kmsg until it has room; records
 * the ring overwrote are counted; init's own console lines wait behind the records
 * without blocking, and are counted when dropped; a console that never takes
 * anything holds klog_stop() (shutdown's end) for a bounded time only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../init/pid1/klog.c"

#include <signal.h>
#include <sys/socket.h>
#include <time.h>

static int kmsg_pair[2], con_pipe[2];
static bool kmsg_watched, con_waited;
static bool (*relay_fn)(int prio);
static void (*put_fn)(const char *s, size_t n);

void log_set_relay(bool (*shows)(int prio))
{
	relay_fn = shows;
}

void log_set_console(void (*put)(const char *s, size_t n))
{
	put_fn = put;
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
	active = busy = seq_known = waiting = false;
	own = -1, level = 0, lost = dropped = 0, out_len = out_off = 0;
	put_fn = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	klog_stop();
	close_watch(&con);
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

/* A console with 4 KiB of room filled by 40 records of 400 bytes: kmsg is no longer read. */
static void fill_console(void)
{
	char line[400];

	assert_int_equal(fcntl(con_pipe[1], F_SETPIPE_SZ, 4096), 4096);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 40; i++)
		record(6, (uint64_t)i, 1, line);
	kmsg.ready(&kmsg, 0);
	assert_true(con_waited);
}

/* The console as it empties, until it has nothing more: what it received in all. */
static const char *console_all(void)
{
	static char all[1 << 17];
	size_t n = 0;

	for (;;) {
		const char *s = console();

		if (!*s)
			break;
		n += (size_t)snprintf(all + n, sizeof(all) - n, "%s", s);
		con.ready(&con, 0);
	}
	all[n] = '\0';
	return all;
}

/* init's own line (`dmesg -n 1`: the relay does not show it, log.c hands it to put) while
 * the console is full: PID 1 does not wait; the line comes whole, after the record being
 * written (records kmsg still holds come after it, as when init wrote the console itself),
 * and nothing is lost. */
static void test_own_line_queued(void **state)
{
	const char *all, *own_line;
	int lines = 0;

	(void)state;
	klog_start();
	assert_non_null(put_fn);
	fill_console();
	put_fn("init: web started\n", 18);
	all = console_all();
	own_line = strstr(all, "init: web started\n");
	assert_non_null(own_line);
	assert_true(own_line > all && own_line[-1] == '\n');
	for (const char *p = all; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 41);
	assert_false(con_waited);
}

/* A console that stays full: the lines past the queue's room are dropped, counted and
 * said once it takes lines again. */
static void test_own_lines_dropped(void **state)
{
	char line[200];

	(void)state;
	klog_start();
	fill_console();
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 2] = '\n';
	for (int i = 0; i < 2 * OUT_SIZE / (int)sizeof(line); i++)
		put_fn(line, sizeof(line) - 1);
	assert_true(dropped > 0);
	assert_string_equal(logged, "");
	(void)console_all();
	assert_non_null(strstr(logged, "of init's lines were not shown"));
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Shutdown's end with a console that takes nothing (stopped by Ctrl-S, a host not reading
 * it): klog_stop() gives up after STOP_IDLE_MS, the kernel's level back, instead of
 * holding PID 1 before it syncs and unmounts /var. SIGALRM ends a hung test. */
static void test_stop_stalled_console(void **state)
{
	uint64_t t0, took;

	(void)state;
	klog_start();
	fill_console();
	put_fn("init: reached the end\n", 22);
	signal(SIGALRM, SIG_DFL);
	alarm(30);
	t0 = mono_ms();
	klog_stop();
	took = mono_ms() - t0;
	alarm(0);
	assert_false(active);
	assert_string_equal(fake_got("printk"), "7");
	assert_true(took >= STOP_IDLE_MS - 100 && took < STOP_MAX_MS + 1000);
	put_fn("init: after the relay\n", 23); /* the console still full: not waited for */
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
	    cmocka_unit_test_setup_teardown(test_own_line_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_lines_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_stalled_console, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overwritten_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_loglevel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
