/* verity.c: the dm-verity hash tree of ROOT, appended to its erofs.
 *
 * Debian's `veritysetup format` (cryptsetup-bin) writes the tree: it runs
 * unprivileged on a plain file and is deterministic once the salt is given.
 * No superblock: the kernel takes every parameter from the slot's command
 * line (dm-mod.create=), so the partition holds the data blocks and, right
 * after them, the tree; nothing else has to be trusted on the disk.
 */
#include "image-builder.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Reproducible and distinct per image and version, never chosen at random. */
static void derive_salt(struct ib_verity *v, const char *name)
{
	uuid_t half[2];

	ib_uuid_derive(half[0], name, "root/verity-salt-1/" WISP_VERSION);
	ib_uuid_derive(half[1], name, "root/verity-salt-2/" WISP_VERSION);
	for (int i = 0; i < 32; i++)
		snprintf(v->salt + 2 * i, 3, "%02x", half[i / 16][i % 16]);
}

static bool is_hex(const char *s, size_t len)
{
	return strspn(s, "0123456789abcdef") == len && s[len] == '\0';
}

/* "Root hash:      <hex>" in veritysetup's report. */
static int parse_root_hash(struct ib_verity *v, const char *out, struct ib_err *err)
{
	const char *p = strstr(out, "\nRoot hash:");
	char hash[sizeof(v->root_hash) + 1];

	if (!p || sscanf(p + 11, " %64s", hash) != 1 || !is_hex(hash, 64))
		return ib_err_set(err, 0, "veritysetup format: no root hash in its output");
	memcpy(v->root_hash, hash, sizeof(v->root_hash));
	return 0;
}

int ib_verity_format(const char *img, const char *name, uint64_t max_size, struct ib_verity *v,
		     struct ib_err *err)
{
	char salt[80], offset[48], blocks[48], human[2][32], out[4096];
	const char *argv[] = {"veritysetup",
			      "format",
			      "--no-superblock",
			      "--hash=sha256",
			      "--data-block-size=4096",
			      "--hash-block-size=4096",
			      salt,
			      offset,
			      blocks,
			      img,
			      img,
			      NULL};
	uint64_t size;

	if (ib_file_size(img, &size, NULL, err) < 0)
		return -1;
	if (size % IB_VERITY_BLOCK)
		return ib_err_set(err, 0, "ROOT (erofs) is %llu bytes, not whole 4 KiB blocks",
				  (unsigned long long)size);
	memset(v, 0, sizeof(*v));
	derive_salt(v, name);
	v->data_blocks = size / IB_VERITY_BLOCK;
	v->data_block_size = v->hash_block_size = IB_VERITY_BLOCK;
	v->hash_start_block = v->data_blocks; /* in hash blocks, the same 4 KiB */
	snprintf(salt, sizeof(salt), "--salt=%s", v->salt);
	snprintf(offset, sizeof(offset), "--hash-offset=%llu", (unsigned long long)size);
	snprintf(blocks, sizeof(blocks), "--data-blocks=%llu", (unsigned long long)v->data_blocks);
	if (ib_run_out(argv, NULL, out, sizeof(out), NULL, 0, err) < 0 ||
	    parse_root_hash(v, out, err) < 0 || ib_file_size(img, &v->total_size, NULL, err) < 0)
		return ib_err_ctx(err, "ROOT's verity tree");
	if (v->total_size > max_size)
		return ib_err_set(err, 0,
				  "ROOT with its verity tree is %s, larger than disk.root_size %s",
				  ib_human_size(v->total_size, human[0], sizeof(human[0])),
				  ib_human_size(max_size, human[1], sizeof(human[1])));
	return 0;
}

/* build/wisp.verity: what a bundle carries (docs/update-bundle.md). */
char *ib_verity_text(const struct ib_verity *v)
{
	return ib_asprintf("hash=sha256\ndata_block_size=%u\nhash_block_size=%u\n"
			   "data_blocks=%llu\nhash_start_block=%llu\nroot_hash=%.64s\nsalt=%.64s\n",
			   IB_VERITY_BLOCK, IB_VERITY_BLOCK, (unsigned long long)v->data_blocks,
			   (unsigned long long)v->hash_start_block, v->root_hash, v->salt);
}
