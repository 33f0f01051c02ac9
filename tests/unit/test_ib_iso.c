/* test_ib_iso.c: the live CD's command line, made from a slot.cfg that the
 * builder's own renderer wrote (grub.c, init/update/slotcfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iso.h"

#define HASH "a568fa513d62afb0bfc35c9fe56b4afb8f2451bdc2f5e5add04bf67809a5c1bb"
#define SALT "4ae049f034145e66a7f8182299ceaaa9a30ccb3b12f05d13aeb91d3d42a0eb08"

static struct ib_verity verity(uint64_t data_blocks)
{
	struct ib_verity v = {.data_block_size = 4096,
			      .hash_block_size = 4096,
			      .data_blocks = data_blocks,
			      .hash_start_block = data_blocks};

	memcpy(v.root_hash, HASH, sizeof(v.root_hash));
	memcpy(v.salt, SALT, sizeof(v.salt));
	return v;
}

static char *slot_a(uint64_t data_blocks, const char *cmdline, struct ib_iso_slot *s)
{
	struct ib_verity v = verity(data_blocks);
	char *cfg =
	    ib_slot_cfg('A', "15c3f036-2955-5dad-9b5b-a4bbed3cb903", &v, "0.1.0", cmdline, NULL);
	struct ib_err err = {0};

	assert_non_null(cfg);
	assert_int_equal(ib_iso_slot_parse(cfg, s, &err), 0);
	return cfg;
}

/* The tree's blocks as dm-verity counts them: 128 SHA-256 digests a 4 KiB block,
 * level by level up to one block (build/wisp.root: 625 data blocks, 631 in all). */
static void root_bytes(void **state)
{
	static const struct {
		uint64_t data, total;
	} cases[] = {{1, 2}, {128, 129}, {129, 132}, {625, 631}, {100000, 100790}};
	struct ib_iso_slot s;
	struct ib_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bytes = 0;

		free(slot_a(cases[i].data, "", &s));
		assert_int_equal(ib_iso_root_bytes(s.dm, &bytes, &err), 0);
		assert_int_equal(bytes, cases[i].total * 4096);
		ib_iso_slot_free(&s);
	}
	assert_int_equal(ib_iso_root_bytes("x,,,ro,0 8 linear 8:1 0", &(uint64_t){0}, &err), -1);
	assert_string_equal(err.msg, "/A/slot.cfg: no verity table in wisp_dm");
}

/* Two devices, the slot's table moved from its partition onto the linear device over
 * sr0; the partition's and the slot's arguments replaced, the rest (a quote) kept. */
static void live_cmdline(void **state)
{
	struct ib_iso_slot s;
	size_t mark = 0;
	char *cfg;

	(void)state;
	free(slot_a(625, "console=ttyS0,115200 it's", &s));
	assert_string_equal(s.version, "0.1.0");
	cfg = ib_iso_grub_cfg(&s, 631 * 8, &mark);
	assert_non_null(cfg);
	assert_memory_equal(cfg + mark, IB_ISO_LBA_MARK, strlen(IB_ISO_LBA_MARK));
	assert_null(strstr(cfg + mark + 1, IB_ISO_LBA_MARK));
	assert_non_null(strstr(cfg,
			       "\nset wisp_dm='wisp-live,,0,ro,0 5048 linear 11:0 " IB_ISO_LBA_MARK
			       ";wisp-root,,1,ro,0 5000 verity 1 253:0 253:0 4096 4096 625 625 "
			       "sha256 " HASH " " SALT " 1 restart_on_corruption'\n"));
	assert_non_null(strstr(cfg, "\nset wisp_args='wisp.live=1 wisp.tries= wisp.rollback= "
				    "dm-mod.waitfor=/dev/sr0 root=/dev/dm-1 ro rootfstype=erofs "
				    "panic=10 console=ttyS0,115200 it'\\''s'\n"));
	assert_null(strstr(cfg, "PARTUUID"));
	assert_null(strstr(cfg, "wisp.slot"));
	assert_non_null(
	    strstr(cfg, "\t$wisp_linux /boot/vmlinuz \"dm-mod.create=$wisp_dm\" $wisp_args\n"));
	/* UEFI: through the kernel's EFI stub (its TPM event log), as the disk's grub.cfg */
	assert_non_null(strstr(cfg, "set wisp_linux=linux\nif [ \"$grub_platform\" = efi ]; "
				    "then set wisp_linux=linuxefi; fi\n"));
	free(cfg);
	ib_iso_slot_free(&s);
}

static void slot_cfg_errors(void **state)
{
	struct ib_iso_slot s = {0};
	struct ib_err err = {0};
	size_t mark;

	(void)state;
	assert_int_equal(ib_iso_slot_parse("# nothing\nset wisp_version=1\n", &s, &err), -1);
	assert_string_equal(err.msg, "/A/slot.cfg: no \"set wisp_dm=\"");
	assert_null(s.version);
	s.version = strdup("1"), s.dm = strdup("no-commas"), s.args = strdup("");
	assert_null(ib_iso_grub_cfg(&s, 8, &mark));
	ib_iso_slot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(root_bytes),
	    cmocka_unit_test(live_cmdline),
	    cmocka_unit_test(slot_cfg_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
