/*
 * slotcfg.c: a slot's kernel arguments (docs/update.md, "Where a slot's command
 * line lives"), rendered in this one place: image-builder writes both slots'
 * /X/slot.cfg and the direct-boot command line with it, the updater the slot a
 * bundle fills. Two renderings of one format drift apart (a panic= or waitfor
 * changed in one); a host would then boot its updated slot with other arguments
 * than a fresh image's.
 */
#include "update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *slot_dm(const struct upd_verity *v, const char *partuuid)
{
	char *s;

	/* one verity target over the whole data area, data and tree on the same
	 * partition (Documentation/admin-guide/device-mapper/verity.rst) */
	if (asprintf(&s,
		     SLOT_DM_NAME ",,,ro,0 %llu verity 1 PARTUUID=%s PARTUUID=%s %u %u %llu %llu "
				  "sha256 %.64s %.64s 1 restart_on_corruption",
		     (unsigned long long)v->data_blocks * (v->data_block_size / 512), partuuid,
		     partuuid, v->data_block_size, v->hash_block_size,
		     (unsigned long long)v->data_blocks, (unsigned long long)v->hash_start_block,
		     v->root_hash, v->salt) < 0)
		return NULL;
	return s;
}

char *slot_args(char slot, const char *partuuid, const char *cmdline)
{
	char *s;

	/* dm-mod.waitfor: a slow disk delays the boot instead of failing it; panic=: a
	 * crash reboots, and GRUB counts the try */
	if (asprintf(&s,
		     "dm-mod.waitfor=PARTUUID=%s root=/dev/dm-0 ro rootfstype=erofs wisp.slot=%c "
		     "panic=10%s%s",
		     partuuid, slot, *cmdline ? " " : "", cmdline) < 0)
		return NULL;
	return s;
}

char *slot_cfg(char slot, const char *partuuid, const struct upd_verity *v, const char *version,
	       const char *cmdline, const char *writer)
{
	char *dm = slot_dm(v, partuuid), *args = slot_args(slot, partuuid, cmdline);
	/* GRUB's single quotes are sh's: literal up to the next ', written '\'' */
	char *qdm = dm ? single_quoted(dm) : NULL, *qargs = args ? single_quoted(args) : NULL;
	char *cfg = NULL;

	if (qdm && qargs &&
	    asprintf(&cfg,
		     "# Slot %c's kernel arguments, read by /grub/grub.cfg: written by %s\n"
		     "# (docs/update.md).\n"
		     "set wisp_version=%s\nset wisp_dm=%s\nset wisp_args=%s\n",
		     slot, writer, version, qdm, qargs) < 0)
		cfg = NULL;
	free(dm), free(args), free(qdm), free(qargs);
	return cfg;
}

void slot_cfg_version(const char *cfg, char *out, size_t size)
{
	static const char key[] = "\nset wisp_version=";
	const char *p = strstr(cfg, key);

	*out = '\0';
	if (!p)
		return;
	p += sizeof(key) - 1;
	/* not necessarily ours: the ESP is anyone's who had the disk, and GRUB checks slot.cfg's
	 * signature (Secure Boot) only when it boots it */
	text_escaped(p, strcspn(p, "\n'"), out, size);
}
