/* test_cl_lookup.c: an image's record by REF (image/lookup.c), table-driven,
 * over a store whose records are written here with the digests a registry
 * or an archive could grind: names (as written, then in docker's full form)
 * before digest prefixes, "sha256:" and 64 hex digits digests only, an
 * ambiguous prefix refused, tags of one image one answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

#define Z56	   "00000000000000000000000000000000000000000000000000000000"
#define CAFE01_CFG "cafe01bb" Z56 /* ground: begins with the name cafe01 */
#define DEAD_MAN   "deadbeef" Z56 /* ground: begins with deadbeef (latest) */

static char store[] = "/tmp/test_cl_lookup.XXXXXX";

static const struct {
	const char *key, *ref, *manifest, *config;
} recs[] = {
    {"named", "cafe01", "a1a1a1a1" Z56, "aaaaaaaa" Z56},
    {"ground", "ground:1", DEAD_MAN, CAFE01_CFG},
    {"pulled", "docker.io/library/deadbeef:latest", "c1c1c1c1" Z56, "cccccccc" Z56},
    {"cof1", "cof:1", "d1d1d1d1" Z56, "c0ffee11" Z56},
    {"cof2", "cof:2", "d2d2d2d2" Z56, "c0ffee22" Z56},
    {"tag1", "tag:1", "e1e1e1e1" Z56, "ffffffff" Z56},
    {"tag2", "tag:2", "e2e2e2e2" Z56, "ffffffff" Z56},
    /* an archive naming itself by another image's digest */
    {"hexname", CAFE01_CFG, "f1f1f1f1" Z56, "99999999" Z56},
    {"sha", "sha256:cafe01", "f2f2f2f2" Z56, "98989898" Z56},
};

static int setup(void **state)
{
	char path[256];

	(void)state;
	assert_non_null(mkdtemp(store));
	snprintf(path, sizeof(path), "%s/images", store);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		json_t *r = json_pack("{s:s, s:s+, s:s+, s:[]}", "ref", recs[i].ref, "manifest",
				      "sha256:", recs[i].manifest, "config",
				      "sha256:", recs[i].config, "layers");
		snprintf(path, sizeof(path), "%s/images/%s", store, recs[i].key);
		assert_non_null(r);
		assert_int_equal(json_dump_file(r, path, 0), 0);
		json_decref(r);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store);
	return system(cmd);
}

static void test_lookup(void **state)
{
	/* want: the config of the image found, or the error's text */
	static const struct {
		const char *ref, *config, *err;
	} t[] = {
	    /* a name wins over a prefix of another image's digest */
	    {"cafe01", "aaaaaaaa" Z56, NULL},
	    {"deadbeef", "cccccccc" Z56, NULL},
	    {"deadbeef:latest", "cccccccc" Z56, NULL},
	    {"docker.io/library/deadbeef", "cccccccc" Z56, NULL},
	    {"ground:1", CAFE01_CFG, NULL},
	    /* prefixes that name no image are prefixes */
	    {"cafe01b", CAFE01_CFG, NULL},
	    {"deadbeef0", CAFE01_CFG, NULL},
	    {"c0ffee1", "c0ffee11" Z56, NULL},
	    /* "sha256:" and 64 hex digits: digests, whatever a record is named */
	    {"sha256:cafe01", CAFE01_CFG, NULL},
	    {CAFE01_CFG, CAFE01_CFG, NULL},
	    {"sha256:" CAFE01_CFG, CAFE01_CFG, NULL},
	    /* pinned */
	    {"ground@sha256:" CAFE01_CFG, CAFE01_CFG, NULL},
	    {"@sha256:" DEAD_MAN, CAFE01_CFG, NULL},
	    {"cafe01@sha256:" CAFE01_CFG, NULL, "not in store"},
	    /* tags of one image: one answer; of two: ambiguous */
	    {"ffffff", "ffffffff" Z56, NULL},
	    {"c0ffee", NULL, "image c0ffee: ambiguous"},
	    {"sha256:c0ffee", NULL, "image sha256:c0ffee: ambiguous"},
	    /* no prefix: 5 digits, upper case, not hex, too long */
	    {"c0ffe", NULL, "not in store"},
	    {"CAFE01", NULL, "not in store"},
	    {"sha256:cafe0g", NULL, "not in store"},
	    {"sha256:" CAFE01_CFG "0", NULL, "not in store"},
	    {"nothere", NULL, "not in store"},
	};
	struct cl_err e;
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *rec = img_lookup(store, t[i].ref, NULL, &e);
		const char *got = json_string_value(json_object_get(rec, "config"));
		bool ok = t[i].config ? got && !strcmp(got + 7, t[i].config)
				      : !rec && strstr(e.msg, t[i].err);

		if (!ok && ++bad)
			print_error("%.30s: got %.40s, want %.40s\n", t[i].ref,
				    rec ? got + 7 : e.msg, t[i].config ?: t[i].err);
		json_decref(rec);
	}
	assert_int_equal(bad, 0);
}

/* rm's key: the record's file, here the one a name chose over a prefix. */
static void test_key(void **state)
{
	char key[80] = "";
	struct cl_err e;
	json_t *rec = img_lookup(store, "cafe01", key, &e);

	(void)state;
	assert_non_null(rec);
	assert_string_equal(key, "named");
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
