/* image-builder bundle's own parsers (bundle_verity.c, bundle_args.c): the
 * verity file image-builder build writes, and --expires. The bundles it
 * writes are checked against the updater in tests/update/bundle.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "image-builder.h"

#define H64 "d1bccaa01574484b409a63ea8542f7b2bfaf4c3a7338a62cff5b8939335cf3a6"
static const char verity[] =
    "hash=sha256\ndata_block_size=4096\nhash_block_size=4096\n"
    "data_blocks=50\nhash_start_block=50\nroot_hash=" H64 "\nsalt=" H64 "\n";

static void bad(const char *text, const char *want)
{
	struct ib_verity v;
	struct ib_err err = {0};

	assert_int_equal(ib_verity_parse(text, strlen(text), "V", &v, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

/* verity with the line of key replaced by line. */
static const char *with(const char *key, const char *line)
{
	static char buf[1024];
	const char *at = strstr(verity, key), *nl = strchr(at, '\n') + 1;

	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - verity), verity, line, nl);
	return buf;
}

static void test_verity(void **state)
{
	struct ib_verity v;
	struct ib_err err = {0};

	(void)state;
	assert_int_equal(ib_verity_parse(verity, strlen(verity), "V", &v, &err), 0);
	assert_int_equal(v.data_blocks, 50);
	assert_int_equal(v.hash_block_size, 4096);
	assert_string_equal(v.root_hash, H64);
	/* without the last newline */
	assert_int_equal(ib_verity_parse(verity, strlen(verity) - 1, "V", &v, &err), 0);
	assert_string_equal(v.salt, H64);
	bad(with("salt", ""), "V: no salt=");
	bad(with("salt", "salt=" H64 "\nsalt=" H64 "\n"), "V:8: salt given twice");
	bad(with("salt", "uuid=1\n"), "V:7: unknown key uuid");
	bad(with("salt", "salt\n"), "V:7: not KEY=VALUE");
	bad(with("hash=", "hash=sha512\n"), "V:1: hash=sha512: not sha256");
	bad(with("data_block_size", "data_block_size=4095\n"), "not a power of two");
	bad(with("data_blocks", "data_blocks=050\n"), "not a decimal number");
	bad(with("root_hash", "root_hash=" H64 "00\n"), "not 64 lower-case hex digits");
	bad(with("salt", "\n"), "V:7: not KEY=VALUE");
}

static void test_expires(void **state)
{
	uint64_t t;

	(void)state;
	assert_null(ib_expires_parse("365d", 1767225600, &t));
	assert_int_equal(t, 1767225600 + 365 * 86400ull);
	assert_null(ib_expires_parse("2027-06-30", 1767225600, &t));
	assert_int_equal(t, 1814313600); /* date -ud 2027-06-30 +%s */
	assert_null(ib_expires_parse("2028-02-29", 1767225600, &t));
	assert_int_equal(t, 1835395200);
	assert_null(ib_expires_parse("@1800000000", 1767225600, &t));
	assert_int_equal(t, 1800000000);
	assert_non_null(ib_expires_parse("2027-02-29", 1767225600, &t));
	assert_non_null(ib_expires_parse("2027-13-01", 1767225600, &t));
	assert_non_null(ib_expires_parse("2025-12-31", 1767225600, &t));
	assert_non_null(ib_expires_parse("0d", 1767225600, &t));
	assert_non_null(ib_expires_parse("d", 1767225600, &t));
	assert_non_null(ib_expires_parse("1y", 1767225600, &t));
	assert_non_null(ib_expires_parse("@", 1767225600, &t));
	assert_non_null(ib_expires_parse("@1767225600", 1767225600, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verity),
	    cmocka_unit_test(test_expires),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
