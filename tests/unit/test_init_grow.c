/* Unit tests: init/pid1/grow.c, growing the last GPT partition, on a temporary image file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024 * 1024)
#define SEC 512

static uint64_t le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void put(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static void rd(int fd, void *buf, size_t len, uint64_t lba)
{
	assert_int_equal(pread(fd, buf, len, (off_t)(lba * SEC)), (ssize_t)len);
}

static void wr(int fd, const void *buf, size_t len, uint64_t lba)
{
	assert_int_equal(pwrite(fd, buf, len, (off_t)(lba * SEC)), (ssize_t)len);
}

static void set_crc(unsigned char *h)
{
	put(h + 16, 0, 4);
	put(h + 16, gpt_crc32(h, 92), 4);
}

/* A disk of mib MiB as image-builder makes it: two partitions, the second (STATE) last. */
static int make_image(unsigned mib)
{
	char path[] = "/tmp/test_grow_XXXXXX";
	uint64_t sectors = (uint64_t)mib * MiB / SEC;
	unsigned char mbr[SEC] = {0}, h[SEC] = {0}, b[SEC], ents[128 * 128] = {0};
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)mib * MiB), 0);
	mbr[446 + 4] = 0xee;
	put(mbr + 446 + 8, 1, 4);
	put(mbr + 446 + 12, sectors - 1, 4);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	wr(fd, mbr, SEC, 0);
	/* Entry 1: 1 MiB at 1 MiB; entry 2: from 2 MiB to the last whole MiB before the backup. */
	memset(ents, 0x11, 16);
	put(ents + 32, 2048, 8);
	put(ents + 40, 4095, 8);
	memset(ents + 128, 0x22, 16);
	put(ents + 128 + 32, 4096, 8);
	put(ents + 128 + 40, sectors - 2048 - 1, 8);
	memcpy(h, "EFI PART", 8);
	put(h + 8, 0x10000, 4);
	put(h + 12, 92, 4);
	put(h + 24, 1, 8);
	put(h + 32, sectors - 1, 8);
	put(h + 40, 34, 8);
	put(h + 48, sectors - 34, 8);
	memset(h + 56, 0x33, 16);
	put(h + 72, 2, 8);
	put(h + 80, 128, 4);
	put(h + 84, 128, 4);
	put(h + 88, gpt_crc32(ents, sizeof(ents)), 4);
	memcpy(b, h, SEC);
	set_crc(h);
	put(b + 24, sectors - 1, 8);
	put(b + 32, 1, 8);
	put(b + 72, sectors - 33, 8);
	set_crc(b);
	wr(fd, h, SEC, 1);
	wr(fd, ents, sizeof(ents), 2);
	wr(fd, ents, sizeof(ents), sectors - 33);
	wr(fd, b, SEC, sectors - 1);
	return fd;
}

static void grow_to(int fd, unsigned mib)
{
	assert_int_equal(ftruncate(fd, (off_t)mib * MiB), 0);
}

/* A header at lba is valid: signature, CRC, and entries whose CRC matches. */
static void check_header(int fd, uint64_t lba, unsigned char *h, unsigned char *ents)
{
	uint32_t crc;

	rd(fd, h, SEC, lba);
	assert_memory_equal(h, "EFI PART", 8);
	crc = (uint32_t)le(h + 16, 4);
	put(h + 16, 0, 4);
	assert_int_equal(gpt_crc32(h, 92), crc);
	put(h + 16, crc, 4);
	assert_int_equal(le(h + 24, 8), lba);
	rd(fd, ents, 128 * 128, le(h + 72, 8));
	assert_int_equal(gpt_crc32(ents, 128 * 128), (uint32_t)le(h + 88, 4));
}

static void test_crc(void **state)
{
	(void)state;
	/* The CRC-32 check value (ISO-HDLC, as zlib and UEFI use). */
	assert_int_equal(gpt_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(gpt_crc32("", 0), 0);
}

static void test_grow(void **state)
{
	unsigned char h[SEC], b[SEC], mbr[SEC];
	static unsigned char e1[128 * 128], e2[128 * 128];
	uint64_t end = 0, sectors = 20ull * MiB / SEC;
	struct err e;
	int fd = make_image(8);

	(void)state;
	/* Not grown: nothing to do. */
	assert_int_equal(gpt_grow(fd, 8ull * MiB, 2, &end, &e), 0);
	grow_to(fd, 20);
	assert_int_equal(gpt_grow(fd, 20ull * MiB, 2, &end, &e), 1);
	/* The last whole MiB before the backup GPT: 19 MiB - 1 sector. */
	assert_int_equal(end, 19ull * MiB / SEC - 1);

	check_header(fd, 1, h, e1);
	assert_int_equal(le(h + 32, 8), sectors - 1);
	assert_int_equal(le(h + 48, 8), sectors - 34);
	assert_int_equal(le(e1 + 128 + 32, 8), 4096); /* start unchanged */
	assert_int_equal(le(e1 + 128 + 40, 8), end);
	assert_int_equal(le(e1 + 40, 8), 4095); /* the other partition untouched */

	check_header(fd, sectors - 1, b, e2);
	assert_int_equal(le(b + 32, 8), 1);
	assert_int_equal(le(b + 72, 8), sectors - 33);
	assert_memory_equal(e1, e2, sizeof(e1));
	assert_memory_equal(h + 56, b + 56, 16); /* same disk GUID */

	/* The old backup header is gone; the protective MBR covers the disk. */
	rd(fd, b, SEC, 8ull * MiB / SEC - 1);
	assert_int_not_equal(memcmp(b, "EFI PART", 8), 0);
	rd(fd, mbr, SEC, 0);
	assert_int_equal(le(mbr + 446 + 12, 4), sectors - 1);

	/* Done once: a second boot finds nothing to do. */
	assert_int_equal(gpt_grow(fd, 20ull * MiB, 2, &end, &e), 0);
	close(fd);
}

static void test_small_growth(void **state)
{
	uint64_t end = 0;
	struct err e;
	int fd = make_image(8);

	(void)state;
	/* One sector more: STATE cannot gain a whole MiB, so nothing is rewritten. */
	assert_int_equal(ftruncate(fd, 8 * MiB + SEC), 0);
	assert_int_equal(gpt_grow(fd, 8ull * MiB + SEC, 2, &end, &e), 0);
	close(fd);
}

static void test_refusals(void **state)
{
	unsigned char h[SEC];
	uint64_t end = 0;
	struct err e;
	int fd = make_image(8);

	(void)state;
	grow_to(fd, 16);
	/* Partition 1 is not the last one. */
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 1, &end, &e), -1);
	assert_non_null(strstr(e.msg, "not the last"));
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 3, &end, &e), -1);
	assert_non_null(strstr(e.msg, "unused"));
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 200, &end, &e), -1);
	/* A disk smaller than the GPT says. */
	assert_int_equal(gpt_grow(fd, 4ull * MiB, 2, &end, &e), -1);
	assert_non_null(strstr(e.msg, "beyond the disk"));

	/* A damaged header is never "fixed". */
	rd(fd, h, SEC, 1);
	h[40] ^= 1;
	wr(fd, h, SEC, 1);
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 2, &end, &e), -1);
	assert_non_null(strstr(e.msg, "CRC"));
	h[40] ^= 1;
	wr(fd, h, SEC, 1);
	/* Damaged entries. */
	rd(fd, h, SEC, 2);
	h[100] ^= 1;
	wr(fd, h, SEC, 2);
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 2, &end, &e), -1);
	assert_non_null(strstr(e.msg, "entries CRC"));
	/* No GPT at all. */
	memset(h, 0, SEC);
	wr(fd, h, SEC, 1);
	assert_int_equal(gpt_grow(fd, 16ull * MiB, 2, &end, &e), -1);
	assert_non_null(strstr(e.msg, "no GPT"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc),
	    cmocka_unit_test(test_grow),
	    cmocka_unit_test(test_small_growth),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("init_grow", tests, NULL, NULL);
}
