/*
 * swaplink.h: a writer racing the code under test, for tests linked with
 * -Wl,--wrap=fchownat: while swap_to is set, the entry named swap_name is replaced by
 * a symlink to swap_to just before its chown, so that a chmod after it that follows
 * symlinks lands on swap_to (a file outside the tree). Include it once, after cmocka.h.
 */
#ifndef WISP_TEST_SWAPLINK_H
#define WISP_TEST_SWAPLINK_H

#include <string.h>
#include <unistd.h>

static const char *swap_name, *swap_to;
int __real_fchownat(int dfd, const char *name, uid_t uid, gid_t gid, int flags);

int __wrap_fchownat(int dfd, const char *name, uid_t uid, gid_t gid, int flags)
{
	if (swap_to && strcmp(name, swap_name) == 0) {
		assert_int_equal(unlinkat(dfd, name, 0), 0);
		assert_int_equal(symlinkat(swap_to, dfd, name), 0);
	}
	return __real_fchownat(dfd, name, uid, gid, flags);
}

#endif /* WISP_TEST_SWAPLINK_H */
