/*
 * bundle.c: a bundle read in stream order (docs/update-bundle.md).
 *
 *   "wisp-bundle 1 MANIFEST_LEN SIGNATURE_LEN\n"  the framing, unsigned
 *   MANIFEST_LEN bytes                           the manifest
 *   SIGNATURE_LEN bytes                          its .minisig, as minisign wrote it
 *   the parts, in the manifest's order, back to back, nothing after them
 *
 * Everything that decides trust comes before the first byte of a part, so a
 * reader of a pipe or an HTTP body refuses a bundle before it writes anything.
 * The framing is not signed and need not be: it only says where the signed
 * manifest ends, and a wrong length makes the signature check fail.
 * Reads never go past what the head announces: the parts stay in the stream.
 */
#include "update.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

/* A length of the framing: decimal, no leading zero, at most max. */
static const char *frame_len(const char *p, size_t max, size_t *out)
{
	uint64_t v;
	const char *end = dec_scan(p, &v);

	if (!end || (p[0] == '0' && end - p > 1) || v > max || v == 0)
		return NULL;
	*out = (size_t)v;
	return end;
}

/* "wisp-bundle 1 M S" (the line without its '\n', NUL-terminated). */
/* The line quoted in a message, its bytes escaped: it comes from the bundle, and
 * `wispctl update apply URL` prints the message on root's terminal. */
static const char *quoted(const char *s, size_t max, char out[4 * UPD_PREAMBLE_MAX + 1])
{
	return text_escaped(s, strnlen(s, max), out, 4 * UPD_PREAMBLE_MAX + 1);
}

static int preamble(const char *line, struct upd_head *h, struct err *e)
{
	static const char magic[] = UPD_MAGIC " 1 ";
	const char *p = line;
	char q[4 * UPD_PREAMBLE_MAX + 1];

	if (strncmp(line, UPD_MAGIC " ", sizeof(UPD_MAGIC)) != 0)
		return err_set(e, 0, "%s: not a Wisp update bundle", h->name);
	if (strncmp(line, magic, sizeof(magic) - 1) != 0)
		return err_set(e, 0, "%s: bundle framing \"%s\" is not version 1", h->name,
			       quoted(line + sizeof(UPD_MAGIC), 20, q));
	p += sizeof(magic) - 1;
	p = frame_len(p, UPD_MANIFEST_MAX, &h->manifest_len);
	if (p && *p++ == ' ')
		p = frame_len(p, UPD_MINISIG_MAX, &h->sig_len);
	else
		p = NULL;
	if (!p || *p)
		return err_set(e, 0,
			       "%s: bad framing \"%s\" (manifest of 1 to %d bytes, signature of "
			       "1 to %d)",
			       h->name, quoted(line, UPD_PREAMBLE_MAX, q), UPD_MANIFEST_MAX,
			       UPD_MINISIG_MAX);
	return 0;
}

static int head_start(struct upd_head *h, const char *name, const char *line, size_t n,
		      struct err *e)
{
	char copy[UPD_PREAMBLE_MAX + 1];

	memset(h, 0, sizeof(*h));
	h->name = name;
	memcpy(copy, line, n);
	copy[n] = '\0';
	if (preamble(copy, h, e) < 0)
		return -1;
	h->len = n + 1 + h->manifest_len + h->sig_len;
	return 0;
}

static int head_sig(struct upd_head *h, struct err *e)
{
	char what[300];

	snprintf(what, sizeof(what), "%s: signature", h->name);
	return upd_sig_parse(h->sig_raw, h->sig_len, what, &h->sig, e);
}

int upd_head_parse(const char *buf, size_t len, const char *name, struct upd_head *h, struct err *e)
{
	const char *nl = memchr(buf, '\n', len < UPD_PREAMBLE_MAX + 1 ? len : UPD_PREAMBLE_MAX + 1);

	if (!nl) {
		memset(h, 0, sizeof(*h));
		return err_set(e, 0, "%s: no bundle framing line in the first %d bytes", name,
			       UPD_PREAMBLE_MAX + 1);
	}
	if (head_start(h, name, buf, (size_t)(nl - buf), e) < 0)
		return -1;
	if (len < h->len)
		return err_set(e, 0, "%s: truncated in its head (%zu of %llu bytes)", name, len,
			       (unsigned long long)h->len);
	memcpy(h->manifest_raw, nl + 1, h->manifest_len);
	memcpy(h->sig_raw, nl + 1 + h->manifest_len, h->sig_len);
	return head_sig(h, e);
}

/* The framing line from a stream, one byte at a time: nothing past its '\n' is read. */
static int read_preamble(int fd, const char *name, char *line, size_t *n, struct err *e)
{
	for (*n = 0; *n <= UPD_PREAMBLE_MAX; ++*n) {
		ssize_t r = read_full(fd, line + *n, 1);

		if (r < 0)
			return err_set(e, errno, "read %s", name);
		if (r == 0)
			return err_set(e, 0, "%s: empty or truncated in its framing line", name);
		if (line[*n] == '\n')
			return 0;
	}
	return err_set(e, 0, "%s: no bundle framing line in the first %d bytes", name,
		       UPD_PREAMBLE_MAX + 1);
}

static int read_exact(int fd, void *buf, size_t n, const char *name, const char *what,
		      struct err *e)
{
	ssize_t r = read_full(fd, buf, n);

	if (r < 0)
		return err_set(e, errno, "read %s", name);
	if ((size_t)r < n)
		return err_set(e, 0, "%s: truncated in its %s (%zd of %zu bytes)", name, what, r,
			       n);
	return 0;
}

int upd_head_read(int fd, const char *name, struct upd_head *h, struct err *e)
{
	char line[UPD_PREAMBLE_MAX + 1];
	size_t n;

	memset(h, 0, sizeof(*h));
	if (read_preamble(fd, name, line, &n, e) < 0 || head_start(h, name, line, n, e) < 0)
		return -1;
	if (read_exact(fd, h->manifest_raw, h->manifest_len, name, "manifest", e) < 0 ||
	    read_exact(fd, h->sig_raw, h->sig_len, name, "signature", e) < 0)
		return -1;
	return head_sig(h, e);
}

int upd_head_inspect(struct upd_head *h, struct err *e)
{
	char what[300];

	snprintf(what, sizeof(what), "%s: manifest", h->name);
	return upd_manifest_parse(h->manifest_raw, h->manifest_len, what, &h->m, e);
}

int upd_head_verify(struct upd_head *h, const struct upd_keys *keys, uint64_t now, struct err *e)
{
	char a[UPD_UTC_LEN], b[UPD_UTC_LEN];

	h->key = NULL;
	if (upd_sig_verify(&h->sig, h->manifest_raw, h->manifest_len, keys, h->name, &h->key, e) <
		0 ||
	    upd_head_inspect(h, e) < 0)
		return -1;
	if (now >= h->m.expires)
		return err_set(e, 0, "%s: expired at %s (now %s)", h->name,
			       upd_utc(h->m.expires, a), upd_utc(now, b));
	return 0;
}

static int part_check(const struct upd_head *h, const struct upd_part *p,
		      crypto_hash_sha256_state *st, uint64_t got, struct err *e)
{
	uint8_t sum[crypto_hash_sha256_BYTES];

	if (got < p->size)
		return err_set(e, 0, "%s: part %s: truncated (%llu of %llu bytes)", h->name,
			       p->name, (unsigned long long)got, (unsigned long long)p->size);
	crypto_hash_sha256_final(st, sum);
	if (sodium_memcmp(sum, p->sha256, sizeof(sum)) != 0)
		return err_set(e, 0, "%s: part %s: SHA-256 differs from the manifest's", h->name,
			       p->name);
	return 0;
}

int upd_part_copy(int in, const struct upd_head *h, const struct upd_part *p, int out,
		  const char *out_name, struct err *e)
{
	static uint8_t buf[CHUNK]; /* one copy at a time: the updater is one thread */
	crypto_hash_sha256_state st;
	uint64_t got = 0;

	crypto_hash_sha256_init(&st);
	while (got < p->size) {
		size_t want = p->size - got < CHUNK ? (size_t)(p->size - got) : CHUNK;
		ssize_t r = read_full(in, buf, want);

		if (r < 0)
			return err_set(e, errno, "read %s (part %s)", h->name, p->name);
		crypto_hash_sha256_update(&st, buf, (size_t)r);
		if (h->whole)
			crypto_hash_sha256_update(h->whole, buf, (size_t)r);
		if (out >= 0 && write_all(out, buf, (size_t)r) < 0)
			return err_set(e, errno, "write %s (part %s of %s)", out_name, p->name,
				       h->name);
		got += (uint64_t)r;
		if ((size_t)r < want)
			break;
	}
	return part_check(h, p, &st, got, e);
}

int upd_bundle_end(int in, const struct upd_head *h, struct err *e)
{
	char c;
	ssize_t r = read_full(in, &c, 1);

	if (r < 0)
		return err_set(e, errno, "read %s", h->name);
	if (r > 0)
		return err_set(e, 0, "%s: data after the last part (longer than its manifest says)",
			       h->name);
	return 0;
}

int upd_bundle_verify(int fd, const char *name, const struct upd_keys *keys, uint64_t now,
		      struct upd_head *h, struct err *e)
{
	if (upd_head_read(fd, name, h, e) < 0 || upd_head_verify(h, keys, now, e) < 0)
		return -1;
	for (int i = 0; i < UPD_NPARTS; i++)
		if (upd_part_copy(fd, h, &h->m.part[i], -1, NULL, e) < 0)
			return -1;
	return upd_bundle_end(fd, h, e);
}
