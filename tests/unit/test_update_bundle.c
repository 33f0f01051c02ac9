/*
 * Signed update bundles end to end (init/update/bundle.c, minisig.c): bundles
 * whose manifests are signed by Debian's minisign with the committed test keys
 * (tests/keys), read from a file and from a pipe, and every way one is refused,
 * each with its own message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "update/update.h"

#define KEYS	 "tests/keys"
#define NOW	 1800000000ull /* 2027-01-15 */
#define KSIZE	 10007u	       /* the kernel part: not a multiple of anything */
#define RBLOCKS	 3u	       /* the root part: 3 data blocks, then one tree block */
#define RSIZE	 ((RBLOCKS + 1) * 4096u)
#define ROOTHASH "1111111111111111111111111111111111111111111111111111111111111111"

static char dir[64];	  /* this run's scratch directory */
static char trusted[128]; /* a key directory holding wisp-test.pub only */

struct spec {
	const char *key;     /* secret key under tests/keys */
	bool legacy;	     /* minisign -l: "Ed" */
	const char *expires; /* manifest's expires */
	const char *version;
};

struct bundle {
	char *data;
	size_t len;
	size_t manifest_off, sig_off, kernel_off, root_off;
};

static void run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fail_msg("%s: exit %d", cmd, rc);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(f);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 131 + seed * 7) ^ (i >> 8));
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A bundle as image-builder bundle writes one; the signature is minisign's own. */
static struct bundle make(const struct spec *s)
{
	static uint8_t kernel[KSIZE], root[RSIZE];
	uint8_t ks[32], rs[32];
	char kh[65], rh[65], man[2048], cmd[512], path[128], *sig;
	size_t sig_len;
	struct bundle b;
	int n;

	fill(kernel, sizeof(kernel), 1);
	fill(root, sizeof(root), 2);
	crypto_hash_sha256(ks, kernel, sizeof(kernel));
	crypto_hash_sha256(rs, root, sizeof(root));
	hex(ks, 32, kh);
	hex(rs, 32, rh);
	n = snprintf(man, sizeof(man),
		     "format: 1\nversion: %s\nvariant: wisp\ncreated: 1767225600\nexpires: %s\n"
		     "cmdline: console=ttyS0,115200\nkernel.size: %u\nkernel.sha256: %s\n"
		     "root.size: %u\nroot.sha256: %s\nroot.verity.hash: sha256\n"
		     "root.verity.data_block_size: 4096\nroot.verity.hash_block_size: 4096\n"
		     "root.verity.data_blocks: %u\nroot.verity.hash_start_block: %u\n"
		     "root.verity.root_hash: " ROOTHASH "\nroot.verity.salt: " ROOTHASH "\n",
		     s->version ? s->version : "0.1.0", s->expires ? s->expires : "1900000000",
		     KSIZE, kh, RSIZE, rh, RBLOCKS, RBLOCKS);
	snprintf(path, sizeof(path), "%s/manifest", dir);
	put(path, man, (size_t)n);
	snprintf(cmd, sizeof(cmd),
		 "minisign -S %s -s " KEYS "/%s -m %s -x %s.minisig -c 'test bundle' "
		 "-t 'wisp-bundle version:0.1.0 variant:wisp' >/dev/null",
		 s->legacy ? "-l" : "", s->key ? s->key : "wisp-test.key", path, path);
	run(cmd);
	snprintf(path, sizeof(path), "%s/manifest.minisig", dir);
	sig = slurp(path, &sig_len);
	b.data = malloc(64 + (size_t)n + sig_len + KSIZE + RSIZE + 16);
	b.manifest_off = (size_t)sprintf(b.data, "wisp-bundle 1 %d %zu\n", n, sig_len);
	b.sig_off = b.manifest_off + (size_t)n;
	b.kernel_off = b.sig_off + sig_len;
	b.root_off = b.kernel_off + KSIZE;
	b.len = b.root_off + RSIZE;
	memcpy(b.data + b.manifest_off, man, (size_t)n);
	memcpy(b.data + b.sig_off, sig, sig_len);
	memcpy(b.data + b.kernel_off, kernel, KSIZE);
	memcpy(b.data + b.root_off, root, RSIZE);
	free(sig);
	return b;
}

static const struct spec plain = {0};

/* Verify b from a file; returns upd_bundle_verify's result, e->msg on failure. */
static int check(const struct bundle *b, struct err *e, struct upd_head *h)
{
	static struct upd_keys keys;
	char path[128];
	int fd, ret;

	assert_int_equal(upd_keys_load(trusted, &keys, e), 0);
	snprintf(path, sizeof(path), "%s/b.bundle", dir);
	put(path, b->data, b->len);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ret = upd_bundle_verify(fd, "b.bundle", &keys, NOW, h, e);
	close(fd);
	return ret;
}

static void refused(const struct bundle *b, const char *want)
{
	static struct upd_head h;
	struct err e = {0};

	assert_int_equal(check(b, &e, &h), -1);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_prehashed_verifies(void **state)
{
	static struct upd_head h;
	struct bundle b = make(&plain);
	struct err e = {0};

	(void)state;
	if (check(&b, &e, &h) != 0)
		fail_msg("%s", e.msg);
	assert_true(h.sig.prehashed);
	assert_string_equal(h.m.version_str, "0.1.0");
	assert_string_equal(h.m.variant, "wisp");
	assert_string_equal(h.m.cmdline, "console=ttyS0,115200");
	assert_int_equal(h.m.part[UPD_KERNEL].size, KSIZE);
	assert_int_equal(h.m.verity.hash_start_block, RBLOCKS);
	assert_string_equal(h.sig.trusted, "wisp-bundle version:0.1.0 variant:wisp");
	assert_non_null(h.key);
	free(b.data);
}

static void test_legacy_verifies(void **state)
{
	static struct upd_head h;
	struct spec s = {.legacy = true};
	struct bundle b = make(&s);
	struct err e = {0};

	(void)state;
	if (check(&b, &e, &h) != 0)
		fail_msg("%s", e.msg);
	assert_false(h.sig.prehashed);
	free(b.data);
}

/* The bundle arrives through a pipe, as from a download: nothing may seek. */
static void test_from_pipe(void **state)
{
	static struct upd_head h;
	static struct upd_keys keys;
	struct bundle b = make(&plain);
	struct err e = {0};
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(upd_keys_load(trusted, &keys, &e), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(write_all(p[1], b.data, b.len) == 0 ? 0 : 1);
	}
	close(p[1]);
	if (upd_bundle_verify(p[0], "pipe", &keys, NOW, &h, &e) != 0)
		fail_msg("%s", e.msg);
	close(p[0]);
	waitpid(pid, &status, 0);
	free(b.data);
}

/* The head is read to its last byte and no further: the parts stay in the stream. */
static void test_head_reads_no_part(void **state)
{
	static struct upd_head h;
	struct bundle b = make(&plain);
	struct err e = {0};
	char path[128], c;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/h.bundle", dir);
	put(path, b.data, b.len);
	fd = open(path, O_RDONLY);
	assert_int_equal(upd_head_read(fd, "h", &h, &e), 0);
	assert_int_equal(h.len, b.kernel_off);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal((uint8_t)c, (uint8_t)b.data[b.kernel_off]);
	close(fd);
	free(b.data);
}

static void flip(const struct spec *s, size_t (*where)(const struct bundle *), const char *want)
{
	struct bundle b = make(s);

	size_t i = where(&b);

	/* another byte, and in base64 text still a base64 character */
	b.data[i] = b.data[i] == 'A' ? 'B' : 'A';
	refused(&b, want);
	free(b.data);
}

static size_t in_manifest(const struct bundle *b)
{
	/* the 'w' of "variant: wisp": still a valid manifest, but not the signed one */
	return (size_t)(strstr(b->data + b->manifest_off, "variant: wisp") - b->data) + 9;
}

/* A character of the signature line's base64, past the algorithm and the key id. */
static size_t in_signature(const struct bundle *b)
{
	const char *line = memchr(b->data + b->sig_off, '\n', 200) + 1;

	return (size_t)(line - b->data) + 40;
}

static size_t in_trusted_comment(const struct bundle *b)
{
	return (size_t)(strstr(b->data + b->sig_off, "version:") - b->data);
}

static size_t in_kernel(const struct bundle *b)
{
	return b->kernel_off + KSIZE / 2;
}

static size_t in_root(const struct bundle *b)
{
	return b->root_off + RSIZE - 1;
}

static void test_flipped_manifest(void **state)
{
	(void)state;
	flip(&plain, in_manifest, "the manifest does not match its signature");
}

static void test_flipped_signature(void **state)
{
	(void)state;
	flip(&plain, in_signature, "the signature is damaged or not made by key");
}

static void test_flipped_trusted_comment(void **state)
{
	(void)state;
	flip(&plain, in_trusted_comment, "the trusted comment does not match its signature");
}

static void test_flipped_kernel(void **state)
{
	(void)state;
	flip(&plain, in_kernel, "part kernel: SHA-256 differs");
}

static void test_flipped_root(void **state)
{
	(void)state;
	flip(&plain, in_root, "part root: SHA-256 differs");
}

static void test_legacy_flipped_manifest(void **state)
{
	struct spec s = {.legacy = true};

	(void)state;
	flip(&s, in_manifest, "the manifest does not match its signature");
}

/* Signed by a key that is not in the trusted directory. */
static void test_untrusted_key(void **state)
{
	struct spec s = {.key = "other-test.key"};
	struct bundle b = make(&s);

	(void)state;
	refused(&b, "signed by key 40AD973EE8CA78A2, which is not a trusted key");
	free(b.data);
}

/* Signed by another key, the key id rewritten to the trusted one's: the id names a
 * trusted key, but its key did not make the signatures. */
static void test_wrong_key_id(void **state)
{
	static struct upd_pubkey trusted_key;
	struct spec s = {.key = "other-test.key"};
	struct bundle b = make(&s);
	char *line = memchr(b.data + b.sig_off, '\n', 200) + 1, *nl = strchr(line, '\n');
	uint8_t raw[74];
	size_t text_len, got;
	char text[2048], path[128];
	struct err e = {0};

	(void)state;
	snprintf(path, sizeof(path), KEYS "/wisp-test.pub");
	text_len = (size_t)read_text(path, text, sizeof(text), &e);
	assert_int_equal(upd_pubkey_parse(text, text_len, path, &trusted_key, &e), 0);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), line, (size_t)(nl - line), NULL, &got,
					   NULL, sodium_base64_VARIANT_ORIGINAL),
			 0);
	memcpy(raw + 2, trusted_key.id, 8);
	sodium_bin2base64(text, sizeof(text), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(strlen(text), (size_t)(nl - line));
	memcpy(line, text, strlen(text));
	refused(&b, "the signature is damaged or not made by key 76B57A7EA0F014FA");
	free(b.data);
}

static void test_expired(void **state)
{
	struct spec s = {.expires = "1799999999"};
	struct bundle b = make(&s);

	(void)state;
	refused(&b, "expired at 2027-01-15 07:59:59 UTC (now 2027-01-15 08:00:00 UTC)");
	free(b.data);
	s.expires = "1800000000"; /* the expiry is the first second it is refused */
	b = make(&s);
	refused(&b, "expired at");
	free(b.data);
}

static void truncated(size_t keep, const char *want)
{
	struct bundle b = make(&plain);

	b.len = keep ? keep : b.len - 1;
	refused(&b, want);
	free(b.data);
}

static void test_truncated(void **state)
{
	struct bundle b = make(&plain);

	(void)state;
	truncated(0, "part root: truncated (16383 of 16384 bytes)");
	truncated(b.root_off, "part root: truncated (0 of 16384 bytes)");
	truncated(b.kernel_off + 5, "part kernel: truncated (5 of 10007 bytes)");
	truncated(b.sig_off + 10, "truncated in its signature");
	truncated(b.manifest_off + 10, "truncated in its manifest");
	truncated(5, "truncated in its framing line");
	truncated(1, "truncated in its framing line");
	free(b.data);
}

/* Data after the root part: the bundle is longer than announced. */
static void test_longer(void **state)
{
	struct bundle b = make(&plain);

	(void)state;
	b.data[b.len++] = 'x';
	refused(&b, "data after the last part");
	free(b.data);
}

/* A kernel part longer than announced moves the root part: its digest fails. */
static void test_kernel_longer(void **state)
{
	struct bundle b = make(&plain);

	(void)state;
	memmove(b.data + b.root_off + 1, b.data + b.root_off, RSIZE);
	b.data[b.root_off] = 'x';
	b.len++;
	refused(&b, "part root: SHA-256 differs");
	free(b.data);
}

static void test_bad_framing(void **state)
{
	struct bundle b = make(&plain);

	(void)state;
	memcpy(b.data, "wisp-bundle 2", 13);
	refused(&b, "is not version 1");
	memcpy(b.data, "WISP", 4);
	refused(&b, "not a Wisp update bundle");
	free(b.data);
}

/* The framing line is quoted in messages root's terminal shows (`wispctl update apply
 * URL`): its controls and bytes from 0x80 as \xHH text, never as themselves. */
static void test_framing_escaped(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
	    {"wisp-bundle \x1b[2J\x1b]0;pwned\a", "framing \"\\x1b[2J\\x1b]0;pwned\\x07"},
	    {"wisp-bundle 1 \x9b"
	     "2J\xc2\x9b"
	     "1m",
	     "bad framing \"wisp-bundle 1 \\x9b2J\\xc2\\x9b1m"},
	    {"wisp-bundle 1 1\x7f", "bad framing \"wisp-bundle 1 1\\x7f"},
	};
	static struct upd_head h;
	char buf[UPD_PREAMBLE_MAX + 1];
	struct err e = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int n = snprintf(buf, sizeof(buf), "%s\n", cases[i].line);

		assert_int_equal(upd_head_parse(buf, (size_t)n, "b", &h, &e), -1);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("message \"%s\" lacks \"%s\"", e.msg, cases[i].want);
		for (const unsigned char *c = (const unsigned char *)e.msg; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				fail_msg("message \"%s\" has byte 0x%02x", e.msg, *c);
	}
}

/* A length in the framing changed: the manifest read is not the signed one. */
static void test_framing_length(void **state)
{
	struct bundle b = make(&plain);
	char *sp = strchr(b.data + 14, ' ');

	(void)state;
	sp[-1] = (char)(sp[-1] == '9' ? '8' : sp[-1] + 1);
	refused(&b, "signature: not a minisign signature");
	free(b.data);
}

static void test_copy_to_fd(void **state)
{
	static struct upd_head h;
	static struct upd_keys keys;
	struct bundle b = make(&plain);
	struct err e = {0};
	char path[128], out[128];
	int fd, ofd;
	size_t n;
	char *got;

	(void)state;
	assert_int_equal(upd_keys_load(trusted, &keys, &e), 0);
	snprintf(path, sizeof(path), "%s/c.bundle", dir);
	snprintf(out, sizeof(out), "%s/kernel.out", dir);
	put(path, b.data, b.len);
	fd = open(path, O_RDONLY);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(upd_head_read(fd, "c", &h, &e), 0);
	assert_int_equal(upd_head_verify(&h, &keys, NOW, &e), 0);
	assert_int_equal(upd_part_copy(fd, &h, &h.m.part[UPD_KERNEL], ofd, out, &e), 0);
	assert_int_equal(upd_part_copy(fd, &h, &h.m.part[UPD_ROOT], -1, NULL, &e), 0);
	assert_int_equal(upd_bundle_end(fd, &h, &e), 0);
	close(fd);
	close(ofd);
	got = slurp(out, &n);
	assert_int_equal(n, KSIZE);
	assert_memory_equal(got, b.data + b.kernel_off, KSIZE);
	free(got);
	free(b.data);
}

static void test_keys_dir(void **state)
{
	static struct upd_keys keys;
	struct err e = {0};
	char empty[128];

	(void)state;
	snprintf(empty, sizeof(empty), "%s/nokeys", dir);
	assert_int_equal(mkdir(empty, 0755), 0);
	assert_int_equal(upd_keys_load(empty, &keys, &e), -1);
	assert_non_null(strstr(e.msg, "no *.pub file"));
	assert_int_equal(upd_keys_load(KEYS, &keys, &e), 0);
	assert_int_equal(keys.n, 2); /* other-test.pub, wisp-test.pub */
	assert_string_equal(keys.key[0].file, KEYS "/other-test.pub");
	assert_int_equal(upd_keys_load("/nonexistent", &keys, &e), -1);
	assert_non_null(strstr(e.msg, "open trusted keys /nonexistent"));
}

static int setup(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_update_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(trusted, sizeof(trusted), "%s/keys", dir);
	snprintf(cmd, sizeof(cmd), "mkdir %s && cp " KEYS "/wisp-test.pub %s/", trusted, trusted);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prehashed_verifies),
	    cmocka_unit_test(test_legacy_verifies),
	    cmocka_unit_test(test_from_pipe),
	    cmocka_unit_test(test_head_reads_no_part),
	    cmocka_unit_test(test_flipped_manifest),
	    cmocka_unit_test(test_flipped_signature),
	    cmocka_unit_test(test_flipped_trusted_comment),
	    cmocka_unit_test(test_flipped_kernel),
	    cmocka_unit_test(test_flipped_root),
	    cmocka_unit_test(test_legacy_flipped_manifest),
	    cmocka_unit_test(test_untrusted_key),
	    cmocka_unit_test(test_wrong_key_id),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_longer),
	    cmocka_unit_test(test_kernel_longer),
	    cmocka_unit_test(test_bad_framing),
	    cmocka_unit_test(test_framing_escaped),
	    cmocka_unit_test(test_framing_length),
	    cmocka_unit_test(test_copy_to_fd),
	    cmocka_unit_test(test_keys_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
