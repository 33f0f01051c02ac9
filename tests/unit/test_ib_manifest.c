/* test_ib_manifest.c: the ROOT manifest parser and the staging of its tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "image-builder.h"

static char dir[] = "/tmp/test_ib_manifest.XXXXXX";
static char cwd[4096];

static void put(const char *path, const char *text)
{
	struct ib_err err;

	if (ib_write_file(path, text, strlen(text), 0644, &err) < 0)
		fail_msg("%s", err.msg);
}

static int setup(void **state)
{
	(void)state;
	if (!getcwd(cwd, sizeof(cwd)) || !mkdtemp(dir) || chdir(dir) < 0)
		return -1;
	put("busybox", "#!/bin/sh\n");
	put("sub.manifest", "slink /bin/sh busybox\t# applet\n\nslink /bin/ls busybox\n");
	put("good.manifest", "# ROOT\n"
			     "dir\t/bin\t0755\n"
			     "dir /tmp 1777\n"
			     "dir /ro 0555\n"
			     "dir /home 0700 1000 100\n"
			     "file /bin/busybox busybox 0755   # the one binary\n"
			     "file /ro/inside busybox 0600\n"
			     "include sub.manifest\n"
			     "dir / 0755\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(cwd) < 0)
		return -1;
	return ib_rm_rf(dir);
}

static void parses_entries(void **state)
{
	static const struct {
		const char *path;
		enum ib_mtype type;
		mode_t mode;
		uid_t uid;
		gid_t gid;
		const char *arg, *origin;
		unsigned line;
	} want[] = {
	    {"/home", IB_M_DIR, 0700, 1000, 100, NULL, "good.manifest", 5},
	    {"/bin/busybox", IB_M_FILE, 0755, 0, 0, "busybox", "good.manifest", 6},
	    {"/bin/ls", IB_M_SLINK, 0777, 0, 0, "busybox", "sub.manifest", 3},
	    {"/tmp", IB_M_DIR, 01777, 0, 0, NULL, "good.manifest", 3},
	};
	struct ib_manifest m = {0};
	struct ib_err err = {0};
	const struct ib_mentry *e;

	(void)state;
	/* "dir /" after other entries is a duplicate-free root entry. */
	if (ib_manifest_load(&m, "good.manifest", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(m.n, 9);
	assert_int_equal(m.nfiles, 2);
	assert_string_equal(m.files[1], "sub.manifest");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		e = ib_manifest_find(&m, want[i].path);
		if (!e)
			fail_msg("%s: not found", want[i].path);
		if (e->type != want[i].type || e->mode != want[i].mode || e->uid != want[i].uid ||
		    e->gid != want[i].gid || e->line != want[i].line ||
		    strcmp(e->origin, want[i].origin) != 0 ||
		    (want[i].arg ? !e->arg || strcmp(e->arg, want[i].arg) != 0 : e->arg != NULL))
			fail_msg("%s: type %d mode %o owner %u:%u arg %s at %s:%u", want[i].path,
				 (int)e->type, (unsigned)e->mode, (unsigned)e->uid,
				 (unsigned)e->gid, e->arg ? e->arg : "(none)", e->origin, e->line);
	}
	assert_false(ib_manifest_all_root(&m));
	ib_manifest_free(&m);
}

struct bad {
	const char *text;
	const char *msg;
};

static const struct bad bad_manifests[] = {
    {"dir /bin 0755\nfile /bin/su busybox 4755\n",
     "bad.manifest:2: mode 4755: setuid/setgid bits are refused"},
    {"dir /bin 2755\n", "bad.manifest:1: mode 2755: setuid/setgid"},
    {"fifo /x 0644\n", "bad.manifest:1: unknown entry type \"fifo\""},
    {"dir /a/b 0755\n", "bad.manifest:1: /a/b: parent directory /a is not listed before it"},
    {"file /x busybox 0644\ndir /x/y 0755\n", "bad.manifest:2: /x/y: parent /x is not a directory"},
    {"dir a 0755\n", "bad.manifest:1: a: path must be absolute"},
    {"dir /a/ 0755\n", "bad.manifest:1: /a/: path must be normalised"},
    {"dir /a//b 0755\n", "bad.manifest:1: /a//b: path must be normalised"},
    {"dir /. 0755\n", "bad.manifest:1: /.: path must be normalised"},
    {"dir /a 0755\ndir /a 0755\n", "bad.manifest:2: /a: already listed at bad.manifest:1"},
    {"dir /a 0789\n", "bad.manifest:1: bad mode \"0789\""},
    {"dir /a 17777\n", "bad.manifest:1: bad mode \"17777\" (more than 07777)"},
    {"dir /a\n", "bad.manifest:1: dir: wrong number of fields"},
    {"dir /a 0755 0\n", "bad.manifest:1: dir: expected MODE or MODE UID GID"},
    {"dir /a 0755 0 -1\n", "bad.manifest:1: bad gid \"-1\""},
    {"file /a busybox\n", "bad.manifest:1: file: wrong number of fields"},
    {"slink /a\n", "bad.manifest:1: slink: wrong number of fields"},
    {"slink / x\n", "bad.manifest:1: /: only a dir entry can name the root"},
    {"include\n", "bad.manifest:1: include: expected one manifest path"},
    {"include nothere.manifest\n", "bad.manifest:1: include: open nothere.manifest"},
    {"\n\ninclude bad.manifest\n", "bad.manifest:3: include bad.manifest: include loop"},
    {"a b c d e f g h i\n", "bad.manifest:1: too many fields"},
};

static void errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_manifests) / sizeof(bad_manifests[0]); i++) {
		struct ib_manifest m = {0};
		struct ib_err err = {0};

		put("bad.manifest", bad_manifests[i].text);
		if (ib_manifest_load(&m, "bad.manifest", &err) == 0)
			fail_msg("accepted: %s", bad_manifests[i].text);
		if (strncmp(err.msg, bad_manifests[i].msg, strlen(bad_manifests[i].msg)) != 0)
			fail_msg("got \"%s\", want \"%s\"", err.msg, bad_manifests[i].msg);
		ib_manifest_free(&m);
	}
}

static void stages_tree(void **state)
{
	static const struct {
		const char *path;
		mode_t type, mode; /* a symlink's mode is not checked */
	} staged[] = {
	    {"stage", S_IFDIR, 0755},	   {"stage/bin", S_IFDIR, 0755},
	    {"stage/ro", S_IFDIR, 0555},   {"stage/ro/f", S_IFREG, 0600},
	    {"stage/tmp", S_IFDIR, 01777}, {"stage/bin/data", S_IFREG, 0640},
	    {"stage/bin/sh", S_IFLNK, 0},
	};
	struct ib_mentry data = {.type = IB_M_DATA,
				 .path = "/bin/data",
				 .arg = "x\n",
				 .len = 2,
				 .mode = 0640,
				 .origin = "test"};
	struct ib_manifest m = {0};
	struct ib_err err = {0};
	struct stat st;
	char target[64];
	ssize_t n;

	(void)state;
	put("own.manifest", "dir /bin 0755\ndir /ro 0555\nfile /ro/f busybox 0600\n"
			    "slink /bin/sh busybox\ndir /tmp 1777\n");
	assert_int_equal(ib_manifest_load(&m, "own.manifest", &err), 0);
	assert_int_equal(ib_manifest_add(&m, &data, &err), 0);
	assert_true(ib_manifest_all_root(&m));
	assert_int_equal(mkdir("stage", 0700), 0);
	if (ib_stage_tree(&m, "stage", 1700000000, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < sizeof(staged) / sizeof(staged[0]); i++) {
		if (lstat(staged[i].path, &st) < 0)
			fail_msg("%s: %s", staged[i].path, strerror(errno));
		if ((st.st_mode & S_IFMT) != staged[i].type ||
		    (staged[i].type != S_IFLNK && (st.st_mode & 07777) != staged[i].mode) ||
		    st.st_mtime != 1700000000)
			fail_msg("%s: mode %06o mtime %lld, want %06o mtime 1700000000",
				 staged[i].path, (unsigned)st.st_mode, (long long)st.st_mtime,
				 (unsigned)(staged[i].type | staged[i].mode));
	}
	n = readlink("stage/bin/sh", target, sizeof(target) - 1);
	assert_int_equal(n, 7);
	target[n] = '\0';
	assert_string_equal(target, "busybox");
	assert_int_equal(ib_rm_rf("stage"), 0); /* despite the read-only /ro */
	ib_manifest_free(&m);
}

static void stage_reports_missing_source(void **state)
{
	struct ib_manifest m = {0};
	struct ib_err err = {0};

	(void)state;
	put("miss.manifest", "dir /bin 0755\nfile /bin/x nothere 0755\n");
	assert_int_equal(ib_manifest_load(&m, "miss.manifest", &err), 0);
	assert_int_equal(mkdir("stage2", 0700), 0);
	assert_int_equal(ib_stage_tree(&m, "stage2", 1700000000, &err), -1);
	assert_string_equal(err.msg,
			    "miss.manifest:2: /bin/x: source nothere: No such file or directory");
	assert_int_equal(err.num, ENOENT);
	ib_rm_rf("stage2");
	ib_manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_entries),
	    cmocka_unit_test(errors),
	    cmocka_unit_test(stages_tree),
	    cmocka_unit_test(stage_reports_missing_source),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
