/* test_cl_tar.c: the tar header and pax parser, the path sanitisers (tar
 * entries; an image's WorkingDir and volume destinations), the extractor's
 * limits on archives written here, and SHA-256 (NIST FIPS 180-2 vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/image.h"

static void octal(unsigned char *p, size_t n, uint64_t v)
{
	snprintf((char *)p, n, "%0*llo", (int)n - 1, (unsigned long long)v);
}

/* A ustar header with a correct checksum; link: its linkname (a symlink's text,
 * a hardlink's target). */
static void header_ml(unsigned char b[512], const char *name, char type, uint64_t size, mode_t mode,
		      const char *link)
{
	unsigned sum = 0;

	memset(b, 0, 512);
	memcpy(b, name, strnlen(name, 100));
	octal(b + 100, 8, mode);
	octal(b + 108, 8, 1000);
	octal(b + 116, 8, 100);
	octal(b + 124, 12, size);
	octal(b + 136, 12, 1700000000);
	b[156] = (unsigned char)type;
	memcpy(b + 157, link, strnlen(link, 100));
	memcpy(b + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static void header(unsigned char b[512], const char *name, char type, uint64_t size)
{
	header_ml(b, name, type, size, 0644, "");
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

/* "LEN KEY=VALUE\n", LEN counting itself: the record's length. */
static size_t pax_rec(char *out, size_t n, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while ((size_t)snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	assert_int_equal(snprintf(out, n, "%zu %s=%s\n", len, key, value), len);
	return len;
}

/* count copies of one record: a pax body (malloc'd), its length in *len. */
static char *pax_body(const char *key, const char *value, size_t count, size_t *len)
{
	char rec[256], *b;
	size_t n = pax_rec(rec, sizeof(rec), key, value);

	b = malloc(n * count + 1);
	assert_non_null(b);
	for (size_t i = 0; i < count; i++)
		memcpy(b + i * n, rec, n);
	*len = n * count;
	return b;
}

/* The xattrs of one entry are bounded, also across chained pax headers. */
static void test_pax_xattr_limits(void **state)
{
	char big[40 * 1024], rec[41 * 1024];
	struct tar_entry e = {0};
	struct cl_err err = {0};
	size_t len;
	char *b = pax_body("SCHILY.xattr.user.a", "b", TAR_MAX_XATTRS, &len);

	(void)state;
	assert_int_equal(tar_pax_parse(b, len, &e, &err), 0);
	assert_int_equal(e.nxattrs, TAR_MAX_XATTRS);
	free(b);
	/* the next record, in a pax header of its own, is one too many */
	len = pax_rec(rec, sizeof(rec), "SCHILY.xattr.user.z", "y");
	assert_int_equal(tar_pax_parse(rec, len, &e, &err), -1);
	assert_string_equal(err.msg,
			    "tar pax header: SCHILY.xattr.user.z: more than 1024 xattrs or "
			    "65536 bytes of them for one entry");
	tar_entry_clear(&e);
	/* bytes: two values of 40 KiB, each in its own header */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	len = pax_rec(rec, sizeof(rec), "SCHILY.xattr.user.big", big);
	assert_int_equal(tar_pax_parse(rec, len, &e, &err), 0);
	assert_int_equal(tar_pax_parse(rec, len, &e, &err), -1);
	assert_non_null(strstr(err.msg, "more than 1024 xattrs or 65536 bytes"));
	tar_entry_clear(&e);
}

/* An archive written in memory. */
struct arc {
	unsigned char *b;
	size_t len;
};

static void put(struct arc *a, const void *p, size_t n)
{
	a->b = realloc(a->b, a->len + n);
	assert_non_null(a->b);
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void member_ml(struct arc *a, const char *name, char type, const char *body, size_t n,
		      mode_t mode, const char *link)
{
	static const unsigned char zero[1024];
	unsigned char h[512];

	header_ml(h, name, type, n, mode, link);
	put(a, h, sizeof(h));
	put(a, body, n);
	put(a, zero, (512 - n % 512) % 512);
}

static void member(struct arc *a, const char *name, char type, const char *body, size_t n)
{
	member_ml(a, name, type, body, n, 0644, "");
}

/* a's entries, then the end, extracted beneath dfd; a emptied. */
static int extract_at(int dfd, struct arc *a, const struct tar_limits *l, struct cl_err *err)
{
	static const unsigned char end[1024];
	int fd = memfd_create("tar", MFD_CLOEXEC), r;
	struct stream *s;

	put(a, end, sizeof(end));
	assert_true(fd >= 0 && write(fd, a->b, a->len) == (ssize_t)a->len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_non_null(s = stream_open(fd, COMP_NONE, err));
	r = tar_extract(s, dfd, l, err);
	stream_close(s);
	close(fd);
	free(a->b);
	a->b = NULL;
	a->len = 0;
	return r;
}

static int scratch(char dir[24])
{
	int dfd;

	strcpy(dir, "/tmp/test_cl_tar.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_true((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0);
	return dfd;
}

/* ... beneath a scratch directory, removed after. */
static int extract(struct arc *a, const struct tar_limits *l, struct cl_err *err)
{
	char dir[24];
	int dfd = scratch(dir), r = extract_at(dfd, a, l, err);
	struct cl_err ignored;

	close(dfd);
	img_rm_tree(dir, &ignored);
	return r;
}

/* 150 chained pax headers before one file: what they gather for it is
 * bounded (PAX_MAX bytes of records, TAR_MAX_XATTRS xattrs), so memory is
 * too, however many follow; each limit is named. */
static void test_extract_chained_pax(void **state)
{
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};
	size_t clen, xlen;
	char *comments = pax_body("comment", "c", 8192 / 12, &clen);
	char *xattrs = pax_body("SCHILY.xattr.user.a", "b", 8192 / 26, &xlen);

	(void)state;
	tar_limits_default(&l);
	for (int i = 0; i < 150; i++) /* 8 KiB each: 1.2 MiB in all */
		member(&a, "PaxHeaders/f", 'x', comments, clen);
	member(&a, "f", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_string_equal(err.msg,
			    "tar: pax and GNU records of more than 1048576 bytes for one entry");
	for (int i = 0; i < 150; i++) /* 315 xattrs each */
		member(&a, "PaxHeaders/f", 'x', xattrs, xlen);
	member(&a, "f", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_non_null(strstr(err.msg, "more than 1024 xattrs or 65536 bytes of them"));
	/* one header of them is an ordinary entry's */
	member(&a, "PaxHeaders/f", 'x', xattrs, xlen);
	member(&a, "f", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), 0);
	free(comments);
	free(xattrs);
}

/* Meta records count as entries and toward the size, global ones too. */
static void test_extract_meta_counted(void **state)
{
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};
	char body[4096];
	size_t len = pax_rec(body, sizeof(body), "comment", "global");

	(void)state;
	tar_limits_default(&l);
	l.max_entries = 5;
	for (int i = 0; i < 10; i++)
		member(&a, "pax_global_header", 'g', body, len);
	member(&a, "f", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_string_equal(err.msg, "tar: more than 5 entries");
	tar_limits_default(&l);
	l.max_total = 1024;
	memset(body, 'x', sizeof(body));
	member(&a, "pax_global_header", 'g', body, sizeof(body));
	member(&a, "f", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_string_equal(err.msg, "tar: pax or GNU record: contents exceed 1024 bytes");
}

/* Linked with -Wl,--wrap= for openat, fstatat, symlinkat and mknodat (image.mk): a writer
 * racing the extraction swaps an entry, right after it is made, for a link to a host file. */
#include "swaplink.h"

/* A file outside the tree (0600, root's, mtime 1000): what a swapped name leads to. */
static void host_file(char path[40])
{
	struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	int fd;

	strcpy(path, "/tmp/test_cl_tar_outside.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 0, 0), 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

/* Each type of entry ("e", mode 0644, owner 1000:100, mtime 1700000000) replaced right after
 * its creation (a directory's: after its open) by a symlink, or a hardlink, to a host file:
 * the host file's owner, mode and times stay. Files and directories get theirs on the fd
 * held since; symlinks and FIFOs, opened after, are refused when found replaced by
 * another type (a symlink swapped for a symlink gets the entry's owner: it is the
 * tree's, and nothing follows it). Before,
 * the metadata went to the name: a hardlink took all three to the host file. */
static void test_extract_swapped(void **state)
{
	static const struct {
		char type;
		int ok[2]; /* swapped for a symlink, a hardlink */
	} types[] = {{'0', {0, 0}}, {'5', {0, 0}}, {'2', {0, -1}}, {'6', {-1, -1}}};
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};
	struct stat st;
	char outside[40];

	(void)state;
	tar_limits_default(&l);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (int hard = 1; hard >= 0; hard--) { /* the hardlink first: the worse */
			print_message("type %c, %s\n", types[i].type,
				      hard ? "hardlink" : "symlink");
			host_file(outside);
			if (types[i].type == '2')
				member_ml(&a, "e", '2', "", 0, 0644, "t");
			else
				member(&a, "e", types[i].type, "x", types[i].type == '0');
			swap_arm("e", outside, hard, SWAP_OPENAT | SWAP_SYMLINKAT | SWAP_MKNODAT);
			memset(&err, 0, sizeof(err));
			int r = extract(&a, &l, &err);
			swap_check(outside, 0600);
			assert_int_equal(stat(outside, &st), 0);
			assert_int_equal(st.st_mtim.tv_sec, 1000);
			assert_int_equal(st.st_atim.tv_sec, 1000);
			assert_int_equal(r, types[i].ok[hard]);
			if (r < 0)
				assert_string_equal(err.msg, "entry e: replaced while extracted");
			unlink(outside);
		}
}

/* "SCHILY.xattr.NAME=VALUE" (VALUE n bytes, binary) as one pax record into out. */
static size_t pax_bin(char *out, const char *name, const void *value, size_t n)
{
	size_t body = strlen("SCHILY.xattr.") + strlen(name) + n + 3, len = body + 1;
	int k;

	while ((size_t)snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	k = sprintf(out, "%zu SCHILY.xattr.%s=", len, name);
	memcpy(out + k, value, n);
	out[k + n] = '\n';
	return len;
}

/* 04755 and a capability (cap_net_raw, VFS_CAP_REVISION_2), as setcap writes them. */
static const unsigned char cap[20] = {0x01, 0, 0, 0x02, 0, 0x20};

/* What each type of entry keeps: owner, mode (setuid after the chown that clears it),
 * times, xattrs (a file capability, which a chown removes: set after it). Root only. */
static void test_extract_metadata(void **state)
{
	static const struct {
		const char *name;
		mode_t type, mode;
	} want[] = {{"f", S_IFREG, 04755},
		    {"d", S_IFDIR, 02755},
		    {"l", S_IFLNK, 0},
		    {"p", S_IFIFO, 0640},
		    {"h", S_IFREG, 04755}};
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};
	struct stat st;
	char dir[24], rec[128], got[64];
	int dfd = scratch(dir);
	size_t n = pax_bin(rec, "security.capability", cap, sizeof(cap));

	(void)state;
	tar_limits_default(&l);
	n += pax_bin(rec + n, "user.wisp", "v", 1);
	member(&a, "PaxHeaders/f", 'x', rec, n);
	member_ml(&a, "f", '0', "x", 1, 04755, "");
	n = pax_bin(rec, "user.wisp", "v", 1);
	member(&a, "PaxHeaders/d", 'x', rec, n);
	member_ml(&a, "d/", '5', "", 0, 02755, "");
	member_ml(&a, "l", '2', "", 0, 0777, "f");
	member_ml(&a, "p", '6', "", 0, 0640, "");
	member_ml(&a, "h", '1', "", 0, 0600, "f"); /* the file's inode: its entry's metadata */
	assert_int_equal(extract_at(dfd, &a, &l, &err), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		print_message("%s\n", want[i].name);
		assert_int_equal(fstatat(dfd, want[i].name, &st, AT_SYMLINK_NOFOLLOW), 0);
		assert_int_equal(st.st_mode & S_IFMT, want[i].type);
		if (want[i].type != S_IFLNK)
			assert_int_equal(st.st_mode & 07777, want[i].mode);
		assert_int_equal(st.st_uid, 1000);
		assert_int_equal(st.st_gid, 100);
		assert_int_equal(st.st_mtim.tv_sec, 1700000000);
	}
	assert_int_equal(getxattr(dir, "user.wisp", got, sizeof(got)),
			 -1); /* the root: the store's */
	snprintf(rec, sizeof(rec), "%s/d", dir);
	assert_int_equal(getxattr(rec, "user.wisp", got, sizeof(got)), 1);
	snprintf(rec, sizeof(rec), "%s/f", dir);
	assert_int_equal(getxattr(rec, "user.wisp", got, sizeof(got)), 1);
	assert_int_equal(getxattr(rec, "security.capability", got, sizeof(got)), sizeof(cap));
	assert_memory_equal(got, cap, sizeof(cap));
	close(dfd);
	img_rm_tree(dir, &err);
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

/* Flattening (WH_APPLY): an opaque directory loses what a lower layer put
 * there and keeps what its own layer did, however often it is marked. */
static void test_extract_opaque(void **state)
{
	static const char *const gone[] = {"d/old", "d/sub"}, *const kept[] = {"d/new", "d/new2",
									       "keep"};
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};
	struct stat st;
	char dir[24];
	int dfd = scratch(dir);

	(void)state;
	tar_limits_default(&l);
	l.whiteouts = WH_APPLY;
	member(&a, "d/old", '0', "", 0);
	member(&a, "d/sub/x", '0', "", 0);
	member(&a, "keep", '0', "", 0);
	assert_int_equal(extract_at(dfd, &a, &l, &err), 0);
	member(&a, "d/", '5', "", 0);
	member(&a, "d/.wh..wh..opq", '0', "", 0);
	member(&a, "d/new", '0', "", 0);
	for (int i = 0; i < 3; i++)
		member(&a, "d/.wh..wh..opq", '0', "", 0);
	member(&a, "d/new2", '0', "", 0);
	member(&a, "d/.wh..wh..opq", '0', "", 0);
	assert_int_equal(extract_at(dfd, &a, &l, &err), 0);
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_int_equal(fstatat(dfd, gone[i], &st, AT_SYMLINK_NOFOLLOW), -1);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_int_equal(fstatat(dfd, kept[i], &st, AT_SYMLINK_NOFOLLOW), 0);
	close(dfd);
	img_rm_tree(dir, &err);
}

/* One case of test_extract_replaced_parent: entries (name, type, link target;
 * "@" in a link: the host directory), then what must be. */
struct replaced {
	const char *what;
	enum tar_wh wh;
	const char *entries[5][3];
	const char *err;		/* NULL: extracted */
	const char *there[2], *gone[2]; /* beneath the root */
};

static const struct replaced replaced[] = {
    {"whiteout",
     WH_APPLY,
     {{"a/b/x", "0"}, {"a/.wh.b", "0"}, {"a/b/y", "0"}},
     NULL,
     {"a/b/y"},
     {"a/b/x"}},
    {"whiteout at the root",
     WH_APPLY,
     {{"a/b/x", "0"}, {".wh.a", "0"}, {"a/b/y", "0"}},
     NULL,
     {"a/b/y"},
     {"a/b/x"}},
    {"opaque",
     WH_APPLY,
     {{"a/b/x", "0"}, {"a/.wh..wh..opq", "0"}, {"a/b/y", "0"}},
     NULL,
     {"a/b/y"},
     {"a/b/x"}},
    {"overlay whiteout",
     WH_OVERLAY,
     {{"a/b/x", "0"}, {"a/.wh.b", "0"}, {"a/b/y", "0"}},
     "entry a/b/y: a/b: b is a symlink or not a directory",
     {"a/b"},
     {"a/b/y"}},
    {"symlink",
     WH_KEEP,
     {{"a/b/x", "0"}, {"a/b", "2", "@"}, {"a/b/y", "0"}},
     "entry a/b/y: a/b: b is a symlink or not a directory",
     {"a/b"},
     {"a/b/y"}},
    {"file",
     WH_KEEP,
     {{"a/b/x", "0"}, {"a/b", "0"}, {"a/b/y", "0"}},
     "entry a/b/y: a/b: b is a symlink or not a directory",
     {"a/b"},
     {"a/b/y"}},
    {"hardlink",
     WH_KEEP,
     {{"f", "0"}, {"a/b/x", "0"}, {"a/b", "1", "f"}, {"a/b/y", "0"}},
     "entry a/b/y: a/b: b is a symlink or not a directory",
     {"a/b"},
     {"a/b/y"}},
    {"file at the root",
     WH_KEEP,
     {{"a/b/x", "0"}, {"a", "0"}, {"a/b/y", "0"}},
     "entry a/b/y: a/b: a is a symlink or not a directory",
     {"a"},
     {"a/b/y"}},
};

/* The fds this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The directory entries go to is removed or replaced by an entry higher up
 * (its parent's or the root's: the held parents must not outlive it), then
 * entries go there again: they land where a fresh walk from the root puts
 * them (a new directory; a refusal where a symlink, a file, a hardlink or an
 * overlay whiteout took the name), never in the removed directory, nor
 * through the symlink to the host's. */
static void test_extract_replaced_parent(void **state)
{
	struct tar_limits l;
	struct cl_err err = {0};
	struct stat st;
	char dir[24], host[24];

	(void)state;
	tar_limits_default(&l);
	for (size_t i = 0; i < sizeof(replaced) / sizeof(replaced[0]); i++) {
		const struct replaced *t = &replaced[i];
		struct arc a = {0};
		int dfd = scratch(dir), hfd = scratch(host), r, fds;

		print_message("%s\n", t->what);
		l.whiteouts = t->wh;
		for (size_t k = 0; k < 5 && t->entries[k][0]; k++) {
			const char *link = t->entries[k][2] ? t->entries[k][2] : "";

			member_ml(&a, t->entries[k][0], t->entries[k][1][0], "", 0, 0644,
				  strcmp(link, "@") == 0 ? host : link);
		}
		memset(&err, 0, sizeof(err));
		fds = open_fds();
		r = extract_at(dfd, &a, &l, &err);
		assert_int_equal(open_fds(), fds); /* the parents held, let go, failed or not */
		if (t->err) {
			assert_int_equal(r, -1);
			assert_string_equal(err.msg, t->err);
		} else {
			assert_int_equal(r, 0);
		}
		for (size_t k = 0; k < 2 && t->there[k]; k++)
			assert_int_equal(fstatat(dfd, t->there[k], &st, AT_SYMLINK_NOFOLLOW), 0);
		for (size_t k = 0; k < 2 && t->gone[k]; k++)
			assert_int_equal(fstatat(dfd, t->gone[k], &st, AT_SYMLINK_NOFOLLOW), -1);
		assert_int_equal(fstatat(hfd, "y", &st, AT_SYMLINK_NOFOLLOW), -1);
		close(dfd);
		close(hfd);
		img_rm_tree(dir, &err);
		img_rm_tree(host, &err);
	}
}

/* "a/a/.../a", depth components (malloc'd). */
static char *deep(int depth)
{
	char *p = malloc((size_t)depth * 2);

	assert_non_null(p);
	for (int i = 0; i < depth; i++)
		memcpy(p + 2 * i, i + 1 < depth ? "a/" : "a", 2);
	return p;
}

/* TAR_MAX_DEPTH components pass, one more is refused naming the entry: a
 * path given by a pax record, and a hardlink's target. */
static void test_path_depth(void **state)
{
	char *ok = deep(TAR_MAX_DEPTH), *bad = deep(TAR_MAX_DEPTH + 1), out[4096], rec[4096];
	struct tar_limits l;
	struct cl_err err = {0};
	struct arc a = {0};

	(void)state;
	assert_int_equal(tar_path_clean(ok, out, sizeof(out), &err), 0);
	assert_int_equal(tar_path_clean(bad, out, sizeof(out), &err), -1);
	assert_string_equal(err.msg,
			    "entry a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/"
			    "a/...: more than 256 path components");
	tar_limits_default(&l);
	member(&a, "PaxHeaders/x", 'x', rec, pax_rec(rec, sizeof(rec), "path", ok));
	member(&a, "x", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), 0);
	member(&a, "PaxHeaders/x", 'x', rec, pax_rec(rec, sizeof(rec), "path", bad));
	member(&a, "x", '0', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_non_null(strstr(err.msg, "...: more than 256 path components"));
	member(&a, "f", '0', "", 0);
	member(&a, "PaxHeaders/l", 'x', rec, pax_rec(rec, sizeof(rec), "linkpath", bad));
	member(&a, "l", '1', "", 0);
	assert_int_equal(extract(&a, &l, &err), -1);
	assert_non_null(strstr(err.msg, "hardlink l: entry a/a/a"));
	assert_non_null(strstr(err.msg, "...: more than 256 path components"));
	free(ok);
	free(bad);
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
	    cmocka_unit_test(test_header_basic),
	    cmocka_unit_test(test_header_prefix_and_link),
	    cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_header_base256),
	    cmocka_unit_test(test_pax),
	    cmocka_unit_test(test_pax_malformed),
	    cmocka_unit_test(test_pax_xattr_limits),
	    cmocka_unit_test(test_extract_chained_pax),
	    cmocka_unit_test(test_extract_meta_counted),
	    cmocka_unit_test(test_extract_opaque),
	    cmocka_unit_test(test_extract_replaced_parent),
	    cmocka_unit_test(test_extract_swapped),
	    cmocka_unit_test(test_extract_metadata),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_path_depth),
	    cmocka_unit_test(test_abs_clean),
	    cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
