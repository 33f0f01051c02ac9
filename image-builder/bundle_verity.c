/* bundle_verity.c: the verity file `image-builder build` writes beside the
 * image (build/wisp.verity), read for an update bundle's manifest
 * (docs/update-bundle.md).
 *
 * KEY=VALUE lines, each of the seven keys exactly once, nothing else: the
 * values go into a signed manifest and from there into the kernel's
 * dm-verity table, so a file that does not say exactly what the bundle
 * needs is an error here, on the build host, not on a device. */
#include "image-builder.h"

#include <errno.h>
#include <string.h>

static const char *const keys[] = {"hash",	  "data_block_size",  "hash_block_size",
				   "data_blocks", "hash_start_block", "root_hash",
				   "salt"};

/* Decimal without sign or leading zero. */
static bool decimal(const char *v, uint64_t *out)
{
	char *end;

	if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1]))
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool hex64(const char *v)
{
	return strlen(v) == 64 && strspn(v, "0123456789abcdef") == 64;
}

static bool block_size(uint64_t n)
{
	return n >= 512 && n <= 4096 && (n & (n - 1)) == 0;
}

/* One value into v; NULL or what is wrong with it. */
static const char *take(struct ib_verity *v, size_t k, const char *val)
{
	uint64_t n = 0;

	switch (k) {
	case 0:
		return strcmp(val, "sha256") == 0 ? NULL : "not sha256";
	case 1:
	case 2:
		if (!decimal(val, &n) || !block_size(n))
			return "not a power of two from 512 to 4096";
		*(k == 1 ? &v->data_block_size : &v->hash_block_size) = (uint32_t)n;
		return NULL;
	case 3:
	case 4:
		if (!decimal(val, &n))
			return "not a decimal number";
		*(k == 3 ? &v->data_blocks : &v->hash_start_block) = n;
		return NULL;
	default:
		if (!hex64(val))
			return "not 64 lower-case hex digits";
		strcpy(k == 5 ? v->root_hash : v->salt, val);
		return NULL;
	}
}

static int line(struct ib_verity *v, char *s, unsigned no, unsigned *seen, const char *name,
		struct ib_err *err)
{
	char *eq = strchr(s, '=');
	const char *bad;
	size_t k;

	if (!eq)
		return ib_err_set(err, 0, "%s:%u: not KEY=VALUE", name, no);
	*eq = '\0';
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], s) != 0; k++)
		;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return ib_err_set(err, 0, "%s:%u: unknown key %s", name, no, s);
	if (*seen & (1u << k))
		return ib_err_set(err, 0, "%s:%u: %s given twice", name, no, s);
	*seen |= 1u << k;
	bad = take(v, k, eq + 1);
	if (bad)
		return ib_err_set(err, 0, "%s:%u: %s=%s: %s", name, no, s, eq + 1, bad);
	return 0;
}

int ib_verity_parse(const char *text, size_t len, const char *name, struct ib_verity *v,
		    struct ib_err *err)
{
	char *copy = malloc(len + 1), *p, *nl;
	unsigned no = 0, seen = 0;
	int ret = 0;

	if (!copy)
		return ib_err_set(err, ENOMEM, "%s", name);
	memcpy(copy, text, len);
	copy[len] = '\0';
	memset(v, 0, sizeof(*v));
	for (p = copy; ret == 0 && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1; /* a last line without '\n' */
		else
			*nl = '\0';
		no++;
		ret = line(v, p, no, &seen, name, err);
	}
	for (size_t k = 0; ret == 0 && k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!(seen & (1u << k)))
			ret = ib_err_set(err, 0, "%s: no %s=", name, keys[k]);
	free(copy);
	return ret;
}

int ib_verity_load(const char *path, struct ib_verity *v, struct ib_err *err)
{
	char *text;
	size_t len;
	int ret;

	if (ib_read_file(path, &text, &len, err) < 0)
		return -1;
	if (memchr(text, '\0', len))
		ret = ib_err_set(err, 0, "%s: a NUL byte", path);
	else
		ret = ib_verity_parse(text, len, path, v, err);
	free(text);
	return ret;
}
