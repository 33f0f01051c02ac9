/* image_cli.c: `containerd-lite image [--store DIR] COMMAND ...`.
 *
 *   import [--name REF] [--tag TAG] [--max-entries N] [--max-size BYTES] [--max-path N]
 *          [--allow-devices] [--no-unpack] ARCHIVE|DIR
 *   import-dir DIR | list | inspect REF | prepare REF | unpack REF DIR | rm REF | gc
 *   bundle [--cmd ARG]... [--entrypoint ARG]... [--env K=V]... [--cwd DIR] [--user U]
 *          [--hostname H] [--cgroups-path P] [--network host|private]
 *          [--userns host|BASE] [--upper DIR | --read-only] REF DIR */
#include "image.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *fmt, const char *a)
{
	fprintf(stderr, "containerd-lite: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

static int report(int r, const struct cl_err *e)
{
	if (r == 0)
		return 0;
	fprintf(stderr, "containerd-lite: %s\n", e->msg);
	return 1;
}

static bool number(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (!*s || *end)
		return false;
	*out = v;
	return true;
}

static int push(const char **v, size_t *n, const char *a, const char *opt)
{
	if (*n >= IMG_OVER_MAX)
		return -fail("image bundle: more than 256 %s", opt);
	v[(*n)++] = a;
	return 0;
}

/* A repeated bundle option: --cmd, --entrypoint, --env. 1 taken, 0 not ours, -1 bad. */
static int list_option(const char *a, const char *v, struct img_over *ov)
{
	if (strcmp(a, "--cmd") == 0) {
		ov->has_cmd = true;
		return push(ov->cmd, &ov->ncmd, v, a) < 0 ? -1 : 1;
	}
	if (strcmp(a, "--entrypoint") == 0) {
		ov->has_entrypoint = true;
		return push(ov->entrypoint, &ov->nentrypoint, v, a) < 0 ? -1 : 1;
	}
	if (strcmp(a, "--env") != 0)
		return 0;
	if (!strchr(v, '=') || *v == '=')
		return -fail("image bundle: --env %s: not KEY=value", v);
	return push(ov->env, &ov->nenv, v, a) < 0 ? -1 : 1;
}

/* --userns host (the default: the host's ids) or BASE: 0..65535 are
 * BASE..BASE+65535 on the host (a range of its own, given by init). */
static int userns_option(const char *v, struct img_over *ov)
{
	uint64_t base;

	if (strcmp(v, "host") == 0) {
		ov->userns_base = 0;
		return 0;
	}
	if (!number(v, &base) || base == 0 || base > UINT32_MAX - IMG_USERNS_SIZE)
		return -fail("image bundle: --userns %s: host or a first host id (1..4294901759)",
			     v);
	ov->userns_base = (uint32_t)base;
	return 0;
}

/* bundle's overrides. Returns 1 taken (*i moved past its value), 0 not ours, -1 bad. */
static int override(char **argv, int argc, int *i, struct img_over *ov)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	const char **str[] = {&ov->cwd, &ov->user, &ov->hostname, &ov->cgroups_path, &ov->upper};
	const char *names[] = {"--cwd", "--user", "--hostname", "--cgroups-path", "--upper"};
	int r;

	if (strcmp(a, "--read-only") == 0) {
		ov->readonly = true;
		return 1;
	}
	if (!v)
		return 0;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(a, names[k]) == 0) {
			*str[k] = v;
			return ++*i, 1;
		}
	if (strcmp(a, "--userns") == 0)
		return userns_option(v, ov) < 0 ? -1 : (++*i, 1);
	if (strcmp(a, "--network") == 0) {
		if (strcmp(v, "host") != 0 && strcmp(v, "private") != 0)
			return -fail("image bundle: --network %s: host or private", v);
		ov->host_net = strcmp(v, "host") == 0;
		return ++*i, 1;
	}
	if ((r = list_option(a, v, ov)) > 0)
		++*i;
	return r;
}

/* Options may come anywhere; the rest are positional. */
static int options(int argc, char **argv, struct img_opts *o, char **pos, int *npos)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		int ov = override(argv, argc, &i, &o->over);

		if (ov < 0)
			return 1;
		if (ov > 0)
			continue;
		if (strcmp(a, "--store") == 0 && has)
			o->store = argv[++i];
		else if (strcmp(a, "--name") == 0 && has)
			o->name = argv[++i];
		else if (strcmp(a, "--tag") == 0 && has)
			o->tag = argv[++i];
		else if (strcmp(a, "--max-entries") == 0 && has) {
			if (!number(argv[++i], &o->limits.max_entries))
				return fail("image: --max-entries %s: not a number", argv[i]);
		} else if (strcmp(a, "--max-size") == 0 && has) {
			if (!number(argv[++i], &o->limits.max_total))
				return fail("image: --max-size %s: not a number", argv[i]);
		} else if (strcmp(a, "--max-path") == 0 && has) {
			if (!number(argv[++i], &o->limits.max_path))
				return fail("image: --max-path %s: not a number", argv[i]);
		} else if (strcmp(a, "--allow-devices") == 0)
			o->limits.allow_devices = true;
		else if (strcmp(a, "--no-unpack") == 0)
			o->lazy = true;
		else if (a[0] == '-' && a[1])
			return fail("image: unknown option or missing value: %s", a);
		else if (*npos < 3)
			pos[(*npos)++] = argv[i];
		else
			return fail("image: too many arguments at %s", a);
	}
	return 0;
}

static int usage(void)
{
	return fail("%s", "usage: containerd-lite image [--store DIR] import [--name REF] "
			  "[--tag TAG] [--no-unpack] ARCHIVE|DIR | import-dir DIR | list | "
			  "inspect REF | prepare REF | unpack REF DIR | "
			  "bundle [--cmd ARG]... [--entrypoint ARG]... [--env K=V]... "
			  "[--cwd DIR] [--user U] [--hostname H] [--cgroups-path P] "
			  "[--network host|private] [--userns host|BASE] "
			  "[--upper DIR | --read-only] REF DIR | "
			  "rm REF | gc");
}

int cl_image_main(int argc, char **argv)
{
	struct img_opts o = {.store = IMG_DEFAULT_STORE};
	struct cl_err e = {0};
	char *pos[3] = {0};
	int n = 0;

	tar_limits_default(&o.limits);
	if (options(argc, argv, &o, pos, &n) != 0)
		return 1;
	if (n == 0)
		return usage();
	if (strcmp(pos[0], "import") == 0 && n == 2)
		return report(img_import(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "import-dir") == 0 && n == 2)
		return report(img_import_dir(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "prepare") == 0 && n == 2)
		return report(img_prepare(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "list") == 0 && n == 1)
		return report(img_list(&o, &e), &e);
	if (strcmp(pos[0], "inspect") == 0 && n == 2)
		return report(img_inspect(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "unpack") == 0 && n == 3)
		return report(img_unpack(&o, pos[1], pos[2], &e), &e);
	if (strcmp(pos[0], "bundle") == 0 && n == 3)
		return report(img_bundle(&o, pos[1], pos[2], &e), &e);
	if (strcmp(pos[0], "rm") == 0 && n == 2)
		return report(img_rm(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "gc") == 0 && n == 1)
		return report(img_gc(&o, &e), &e);
	return usage();
}
