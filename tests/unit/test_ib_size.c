/* test_ib_size.c: spec sizes ("64MiB") and the summary's human sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "image-builder.h"

static void parses_suffixes(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
	    {"64MiB", 64ull << 20},
	    {"512KiB", 512ull << 10},
	    {"2GiB", 2ull << 30},
	    {"4096", 4096},
	    {"7B", 7},
	};
	const char *problem = NULL;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ib_parse_size(cases[i].text, &v, &problem) != 0)
			fail_msg("refused \"%s\": %s", cases[i].text, problem ? problem : "?");
		if (v != cases[i].want)
			fail_msg("\"%s\": %llu, want %llu", cases[i].text, (unsigned long long)v,
				 (unsigned long long)cases[i].want);
	}
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
	static const struct {
		uint64_t size;
		const char *want;
	} cases[] = {
	    {100, "100 B"},
	    {1536, "1.5 KiB"},
	    {64ull << 20, "64.0 MiB"},
	    {3ull << 30, "3.0 GiB"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ib_human_size(cases[i].size, buf, sizeof(buf)), cases[i].want);
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
