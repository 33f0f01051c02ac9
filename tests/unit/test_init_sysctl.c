/*
 * Unit tests: init/pid1/sysctl.c, the hardening baseline, written into a
 * directory laid out as /proc/sys; a knob that is missing is one warning
 * naming it and the rest are still set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char warned[4096];
static char dir[64];

void log_msg(int prio, const char *fmt, ...)
{
	size_t n = strlen(warned);
	va_list ap;

	assert_int_equal(prio, LOG_WARNING);
	va_start(ap, fmt);
	vsnprintf(warned + n, sizeof(warned) - n, fmt, ap);
	va_end(ap);
	strncat(warned, "\n", sizeof(warned) - strlen(warned) - 1);
}

/* What the baseline must hold (docs/hardening.md), as /proc/sys paths. */
static const char *const want[][2] = {
    {"fs/protected_symlinks", "1"},
    {"fs/protected_hardlinks", "1"},
    {"fs/protected_fifos", "2"},
    {"fs/protected_regular", "2"},
    {"fs/suid_dumpable", "0"},
    {"kernel/kptr_restrict", "2"},
    {"kernel/dmesg_restrict", "1"},
    {"kernel/unprivileged_bpf_disabled", "1"},
    {"kernel/perf_event_paranoid", "3"},
    {"kernel/randomize_va_space", "2"},
    {"debug/exception-trace", "0"},
    /* last: the case without Yama leaves it out */
    {"kernel/yama/ptrace_scope", "1"},
};

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void test_baseline(void **state)
{
	char path[256], buf[64];
	struct err e;

	(void)state;
	for (const char *d = "fs\0kernel\0kernel/yama\0debug\0"; *d; d += strlen(d) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, d);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	/* the kernel's defaults; yama's file is left out, as a kernel without Yama would */
	for (size_t i = 0; i < ARRAY_LEN(want) - 1; i++)
		put(want[i][0], "0\n");
	assert_int_equal(sysctl_setup(dir), 1);
	assert_string_equal(warned,
			    "sysctl kernel.yama.ptrace_scope=1: No such file or directory\n");
	for (size_t i = 0; i < ARRAY_LEN(want) - 1; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i][0]);
		assert_true(read_text(path, buf, sizeof(buf), &e) >= 0);
		assert_string_equal(buf, want[i][1]);
	}
	warned[0] = '\0';
	put(want[ARRAY_LEN(want) - 1][0], "0\n");
	assert_int_equal(sysctl_setup(dir), 0);
	assert_string_equal(warned, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baseline),
	};
	char cmd[128];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/wisp-sysctl-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
