/* test_ib_vmdk.c: a VMDK descriptor's content id set from the disk GUID,
 * whatever number of digits qemu-img wrote (it prints CID=%x, unpadded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "image-builder.h"

#define HEAD "# Disk DescriptorFile\nversion=1\n"
#define TAIL "\nparentCID=ffffffff\ncreateType=\"streamOptimized\"\n"

static const uint8_t guid[16] = {0x09, 0xed, 0xc0, 0x6b, 0x78, 0x8d};

static void cid_set(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: refused, the descriptor unchanged */
		size_t len;	       /* the descriptor's area; 0: 512 */
	} cases[] = {
	    {HEAD "CID=7f3a91c2" TAIL, HEAD "CID=09edc06b" TAIL, 0},
	    {HEAD "CID=f3a91c2" TAIL, HEAD "CID=09edc06b" TAIL, 0}, /* 7 digits: 1 in 16 */
	    {HEAD "CID=5" TAIL, HEAD "CID=09edc06b" TAIL, 0},
	    {"CID=abc\n", "CID=09edc06b\n", 0}, /* the first line */
	    {HEAD "CID=09edc06b" TAIL, HEAD "CID=09edc06b" TAIL, 0},
	    /* exactly room for the text and its NUL */
	    {HEAD "CID=f3a91c2" TAIL, HEAD "CID=09edc06b" TAIL, sizeof(HEAD "CID=09edc06b" TAIL)},
	    {HEAD "CID=f3a91c2" TAIL, NULL, sizeof(HEAD "CID=09edc06b" TAIL) - 1}, /* no room */
	    {HEAD TAIL, NULL, 0}, /* parentCID is not CID */
	    {HEAD "CID=" TAIL, NULL, 0},
	    {HEAD "CID=123456789" TAIL, NULL, 0},
	    {HEAD "CID=12G4" TAIL, NULL, 0},
	    {HEAD "CID=1234", NULL, 0},				      /* no end of line */
	    {HEAD "CID=1234\n", NULL, sizeof(HEAD "CID=1234\n") - 1}, /* no NUL in the area */
	};
	char desc[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : sizeof(desc);

		memset(desc, 0, sizeof(desc));
		memcpy(desc, cases[i].in, strlen(cases[i].in));
		print_message("case %zu: %s\n", i, cases[i].in);
		if (!cases[i].want) {
			assert_int_equal(ib_vmdk_set_cid(desc, len, guid), -1);
			assert_memory_equal(desc, cases[i].in, strlen(cases[i].in));
			continue;
		}
		assert_int_equal(ib_vmdk_set_cid(desc, len, guid), 0);
		assert_string_equal(desc, cases[i].want);
		for (size_t j = strlen(desc); j < len; j++)
			assert_int_equal(desc[j], 0); /* the padding stays NUL */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cid_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
