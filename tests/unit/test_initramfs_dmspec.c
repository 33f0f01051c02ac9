/* test_initramfs_dmspec.c: the device of wisp.initramfs.dm= (init/initramfs/dmspec.c),
 * dm-mod.create='s syntax as a slot's /A/slot.cfg writes it: what it takes, and the one
 * line it gives for what it does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "initramfs/initramfs.h"

#define VERITY "1 7:0 7:0 4096 4096 625 625 sha256 04af3c 4ae049 1 restart_on_corruption"

/* A slot's own device moved onto loop0, as image-builder's pxe.c writes it. */
static void takes_a_slot(void **state)
{
	struct dm_spec s;
	struct err e;

	(void)state;
	assert_int_equal(dm_spec_parse("wisp-root,,,ro,0 5000 verity " VERITY, &s, &e), 0);
	assert_string_equal(s.name, "wisp-root");
	assert_string_equal(s.uuid, "");
	assert_true(s.read_only);
	assert_int_equal(s.start, 0);
	assert_int_equal(s.length, 5000);
	assert_string_equal(s.target, "verity");
	assert_string_equal(s.params, VERITY);
	assert_int_equal(dm_spec_parse("r,UU-1,,rw,8 16 linear 7:0 0", &s, &e), 0);
	assert_string_equal(s.uuid, "UU-1");
	assert_false(s.read_only);
	assert_int_equal(s.start, 8);
	assert_string_equal(s.params, "7:0 0");
}

static const struct {
	const char *spec, *error;
} bad[] = {
    {"", "no device name before the first comma"},
    {",,,ro,0 8 linear 7:0 0", "no device name before the first comma"},
    {"r", "no device name before the first comma"},
    {"r,", "no UUID field (it may be empty)"},
    {"r,,1,ro,0 8 linear 7:0 0", "the MINOR field must be empty"},
    {"r,,,rx,0 8 linear 7:0 0", "FLAGS must be ro or rw"},
    {"r,,,ro", "FLAGS must be ro or rw"},
    {"r,,,ro,x 8 linear 7:0 0", "the table does not start with START LENGTH"},
    {"r,,,ro,0  8 linear 7:0 0", "the table does not start with START LENGTH"},
    {"r,,,ro,0 0 linear 7:0 0", "the table's length is 0 sectors"},
    {"r,,,ro,0 8 linear", "no target type, or a longer one than the kernel's 15 characters"},
    {"r,,,ro,0 8 averyveryverylongtarget 7:0",
     "no target type, or a longer one than the kernel's 15 characters"},
    {"r,,,ro,0 8 linear ", "the target's arguments are missing or too long"},
    {"r,,,ro,0 8 linear 7:0 0;s,,,ro,0 8 linear 7:0 8", "more than one device or target line"},
    {"r,,,ro,0 8 linear 7:0 0\n1 8 linear 7:0 8", "more than one device or target line"},
};

static void refuses(void **state)
{
	char want[512];
	struct dm_spec s;
	struct err e;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(want, sizeof(want), "wisp.initramfs.dm: %s", bad[i].error);
		if (dm_spec_parse(bad[i].spec, &s, &e) != -1 || strcmp(e.msg, want) != 0)
			fail_msg("case %zu (%s): got '%s'", i, bad[i].spec, e.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(takes_a_slot),
	    cmocka_unit_test(refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
