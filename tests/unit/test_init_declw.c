/* Unit tests: init/provision/declw.c, the declaration files provision hands PID 1:
 * rendered text, validated with PID 1's parser, renamed only when valid and unique. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logged.h"

static char root[64], dir[128], report[128];

static int setup(void **state)
{
	char run[96];
	struct err e;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_declw.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(report, sizeof(report), "%s/report", root);
	cloudinit_report_to(report);
	snprintf(run, sizeof(run), "%s/run/wisp", root);
	snprintf(dir, sizeof(dir), "%s/units", run); /* declw_open() makes it */
	logged[0] = '\0';
	return mkdir_p(run, 0755, &e);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	declw_close();
	cloudinit_report_to(CLOUD_REPORT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static bool exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* What PID 1 loads: DECL_UNITS_FILE's units, "name@file" each, blank-separated; 0600. */
static const char *compiled(void)
{
	static char names[512];
	struct decls set = {0};
	char p[256];
	struct stat st;
	struct err e;

	names[0] = '\0';
	snprintf(p, sizeof(p), "%s/" DECL_UNITS_FILE, dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(declbin_read(&set, p, &e), 0);
	for (size_t i = 0; i < set.n; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s@%s",
			 i ? " " : "", set.v[i].name, set.v[i].file);
	decls_free(&set);
	return names;
}

/* Each unit rendered is what PID 1 reads back (name, kind, argv of any bytes, restart,
 * deps), in a file of mode 0600 in a 0700 directory (env may hold secrets), and no
 * temporary is left behind. */
static void rendered_units(void **state)
{
	static char *const final_argv[] = {"/bin/sh", "-c",
					   "echo \"a\\b\" # not a comment\n\tx: [y]", NULL};
	static char *const after[] = {"dhcp-eth0", "net-eth1", NULL};
	static char *const dhcp_argv[] = {"udhcpc", "-f", "-i", "eth0", NULL};
	static const struct {
		int nn;
		const char *file;
		struct wunit u;
	} cases[] = {
	    {90,
	     "90-cloud-final.yaml",
	     {.name = "cloud-final",
	      .kind = KIND_ONESHOT,
	      .argv = final_argv,
	      .restart = RESTART_NO,
	      .after = after,
	      .about = "test"}},
	    {10,
	     "10-dhcp-eth0.yaml",
	     {.name = "dhcp-eth0",
	      .kind = KIND_SERVICE,
	      .argv = dhcp_argv,
	      .restart = RESTART_ALWAYS}},
	};
	struct stat st;
	struct err e;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct wunit *u = &cases[i].u;
		size_t argc = strv_len(u->argv);
		struct decls set = {0};
		char p[256], tmp[64];

		assert_int_equal(declw_unit(cases[i].nn, u), 0);
		snprintf(p, sizeof(p), "%s/%s", dir, cases[i].file);
		snprintf(tmp, sizeof(tmp), ".%s.tmp", cases[i].file);
		assert_false(exists(tmp));
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(decl_load_file(&set, p, NULL, NULL), 0);
		assert_int_equal(set.n, 1);
		assert_string_equal(set.v[0].name, u->name);
		assert_int_equal(set.v[0].kind, u->kind);
		assert_int_equal(set.v[0].restart, u->restart);
		for (size_t j = 0; j < argc; j++)
			assert_string_equal(set.v[0].argv[j], u->argv[j]);
		assert_null(set.v[0].argv[argc]);
		assert_int_equal(set.v[0].ndeps, strv_len(u->after));
		for (size_t j = 0; j < set.v[0].ndeps; j++) {
			assert_string_equal(set.v[0].deps[j].name, u->after[j]);
			assert_int_equal(set.v[0].deps[j].cond, DEP_STARTED);
		}
		assert_true(declw_declared(u->name));
		decls_free(&set);
	}
	/* each compiled as soon as it is in place, named as PID 1 sees it (CLOUD_UNITS) */
	assert_string_equal(compiled(), "dhcp-eth0@/run/wisp/units/10-dhcp-eth0.yaml "
					"cloud-final@/run/wisp/units/90-cloud-final.yaml");
}

/* An invalid text is never renamed into place; each problem is a warning naming it. */
static void invalid_refused(void **state)
{
	char text[2048], want[256];
	struct err e;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(
	    declw_text(1, "user-data", "services:\n  - name: x\n    restart: sometimes\n"), -1);
	assert_false(exists("01-user-data.yaml"));
	assert_false(exists(".01-user-data.yaml.tmp"));
	assert_non_null(strstr(logged, ".01-user-data.yaml.tmp:"));
	assert_non_null(strstr(logged, "01-user-data.yaml: not declared (2 problems)"));
	assert_int_equal(declw_warnings(), 3);
	assert_false(declw_declared("x"));
	assert_string_equal(compiled(), ""); /* written at the run's start, and not since */
	/* report_warn(): the log line names the source, the report's says "warning" */
	snprintf(want, sizeof(want), "declarations: %s/01-user-data.yaml: not declared", dir);
	assert_non_null(strstr(logged, want));
	snprintf(want, sizeof(want), "\nwarning: %s/01-user-data.yaml: not declared", dir);
	assert_true(read_text(report, text, sizeof(text), &e) > 0);
	assert_non_null(strstr(text, want));
}

/* A name an earlier file of the run declared: the second file is refused whole. */
static void duplicate_refused(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(declw_text(1, "user-data", "services:\n  - {name: sshd, command: x}\n"),
			 0);
	assert_int_equal(declw_text(30, "sshd", "services:\n  - {name: sshd, command: y}\n"), -1);
	assert_true(exists("01-user-data.yaml"));
	assert_false(exists("30-sshd.yaml"));
	assert_non_null(strstr(logged, "unit \"sshd\" is declared by an earlier file"));
	assert_string_equal(compiled(), "sshd@/run/wisp/units/01-user-data.yaml");
}

/* As many units as a set holds (DECL_MAX_UNITS, the smallest kind) fit the compiled file. */
static void most_units(void **state)
{
	size_t size = 80 + DECL_MAX_UNITS * 64, n = 0;
	struct decls set = {0};
	char *text, p[256];
	struct err e;

	(void)state;
	assert_non_null(text = malloc(size));
	n += (size_t)snprintf(text, size, "services:\n");
	for (int i = 0; i < DECL_MAX_UNITS; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "  - {name: s%04d, command: [sleep, '1']}\n", i);
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(declw_text(1, "user-data", text), 0);
	snprintf(p, sizeof(p), "%s/" DECL_UNITS_FILE, dir);
	assert_int_equal(declbin_read(&set, p, &e), 0);
	assert_int_equal(set.n, DECL_MAX_UNITS);
	decls_free(&set);
	free(text);
}

/* A new run starts clean: an earlier run's declarations and temporaries go, nothing else. */
static void open_cleans(void **state)
{
	char p[256];
	struct err e;
	FILE *f;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(declw_text(1, "user-data", "services:\n  - {name: a, command: x}\n"), 0);
	snprintf(p, sizeof(p), "%s/.05-x.yaml.tmp", dir);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	snprintf(p, sizeof(p), "%s/README", dir);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(declw_open(dir, &e), 0);
	assert_false(exists("01-user-data.yaml"));
	assert_false(exists(".05-x.yaml.tmp"));
	assert_true(exists("README"));
	assert_false(declw_declared("a"));
	assert_string_equal(compiled(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(rendered_units, setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(duplicate_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(most_units, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_cleans, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
