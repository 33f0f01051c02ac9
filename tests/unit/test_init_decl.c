/* Unit tests: init/lib/decl.c (+ yamltree.c), the declaration parser. */
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

static char tmpdir[] = "/tmp/test_init_decl.XXXXXX";

struct capture {
	char *line[64];
	int n;
};

static void capture(void *ctx, const char *msg)
{
	struct capture *c = ctx;

	if (c->n < 64)
		c->line[c->n++] = strdup(msg);
}

static void capture_free(struct capture *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->line[i]);
	c->n = 0;
}

/* Write text to tmpdir/name; returns the path (static storage, per name slot). */
static const char *put(const char *name, const char *text)
{
	static char paths[8][256];
	static int next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, 256, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load text as one file; errors go to cap. */
static const char *load(const char *text, struct decls *set, struct capture *cap)
{
	const char *path = put("t.yaml", text);
	int n = decl_load_file(set, path, capture, cap);

	assert_int_equal(n, cap->n);
	return path;
}

/* cap->line[i] must be "path:" + rest. */
static void expect_line(const struct capture *cap, int i, const char *path, const char *rest)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s:%s", path, rest);
	assert_true(i < cap->n);
	assert_string_equal(cap->line[i], want);
}

/* A declaration text and all that loading it must give: each problem, in
 * order, as after "path:" ({path} stands for the file's path, {dir} for
 * tmpdir), then the names of the units kept, blank-separated. */
struct load_case {
	const char *text, *kept;
	const char *errors[6]; /* up to a NULL */
};

static void append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s", s);
}

/* Append text with {path} and {dir} replaced. */
static void append_expanded(char *buf, size_t size, const char *text, const char *path)
{
	while (*text) {
		if (!strncmp(text, "{path}", 6)) {
			append(buf, size, path);
			text += 6;
		} else if (!strncmp(text, "{dir}", 5)) {
			append(buf, size, tmpdir);
			text += 5;
		} else {
			char c[2] = {*text++, '\0'};
			append(buf, size, c);
		}
	}
}

/* Load t's text (then check its dependencies if deps) into set; its problems
 * and the units kept must be t's. On a difference, the case is named: table[i]. */
static void check_load(const char *table, size_t i, const struct load_case *t, bool deps,
		       struct decls *set)
{
	struct capture cap = {0};
	char got[4096] = "", want[4096] = "";
	const char *path = load(t->text, set, &cap);

	if (deps)
		deps_check(set, capture, &cap);
	for (int k = 0; k < cap.n; k++) {
		append(got, sizeof(got), cap.line[k]);
		append(got, sizeof(got), "\n");
	}
	append(got, sizeof(got), "kept:");
	for (size_t k = 0; k < set->n; k++) {
		append(got, sizeof(got), " ");
		append(got, sizeof(got), set->v[k].name);
	}
	for (int k = 0; t->errors[k]; k++) {
		append(want, sizeof(want), path);
		append(want, sizeof(want), ":");
		append_expanded(want, sizeof(want), t->errors[k], path);
		append(want, sizeof(want), "\n");
	}
	append(want, sizeof(want), t->kept[0] ? "kept: " : "kept:");
	append(want, sizeof(want), t->kept);
	if (strcmp(got, want))
		print_message("%s[%zu]: not as expected\n", table, i);
	assert_string_equal(got, want);
	capture_free(&cap);
}

static void check_case(const char *table, size_t i, const struct load_case *t, bool deps)
{
	struct decls set = {0};

	check_load(table, i, t, deps, &set);
	decls_free(&set);
}

static void check_cases(const char *table, const struct load_case *t, size_t n, bool deps)
{
	for (size_t i = 0; i < n; i++)
		check_case(table, i, &t[i], deps);
}

#define CHECK_CASES(cases, deps) check_cases(#cases, cases, ARRAY_LEN(cases), deps)

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_good_file(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	const struct decl *d;

	(void)state;
	load("# Wisp declarations\n"
	     "services:\n"
	     "  - name: console          # a shell on the console\n"
	     "    command: [/bin/sh, -l]\n"
	     "    tty: console\n"
	     "    restart: always\n"
	     "    env: {FOO: bar, PORT: 8080}\n"
	     "    working_dir: /root\n"
	     "  - name: hello.world_2-x\n"
	     "    command: echo \"hello world\"; exit 3\n"
	     "  - name: serial\n"
	     "    command:\n"
	     "      - /sbin/getty\n"
	     "      - \"115200\"\n"
	     "      - ttyS1\n"
	     "    tty: /dev/ttyS1\n"
	     "    restart: on-failure\n"
	     "    env:\n"
	     "      - A=1\n"
	     "      - B=x=y\n"
	     "      - C=\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(set.n, 3);

	d = &set.v[0];
	assert_string_equal(d->name, "console");
	assert_int_equal(strv_len(d->argv), 2);
	assert_string_equal(d->argv[0], "/bin/sh");
	assert_string_equal(d->argv[1], "-l");
	assert_string_equal(d->tty, "console");
	assert_int_equal(d->restart, RESTART_ALWAYS);
	assert_int_equal(strv_len(d->env), 2);
	assert_string_equal(d->env[0], "FOO=bar");
	assert_string_equal(d->env[1], "PORT=8080");
	assert_string_equal(d->working_dir, "/root");
	assert_int_equal(d->line, 3);
	assert_int_equal(d->col, 5);

	/* A string command runs under the shell, as one argument. */
	d = &set.v[1];
	assert_string_equal(d->name, "hello.world_2-x");
	assert_int_equal(strv_len(d->argv), 3);
	assert_string_equal(d->argv[0], "/bin/sh");
	assert_string_equal(d->argv[1], "-c");
	assert_string_equal(d->argv[2], "echo \"hello world\"; exit 3");
	assert_null(d->tty);
	assert_null(d->working_dir);
	assert_int_equal(d->restart, RESTART_NO);
	assert_int_equal(strv_len(d->env), 0);

	d = &set.v[2];
	assert_int_equal(strv_len(d->argv), 3);
	assert_string_equal(d->argv[1], "115200");
	assert_string_equal(d->tty, "/dev/ttyS1");
	assert_int_equal(d->restart, RESTART_ON_FAILURE);
	assert_int_equal(strv_len(d->env), 3);
	assert_string_equal(d->env[0], "A=1");
	assert_string_equal(d->env[1], "B=x=y");
	assert_string_equal(d->env[2], "C=");
	decls_free(&set);
}

static void test_empty_files(void **state)
{
	static const char *const texts[] = {
	    "", "# nothing yet\n", "services:\n", "services: []\n", "~\n", "---\n...\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct decls set = {0};
		struct capture cap = {0};

		load(texts[i], &set, &cap);
		assert_int_equal(cap.n, 0);
		assert_int_equal(set.n, 0);
		decls_free(&set);
	}
}

static void test_env_forms(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	char **env;

	(void)state;
	load("services:\n"
	     "  - {name: a, command: x, env: {PATH: /opt/bin, X: '1'}}\n"
	     "  - {name: b, command: x, env: [HOME=/srv]}\n"
	     "  - {name: c, command: x, env: }\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(set.n, 3);

	/* The declared value replaces the base one; the rest of the base stays. */
	env = decl_environ(&set.v[0], NULL);
	assert_non_null(env);
	assert_int_equal(strv_len(env), 4);
	assert_string_equal(env[0], "HOME=/root");
	assert_string_equal(env[1], "TERM=linux");
	assert_string_equal(env[2], "PATH=/opt/bin");
	assert_string_equal(env[3], "X=1");
	strv_free(env);

	env = decl_environ(&set.v[1], NULL);
	assert_int_equal(strv_len(env), 3);
	assert_string_equal(env[0], "PATH=/sbin:/usr/sbin:/bin:/usr/bin");
	assert_string_equal(env[1], "TERM=linux");
	assert_string_equal(env[2], "HOME=/srv");
	strv_free(env);

	env = decl_environ(&set.v[2], NULL);
	assert_int_equal(strv_len(env), 3);
	assert_string_equal(env[0], "PATH=/sbin:/usr/sbin:/bin:/usr/bin");
	assert_string_equal(env[1], "HOME=/root");
	assert_string_equal(env[2], "TERM=linux");
	strv_free(env);
	decls_free(&set);
}

static void test_field_errors(void **state)
{
	static const struct load_case field_cases[] = {
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    colour: red\n",
	     "",
	     {"4:5: service \"a\": unknown field \"colour\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    kind: container\n",
	     "",
	     {"2:5: service \"a\": missing \"image\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    image: busybox\n",
	     "",
	     {"4:5: service \"a\": field \"image\" is only for kind container"}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    tty: console\n",
	     "",
	     {"4:5: service \"a\": field \"tty\" is not for containers"}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    user: web\n"
	     "    group: web\n",
	     "",
	     {"5:12: service \"a\": \"group\" is not for containers: write user: "
	      "NAME:GROUP"}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    network: Nat/1\n",
	     "",
	     {"4:14: service \"a\": \"network\" must be host, bridge, none or a container, not "
	      "\"Nat/1\""}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    userns: private\n",
	     "",
	     {"4:13: service \"a\": \"userns\" must be auto or host, not \"private\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: [x]\n"
	     "    userns: host\n",
	     "",
	     {"4:5: service \"a\": field \"userns\" is only for kind container"}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    read_only: maybe\n",
	     "",
	     {"4:16: service \"a\": \"read_only\" must be true or false, not \"maybe\""}},
	    {"containers:\n"
	     "  - name: a\n"
	     "    image: busybox\n"
	     "    pull: sometimes\n",
	     "",
	     {"4:11: service \"a\": \"pull\" must be missing, always or never, not \"sometimes\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: [x]\n"
	     "    pull: always\n",
	     "",
	     {"4:5: service \"a\": field \"pull\" is only for kind container"}},
	    {"services:\n"
	     "  - command: x\n",
	     "",
	     {"2:5: service #1: missing \"name\""}},
	    {"services:\n"
	     "  - name: a\n",
	     "",
	     {"2:5: service \"a\": missing \"command\""}},
	    {"services:\n"
	     "  - name: Web Server\n"
	     "    command: x\n",
	     "",
	     {"2:11: service #1: \"name\" must match [a-z0-9][a-z0-9_.-]* "
	      "(at most 64 characters), not \"Web Server\""}},
	    {"services:\n"
	     "  - name: [a]\n"
	     "    command: x\n",
	     "",
	     {"2:11: service #1: \"name\" must be a string, not a list"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: {run: x}\n",
	     "",
	     {"3:14: service \"a\": \"command\" must be a list (argv) or a string "
	      "(shell command)"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: []\n",
	     "",
	     {"3:14: service \"a\": \"command\" is empty"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: '  '\n",
	     "",
	     {"3:14: service \"a\": \"command\" is empty"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: [/bin/echo, [x]]\n",
	     "",
	     {"3:26: service \"a\": \"command\" must be a string, not a list"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    restart: sometimes\n",
	     "",
	     {"4:14: service \"a\": \"restart\" must be no, on-failure or always, "
	      "not \"sometimes\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    tty: ttyS0\n",
	     "",
	     {"4:10: service \"a\": \"tty\" must be \"console\" or a device path like "
	      "/dev/ttyS0, not \"ttyS0\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    working_dir: srv\n",
	     "",
	     {"4:18: service \"a\": \"working_dir\" must be an absolute path, not \"srv\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    command: y\n",
	     "",
	     {"4:5: service \"a\": field \"command\" is given twice"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    env: {1X: y}\n",
	     "",
	     {"4:11: service \"a\": env name \"1X\" is not valid (letters, digits, _)"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    env: [A=1, JUSTTEXT]\n",
	     "",
	     {"4:16: service \"a\": env entry \"JUSTTEXT\" is not KEY=value"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    env: [A=1, A=2]\n",
	     "",
	     {"4:16: service \"a\": env \"A\" is given twice"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    env: {A: [1]}\n",
	     "",
	     {"4:14: service \"a\": \"env\" must be a string, not a list"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: x\n"
	     "    env: 3\n",
	     "",
	     {"4:10: service \"a\": \"env\" must be a mapping or a list of KEY=value"}},
	    {"services:\n"
	     "  - just a string\n",
	     "",
	     {"2:5: service #1: must be a mapping of fields (name, command, ...)"}},
	    /* host access (test_host_access_errors) is a container's */
	    {"services:\n  - name: a\n    command: [x]\n    privileged: true\n",
	     "",
	     {"4:5: service \"a\": field \"privileged\" is only for kind container"}},
	};

	(void)state;
	CHECK_CASES(field_cases, false);
}

/* Problems of a whole file: each reported at its place, what they cost. */
static void test_file_problems(void **state)
{
	static const struct load_case file_cases[] = {
	    /* each problem of a service is reported; the service is skipped once */
	    {"services:\n  - name: a\n    restart: maybe\n    tty: 5\n",
	     "",
	     {"3:14: service \"a\": \"restart\" must be no, on-failure or always, not \"maybe\"",
	      "4:10: service \"a\": \"tty\" must be \"console\" or a device path like "
	      "/dev/ttyS0, not \"5\"",
	      "2:5: service \"a\": missing \"command\""}},
	    /* the top level's problems */
	    {"- name: a\n", "", {"1:1: the top level must be a mapping with a \"services\" list"}},
	    {"services: {name: a}\n", "", {"1:11: \"services\" must be a list"}},
	    {"services: []\nservices: []\n", "", {"2:1: \"services\" is given twice"}},
	    {"version: 1\nservices: []\n", "", {"1:1: unknown top-level key \"version\""}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: *nope\n",
	     "",
	     {"3:14: service \"a\": \"command\": YAML aliases are not supported"}},
	    /* an alias costs its own service only */
	    {"services:\n"
	     "  - name: a\n"
	     "    command: &c [sh]\n"
	     "  - name: b\n"
	     "    command: *c\n",
	     "a",
	     {"5:14: service \"b\": \"command\": YAML aliases are not supported"}},
	    /* a syntax error: what came before it is kept, the service it cut is named */
	    {"services:\n"
	     "  - name: good\n"
	     "    command: [x]\n"
	     "  - name: cut\n"
	     "    command: [x\n"
	     "    tty: console\n"
	     "  - name: lost\n"
	     "    command: y\n",
	     "good",
	     {"6:8: service \"cut\": YAML syntax error: did not find expected ',' or ']'; "
	      "the rest of the file is ignored"}},
	    /* the bad indentation ends service "a" before libyaml sees the error */
	    {"services:\n"
	     "  - name: a\n"
	     "   command: x\n",
	     "",
	     {"2:5: service \"a\": missing \"command\"",
	      "3:4: YAML syntax error: did not find expected '-' indicator; the rest of the "
	      "file is ignored"}},
	    {"services: [\n",
	     "",
	     {"2:1: YAML syntax error: did not find expected node content; "
	      "the rest of the file is ignored"}},
	    {"services:\n"
	     "  - {name: a, command: x}\n"
	     "oops\n",
	     "",
	     {"4:1: YAML syntax error: could not find expected ':'; "
	      "the rest of the file is ignored"}},
	    {"\tservices: []\n",
	     "",
	     {"1:1: YAML syntax error: found character that cannot start any token; "
	      "the rest of the file is ignored"}},
	    {"services:\n"
	     "  - name: a\n"
	     "    command: \"\xff\"\n",
	     "",
	     {"3:15: YAML syntax error: invalid leading UTF-8 octet; the rest of the file "
	      "is ignored"}},
	};

	(void)state;
	CHECK_CASES(file_cases, false);
}

/* A bad service costs only itself. */
static void test_others_kept(void **state)
{
	static const struct load_case t = {
	    "services:\n"
	    "  - name: one\n"
	    "    command: x\n"
	    "  - name: two\n"
	    "    command: x\n"
	    "    bogus: 1\n"
	    "  - name: one\n"
	    "    command: y\n"
	    "  - name: three\n"
	    "    command: [z]\n",
	    "one three",
	    {"6:5: service \"two\": unknown field \"bogus\"",
	     "7:5: service \"one\": name already used at {path}:2:5"}};
	struct decls set = {0};

	(void)state;
	check_load("others_kept", 0, &t, false, &set);
	assert_string_equal(set.v[0].argv[2], "x"); /* the first "one" */
	decls_free(&set);
}

static void test_too_deep(void **state)
{
	char text[512] = "services: ";

	(void)state;
	for (int i = 0; i < YAML_MAX_DEPTH + 5; i++)
		strcat(text, "[");
	strcat(text, "\n");
	/* The second [ is service #1: the error is blamed on it. */
	check_case("too_deep", 0,
		   &(struct load_case){text,
				       "",
				       {"1:42: service #1: YAML syntax error: nested too deep; the "
					"rest of the file is ignored"}},
		   false);
}

static void test_unreadable(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	char path[300], want[400];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
	assert_int_equal(decl_load_file(&set, path, capture, &cap), 1);
	snprintf(want, sizeof(want), "open %s: No such file or directory", path);
	assert_string_equal(cap.line[0], want);
	capture_free(&cap);
}

/* Files in name order; a name is unique across files; only *.yaml count. */
static void test_dir(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	char sub[300], a[400], b[400], rest[600];
	FILE *f;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/wisp", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(b, sizeof(b), "%s/20-b.yaml", sub);
	f = fopen(b, "w");
	fputs("services:\n  - {name: web, command: y}\n  - {name: b, command: z}\n", f);
	fclose(f);
	snprintf(a, sizeof(a), "%s/10-a.yaml", sub);
	f = fopen(a, "w");
	fputs("services:\n  - {name: web, command: x}\n", f);
	fclose(f);
	snprintf(rest, sizeof(rest), "%s/30-c.yml", sub);
	f = fopen(rest, "w");
	fputs("not: a declaration\n", f);
	fclose(f);
	snprintf(rest, sizeof(rest), "%s/.hidden.yaml", sub);
	f = fopen(rest, "w");
	fputs("not: a declaration\n", f);
	fclose(f);

	assert_int_equal(decl_load_dir(&set, sub, capture, &cap), 1);
	snprintf(rest, sizeof(rest), "2:5: service \"web\": name already used at %s:2:5", a);
	expect_line(&cap, 0, b, rest);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].name, "web");
	assert_string_equal(set.v[0].argv[2], "x");
	assert_string_equal(set.v[1].name, "b");
	capture_free(&cap);
	decls_free(&set);

	/* No directory: nothing declared, nothing wrong. */
	snprintf(sub, sizeof(sub), "%s/none", tmpdir);
	assert_int_equal(decl_load_dir(&set, sub, capture, &cap), 0);
	assert_int_equal(set.n, 0);
}

/* Host access (a node agent's: containerd): privileged, pid: host and
 * binds, read as given; privileged and pid: host take the host's ids. */
static void test_host_access(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	const struct decl *d;

	(void)state;
	load("containers:\n"
	     "  - name: node\n"
	     "    image: node:1\n"
	     "    privileged: true\n"
	     "    pid: host\n"
	     "    volumes: [/var/lib/containerd:/var/lib/containerd, '/run/x:/run/x:rw,rshared',\n"
	     "              '/dev:/dev:ro']\n"
	     "  - name: pidonly\n"
	     "    image: node:1\n"
	     "    pid: host\n"
	     "    userns: host\n"
	     "  - name: plain\n"
	     "    image: node:1\n"
	     "    volumes: ['/srv/web:/usr/share/web:ro']\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(set.n, 3);
	d = &set.v[0];
	assert_true(d->privileged);
	assert_true(d->host_pid);
	assert_true(d->host_userns); /* implied */
	assert_int_equal(strv_len(d->volumes), 3);
	assert_string_equal(d->volumes[1], "/run/x:/run/x:rw,rshared");
	assert_false(set.v[1].privileged);
	assert_true(set.v[1].host_pid && set.v[1].host_userns);
	d = &set.v[2];
	assert_false(d->privileged || d->host_pid || d->host_userns);
	assert_string_equal(d->volumes[0], "/srv/web:/usr/share/web:ro");
	decls_free(&set);
	capture_free(&cap);
}

/* What host access refuses: each a one-line error at its place. */
static void test_host_access_errors(void **state)
{
	static const struct {
		const char *field, *error;
	} cases[] = {
	    {"privileged: maybe", "4:17: service \"a\": \"privileged\" must be true or false, not "
				  "\"maybe\""},
	    {"pid: container", "4:10: service \"a\": \"pid\" must be host or private, not "
			       "\"container\""},
	    {"volumes: /a:/b", "4:14: service \"a\": \"volumes\" must be a list of at most 32 "
			       "\"SRC:DST[:OPTS]\""},
	    {"volumes: [data:/b]", "4:15: service \"a\": volume \"data:/b\" is not "
				   "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:b']", "4:15: service \"a\": volume \"/a:b\" is not "
				  "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:ro,']", "4:15: service \"a\": volume \"/a:/b:ro,\" is not "
				       "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:z']", "4:15: service \"a\": volume \"/a:/b:z\" is not "
				     "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:r']", "4:15: service \"a\": volume \"/a:/b:r\" is not "
				     "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:rox']", "4:15: service \"a\": volume \"/a:/b:rox\" is not "
				       "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:ro,,rw']", "4:15: service \"a\": volume \"/a:/b:ro,,rw\" is not "
					  "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:ro rw']", "4:15: service \"a\": volume \"/a:/b:ro rw\" is not "
					 "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"volumes: ['/a:/b:rprivates']",
	     "4:15: service \"a\": volume \"/a:/b:rprivates\" is not "
	     "/HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]"},
	    {"privileged: true\n    userns: auto",
	     "2:5: service \"a\": \"privileged\" needs the host's ids: \"userns: host\", no "
	     "container's network"},
	    {"pid: host\n    network: b",
	     "2:5: service \"a\": \"pid\" needs the host's ids: \"userns: host\", no "
	     "container's network"},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "containers:\n  - name: a\n    image: busybox\n    %s\n", cases[i].field);
		check_case("host_access_errors", i, &(struct load_case){text, "", {cases[i].error}},
			   false);
	}
}

/* A container: kind from its list or its field (read first, whatever its
 * place), its user kept as text for the image, its own fields. */
static void test_containers(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	const struct decl *d;

	(void)state;
	load("services:\n"
	     "  - name: web\n"
	     "    user: nobody-in-host-passwd:grp\n"
	     "    kind: container\n"
	     "    image: registry/web:1.2\n"
	     "    entrypoint: [/bin/web]\n"
	     "    command: [--port, '80']\n"
	     "    network: private\n"
	     "    read_only: true\n"
	     "    stop_signal: QUIT\n"
	     "    resources: {pids_max: max}\n"
	     "    userns: host\n"
	     "    pull: always\n"
	     "  - name: plain\n"
	     "    command: x\n"
	     "containers:\n"
	     "  - name: db\n"
	     "    image: db@sha256:0123456789abcdef\n"
	     "    network: none\n"
	     "    pull: never\n"
	     "  - name: small\n"
	     "    image: small\n"
	     "    network: bridge\n"
	     "    ports: ['8080:80', '127.0.0.1:5353:53/udp', 10.0.2.15:8081:81/tcp]\n"
	     "    resources: {pids_max: 64}\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(set.n, 4);
	/* pids.max: a container's default, its own number or "max"; a service has none */
	assert_int_equal(set.v[0].res.pids_max, UINT64_MAX);
	assert_int_equal(set.v[1].res.pids_max, 0);
	assert_int_equal(set.v[2].res.pids_max, 4096);
	assert_int_equal(set.v[3].res.pids_max, 64);
	d = &set.v[0];
	assert_int_equal(d->kind, KIND_CONTAINER);
	assert_string_equal(d->image, "registry/web:1.2");
	assert_string_equal(d->user_spec, "nobody-in-host-passwd:grp");
	assert_false(d->has_uid);
	assert_string_equal(d->entrypoint[0], "/bin/web");
	assert_string_equal(d->argv[1], "80");
	assert_int_equal(d->net, DECL_NET_PRIVATE);
	assert_true(d->read_only);
	assert_true(d->stop_signal_set);
	assert_true(d->host_userns);
	assert_int_equal(d->pull, DECL_PULL_ALWAYS);
	assert_int_equal(set.v[2].pull, DECL_PULL_NEVER);
	assert_int_equal(set.v[3].pull, DECL_PULL_MISSING); /* the default, as docker run's */
	d = &set.v[2];
	assert_int_equal(d->kind, KIND_CONTAINER);
	assert_null(d->argv);			    /* the image's command */
	assert_int_equal(d->net, DECL_NET_PRIVATE); /* none: docker's name for it */
	assert_false(d->read_only);
	assert_false(d->stop_signal_set);
	assert_false(d->host_userns); /* userns: auto, the default */
	assert_int_equal(set.v[3].net, DECL_NET_BRIDGE);
	assert_int_equal(set.v[1].net, DECL_NET_HOST); /* a service: the host's, always */
	assert_int_equal(strv_len(set.v[3].ports), 3);
	assert_string_equal(set.v[3].ports[1], "127.0.0.1:5353:53/udp");
	assert_null(set.v[2].ports);
	decls_free(&set);
	capture_free(&cap);
}

/* ports: docker's -p syntax, from the bridge only, a host port once. */
static void test_port_errors(void **state)
{
	static const struct {
		const char *ports, *error;
	} cases[] = {
	    {"['80']", "5:13: service \"a\": port \"80\" is not [IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['0:80']",
	     "5:13: service \"a\": port \"0:80\" is not [IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['65536:80']",
	     "5:13: service \"a\": port \"65536:80\" is not [IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['8080:80/sctp']",
	     "5:13: service \"a\": port \"8080:80/sctp\" is not [IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['1.2.3:8080:80']", "5:13: service \"a\": port \"1.2.3:8080:80\" is not "
				  "[IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['256.0.0.1:8080:80']", "5:13: service \"a\": port \"256.0.0.1:8080:80\" is not "
				      "[IP:]HOST_PORT:CTR_PORT[/tcp|udp]"},
	    {"['8080:80', '127.0.0.1:8080:81']",
	     "5:24: service \"a\": port \"127.0.0.1:8080:81\": its host port is given twice"},
	    {"[8080:80, 8080:80/tcp]",
	     "5:22: service \"a\": port \"8080:80/tcp\": its host port is given twice"},
	    {"'8080:80'", "5:12: service \"a\": \"ports\" must be a list of at most 32 "
			  "\"[IP:]HOST_PORT:CTR_PORT[/udp]\""},
	};
	static const struct load_case port_cases[] = {
	    /* the same port on two protocols, or on two addresses, is fine */
	    {"containers:\n  - name: a\n    image: i\n    network: bridge\n"
	     "    ports: ['53:53/udp', '53:53', 10.0.0.1:80:80, 10.0.0.2:80:80]\n",
	     "a",
	     {NULL}},
	    {"containers:\n  - name: a\n    image: i\n    network: host\n    ports: ['80:80']\n",
	     "",
	     {"2:5: service \"a\": \"ports\" are published from \"network: bridge\" only"}},
	    /* bridge is a container's default network */
	    {"containers:\n  - name: a\n    image: i\n    ports: ['80:80']\n", "a", {NULL}},
	};
	char doc[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "containers:\n  - name: a\n    image: i\n    network: bridge\n"
			 "    ports: %s\n",
			 cases[i].ports);
		check_case("port_errors", i, &(struct load_case){doc, "", {cases[i].error}}, false);
	}
	CHECK_CASES(port_cases, false);
}

/* network: NAME, another container's namespaces: it depends on NAME
 * (started, unless written otherwise), takes NAME's ids (no userns of
 * its own) and publishes nothing itself. */
static void test_network_share(void **state)
{
	static const struct load_case share_cases[] = {
	    {"containers:\n  - name: side\n    image: i\n    network: nosuch\n",
	     "",
	     {"4:14: service \"side\": unknown dependency \"nosuch\""}},
	    {"containers:\n  - name: a\n    image: i\n    network: b\n"
	     "  - name: b\n    image: i\n    network: private\n",
	     "a b",
	     {NULL}},
	    {"containers:\n  - name: a\n    image: i\n    network: b\n"
	     "    userns: host\n",
	     "",
	     {"2:5: service \"a\": \"userns\" comes from network b"}},
	    {"containers:\n  - name: a\n    image: i\n    network: b\n    ports: ['80:80']\n",
	     "",
	     {"2:5: service \"a\": \"ports\" are published from \"network: bridge\" only"}},
	};
	struct decls set = {0};
	struct capture cap = {0};
	const struct decl *d;

	(void)state;
	load("containers:\n"
	     "  - name: web\n    image: i\n    network: bridge\n"
	     "  - name: side\n    image: i\n    network: web\n    depends_on: [db]\n"
	     "  - name: probe\n    image: i\n    network: web\n"
	     "    depends_on: {web: {condition: healthy}}\n"
	     "  - name: db\n    image: i\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(deps_check(&set, capture, &cap), 0);
	assert_int_equal(set.v[3].net, DECL_NET_BRIDGE); /* not written: the default */
	d = &set.v[1];
	assert_int_equal(d->net, DECL_NET_CONTAINER);
	assert_string_equal(d->net_peer, "web");
	assert_int_equal(d->ndeps, 2);
	assert_string_equal(d->deps[1].name, "web");
	assert_int_equal(d->deps[1].cond, DEP_STARTED);
	assert_int_equal(d->deps[1].line, 7);
	d = &set.v[2];
	assert_int_equal(d->ndeps, 1); /* written: healthy, kept */
	assert_int_equal(d->deps[0].cond, DEP_HEALTHY);
	decls_free(&set);
	capture_free(&cap);
	CHECK_CASES(share_cases, true);
}

/* resources.net_egress, net_ingress: tc's rates, kept as text; bridge containers only. */
static void test_net_rates(void **state)
{
	static const char *const good[] = {"20mbit", "100kbit", "16gbit", "100000bit", "1gbit"};
	static const char *const bad[] = {
	    "20",     "20mbps", "20Mbit", "1.5mbit", "mbit",
	    "99kbit", "0mbit",	"17gbit", "20 mbit", "99999999999999999999gbit"};
	static const struct load_case rate_cases[] = {
	    {"containers:\n  - name: a\n    image: i\n" /* the bridge: the default */
	     "    resources: {net_egress: 20mbit}\n",
	     "a",
	     {NULL}},
	    {"containers:\n  - name: a\n    image: i\n    network: host\n"
	     "    resources: {net_egress: 20mbit}\n",
	     "",
	     {"2:5: service \"a\": \"resources.net_egress\" and \"net_ingress\" are "
	      "for \"network: bridge\" only"}},
	    {"containers:\n  - name: a\n    image: i\n    network: private\n"
	     "    resources: {net_ingress: 20mbit}\n",
	     "",
	     {"2:5: service \"a\": \"resources.net_egress\" and \"net_ingress\" are "
	      "for \"network: bridge\" only"}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    resources: {net_ingress: 20mbit}\n",
	     "",
	     {"2:5: service \"a\": \"resources.net_egress\" and \"net_ingress\" are "
	      "for \"network: bridge\" only"}},
	};
	struct decls set = {0};
	struct capture cap = {0};
	char doc[512], want[256];

	(void)state;
	load("containers:\n  - name: a\n    image: i\n    network: bridge\n"
	     "    resources: {net_egress: 20mbit, net_ingress: 1gbit, pids_max: 9}\n"
	     "  - name: b\n    image: i\n    network: bridge\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_string_equal(set.v[0].res.net_egress, "20mbit");
	assert_string_equal(set.v[0].res.net_ingress, "1gbit");
	assert_string_equal(set.v[1].res.net_egress, "");
	assert_string_equal(set.v[1].res.net_ingress, "");
	decls_free(&set);
	capture_free(&cap);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "containers:\n  - name: a\n    image: i\n    network: bridge\n"
			 "    resources: {net_ingress: %s}\n",
			 good[i]);
		check_case("net_rates good", i, &(struct load_case){doc, "a", {NULL}}, false);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "containers:\n  - name: a\n    image: i\n    network: bridge\n"
			 "    resources: {net_egress: '%s'}\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "5:29: service \"a\": \"resources.net_egress\" must be a rate like "
			 "20mbit, not \"%s\"",
			 bad[i]);
		check_case("net_rates bad", i, &(struct load_case){doc, "", {want}}, false);
	}
	CHECK_CASES(rate_cases, false);
}

static void test_full_fields(void **state)
{
	struct decls set = {0};
	struct capture cap = {0};
	const struct decl *d;

	(void)state;
	put("passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/var/www:/bin/false\n");
	put("group", "root:x:0:\nwww:x:34:\nlogs:x:4:\n");
	decl_set_etc(tmpdir);
	load("services:\n"
	     "  - name: db\n"
	     "    kind: oneshot\n"
	     "    command: [/bin/true]\n"
	     "  - name: web\n"
	     "    command: [/bin/web]\n"
	     "    user: www\n"
	     "    depends_on:\n"
	     "      db: {condition: completed}\n"
	     "    restart: on-failure\n"
	     "    restart_delay: {initial: 50ms, max: 2m, reset_after: 1h}\n"
	     "    stop_signal: INT\n"
	     "    stop_timeout: 3s\n"
	     "    healthcheck:\n"
	     "      command: test -f /run/ok\n"
	     "      interval: 1s\n"
	     "      timeout: 500ms\n"
	     "      retries: 2\n"
	     "      start_period: 5s\n"
	     "    resources:\n"
	     "      cpu_weight: 50\n"
	     "      cpu_max: 0.5\n"
	     "      memory_max: 64M\n"
	     "      pids_max: 100\n"
	     "  - name: app\n"
	     "    command: x\n"
	     "    user: '1000'\n"
	     "    group: logs\n"
	     "    depends_on: [db, web]\n",
	     &set, &cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(set.n, 3);
	assert_int_equal(deps_check(&set, capture, &cap), 0);
	assert_int_equal(set.v[0].kind, KIND_ONESHOT);
	d = &set.v[1];
	assert_int_equal(d->kind, KIND_SERVICE);
	assert_true(d->has_uid && d->has_gid);
	assert_int_equal(d->uid, 33);
	assert_int_equal(d->gid, 34);
	assert_int_equal(d->ndeps, 1);
	assert_string_equal(d->deps[0].name, "db");
	assert_int_equal(d->deps[0].cond, DEP_COMPLETED);
	assert_int_equal(d->backoff_initial_ms, 50);
	assert_int_equal(d->backoff_max_ms, 120000);
	assert_int_equal(d->backoff_reset_ms, 3600000);
	assert_int_equal(d->stop_signal, 2);
	assert_int_equal(d->stop_timeout_ms, 3000);
	assert_string_equal(d->health.argv[2], "test -f /run/ok");
	assert_int_equal(d->health.interval_ms, 1000);
	assert_int_equal(d->health.timeout_ms, 500);
	assert_int_equal(d->health.retries, 2);
	assert_int_equal(d->health.start_period_ms, 5000);
	assert_int_equal(d->res.cpu_weight, 50);
	assert_string_equal(d->res.cpu_max, "50000 100000");
	assert_int_equal(d->res.memory_max, 64u << 20);
	assert_int_equal(d->res.pids_max, 100);
	d = &set.v[2];
	assert_int_equal(d->uid, 1000);
	assert_int_equal(d->gid, 4);
	/* The list form: completed for a oneshot, started for a service. */
	assert_int_equal(d->deps[0].cond, DEP_COMPLETED);
	assert_int_equal(d->deps[1].cond, DEP_STARTED);
	/* Defaults. */
	assert_int_equal(set.v[0].stop_signal, 15);
	assert_int_equal(set.v[0].stop_timeout_ms, 10000);
	assert_null(set.v[0].health.argv);
	decls_free(&set);
	decl_set_etc("/etc");
}

static void test_full_errors(void **state)
{
	static const struct load_case full_cases[] = {
	    /* a uid without a passwd entry has no group: it would run in root's */
	    {"services:\n  - name: a\n    command: x\n    user: '4242'\n",
	     "",
	     {"4:11: service \"a\": \"user\": 4242 has no entry in {dir}/passwd: give its "
	      "\"group\""}},
	    {"services:\n  - name: a\n    command: x\n    user: '4242'\n"
	     "    group: '4242'\n",
	     "a",
	     {NULL}},
	    {"services:\n  - name: a\n    command: x\n    kind: daemon\n",
	     "",
	     {"4:11: service \"a\": \"kind\" must be service, oneshot or container, "
	      "not \"daemon\""}},
	    {"services:\n  - name: a\n    command: x\n    user: nobody\n",
	     "",
	     {"4:11: service \"a\": \"user\": no user \"nobody\" in {dir}/passwd"}},
	    {"services:\n  - name: a\n    command: x\n    stop_timeout: 5\n",
	     "",
	     {"4:19: service \"a\": \"stop_timeout\" must be a duration like 100ms, "
	      "5s or 2m, not \"5\""}},
	    {"services:\n  - name: a\n    command: x\n    stop_signal: TERMINATE\n",
	     "",
	     {"4:18: service \"a\": \"stop_signal\" must be a signal name like TERM "
	      "or INT, not \"TERMINATE\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    restart_delay: {initial: 1s, maximum: 2s}\n",
	     "",
	     {"4:34: service \"a\": unknown field \"restart_delay.maximum\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    healthcheck: {interval: 1s}\n",
	     "",
	     {"4:18: service \"a\": missing \"healthcheck.command\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    healthcheck: {command: x, retries: lots}\n",
	     "",
	     {"4:40: service \"a\": \"healthcheck.retries\" must be a number from 1 to "
	      "1000, not \"lots\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    resources: {memory_max: 12X}\n",
	     "",
	     {"4:29: service \"a\": \"resources.memory_max\" must be a size like 512M "
	      "or 2G, or max, not \"12X\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    resources: {cpu_max: lots}\n",
	     "",
	     {"4:26: service \"a\": \"resources.cpu_max\" must be \"QUOTA PERIOD\" "
	      "(microseconds), \"max\" or a number of cpus like 0.5, not \"lots\""}},
	    {"services:\n  - name: a\n    command: x\n"
	     "    depends_on: {b: {condition: ready}}\n",
	     "",
	     {"4:33: service \"a\": \"depends_on.b.condition\" must be started, "
	      "healthy or completed, not \"ready\""}},
	    {"services:\n  - name: a\n    command: x\n    depends_on: b\n",
	     "",
	     {"4:17: service \"a\": \"depends_on\" must be a list of names or a "
	      "mapping name: {condition: ...}"}},
	};

	(void)state;
	decl_set_etc(tmpdir);
	put("passwd", "root:x:0:0:root:/root:/bin/sh\n");
	put("group", "root:x:0:\n");
	CHECK_CASES(full_cases, false);
	decl_set_etc("/etc");
}

static void test_deps(void **state)
{
	static const struct load_case deps_cases[] = {
	    {"services:\n"
	     "  - {name: a, command: x, depends_on: [nope]}\n"
	     "  - {name: b, command: x, depends_on: [a]}\n"
	     "  - {name: c, command: x}\n",
	     "c",
	     {"2:40: service \"a\": unknown dependency \"nope\"",
	      "3:40: service \"b\": depends on \"a\", which is not started"}},
	    {"services:\n"
	     "  - {name: a, command: x, depends_on: [b]}\n"
	     "  - {name: b, command: x, depends_on: [a]}\n"
	     "  - {name: c, command: x, depends_on: [b]}\n"
	     "  - {name: d, command: x, depends_on: [d]}\n"
	     "  - {name: e, command: x}\n",
	     "e",
	     {"2:5: service \"a\": dependency cycle: a -> b -> a",
	      "3:5: service \"b\": dependency cycle: a -> b -> a",
	      "5:5: service \"d\": dependency cycle: d -> d",
	      "4:40: service \"c\": depends on \"b\", which is not started"}},
	    {"services:\n"
	     "  - {name: a, command: x, colour: red}\n"
	     "  - {name: b, command: x, depends_on: [a]}\n",
	     "",
	     {"2:27: service \"a\": unknown field \"colour\"", /* the loader's */
	      "3:40: service \"b\": depends on \"a\", whose declaration has errors"}},
	    /* declaration order does not matter */
	    {"services:\n"
	     "  - {name: late, command: x, depends_on: [early]}\n"
	     "  - {name: early, command: x}\n",
	     "late early",
	     {NULL}},
	};

	(void)state;
	CHECK_CASES(deps_cases, true);
}

/* N services in one file, each depending on the next (UP) or on the one before. */
static char *chain(int n, bool up)
{
	size_t size = (size_t)n * 64 + 16, len;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, "services:\n");
	for (int i = 0; i < n; i++)
		if (up || i)
			len +=
			    (size_t)snprintf(text + len, size - len,
					     "  - {name: u%05d, command: x, depends_on: [u%05d]}\n",
					     i, up ? i + 1 : i - 1);
		else
			len += (size_t)snprintf(text + len, size - len,
						"  - {name: u00000, command: x}\n");
	return text;
}

/* User-data can declare many units: 16 000 in a chain, under the 1 MiB of a
 * file, once overflowed PID 1's stack in deps_check() (a kernel panic at every
 * boot). A list is read up to DECL_MAX_UNITS, with one line for the rest, and
 * a chain that long is checked whole. */
static void test_many_units(void **state)
{
	(void)state;
	for (int up = 1; up >= 0; up--) {
		struct decls set = {0};
		struct capture cap = {0};
		char *text = chain(16000, up);
		const char *path = load(text, &set, &cap);
		int errors;

		free(text);
		assert_int_equal(set.n, DECL_MAX_UNITS);
		assert_int_equal(cap.n, 1);
		expect_line(&cap, 0, path,
			    "1026:5: more than 1024 units: the rest of \"services\" is left out");
		errors = deps_check(&set, capture, &cap);
		/* up: u01023 depends on u01024, left out; so do all before it, in turn */
		assert_int_equal(errors, up ? DECL_MAX_UNITS : 0);
		assert_int_equal(set.n, up ? 0 : DECL_MAX_UNITS);
		if (up)
			expect_line(&cap, 1, path,
				    "1025:45: service \"u01023\": unknown dependency \"u01024\"");
		capture_free(&cap);
		decls_free(&set);
	}
}

static void test_values(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint32_t ms; /* when r is 0 */
	} durations[] = {
	    {"100ms", 0, 100}, {"5s", 0, 5000},	    {"2m", 0, 120000}, {"1h", 0, 3600000},
	    {"0", 0, 0},       {"5", -1, 0},	    {"-5s", -1, 0},    {"5 s", -1, 0},
	    {"1.5s", -1, 0},   {"9999999h", -1, 0}, {"", -1, 0},
	};
	static const struct {
		const char *text;
		int r;
		uint64_t bytes; /* when r is 0 */
	} sizes[] = {
	    {"1024", 0, 1024},
	    {"64K", 0, 65536},
	    {"512M", 0, 512u << 20},
	    {"2GiB", 0, 2ull << 30},
	    {"1MB", 0, 1u << 20},
	    {"1X", -1, 0},
	    {"M", -1, 0},
	    {"99999999999T", -1, 0},
	};
	static const struct {
		const char *text, *cpu; /* cpu NULL: refused */
	} cpus[] = {
	    {"max", "max 100000"},   {"max 50000", "max 50000"}, {"50000 100000", "50000 100000"},
	    {"0.5", "50000 100000"}, {"2", "200000 100000"},	 {"0.001", NULL},
	    {"50000", NULL},	     {"x 100000", NULL},	 {"1.", NULL},
	};
	static const struct {
		const char *text;
		int sig;
	} signals[] = {{"TERM", 15}, {"SIGINT", 2}, {"9", 9}, {"0", -1}, {"term", -1}};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(durations); i++) {
		uint32_t ms = 0;
		int r = parse_duration(durations[i].text, &ms);

		if (r != durations[i].r || (!r && ms != durations[i].ms))
			print_message("durations[%zu]: \"%s\": %d, %u\n", i, durations[i].text, r,
				      ms);
		assert_int_equal(r, durations[i].r);
		if (!r)
			assert_int_equal(ms, durations[i].ms);
	}
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		uint64_t b = 0;
		int r = parse_size(sizes[i].text, &b);

		if (r != sizes[i].r || (!r && b != sizes[i].bytes))
			print_message("sizes[%zu]: \"%s\": %d, %llu\n", i, sizes[i].text, r,
				      (unsigned long long)b);
		assert_int_equal(r, sizes[i].r);
		if (!r)
			assert_int_equal(b, sizes[i].bytes);
	}
	for (size_t i = 0; i < ARRAY_LEN(cpus); i++) {
		char cpu[32] = "";
		int r = parse_cpu_max(cpus[i].text, cpu, sizeof(cpu));

		if (r != (cpus[i].cpu ? 0 : -1) || (!r && strcmp(cpu, cpus[i].cpu)))
			print_message("cpus[%zu]: \"%s\": %d, \"%s\"\n", i, cpus[i].text, r, cpu);
		assert_int_equal(r, cpus[i].cpu ? 0 : -1);
		if (!r)
			assert_string_equal(cpu, cpus[i].cpu);
	}
	for (size_t i = 0; i < ARRAY_LEN(signals); i++) {
		int sig = parse_signal(signals[i].text);

		if (sig != signals[i].sig)
			print_message("signals[%zu]: \"%s\": %d\n", i, signals[i].text, sig);
		assert_int_equal(sig, signals[i].sig);
	}
}

/*
 * Top-level "environment": for every unit of every file, base < environment < unit's env,
 * a later file's (or the overlay directory's) key over an earlier one's. Each case loads
 * base[] as the files of one directory, over[] (if any) as a second one laid over it, and
 * compares unit "u"'s whole environment, or the one problem reported.
 */
struct env_case {
	const char *base[2], *over[2];
	const char *want;  /* unit u's environ, entries joined by ' '; NULL: u is absent */
	const char *error; /* the one problem (after "path:"), NULL: none */
};

static const struct env_case env_cases[] = {
    {.base = {"environment: [TZ=UTC]\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux TZ=UTC"},
    /* the unit's own env wins */
    {.base = {"environment: [TZ=UTC, A=1]\nservices: [{name: u, command: x, env: [TZ=CET]}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux A=1 TZ=CET"},
    /* the mapping form too; it may replace a base variable */
    {.base = {"environment: {PATH: /opt/bin}\nservices: [{name: u, command: x}]\n"},
     .want = "HOME=/root TERM=linux PATH=/opt/bin"},
    /* a unit of an earlier file gets a later file's environment; the later key wins */
    {.base = {"environment: [TZ=UTC, A=1]\nservices: [{name: u, command: x}]\n",
	      "environment: [TZ=Europe/Paris]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux TZ=Europe/Paris A=1"},
    /* the overlay directory (provision's 00-environment.yaml) over /etc/wisp's */
    {.base = {"environment: [TZ=UTC, B=2]\nservices: [{name: u, command: x}]\n"},
     .over = {"environment: [TZ=Asia/Tokyo]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux TZ=Asia/Tokyo B=2"},
    /* and an overlay unit of the same name replaces the base one */
    {.base = {"services: [{name: u, command: x, env: [OLD=1]}]\n"},
     .over = {"environment: [TZ=UTC]\nservices: [{name: u, command: y}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux TZ=UTC"},
    {.base = {"environment:\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux"},
    /* problems: the file's environment is left out, its units are kept */
    {.base = {"environment: [TZ]\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux",
     .error = "1:15: \"environment\": env entry \"TZ\" is not KEY=value"},
    {.base = {"environment: [TZ=UTC, 1A=x]\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux",
     .error = "1:23: \"environment\": env name \"1A\" is not valid (letters, digits, _)"},
    {.base = {"environment: [A=1, A=2]\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux",
     .error = "1:20: \"environment\": env \"A\" is given twice"},
    {.base = {"environment: TZ=UTC\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux",
     .error = "1:14: \"environment\" must be a list of KEY=value"},
    {.base = {"environment: [A=1]\nenvironment: [B=2]\nservices: [{name: u, command: x}]\n"},
     .want = "PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=linux A=1",
     .error = "2:1: \"environment\" is given twice"},
    {.base = {"environment: [{TZ: UTC}]\n"},
     .error = "1:15: \"environment\": \"env\" must be a string, not a mapping"},
};

/* Write texts as NN.yaml files of a fresh directory dir/sub; returns its path. */
static const char *env_dir(const char *sub, const char *const texts[2])
{
	static char paths[2][256];
	char *path = paths[sub[0] == 'o'], name[300];

	snprintf(path, 256, "%s/%s", tmpdir, sub);
	snprintf(name, sizeof(name), "rm -rf '%s' && mkdir '%s'", path, path);
	assert_int_equal(system(name), 0);
	for (int i = 0; i < 2 && texts[i]; i++) {
		FILE *f;
		snprintf(name, sizeof(name), "%s/%02d.yaml", path, i * 10);
		assert_non_null(f = fopen(name, "w"));
		fputs(texts[i], f);
		fclose(f);
	}
	return path;
}

static void join(char *const *v, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; v && v[i]; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "", v[i]);
}

static void note_ignore(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static void env_case_run(const struct env_case *t)
{
	struct decls set = {0}, over = {0};
	struct capture cap = {0};
	char got[512];
	int k;

	decl_load_dir(&set, env_dir("base", t->base), capture, &cap);
	if (t->over[0]) {
		decl_load_dir(&over, env_dir("over", t->over), capture, &cap);
		decls_overlay(&set, &over, note_ignore, NULL);
	}
	if (t->error) {
		assert_int_equal(cap.n, 1);
		assert_non_null(strstr(cap.line[0], ".yaml:"));
		assert_string_equal(strstr(cap.line[0], ".yaml:") + 6, t->error);
	} else {
		assert_int_equal(cap.n, 0);
	}
	k = decls_find(&set, "u");
	if (!t->want) {
		assert_int_equal(k, -1);
	} else {
		char **env;
		assert_true(k >= 0);
		assert_non_null(env = decl_environ(&set.v[k], set.environment));
		join(env, got, sizeof(got));
		strv_free(env);
		assert_string_equal(got, t->want);
	}
	capture_free(&cap);
	decls_free(&set);
}

static void test_environment(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(env_cases); i++) {
		fprintf(stderr, "case %zu\n", i);
		env_case_run(&env_cases[i]);
	}
}

/* Overlay: a unit of over replaces set's of the same name, in place; others join. */
static void test_overlay(void **state)
{
	static const char *const base[2] = {"services: [{name: a, command: x}, {name: b, "
					    "command: x}]\n"},
				 *const over[2] = {"services: [{name: b, command: y}, {name: c, "
						   "command: y}]\n"};
	struct decls set = {0}, o = {0};
	struct capture cap = {0}, notes = {0};

	(void)state;
	decl_load_dir(&set, env_dir("base", base), capture, &cap);
	decl_load_dir(&o, env_dir("over", over), capture, &cap);
	decls_overlay(&set, &o, capture, &notes);
	assert_int_equal(cap.n, 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].name, "a");
	assert_string_equal(set.v[0].argv[2], "x");
	assert_string_equal(set.v[1].name, "b");
	assert_string_equal(set.v[1].argv[2], "y");
	assert_string_equal(set.v[2].name, "c");
	assert_int_equal(notes.n, 1);
	assert_non_null(strstr(notes.line[0], "b: from "));
	assert_non_null(strstr(notes.line[0], "/over/00.yaml replaces the one of "));
	capture_free(&notes);
	decls_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_env_forms),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_overlay),
	    cmocka_unit_test(test_field_errors),
	    cmocka_unit_test(test_containers),
	    cmocka_unit_test(test_host_access),
	    cmocka_unit_test(test_host_access_errors),
	    cmocka_unit_test(test_port_errors),
	    cmocka_unit_test(test_network_share),
	    cmocka_unit_test(test_net_rates),
	    cmocka_unit_test(test_file_problems),
	    cmocka_unit_test(test_others_kept),
	    cmocka_unit_test(test_too_deep),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_dir),
	    cmocka_unit_test(test_full_fields),
	    cmocka_unit_test(test_full_errors),
	    cmocka_unit_test(test_deps),
	    cmocka_unit_test(test_many_units),
	    cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests_name("init_decl", tests, setup, teardown);
}
