/*
 * Unit tests: init/provision/console.c, provision's own console lines on a
 * console that takes nothing. The console is a pseudo-terminal: stopped as
 * Ctrl-S stops a terminal with ixon (tcflow TCOOFF), or full (no one reads
 * its other side). provision must go on at once, not wait for the console:
 * with a blocking write (fd 1, before console.c) the first line would hold
 * it until the alarm below kills the test. What the console does take is
 * whole lines, and the count of the dropped ones once it takes lines again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int master, slave; /* the terminal's two sides; slave: for tcflow */
static char shown[1 << 18];
static size_t shown_len;
static unsigned whole_lines, dropped; /* of ours shown whole; said dropped by the notes */

/* Everything the console showed since the last call, appended to shown. */
static void drain(void)
{
	ssize_t n;

	while (shown_len < sizeof(shown) - 1 &&
	       (n = read(master, shown + shown_len, sizeof(shown) - 1 - shown_len)) > 0)
		shown_len += (size_t)n;
	shown[shown_len] = '\0';
}

/* Lines logged, and how long provision took for them. */
static uint64_t log_lines(int from, int count)
{
	uint64_t t0 = now_ms();

	for (int i = from; i < from + count; i++)
		log_msg(LOG_INFO,
			"line %d of a console that takes nothing, long enough that a few "
			"hundred fill a terminal's buffer",
			i);
	return now_ms() - t0;
}

/* Each line the console showed is one of ours, in order, or the count of the dropped
 * ones; a line the console took part of when it filled (at most cut of them) is the
 * start of one of ours, and the next line starts on a line of its own. */
static unsigned check_lines(int *last, int cut)
{
	static const char whole[] = "provision: line %d of a console that takes nothing, long "
				    "enough that a few hundred fill a terminal's buffer";
	char want[256], *save, *l;
	unsigned notes = 0, n;
	int i;

	for (l = strtok_r(shown, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "provision: line %d of", &i) == 1 && i > *last) {
			snprintf(want, sizeof(want), whole, i);
			if (strcmp(l, want) != 0) {
				print_message("cut: %s\n", l);
				assert_true(cut-- > 0 && strncmp(l, want, strlen(l)) == 0);
			} else {
				whole_lines++;
			}
			*last = i;
			continue;
		}
		print_message("line: %s\n", l);
		assert_non_null(strstr(l, "provision: console: "));
		assert_non_null(strstr(l, " of provision's lines were not shown, the console "
					  "took nothing for a while (dmesg has them)"));
		assert_int_equal(sscanf(l, "provision: console: %u of", &n), 1);
		dropped += n;
		notes++;
	}
	shown_len = 0;
	return notes;
}

static void test_stopped(void **state)
{
	uint64_t took;
	int last = -1;

	(void)state;
	assert_int_equal(tcflow(slave, TCOOFF), 0);
	took = log_lines(0, 50);
	print_message("50 lines on a stopped console: %llu ms\n", (unsigned long long)took);
	/* one wait of 1 s, then a single try each; the bound is for a hang */
	assert_true(took < 5000);
	assert_int_equal(tcflow(slave, TCOON), 0);
	log_lines(50, 1);
	drain();
	assert_non_null(
	    strstr(shown, "provision: console: 50 of provision's lines were not shown"));
	assert_int_equal(check_lines(&last, 0), 1);
	assert_int_equal(last, 50); /* none of the 50 (the console had none) */
}

static void test_full(void **state)
{
	uint64_t took;
	int last = 99;

	(void)state;
	took = log_lines(100, 1000); /* ~120 KB: several times what the terminal holds */
	print_message("1000 lines on a full console: %llu ms\n", (unsigned long long)took);
	assert_true(took < 5000);
	drain();
	log_lines(1100, 1);
	drain();
	whole_lines = dropped = 0;
	assert_int_equal(check_lines(&last, 1), 1);
	assert_int_equal(last, 1100);
	/* every line shown whole or counted (a cut one counts as dropped) */
	assert_int_equal(whole_lines + dropped, 1001);
}

static int setup(void **state)
{
	struct termios t;
	const char *name;

	(void)state;
	alarm(30); /* a blocking console write would hang here */
	log_set_ident("provision");
	log_no_kmsg(); /* every line goes to the console: none is the kernel's to show */
	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master)))
		return -1;
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &t) < 0)
		return -1;
	cfmakeraw(&t); /* "\n" stays "\n" */
	if (tcsetattr(slave, TCSANOW, &t) < 0)
		return -1;
	console_use(name);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stopped),
	    cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
