/*
 * Unit tests: init/pid1/printf.c, PID 1's vsnprintf, held against the C
 * library's for every format PID 1 writes (and a few around them), with
 * buffers large, exact and too small (the return value and the cut).
 * Built against glibc, printf.c keeps glibc's snprintf (for comparison).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static int ours(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pid1_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* The same arguments through both, at several buffer sizes. */
#define SAME(fmt, ...)                                                                             \
	do {                                                                                       \
		char a[256], b[256];                                                               \
		int n = snprintf(a, sizeof(a), fmt, __VA_ARGS__);                                  \
		static const size_t sizes[] = {256, 1, 2, 5};                                      \
		for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {                                    \
			memset(a, 'x', sizeof(a));                                                 \
			memset(b, 'x', sizeof(b));                                                 \
			assert_int_equal(snprintf(a, sizes[i], fmt, __VA_ARGS__),                  \
					 ours(b, sizes[i], fmt, __VA_ARGS__));                     \
			assert_memory_equal(a, b, sizeof(a));                                      \
		}                                                                                  \
		(void)n;                                                                           \
	} while (0)

static void test_formats(void **state)
{
	(void)state;
	SAME("%s", "text");
	SAME("a%sb%sc", "", "x");
	SAME("%s: %s: %s", "mount proc on /proc", "Operation not permitted", "x");
	SAME("%.*s|", 3, "abcdef");
	SAME("%.*s|", 0, "abcdef");
	SAME("%.64s", "short");
	SAME("%.256s", "exec /usr/libexec/wisp/provision: No such file or directory");
	SAME("%d %d %d %d", 0, -1, INT_MAX, INT_MIN);
	SAME("%u %u", 0u, UINT_MAX);
	SAME("%ld %lu", LONG_MIN, ULONG_MAX);
	SAME("%lld %llu", LLONG_MIN, ULLONG_MAX);
	SAME("%zu %zd", (size_t)SIZE_MAX, (ssize_t)-5);
	SAME("%02d:%02d:%02d.%03ld", 1, 2, 3, 45L);
	SAME("%04d-%02d", 2026, 12);
	SAME("%03u", 7u);
	SAME("%03ld", 123456L);
	SAME("[%5d][%-5d][%05d]", 42, 42, -42);
	SAME("[%8s][%-8s]", "ab", "ab");
	SAME("%x %x", 0u, 0xdeadbeefu);
	SAME("%c%c", 'o', 'k');
	SAME("100%% %s", "done");
	SAME("%*d|%-*d|", 6, 12, 6, 12);
	SAME("%.3d %.0d|", 5, 0);
	SAME("<%d>%.*s\n", 29, 5, "init: line");
	SAME("%s", "");
}

static void test_cut(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(ours(buf, sizeof(buf), "%s/%s", "/run/wisp", "units"), 15);
	assert_string_equal(buf, "/run/wi");
	assert_int_equal(ours(NULL, 0, "%d", 12345), 5);
	assert_int_equal(ours(buf, sizeof(buf), "%s", (char *)NULL), 6);
	assert_string_equal(buf, "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests_name("init_printf", tests, NULL, NULL);
}
