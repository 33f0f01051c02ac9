/*
 * Unit tests: containerd-lite/image/shift.c, a tree's owners moved from one id range to
 * another (a container's upper when its user namespace changes): the setuid bit a chown
 * clears is put back, and nothing is set through a name a container swapped meanwhile.
 * Root only (chown); linked with swaplink.h's wraps (image.mk).
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

#define TO   0x100000u
#define FROM 0x200000u /* the host file outside, root's, is not in it */

static char tree[] = "/tmp/test_cl_shift.XXXXXX";
static char outside[] = "/tmp/test_cl_shift_out.XXXXXX";

/* a process writing the tree during the walk */
#include "swaplink.h"

static const char *tree_path(const char *name)
{
	static char p[64];

	snprintf(p, sizeof(p), "%s/%s", tree, name);
	return p;
}

static void make(const char *name, mode_t mode, uid_t id)
{
	int fd = open(tree_path(name), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, id, id), 0);
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
	make("su", 04755, 0);
	assert_int_equal(img_shift_tree(tree, 0, TO, &err), 0);
	snprintf(p, sizeof(p), "%s/su", tree);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, TO);
	assert_int_equal(st.st_mode & 07777, 04755);
}

/* The setuid file replaced, right after the walk first looked at it, by a symlink or a
 * hardlink to a host file (root's, 0600): the host file keeps its owner and mode, the
 * walk goes on. Before, the chown and the chmod went to the name: a hardlink took the
 * new owner and 04755 to the host file, a symlink stopped the walk at its chmod. */
static void test_swapped(void **state)
{
	struct cl_err err = {0};

	(void)state;
	for (int hard = 1; hard >= 0; hard--) { /* the hardlink first: the worse */
		print_message("%s\n", hard ? "hardlink" : "symlink");
		make("su", 04755, FROM);
		swap_arm("su", outside, hard, SWAP_OPENAT | SWAP_FSTATAT);
		int r = img_shift_tree(tree, FROM, TO, &err);
		swap_check(outside, 0600);
		assert_int_equal(r, 0);
		unlink(tree_path("su"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_setuid_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swapped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
