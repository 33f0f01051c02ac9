/* slotb.c: update.slot_b, an image whose slot B already holds an update bundle
 * (for tests, and for a first boot into a version the image was not built from).
 *
 * The bundle is read by the updater's own reader (init/update: one format, one
 * parser), trusted as the device would trust it: signed by update.key, not
 * expired, the image's variant, each part's SHA-256 checked as it is copied out.
 * Its kernel becomes /B/vmlinuz, its root ROOT-B, and its manifest /B/slot.cfg.
 */
#include "image-builder.h"
#include "../init/update/update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int from_init(struct ib_err *err, const struct err *e, const char *what)
{
	return ib_err_set(err, 0, "update.slot_b%s%s: %s", *what ? " " : "", what, e->msg);
}

/* Every key of update.key, as the device's /etc/wisp/update-keys holds them. */
static int trust(const struct ib_spec *spec, struct upd_keys *keys, struct ib_err *err)
{
	keys->n = 0;
	for (size_t i = 0; i < spec->nupdate_keys; i++) {
		const char *key = spec->update_keys[i];
		char *text = NULL;
		size_t len;
		struct err e;
		int ret = ib_read_file(key, &text, &len, err);

		if (ret == 0 && upd_pubkey_parse(text, len, key, &keys->key[keys->n++], &e) < 0)
			ret = from_init(err, &e, key);
		free(text);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int copy_part(int in, const struct upd_head *h, int id, const char *out, struct ib_err *err)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct err e;
	int ret = 0;

	if (fd < 0)
		return ib_err_set(err, errno, "create %s", out);
	if (upd_part_copy(in, h, &h->m.part[id], fd, out, &e) < 0)
		ret = from_init(err, &e, h->name);
	if (close(fd) < 0 && ret == 0)
		ret = ib_err_set(err, errno, "close %s", out);
	return ret;
}

_Static_assert(sizeof(((struct ib_slotb *)0)->version) == UPD_VERSION_MAX,
	       "update.slot_b keeps a bundle's version whole");

static void take_manifest(const struct upd_manifest *m, struct ib_slotb *sb)
{
	const struct upd_verity *v = &m->verity;

	snprintf(sb->version, sizeof(sb->version), "%s", m->version_str);
	sb->cmdline = ib_strdup(m->cmdline);
	sb->verity.data_block_size = v->data_block_size;
	sb->verity.hash_block_size = v->hash_block_size;
	sb->verity.data_blocks = v->data_blocks;
	sb->verity.hash_start_block = v->hash_start_block;
	sb->verity.total_size = m->part[UPD_ROOT].size;
	memcpy(sb->verity.root_hash, v->root_hash, sizeof(sb->verity.root_hash));
	memcpy(sb->verity.salt, v->salt, sizeof(sb->verity.salt));
}

int ib_slotb_unpack(const struct ib_spec *spec, const char *kernel, const char *root,
		    struct ib_slotb *sb, struct ib_err *err)
{
	static struct upd_keys keys;
	static struct upd_head h;
	const char *path = spec->update_slot_b;
	struct err e;
	int in, ret;

	if (!spec->nupdate_keys)
		return ib_err_set(err, 0,
				  "update.slot_b needs update.key, the key it is signed with");
	if (trust(spec, &keys, err) < 0)
		return -1;
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ib_err_set(err, errno, "update.slot_b: open %s", path);
	ret = upd_head_read(in, path, &h, &e) < 0 ||
		      upd_head_verify(&h, &keys, (uint64_t)time(NULL), &e) < 0
		  ? from_init(err, &e, "")
		  : 0;
	if (ret == 0 && strcmp(h.m.variant, spec->name) != 0)
		ret = ib_err_set(err, 0, "update.slot_b %s: variant %s, the image is %s", path,
				 h.m.variant, spec->name);
	if (ret == 0)
		ret = copy_part(in, &h, UPD_KERNEL, kernel, err);
	if (ret == 0)
		ret = copy_part(in, &h, UPD_ROOT, root, err);
	if (ret == 0 && upd_bundle_end(in, &h, &e) < 0)
		ret = from_init(err, &e, "");
	close(in);
	if (ret == 0)
		take_manifest(&h.m, sb);
	return ret;
}
