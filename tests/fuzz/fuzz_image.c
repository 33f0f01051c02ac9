/*
 * Fuzz target: the image decoders of containerd-lite (image/source.c) —
 * OCI index.json (platforms, nested indexes, ref names), the manifest,
 * the config's rootfs.diff_ids, and a docker-archive's manifest.json —
 * as `image import` runs them on an archive already unpacked into a
 * directory, every blob verified into a staging directory.
 *
 * The input is up to four parts separated by "\n====\n": the top file
 * (index.json, or manifest.json when it starts with '['), a manifest, a
 * config and a layer. So that mutations reach the manifest and the
 * config past the digest checks, the harness writes each part as a blob
 * under its real sha256 and replaces the placeholders @M@ / @MS@ (the
 * manifest's digest and size), @C@ / @CS@ (the config's) and @L@ / @LS@
 * (the layer's), and @MH@ / @CH@ / @LH@ (bare hex, for a docker-archive's
 * file names) in the parts before them. Build and run: bench/fuzz.sh image.
 */
#include "image/image.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n====\n"

struct part {
	char *text;
	size_t len;
	char digest[72], size[24];
};

static char dir[] = "/tmp/fuzz_image.XXXXXX";
static bool made; /* not dir's last letter: mkdtemp may end its name in 'X' */

/* The harness's own setup failed: say why (not an input's fault). */
static void setup_failed(const char *what)
{
	perror(what);
	abort();
}

static void put(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		setup_failed(path);
	close(fd);
}

/* text with every `key` replaced by val (a new string). */
static char *subst(const char *text, size_t *len, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), n = 0, cap = *len + 1;
	char *out = malloc(cap);

	for (size_t i = 0; i < *len;) {
		bool hit = i + kl <= *len && memcmp(text + i, key, kl) == 0;
		const char *from = hit ? val : text + i;
		size_t take = hit ? vl : 1;

		if (n + take + 1 > cap && !(out = realloc(out, cap = 2 * (n + take + 1))))
			abort();
		memcpy(out + n, from, take);
		n += take;
		i += hit ? kl : 1;
	}
	out[n] = 0;
	*len = n;
	return out;
}

static void seal(struct part *p)
{
	struct sha256 s;
	char hex[65];

	sha256_init(&s);
	sha256_update(&s, p->text, p->len);
	sha256_hex(&s, hex);
	snprintf(p->digest, sizeof(p->digest), "sha256:%s", hex);
	snprintf(p->size, sizeof(p->size), "%zu", p->len);
}

/* Blob j's placeholders in p: @X@ digest, @XS@ size, @XH@ bare hex (X = M, C, L). */
static void fill(struct part *p, const struct part *blob, size_t j)
{
	static const char *const keys[][3] = {{"", "", ""},
					      {"@M@", "@MS@", "@MH@"},
					      {"@C@", "@CS@", "@CH@"},
					      {"@L@", "@LS@", "@LH@"}};
	const char *vals[3] = {blob->digest, blob->size, blob->digest + 7};

	for (int k = 0; k < 3; k++) {
		char *t = subst(p->text, &p->len, keys[j][k], vals[k]);
		free(p->text);
		p->text = t;
	}
}

static size_t split(const uint8_t *data, size_t size, struct part *parts)
{
	const char *p = (const char *)data, *end = p + size;
	size_t n = 0;

	while (n < 4) {
		const char *s = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
		const char *stop = s ? s : end;

		parts[n].len = (size_t)(stop - p);
		parts[n].text = malloc(parts[n].len + 1);
		memcpy(parts[n].text, p, parts[n].len);
		parts[n].text[parts[n].len] = 0;
		n++;
		if (!s)
			break;
		p = s + strlen(SEP);
	}
	return n;
}

static void write_blob(const char *src, const struct part *p)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", src, p->digest + 7);
	put(path, p->text, p->len);
	/* a docker-archive names its files itself: HEX.json (configs) and
	 * HEX/layer.tar (layers), as `docker save` writes them */
	snprintf(path, sizeof(path), "%s/%s.json", src, p->digest + 7);
	put(path, p->text, p->len);
	snprintf(path, sizeof(path), "%s/%s", src, p->digest + 7);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/layer.tar", src, p->digest + 7);
	put(path, p->text, p->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part parts[4] = {0};
	struct img_plan plan = {0};
	char src[4200], stage[4200], cmd[4300];
	struct cl_err err;
	size_t n;

	if (!made && !(made = mkdtemp(dir) != NULL))
		setup_failed("fuzz_image: mkdtemp");
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(stage, sizeof(stage), "%s/stage", dir);
	if (img_rm_tree(src, &err) < 0 || img_rm_tree(stage, &err) < 0)
		setup_failed(err.msg);
	snprintf(cmd, sizeof(cmd), "%s/blobs", src);
	mkdir(src, 0755), mkdir(cmd, 0755);
	snprintf(cmd, sizeof(cmd), "%s/blobs/sha256", src);
	mkdir(cmd, 0755), mkdir(stage, 0755);
	snprintf(cmd, sizeof(cmd), "%s/blobs", stage);
	mkdir(cmd, 0755);
	n = split(data, size, parts);
	/* the layer, then the config, then the manifest: each names the next */
	for (size_t i = n; i-- > 1;) {
		for (size_t j = i + 1; j < n; j++)
			fill(&parts[i], &parts[j], j);
		seal(&parts[i]);
		write_blob(src, &parts[i]);
	}
	for (size_t j = 1; j < n; j++)
		fill(&parts[0], &parts[j], j);
	snprintf(cmd, sizeof(cmd), "%s/%s", src,
		 parts[0].text[0] == '[' ? "manifest.json" : "index.json");
	put(cmd, parts[0].text, parts[0].len);
	if (parts[0].text[0] != '[') {
		snprintf(cmd, sizeof(cmd), "%s/oci-layout", src);
		put(cmd, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	}
	memset(&err, 0, sizeof(err));
	const char *text = "ok";
	if (img_plan_build(src, stage, NULL, &plan, &err) < 0 && !*(text = err.msg))
		abort();		  /* every failure names what failed */
	if (getenv("FUZZ_IMAGE_VERBOSE")) /* to check that the seeds decode */
		fprintf(stderr, "fuzz_image: %s (%zu layers)\n", text, plan.nlayers);
	img_plan_free(&plan);
	for (size_t i = 0; i < n; i++)
		free(parts[i].text);
	return 0;
}
