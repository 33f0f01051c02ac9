/*
 * swaplink.h: a writer racing the code under test, for tests linked with
 * -Wl,--wrap= for openat, fstatat, symlinkat and mknodat (image.mk): while swap_to is
 * set, the entry named swap_name is replaced, once, right after the first of the calls
 * in swap_at that names it, by a symlink to swap_to (swap_hard: a hardlink to it, the
 * same inode as that file outside the tree). Whatever the code does by that name later
 * (a chown, a chmod, utimes) then reaches swap_to; what it does on an fd it got before
 * reaches the entry. swapped counts the swaps, so that a test knows its race ran.
 * Include it once, after cmocka.h.
 */
#ifndef WISP_TEST_SWAPLINK_H
#define WISP_TEST_SWAPLINK_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SWAP_OPENAT = 1, SWAP_FSTATAT = 2, SWAP_SYMLINKAT = 4, SWAP_MKNODAT = 8 };

static const char *swap_name, *swap_to;
static bool swap_hard;
static int swap_at, swapped;

int __real_openat(int dfd, const char *name, int flags, ...);
int __real_fstatat(int dfd, const char *name, struct stat *st, int flags);
int __real_symlinkat(const char *target, int dfd, const char *name);
int __real_mknodat(int dfd, const char *name, mode_t mode, dev_t dev);

static void swap(int call, int dfd, const char *name)
{
	struct stat st;

	if (!swap_to || !(swap_at & call) || strcmp(name, swap_name) != 0)
		return;
	assert_int_equal(__real_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0), 0);
	if (swap_hard)
		assert_int_equal(linkat(AT_FDCWD, swap_to, dfd, name, 0), 0);
	else
		assert_int_equal(__real_symlinkat(swap_to, dfd, name), 0);
	swap_to = NULL;
	swapped++;
}

int __wrap_openat(int dfd, const char *name, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	fd = __real_openat(dfd, name, flags, mode);
	if (fd >= 0)
		swap(SWAP_OPENAT, dfd, name);
	return fd;
}

int __wrap_fstatat(int dfd, const char *name, struct stat *st, int flags)
{
	int r = __real_fstatat(dfd, name, st, flags);

	if (r == 0)
		swap(SWAP_FSTATAT, dfd, name);
	return r;
}

int __wrap_symlinkat(const char *target, int dfd, const char *name)
{
	int r = __real_symlinkat(target, dfd, name);

	if (r == 0)
		swap(SWAP_SYMLINKAT, dfd, name);
	return r;
}

int __wrap_mknodat(int dfd, const char *name, mode_t mode, dev_t dev)
{
	int r = __real_mknodat(dfd, name, mode, dev);

	if (r == 0)
		swap(SWAP_MKNODAT, dfd, name);
	return r;
}

/* The race armed: name swapped for a symlink (hard: a hardlink) to to, after the first
 * of the calls in at that names it. */
static void swap_arm(const char *name, const char *to, bool hard, int at)
{
	swap_name = name, swap_to = to, swap_hard = hard, swap_at = at, swapped = 0;
}

/* The race disarmed; it ran, and the host file it led to (root's) kept its owner and mode. */
static void swap_check(const char *host, mode_t mode)
{
	struct stat st;

	swap_to = NULL;
	assert_int_equal(swapped, 1);
	assert_int_equal(stat(host, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
}

#endif /* WISP_TEST_SWAPLINK_H */
