/* Unit tests: init/pid1/logs.c, line framing and rotation, against a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_init_logs.XXXXXX";
static int logged; /* init's own messages (log_msg/log_err) */
static char seen[8][128];
static int nseen;

void log_err(const struct err *e)
{
	(void)e;
	logged++;
}

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
	logged++;
}

static struct watch *watched[4]; /* loop_watch() calls, in order */
static int nwatched;

int loop_watch(struct watch *w, struct err *e)
{
	(void)e;
	watched[nwatched++ % 4] = w;
	return 0;
}

void loop_unwatch(struct watch *w)
{
	(void)w;
}

static void observe(const char *unit, const char *line, size_t len)
{
	if (nseen < 8)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s|%.*s", unit, (int)len, line);
}

static char *slurp(const char *name)
{
	static char buf[1 << 16];
	char path[512];
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_text(path, buf, sizeof(buf), &e) < 0)
		return NULL;
	return buf;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void sink(struct logsink *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->unit, sizeof(l->unit), "%s", name);
	l->file = l->wfd = l->w.fd = -1;
}

static void test_framing(void **state)
{
	struct logsink l;
	regex_t rx;
	char *text;

	(void)state;
	logs_configure(dir, 1 << 20, 3);
	logs_set_observer(observe);
	sink(&l, "web");
	logs_feed(&l, "hel", 3);
	assert_null(slurp("web.log")); /* no complete line yet: nothing written */
	logs_feed(&l, "lo\nworld\npart", 13);
	text = slurp("web.log");
	assert_non_null(text);
	assert_int_equal(
	    regcomp(&rx,
		    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
		    "hello\n[0-9-]{10}T[0-9:.]{12}Z world\n$",
		    REG_EXTENDED),
	    0);
	assert_int_equal(regexec(&rx, text, 0, NULL, 0), 0);
	regfree(&rx);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0] + 29, "hello");
	assert_memory_equal(seen[0], "web|", 4);
	logs_feed(&l, "\n", 1);
	assert_non_null(strstr(slurp("web.log"), "Z part\n"));
	/* An empty line is a line. */
	logs_feed(&l, "\n", 1);
	assert_non_null(strstr(slurp("web.log"), "Z part\n"));
	assert_int_equal(nseen, 4);
	logs_close(&l);
	logs_set_observer(NULL);
}

static void test_long_line_cut(void **state)
{
	char big[LOG_LINE_MAX * 2 + 10];
	struct logsink l;
	char *text;
	int lines = 0;

	(void)state;
	logs_configure(dir, 1 << 20, 3);
	sink(&l, "long");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	logs_feed(&l, big, sizeof(big));
	text = slurp("long.log");
	for (char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 3); /* 2048 + 2048 + 9 */
	logs_close(&l);
}

static void test_rotation(void **state)
{
	char line[100];
	struct logsink l;
	struct stat st;
	char path[512];

	(void)state;
	logs_configure(dir, 1000, 3);
	sink(&l, "rot");
	for (int i = 0; i < 80; i++) {
		int n = snprintf(line, sizeof(line), "line %02d of output\n", i);
		logs_feed(&l, line, (size_t)n);
	}
	/* ~43 bytes a line: 23 a file; 80 lines overflow three files: the oldest 23 are gone. */
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/rot.log%s", dir,
			 i == 0	  ? ""
			 : i == 1 ? ".1"
				  : ".2");
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size <= 1000);
	}
	snprintf(path, sizeof(path), "%s/rot.log.3", dir);
	assert_int_equal(stat(path, &st), -1);
	assert_non_null(strstr(slurp("rot.log"), "line 79 of output"));
	assert_null(strstr(slurp("rot.log"), "line 00 of output"));
	assert_null(strstr(slurp("rot.log.2"), "line 00 of output"));
	assert_non_null(strstr(slurp("rot.log.1"), "Z line"));
	logs_close(&l);
}

/* No writable directory: lines are dropped, counted, reported once; never blocking. */
static void test_unwritable(void **state)
{
	struct logsink l;

	(void)state;
	logs_configure("/proc/version/nope", 1 << 20, 3);
	sink(&l, "lost");
	logged = 0;
	for (int i = 0; i < 50; i++)
		logs_feed(&l, "x\n", 2);
	assert_int_equal(l.dropped, 50);
	assert_int_equal(logged, 1);
	logs_close(&l);
}

/* The pipe: what the program writes comes out framed in the file. */
static void test_pipe(void **state)
{
	struct logsink l;
	struct err e;

	(void)state;
	logs_configure(dir, 1 << 20, 3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(logs_open(&l, "piped", &e), 0);
	assert_true(write(l.wfd, "a\nb\n", 4) == 4);
	l.w.ready(&l.w, 0);
	assert_non_null(strstr(slurp("piped.log"), "Z b\n"));
	logs_close(&l);
	assert_int_equal(l.w.fd, -1);
}

/* Held (early units, before /var): pipes open but unread until released, the
 * output kept in them; a sink closed meanwhile is forgotten. */
static void test_hold(void **state)
{
	struct logsink a, b, c;
	struct err e;

	(void)state;
	logs_configure(dir, 1 << 20, 3);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	nwatched = 0;
	logs_hold();
	assert_int_equal(logs_open(&a, "early-a", &e), 0);
	assert_int_equal(logs_open(&b, "early-b", &e), 0);
	assert_int_equal(logs_open(&c, "early-c", &e), 0);
	assert_int_equal(nwatched, 0);
	assert_true(write(a.wfd, "before /var\n", 12) == 12);
	logs_close(&b);
	assert_null(slurp("early-a.log"));
	logs_release();
	assert_int_equal(nwatched, 2); /* a and c, newest first; b is gone */
	assert_ptr_equal(watched[0], &c.w);
	assert_ptr_equal(watched[1], &a.w);
	a.w.ready(&a.w, 0);
	assert_non_null(strstr(slurp("early-a.log"), "Z before /var\n"));
	assert_int_equal(logs_open(&b, "late", &e), 0);
	assert_int_equal(nwatched, 3); /* not held any more */
	logs_close(&a);
	logs_close(&b);
	logs_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framing),  cmocka_unit_test(test_long_line_cut),
	    cmocka_unit_test(test_rotation), cmocka_unit_test(test_unwritable),
	    cmocka_unit_test(test_pipe),     cmocka_unit_test(test_hold),
	};

	return cmocka_run_group_tests_name("init_logs", tests, setup, teardown);
}
