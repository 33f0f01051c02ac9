/* test_ib_gpt.c: GPT layout, protective MBR, headers and CRCs, re-parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "image-builder.h"

static uint8_t entries[IB_GPT_ENTRY_SECTORS * IB_SECTOR];

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The layout the builder makes from the default spec. */
static void wisp_gpt(struct ib_gpt *g)
{
	static const char *const names[] = {"BIOS-BOOT", "ESP", "ROOT-A", "ROOT-B", "STATE"};
	static const char *const types[] = {IB_TYPE_BIOS_BOOT, IB_TYPE_ESP, IB_TYPE_ROOT_X64,
					    IB_TYPE_ROOT_X64, IB_TYPE_LINUX};
	const uint64_t sizes[] = {1 * IB_MIB, 32 * IB_MIB, 64 * IB_MIB, 64 * IB_MIB, 64 * IB_MIB};
	struct ib_err err;

	memset(g, 0, sizeof(*g));
	ib_uuid_derive(g->disk_guid, "wisp", "disk");
	g->nparts = 5;
	for (int i = 0; i < 5; i++) {
		g->part[i].name = names[i];
		uuid_parse(types[i], g->part[i].type);
		ib_uuid_derive(g->part[i].uuid, "wisp", names[i]);
		g->part[i].size = sizes[i];
	}
	assert_int_equal(ib_gpt_layout(g, &err), 0);
}

static void layout_is_mib_aligned(void **state)
{
	static const uint64_t first[] = {2048, 4096, 69632, 200704, 331776};
	static const uint64_t last[] = {4095, 69631, 200703, 331775, 462847};
	struct ib_gpt g;

	(void)state;
	wisp_gpt(&g);
	for (int i = 0; i < 5; i++) {
		assert_true(g.part[i].first_lba == first[i]);
		assert_true(g.part[i].last_lba == last[i]);
	}
	assert_true(g.total_sectors == 464896); /* 227 MiB */
}

static void layout_rejects_unaligned(void **state)
{
	struct ib_gpt g;
	struct ib_err err;

	(void)state;
	wisp_gpt(&g);
	g.part[2].size += 512;
	assert_int_equal(ib_gpt_layout(&g, &err), -1);
	assert_non_null(strstr(err.msg, "ROOT-A"));
}

static void protective_mbr(void **state)
{
	uint8_t mbr[IB_SECTOR];
	struct ib_gpt g;

	(void)state;
	wisp_gpt(&g);
	memset(mbr, 0xcc, sizeof(mbr)); /* boot code must be left alone */
	ib_gpt_pmbr(&g, mbr);
	assert_int_equal(mbr[0], 0xcc);
	assert_int_equal(mbr[439], 0xcc);
	assert_int_equal(mbr[446], 0x00);
	assert_int_equal(mbr[446 + 4], 0xee);
	assert_int_equal(le32(mbr + 446 + 8), 1);
	assert_int_equal(le32(mbr + 446 + 12), 464895);
	for (int i = 462; i < 510; i++)
		assert_int_equal(mbr[i], 0);
	assert_int_equal(mbr[510], 0x55);
	assert_int_equal(mbr[511], 0xaa);
}

/* The header's number fields (UEFI 2.10, 5.3.2): offset, width, the
 * primary's value and the backup's (which swaps the LBAs). */
static const struct {
	unsigned off, width;
	uint64_t primary, backup;
} header_fields[] = {
    {8, 4, 0x00010000, 0x00010000}, /* revision 1.0 */
    {12, 4, 92, 92},		    /* header size */
    {24, 8, 1, 464895},		    /* this header's LBA */
    {32, 8, 464895, 1},		    /* the other header's LBA */
    {40, 8, 34, 34},		    /* first usable LBA */
    {48, 8, 464862, 464862},	    /* last usable LBA */
    {72, 8, 2, 464863},		    /* the entries' LBA */
    {80, 4, 128, 128},		    /* number of entries */
    {84, 4, 128, 128},		    /* size of an entry */
};

static void check_header(const struct ib_gpt *g, const uint8_t *hdr, bool backup)
{
	uint8_t copy[92];
	uint8_t guid[16];

	assert_memory_equal(hdr, "EFI PART", 8);
	for (size_t i = 0; i < sizeof(header_fields) / sizeof(header_fields[0]); i++) {
		const uint8_t *p = hdr + header_fields[i].off;
		uint64_t got = header_fields[i].width == 8 ? le64(p) : le32(p);
		uint64_t want = backup ? header_fields[i].backup : header_fields[i].primary;

		if (got != want)
			fail_msg("%s header, offset %u: %llu, want %llu",
				 backup ? "backup" : "primary", header_fields[i].off,
				 (unsigned long long)got, (unsigned long long)want);
	}
	memcpy(copy, hdr, 92);
	memset(copy + 16, 0, 4);
	assert_int_equal(le32(hdr + 16), (uint32_t)crc32(0, copy, 92));
	ib_uuid_to_guid(guid, g->disk_guid);
	assert_memory_equal(hdr + 56, guid, 16);
	assert_int_equal(le32(hdr + 88), (uint32_t)crc32(0, entries, sizeof(entries)));
	for (unsigned i = 92; i < IB_SECTOR; i++)
		assert_int_equal(hdr[i], 0);
}

static void headers_and_crcs(void **state)
{
	uint8_t hdr[IB_SECTOR];
	struct ib_gpt g;

	(void)state;
	wisp_gpt(&g);
	ib_gpt_entries(&g, entries);
	ib_gpt_header(&g, false, entries, hdr);
	check_header(&g, hdr, false);
	ib_gpt_header(&g, true, entries, hdr);
	check_header(&g, hdr, true);
}

static void entries_content(void **state)
{
	static const uint8_t root_a_name[] = {'R', 0, 'O', 0, 'O', 0, 'T', 0, '-', 0, 'A', 0, 0, 0};
	uint8_t guid[16];
	struct ib_gpt g;
	const uint8_t *e;

	(void)state;
	wisp_gpt(&g);
	ib_gpt_entries(&g, entries);
	e = entries + 2 * IB_GPT_ENTRY_SIZE; /* ROOT-A */
	ib_uuid_to_guid(guid, g.part[2].type);
	assert_memory_equal(e, guid, 16);
	assert_int_equal(e[0], 0xe3); /* 4f68bce3-... little-endian on disk */
	ib_uuid_to_guid(guid, g.part[2].uuid);
	assert_memory_equal(e + 16, guid, 16);
	assert_true(le64(e + 32) == 69632);
	assert_true(le64(e + 40) == 200703);
	assert_true(le64(e + 48) == 0);
	assert_memory_equal(e + 56, root_a_name, sizeof(root_a_name));
	/* Unused entries are all zero. */
	for (size_t i = 5 * IB_GPT_ENTRY_SIZE; i < sizeof(entries); i++)
		assert_int_equal(entries[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(layout_is_mib_aligned), cmocka_unit_test(layout_rejects_unaligned),
	    cmocka_unit_test(protective_mbr),	     cmocka_unit_test(headers_and_crcs),
	    cmocka_unit_test(entries_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
