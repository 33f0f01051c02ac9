/* test_cl_image.c: the image decoders (image/source.c) on layouts written
 * here: an OCI image, the linux/amd64 choice of an index, a docker-archive,
 * and the errors — no amd64, an unknown layer media type, a blob whose
 * digest is not the one its descriptor names — and the members an archive
 * plants to make the import read elsewhere: symlinks (to a file outside
 * whose digest the archive names, so that only the refusal to follow
 * them stops the import), a FIFO, an oversized JSON document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_TAR	    "application/vnd.oci.image.layer.v1.tar"

static char top[] = "/tmp/test_cl_image.XXXXXX";
static int serial;

struct blob {
	char digest[72];
	size_t size;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* text stored as dir/blobs/sha256/HEX (an OCI layout) or dir/HEX.json. */
static struct blob put_blob(const char *dir, const char *text, bool docker)
{
	struct blob b = {.size = strlen(text)};
	struct sha256 s;
	char hex[65], name[128];

	sha256_init(&s);
	sha256_update(&s, text, b.size);
	sha256_hex(&s, hex);
	snprintf(b.digest, sizeof(b.digest), "sha256:%s", hex);
	snprintf(name, sizeof(name), docker ? "%s.json" : "blobs/sha256/%s", hex);
	write_file(dir, name, text);
	return b;
}

static char *new_dir(bool oci)
{
	static char dir[256];
	char sub[300];

	snprintf(dir, sizeof(dir), "%s/l%d", top, serial++);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (oci) {
		snprintf(sub, sizeof(sub), "%s/blobs", dir);
		mkdir(sub, 0755);
		snprintf(sub, sizeof(sub), "%s/blobs/sha256", dir);
		mkdir(sub, 0755);
		write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	}
	return dir;
}

/* A manifest of one layer (text, of media type mt) and a config naming it. */
static struct blob manifest(const char *dir, const char *layer, const char *mt)
{
	struct blob l = put_blob(dir, layer, false), c;
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}",
		 l.digest);
	c = put_blob(dir, text, false);
	snprintf(text, sizeof(text),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\",\"config\":{\"mediaType\":"
		 "\"" MT_CONFIG "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		 "\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		 c.digest, c.size, mt, l.digest, l.size);
	return put_blob(dir, text, false);
}

static void descriptor(char *out, size_t n, struct blob m, const char *arch, const char *variant)
{
	snprintf(out, n,
		 "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
		 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"%s%s%s}}",
		 m.digest, m.size, arch, variant ? ",\"variant\":\"" : "", variant ? variant : "",
		 variant ? "\"" : "");
}

static void index_of(const char *dir, const char *d1, const char *d2)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"manifests\":[%s%s%s]}", d1,
		 d2 ? "," : "", d2 ? d2 : "");
	write_file(dir, "index.json", text);
}

/* index.json of dir: manifest m alone, for that platform. */
static void index_one(const char *dir, struct blob m, const char *arch, const char *variant)
{
	char d[512];

	descriptor(d, sizeof(d), m, arch, variant);
	index_of(dir, d, NULL);
}

/* A docker-archive's config naming layer's digest, and manifest.json naming the
 * config and l1/layer.tar (left to the caller: a file or a symlink). */
static struct blob docker_config(const char *dir, const char *layer)
{
	char text[1024], sub[300], hex[65];
	struct sha256 s;
	struct blob c;

	sha256_init(&s);
	sha256_update(&s, layer, strlen(layer));
	sha256_hex(&s, hex);
	snprintf(sub, sizeof(sub), "%s/l1", dir);
	mkdir(sub, 0755);
	snprintf(text, sizeof(text),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"sha256:%s\"]}}",
		 hex);
	c = put_blob(dir, text, true);
	snprintf(text, sizeof(text),
		 "[{\"Config\":\"%s.json\",\"RepoTags\":[\"t:1\"],\"Layers\":[\"l1/layer.tar\"]}]",
		 c.digest + 7);
	write_file(dir, "manifest.json", text);
	return c;
}

/* Build the plan of dir; returns its error text ("" on success). */
static const char *plan_of(const char *dir, struct img_plan *p)
{
	static char text[1200];
	char stage[300], sub[320];
	struct cl_err err = {0};

	snprintf(stage, sizeof(stage), "%s-stage", dir);
	snprintf(sub, sizeof(sub), "%s/blobs", stage);
	mkdir(stage, 0755);
	mkdir(sub, 0755);
	memset(p, 0, sizeof(*p));
	text[0] = 0;
	if (img_plan_build(dir, stage, NULL, p, &err) < 0)
		snprintf(text, sizeof(text), "%s", err.msg);
	return text;
}

static void test_oci_one(void **state)
{
	char *dir = new_dir(true);
	struct blob m = manifest(dir, "layer-one", MT_TAR);
	struct img_plan p;

	(void)state;
	index_one(dir, m, "amd64", NULL);
	assert_string_equal(plan_of(dir, &p), "");
	assert_int_equal(p.nlayers, 1);
	assert_string_equal(p.manifest, m.digest);
	assert_string_equal(p.layers[0].media_type, MT_TAR);
	img_plan_free(&p);
}

/* An index of arm64 and amd64 images: amd64's layers are the plan's. */
static void test_index_picks_amd64(void **state)
{
	char *dir = new_dir(true), d1[512], d2[512];
	struct blob arm = manifest(dir, "arm-layer", MT_TAR),
		    amd = manifest(dir, "amd-layer", MT_TAR);
	struct img_plan p;

	(void)state;
	descriptor(d1, sizeof(d1), arm, "arm64", "v8");
	descriptor(d2, sizeof(d2), amd, "amd64", NULL);
	index_of(dir, d1, d2);
	assert_string_equal(plan_of(dir, &p), "");
	assert_string_equal(p.manifest, amd.digest);
	img_plan_free(&p);
}

/* One manifest of one layer in an index: what is refused, and why. */
static void test_errors(void **state)
{
	static const struct {
		const char *layer, *mt, *arch, *variant;
		size_t size_off;   /* added to the manifest's size in the index */
		const char *error; /* in the plan's error; NULL: the manifest's digest */
	} cases[] = {
	    {"x", MT_TAR, "arm64", "v8", 0, "no linux/amd64 manifest (found linux/arm64/v8)"},
	    {"y", "application/vnd.oci.image.layer.v1.tar+bzip2", "amd64", NULL, 0,
	     "tar+bzip2: not supported"},
	    /* the index names a size the manifest blob does not have */
	    {"z", MT_TAR, "amd64", NULL, 1, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = new_dir(true);
		struct blob m = manifest(dir, cases[i].layer, cases[i].mt);
		const char *want = cases[i].error ? cases[i].error : m.digest, *got;
		struct img_plan p;

		m.size += cases[i].size_off;
		index_one(dir, m, cases[i].arch, cases[i].variant);
		got = plan_of(dir, &p);
		if (!strstr(got, want))
			print_message("cases[%zu]: \"%s\" not in \"%s\"\n", i, want, got);
		assert_non_null(strstr(got, want));
		img_plan_free(&p);
	}
}

/* docker save: manifest.json, HEX.json config, layer tars checked against diff_ids. */
static void test_docker_archive(void **state)
{
	char *dir = new_dir(false);
	struct blob c = docker_config(dir, "docker-layer");
	struct img_plan p;

	(void)state;
	write_file(dir, "l1/layer.tar", "docker-layer");
	assert_string_equal(plan_of(dir, &p), "");
	assert_string_equal(p.ref, "t:1");
	assert_string_equal(p.config, c.digest);
	assert_int_equal(p.nlayers, 1);
	img_plan_free(&p);
}

/* A file outside the layout (a host file) holding text. */
static void outside(const char *name, const char *text)
{
	write_file(top, name, text);
}

static void symlink_in(const char *dir, const char *name, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

/* blobs/sha256/HEX -> a host file with those very bytes: read, it would
 * verify; it must not be read. */
static void test_oci_blob_symlink(void **state)
{
	char *dir = new_dir(true), rel[128], target[300];
	struct blob m = manifest(dir, "host-secret", MT_TAR);
	struct img_plan p;
	struct sha256 s;
	char hex[65];

	(void)state;
	sha256_init(&s);
	sha256_update(&s, "host-secret", 11);
	sha256_hex(&s, hex);
	outside("secret", "host-secret");
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	snprintf(target, sizeof(target), "%s/secret", top);
	symlink_in(dir, rel, target);
	index_one(dir, m, "amd64", NULL);
	assert_non_null(strstr(plan_of(dir, &p), "a symlink (not followed)"));
	assert_non_null(strstr(plan_of(dir, &p), rel));
	img_plan_free(&p);
}

/* blobs -> a directory outside: no symlink is followed on the way either. */
static void test_oci_dir_symlink(void **state)
{
	char dir[256], d[512], *other = new_dir(true); /* the real blobs, outside dir */
	struct blob m = manifest(other, "layer", MT_TAR);
	struct img_plan p;

	(void)state;
	snprintf(d, sizeof(d), "%s/blobs", other);
	snprintf(dir, sizeof(dir), "%s", new_dir(false));
	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	symlink_in(dir, "blobs", d);
	index_one(dir, m, "amd64", NULL);
	assert_non_null(strstr(plan_of(dir, &p), "a symlink (not followed)"));
	img_plan_free(&p);
}

/* A docker-archive whose layer.tar (or config) is a symlink to a host
 * file the manifest's diff_id (or config name) matches. */
static void test_docker_symlinks(void **state)
{
	char *dir = new_dir(false), sub[300], target[300];
	struct blob c = docker_config(dir, "docker-secret");
	struct img_plan p;

	(void)state;
	outside("docker-secret", "docker-secret");
	snprintf(target, sizeof(target), "%s/docker-secret", top);
	symlink_in(dir, "l1/layer.tar", target);
	assert_non_null(strstr(plan_of(dir, &p), "l1/layer.tar: a symlink (not followed)"));
	img_plan_free(&p);

	/* the config: moved outside, a symlink left */
	snprintf(sub, sizeof(sub), "%s/%s.json", dir, c.digest + 7);
	snprintf(target, sizeof(target), "%s/config-outside", top);
	assert_int_equal(rename(sub, target), 0);
	snprintf(sub, sizeof(sub), "%s.json", c.digest + 7);
	symlink_in(dir, sub, target);
	assert_non_null(strstr(plan_of(dir, &p), "a symlink (not followed)"));
	img_plan_free(&p);

	/* a name that leaves the archive */
	write_file(dir, "manifest.json", "[{\"Config\":\"../config-outside\",\"Layers\":[]}]");
	assert_non_null(strstr(plan_of(dir, &p), "outside the directory"));
	img_plan_free(&p);
}

/* index.json a FIFO: refused at once (the alarm fails a hang). */
static void test_fifo_member(void **state)
{
	char *dir = new_dir(true), path[300];
	struct img_plan p;

	(void)state;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	alarm(20);
	assert_non_null(strstr(plan_of(dir, &p), "index.json: not a regular file"));
	alarm(0);
	img_plan_free(&p);
}

/* JSON documents are read whole only up to IMG_MAX_JSON. */
static void test_oversized_json(void **state)
{
	char *dir = new_dir(true), path[300];
	struct img_plan p;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputc('{', f);
	for (int i = 0; i < IMG_MAX_JSON; i++)
		fputc(' ', f);
	fputc('}', f);
	fclose(f);
	assert_non_null(strstr(plan_of(dir, &p), "index.json: larger than 4194304 bytes"));
	img_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oci_one),	     cmocka_unit_test(test_index_picks_amd64),
	    cmocka_unit_test(test_errors),	     cmocka_unit_test(test_docker_archive),
	    cmocka_unit_test(test_oci_blob_symlink), cmocka_unit_test(test_oci_dir_symlink),
	    cmocka_unit_test(test_docker_symlinks),  cmocka_unit_test(test_fifo_member),
	    cmocka_unit_test(test_oversized_json),
	};
	char cmd[300];
	int ret;

	if (!mkdtemp(top))
		return 1;
	ret = cmocka_run_group_tests_name("cl_image", tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) != 0 ? 1 : ret;
}
