/*
 * rendered.h: a test of a table of cases each rendered to text and compared whole, for
 * the terminal-output tests (test_cl_tty.c, test_wispctl_tty.c). Every row is tried, so
 * that one run shows all that differ, each printed with its index; then the test fails
 * with their count. Include it once, after cmocka.h.
 */
#ifndef WISP_TEST_RENDERED_H
#define WISP_TEST_RENDERED_H

#include <stdlib.h>
#include <string.h>

struct rendered {
	size_t n; /* rows 0..n-1 */
	/* row i's text (malloc'd, freed here), and in *want what it must be */
	char *(*render)(size_t i, const char **want);
};

static void test_rendered(void **state)
{
	const struct rendered *r = *state;
	int failed = 0;

	for (size_t i = 0; i < r->n; i++) {
		const char *want;
		char *got = r->render(i, &want);

		if (strcmp(got, want) != 0) {
			print_message("case %zu: \"%s\", want \"%s\"\n", i, got, want);
			failed++;
		}
		free(got);
	}
	if (failed)
		fail_msg("%d of %zu cases", failed, r->n);
}

/* The test group NAME of r's rows, as main's result. */
static int run_rendered(const char *name, const struct rendered *r)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test_prestate(test_rendered, (void *)r)};

	return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}

#endif /* WISP_TEST_RENDERED_H */
