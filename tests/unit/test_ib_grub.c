/* test_ib_grub.c: GRUB environment block, configs, and the boot.img and
 * diskboot.img patches that replace grub-bios-setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "image-builder.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SALT "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void grubenv_block(void **state)
{
	static const char head[] = "# GRUB Environment Block\nwisp_slot=A\nx=a\\\\b\\\nc\n";
	const char *vars[] = {"wisp_slot=A", "x=a\\b\nc"};
	uint8_t env[IB_GRUBENV_SIZE];
	struct ib_err err;

	(void)state;
	assert_int_equal(ib_grubenv_block(env, vars, 2, &err), 0);
	assert_memory_equal(env, head, strlen(head));
	for (size_t i = strlen(head); i < sizeof(env); i++)
		assert_int_equal(env[i], '#');
}

static void grubenv_errors(void **state)
{
	char big[1100];
	const char *vars[] = {big};
	uint8_t env[IB_GRUBENV_SIZE];
	struct ib_err err;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[1] = '=';
	assert_int_equal(ib_grubenv_block(env, vars, 1, &err), -1);
	vars[0] = "novalue";
	assert_int_equal(ib_grubenv_block(env, vars, 1, &err), -1);
	assert_string_equal(err.msg, "grubenv: \"novalue\" is not NAME=VALUE: Invalid argument");
}

static void configs(void **state)
{
	/* what grub.cfg must contain, piece by piece */
	static const char *const cfg_has[] = {
	    "serial --unit=0 --speed=115200\n",
	    "terminal_output serial console\n",
	    "set timeout=3\n",
	    "set wisp_slot=B\nset wisp_prev=\nset wisp_tries=\n"
	    "set wisp_watch=\"softdog.soft_active_on_boot=1 softdog.soft_margin=120\"\n"
	    "set wisp_trial=\n"
	    "load_env --skip-sig -f ($root)/grub/grubenv wisp_slot wisp_prev wisp_tries "
	    "wisp_watch wisp_rollback\n",
	    /* grubenv's values, each matched whole before it is used */
	    "set wisp_v=\"$wisp_slot\"\nset wisp_slot=\"B\"\n"
	    "if regexp '^[AB]$' \"$wisp_v\"; then set wisp_slot=\"$wisp_v\"; fi\n",
	    "set wisp_v=\"$wisp_tries\"\nset wisp_tries=\"\"\n"
	    "if regexp '^[0-9]?$' \"$wisp_v\"; then set wisp_tries=\"$wisp_v\"; fi\n",
	    "if regexp '^softdog\\.soft_active_on_boot=1 softdog\\.soft_margin=[0-9]{1,5}"
	    "( wisp\\.update_deadline=[0-9]{1,7})?$' \"$wisp_v\"; then set "
	    "wisp_watch=\"$wisp_v\"; fi\n",
	    "if [ \"$wisp_tries\" = 0 -a -n \"$wisp_prev\" ]; then\n",
	    "\tset wisp_rollback=\"$wisp_slot\"\n\tset wisp_slot=\"$wisp_prev\"\n"
	    "\tset wisp_prev=\"$wisp_rollback\"\n\tset wisp_tries=\n"
	    "\tsave_env -f ($root)/grub/grubenv wisp_slot wisp_prev wisp_tries wisp_rollback\n",
	    "elif [ \"$wisp_tries\" = 9 ]; then\n\tset wisp_tries=8\n"
	    "\tsave_env -f ($root)/grub/grubenv wisp_tries\n\tset wisp_trial=\"$wisp_watch\"\n",
	    "elif [ \"$wisp_tries\" = 1 ]; then\n\tset wisp_tries=0\n"
	    "\tsave_env -f ($root)/grub/grubenv wisp_tries\n\tset wisp_trial=\"$wisp_watch\"\n"
	    "elif [ -z \"$wisp_tries\" -a -n \"$wisp_prev\" -a \"$wisp_prev\" != "
	    "\"$wisp_rollback\" ]; then\n\tset wisp_tries=2\n"
	    "\tsave_env -f ($root)/grub/grubenv wisp_tries\n\tset wisp_trial=\"$wisp_watch\"\nfi\n",
	    "set default=\"wisp-${wisp_slot}\"\n"
	    "if [ \"$wisp_prev\" = A ]; then set fallback=0; "
	    "elif [ \"$wisp_prev\" = B ]; then set fallback=1; fi\n"
	    "\nmenuentry \"Wisp (slot A)\" --id wisp-A --unrestricted {\n"
	    "\tset wisp_dm=\n\tset wisp_args=\n\tset wisp_version=\n"
	    "\tif [ ! -f /A/slot.cfg ]; then\n"
	    "\t\techo \"wisp: slot A holds no system (no /A/slot.cfg)\"\n"
	    "\telse\n"
	    "\t\tsource /A/slot.cfg\n"
	    "\t\tif [ -z \"$wisp_dm\" ]; then\n"
	    "\t\t\techo \"wisp: slot A: /A/slot.cfg did not load\"\n"
	    "\t\telse\n"
	    "\t\t\techo \"Wisp $wisp_version, slot A\"\n"
	    "\t\t\t$wisp_linux /A/vmlinuz \"dm-mod.create=$wisp_dm\" $wisp_args $wisp_trial "
	    "wisp.tries=$wisp_tries wisp.rollback=$wisp_rollback\n"
	    "\t\tfi\n"
	    "\tfi\n}\n",
	    "menuentry \"Wisp (slot B)\" --id wisp-B --unrestricted {\n",
	    "\t\tsource /B/slot.cfg\n",
	};
	const struct ib_verity v = {.data_block_size = 4096,
				    .hash_block_size = 4096,
				    .data_blocks = 10,
				    .hash_start_block = 10,
				    .root_hash = HASH,
				    .salt = SALT};
	char *early = ib_grub_early_cfg("08AE-F6DC", false);
	char *enforcing = ib_grub_early_cfg("08AE-F6DC", true);
	char *cfg = ib_grub_cfg(3, 'B', true), *sb_cfg = ib_grub_cfg(3, 'B', false);
	char *cmdline = ib_kernel_cmdline('A', "aaaa", &v, "");
	char *slot = ib_slot_cfg('B', "aaaa", &v, WISP_VERSION, "console=ttyS0 it's", NULL);

	(void)state;
	assert_string_equal(early, "search --no-floppy --fs-uuid --set=root 08AE-F6DC\n"
				   "set prefix=($root)/grub\n"
				   "configfile ($root)/grub/grub.cfg\n");
	for (size_t i = 0; i < sizeof(cfg_has) / sizeof(cfg_has[0]); i++)
		if (!strstr(cfg, cfg_has[i]))
			fail_msg("grub.cfg lacks \"%s\":\n%s", cfg_has[i], cfg);
	/* UEFI boots through the kernel's EFI stub (its TPM event log), but in a Secure Boot
	 * image, where Debian's linuxefi would ask shim to check the kernel */
	assert_non_null(strstr(cfg, "set wisp_linux=linux\nif [ \"$grub_platform\" = efi ]; "
				    "then set wisp_linux=linuxefi; fi\n"));
	assert_non_null(strstr(cfg, "\t$wisp_linux /A/vmlinuz \"dm-mod.create=$wisp_dm\" "));
	assert_null(strstr(sb_cfg, "linuxefi"));
	assert_non_null(strstr(sb_cfg, "set wisp_linux=linux\n"));
	/* fallback=0 is slot A: A's entry comes first */
	assert_true(strstr(cfg, "--id wisp-A") < strstr(cfg, "--id wisp-B"));
	assert_string_equal(cmdline, "\"dm-mod.create=wisp-root,,,ro,"
				     "0 80 verity 1 PARTUUID=aaaa "
				     "PARTUUID=aaaa 4096 4096 10 10 sha256 " HASH " " SALT
				     " 1 restart_on_corruption\" dm-mod.waitfor=PARTUUID=aaaa "
				     "root=/dev/dm-0 ro rootfstype=erofs wisp.slot=A panic=10");
	/* single quotes: literal in GRUB's script, a ' in the spec's tail escaped */
	assert_non_null(strstr(slot, "written by image-builder\n"));
	assert_non_null(strstr(slot, "set wisp_version=" WISP_VERSION "\n"));
	assert_non_null(strstr(slot, "set wisp_dm='wisp-root,,,ro,0 80 verity 1 PARTUUID=aaaa"));
	assert_non_null(strstr(slot,
			       "set wisp_args='dm-mod.waitfor=PARTUUID=aaaa root=/dev/dm-0 ro "
			       "rootfstype=erofs wisp.slot=B panic=10 console=ttyS0 "
			       "it'\\''s'\n"));
	assert_string_equal(enforcing, "set check_signatures=enforce\nset superusers=\"root\"\n"
				       "export superusers\n"
				       "search --no-floppy --fs-uuid --set=root 08AE-F6DC\n"
				       "set prefix=($root)/grub\n"
				       "configfile ($root)/grub/grub.cfg\n");
	free(early), free(enforcing), free(cfg), free(sb_cfg), free(cmdline), free(slot);
}

static void fake_boot_img(uint8_t *b)
{
	memset(b, 0xcc, IB_SECTOR);
	b[0] = 0xeb;
	b[IB_BOOT_DRIVE_CHECK] = 0xeb; /* jmp over the drive check */
	b[IB_BOOT_DRIVE_CHECK + 1] = 0x05;
	b[510] = 0x55, b[511] = 0xaa;
}

static void patch_mbr(void **state)
{
	uint8_t boot[IB_SECTOR], mbr[IB_SECTOR];
	struct ib_err err;

	(void)state;
	fake_boot_img(boot);
	memset(mbr, 0x11, sizeof(mbr));
	assert_int_equal(ib_bios_patch_mbr(mbr, boot, 0x0123456789, &err), 0);
	assert_int_equal(mbr[0], 0xeb);
	assert_memory_equal(mbr + 0x5c, ((uint8_t[8]){0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0}), 8);
	assert_int_equal(mbr[0x64], 0xff);
	assert_int_equal(mbr[0x66], 0x90);
	assert_int_equal(mbr[0x67], 0x90);
	for (int i = 440; i < 512; i++) /* partition table untouched */
		assert_int_equal(mbr[i], 0x11);
	boot[0] = 0;
	assert_int_equal(ib_bios_patch_mbr(mbr, boot, 1, &err), -1);
}

static void patch_core(void **state)
{
	uint8_t core[IB_SECTOR * 3 + 100];
	struct ib_err err;

	(void)state;
	memset(core, 0, sizeof(core));
	/* As grub-mkimage leaves it: start 2, len = sectors - 1, segment 0x820. */
	core[0x1f4] = 2;
	core[0x1fe] = 0x20, core[0x1ff] = 0x08;
	assert_int_equal(ib_bios_patch_core(core, sizeof(core), 2048, &err), 0);
	assert_memory_equal(core + 0x1f4,
			    ((uint8_t[12]){0x01, 0x08, 0, 0, 0, 0, 0, 0, /* 2049 */
					   3, 0, 0x20, 0x08}),
			    12);
	for (int i = 0x1e8; i < 0x1f4; i++)
		assert_int_equal(core[i], 0);
	core[0x1ff] = 0;
	assert_int_equal(ib_bios_patch_core(core, sizeof(core), 2048, &err), -1);
	assert_int_equal(ib_bios_patch_core(core, 512, 2048, &err), -1);
}

/* The real GRUB 2.06 boot.img (grub-pc-bin, a build dependency: its absence
 * fails, a skip would count as a pass). */
static void real_boot_img(void **state)
{
	const char *path = IB_GRUB_DIR "/i386-pc/boot.img";
	uint8_t mbr[IB_SECTOR] = {0};
	struct ib_err err;
	size_t len;
	char *boot;

	(void)state;
	if (access(path, R_OK) < 0)
		fail_msg("%s: %s (install grub-pc-bin: make deps)", path, strerror(errno));
	assert_int_equal(ib_read_file(path, &boot, &len, &err), 0);
	assert_int_equal(len, IB_SECTOR);
	/* The bytes setup.c patches: kernel sector 1, drive 0xff, "jmp 3f". */
	assert_int_equal((uint8_t)boot[0x5c], 1);
	assert_int_equal((uint8_t)boot[0x64], 0xff);
	assert_int_equal((uint8_t)boot[0x66], 0xeb);
	assert_int_equal(ib_bios_patch_mbr(mbr, (uint8_t *)boot, 2048, &err), 0);
	assert_int_equal(mbr[0x5c], 0x00);
	assert_int_equal(mbr[0x5d], 0x08);
	free(boot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(grubenv_block), cmocka_unit_test(grubenv_errors),
	    cmocka_unit_test(configs),	     cmocka_unit_test(patch_mbr),
	    cmocka_unit_test(patch_core),    cmocka_unit_test(real_boot_img),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
