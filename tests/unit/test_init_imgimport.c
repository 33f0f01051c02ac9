/* Unit tests: init/provision/imgimport.c, whether the drop directory has something
 * for `containerd-lite image import-dir`, or ds.c noted a seed with
 * images (then provision declares image-import). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio, (void)fmt;
}
void log_err(const struct err *e)
{
	(void)e;
}

static void touch(const char *dir, const char *name)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
}

static void pending(void **state)
{
	char dir[] = "/tmp/test_imgimport.XXXXXX", p[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_false(imgimport_pending(dir)); /* empty */
	touch(dir, ".web.tar.part");	      /* being copied in */
	touch(dir, "web.tar.name");	      /* a reference, not an archive */
	snprintf(p, sizeof(p), "%s/failed", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	touch(p, "old.tar");
	assert_false(imgimport_pending(dir));
	touch(dir, "web.tar");
	assert_true(imgimport_pending(dir));
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
	assert_false(imgimport_pending(dir)); /* none at all (no STATE) */
}

static void wanted(void **state)
{
	char drop[] = "/tmp/test_imgimport.XXXXXX", seed[64], p[80];

	(void)state;
	assert_non_null(mkdtemp(drop));
	snprintf(seed, sizeof(seed), "%s.seed", drop);
	assert_false(imgimport_wanted(drop, seed)); /* empty drop, no seed noted */
	touch(drop, "web.tar");
	assert_true(imgimport_wanted(drop, seed));
	snprintf(p, sizeof(p), "%s/web.tar", drop);
	assert_int_equal(unlink(p), 0);
	touch("/", seed + 1); /* ds.c noted a seed with wisp-images/ */
	assert_true(imgimport_wanted(drop, seed));
	assert_true(imgimport_wanted("/nonexistent", seed));
	assert_int_equal(unlink(seed), 0);
	assert_int_equal(rmdir(drop), 0);
}

/* A live boot whose ROOT carries the spec's archives: noted for the helper; a disk boot
 * (its images are in STATE), wisp.live=0 and an empty directory are not. */
static void live(void **state)
{
	char dir[] = "/tmp/test_imgimport.XXXXXX", info[64], text[256];
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(info, sizeof(info), "%s.info", dir);
	assert_false(imgimport_live("console=ttyS0 wisp.live=1", dir, info)); /* empty */
	touch(dir, "000-demo.tar.name");
	assert_false(imgimport_live("console=ttyS0 wisp.live=1", dir, info));
	touch(dir, "000-demo.tar");
	assert_false(imgimport_live("console=ttyS0 root=/dev/vda3", dir, info)); /* a disk */
	assert_false(imgimport_live("wisp.live=0", dir, info));
	assert_int_equal(access(info, F_OK), -1);
	assert_true(imgimport_live("console=ttyS0 wisp.live=1 panic=10", dir, info));
	assert_int_equal(read_text(info, text, sizeof(text), &e), (int)strlen(LIVE_IMAGES) + 1);
	assert_string_equal(text, LIVE_IMAGES "\n");
	snprintf(text, sizeof(text), "rm -rf %s %s", dir, info);
	assert_int_equal(system(text), 0);
}

/* imgimport_setup() under a fake root: 20-image-import.yaml, a oneshot of the helper,
 * only when an archive waits. */
static void declared(void **state)
{
	static char report[64];
	char root[] = "/tmp/test_imgimport.XXXXXX", p[256], text[1024];
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(root));
	prov.root = root;
	snprintf(report, sizeof(report), "%s/report", root);
	cloudinit_report_to(report); /* not the build host's /run/wisp */
	snprintf(p, sizeof(p), "mkdir -p %s/var/lib/wisp/import %s/run/wisp", root, root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/run/wisp/units", root);
	assert_int_equal(declw_open(p, &e), 0);
	imgimport_setup();
	assert_false(declw_declared(IMAGE_IMPORT)); /* nothing waits */
	snprintf(p, sizeof(p), "%s/var/lib/wisp/import", root);
	touch(p, "web.tar");
	imgimport_setup();
	assert_true(declw_declared(IMAGE_IMPORT));
	snprintf(p, sizeof(p), "%s/run/wisp/units/20-image-import.yaml", root);
	assert_true(read_text(p, text, sizeof(text), &e) > 0);
	assert_non_null(strstr(text, "  - name: \"image-import\"\n    kind: oneshot\n    command: "
				     "[\"/usr/libexec/wisp/image-import\"]\n    restart: no\n"));
	declw_close();
	prov.root = "";
	cloudinit_report_to(CLOUD_REPORT);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(pending), cmocka_unit_test(wanted),
					   cmocka_unit_test(live), cmocka_unit_test(declared)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
