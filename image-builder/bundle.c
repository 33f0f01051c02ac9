/* bundle.c: `image-builder bundle`, the writer of signed update bundles
 * (docs/update-bundle.md; the reader is init/update/).
 *
 * The manifest is written here, signed by Debian's minisign (the operator's
 * own tool, run as they would run it), and the bundle is assembled in
 * stream order: framing, manifest, signature, kernel, root. Reproducible:
 * the manifest's times come from SOURCE_DATE_EPOCH, not the clock, and
 * minisign is given both comments, so that its output, an Ed25519
 * signature (deterministic), is the same for the same inputs.
 *
 * With a spec that has secure_boot, the bundle is format 2: the manifest also
 * carries GRUB's signatures (secboot.c) of the kernel and of the slot.cfg the
 * updater will write into slot A and into slot B, rendered here with the
 * updater's own renderer and words (slotcfg.c), byte for byte what it writes. */
#include "image-builder.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_CHUNK (1 << 20)

struct part {
	const char *name, *path;
	uint64_t size;
	uint8_t sha256[crypto_hash_sha256_BYTES];
};

/* Size and SHA-256 of a file, read once. */
static int part_hash(struct part *p, struct ib_err *err)
{
	crypto_hash_sha256_state st;
	char *buf = malloc(COPY_CHUNK);
	int fd = open(p->path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0 || !buf) {
		ret = ib_err_set(err, fd < 0 ? errno : ENOMEM, "open %s", p->path);
		goto out;
	}
	crypto_hash_sha256_init(&st);
	p->size = 0;
	while ((n = read(fd, buf, COPY_CHUNK)) > 0) {
		crypto_hash_sha256_update(&st, (const uint8_t *)buf, (size_t)n);
		p->size += (uint64_t)n;
	}
	if (n < 0)
		ret = ib_err_set(err, errno, "read %s", p->path);
	else if (p->size == 0)
		ret = ib_err_set(err, 0, "%s: empty (the %s part)", p->path, p->name);
	crypto_hash_sha256_final(&st, p->sha256);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The root part must be what the verity file describes: the data, then the tree,
 * ending the file (the updater checks the same on the device). */
static int root_layout(const struct part *root, const struct ib_verity *v, struct ib_err *err)
{
	uint64_t data = v->data_blocks * v->data_block_size;
	uint64_t tree = v->hash_start_block * v->hash_block_size;

	if (v->data_blocks == 0 || data > tree || tree >= root->size ||
	    root->size % v->hash_block_size)
		return ib_err_set(err, 0,
				  "%s (%llu bytes) is not the erofs with its verity tree that the "
				  "verity file describes (tree at byte %llu)",
				  root->path, (unsigned long long)root->size,
				  (unsigned long long)tree);
	return 0;
}

/* The manifest, keys in the documented order (docs/update-bundle.md); sigs: format 2's
 * lines, or "". */
static char *manifest(const struct ib_bundle_opts *o, const struct part parts[2],
		      const struct ib_verity *v, time_t created, uint64_t expires, const char *sigs)
{
	char k[65], r[65];

	hex(parts[0].sha256, 32, k);
	hex(parts[1].sha256, 32, r);
	return ib_asprintf("format: %d\nversion: %s\nvariant: %s\ncreated: %lld\nexpires: %llu\n"
			   "cmdline%s%s\nkernel.size: %llu\nkernel.sha256: %s\nroot.size: %llu\n"
			   "root.sha256: %s\nroot.verity.hash: sha256\n"
			   "root.verity.data_block_size: %u\nroot.verity.hash_block_size: %u\n"
			   "root.verity.data_blocks: %llu\nroot.verity.hash_start_block: %llu\n"
			   "root.verity.root_hash: %s\nroot.verity.salt: %s\n%s",
			   *sigs ? 2 : 1, o->version, o->variant, (long long)created,
			   (unsigned long long)expires, o->cmdline[0] ? ": " : ":", o->cmdline,
			   (unsigned long long)parts[0].size, k, (unsigned long long)parts[1].size,
			   r, v->data_block_size, v->hash_block_size,
			   (unsigned long long)v->data_blocks,
			   (unsigned long long)v->hash_start_block, v->root_hash, v->salt, sigs);
}

/* One "key: base64" line of the signature in file sig. */
static char *sig_line(const char *key, const char *sig, struct ib_err *err)
{
	char *data = NULL, *b64 = NULL, *line = NULL;
	size_t len, n;

	if (ib_read_file(sig, &data, &len, err) < 0)
		return NULL;
	n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(n);
	if (!b64)
		ib_err_set(err, ENOMEM, "%s", sig);
	else
		line = ib_asprintf("%s: %s\n", key,
				   sodium_bin2base64(b64, n, (const unsigned char *)data, len,
						     sodium_base64_VARIANT_ORIGINAL));
	free(data), free(b64);
	return line;
}

/* FILE (the kernel or slot X's slot.cfg) signed into the private DIR, not beside FILE
 * (an input, maybe in a directory not ours): KEY's line. */
static char *boot_sig(const struct ib_secboot *sb, const char *key, const char *file,
		      const char *dir, struct ib_err *err)
{
	char *sig = ib_asprintf("%s/%s", dir, key), *line = NULL;

	if (ib_sb_detach_sign(sb, file, sig, err) == 0)
		line = sig_line(key, sig, err);
	free(sig);
	return line;
}

/* slot X's slot.cfg as the updater writes it into the partition the spec's name derives. */
static char *render_slot_cfg(const struct ib_bundle_opts *o, const struct ib_verity *v, char slot,
			     const char *dir, struct ib_err *err)
{
	char part[] = "ROOT-A", partuuid[37], *writer, *cfg, *path = NULL;
	uuid_t u;

	part[5] = slot;
	ib_part_uuid(u, o->secure->name, part);
	uuid_unparse_lower(u, partuuid);
	/* the updater's words (init/update/apply.c) */
	writer = ib_asprintf("the updater from a bundle of %s", o->variant);
	cfg = ib_slot_cfg(slot, partuuid, v, o->version, o->cmdline, writer);
	path = ib_asprintf("%s/slot-%c.cfg", dir, slot);
	if (ib_write_file(path, cfg, strlen(cfg), 0644, err) < 0) {
		free(path);
		path = NULL;
	}
	free(writer), free(cfg);
	return path;
}

/* Format 2's three lines: the kernel's, slot A's and slot B's slot.cfg signatures. */
static char *boot_sigs(const struct ib_bundle_opts *o, const struct ib_verity *v, const char *dir,
		       struct ib_err *err)
{
	struct ib_secboot sb = {0};
	char *lines[3] = {NULL}, *a = NULL, *b = NULL, *all = NULL;

	if (ib_sb_begin(&sb, o->secure, dir, o->created, err) == 0 &&
	    (lines[0] = boot_sig(&sb, "boot.kernel.sig", o->kernel, dir, err)) &&
	    (a = render_slot_cfg(o, v, 'A', dir, err)) &&
	    (lines[1] = boot_sig(&sb, "boot.slot_a.sig", a, dir, err)) &&
	    (b = render_slot_cfg(o, v, 'B', dir, err)) &&
	    (lines[2] = boot_sig(&sb, "boot.slot_b.sig", b, dir, err)))
		all = ib_asprintf("%s%s%s", lines[0], lines[1], lines[2]);
	ib_sb_end(&sb);
	free(lines[0]), free(lines[1]), free(lines[2]), free(a), free(b);
	return all;
}

/* minisign -S, prehashed (its default). Both comments given: nothing of the clock or
 * of file names gets into the signature file. */
static int sign(const struct ib_bundle_opts *o, const char *man, const char *sig,
		const char *trusted, struct ib_err *err)
{
	const char *argv[] = {o->minisign ? o->minisign : "minisign",
			      "-S",
			      "-s",
			      o->key,
			      "-m",
			      man,
			      "-x",
			      sig,
			      "-c",
			      "signature of a Wisp update bundle's manifest",
			      "-t",
			      trusted,
			      NULL};

	if (ib_run(argv, NULL, err) < 0)
		return ib_err_ctx(err, "sign with %s", o->key);
	return 0;
}

static int append_file(int fd, const char *out, const char *path, struct ib_err *err)
{
	char *buf = malloc(COPY_CHUNK);
	int in = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (in < 0 || !buf) {
		ret = ib_err_set(err, in < 0 ? errno : ENOMEM, "open %s", path);
		goto out;
	}
	while (ret == 0 && (n = read(in, buf, COPY_CHUNK)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			ret = ib_err_set(err, errno, "write %s", out);
	if (ret == 0 && n < 0)
		ret = ib_err_set(err, errno, "read %s", path);
out:
	if (in >= 0)
		close(in);
	free(buf);
	return ret;
}

/* Framing, manifest, signature, then the parts, into a temporary file renamed over
 * out at the end: a failed run leaves no half bundle under the real name. */
static int assemble(const char *out, const char *man, size_t man_len, const char *sig,
		    size_t sig_len, const struct part parts[2], struct ib_err *err)
{
	char *tmp = ib_asprintf("%s.tmp", out);
	char *head = ib_asprintf("wisp-bundle 1 %zu %zu\n", man_len, sig_len);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = 0;

	if (fd < 0) {
		ret = ib_err_set(err, errno, "create %s", tmp);
		goto out;
	}
	if (write(fd, head, strlen(head)) != (ssize_t)strlen(head) ||
	    write(fd, man, man_len) != (ssize_t)man_len ||
	    write(fd, sig, sig_len) != (ssize_t)sig_len)
		ret = ib_err_set(err, errno, "write %s", tmp);
	for (int i = 0; ret == 0 && i < 2; i++)
		ret = append_file(fd, tmp, parts[i].path, err);
	if (close(fd) < 0 && ret == 0)
		ret = ib_err_set(err, errno, "write %s", tmp);
	if (ret == 0 && rename(tmp, out) < 0)
		ret = ib_err_set(err, errno, "rename %s to %s", tmp, out);
	if (ret < 0)
		unlink(tmp);
out:
	free(tmp);
	free(head);
	return ret;
}

/* Write the manifest, have minisign sign it, read the signature back. */
static int signed_manifest(const struct ib_bundle_opts *o, const char *man, char **sig,
			   size_t *sig_len, struct ib_err *err)
{
	char *mpath = ib_asprintf("%s.manifest", o->out);
	char *spath = ib_asprintf("%s.manifest.minisig", o->out);
	char *trusted = ib_asprintf("wisp-bundle version:%s variant:%s", o->version, o->variant);
	int ret = ib_write_file(mpath, man, strlen(man), 0644, err);

	if (ret == 0)
		ret = sign(o, mpath, spath, trusted, err);
	if (ret == 0)
		ret = ib_read_file(spath, sig, sig_len, err);
	unlink(mpath);
	unlink(spath);
	free(mpath);
	free(spath);
	free(trusted);
	return ret;
}

/* The signatures are made in a private directory beside the bundle, removed after. */
static int secure_manifest(const struct ib_bundle_opts *o, const struct ib_verity *v,
			   const struct part parts[2], char **man, struct ib_err *err)
{
	char *dir = ib_asprintf("%s.secure.XXXXXX", o->out), *sigs = NULL;

	if (!mkdtemp(dir)) {
		ib_err_set(err, errno, "mkdtemp %s", dir);
		free(dir);
		return -1;
	}
	sigs = boot_sigs(o, v, dir, err);
	if (sigs)
		*man = manifest(o, parts, v, o->created, o->expires, sigs);
	ib_rm_rf(dir);
	free(dir), free(sigs);
	return sigs ? 0 : ib_err_ctx(err, "secure_boot signatures");
}

int ib_bundle(const struct ib_bundle_opts *o, struct ib_err *err)
{
	struct part parts[2] = {{"kernel", o->kernel, 0, {0}}, {"root", o->root, 0, {0}}};
	struct ib_verity v;
	char *man = NULL, *sig = NULL;
	size_t sig_len = 0;
	int ret;

	ret = ib_verity_load(o->verity, &v, err);
	for (int i = 0; ret == 0 && i < 2; i++)
		ret = part_hash(&parts[i], err);
	if (ret == 0)
		ret = root_layout(&parts[1], &v, err);
	if (ret == 0 && o->secure)
		ret = secure_manifest(o, &v, parts, &man, err);
	else if (ret == 0)
		man = manifest(o, parts, &v, o->created, o->expires, "");
	if (ret == 0)
		ret = signed_manifest(o, man, &sig, &sig_len, err);
	if (ret == 0)
		ret = assemble(o->out, man, strlen(man), sig, sig_len, parts, err);
	free(man);
	free(sig);
	return ret;
}
