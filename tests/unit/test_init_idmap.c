/*
 * Unit tests: the ids provision gave, kept on STATE (init/provision/idmap.c),
 * and how users and groups get theirs across boots (ccapply.c): a file read
 * strictly or not at all, and boots against one STATE whose user-data (or
 * image) changes between them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void log_err(const struct err *e)
{
	(void)e;
}

void fw_wait(void) /* ds.c's, linked in with ccapply.c's neighbours; never called here */
{
}

static char tmpdir[64];
static char warned[8192];
static int nwarn;

static void on_warn(void *ctx, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(warned);

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(warned + n, sizeof(warned) - n, fmt, ap);
	va_end(ap);
	strncat(warned, "\n", sizeof(warned) - strlen(warned) - 1);
	nwarn++;
}

static struct ud_sink sink = {.warn = on_warn};

static int reset(void **state)
{
	(void)state;
	warned[0] = '\0';
	nwarn = 0;
	return 0;
}

/* tmpdir/name (its directories made), holding len bytes of text with mode. */
static const char *put(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[256];
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	*strrchr(path, '/') = '\0';
	assert_int_equal(mkdir_p(path, 0755, &e), 0);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(write_file(path, text, len, mode, &e), 0);
	return path;
}

static const char *text_of(const char *name)
{
	static char buf[8192];
	char path[256];
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_true(read_text(path, buf, sizeof(buf), &e) >= 0);
	return buf;
}

/* ---- the file ---------------------------------------------------------- */

static const struct file_case {
	const char *text; /* NULL: no file (the first boot) */
	size_t len;	  /* 0: strlen(text) */
	mode_t mode;
	size_t n;	  /* records read; the file is used */
	const char *warn; /* else: the warning, and nothing is used */
} files[] = {
    {NULL, 0, 0, 0, NULL},
    {"wisp-ids 1\n", 0, 0600, 0, NULL},
    {"wisp-ids 1\nuser alice 1000\ngroup alice 1000\n", 0, 0600, 2, NULL},
    {"wisp-ids 1\nuser alice 1000\n", 0, 0644, 1, NULL},
    /* a name moved by user-data's uid: keeps both; uid and gid are apart */
    {"wisp-ids 1\nuser alice 1000\nuser alice 2000\ngroup bob 1000\n", 0, 0600, 3, NULL},
    {"", 0, 0600, 0, "ids:1: not a wisp-ids 1 file"},
    {"wisp-ids 2\nuser alice 1000\n", 0, 0600, 0, "ids:1: not a wisp-ids 1 file"},
    {"wisp-ids 1\r\nuser alice 1000\n", 0, 0600, 0, "ids:1: not a wisp-ids 1 file"},
    {"wisp-ids 1\nuser alice 1000", 0, 0600, 0, "ids:2: cut short"},
    {"wisp-ids 1\nuser alice 1000\n", 0, 0666, 0, "ids: not a file of provision's user"},
    {"wisp-ids 1\nuser alice 1000\n", 0, 0620, 0, "ids: not a file of provision's user"},
    {"wisp-ids 1\nuser al\0ce 1000\n", 27, 0600, 0, "ids: a NUL byte"},
    {"wisp-ids 1\n\n", 0, 0600, 0, "ids:2: expected KIND NAME ID"},
    {"wisp-ids 1\nuser alice\n", 0, 0600, 0, "ids:2: expected KIND NAME ID"},
    {"wisp-ids 1\nuser alice 1000 \n", 0, 0600, 0, "ids:2: expected KIND NAME ID"},
    {"wisp-ids 1\nuser  alice 1000\n", 0, 0600, 0, "ids:2: name : not a user or group name"},
    {"wisp-ids 1\nowner alice 1000\n", 0, 0600, 0, "ids:2: kind owner: not user or group"},
    {"wisp-ids 1\nuser Alice 1000\n", 0, 0600, 0, "ids:2: name Alice: not a user or group"},
    {"wisp-ids 1\nuser alice 0\n", 0, 0600, 0, "ids:2: id 0: not an id from 1"},
    {"wisp-ids 1\nuser alice 01000\n", 0, 0600, 0, "ids:2: id 01000: not an id"},
    {"wisp-ids 1\nuser alice -1\n", 0, 0600, 0, "ids:2: id -1: not an id"},
    {"wisp-ids 1\nuser alice 4294967295\n", 0, 0600, 0, "ids:2: id 4294967295: not an id"},
    {"wisp-ids 1\nuser alice 99999999999999999999\n", 0, 0600, 0, "ids:2: id 9999"},
    {"wisp-ids 1\nuser alice 1000\nuser bob 1000\n", 0, 0600, 0,
     "ids:3: user bob: id 1000 is alice's already"},
};

/* Each file: read whole or not used; a file not used is not written over either. */
static void test_files(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/f/ids", tmpdir);
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		const struct file_case *c = &files[i];
		struct idmap m;

		reset(NULL);
		unlink(path);
		if (c->text) {
			put("f/ids", c->text, c->len ? c->len : strlen(c->text), 0600);
			assert_int_equal(chmod(path, c->mode), 0);
		}
		idmap_load(&m, path, &sink);
		if (m.usable != (c->warn == NULL) || m.n != c->n || nwarn != (c->warn != NULL) ||
		    (c->warn && !strstr(warned, c->warn)))
			fail_msg("file %zu: used %d, %zu records, warned \"%s\"", i, m.usable, m.n,
				 warned);
		idmap_note(&m, ID_USER, "zed", 4000);
		idmap_save(&m, &sink);
		idmap_free(&m);
		if (c->warn && c->text) /* left as it was */
			assert_memory_equal(text_of("f/ids"), c->text, strlen(c->text));
	}
}

/* A symlink is not followed; a file written is read back the same, 0600. */
static void test_symlink_and_round_trip(void **state)
{
	char path[256], link[256];
	struct idmap m;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt/ids", tmpdir);
	snprintf(link, sizeof(link), "%s/rt/link", tmpdir);
	put("rt/elsewhere", "wisp-ids 1\n", 11, 0600);
	assert_int_equal(symlink("elsewhere", link), 0);
	idmap_load(&m, link, &sink);
	assert_false(m.usable);
	assert_non_null(strstr(warned, "rt/link: Too many levels of symbolic links"));
	reset(NULL);
	idmap_load(&m, path, &sink);
	idmap_note(&m, ID_GROUP, "ops", 1000);
	idmap_note(&m, ID_USER, "alice", 1000);
	idmap_note(&m, ID_USER, "alice", 1000); /* its id already: nothing to note */
	idmap_note(&m, ID_USER, "alice", 2000);
	idmap_save(&m, &sink);
	idmap_free(&m);
	assert_int_equal(nwarn, 0);
	assert_string_equal(text_of("rt/ids"),
			    "wisp-ids 1\ngroup ops 1000\nuser alice 1000\nuser alice 2000\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	idmap_load(&m, path, &sink);
	assert_int_equal(idmap_get(&m, ID_USER, "alice"), 2000);
	assert_int_equal(idmap_get(&m, ID_GROUP, "alice"), -1);
	assert_null(idmap_owner(&m, ID_USER, 1000, "alice")); /* alice's own old one */
	assert_string_equal(idmap_owner(&m, ID_USER, 1000, "bob"), "alice");
	assert_null(idmap_owner(&m, ID_USER, 3000, "bob"));
	idmap_free(&m);
}

/* ---- boots against one STATE ------------------------------------------- */

#define BASE_PASSWD "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
#define BASE_GROUP  "root:x:0:\nnogroup:x:65534:\n"

struct boot {
	const char *image;  /* lines ROOT's /etc/passwd has beyond BASE_PASSWD (an update) */
	const char *gimage; /* and /etc/group beyond BASE_GROUP */
	const char *config; /* the cloud-config */
	const char *passwd; /* /etc/passwd after the boot, beyond the image's lines */
	const char *group;  /* /etc/group after the boot, beyond the image's lines */
	const char *warn;   /* its warnings (a part of each, one a line), or NULL */
};

#define SVC "svc:x:1000:65534::/:/bin/false\n" /* an image update's user */

static const struct scenario {
	const char *what;
	struct boot boot[3]; /* up to 3 boots; config NULL: no more */
} scenarios[] = {
    {"a user removed: the others keep their ids, the new one does not get hers",
     {{"", "", "users: [alice, bob]", "alice:x:1000:1000\nbob:x:1001:1001\n",
       "alice:x:1000:\nbob:x:1001:\n", NULL},
      {"", "", "users: [bob, carol]", "bob:x:1001:1001\ncarol:x:1002:1002\n",
       "bob:x:1001:\ncarol:x:1002:\n", NULL}}},
    {"users in another order",
     {{"", "", "users: [alice, bob]", "alice:x:1000:1000\nbob:x:1001:1001\n",
       "alice:x:1000:\nbob:x:1001:\n", NULL},
      {"", "", "users: [bob, alice]", "bob:x:1001:1001\nalice:x:1000:1000\n",
       "bob:x:1001:\nalice:x:1000:\n", NULL}}},
    {"groups in another order, one removed",
     {{"", "", "groups: [ops, dev, qa]", "", "ops:x:1000:\ndev:x:1001:\nqa:x:1002:\n", NULL},
      {"", "", "groups: [qa, ops]\nusers: [{name: ann, groups: [web]}]", "ann:x:1000:1003\n",
       "qa:x:1002:\nops:x:1000:\nann:x:1003:\nweb:x:1004:ann\n", NULL}}},
    {"an image update gives her uid to a user of its own: she is refused until uid: moves her",
     {{"", "", "users: [alice]", "alice:x:1000:1000\n", "alice:x:1000:\n", NULL},
      {SVC, "", "users: [alice, bob]", "bob:x:1001:1001\n", "bob:x:1001:\n",
       "user alice: uid 1000 (given at an earlier boot"},
      {SVC, "", "users: [{name: alice, uid: 1500}]", "alice:x:1500:1000\n", "alice:x:1000:\n",
       "user alice: uid 1500 (user-data), not 1000 as at earlier boots"}}},
    {"an image update gives a group's gid to a group of its own",
     {{"", "", "groups: [ops]", "", "ops:x:1000:\n", NULL},
      {"", "img:x:1000:\n", "groups: [ops, dev]", "", "dev:x:1001:\n",
       "group ops: gid 1000 (given at an earlier boot"}}},
    {"uid: of user-data: never another name's, a name it moves keeps both",
     {{"", "", "users: [alice, {name: bob, uid: 2000}]", "alice:x:1000:1000\nbob:x:2000:2000\n",
       "alice:x:1000:\nbob:x:2000:\n", NULL},
      {"", "", "users: [{name: carol, uid: 1000}, bob]", "bob:x:2000:2000\n", "bob:x:2000:\n",
       "user carol: uid 1000 is alice's"},
      {"", "", "users: [{name: dave, uid: 2000}, {name: bob, uid: 2001}, carol]",
       "bob:x:2001:2000\ncarol:x:1001:1001\n", "bob:x:2000:\ncarol:x:1001:\n",
       "user dave: uid 2000 is bob's\n"
       "user bob: uid 2001 (user-data), not 2000 as at earlier boots"}}},
    {"uid: of root's: refused",
     {{"", "", "users: [{name: toor, uid: 0}, ann]", "ann:x:1000:1000\n", "ann:x:1000:\n",
       "user toor: uid 0 is root's"}}},
    {"system users from 100",
     {{"", "", "users: [{name: svc, system: true}]", "svc:x:100:100\n", "svc:x:100:\n", NULL},
      {"", "", "users: [{name: db, system: true}, {name: svc, system: true}]",
       "db:x:101:101\nsvc:x:100:100\n", "db:x:101:\nsvc:x:100:\n", NULL}}},
};

/* Each line of want (passwd: its first 4 fields) is the next one of have. */
static void assert_lines(const char *have, const char *want, const char *what, size_t boot)
{
	const char *h = have;

	for (const char *w = want; *w; w = strchr(w, '\n') + 1) {
		size_t n = strcspn(w, "\n");

		if (strncmp(h, w, n) || (h[n] != ':' && h[n] != '\n'))
			fail_msg("%s, boot %zu: expected \"%.*s\" in\n%s", what, boot + 1, (int)n,
				 w, have);
		h = strchr(h, '\n') + 1;
	}
	if (*h)
		fail_msg("%s, boot %zu: more than expected:\n%s", what, boot + 1, have);
}

/* The warnings were those of want, one a line (a part of each), or none for NULL. */
static void assert_warned(const char *want, const char *what, size_t boot)
{
	char line[256];
	int n = 0;

	for (const char *w = want; w && *w; w += strcspn(w, "\n"), w += *w == '\n', n++) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(w, "\n"), w);
		if (!strstr(warned, line))
			fail_msg("%s, boot %zu: no warning \"%s\" in\n%s", what, boot + 1, line,
				 warned);
	}
	if (n != nwarn)
		fail_msg("%s, boot %zu: %d warnings, not %d:\n%s", what, boot + 1, nwarn, n,
			 warned);
}

/* One boot: /etc made again from the image, user-data applied with the ids of STATE. */
static void boot(const struct boot *b, const char *what, size_t i)
{
	char passwd[1024], path[256];
	struct cc_env env = {.root = tmpdir, .fake_root = true, .warn = &sink};
	struct idmap m;
	struct cloudcfg c;
	char etc[128];

	reset(NULL);
	snprintf(etc, sizeof(etc), "%s/b/etc", tmpdir);
	env.etc = etc;
	snprintf(passwd, sizeof(passwd), BASE_PASSWD "%s", b->image);
	put("b/etc/passwd", passwd, strlen(passwd), 0644);
	snprintf(passwd, sizeof(passwd), BASE_GROUP "%s", b->gimage);
	put("b/etc/group", passwd, strlen(passwd), 0644);
	put("b/etc/shadow", "", 0, 0600);
	snprintf(passwd, sizeof(passwd), "#cloud-config\n%s\n", b->config);
	snprintf(path, sizeof(path), "%s/b/var/lib/wisp/ids", tmpdir);
	idmap_load(&m, path, &sink);
	env.ids = &m;
	assert_int_equal(cloudcfg_load(put("b/user-data", passwd, strlen(passwd), 0600), &c, &sink),
			 0);
	cc_apply_users(&c, &env);
	idmap_save(&m, &sink);
	idmap_free(&m);
	cloudcfg_free(&c);
	assert_lines(text_of("b/etc/passwd") + strlen(BASE_PASSWD) + strlen(b->image), b->passwd,
		     what, i);
	assert_lines(text_of("b/etc/group") + strlen(BASE_GROUP) + strlen(b->gimage), b->group,
		     what, i);
	assert_warned(b->warn, what, i);
}

static void test_boots(void **state)
{
	char cmd[128];

	(void)state;
	for (size_t s = 0; s < ARRAY_LEN(scenarios); s++) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s/b", tmpdir);
		assert_int_equal(system(cmd), 0); /* a new STATE */
		for (size_t i = 0; i < ARRAY_LEN(scenarios[s].boot) && scenarios[s].boot[i].config;
		     i++)
			boot(&scenarios[s].boot[i], scenarios[s].what, i);
	}
}

/* STATE that cannot be written (here: the temporary is a directory; read-only STATE,
 * ENOSPC alike): ids as without the file, one warning, nothing remembered. */
static void test_state_unwritable(void **state)
{
	char path[256];
	struct idmap m;
	struct err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/ro/var/lib/wisp/ids.tmp", tmpdir);
	assert_int_equal(mkdir_p(path, 0755, &e), 0);
	*strrchr(path, '.') = '\0';
	idmap_load(&m, path, &sink);
	assert_true(m.usable); /* none yet: a first boot */
	idmap_note(&m, ID_USER, "alice", 1000);
	idmap_save(&m, &sink);
	idmap_free(&m);
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(warned, "ids.tmp: Is a directory; the ids given this boot are not "
				       "remembered"));
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_files, reset),
	    cmocka_unit_test_setup(test_symlink_and_round_trip, reset),
	    cmocka_unit_test_setup(test_boots, reset),
	    cmocka_unit_test_setup(test_state_unwritable, reset),
	};
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wisp-idmap-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
