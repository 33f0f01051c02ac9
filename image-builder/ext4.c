/* ext4.c: the STATE filesystem, made into a file by mke2fs.
 *
 * Reproducibility: -U and hash_seed come from the spec name, and
 * E2FSPROGS_FAKE_TIME replaces every timestamp mke2fs would take from the
 * clock. 4 KiB blocks (mke2fs picks 1 KiB for a small "small" fs) so that
 * init can grow STATE to the whole disk at first boot. With a staged
 * tree (baked images), mke2fs -d copies it in, sorted by name; bake.c
 * fixes the owners and times it copies from the host.
 */
#include "image-builder.h"

#include <string.h>

int ib_ext4_build(const char *out, uint64_t size, const uuid_t uuid, const uuid_t hash_seed,
		  time_t epoch, const char *dir, struct ib_err *err)
{
	char uuid_s[37], seed_s[37], ext[128], blocks[32], fake[64];
	const char *env[] = {fake, NULL};
	const char *argv[] = {"mke2fs", "-q",	"-F", "-t", "ext4", "-b", "4096", "-L",	  "STATE",
			      "-U",	uuid_s, "-E", ext,  "-d",   dir,  out,	  blocks, NULL};

	uuid_unparse_lower(uuid, uuid_s);
	uuid_unparse_lower(hash_seed, seed_s);
	snprintf(ext, sizeof(ext), "hash_seed=%s,root_owner=0:0", seed_s);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long)(size / 4096));
	snprintf(fake, sizeof(fake), "E2FSPROGS_FAKE_TIME=%lld", (long long)epoch);
	if (!dir) /* no -d DIR: shift OUT BLOCKS NULL over it */
		memmove(&argv[13], &argv[15], 3 * sizeof(argv[0]));
	if (ib_run(argv, env, err) < 0)
		return ib_err_ctx(err, "STATE (ext4)");
	return 0;
}
