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

static char logged[8192];

void log_msg(int prio, const char *fmt, ...)
{
	size_t len = strlen(logged);
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
	va_end(ap);
	strncat(logged, "\n", sizeof(logged) - strlen(logged) - 1);
}

void log_err(const struct err *e)
{
	log_msg(LOG_ERR, "%s", e->msg);
}

static char root[64], dir[128], report[128];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_declw.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(report, sizeof(report), "%s/report", root);
	cloudinit_report_to(report);
	snprintf(dir, sizeof(dir), "%s/run", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/run/wisp", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/run/wisp/units", root);
	logged[0] = '\0';
	return 0;
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

static void load(const char *name, struct decls *set)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(decl_load_file(set, p, NULL, NULL), 0);
}

/* What is rendered is what PID 1 reads back: name, kind, argv (any bytes), restart, deps. */
static void render_roundtrip(void **state)
{
	char *const argv[] = {"/bin/sh", "-c", "echo \"a\\b\" # not a comment\n\tx: [y]", NULL};
	char *const after[] = {"dhcp-eth0", "net-eth1", NULL};
	const struct wunit u = {.name = "cloud-final",
				.kind = KIND_ONESHOT,
				.argv = argv,
				.restart = RESTART_NO,
				.after = after,
				.about = "test"};
	struct decls set = {0};
	struct err e;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(declw_unit(90, &u), 0);
	assert_true(exists("90-cloud-final.yaml"));
	assert_false(exists(".90-cloud-final.yaml.tmp"));
	load("90-cloud-final.yaml", &set);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].name, "cloud-final");
	assert_int_equal(set.v[0].kind, KIND_ONESHOT);
	assert_int_equal(set.v[0].restart, RESTART_NO);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(set.v[0].argv[i], argv[i]);
	assert_null(set.v[0].argv[3]);
	assert_int_equal(set.v[0].ndeps, 2);
	assert_string_equal(set.v[0].deps[1].name, "net-eth1");
	assert_int_equal(set.v[0].deps[1].cond, DEP_STARTED);
	assert_true(declw_declared("cloud-final"));
	decls_free(&set);
}

/* A service restarts always; the file is 0600 in a 0700 directory (env may hold secrets). */
static void service_modes(void **state)
{
	char *const argv[] = {"udhcpc", "-f", "-i", "eth0", NULL};
	const struct wunit u = {
	    .name = "dhcp-eth0", .kind = KIND_SERVICE, .argv = argv, .restart = RESTART_ALWAYS};
	struct decls set = {0};
	struct stat st;
	char p[256];
	struct err e;

	(void)state;
	assert_int_equal(declw_open(dir, &e), 0);
	assert_int_equal(declw_unit(10, &u), 0);
	load("10-dhcp-eth0.yaml", &set);
	assert_int_equal(set.v[0].kind, KIND_SERVICE);
	assert_int_equal(set.v[0].restart, RESTART_ALWAYS);
	assert_int_equal(set.v[0].ndeps, 0);
	snprintf(p, sizeof(p), "%s/10-dhcp-eth0.yaml", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	decls_free(&set);
}

/* An invalid text is never renamed into place; each problem is a warning naming it. */
static void invalid_refused(void **state)
{
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(render_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(service_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(duplicate_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_cleans, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
