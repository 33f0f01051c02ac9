/*
 * manifest.c: a bundle's manifest (docs/update-bundle.md, "Manifest").
 *
 * "key: value" lines, one table of keys, each exactly once, in any order;
 * an unknown key is an error, not something to skip: a newer format that
 * adds a key that matters (a part, a check) must not be read by an older
 * updater as if it were not there. Values are printable ASCII with hard
 * bounds, so the parser holds no state beyond one line, and every number
 * is checked before it is used for a size or an offset.
 */
#include "update.h"

#include <sodium.h>
#include <string.h>

#define LINE_MAX_LEN (UPD_CMDLINE_MAX + 64)

/* One key's reader: NULL, or what is wrong with the value. arg: a part index. */
typedef const char *(*field_fn)(struct upd_manifest *m, const char *v, int arg);

/* Decimal, no sign, no leading zero, at most max. */
static const char *dec(const char *v, uint64_t max, uint64_t *out)
{
	const char *end = dec_scan(v, out);

	if (!end || *end || (v[0] == '0' && v[1]))
		return "not a decimal number";
	if (*out > max)
		return "too large";
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly UPD_HEX_HASH lower-case hex digits (one spelling per hash); bytes: NULL or 32. */
static const char *hex_hash(const char *v, uint8_t *bytes)
{
	size_t i;

	for (i = 0; v[i] && i < UPD_HEX_HASH + 1; i++)
		if (hexval(v[i]) < 0)
			return "not lower-case hex";
	if (i != UPD_HEX_HASH)
		return "not 64 hex digits";
	for (i = 0; bytes && i < UPD_HEX_HASH / 2; i++)
		bytes[i] = (uint8_t)(hexval(v[2 * i]) << 4 | hexval(v[2 * i + 1]));
	return NULL;
}

static const char *f_format(struct upd_manifest *m, const char *v, int arg)
{
	uint64_t n;
	const char *bad = dec(v, 1000, &n);

	(void)arg;
	if (bad)
		return bad;
	if (n < 1 || n > UPD_FORMAT)
		return "a format this updater does not read (it reads 1 and 2)";
	m->format = (unsigned)n;
	return NULL;
}

static const char *f_version(struct upd_manifest *m, const char *v, int arg)
{
	struct err e;

	(void)arg;
	_Static_assert(UPD_VERSION_LEN == 32, "the message below says 32");
	if (strlen(v) > UPD_VERSION_LEN)
		return "longer than 32 characters (MAJOR.MINOR.PATCH, each below 2^32)";
	if (upd_version_parse(v, &m->version, &e) < 0)
		return "not MAJOR.MINOR.PATCH";
	memcpy(m->version_str, v, strlen(v) + 1);
	return NULL;
}

/* The image spec's name: what `update apply` compares with the running variant. */
static const char *f_variant(struct upd_manifest *m, const char *v, int arg)
{
	size_t n = strlen(v);

	(void)arg;
	if (n == 0 || n > UPD_VARIANT_MAX)
		return "empty or longer than 64";
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n || v[0] == '.' ||
	    v[0] == '-' || v[0] == '_')
		return "not [a-z0-9][a-z0-9_.-]*";
	memcpy(m->variant, v, n + 1);
	return NULL;
}

/* Seconds: below 2^40 (year 36812), so any sum or print of them is safe. */
static const char *f_time(struct upd_manifest *m, const char *v, int arg)
{
	return dec(v, (1ull << 40), arg ? &m->expires : &m->created);
}

/* The slot's rules (slotcfg.c), which image-builder's writer applies too. */
static const char *f_cmdline(struct upd_manifest *m, const char *v, int arg)
{
	static char why[160]; /* the message names the argument; one parse at a time */
	const char *bad = slot_cmdline_check(v, why, sizeof(why));

	(void)arg;
	if (bad)
		return bad;
	memcpy(m->cmdline, v, strlen(v) + 1);
	return NULL;
}

static const char *f_size(struct upd_manifest *m, const char *v, int arg)
{
	const char *bad =
	    dec(v, arg == UPD_KERNEL ? UPD_KERNEL_MAX : UPD_ROOT_MAX, &m->part[arg].size);

	if (!bad && m->part[arg].size == 0)
		bad = "zero";
	return bad;
}

static const char *f_sha256(struct upd_manifest *m, const char *v, int arg)
{
	return hex_hash(v, m->part[arg].sha256);
}

static const char *f_vhash(struct upd_manifest *m, const char *v, int arg)
{
	(void)m, (void)arg;
	return strcmp(v, "sha256") == 0 ? NULL : "not sha256";
}

/* dm-verity takes 512 bytes up to the page size; Wisp's kernels have 4 KiB pages. */
static const char *f_block(struct upd_manifest *m, const char *v, int arg)
{
	uint64_t n;
	const char *bad = dec(v, 4096, &n);

	if (bad)
		return bad;
	if (n < 512 || (n & (n - 1)))
		return "not a power of two from 512 to 4096";
	*(arg ? &m->verity.hash_block_size : &m->verity.data_block_size) = (uint32_t)n;
	return NULL;
}

static const char *f_blocks(struct upd_manifest *m, const char *v, int arg)
{
	return dec(v, UPD_ROOT_MAX / 512,
		   arg ? &m->verity.hash_start_block : &m->verity.data_blocks);
}

static const char *f_vhex(struct upd_manifest *m, const char *v, int arg)
{
	const char *bad = hex_hash(v, NULL);

	if (!bad)
		memcpy(arg ? m->verity.salt : m->verity.root_hash, v, UPD_HEX_HASH + 1);
	return bad;
}

/* base64 (RFC 4648, padded) of one OpenPGP signature, as gpg --detach-sign writes it */
static const char *f_boot_sig(struct upd_manifest *m, const char *v, int arg)
{
	struct upd_boot_sig *s = &m->boot_sig[arg];

	if (sodium_base642bin(s->data, sizeof(s->data), v, strlen(v), NULL, &s->len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return "not base64 of at most 768 bytes";
	/* an OpenPGP packet of tag 2 (signature), old or new format */
	if (s->len < 2 || !(s->data[0] & 0x80) ||
	    ((s->data[0] & 0x40) ? (s->data[0] & 0x3f) : (s->data[0] >> 2 & 0x0f)) != 2)
		return "not an OpenPGP signature packet";
	return NULL;
}

static const struct field {
	const char *key;
	field_fn read;
	int arg;
	bool empty_ok;
	unsigned format; /* the first format with this key */
} fields[] = {
    {"format", f_format, 0, false, 1},
    {"version", f_version, 0, false, 1},
    {"variant", f_variant, 0, false, 1},
    {"created", f_time, 0, false, 1},
    {"expires", f_time, 1, false, 1},
    {"cmdline", f_cmdline, 0, true, 1},
    {"kernel.size", f_size, UPD_KERNEL, false, 1},
    {"kernel.sha256", f_sha256, UPD_KERNEL, false, 1},
    {"root.size", f_size, UPD_ROOT, false, 1},
    {"root.sha256", f_sha256, UPD_ROOT, false, 1},
    {"root.verity.hash", f_vhash, 0, false, 1},
    {"root.verity.data_block_size", f_block, 0, false, 1},
    {"root.verity.hash_block_size", f_block, 1, false, 1},
    {"root.verity.data_blocks", f_blocks, 0, false, 1},
    {"root.verity.hash_start_block", f_blocks, 1, false, 1},
    {"root.verity.root_hash", f_vhex, 0, false, 1},
    {"root.verity.salt", f_vhex, 1, false, 1},
    {"boot.kernel.sig", f_boot_sig, UPD_SIG_KERNEL, false, 2},
    {"boot.slot_a.sig", f_boot_sig, UPD_SIG_SLOT_A, false, 2},
    {"boot.slot_b.sig", f_boot_sig, UPD_SIG_SLOT_B, false, 2},
};

struct scan {
	const char *name;
	unsigned line;
	uint32_t seen; /* bit i: fields[i] */
};

static const struct field *field_find(const char *key, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (strlen(fields[i].key) == n && memcmp(fields[i].key, key, n) == 0)
			return &fields[i];
	return NULL;
}

/* "key: value" or "key:" (an empty value), printable ASCII, no trailing space. */
static int one_line(struct upd_manifest *m, struct scan *s, char *line, size_t n, struct err *e)
{
	char *colon = memchr(line, ':', n);
	const struct field *f;
	const char *v, *bad;

	for (size_t i = 0; i < n; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return err_set(e, 0, "%s:%u: a byte that is not printable ASCII", s->name,
				       s->line);
	if (!colon || (colon[1] && colon[1] != ' ') || (colon[1] == ' ' && colon[2] == ' ') ||
	    line[n - 1] == ' ')
		return err_set(e, 0, "%s:%u: not \"key: value\"", s->name, s->line);
	f = field_find(line, (size_t)(colon - line));
	if (!f)
		return err_set(e, 0, "%s:%u: unknown key \"%.*s\"", s->name, s->line,
			       (int)(colon - line > 64 ? 64 : colon - line), line);
	if (s->seen & (1u << (f - fields)))
		return err_set(e, 0, "%s:%u: %s given twice", s->name, s->line, f->key);
	s->seen |= 1u << (f - fields);
	v = colon[1] ? colon + 2 : "";
	if (!*v && !f->empty_ok)
		return err_set(e, 0, "%s:%u: %s: empty", s->name, s->line, f->key);
	bad = f->read(m, v, f->arg);
	if (bad)
		return err_set(e, 0, "%s:%u: %s \"%.64s\": %s", s->name, s->line, f->key, v, bad);
	return 0;
}

/* The layout veritysetup format --no-superblock gives: the data, then the tree, whole
 * blocks, the root part ending with the tree. A manifest that says otherwise would make
 * the kernel read the tree at another offset than the one the hashes were made for. */
static int verity_layout(const struct upd_manifest *m, const char *name, struct err *e)
{
	const struct upd_verity *v = &m->verity;
	uint64_t data = v->data_blocks * v->data_block_size;
	uint64_t tree = v->hash_start_block * v->hash_block_size;
	uint64_t root = m->part[UPD_ROOT].size;

	if (v->data_blocks == 0 || data > tree || tree >= root || root % v->hash_block_size)
		return err_set(
		    e, 0,
		    "%s: verity layout (%llu data blocks of %u, tree at block %llu of %u) "
		    "does not fit the root part of %llu bytes",
		    name, (unsigned long long)v->data_blocks, v->data_block_size,
		    (unsigned long long)v->hash_start_block, v->hash_block_size,
		    (unsigned long long)root);
	return 0;
}

/* Every key of the manifest's format, none of a later one (format may be on any line). */
static int complete(const struct upd_manifest *m, const struct scan *s, struct err *e)
{
	if (!(s->seen & 1u))
		return err_set(e, 0, "%s: no format", s->name);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		bool in_format = fields[i].format <= m->format;

		if (!(s->seen & (1u << i)) && in_format)
			return err_set(e, 0, "%s: no %s", s->name, fields[i].key);
		if ((s->seen & (1u << i)) && !in_format)
			return err_set(e, 0, "%s: %s is a key of format %u, not of format %u",
				       s->name, fields[i].key, fields[i].format, m->format);
	}
	if (m->expires < m->created)
		return err_set(e, 0, "%s: expires before it was created", s->name);
	return verity_layout(m, s->name, e);
}

int upd_manifest_parse(const char *text, size_t len, const char *name, struct upd_manifest *m,
		       struct err *e)
{
	struct scan s = {name, 0, 0};
	const char *p = text, *end = text + len;
	char line[LINE_MAX_LEN + 1];

	memset(m, 0, sizeof(*m));
	m->part[UPD_KERNEL].name = "kernel";
	m->part[UPD_ROOT].name = "root";
	if (len > UPD_MANIFEST_MAX)
		return err_set(e, 0, "%s: %zu bytes, over the limit of %d", name, len,
			       UPD_MANIFEST_MAX);
	if (len == 0 || text[len - 1] != '\n')
		return err_set(e, 0, "%s: does not end with a newline", name);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		s.line++;
		if (n == 0 || n > LINE_MAX_LEN)
			return err_set(e, 0, "%s:%u: %s line", name, s.line,
				       n ? "too long a" : "an empty");
		memcpy(line, p, n);
		line[n] = '\0';
		if (one_line(m, &s, line, n, e) < 0)
			return -1;
		p = nl + 1;
	}
	return complete(m, &s, e);
}
