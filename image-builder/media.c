/*
 * media.c: what the live media (iso.c, pxe.c) take from a Wisp disk image:
 * its ESP and ROOT-A, found by name in the primary GPT (gpt.c writes them),
 * files of the ESP read in place by mtools, and slot A: its kernel, its
 * /A/slot.cfg and ROOT-A's bytes that verity reads (the erofs and its tree).
 */
#include "iso.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct part {
	uint64_t off, size; /* bytes into the image */
};

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Does a GPT entry's UTF-16LE name say NAME (ASCII)? */
static bool named(const uint8_t *e, const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (e[56 + 2 * i] != (uint8_t)name[i] || e[57 + 2 * i])
			return false;
	return e[56 + 2 * i] == 0 && e[57 + 2 * i] == 0;
}

/* The ESP and ROOT-A of the image's primary GPT, by name. */
static int find_parts(int fd, const char *image, struct part *esp, struct part *root,
		      struct ib_err *err)
{
	uint8_t hdr[IB_SECTOR], e[IB_GPT_ENTRY_SIZE];
	uint64_t lba;
	uint32_t n, size;

	esp->size = root->size = 0;
	if (pread(fd, hdr, sizeof(hdr), IB_SECTOR) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "EFI PART", 8) != 0)
		return ib_err_set(err, 0, "%s: not a GPT disk image", image);
	lba = get_le(hdr + 72, 8), n = (uint32_t)get_le(hdr + 80, 4);
	size = (uint32_t)get_le(hdr + 84, 4);
	for (uint32_t i = 0; i < n && i < IB_GPT_ENTRIES && size >= sizeof(e); i++) {
		struct part *p = NULL;

		if (pread(fd, e, sizeof(e), (off_t)(lba * IB_SECTOR + i * size)) !=
		    (ssize_t)sizeof(e))
			return ib_err_set(err, errno, "%s: read GPT entry %u", image, i);
		if (named(e, "ESP"))
			p = esp;
		else if (named(e, "ROOT-A"))
			p = root;
		if (p) {
			p->off = get_le(e + 32, 8) * IB_SECTOR;
			p->size = (get_le(e + 40, 8) + 1) * IB_SECTOR - p->off;
		}
	}
	if (!esp->size || !root->size)
		return ib_err_set(err, 0, "%s: no %s partition in its GPT", image,
				  esp->size ? "ROOT-A" : "ESP");
	return 0;
}

/* One file of the image's ESP, read where it lies (mtools' IMAGE@@OFFSET). */
static int esp_get(const char *image, const struct part *esp, const char *file, const char *dst,
		   struct ib_err *err)
{
	static const char *const env[] = {"MTOOLS_SKIP_CHECK=1", NULL};
	char *img = ib_asprintf("%s@@%llu", image, (unsigned long long)esp->off);
	const char *argv[] = {"mcopy", "-n", "-i", img, file, dst, NULL};
	int ret = ib_run(argv, env, err);

	free(img);
	return ret < 0 ? ib_err_ctx(err, "%s: the ESP's %s", image, file + 2) : 0;
}

/* ROOT-A's first LEN bytes as DST. */
static int copy_root(int fd, const char *image, const struct part *root, uint64_t len,
		     const char *dst, struct ib_err *err)
{
	static char buf[1 << 20];
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), ret = 0;

	if (out < 0)
		return ib_err_set(err, errno, "create %s", dst);
	for (uint64_t at = 0; at < len && ret == 0;) {
		size_t n = len - at < sizeof(buf) ? (size_t)(len - at) : sizeof(buf);

		ssize_t got = pread(fd, buf, n, (off_t)(root->off + at));

		if (got != (ssize_t)n)
			ret = ib_err_set(err, got < 0 ? errno : 0, "%s: ROOT-A: %s at byte %llu",
					 image, got < 0 ? "read error" : "the image ends",
					 (unsigned long long)at);
		else
			ret = ib_pwrite_all(out, buf, n, at, dst, err);
		at += n;
	}
	close(out);
	return ret;
}

int ib_media_slot_a(const char *image, const char *dir, const char *kernel, const char *root,
		    struct ib_iso_slot *s, uint64_t *root_len, struct ib_err *err)
{
	char *slotcfg = ib_path_join(dir, "slot.cfg"), *text = NULL;
	struct part esp, part;
	size_t len;
	int fd = open(image, O_RDONLY | O_CLOEXEC), ret = -1;

	memset(s, 0, sizeof(*s));
	if (fd < 0) {
		ib_err_set(err, errno, "open %s", image);
		goto out;
	}
	if (find_parts(fd, image, &esp, &part, err) < 0 ||
	    esp_get(image, &esp, "::/A/slot.cfg", slotcfg, err) < 0 ||
	    esp_get(image, &esp, "::/A/vmlinuz", kernel, err) < 0 ||
	    ib_read_file(slotcfg, &text, &len, err) < 0)
		goto out;
	if (ib_iso_slot_parse(text, s, err) < 0 || ib_iso_root_bytes(s->dm, root_len, err) < 0) {
		ib_err_ctx(err, "%s", image);
		goto out;
	}
	if (*root_len > part.size)
		ib_err_set(err, 0, "%s: ROOT-A: its tree ends at %llu bytes, past the partition",
			   image, (unsigned long long)*root_len);
	else
		ret = copy_root(fd, image, &part, *root_len, root, err);
out:
	if (ret < 0)
		ib_iso_slot_free(s);
	if (fd >= 0)
		close(fd);
	free(slotcfg), free(text);
	return ret;
}
