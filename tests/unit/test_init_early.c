/*
 * Unit tests: init/pid1/unit.c's early units (units_load_early): the image's
 * units declared `early: true` start before provision has run, with only
 * early dependencies (others make them wait after all); the later load adds
 * the rest without starting an early unit twice, and user-data can neither
 * replace an early unit nor declare one; an early container waits for STATE
 * (units_state_ready), where its image is, as does a service whose working
 * directory or program is on /var. PID 1 reads them compiled, as
 * image-builder writes them (lib/declbin.c, declcomp.c): without that file, or
 * with a damaged one, no unit is early. A process of its own (the unit table is
 * static), with test_init_unit.c's stubs.
 */
#define TEST_INIT_UNIT_STUBS_ONLY
#include "test_init_unit.c"

static void test_early_then_the_rest(void **state)
{
	char etc[512], run[512];
	static char ranges[512]; /* kept by userns.c */

	(void)state;
	ctr_set_bundles(dir);
	snprintf(ranges, sizeof(ranges), "%s/userns", dir);
	userns_set_file(ranges);
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(etc, 0755);
	mkdir(run, 0755);
	put_file("etc/10-units.yaml",
		 "services:\n"
		 "  - {name: a, kind: oneshot, command: [a]}\n"
		 "  - {name: sh, command: [sh], early: true}\n"
		 "  - {name: g, command: [g], early: true, depends_on: [sh]}\n"
		 "  - {name: h, command: [h], early: true, depends_on: [a]}\n"
		 "  - {name: i, command: [i], early: true, depends_on: [h]}\n"
		 "  - {name: v, command: [v], early: true, working_dir: /var/lib/v}\n"
		 "  - {name: w, command: [/var/lib/w/run], early: true}\n"
		 "  - {name: vx, command: [vx], early: true, working_dir: /varx}\n"
		 "containers:\n"
		 "  - {name: web, image: \"bb:1\", command: [httpd], early: true}\n");
	put_file("run/20-cloud.yaml", "services:\n"
				      "  - {name: sh, command: [evil]}\n"
				      "  - {name: x, command: [x], early: true}\n");
	units_set_cgroups(true);
	/* h depends on a late unit, and i on h: both wait, with a warning each (by
	 * image-builder: PID 1 reads what it compiled). */
	compile("etc", "/etc/wisp", true);
	compile("run", "/run/wisp/units", false);
	assert_int_equal(units_load_early(etc), 6);
	assert_non_null(strstr(logged, "h: early, but depends on \"a\", which is not"));
	assert_non_null(strstr(logged, "i: early, but depends on \"h\", which is not"));
	/* As PID 1 starts them: before STATE is mounted. */
	units_state_ready(false);
	units_start_all();
	assert_string_equal(started, "sh vx");
	confirm_all();
	assert_string_equal(started, "sh vx g");
	confirm_all();
	assert_int_equal(state_of("web"), U_STOPPED);
	assert_non_null(strstr(logged, "web waits for STATE"));
	assert_non_null(strstr(logged, "v waits for STATE"));
	assert_non_null(strstr(logged, "w waits for STATE"));
	assert_string_equal(helper, "");
	units_state_ready(true);
	assert_string_equal(started, "sh vx g v /var/lib/w/run");
	assert_int_equal(state_of("web"), U_STARTING);
	assert_non_null(strstr(helper, " delete --force web"));

	/* Provisioning ended: the rest, sh and g not again, user-data's sh refused. */
	logged[0] = started[0] = '\0';
	assert_int_equal(units_load(etc, run), 10);
	assert_non_null(strstr(logged, "sh: from "));
	assert_non_null(strstr(logged, "ignored: the early unit of "));
	assert_non_null(strstr(logged, "x: early applies to /etc/wisp only; ignored"));
	units_start_all();
	assert_string_equal(started, "a x");
	confirm_all();
	assert_true(unit_reaped(pid_of("a"), 0));
	assert_string_equal(started, "a x h");
	confirm_all();
	assert_string_equal(started, "a x h i");
	assert_int_equal(state_of("sh"), U_RUNNING);
	assert_int_equal(state_of("g"), U_RUNNING);
}

/* No compiled file, or one another init's table wrote: no early unit (they start with the
 * others). First: the unit table is still empty. */
static void test_not_compiled(void **state)
{
	static const char *const damage[] = {NULL, "wisp compiled declarations\n\1\2\3\4"};
	char etc[512], path[600];
	struct err e;

	(void)state;
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(path, sizeof(path), "%s/" DECL_EARLY_FILE, etc);
	mkdir(etc, 0755);
	put_file("etc/10-units.yaml", "services:\n  - {name: sh, command: [sh], early: true}\n");
	for (size_t i = 0; i < ARRAY_LEN(damage); i++) {
		unlink(path);
		if (damage[i])
			assert_int_equal(write_file(path, damage[i], strlen(damage[i]), 0644, &e),
					 0);
		logged[0] = '\0';
		assert_int_equal(units_load_early(etc), 0);
		assert_non_null(strstr(logged, "no unit starts before provisioning"));
		assert_non_null(strstr(logged, damage[i] ? "not declarations compiled for this init"
							 : "No such file"));
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_compiled),
	    cmocka_unit_test(test_early_then_the_rest),
	};

	return run_in_dir("init_early", tests, ARRAY_LEN(tests));
}
