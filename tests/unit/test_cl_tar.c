/* test_cl_tar.c: the tar header and pax parser, the path sanitisers (tar
 * entries; an image's WorkingDir and volume destinations) and
 * SHA-256 (NIST FIPS 180-2 vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "image/image.h"

static void octal(unsigned char *p, size_t n, uint64_t v)
{
	snprintf((char *)p, n, "%0*llo", (int)n - 1, (unsigned long long)v);
}

/* A ustar header with a correct checksum. */
static void header(unsigned char b[512], const char *name, char type, uint64_t size)
{
	unsigned sum = 0;

	memset(b, 0, 512);
	memcpy(b, name, strnlen(name, 100));
	octal(b + 100, 8, 0644);
	octal(b + 108, 8, 1000);
	octal(b + 116, 8, 100);
	octal(b + 124, 12, size);
	octal(b + 136, 12, 1700000000);
	b[156] = (unsigned char)type;
	memcpy(b + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static void test_header_basic(void **state)
{
	unsigned char b[512];
	struct tar_entry e = {0};
	struct cl_err err = {0};

	(void)state;
	header(b, "etc/passwd", '0', 1234);
	assert_int_equal(tar_header_parse(b, &e, &err), 0);
	assert_string_equal(e.path, "etc/passwd");
	assert_int_equal(e.type, TAR_FILE);
	assert_int_equal(e.size, 1234);
	assert_int_equal(e.mode, 0644);
	assert_int_equal(e.uid, 1000);
	assert_int_equal(e.gid, 100);
	assert_int_equal(e.mtime, 1700000000);
	tar_entry_clear(&e);
}

static void test_header_prefix_and_link(void **state)
{
	unsigned char b[512];
	struct tar_entry e = {0};
	struct cl_err err = {0};
	unsigned sum = 0;

	(void)state;
	header(b, "name", '2', 0);
	memcpy(b + 345, "a/long/prefix", 13);
	memcpy(b + 157, "../target", 9);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	assert_int_equal(tar_header_parse(b, &e, &err), 0);
	assert_string_equal(e.path, "a/long/prefix/name");
	assert_string_equal(e.link, "../target");
	assert_int_equal(e.type, TAR_SYMLINK);
	tar_entry_clear(&e);
}

static void test_header_errors(void **state)
{
	unsigned char b[512];
	struct tar_entry e = {0};
	struct cl_err err = {0};

	(void)state;
	memset(b, 0, sizeof(b));
	assert_int_equal(tar_header_parse(b, &e, &err), 1); /* end of archive */
	header(b, "x", '0', 1);
	b[0] ^= 1;
	assert_int_equal(tar_header_parse(b, &e, &err), -1);
	assert_string_equal(err.msg, "tar header: bad checksum");
	tar_entry_clear(&e);
	header(b, "x", 'Q', 1);
	assert_int_equal(tar_header_parse(b, &e, &err), -1);
	assert_non_null(strstr(err.msg, "unknown entry type 'Q'"));
	tar_entry_clear(&e);
}

static void test_header_base256(void **state)
{
	unsigned char b[512];
	struct tar_entry e = {0};
	struct cl_err err = {0};
	unsigned sum = 0;

	(void)state;
	header(b, "big", '0', 0);
	memset(b + 124, 0, 12);
	b[124] = 0x80;
	b[131] = 0x02; /* 2 << 32: 8 GiB */
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	assert_int_equal(tar_header_parse(b, &e, &err), 0);
	assert_int_equal(e.size, 8ULL << 30);
	tar_entry_clear(&e);
}

static void test_pax(void **state)
{
	const char rec[] = "30 path=a/very/long/name/here\n"
			   "16 size=9999999\n"
			   "27 SCHILY.xattr.user.k=val\n"
			   "12 uid=4242\n"
			   "21 mtime=1.500000000\n";
	unsigned char b[512];
	struct tar_entry e = {0};
	struct cl_err err = {0};

	(void)state;
	assert_int_equal(tar_pax_parse(rec, sizeof(rec) - 1, &e, &err), 0);
	assert_string_equal(e.path, "a/very/long/name/here");
	assert_int_equal(e.size, 9999999);
	assert_int_equal(e.uid, 4242);
	assert_int_equal(e.mtime, 1);
	assert_int_equal(e.nxattrs, 1);
	assert_string_equal(e.xattrs[0].name, "user.k");
	assert_memory_equal(e.xattrs[0].value, "val", 3);
	/* the header that follows does not override pax values */
	header(b, "short", '0', 5);
	assert_int_equal(tar_header_parse(b, &e, &err), 0);
	assert_string_equal(e.path, "a/very/long/name/here");
	assert_int_equal(e.size, 9999999);
	assert_int_equal(e.uid, 4242);
	assert_int_equal(e.gid, 100);
	tar_entry_clear(&e);
}

static void test_pax_malformed(void **state)
{
	static const char *bad[] = {"5 a=b\n",	  "99 path=x\n",  "8 path\n\n",
				    "x path=y\n", "11 uid=abc\n", "0 \n"};
	struct tar_entry e = {0};
	struct cl_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tar_pax_parse(bad[i], strlen(bad[i]), &e, &err), -1);
		tar_entry_clear(&e);
	}
}

static void test_path_clean(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {{"a/b/c", "a/b/c"}, {"./a/b/", "a/b"},	  {"a//b/./c", "a/b/c"}, {".", ""},
		  {"./", ""},	      {"a/..b/c..", "a/..b/c.."}, {"...", "..."}};
	static const struct {
		const char *in, *why;
	} bad[] = {{"/etc/passwd", "absolute path"}, {"../x", "'..' in path"},
		   {"a/../../x", "'..' in path"},    {"a/..", "'..' in path"},
		   {"..", "'..' in path"},	     {"//x", "absolute path"}};
	char out[64];
	struct cl_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(tar_path_clean(ok[i].in, out, sizeof(out), &err), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tar_path_clean(bad[i].in, out, sizeof(out), &err), -1);
		assert_non_null(strstr(err.msg, bad[i].why));
	}
	assert_int_equal(tar_path_clean("aaaaaaaaaa/bbbbbbbbbb", out, 8, &err), -1);
}

static void vectors(void);

static void sha(const char *in, size_t reps, const char *want)
{
	struct sha256 s;
	char hex[65];

	sha256_init(&s);
	for (size_t i = 0; i < reps; i++)
		sha256_update(&s, in, strlen(in));
	sha256_hex(&s, hex);
	assert_string_equal(hex, want);
}

/* An image's WorkingDir and volume destinations: absolute and clean, and
 * whether under /dev, /proc or /sys however written. */
static void test_abs_clean(void **state)
{
	static const struct {
		const char *in, *clean, *kernel;
	} ok[] = {
	    {"/", "/", NULL},
	    {"/home/user/", "/home/user", NULL},
	    {"//srv/./data", "/srv/data", NULL},
	    {"/procfs", "/procfs", NULL},
	    {"/devel/x", "/devel/x", NULL},
	    {"/proc/self/fd/6", "/proc/self/fd/6", "/proc"},
	    {"/dev/shm-x", "/dev/shm-x", "/dev"},
	    {"/dev/fd/6", "/dev/fd/6", "/dev"},
	    {"/sys", "/sys", "/sys"},
	    {"//proc/./x", "/proc/x", "/proc"},
	    {"/./dev", "/dev", "/dev"},
	};
	static const char *const bad[] = {"../..", "proc", "", "/a/../b", "/..", "/x/.."};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_non_null(img_abs_clean(ok[i].in, out, sizeof(out)));
		assert_string_equal(out, ok[i].clean);
		if (ok[i].kernel)
			assert_string_equal(img_kernel_path(out), ok[i].kernel);
		else
			assert_null(img_kernel_path(out));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(img_abs_clean(bad[i], out, sizeof(out)));
}

/* The vectors with each block code this CPU has, and a long odd-sized input alike. */
static void test_sha256(void **state)
{
	static unsigned char big[(1 << 20) + 77];
	char hex[2][65];

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	for (int impl = 0; impl < 2; impl++) {
		struct sha256 s;

		if (sha256_impl(impl) != impl) {
			print_message(
			    "sha256: this CPU has no SHA extensions: portable code only\n");
			break;
		}
		sha256_init(&s);
		sha256_update(&s, big, 1000);
		sha256_update(&s, big + 1000, sizeof(big) - 1000);
		sha256_hex(&s, hex[impl]);
		vectors();
	}
	if (sha256_impl(-1))
		assert_string_equal(hex[0], hex[1]);
	sha256_impl(0);
}

static void vectors(void)
{
	sha("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in uneven pieces */
	sha("aaaaaaaaaaaaaaaaaaaaaaaaa", 40000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_basic),  cmocka_unit_test(test_header_prefix_and_link),
	    cmocka_unit_test(test_header_errors), cmocka_unit_test(test_header_base256),
	    cmocka_unit_test(test_pax),		  cmocka_unit_test(test_pax_malformed),
	    cmocka_unit_test(test_path_clean),	  cmocka_unit_test(test_abs_clean),
	    cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
