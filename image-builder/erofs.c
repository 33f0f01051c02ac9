/* erofs.c: ROOT as an lz4hc-compressed erofs image (mkfs.erofs 1.5).
 *
 * Level 12 in 16 KiB physical clusters, file tails packed into their inodes
 * (kernel 5.17 or later reads both): 8% smaller than 4 KiB clusters at
 * lz4hc's default level (2 420 736 against 2 633 728 bytes for the default
 * image's ROOT), at no cost to the boot's critical path (bench/RESULTS.md).
 *
 * Reproducibility: -T fixes every inode's mtime and the build time, -U the
 * UUID; mkfs.erofs sorts directory entries itself; -x -1 keeps host xattrs
 * (SELinux labels of the build machine, say) out of the image.
 */
#include "image-builder.h"

#include <string.h>

int ib_erofs_build(const char *out, const char *dir, const uuid_t uuid, time_t epoch, bool all_root,
		   uint64_t max_size, struct ib_err *err)
{
	char uuid_s[37], ts[32], human[2][32];
	uint64_t size;
	const char *argv[14];
	size_t n = 0;

	uuid_unparse_lower(uuid, uuid_s);
	snprintf(ts, sizeof(ts), "%lld", (long long)epoch);
	argv[n++] = "mkfs.erofs";
	argv[n++] = "--quiet";
	argv[n++] = "-zlz4hc,12";
	argv[n++] = "-C16384";
	argv[n++] = "-Eztailpacking";
	argv[n++] = "-x-1";
	argv[n++] = "-T";
	argv[n++] = ts;
	argv[n++] = "-U";
	argv[n++] = uuid_s;
	if (all_root) /* else the owners were staged with lchown */
		argv[n++] = "--all-root";
	argv[n++] = out;
	argv[n++] = dir;
	argv[n] = NULL;
	if (ib_run(argv, NULL, err) < 0 || ib_file_size(out, &size, NULL, err) < 0)
		return ib_err_ctx(err, "ROOT (erofs)");
	if (size > max_size)
		return ib_err_set(err, 0, "ROOT (erofs) is %s, larger than disk.root_size %s",
				  ib_human_size(size, human[0], sizeof(human[0])),
				  ib_human_size(max_size, human[1], sizeof(human[1])));
	return 0;
}
