/* Unit tests: containerd-lite's command lines (cliopt.c, cli/args.c,
 * cli/image.c): options anywhere, "--", --help/--version after a command,
 * the unknown option's line, and `image list --json` over a store fixture;
 * the bandwidth rates they take (net/rate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/cliopt.h"
#include "image/image.h"
#include "net/net.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS(...) ((char *[]){"containerd-lite", __VA_ARGS__, NULL})
#define NARGS(v)  ((int)(sizeof(v) / sizeof((v)[0])) - 1)
#define PARSE(c, msg, ...)                                                                         \
	cl_cmdline_parse(NARGS(ARGS(__VA_ARGS__)), ARGS(__VA_ARGS__), (c), (msg), sizeof(msg))

static void test_options_after_operands(void **state)
{
	struct cl_cmdline c;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&c, msg, "list", "--format", "json"), CL_RUN);
	assert_true(c.json);
	assert_int_equal(PARSE(&c, msg, "list", "--json"), CL_RUN);
	assert_true(c.json);
	assert_int_equal(PARSE(&c, msg, "list", "-f", "table"), CL_RUN);
	assert_false(c.json);
	assert_int_equal(PARSE(&c, msg, "delete", "web", "-f"), CL_RUN);
	assert_true(c.force);
	assert_string_equal(c.o.id, "web");
	assert_int_equal(PARSE(&c, msg, "kill", "web", "KILL", "--all"), CL_RUN);
	assert_true(c.all);
	assert_string_equal(c.args[1], "KILL");
	assert_int_equal(PARSE(&c, msg, "create", "web", "--bundle=/b", "--pid-file", "p"), CL_RUN);
	assert_string_equal(c.o.bundle, "/b");
	assert_string_equal(c.o.pid_file, "p");
}

static void test_global_options(void **state)
{
	struct cl_cmdline c;
	char msg[256];

	(void)state;
	/* before the command, as runc; and after it */
	assert_int_equal(PARSE(&c, msg, "--root", "/r", "--log-format=json", "state", "x"), CL_RUN);
	assert_string_equal(c.root, "/r");
	assert_string_equal(c.log_format, "json");
	assert_int_equal(PARSE(&c, msg, "state", "x", "--root", "/s", "--debug"), CL_RUN);
	assert_string_equal(c.root, "/s");
	assert_true(c.debug);
	assert_int_equal(PARSE(&c, msg, "--systemd-cgroup", "list"), CL_USAGE);
	assert_string_equal(msg, "--systemd-cgroup: not supported (cgroupfs only)");
}

static void test_double_dash_and_exec(void **state)
{
	struct cl_cmdline c;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&c, msg, "delete", "--", "-f"), CL_RUN);
	assert_false(c.force);
	assert_string_equal(c.o.id, "-f");
	/* exec: options up to COMMAND, the rest is the command's */
	assert_int_equal(PARSE(&c, msg, "exec", "web", "--tty", "sh", "-c", "--help"), CL_RUN);
	assert_true(c.tty);
	assert_string_equal(c.o.id, "web");
	assert_int_equal(c.nrest, 3);
	assert_string_equal(c.rest[0], "sh");
	assert_string_equal(c.rest[2], "--help");
	assert_int_equal(PARSE(&c, msg, "exec", "-e", "A=1", "web", "--", "-x"), CL_RUN);
	assert_int_equal(c.nenv, 1);
	assert_int_equal(c.nrest, 1);
	assert_string_equal(c.rest[0], "-x");
}

static void test_help_version(void **state)
{
	struct cl_cmdline c;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&c, msg, "--help"), CL_HELP);
	assert_int_equal(PARSE(&c, msg, "list", "--help"), CL_HELP);
	assert_int_equal(PARSE(&c, msg, "delete", "-h"), CL_HELP);
	assert_int_equal(PARSE(&c, msg, "kill", "--bogus", "--help"), CL_HELP);
	assert_int_equal(PARSE(&c, msg, "state", "x", "--version"), CL_VERSION);
	assert_int_equal(PARSE(&c, msg, "-v"), CL_VERSION);
}

static void test_errors(void **state)
{
	struct cl_cmdline c;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE(&c, msg, "list", "--bogus"), CL_USAGE);
	assert_string_equal(msg, "list: unknown option --bogus");
	assert_int_equal(PARSE(&c, msg, "--bogus", "list"), CL_USAGE);
	assert_string_equal(msg, "unknown global option --bogus");
	/* -f is --force for delete only */
	assert_int_equal(PARSE(&c, msg, "start", "x", "-f"), CL_USAGE);
	assert_string_equal(msg, "start: unknown option -f");
	assert_int_equal(PARSE(&c, msg, "create", "x", "--bundle"), CL_USAGE);
	assert_string_equal(msg, "create: option --bundle needs a value");
	assert_int_equal(PARSE(&c, msg, "list", "--format", "xml"), CL_USAGE);
	assert_string_equal(msg, "list: --format xml: table or json");
	assert_int_equal(PARSE(&c, msg, "frobnicate"), CL_USAGE);
	assert_string_equal(msg, "unknown command frobnicate");
	assert_int_equal(PARSE(&c, msg, "delete"), CL_USAGE);
	assert_string_equal(msg, "delete: container id missing");
	assert_int_equal(PARSE(&c, msg, "start", "a", "b"), CL_USAGE);
	assert_string_equal(msg, "start: too many arguments");
}

/* argv run through cl_image_main, its stdout and stderr captured. */
static int image_main(char **argv, int argc, char *out, size_t outsz, char *err, size_t errsz)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int saved_out = dup(1), saved_err = dup(2), r;
	size_t n;

	assert_non_null(o);
	assert_non_null(e);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	r = cl_image_main(argc, argv, CL_DEFAULT_ROOT);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(o);
	rewind(e);
	n = fread(out, 1, outsz - 1, o);
	out[n] = '\0';
	n = fread(err, 1, errsz - 1, e);
	err[n] = '\0';
	fclose(o);
	fclose(e);
	return r;
}

/* A store with one image record, as image/store.c writes it. */
static void make_store(char *dir)
{
	char path[512];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/images", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/images/k1", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"ref\": \"wisp/bb:1\", \"manifest\": \"sha256:aa\", \"config\": \"sha256:bb\", "
	      "\"layers\": [{\"digest\": \"sha256:cc\", \"mediaType\": \"x\"}]}",
	      f);
	fclose(f);
}

static void remove_store(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/images/k1", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/images", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_image_list_json(void **state)
{
	char dir[] = "/tmp/cl-cli-XXXXXX", out[4096], err[1024];
	json_t *a, *img;

	(void)state;
	make_store(dir);
	char *argv[] = {"list", "--json", "--store", dir, NULL};
	assert_int_equal(image_main(argv, 4, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(a = json_loads(out, 0, NULL));
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 1);
	img = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(img, "ref")), "wisp/bb:1");
	assert_string_equal(json_string_value(json_object_get(img, "config")), "sha256:bb");
	assert_int_equal(json_integer_value(json_object_get(img, "layers")), 1);
	json_decref(a);
	char *argv2[] = {"--format", "json", "list", "--store", dir, NULL};
	assert_int_equal(image_main(argv2, 5, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(a = json_loads(out, 0, NULL));
	json_decref(a);
	char *argv3[] = {"--store", dir, "list", NULL};
	assert_int_equal(image_main(argv3, 3, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "wisp/bb:1\tsha256:bb\t1 layers\n");
	remove_store(dir);
}

static void test_image_options(void **state)
{
	char out[4096], err[1024];

	(void)state;
	char *unknown[] = {"list", "--bogus", NULL};
	assert_int_equal(image_main(unknown, 2, out, sizeof(out), err, sizeof(err)), 1);
	assert_string_equal(err, "containerd-lite: image list: unknown option --bogus\n");
	assert_string_equal(out, "");
	char *help[] = {"list", "--help", NULL};
	assert_int_equal(image_main(help, 2, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_memory_equal(out, "usage: containerd-lite image ", 29);
	char *version[] = {"inspect", "x", "--version", NULL};
	assert_int_equal(image_main(version, 3, out, sizeof(out), err, sizeof(err)), 0);
	assert_memory_equal(out, "containerd-lite version ", 24);
	/* after "--", "--help" is an operand (the reference) */
	char *dashdash[] = {"--store", "/nonexistent", "inspect", "--", "--help", NULL};
	assert_int_equal(image_main(dashdash, 5, out, sizeof(out), err, sizeof(err)), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "--help"));
}

static void test_net_rate(void **state)
{
	static const struct {
		const char *text;
		uint64_t bps;
	} good[] = {
	    {"20mbit", 20000000},
	    {"100mbit", 100000000},
	    {"1gbit", 1000000000},
	    {"100kbit", 100000},
	    {"100000bit", 100000},
	    {"16gbit", 16000000000ull},
	    {"16000000kbit", 16000000000ull},
	    {"0020mbit", 20000000},
	};
	static const char *const bad[] = {
	    "",	      "mbit",	 "20",	 "20 mbit", "20mbps",  "20Mbit",   "20mbit ",
	    "-1mbit", "1.5mbit", "20kb", "20m",	    "+20mbit", "0x10mbit",
	};
	static const char *const range[] = {
	    "0mbit",  "99kbit",		"99999bit",
	    "17gbit", "16000000001bit", "99999999999999999999999gbit",
	};
	struct cl_err e;
	uint64_t bps;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		bps = 0;
		assert_int_equal(net_rate_parse(good[i].text, &bps, &e), 0);
		assert_true(bps == good[i].bps);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(net_rate_parse(bad[i], &bps, &e), -1);
		assert_non_null(
		    strstr(e.msg, "not a rate (a whole number and bit, kbit, mbit or gbit)"));
	}
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		assert_int_equal(net_rate_parse(range[i], &bps, &e), -1);
		assert_non_null(strstr(e.msg, "not from 100kbit to 16gbit"));
	}
}

static void test_image_bundle_rates(void **state)
{
	char out[4096], err[1024];

	(void)state;
	char *bad[] = {"bundle", "--net-egress", "20mbps", "--network", "bridge", "r", "d", NULL};
	assert_int_equal(image_main(bad, 7, out, sizeof(out), err, sizeof(err)), 1);
	assert_string_equal(err, "containerd-lite: image bundle: --net-egress: \"20mbps\": not a "
				 "rate (a whole number and bit, kbit, mbit or gbit)\n");
	char *low[] = {"bundle", "--network", "bridge", "--net-ingress", "1kbit", "r", "d", NULL};
	assert_int_equal(image_main(low, 7, out, sizeof(out), err, sizeof(err)), 1);
	assert_string_equal(err, "containerd-lite: image bundle: --net-ingress: \"1kbit\": not "
				 "from 100kbit to 16gbit\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_after_operands),
	    cmocka_unit_test(test_global_options),
	    cmocka_unit_test(test_double_dash_and_exec),
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_image_list_json),
	    cmocka_unit_test(test_image_options),
	    cmocka_unit_test(test_net_rate),
	    cmocka_unit_test(test_image_bundle_rates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
