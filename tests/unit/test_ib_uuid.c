/* test_ib_uuid.c: identifiers derive from the spec name, deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "image-builder.h"

static void derive_is_deterministic(void **state)
{
	uuid_t a, b, c;

	(void)state;
	ib_uuid_derive(a, "wisp", "disk");
	ib_uuid_derive(b, "wisp", "disk");
	ib_uuid_derive(c, "wisp", "partition/ROOT-A");
	assert_memory_equal(a, b, sizeof(uuid_t));
	assert_memory_not_equal(a, c, sizeof(uuid_t));
	ib_uuid_derive(c, "other", "disk");
	assert_memory_not_equal(a, c, sizeof(uuid_t));
}

/* Known values: uuid.uuid5(UUID('73cbec29-...'), 'wisp/disk') in Python. */
static void derive_known_values(void **state)
{
	static const struct {
		const char *what, *want;
	} cases[] = {
	    {"disk", "bd06dc9e-8d78-5009-98c2-21c146cce1c7"},
	    {"partition/ROOT-A", "15c3f036-2955-5dad-9b5b-a4bbed3cb903"},
	};
	char s[37];
	uuid_t u;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ib_uuid_derive(u, "wisp", cases[i].what);
		uuid_unparse_lower(u, s);
		assert_string_equal(s, cases[i].want);
		assert_int_equal(u[6] >> 4, 5); /* version 5 (SHA-1) */
		assert_int_equal(u[8] >> 6, 2); /* RFC 4122 variant */
	}
}

static void guid_byte_order(void **state)
{
	static const uint8_t esp_on_disk[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
						0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
	uint8_t g[16];
	uuid_t u;

	(void)state;
	uuid_parse(IB_TYPE_ESP, u);
	ib_uuid_to_guid(g, u);
	assert_memory_equal(g, esp_on_disk, 16);
}

static void fat_volume_id(void **state)
{
	static const struct {
		uint32_t id;
		const char *want;
	} cases[] = {
	    {0x08aef6dc, "08AE-F6DC"}, /* GRUB's spelling: upper case */
	    {0x0000abcd, "0000-ABCD"},
	};
	char s[10];

	(void)state;
	assert_int_equal(ib_fat_volid("wisp"), 0x08aef6dc);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ib_fat_volid_str(cases[i].id, s);
		assert_string_equal(s, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(derive_is_deterministic),
	    cmocka_unit_test(derive_known_values),
	    cmocka_unit_test(guid_byte_order),
	    cmocka_unit_test(fat_volume_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
