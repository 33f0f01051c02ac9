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
#include <time.h>
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

/* Linked with -Wl,--wrap=write,--wrap=clock_gettime (init.mk): every write() of
 * logs.c (through write_all) is counted, and its clock is fixed so that a file's
 * bytes can be compared whole. */
static unsigned long writes;
ssize_t __real_write(int fd, const void *buf, size_t len);
int __real_clock_gettime(clockid_t clk, struct timespec *ts);

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	writes++;
	return __real_write(fd, buf, len);
}

#define STAMP "2026-01-31T12:00:00.123Z "

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk != CLOCK_REALTIME)
		return __real_clock_gettime(clk, ts);
	ts->tv_sec = 1769860800; /* 2026-01-31T12:00:00Z */
	ts->tv_nsec = 123456789;
	return 0;
}

/* What the line-by-line framing wrote (one stamped line per newline, a line cut at
 * LOG_LINE_MAX, the rest carried to the next call): the bytes batching must keep. */
static struct {
	char text[4 << 20];
	size_t len;
	char part[LOG_LINE_MAX];
	size_t plen;
} want;

static void want_line(const char *text, size_t len)
{
	memcpy(want.text + want.len, STAMP, strlen(STAMP));
	want.len += strlen(STAMP);
	memcpy(want.text + want.len, text, len);
	want.len += len;
	want.text[want.len++] = '\n';
}

static void want_feed(const char *buf, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;

		if (take > sizeof(want.part) - want.plen)
			take = sizeof(want.part) - want.plen;
		memcpy(want.part + want.plen, buf, take);
		want.plen += take;
		buf += take;
		len -= take;
		if ((len > 0 && *buf == '\n') || want.plen == sizeof(want.part)) {
			want_line(want.part, want.plen);
			want.plen = 0;
			if (len > 0 && *buf == '\n') {
				buf++;
				len--;
			}
		}
	}
}

/* Every batch the observer (logs -f) got: whole lines, as in the file. */
static struct {
	char text[4 << 20];
	size_t len;
	unsigned long calls; /* batches: as many as write() calls of the file */
} heard;

static void hear(const char *unit, const char *lines, size_t len)
{
	(void)unit;
	assert_true(len > 0 && lines[len - 1] == '\n');
	memcpy(heard.text + heard.len, lines, len);
	heard.len += len;
	heard.calls++;
}

static size_t slurp_big(const char *name, char *buf, size_t size)
{
	char path[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* A batch's lines, each as "unit|line" (no newline) in seen. */
static void observe(const char *unit, const char *lines, size_t len)
{
	const char *end = lines + len, *nl;

	assert_true(len > 0 && end[-1] == '\n'); /* whole lines only */
	for (; lines < end && nseen < 8; lines = nl + 1) {
		nl = memchr(lines, '\n', (size_t)(end - lines));
		snprintf(seen[nseen++], sizeof(seen[0]), "%s|%.*s", unit, (int)(nl - lines), lines);
	}
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
	logs_feed(&l, "a\nb\nc\n", 6); /* one batch of three: each counted */
	assert_int_equal(l.dropped, 53);
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

/* A unit's last line without its newline (a oneshot's `printf done`, a service's last
 * words at shutdown) is written when its process ends, with what its pipe still held: before,
 * it waited for a newline that never came (an ended oneshot's, or shutdown's closed file). */
static void test_last_line(void **state)
{
	struct logsink l;
	struct err e;

	(void)state;
	logs_configure(dir, 1 << 20, 3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(logs_open(&l, "last", &e), 0);
	assert_true(write(l.wfd, "a\nlast words", 12) == 12);
	l.w.ready(&l.w, 0);
	assert_null(strstr(slurp("last.log"), "last words"));
	assert_true(write(l.wfd, " and more", 9) == 9); /* unread when it ends */
	logs_end(&l);
	assert_non_null(strstr(slurp("last.log"), "Z a\n" STAMP "last words and more\n"));
	logs_end(&l); /* nothing more: nothing written */
	assert_int_equal(strlen(strstr(slurp("last.log"), "Z last")),
			 strlen("Z last words and more\n"));
	logs_close(&l);
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

static char got[4 << 20];

/* The file and the followers got exactly the line-by-line bytes. */
static void assert_as_line_by_line(const char *file)
{
	size_t n = slurp_big(file, got, sizeof(got));

	assert_int_equal(n, want.len);
	assert_memory_equal(got, want.text, n);
	assert_int_equal(heard.len, want.len);
	assert_memory_equal(heard.text, want.text, n);
}

static void batch_start(struct logsink *l, const char *name)
{
	logs_configure(dir, 64 << 20, 3);
	logs_set_observer(hear);
	sink(l, name);
	want.len = want.plen = heard.len = heard.calls = 0;
	writes = 0;
}

/* A read of 64 KiB of newlines (65 536 empty lines, 1.6 MiB stamped) is written a
 * batch at a time, not a line at a time (65 536 write() calls, ~129 ms of PID 1). */
static void test_batch_newlines(void **state)
{
	static char nl[64 << 10];
	struct logsink l;
	struct err e;

	(void)state;
	batch_start(&l, "newlines");
	memset(nl, '\n', sizeof(nl));
	logs_feed(&l, nl, sizeof(nl));
	want_feed(nl, sizeof(nl));
	assert_as_line_by_line("newlines.log");
	printf("64 KiB of newlines: %lu write() calls for %zu bytes, %lu to the followers\n",
	       writes, want.len, heard.calls);
	/* every write but the last carries a full batch less at most one line */
	assert_true(writes <= want.len / (LOG_BATCH - LOG_LINE_MAX - 64) + 1);
	/* and logs -f hears each batch once, not each line (65 536 calls, a message and a
	 * send() each for a follower) */
	assert_int_equal(heard.calls, writes);
	/* Through the pipe: one wakeup reads the 64 KiB in LOG_BATCH-bounded calls. */
	logs_close(&l);
	memset(&l, 0, sizeof(l));
	assert_int_equal(logs_open(&l, "piped-nl", &e), 0);
	want.len = heard.len = 0;
	writes = 1; /* the test's own write() into the pipe */
	assert_true(write(l.wfd, nl, sizeof(nl)) == (ssize_t)sizeof(nl));
	l.w.ready(&l.w, 0);
	want_feed(nl, sizeof(nl));
	assert_as_line_by_line("piped-nl.log");
	printf("one wakeup of 64 KiB of newlines: %lu write() calls\n", writes - 1);
	assert_true(writes - 1 <= want.len / (LOG_BATCH - LOG_LINE_MAX - 64) + 16);
	logs_close(&l);
	logs_set_observer(NULL);
}

/* Short lines, an empty one, one cut at LOG_LINE_MAX, a partial line carried over:
 * one write() per call when its lines fit a batch, the bytes unchanged. */
static void test_batch_mix(void **state)
{
	static char buf[16 << 10];
	struct logsink l;
	size_t len = 0;
	int calls = 0;

	(void)state;
	batch_start(&l, "mix");
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "line %d%.*s\n", i, i % 17,
					"................");
	buf[len++] = '\n';
	memset(buf + len, 'y', LOG_LINE_MAX + 100);
	len += LOG_LINE_MAX + 100;
	memcpy(buf + len, "\nhalf a li", 11);
	len += 11;
	for (size_t at = 0, step = 1000; at < len; at += step, calls++) {
		size_t n = len - at < step ? len - at : step;
		logs_feed(&l, buf + at, n);
		want_feed(buf + at, n);
	}
	logs_feed(&l, "ne\n", 3);
	want_feed("ne\n", 3);
	calls++;
	assert_as_line_by_line("mix.log");
	printf("%d calls of short lines: %lu write() calls\n", calls, writes);
	assert_true(writes <= (unsigned long)calls);
	writes = 0;
	logs_feed(&l, buf, 5000); /* ~100 lines in one call: one write */
	assert_int_equal(writes, 1);
	logs_close(&l);
	logs_set_observer(NULL);
}

/* A batch is cut where the file rotates: the files are byte for byte those of
 * feeding one line at a time. */
static void test_batch_rotation(void **state)
{
	static char all[8192], one[3][4096], batched[4096];
	static const char *const ext[] = {"", ".1", ".2"};
	struct logsink a, b;
	size_t len = 0;

	(void)state;
	logs_configure(dir, 1000, 3);
	sink(&a, "rot-one");
	sink(&b, "rot-all");
	for (int i = 0; i < 70; i++) {
		int n = snprintf(all + len, sizeof(all) - len, "line %02d of output%.*s\n", i,
				 i % 9, "+++++++++");
		logs_feed(&a, all + len, (size_t)n);
		len += (size_t)n;
	}
	writes = 0;
	logs_feed(&b, all, len);
	printf("70 lines over 3 rotations in one call: %lu write() calls\n", writes);
	for (int i = 0; i < 3; i++) {
		char name[64];
		size_t n, m;

		snprintf(name, sizeof(name), "rot-one.log%s", ext[i]);
		n = slurp_big(name, one[i], sizeof(one[i]));
		snprintf(name, sizeof(name), "rot-all.log%s", ext[i]);
		m = slurp_big(name, batched, sizeof(batched));
		assert_true(n > 0 && n <= 1000);
		assert_int_equal(m, n);
		assert_memory_equal(batched, one[i], n);
	}
	logs_close(&a);
	logs_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framing),	   cmocka_unit_test(test_long_line_cut),
	    cmocka_unit_test(test_rotation),	   cmocka_unit_test(test_unwritable),
	    cmocka_unit_test(test_pipe),	   cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_batch_newlines), cmocka_unit_test(test_batch_mix),
	    cmocka_unit_test(test_batch_rotation), cmocka_unit_test(test_last_line),
	};

	return cmocka_run_group_tests_name("init_logs", tests, setup, teardown);
}
