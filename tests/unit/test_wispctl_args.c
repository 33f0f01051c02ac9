/* Unit tests: init/wispctl/args.c, wispctl's command line (docs/wispctl.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wispctl/wispctl.h"

#include <string.h>

#define ARGS(...)     ((char *[]){"wispctl", __VA_ARGS__, NULL})
#define NARGS(v)      ((int)(sizeof(v) / sizeof((v)[0])) - 1)
#define PARSE(a, ...) wctl_args(NARGS(ARGS(__VA_ARGS__)), ARGS(__VA_ARGS__), (a))

static void test_json_after_command(void **state)
{
	struct wctl_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "ps", "--json"), WCTL_RUN);
	assert_int_equal(a.r.op, P_PS);
	assert_true(a.json);
	assert_int_equal(PARSE(&a, "--json", "ps"), WCTL_RUN);
	assert_true(a.json);
	assert_int_equal(PARSE(&a, "ps", "--format", "json"), WCTL_RUN);
	assert_true(a.json);
	assert_int_equal(PARSE(&a, "ps", "--format=table"), WCTL_RUN);
	assert_false(a.json);
	assert_int_equal(PARSE(&a, "status", "web", "--json"), WCTL_RUN);
	assert_true(a.json);
	assert_string_equal(a.r.name, "web");
}

static void test_logs_options_anywhere(void **state)
{
	struct wctl_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "logs", "-n", "100", "web"), WCTL_RUN);
	assert_int_equal(a.r.op, P_LOGS);
	assert_string_equal(a.r.name, "web");
	assert_int_equal(a.r.lines, 100);
	assert_false(a.r.follow);
	assert_int_equal(PARSE(&a, "logs", "web", "-n", "7", "-f"), WCTL_RUN);
	assert_int_equal(a.r.lines, 7);
	assert_true(a.r.follow);
	assert_int_equal(PARSE(&a, "-f", "--lines=3", "logs", "web"), WCTL_RUN);
	assert_int_equal(a.r.lines, 3);
	assert_true(a.r.follow);
	assert_int_equal(PARSE(&a, "logs", "-n5", "web"), WCTL_RUN);
	assert_int_equal(a.r.lines, 5);
	assert_int_equal(PARSE(&a, "logs", "web"), WCTL_RUN);
	assert_int_equal(a.r.lines, PROTO_DEFAULT_LINES);
}

static void test_double_dash(void **state)
{
	struct wctl_args a;

	(void)state;
	/* after "--", "-n" is an operand: here the unit name, which is not valid */
	assert_int_equal(PARSE(&a, "logs", "--", "-n"), WCTL_USAGE);
	assert_string_equal(a.msg, "logs: \"-n\" is not a unit name ([a-z0-9][a-z0-9_.-]*, at "
				   "most 64 characters)");
	assert_int_equal(PARSE(&a, "--json", "--", "ps"), WCTL_RUN);
	assert_true(a.json);
	assert_int_equal(PARSE(&a, "ps", "--", "--json"), WCTL_USAGE);
	assert_string_equal(a.msg, "ps: unexpected argument \"--json\"");
}

static void test_help_version_anywhere(void **state)
{
	struct wctl_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--help"), WCTL_HELP);
	assert_int_equal(PARSE(&a, "ps", "--help"), WCTL_HELP);
	assert_int_equal(PARSE(&a, "logs", "web", "-h"), WCTL_HELP);
	/* help wins over an error elsewhere on the line */
	assert_int_equal(PARSE(&a, "logs", "--bogus", "--help"), WCTL_HELP);
	assert_int_equal(PARSE(&a, "--version"), WCTL_VERSION);
	assert_int_equal(PARSE(&a, "status", "web", "--version"), WCTL_VERSION);
	assert_int_equal(PARSE(&a, "ps", "--", "--help"), WCTL_USAGE);
}

static void test_errors(void **state)
{
	struct wctl_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "ps", "--bogus"), WCTL_USAGE);
	assert_string_equal(a.msg, "ps: unknown option \"--bogus\"");
	assert_int_equal(PARSE(&a, "--bogus", "status", "web"), WCTL_USAGE);
	assert_string_equal(a.msg, "status: unknown option \"--bogus\"");
	assert_int_equal(PARSE(&a, "--bogus"), WCTL_USAGE);
	assert_string_equal(a.msg, "unknown option \"--bogus\"");
	assert_int_equal(PARSE(&a, "ps", "-n", "3"), WCTL_USAGE);
	assert_string_equal(a.msg, "ps: unknown option \"-n\" (only logs takes it)");
	assert_int_equal(PARSE(&a, "logs", "web", "-n"), WCTL_USAGE);
	assert_string_equal(a.msg, "logs: option \"-n\" needs a value");
	assert_int_equal(PARSE(&a, "logs", "web", "-n", "x"), WCTL_USAGE);
	assert_string_equal(a.msg, "logs: -n x: not a number from 0 to 10000");
	assert_int_equal(PARSE(&a, "ps", "--format", "xml"), WCTL_USAGE);
	assert_string_equal(a.msg, "ps: --format \"xml\": json or table");
	assert_int_equal(PARSE(&a, "frob", "--json"), WCTL_USAGE);
	assert_string_equal(a.msg, "unknown command \"frob\"");
	assert_int_equal(PARSE(&a, "--json"), WCTL_USAGE);
	assert_string_equal(a.msg, "no command");
	assert_int_equal(PARSE(&a, "status"), WCTL_USAGE);
	assert_string_equal(a.msg, "status: needs a unit name");
	assert_int_equal(PARSE(&a, "stop", "web", "db"), WCTL_USAGE);
	assert_string_equal(a.msg, "stop: unexpected argument \"db\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_after_command),
	    cmocka_unit_test(test_logs_options_anywhere),
	    cmocka_unit_test(test_double_dash),
	    cmocka_unit_test(test_help_version_anywhere),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
