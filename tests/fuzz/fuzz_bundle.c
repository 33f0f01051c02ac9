/*
 * Fuzz target: an update bundle's head as the updater reads it
 * (init/update/bundle.c, minisig.c, manifest.c): the framing, the minisign
 * signature file and the manifest, from memory and from a stream (a memfd,
 * read as a pipe would be: no seeking), then the parts of whatever the
 * manifest announces, and the signature check against a fixed key. The
 * input is also taken as a manifest alone and as a public key file, so the
 * fuzzer reaches each parser without building the framing first.
 *
 * Every failure message names its object (a ':' after the name); a manifest
 * that parses satisfies the layout rules the reader relies on.
 * Build and run: bench/fuzz.sh.
 */
#include "update/update.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/keys/wisp-test.pub */
static const char pub[] = "untrusted comment: minisign public key 76B57A7EA0F014FA\n"
			  "RWT6FPCgfnq1dj3LaBNZvfcrIdRpU8eFgbGtbVBstTvR4p8CLdua4Jm+\n";
static struct upd_keys keys;
static struct upd_head h;
static int fd = -1;

static void named(const struct err *e)
{
	if (!strchr(e->msg, ':'))
		abort();
}

static void manifest_invariants(const struct upd_manifest *m)
{
	const struct upd_verity *v = &m->verity;

	if (m->format < 1 || m->format > UPD_FORMAT || m->expires < m->created ||
	    !m->part[UPD_KERNEL].size || m->part[UPD_KERNEL].size > UPD_KERNEL_MAX ||
	    m->part[UPD_ROOT].size > UPD_ROOT_MAX ||
	    v->data_blocks * v->data_block_size > v->hash_start_block * v->hash_block_size ||
	    v->hash_start_block * v->hash_block_size >= m->part[UPD_ROOT].size ||
	    strlen(v->root_hash) != UPD_HEX_HASH)
		abort();
}

/* The stream reader over the same bytes, parts included (copied nowhere). */
static void stream(const uint8_t *data, size_t size)
{
	struct err e = {0};

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (upd_head_read(fd, "fuzz", &h, &e) < 0) {
		named(&e);
		return;
	}
	if (upd_head_inspect(&h, &e) < 0) {
		named(&e);
		return;
	}
	manifest_invariants(&h.m);
	for (int i = 0; i < UPD_NPARTS; i++)
		if (upd_part_copy(fd, &h, &h.m.part[i], -1, NULL, &e) < 0) {
			named(&e);
			return;
		}
	if (upd_bundle_end(fd, &h, &e) < 0)
		named(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct upd_manifest m;
	struct upd_pubkey k;
	struct err e = {0};

	if (fd < 0) {
		fd = memfd_create("bundle", 0);
		if (fd < 0 || upd_pubkey_parse(pub, strlen(pub), "pub", &keys.key[0], &e) < 0)
			abort();
		keys.n = 1;
	}
	if (upd_head_parse((const char *)data, size, "fuzz", &h, &e) == 0) {
		if (upd_head_verify(&h, &keys, 0, &e) < 0)
			named(&e);
		else
			manifest_invariants(&h.m);
	} else {
		named(&e);
	}
	stream(data, size);
	if (upd_manifest_parse((const char *)data, size, "m", &m, &e) == 0)
		manifest_invariants(&m);
	else
		named(&e);
	if (upd_pubkey_parse((const char *)data, size, "k", &k, &e) < 0)
		named(&e);
	return 0;
}
