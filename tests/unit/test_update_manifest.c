/*
 * The updater's parsers (init/update): the manifest's strict "key: value" table,
 * versions and their order (downgrades), minisign key and signature files, the
 * command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "update/update.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good[] = "format: 1\nversion: 0.1.0\nvariant: wisp\ncreated: 1767225600\n"
			   "expires: 1798761600\ncmdline: console=ttyS0,115200\n"
			   "kernel.size: 5000000\nkernel.sha256: " H64 "\nroot.size: 20480\n"
			   "root.sha256: " H64 "\nroot.verity.hash: sha256\n"
			   "root.verity.data_block_size: 4096\nroot.verity.hash_block_size: 4096\n"
			   "root.verity.data_blocks: 4\nroot.verity.hash_start_block: 4\n"
			   "root.verity.root_hash: " H64 "\nroot.verity.salt: " H64 "\n";

/* good with the line starting with key replaced by line (NULL: removed). */
static const char *edit(const char *key, const char *line)
{
	static char buf[4096];
	const char *at = strstr(good, key), *nl = strchr(at, '\n') + 1;
	int n =
	    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, line ? line : "", nl);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

static void bad(const char *text, const char *want)
{
	static struct upd_manifest m;
	struct err e = {0};

	assert_int_equal(upd_manifest_parse(text, strlen(text), "M", &m, &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_good(void **state)
{
	static struct upd_manifest m;
	struct err e = {0};

	(void)state;
	if (upd_manifest_parse(good, strlen(good), "M", &m, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(m.part[UPD_KERNEL].size, 5000000);
	assert_int_equal(m.part[UPD_ROOT].sha256[1], 0x23);
	assert_int_equal(m.expires, 1798761600);
	assert_string_equal(m.verity.salt, H64);
	assert_int_equal(m.version.minor, 1);
	/* an empty command line is "cmdline:" */
	assert_int_equal(upd_manifest_parse(edit("cmdline", "cmdline:\n"),
					    strlen(edit("cmdline", "cmdline:\n")), "M", &m, &e),
			 0);
	assert_string_equal(m.cmdline, "");
}

static void test_bad_lines(void **state)
{
	char big[UPD_MANIFEST_MAX + 3];

	(void)state;
	bad(edit("variant", "colour: red\n"), "M:3: unknown key \"colour\"");
	bad(edit("variant", "variant: wisp\nvariant: wisp\n"), "M:4: variant given twice");
	bad(edit("variant", NULL), "M: no variant");
	bad(edit("variant", "variant:wisp\n"), "M:3: not \"key: value\"");
	bad(edit("variant", "variant: wisp \n"), "M:3: not \"key: value\"");
	bad(edit("variant", "variant:  wisp\n"), "M:3: not \"key: value\"");
	bad(edit("variant", "\n"), "M:3: an empty line");
	bad(edit("variant", "variant: wi\tsp\n"), "M:3: a byte that is not printable ASCII");
	bad(edit("variant", "variant: Wisp\n"), "not [a-z0-9][a-z0-9_.-]*");
	bad(edit("variant", "variant:\n"), "M:3: variant: empty");
	bad("format: 1", "does not end with a newline");
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	bad(big, "over the limit of 8192");
	bad(edit("format", "format: 3\n"), "a format this updater does not read");
	bad(edit("format", "format: 0\n"), "a format this updater does not read");
}

/* Format 2: the three Secure Boot signatures (base64 of an OpenPGP signature packet). */
#define SIG_B64 "iQEzBAABCAAdFiEE" /* 0x89: old-format packet, tag 2 */
#define SIGS                                                                                       \
	"boot.kernel.sig: " SIG_B64 "\nboot.slot_a.sig: " SIG_B64 "\nboot.slot_b.sig: " SIG_B64 "\n"

/* good as format 2, its three signatures at the end */
static const char *format2(void)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "format: 2%s" SIGS, strchr(good, '\n'));
	return buf;
}

static void test_format2(void **state)
{
	static struct upd_manifest m;
	struct err e = {0};
	const char *text = format2();
	char buf[4096];

	(void)state;
	if (upd_manifest_parse(text, strlen(text), "M", &m, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(m.format, 2);
	assert_int_equal(m.boot_sig[UPD_SIG_SLOT_B].len, 12);
	assert_int_equal(m.boot_sig[UPD_SIG_KERNEL].data[0], 0x89);
	/* format 1 has none; a format 1 manifest naming one is refused, as is format 2
	 * without all three */
	assert_int_equal(upd_manifest_parse(good, strlen(good), "M", &m, &e), 0);
	assert_int_equal(m.boot_sig[UPD_SIG_KERNEL].len, 0);
	snprintf(buf, sizeof(buf), "%sboot.kernel.sig: " SIG_B64 "\n", good);
	bad(buf, "M: boot.kernel.sig is a key of format 2, not of format 1");
	snprintf(buf, sizeof(buf), "%s", text);
	*strstr(buf, "boot.slot_b.sig") = '\0';
	bad(buf, "M: no boot.slot_b.sig");
	snprintf(buf, sizeof(buf), "%s", text);
	memcpy(strstr(buf, "boot.slot_a.sig: ") + 17, "AAEz", 4); /* a packet of tag 0 */
	bad(buf, "boot.slot_a.sig \"AAEz");
	bad(buf, "not an OpenPGP signature packet");
	snprintf(buf, sizeof(buf), "%s", text);
	memcpy(strstr(buf, "boot.kernel.sig: ") + 17, "!", 1);
	bad(buf, "not base64 of at most 768 bytes");
}

static void test_bad_values(void **state)
{
	(void)state;
	bad(edit("version", "version: 0.1\n"), "version \"0.1\": not MAJOR.MINOR.PATCH");
	bad(edit("kernel.size", "kernel.size: 0\n"), "kernel.size \"0\": zero");
	bad(edit("kernel.size", "kernel.size: 268435457\n"),
	    "kernel.size \"268435457\": too large");
	bad(edit("kernel.size", "kernel.size: 99999999999999999999999\n"), "not a decimal number");
	bad(edit("kernel.size", "kernel.size: 0100\n"), "not a decimal number");
	bad(edit("kernel.size", "kernel.size: -1\n"), "not a decimal number");
	bad(edit("root.sha256", "root.sha256: " H64 "0\n"), "not 64 hex digits");
	bad(edit("root.sha256", "root.sha256: 0123\n"), "not 64 hex digits");
	bad(edit("root.verity.root_hash", "root.verity.root_hash: ABCDEF" H64 "\n"),
	    "not lower-case hex");
	bad(edit("root.verity.hash:", "root.verity.hash: sha1\n"), "not sha256");
	bad(edit("root.verity.data_block_size", "root.verity.data_block_size: 1000\n"),
	    "not a power of two from 512 to 4096");
	bad(edit("root.verity.hash_block_size", "root.verity.hash_block_size: 8192\n"),
	    "too large");
	bad(edit("expires", "expires: 1767225599\n"), "expires before it was created");
	bad(edit("cmdline", "cmdline: x\x7f\n"), "not printable ASCII");
}

/* The verity numbers must describe the root part: data, then the tree, then its end. */
static void test_verity_layout(void **state)
{
	(void)state;
	bad(edit("root.verity.data_blocks", "root.verity.data_blocks: 5\n"), "verity layout");
	bad(edit("root.verity.hash_start_block", "root.verity.hash_start_block: 5\n"),
	    "does not fit the root part of 20480 bytes");
	bad(edit("root.size", "root.size: 16384\n"), "verity layout");
	bad(edit("root.size", "root.size: 20481\n"), "verity layout");
	bad(edit("root.verity.data_blocks", "root.verity.data_blocks: 0\n"), "verity layout");
}

/* The command line tail: what the slot, GRUB or a live medium set is not a bundle's
 * (slotcfg.c's table, which image-builder's writer applies too). NULL: accepted. */
static void test_cmdline_args(void **state)
{
	static const struct {
		const char *cmdline, *want;
	} cases[] = {
	    {"console=ttyS0,115200", NULL},
	    {"console=ttyS0,115200 quiet", NULL},
	    {"", NULL},
	    {"console=tty0 console=ttyS0,115200 loglevel=4 wisp.ds=nocloud", NULL},
	    {"wisp.provision_timeout=90 wisp.update=1 softdogs=1 soft_margin=1", NULL},
	    {"rootwait roots=1 initcall_debug init_on_alloc=1 wisp.slots=2", NULL},
	    {"a--b --x", NULL},
	    {"root=/dev/vda5 wisp.slot=A init=/bin/sh -- wisp.tries=",
	     "argument \"root=/dev/vda5\": the slot sets its root"},
	    {"quiet root=/dev/vda5", "argument \"root=/dev/vda5\""},
	    {"rootfstype=ext4", "argument \"rootfstype=ext4\""},
	    {"rootflags=rw", "argument \"rootflags=rw\""},
	    {"init=/bin/sh", "argument \"init=/bin/sh\": would run another program"},
	    {"rdinit=/bin/sh", "argument \"rdinit=/bin/sh\""},
	    {"dm-mod.create=x,,,rw,0", "argument \"dm-mod.create=x,,,rw,0\""},
	    {"dm_mod.waitfor=/dev/vda", "argument \"dm_mod.waitfor=/dev/vda\""},
	    {"dm-mod.anything", "argument \"dm-mod.anything\""},
	    {"wisp.slot=A", "argument \"wisp.slot=A\": the slot names itself"},
	    {"wisp.tries=", "argument \"wisp.tries=\": GRUB's boot counting"},
	    {"wisp.rollback=B", "argument \"wisp.rollback=B\""},
	    {"wisp.live=1", "argument \"wisp.live=1\""},
	    {"wisp.initramfs.dm=x", "argument \"wisp.initramfs.dm=x\""},
	    {"wisp.update_deadline=86400", "argument \"wisp.update_deadline=86400\": the trial's"},
	    {"wisp.update-deadline=1", "argument \"wisp.update-deadline=1\""},
	    {"softdog.soft_noboot=1", "argument \"softdog.soft_noboot=1\": the trial's watchdog"},
	    {"softdog.soft_margin=65535", "argument \"softdog.soft_margin=65535\""},
	    {"quiet softdog.x", "argument \"softdog.x\""},
	    {"panic=0", "argument \"panic=0\": the slot sets it"},
	    {"quiet panic=-1", "argument \"panic=-1\""},
	    {"panic_on_warn=1 oops=panic panics=1", NULL},
	    {"console=ttyS0 --", "argument \"--\": would hand GRUB's wisp.tries="},
	    {"-- console=ttyS0", "argument \"--\""},
	    {"console=ttyS0 $x", "has a character GRUB's script would read"},
	};
	static struct upd_manifest m;
	char text[256];
	struct err e = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), "cmdline:%s%s\n", *cases[i].cmdline ? " " : "",
			 cases[i].cmdline);
		if (cases[i].want) {
			bad(edit("cmdline", text), cases[i].want);
			continue;
		}
		if (upd_manifest_parse(edit("cmdline", text), strlen(edit("cmdline", text)), "M",
				       &m, &e) < 0)
			fail_msg("%s: %s", cases[i].cmdline, e.msg);
		assert_string_equal(m.cmdline, cases[i].cmdline);
	}
}

static int cmp(const char *a, const char *b)
{
	struct upd_version va, vb;
	struct err e;

	assert_int_equal(upd_version_parse(a, &va, &e), 0);
	assert_int_equal(upd_version_parse(b, &vb, &e), 0);
	return upd_version_cmp(&va, &vb);
}

static void test_versions(void **state)
{
	static const char *const bad_versions[] = {
	    "",	     "1",      "1.2",	    "1.2.3.4", "01.2.3", "1.02.3",	   "1.2.03",
	    "1.2.x", "-1.2.3", "1.2.3-rc1", " 1.2.3",  "1.2.3 ", "4294967296.0.0", "1..3"};
	struct upd_version v;
	struct err e;

	(void)state;
	assert_true(cmp("0.1.10", "0.1.9") > 0); /* numbers, not strings */
	assert_true(cmp("0.1.9", "0.1.10") < 0);
	assert_true(cmp("0.2.0", "0.1.99") > 0);
	assert_true(cmp("1.0.0", "0.99.99") > 0);
	assert_int_equal(cmp("0.1.0", "0.1.0"), 0);
	assert_true(cmp("4294967295.0.0", "4294967294.9.9") > 0);
	for (size_t i = 0; i < ARRAY_LEN(bad_versions); i++)
		if (upd_version_parse(bad_versions[i], &v, &e) == 0)
			fail_msg("version \"%s\" accepted", bad_versions[i]);
	assert_int_equal(upd_version_parse("0.0.0", &v, &e), 0);
}

#define V32 "4294967295.4294967295.4294967295" /* the longest version: UPD_VERSION_LEN */

/* The longest version each number below 2^32 allows is taken whole, by the parser, a
 * manifest and the floor's text; one character more is refused, and says so. */
static void test_version_longest(void **state)
{
	static struct upd_manifest m;
	struct upd_version v, floor;
	char text[UPD_VERSION_MAX];
	struct err e = {0};
	const char *t;

	(void)state;
	assert_int_equal(strlen(V32), UPD_VERSION_LEN);
	if (upd_version_parse(V32, &v, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(v.major, UINT32_MAX);
	assert_int_equal(v.patch, UINT32_MAX);
	assert_int_equal(upd_version_parse(V32 "0", &v, &e), -1);
	assert_string_equal(e.msg, "version \"" V32 "...\": longer than 32 characters "
				   "(MAJOR.MINOR.PATCH, each below 2^32)");
	assert_int_equal(upd_version_parse("4294967296.0.0", &v, &e), -1);
	assert_string_equal(e.msg, "version \"4294967296.0.0\": not MAJOR.MINOR.PATCH (decimal "
				   "numbers, each below 2^32)");
	t = edit("version:", "version: " V32 "\n");
	if (upd_manifest_parse(t, strlen(t), "M", &m, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(m.version_str, V32);
	bad(edit("version:", "version: " V32 "0\n"), "longer than 32 characters");
	bad(edit("version:", "version: 04294967295.4294967295.429496729\n"),
	    "not MAJOR.MINOR.PATCH");
	upd_version_floor("0.1.0", V32, &floor, text);
	assert_string_equal(text, V32);
}

/* apply's downgrade floor: the larger of the updater's version and the booted slot's
 * (its slot.cfg on the unsigned ESP: it can raise the floor, never lower it). */
static void test_version_floor(void **state)
{
	static const struct {
		const char *own, *installed, *bundle, *floor;
		bool newer;
	} cases[] = {
	    {"0.1.0", "0.3.0", "0.2.0", "0.3.0", false}, /* ROOT built as 0.1.0, installed 0.3.0 */
	    {"0.1.0", "0.3.0", "0.3.0", "0.3.0", false},
	    {"0.1.0", "0.3.0", "0.3.1", "0.3.0", true},
	    {"0.3.0", "0.1.0", "0.2.0", "0.3.0", false}, /* a lower slot.cfg does not lower it */
	    {"0.1.0", "", "0.2.0", "0.1.0", true},
	    {"0.1.0", NULL, "0.1.0", "0.1.0", false},
	    {"0.1.0", "0.9", "0.2.0", "0.1.0", true}, /* not a version: the updater's */
	    {"0.1.0", "0.3.0' x", "0.2.0", "0.1.0", true},
	    {"0.1.9", "0.1.10", "0.1.10", "0.1.10", false},
	};
	struct upd_version floor, b;
	char text[UPD_VERSION_MAX];
	struct err e;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		upd_version_floor(cases[i].own, cases[i].installed, &floor, text);
		assert_int_equal(upd_version_parse(cases[i].bundle, &b, &e), 0);
		if (strcmp(text, cases[i].floor) != 0 ||
		    (upd_version_cmp(&b, &floor) > 0) != cases[i].newer)
			fail_msg("own %s, installed %s, bundle %s: floor %s, want %s (newer: %d)",
				 cases[i].own, cases[i].installed ? cases[i].installed : "NULL",
				 cases[i].bundle, text, cases[i].floor, cases[i].newer);
	}
}

/* A slot.cfg's version as `update status`, `rollback` and the console show it: the ESP is
 * not signed, its bytes text; the updater's own slot.cfg reads back as written. */
static void test_slot_cfg_version(void **state)
{
	static const struct upd_verity v = {4096, 4096, 505, 505, "", ""};
	static const struct {
		const char *cfg, *want;
	} cases[] = {
	    {"# x\nset wisp_version=0.2.0\nset wisp_dm='x'\n", "0.2.0"},
	    {"# x\nset wisp_version=0.2.0\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\nset wisp_dm='x'\n",
	     "0.2.0\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J"},
	    {"# x\nset wisp_version=0.2.0\xc2\x9b"
	     "1m\x7f'\n",
	     "0.2.0\\xc2\\x9b1m\\x7f"},
	    {"# x\nset wisp_dm='x'\n", ""},
	};
	char out[4 * UPD_VERSION_MAX], *cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		slot_cfg_version(cases[i].cfg, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, out, cases[i].want);
	}
	cfg = slot_cfg('B', "0000", &v, "0.1.10", "console=ttyS0", "a test");
	assert_non_null(cfg);
	slot_cfg_version(cfg, out, sizeof(out));
	assert_string_equal(out, "0.1.10");
	free(cfg);
}

static void test_utc(void **state)
{
	char buf[UPD_UTC_LEN];

	(void)state;
	assert_string_equal(upd_utc(0, buf), "1970-01-01 00:00:00 UTC");
	assert_string_equal(upd_utc(951782400, buf), "2000-02-29 00:00:00 UTC");
	assert_string_equal(upd_utc(1798761599, buf), "2026-12-31 23:59:59 UTC");
	assert_string_equal(upd_utc(4107542400, buf), "2100-03-01 00:00:00 UTC");  /* no Feb 29 */
	assert_string_equal(upd_utc(1ull << 40, buf), "36812-02-20 00:36:16 UTC"); /* date -u */
}

static const char pub[] = "untrusted comment: minisign public key 76B57A7EA0F014FA\n"
			  "RWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+\n";

static void bad_pub(const char *text, const char *want)
{
	struct upd_pubkey k;
	struct err e = {0};

	assert_int_equal(upd_pubkey_parse(text, strlen(text), "K", &k, &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_pubkey(void **state)
{
	struct upd_pubkey k;
	struct err e = {0};
	char id[17];

	(void)state;
	assert_int_equal(upd_pubkey_parse(pub, strlen(pub), "K", &k, &e), 0);
	upd_key_id_str(k.id, id);
	assert_string_equal(id, "76B57A7EA0F014FA"); /* as minisign prints it */
	assert_int_equal(upd_pubkey_parse(pub, strlen(pub) - 1, "K", &k, &e), 0);
	bad_pub("RWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+\n", "K: not a minisign");
	bad_pub("untrusted comment: x\nRWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm\n",
		"not the base64 of a minisign key");
	bad_pub("untrusted comment: x\nRWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+ \n",
		"not the base64");
	bad_pub(
	    "untrusted comment: x\nRWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+\nx\n",
	    "text after the key line");
	/* "Eh" instead of "Ed": base64 of 'E' 'h' ... */
	bad_pub("untrusted comment: x\nRWj6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+\n",
		"key algorithm");
}

static void bad_sig(const char *text, const char *want)
{
	static struct upd_sig s;
	struct err e = {0};

	assert_int_equal(upd_sig_parse(text, strlen(text), "S", &s, &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

#define SIGLINE                                                                                    \
	"RUT6FPCgfnq1dqRIXyvZsoD6R28cv6/mzIowE1m3BesipEISYrtjSHzBKFTXuynqhYXLzTMiLuL/"             \
	"IKxA+bhSy69zJ4FLSTZU"                                                                     \
	"Bw8=\n"
#define GLOBAL                                                                                     \
	"nf2uOW5IrTjCkKwzYDU+EO4bnlwg2IJg4nToKafuyY6kx5IetLi4dvULRqRk4X4P5cvefogIhyi97ICg3oIDDw==" \
	"\n"

/* No byte of msg a terminal control: < 0x20, 0x7f, from 0x80 (C1, in UTF-8 too). */
static void no_controls(const char *msg)
{
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
		if (*c < 0x20 || *c >= 0x7f)
			fail_msg("message \"%s\" has byte 0x%02x", msg, *c);
}

/* The algorithm's two bytes come from the bundle: quoted escaped. */
static void test_signature_algorithm_escaped(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
	    {"G1sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	     "AAAAAAAAAAAAAAAA=\n",
	     "signature algorithm \"\\x1b[\", expected"},
	    {"wpsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	     "AAAAAAAAAAAAAAAA=\n",
	     "signature algorithm \"\\xc2\\x9b\", expected"},
	};
	static struct upd_sig s;
	char text[512];
	struct err e = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), "untrusted comment: u\n%strusted comment: a\n" GLOBAL,
			 cases[i].line);
		assert_int_equal(upd_sig_parse(text, strlen(text), "S", &s, &e), -1);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("message \"%s\" lacks \"%s\"", e.msg, cases[i].want);
		no_controls(e.msg);
	}
}

static void test_signature_file(void **state)
{
	static struct upd_sig s;
	struct err e = {0};
	const char *ok = "untrusted comment: u\n" SIGLINE "trusted comment: a\tb\n" GLOBAL;

	(void)state;
	if (upd_sig_parse(ok, strlen(ok), "S", &s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(s.prehashed);
	assert_string_equal(s.trusted, "a\tb");
	bad_sig("untrusted comment: u\n" SIGLINE "trusted comment: a\x01"
		"b\n" GLOBAL,
		"no valid \"trusted comment: \" line");
	bad_sig("untrusted comment: u\n" SIGLINE "trusted: a\n" GLOBAL, "no valid");
	bad_sig("untrusted comment: u\n" SIGLINE "trusted comment: a\n", "global signature line");
	bad_sig("untrusted comment: u\n" SIGLINE "trusted comment: a\n" GLOBAL "more\n",
		"text after the global signature");
	bad_sig("untrusted comment: u\n", "no signature line");
	bad_sig("untrusted comment: u\nRUT6\n", "not the base64 of a signature");
	bad_sig("signature\n", "not a minisign signature");
}

static enum upd_action args(struct upd_args *a, int argc, ...)
{
	static char *argv[16];
	va_list ap;

	va_start(ap, argc);
	argv[0] = "update";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return upd_args(argc, argv, a);
}

static void test_args(void **state)
{
	struct upd_args a;

	(void)state;
	assert_int_equal(args(&a, 5, "verify", "B", "--keys", "D"), UPD_RUN);
	assert_string_equal(a.command, "verify");
	assert_string_equal(a.operand[0], "B");
	assert_string_equal(a.keys, "D");
	assert_int_equal(args(&a, 5, "--now=5", "verify", "--keys=D", "B"), UPD_RUN);
	assert_string_equal(a.now, "5");
	assert_string_equal(a.operand[0], "B");
	assert_int_equal(args(&a, 4, "inspect", "--", "--keys"), UPD_RUN);
	assert_string_equal(a.operand[0], "--keys");
	assert_int_equal(args(&a, 3, "verify", "-"), UPD_RUN);
	assert_string_equal(a.operand[0], "-");
	assert_int_equal(args(&a, 4, "verify", "--bogus", "--help"), UPD_HELP);
	assert_int_equal(args(&a, 3, "--version", "x"), UPD_VERSION_ACT);
	assert_int_equal(args(&a, 3, "verify", "--bogus"), UPD_USAGE);
	assert_string_equal(a.msg, "unknown option --bogus");
	assert_int_equal(args(&a, 3, "verify", "--keys"), UPD_USAGE);
	assert_string_equal(a.msg, "option --keys needs a value");
	assert_int_equal(args(&a, 1), UPD_USAGE);
	assert_string_equal(a.msg, "no command");
	assert_int_equal(args(&a, 5, "mark-good", "b", "c", "d"), UPD_RUN);
	assert_int_equal(a.noperands, 3);
	assert_string_equal(a.operand[2], "d");
}

/* mark-good's critical units: as many as operand[] holds, one more is refused. */
static void test_args_many(void **state)
{
	char *argv[2 + ARRAY_LEN(((struct upd_args *)0)->operand) + 1] = {"update", "mark-good"};
	char names[ARRAY_LEN(argv)][8];
	struct upd_args a;

	(void)state;
	for (size_t i = 2; i < ARRAY_LEN(argv); i++) {
		snprintf(names[i], sizeof(names[i]), "u%zu", i);
		argv[i] = names[i];
	}
	memset(&a, 0, sizeof(a));
	assert_int_equal(upd_args((int)ARRAY_LEN(argv) - 1, argv, &a), UPD_RUN);
	assert_int_equal(a.noperands, (int)ARRAY_LEN(a.operand));
	memset(&a, 0, sizeof(a));
	assert_int_equal(upd_args((int)ARRAY_LEN(argv), argv, &a), UPD_USAGE);
	assert_string_equal(a.msg, "unexpected argument u66");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_format2),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_verity_layout),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_pubkey),
	    cmocka_unit_test(test_signature_file),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_args_many),
	    cmocka_unit_test(test_utc),
	    cmocka_unit_test(test_cmdline_args),
	    cmocka_unit_test(test_signature_algorithm_escaped),
	    cmocka_unit_test(test_version_floor),
	    cmocka_unit_test(test_version_longest),
	    cmocka_unit_test(test_slot_cfg_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
