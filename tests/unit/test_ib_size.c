/* test_ib_size.c: spec sizes ("64MiB") and the summary's human sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "image-builder.h"

static void parses_suffixes(void **state)
{
	const char *problem = NULL;
	uint64_t v;

	(void)state;
	assert_int_equal(ib_parse_size("64MiB", &v, &problem), 0);
	assert_true(v == 64ull << 20);
	assert_int_equal(ib_parse_size("512KiB", &v, &problem), 0);
	assert_true(v == 512ull << 10);
	assert_int_equal(ib_parse_size("2GiB", &v, &problem), 0);
	assert_true(v == 2ull << 30);
	assert_int_equal(ib_parse_size("4096", &v, &problem), 0);
	assert_true(v == 4096);
	assert_int_equal(ib_parse_size("7B", &v, &problem), 0);
	assert_true(v == 7);
}

static void rejects_bad_sizes(void **state)
{
	static const char *const bad[] = {
	    "",
	    "MiB",
	    "64MB",
	    "64 MiB",
	    "64mib",
	    "1.5GiB",
	    "-1MiB",
	    "+1MiB",
	    "0x10MiB",
	    "0MiB",
	    "64MiBs",
	    "99999999999999999999",
	    "18446744073709551615GiB",
	};
	const char *problem;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		problem = NULL;
		if (ib_parse_size(bad[i], &v, &problem) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(problem);
	}
}

static void human_sizes(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(ib_human_size(100, buf, sizeof(buf)), "100 B");
	assert_string_equal(ib_human_size(1536, buf, sizeof(buf)), "1.5 KiB");
	assert_string_equal(ib_human_size(64ull << 20, buf, sizeof(buf)), "64.0 MiB");
	assert_string_equal(ib_human_size(3ull << 30, buf, sizeof(buf)), "3.0 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_suffixes),
	    cmocka_unit_test(rejects_bad_sizes),
	    cmocka_unit_test(human_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
