/*
 * Unit tests: containerd-lite/image/shift.c, a tree's owners moved from one id range to
 * another (a container's upper when its user namespace changes): the setuid bit a chown
 * clears is put back, and never through a symlink that replaced the file meanwhile.
 * Root only (chown); linked with -Wl,--wrap=fchownat (image.mk).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

#define TO 0x100000u

static char tree[] = "/tmp/test_cl_shift.XXXXXX";
static char outside[] = "/tmp/test_cl_shift_out.XXXXXX";

/* a process writing the tree during the walk */
#include "swaplink.h"

static void make(const char *name, mode_t mode)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tree, name);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 0, 0), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(tree, "/tmp/test_cl_shift.XXXXXX");
	strcpy(outside, "/tmp/test_cl_shift_out.XXXXXX");
	assert_non_null(mkdtemp(tree));
	fd = mkstemp(outside);
	assert_true(fd >= 0 && fchmod(fd, 0600) == 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	struct cl_err ignored;

	(void)state;
	swap_to = NULL;
	img_rm_tree(tree, &ignored);
	unlink(outside);
	return 0;
}

static void test_setuid_kept(void **state)
{
	struct cl_err err = {0};
	char p[64];
	struct stat st;

	(void)state;
	make("su", 04755);
	assert_int_equal(img_shift_tree(tree, 0, TO, &err), 0);
	snprintf(p, sizeof(p), "%s/su", tree);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, TO);
	assert_int_equal(st.st_mode & 07777, 04755);
}

/* The setuid file became a symlink to a host file: the mode must not land there. */
static void test_chmod_no_follow(void **state)
{
	struct cl_err err = {0};
	struct stat st;

	(void)state;
	make("su", 04755);
	swap_name = "su", swap_to = outside;
	assert_int_equal(img_shift_tree(tree, 0, TO, &err), -1);
	assert_non_null(strstr(err.msg, "chmod su"));
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_setuid_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chmod_no_follow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
