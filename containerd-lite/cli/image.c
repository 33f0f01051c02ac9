/* cli/image.c: `containerd-lite image [--store DIR] COMMAND ...`.
 *
 *   import [--name REF] [--tag TAG] [--max-entries N] [--max-size BYTES] [--max-path N]
 *          [--allow-devices] [--no-unpack] [--reserve BYTES] ARCHIVE|DIR
 *   pull [--name REF] [--no-unpack] [--creds FILE] [--registries FILE] [--reserve BYTES] REF
 *   import-dir DIR | list [--json|--format table|json] | inspect REF | prepare REF | unpack REF DIR
 * | rm REF | gc bundle [--cmd ARG]... [--entrypoint ARG]... [--env K=V]... [--cwd DIR] [--user U]
 *          [--hostname H] [--cgroups-path P] [--network host|private|bridge|container:ID]
 *          [--publish [IP:]HOST_PORT:CTR_PORT[/tcp|udp]]... [--net-egress RATE]
 *          [--net-ingress RATE] [--userns host|BASE] [--upper DIR | --read-only]
 *          [--volume SRC:DST[:OPTS]]... [--pid host|private] [--privileged]
 *          [--oom-score-adj N] [--pull missing|always|never] [--creds FILE]
 *          [--registries FILE] REF DIR
 *
 * Options may stand anywhere among the operands (cliopt.c's scanner). */
#include "../runtime/cl-private.h"
#include "cliopt.h"
#include "../image/pull.h"
#include "../net/net.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

enum {
	I_STORE = 1,
	I_NAME,
	I_TAG,
	I_MAX_ENTRIES,
	I_MAX_SIZE,
	I_MAX_PATH,
	I_RESERVE,
	I_ALLOW_DEVICES,
	I_NO_UNPACK,
	I_JSON,
	I_FORMAT,
	I_HELP,
	I_VERSION,
	I_CMD,
	I_ENTRYPOINT,
	I_ENV,
	I_CWD,
	I_USER,
	I_HOSTNAME,
	I_CGROUPS_PATH,
	I_UPPER,
	I_READ_ONLY,
	I_USERNS,
	I_VOLUME,
	I_PRIVILEGED,
	I_PID,
	I_NETWORK,
	I_PUBLISH,
	I_NET_EGRESS,
	I_NET_INGRESS,
	I_CREDS,
	I_REGISTRIES,
	I_PULL,
	I_CA,
	I_OOM_SCORE_ADJ,
};

/* Every command's options, taken before or after the command and its
 * operands (the command is known only once an operand is seen). */
static const struct cli_opt table[] = {
    {"--store", NULL, true, I_STORE, NULL},
    {"--name", NULL, true, I_NAME, NULL},
    {"--tag", NULL, true, I_TAG, NULL},
    {"--max-entries", NULL, true, I_MAX_ENTRIES, NULL},
    {"--max-size", NULL, true, I_MAX_SIZE, NULL},
    {"--max-path", NULL, true, I_MAX_PATH, NULL},
    {"--reserve", NULL, true, I_RESERVE, NULL},
    {"--allow-devices", NULL, false, I_ALLOW_DEVICES, NULL},
    {"--no-unpack", NULL, false, I_NO_UNPACK, NULL},
    {"--json", NULL, false, I_JSON, NULL},
    {"--format", NULL, true, I_FORMAT, NULL},
    {"--help", "-h", false, I_HELP, NULL},
    {"--version", "-v", false, I_VERSION, NULL},
    {"--cmd", NULL, true, I_CMD, NULL},
    {"--entrypoint", NULL, true, I_ENTRYPOINT, NULL},
    {"--env", NULL, true, I_ENV, NULL},
    {"--cwd", NULL, true, I_CWD, NULL},
    {"--user", NULL, true, I_USER, NULL},
    {"--hostname", NULL, true, I_HOSTNAME, NULL},
    {"--cgroups-path", NULL, true, I_CGROUPS_PATH, NULL},
    {"--upper", NULL, true, I_UPPER, NULL},
    {"--read-only", NULL, false, I_READ_ONLY, NULL},
    {"--userns", NULL, true, I_USERNS, NULL},
    {"--volume", NULL, true, I_VOLUME, NULL},
    {"--privileged", NULL, false, I_PRIVILEGED, NULL},
    {"--pid", NULL, true, I_PID, NULL},
    {"--network", NULL, true, I_NETWORK, NULL},
    {"--publish", "-p", true, I_PUBLISH, NULL},
    {"--net-egress", NULL, true, I_NET_EGRESS, NULL},
    {"--net-ingress", NULL, true, I_NET_INGRESS, NULL},
    {"--creds", NULL, true, I_CREDS, NULL},
    {"--registries", NULL, true, I_REGISTRIES, NULL},
    {"--pull", NULL, true, I_PULL, NULL},
    {"--ca", NULL, true, I_CA, NULL},
    {"--oom-score-adj", NULL, true, I_OOM_SCORE_ADJ, NULL},
    {0},
};

/* A repeated bundle option: --cmd, --entrypoint, --env, --publish. */
static int list_option(int id, const char *v, struct img_over *ov)
{
	struct net_port port;
	struct cl_err e;

	if (id == I_PUBLISH && net_port_parse(v, &port, &e) < 0)
		return -fail("image bundle: --publish: %s", e.msg);
	if (id == I_PUBLISH)
		return ov->npublish == NET_MAX_PORTS
			   ? -fail("image bundle: more than 32 %s", "--publish")
			   : push(ov->publish, &ov->npublish, v, "--publish");
	if (id == I_CMD) {
		ov->has_cmd = true;
		return push(ov->cmd, &ov->ncmd, v, "--cmd");
	}
	if (id == I_ENTRYPOINT) {
		ov->has_entrypoint = true;
		return push(ov->entrypoint, &ov->nentrypoint, v, "--entrypoint");
	}
	if (!strchr(v, '=') || *v == '=')
		return -fail("image bundle: --env %s: not KEY=value", v);
	return push(ov->env, &ov->nenv, v, "--env");
}

/* host, private, bridge, or container:ID (docker's: ID's network namespace) */
static int network_option(const char *v, struct img_over *ov)
{
	struct cl_err e;

	ov->net_peer = NULL; /* the last --network counts */
	if (strncmp(v, "container:", 10) == 0) {
		if (cl_valid_id(v + 10, &e) < 0)
			return -fail("image bundle: --network container:ID: %s", e.msg);
		ov->net_peer = v + 10;
	} else if (strcmp(v, "host") != 0 && strcmp(v, "private") != 0 &&
		   strcmp(v, "bridge") != 0) {
		return -fail("image bundle: --network %s: host, private, bridge or container:ID",
			     v);
	}
	ov->host_net = strcmp(v, "host") == 0;
	ov->bridge_net = strcmp(v, "bridge") == 0;
	return 0;
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

/* --net-egress, --net-ingress RATE (net/rate.c): checked here, passed on
 * as text to the network's attach hook, which applies them. */
static int rate_option(int id, const char *v, struct img_over *ov)
{
	const char *opt = id == I_NET_EGRESS ? "--net-egress" : "--net-ingress";
	struct cl_err e;
	uint64_t bps;

	if (net_rate_parse(v, &bps, &e) < 0) {
		fprintf(stderr, "containerd-lite: image bundle: %s: %s\n", opt, e.msg);
		return -1;
	}
	*(id == I_NET_EGRESS ? &ov->net_egress : &ov->net_ingress) = v;
	return 0;
}

/* What the container shares with the host (image/host.c): -v, --pid, --privileged. */
static int host_option(int id, const char *v, struct img_over *ov)
{
	if (id == I_PRIVILEGED)
		ov->privileged = true;
	else if (id == I_PID && strcmp(v, "host") != 0 && strcmp(v, "private") != 0)
		return -fail("image bundle: --pid %s: host or private", v);
	else if (id == I_PID)
		ov->host_pid = strcmp(v, "host") == 0;
	else if (ov->nvolume == IMG_MAX_VOLUMES)
		return -fail("image bundle: more than 32 %s", "--volume");
	else
		ov->volume[ov->nvolume++] = v;
	return 0;
}

/* --oom-score-adj N, docker run's: -1000..1000, the kernel's range. */
static int oom_option(const char *v, struct img_over *ov)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < -1000 || n > 1000)
		return -fail("image bundle: --oom-score-adj %s: a number from -1000 to 1000", v);
	ov->has_oom_score_adj = true;
	ov->oom_score_adj = (int)n;
	return 0;
}

/* bundle's overrides. 0 taken, -1 bad. */
static int override(int id, const char *v, struct img_over *ov)
{
	const char **str[] = {&ov->cwd, &ov->user, &ov->hostname, &ov->cgroups_path, &ov->upper};

	if (id == I_READ_ONLY)
		ov->readonly = true;
	else if (id >= I_CWD && id <= I_UPPER)
		*str[id - I_CWD] = v;
	else if (id == I_USERNS)
		return userns_option(v, ov);
	else if (id == I_NET_EGRESS || id == I_NET_INGRESS)
		return rate_option(id, v, ov);
	else if (id == I_NETWORK)
		return network_option(v, ov);
	else if (id == I_OOM_SCORE_ADJ)
		return oom_option(v, ov);
	else if (id >= I_VOLUME && id <= I_PID)
		return host_option(id, v, ov);
	else
		return list_option(id, v, ov);
	return 0;
}

static int limit(const char *opt, const char *v, uint64_t *out)
{
	if (!number(v, out)) {
		fprintf(stderr, "containerd-lite: image: %s %s: not a number\n", opt, v);
		return -1;
	}
	return 0;
}

/* bundle --pull missing (the default, as docker run's), always, never */
static int pull_option(const char *v, enum img_pull_policy *out)
{
	static const char *const names[] = {"missing", "always", "never"};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(v, names[i]) == 0)
			return *out = (enum img_pull_policy)i, 0;
	return -fail("image bundle: --pull %s: missing, always or never", v);
}

/* One option's value into o. 0 taken, -1 bad (said). */
static int take(int id, const char *v, struct img_opts *o, int *asked)
{
	if (id == I_STORE)
		o->store = v;
	else if (id == I_NAME)
		o->name = v;
	else if (id == I_TAG)
		o->tag = v;
	else if (id == I_CREDS)
		o->creds = v;
	else if (id == I_REGISTRIES)
		o->registries = v;
	else if (id == I_CA)
		o->ca = v;
	else if (id == I_PULL)
		return pull_option(v, &o->pull);
	else if (id == I_MAX_ENTRIES)
		return limit("--max-entries", v, &o->limits.max_entries);
	else if (id == I_MAX_SIZE)
		return limit("--max-size", v, &o->limits.max_total);
	else if (id == I_MAX_PATH)
		return limit("--max-path", v, &o->limits.max_path);
	else if (id == I_RESERVE) /* free space the store keeps (image/reserve.c) */
		return limit("--reserve", v, &o->limits.reserve.bytes);
	else if (id == I_ALLOW_DEVICES)
		o->limits.allow_devices = true;
	else if (id == I_NO_UNPACK)
		o->lazy = true;
	else if (id == I_JSON)
		o->json = true;
	else if (id == I_FORMAT && strcmp(v, "json") != 0 && strcmp(v, "table") != 0)
		return -fail("image: --format %s: table or json", v);
	else if (id == I_FORMAT)
		o->json = strcmp(v, "json") == 0;
	else if (id == I_HELP || id == I_VERSION)
		*asked = *asked ?: id; /* the first of --help and --version wins */
	else
		return override(id, v, &o->over);
	return 0;
}

/* An unknown option, or one without its value: one line naming the
 * command (the first operand, wherever it stands). */
static int bad_option(int r, const char *opt, char **pos, int npos)
{
	fprintf(stderr, "containerd-lite: image%s%s: %s %s%s\n", npos ? " " : "",
		npos ? pos[0] : "", r == CLI_UNKNOWN ? "unknown option" : "option", opt,
		r == CLI_UNKNOWN ? "" : " needs a value");
	return 1;
}

/* Options may come anywhere; the rest are positional. 0, 1 bad (said),
 * or I_HELP or I_VERSION, which win over any error. */
static int options(int argc, char **argv, struct img_opts *o, char **pos, int *npos)
{
	struct cli_scan s = {.argv = argv, .argc = argc};
	const char *bad = NULL;
	int r, bad_r = 0, asked = 0;

	while ((r = cli_next(&s, table, NULL)) != CLI_END) {
		if (r == CLI_UNKNOWN || r == CLI_NOVALUE) {
			if (!bad)
				bad = s.arg, bad_r = r;
		} else if (r == CLI_OPERAND && *npos < 3) {
			pos[(*npos)++] = (char *)s.arg;
		} else if (r == CLI_OPERAND) {
			return fail("image: too many arguments at %s", s.arg);
		} else if (take(r, s.val, o, &asked) < 0) {
			return 1;
		}
	}
	if (asked)
		return asked;
	return bad ? bad_option(bad_r, bad, pos, *npos) : 0;
}

static const char usage_text[] =
    "usage: containerd-lite image [--store DIR] COMMAND [OPTIONS] ...\n"
    "  import [--name REF] [--tag TAG] [--no-unpack] [--max-entries N] [--max-size BYTES]\n"
    "         [--max-path N] [--allow-devices] [--reserve BYTES] ARCHIVE|DIR\n"
    "  pull [--name REF] [--no-unpack] [--creds FILE] [--registries FILE] [--reserve BYTES] REF\n"
    "  import-dir DIR\n"
    "  fetch [--ca FILE] [URL] a file over http(s):// to stdout, TLS verified (no URL:\n"
    "                          $CL_FETCH_URL's, kept out of the world-readable argv)\n"
    "  list [--json | --format table|json]\n"
    "  inspect REF | prepare REF | unpack REF DIR | rm REF | gc\n"
    "  bundle [--cmd ARG]... [--entrypoint ARG]... [--env K=V]... [--cwd DIR] [--user U]\n"
    "         [--hostname H] [--cgroups-path P] [--network host|private|bridge|container:ID]\n"
    "         [--publish [IP:]HOST_PORT:CTR_PORT[/tcp|udp]]... [--net-egress RATE]\n"
    "         [--net-ingress RATE] [--userns host|BASE] [--upper DIR | --read-only]\n"
    "         [--volume SRC:DST[:OPTS]]... [--pid host|private] [--privileged]\n"
    "         [--oom-score-adj N] [--pull missing|always|never] [--creds FILE]\n"
    "         [--registries FILE] REF DIR\n"
    "Options may stand before or after the command and its operands (-- ends them);\n"
    "--help (-h) and --version (-v) anywhere.\n";

static int usage(void)
{
	return fail("%s", "usage: containerd-lite image [--store DIR] COMMAND ... "
			  "(containerd-lite image --help)");
}

int cl_image_main(int argc, char **argv, const char *state_root)
{
	struct img_opts o = {.store = IMG_DEFAULT_STORE, .over.state_root = state_root};
	struct cl_err e = {0};
	char *pos[3] = {0};
	int n = 0;

	tar_limits_default(&o.limits);
	switch (options(argc, argv, &o, pos, &n)) {
	case 0:
		break;
	case I_HELP:
		return fputs(usage_text, stdout) == EOF;
	case I_VERSION:
		return printf("containerd-lite version %s\nspec: 1.1.0\n", WISP_VERSION) < 0;
	default:
		return 1;
	}
	if (n == 0)
		return usage();
	if (strcmp(pos[0], "import") == 0 && n == 2)
		return report(img_import(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "pull") == 0 && n == 2)
		return report(img_pull(&o, pos[1], &e), &e);
	if (strcmp(pos[0], "fetch") == 0 && n <= 2)
		return report(img_fetch_url(n == 2 ? pos[1] : NULL, o.ca, STDOUT_FILENO, &e), &e);
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
