/*
 * Unit tests: init/lib/declbin.c, the compiled form of declarations
 * (image-builder and provision write it, PID 1 reads only it): what
 * is read back is what was parsed, field for field; the same input gives
 * the same bytes; and a file cut short or damaged anywhere is refused with
 * a line naming it, or read as some other valid set, never past its end
 * (ASan) and never leaking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_init_declbin.XXXXXX";

/* Every field given, early or not; b depends on a and c (not early: b waits). */
static const char units[] =
    "environment: {LANG: C.UTF-8, TZ: UTC}\n"
    "services:\n"
    "  - name: a\n"
    "    kind: service\n"
    "    command: [/bin/a, --flag, '']\n"
    "    tty: console\n"
    "    env: {A: '1', B: two}\n"
    "    working_dir: /srv\n"
    "    user: www\n"
    "    group: www\n"
    "    restart: on-failure\n"
    "    restart_delay: {initial: 50ms, max: 2m, reset_after: 1h}\n"
    "    stop_signal: INT\n"
    "    stop_timeout: 3s\n"
    "    healthcheck: {command: test -f /run/ok, interval: 1s, timeout: 500ms, retries: 2, "
    "start_period: 5s}\n"
    "    resources: {cpu_weight: 50, cpu_max: '0.5', memory_max: 64M, pids_max: 100}\n"
    "    early: true\n"
    "    critical: true\n"
    "  - {name: c, kind: oneshot, command: c}\n"
    "  - {name: b, command: [b], early: true, depends_on: {a: {condition: healthy}, c: {condition: "
    "completed}}}\n"
    "containers:\n"
    "  - name: web\n"
    "    image: 'bb:1'\n"
    "    entrypoint: [/bin/sh, -c]\n"
    "    command: [httpd, -f]\n"
    "    user: '33:34'\n"
    "    pull: always\n"
    "    network: bridge\n"
    "    ports: ['8080:80', '53:53/udp']\n"
    "    read_only: true\n"
    "    volumes: ['/srv/web:/usr/share/web:ro']\n"
    "    resources: {net_egress: 20mbit, net_ingress: 1gbit}\n"
    "    depends_on: [a]\n"
    "    early: true\n";

static void put_file(const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int warnings;

static void count(void *ctx, const char *msg)
{
	(void)ctx;
	assert_non_null(strstr(msg, "/etc/wisp/10-units.yaml:"));
	warnings++;
}

static void refuse(void *ctx, const char *msg)
{
	(void)ctx;
	fail_msg("a declaration's error: %s", msg);
}

/* What image-builder writes as DECL_EARLY_FILE. */
static void compiled(char **buf, size_t *len)
{
	struct decls set = {0};
	char etc[600];

	snprintf(etc, sizeof(etc), "%s/etc", dir);
	decl_set_etc(etc);
	warnings = 0;
	assert_int_equal(declc_load(&set, dir, "/etc/wisp", refuse, NULL), 0);
	declc_early(&set, count, NULL);
	assert_int_equal(declbin_encode(&set, buf, len), 0);
	decls_free(&set);
	decl_set_etc("/etc");
}

static char said[512]; /* the last problem told to the writer */

static void keep(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(said, sizeof(said), "%s", msg);
}

/* A declaration with problems (image-builder --allow-declaration-errors): its lines, named
 * as PID 1 sees the file, and its name (for its dependants' messages) travel in the set,
 * for PID 1 to say at every boot; the early set leaves them to that load. */
static void test_problems_carried(void **state)
{
	struct decls set = {0}, back = {0};
	char sub[600], *buf;
	size_t len;
	struct err e;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/bad", dir);
	mkdir(sub, 0755);
	put_file("bad/10-x.yaml", "services:\n"
				  "  - {name: ok, command: [ok], early: true}\n"
				  "  - {name: z, command: [z], colour: red}\n"
				  "containers:\n"
				  "  - {name: img, image: 'bb:1'}\n");
	assert_int_equal(declc_load(&set, sub, "/etc/wisp", keep, NULL), 0);
	assert_string_equal(said,
			    "/etc/wisp/10-x.yaml:3:29: service \"z\": unknown field \"colour\"");
	assert_int_equal(declbin_encode(&set, &buf, &len), 0);
	assert_int_equal(declbin_decode(&back, buf, len, "f", &e), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[0].file, "/etc/wisp/10-x.yaml");
	assert_null(back.v[1].argv); /* a container without a command: its image's */
	assert_string_equal(back.errors[0], said);
	assert_null(back.errors[1]);
	assert_string_equal(back.broken[0], "z");
	assert_null(back.broken[1]);
	declc_early(&set, refuse, NULL);
	assert_int_equal(set.n, 1); /* ok, the early one */
	assert_null(set.errors);
	assert_null(set.broken);
	decls_free(&set);
	decls_free(&back);
	free(buf);
}

/* Read back: the early units only (b waits for c), each field as parsed. */
static void test_round_trip(void **state)
{
	struct decls set = {0};
	char *buf, *again, *twice;
	size_t len, len2, len3;
	const struct decl *d;
	struct err e;

	(void)state;
	compiled(&buf, &len);
	assert_int_equal(warnings, 1); /* b: early, but depends on "c" */
	assert_int_equal(declbin_decode(&set, buf, len, "x", &e), 0);
	assert_int_equal(set.n, 2);
	d = &set.v[0];
	assert_string_equal(d->name, "a");
	assert_string_equal(d->file, "/etc/wisp/10-units.yaml");
	assert_int_equal(d->line, 3);
	assert_string_equal(d->argv[2], "");
	assert_null(d->argv[3]);
	assert_string_equal(d->tty, "console");
	assert_true(d->has_uid && d->uid == 33 && d->gid == 34);
	assert_int_equal(d->backoff_reset_ms, 3600000);
	assert_string_equal(d->health.argv[2], "test -f /run/ok");
	assert_int_equal(d->health.retries, 2);
	assert_string_equal(d->res.cpu_max, "50000 100000");
	assert_int_equal(d->res.memory_max, 64 << 20);
	assert_true(d->early && d->critical);
	d = &set.v[1];
	assert_string_equal(d->name, "web");
	assert_int_equal(d->kind, KIND_CONTAINER);
	assert_string_equal(d->entrypoint[1], "-c");
	assert_string_equal(d->ports[1], "53:53/udp");
	assert_string_equal(d->res.net_ingress, "1gbit");
	assert_int_equal(d->ndeps, 1);
	assert_string_equal(d->deps[0].name, "a");
	assert_string_equal(set.environment[0], "LANG=C.UTF-8");
	/* every field of the table, whatever its type, comes back as it went */
	assert_int_equal(declbin_encode(&set, &again, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
	/* reproducible: the same declarations, the same bytes */
	compiled(&twice, &len3);
	assert_int_equal(len3, len);
	assert_memory_equal(twice, buf, len);
	decls_free(&set);
	free(buf);
	free(again);
	free(twice);
}

/* Every prefix is refused whole; every damaged byte is refused or reads as a valid set. */
static void test_damage(void **state)
{
	struct decls set = {0};
	char *buf;
	size_t len;
	struct err e;

	(void)state;
	compiled(&buf, &len);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(declbin_decode(&set, buf, n, "/etc/wisp/early.compiled", &e), -1);
		assert_int_equal(set.n, 0);
		assert_null(set.v);
		assert_non_null(strstr(e.msg, "/etc/wisp/early.compiled: "));
	}
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			if (declbin_decode(&set, buf, len, "f", &e) == 0) {
				for (size_t j = 0; j < set.n; j++) {
					const struct decl *d = &set.v[j];
					assert_true(d->name && d->file &&
						    (d->argv || d->kind == KIND_CONTAINER));
					for (size_t k = 0; k < d->ndeps; k++)
						assert_non_null(d->deps[k].name);
				}
				decls_free(&set);
			}
			buf[i] ^= (char)(1 << bit);
		}
	free(buf);
}

static void test_refused(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *error;
	} cases[] = {
	    {"", 0, "f: not declarations compiled for this init"},
	    {"wisp compiled declarations\n\0\0\0\0", 31, "f: not declarations compiled"},
	    {"services:\n", 10, "f: not declarations compiled for this init"},
	};
	struct decls set = {0};
	char *buf, *p;
	size_t len;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(declbin_decode(&set, cases[i].bytes, cases[i].len, "f", &e), -1);
		assert_non_null(strstr(e.msg, cases[i].error));
	}
	/* bytes after the last unit */
	compiled(&buf, &len);
	assert_non_null(buf = realloc(buf, len + 1));
	buf[len] = 'x';
	assert_int_equal(declbin_decode(&set, buf, len + 1, "f", &e), -1);
	assert_non_null(strstr(e.msg, "f: bytes after the last unit at byte"));
	/* a NUL inside a string (its length says more): one spelling per set, so refused */
	buf[len] = '\0';
	assert_non_null(p = memmem(buf, len, "/srv/web", 8));
	p[4] = '\0';
	assert_int_equal(declbin_decode(&set, buf, len, "f", &e), -1);
	assert_non_null(strstr(e.msg, "f: a string with a NUL byte at byte"));
	free(buf);
}

static int setup(void **state)
{
	char etc[600];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	mkdir(etc, 0755);
	put_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/:/bin/false\n");
	put_file("etc/group", "root:x:0:\nwww:x:34:\n");
	put_file("10-units.yaml", units);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_problems_carried),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("init_declbin", tests, setup, teardown);
}
