/*
 * Unit tests: init/pid1/fsclean.c against real ext4 images made by the
 * host's mke2fs, one clean and one per reason e2fsck -p would check it
 * (made so with debugfs -w, as a crash or a kernel error would leave it).
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
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_init_fsclean.XXXXXX";

struct fs_case {
	const char *debugfs; /* requests run on a fresh image, "" none */
	const char *why;     /* NULL: clean */
};

static const struct fs_case cases[] = {
    {"", NULL},
    /* a mount count / interval that is not due yet: still clean */
    {"ssv max_mnt_count 20\nssv mnt_count 3\nssv checkinterval 864000\nssv lastcheck now", NULL},
    {"ssv state 0", "not cleanly unmounted"},
    {"ssv state 3", "errors recorded"},
    {"ssv error_count 2", "errors recorded"},
    {"feature +needs_recovery", "journal needs recovery"},
    {"ssv last_orphan 12", "orphan inodes"},
    {"ssv state 5", "orphan inodes"},
    {"ssv max_mnt_count 20\nssv mnt_count 20", "mounted 20 times (check every 20)"},
    {"ssv checkinterval 86400\nssv lastcheck 20000101", "check interval of 86400 s passed"},
};

static void make_image(const char *path, const char *requests)
{
	char cmd[1024], req[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mke2fs -F -q -t ext4 '%s' 4M >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	if (!requests[0])
		return;
	snprintf(req, sizeof(req), "%s/requests", dir);
	assert_non_null(f = fopen(req, "w"));
	fprintf(f, "%s\n", requests);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "debugfs -w -f '%s' '%s' >/dev/null 2>&1", req, path);
	assert_int_equal(system(cmd), 0);
}

static void test_images(void **state)
{
	char path[256], why[64];
	struct err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/state.img", dir);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int ret;

		fprintf(stderr, "case %zu\n", i);
		make_image(path, cases[i].debugfs);
		why[0] = '\0';
		ret = ext4_needs_check(path, (int64_t)time(NULL), why, sizeof(why), &e);
		assert_int_equal(ret, cases[i].why ? 1 : 0);
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
	}
}

/* Not ext4, or too short to hold a superblock: a check, or an error. */
static void test_not_ext4(void **state)
{
	char path[256], why[64];
	struct err e;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/zero.img", dir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 4096; i++)
		fputc(0, f);
	fclose(f);
	assert_int_equal(ext4_needs_check(path, 0, why, sizeof(why), &e), 1);
	assert_string_equal(why, "no ext4 superblock");
	assert_int_equal(truncate(path, 1500), 0);
	assert_int_equal(ext4_needs_check(path, 0, why, sizeof(why), &e), -1);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(ext4_needs_check(path, 0, why, sizeof(why), &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_images),
	    cmocka_unit_test(test_not_ext4),
	};

	return cmocka_run_group_tests_name("init_fsclean", tests, setup, teardown);
}
