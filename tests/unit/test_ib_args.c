/* Unit tests: image-builder/args.c, image-builder's command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image-builder.h"

#include <string.h>

#define ARGS(...) ((char *[]){"image-builder", __VA_ARGS__, NULL})
#define NARGS(v)  ((int)(sizeof(v) / sizeof((v)[0])) - 1)
#define PARSE(cl, msg, ...)                                                                        \
	ib_args(NARGS(ARGS(__VA_ARGS__)), ARGS(__VA_ARGS__), (cl), (msg), sizeof(msg))

static void test_options_after_spec(void **state)
{
	struct ib_cmdline cl;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&cl, msg, "wisp.yaml", "-o", "out.img", "-v", "--tmpdir=t"), IB_RUN);
	assert_string_equal(cl.o.spec, "wisp.yaml");
	assert_string_equal(cl.o.out, "out.img");
	assert_string_equal(cl.o.tmpdir, "t");
	assert_true(cl.verbose);
	assert_int_equal(PARSE(&cl, msg, "-C", "d", "wisp.yaml", "--print-deps"), IB_RUN);
	assert_string_equal(cl.dir, "d");
	assert_true(cl.o.print_deps);
}

static void test_double_dash(void **state)
{
	struct ib_cmdline cl;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&cl, msg, "-o", "x.img", "--", "-spec.yaml"), IB_RUN);
	assert_string_equal(cl.o.spec, "-spec.yaml");
	assert_int_equal(PARSE(&cl, msg, "--", "a.yaml", "-v"), IB_USAGE);
	assert_string_equal(msg, "expected one SPEC, got 2");
}

static void test_help_version(void **state)
{
	struct ib_cmdline cl;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&cl, msg, "wisp.yaml", "--help"), IB_HELP);
	assert_int_equal(PARSE(&cl, msg, "--bogus", "-h"), IB_HELP);
	assert_int_equal(PARSE(&cl, msg, "wisp.yaml", "--version"), IB_VERSION);
}

static void test_errors(void **state)
{
	struct ib_cmdline cl;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&cl, msg, "wisp.yaml", "--bogus"), IB_USAGE);
	assert_string_equal(msg, "unknown option --bogus");
	assert_int_equal(PARSE(&cl, msg, "-Z", "wisp.yaml"), IB_USAGE);
	assert_string_equal(msg, "unknown option -Z");
	assert_int_equal(PARSE(&cl, msg, "wisp.yaml", "-o"), IB_USAGE);
	assert_string_equal(msg, "option -o needs a value");
	assert_int_equal(PARSE(&cl, msg, "-v"), IB_USAGE);
	assert_string_equal(msg, "expected one SPEC, got 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_after_spec),
	    cmocka_unit_test(test_double_dash),
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
