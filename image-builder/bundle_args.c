/* bundle_args.c: `image-builder bundle`'s command line (docs/update-bundle.md,
 * "Writing a bundle").
 *
 * What goes into the manifest is checked here with the updater's rules
 * (version, variant, command line), so that a bundle the device would
 * refuse is refused on the build host instead. */
#include "image-builder.h"
#include "../init/update/update.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs(
	    "usage: image-builder bundle [-C DIR] [-o BUNDLE] --key SECKEY --expires WHEN\n"
	    "                            [--spec SPEC] [--variant NAME] [--cmdline TEXT]\n"
	    "                            [--kernel FILE] [--root FILE] [--verity FILE]\n"
	    "                            [--os-version VERSION] [--minisign PATH] [-v]\n"
	    "\n"
	    "Write a signed update bundle (docs/update-bundle.md): a manifest signed\n"
	    "with minisign, the kernel and the ROOT part with its verity tree.\n"
	    "\n"
	    "  -C DIR          change to DIR first\n"
	    "  -o BUNDLE       output (default build/wisp-update.bundle)\n"
	    "  --key SECKEY    minisign secret key (minisign -G); it asks for its password\n"
	    "  --expires WHEN  365d (days after SOURCE_DATE_EPOCH), 2027-06-30 (UTC) or @SECONDS\n"
	    "  --spec SPEC     the image spec: variant (name) and kernel.cmdline\n"
	    "  --variant NAME  --cmdline TEXT  instead of (or without) the spec's\n"
	    "  --kernel FILE   default build/wisp.kernel\n"
	    "  --root FILE     ROOT's erofs and its verity tree (default build/wisp.root)\n"
	    "  --verity FILE   its verity parameters (default build/wisp.verity)\n"
	    "  --os-version V  the Wisp version of the bundle (default " WISP_VERSION ")\n"
	    "  --minisign PATH the signing tool (default minisign)\n"
	    "  -v              show the commands run\n"
	    "  -h, --help      print this and exit\n",
	    f);
}

enum {
	O_KEY = 256,
	O_EXPIRES,
	O_SPEC,
	O_VARIANT,
	O_CMDLINE,
	O_KERNEL,
	O_ROOT,
	O_VERITY,
	O_OSVER,
	O_MINISIGN,
};

static const struct option long_opts[] = {
    {"key", required_argument, NULL, O_KEY},
    {"expires", required_argument, NULL, O_EXPIRES},
    {"spec", required_argument, NULL, O_SPEC},
    {"variant", required_argument, NULL, O_VARIANT},
    {"cmdline", required_argument, NULL, O_CMDLINE},
    {"kernel", required_argument, NULL, O_KERNEL},
    {"root", required_argument, NULL, O_ROOT},
    {"verity", required_argument, NULL, O_VERITY},
    {"os-version", required_argument, NULL, O_OSVER},
    {"minisign", required_argument, NULL, O_MINISIGN},
    {"help", no_argument, NULL, 'h'},
    {0},
};

struct cl {
	struct ib_bundle_opts o;
	const char *dir, *spec, *expires;
};

static void take(int c, struct cl *cl)
{
	const char **slot[] = {
	    [O_KEY - O_KEY] = &cl->o.key,	  [O_EXPIRES - O_KEY] = &cl->expires,
	    [O_SPEC - O_KEY] = &cl->spec,	  [O_VARIANT - O_KEY] = &cl->o.variant,
	    [O_CMDLINE - O_KEY] = &cl->o.cmdline, [O_KERNEL - O_KEY] = &cl->o.kernel,
	    [O_ROOT - O_KEY] = &cl->o.root,	  [O_VERITY - O_KEY] = &cl->o.verity,
	    [O_OSVER - O_KEY] = &cl->o.version,	  [O_MINISIGN - O_KEY] = &cl->o.minisign,
	};

	if (c == 'C')
		cl->dir = optarg;
	else if (c == 'o')
		cl->o.out = optarg;
	else if (c == 'v')
		ib_verbose = true;
	else if (c >= O_KEY && c <= O_MINISIGN)
		*slot[c - O_KEY] = optarg;
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "image-builder bundle: %s%s%s (image-builder bundle --help)\n", what,
		*arg ? " " : "", arg);
	return 2;
}

/* -1: --help (printed), 0 run, else main's status (help: 0; an error: 2, the message printed). */
static int scan(int argc, char **argv, struct cl *cl)
{
	int c, help = 0;
	const char *bad = NULL;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":C:o:vh", long_opts, NULL)) != -1) {
		if (c == 'h')
			help = 1;
		else if ((c == '?' || c == ':') && !bad)
			bad = argv[optind - 1];
		else
			take(c, cl);
	}
	if (help) {
		usage(stdout);
		return -1;
	}
	if (bad)
		return usage_error("bad option", bad);
	if (optind != argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!cl->o.key || !cl->expires)
		return usage_error("--key and --expires are needed", "");
	return 0;
}

/* The updater's rules (init/update/version.c, manifest.c), so that a bundle the
 * device would refuse is not written. NULL, or what is wrong. */
static const char *check_fields(const struct ib_bundle_opts *o)
{
	static char why[160], msg[sizeof(((struct err *)0)->msg) + 16];
	const char *bad;
	size_t n = strlen(o->variant), c = strlen(o->cmdline);
	struct upd_version v;
	struct err e;

	if (upd_version_parse(o->version, &v, &e) < 0) {
		snprintf(msg, sizeof(msg), "--os-version: %s", e.msg);
		return msg;
	}
	if (n == 0 || n > 64 ||
	    strspn(o->variant, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n ||
	    strchr("._-", o->variant[0]))
		return "variant: not [a-z0-9][a-z0-9_.-]*, at most 64";
	if (c && (o->cmdline[0] == ' ' || o->cmdline[c - 1] == ' '))
		return "cmdline: a space at either end";
	if ((bad = slot_cmdline_check(o->cmdline, why, sizeof(why)))) {
		snprintf(msg, sizeof(msg), "cmdline: %s", bad);
		return msg;
	}
	return NULL;
}

/* Seconds since the epoch of a UTC date (days_from_civil, H. Hinnant): no timegm(3)
 * and no TZ. */
static int64_t utc_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n)
{
	return strspn(s, "0123456789") >= n;
}

const char *ib_expires_parse(const char *s, time_t created, uint64_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t n = strlen(s);
	char *end;
	unsigned long long v;

	if (n >= 2 && s[n - 1] == 'd' && digits(s, n - 1)) {
		v = strtoull(s, &end, 10);
		if (v == 0 || v > 36500)
			return "days: 1 to 36500";
		*out = (uint64_t)created + v * 86400;
	} else if (s[0] == '@' && n > 1 && digits(s + 1, n - 1)) {
		errno = 0;
		v = strtoull(s + 1, &end, 10);
		if (errno || v > (1ull << 40))
			return "too large";
		*out = v;
	} else if (n == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
		   digits(s + 8, 2)) {
		unsigned y = (unsigned)atoi(s), m = (unsigned)atoi(s + 5),
			 d = (unsigned)atoi(s + 8);

		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
		    (m == 2 && d == 29 && !leap))
			return "not a date";
		*out = (uint64_t)utc_days(y, m, d) * 86400;
	} else {
		return "not NNNd, YYYY-MM-DD or @SECONDS";
	}
	if (*out <= (uint64_t)created)
		return "not after the bundle's creation (SOURCE_DATE_EPOCH)";
	return NULL;
}

static int read_epoch(time_t *epoch, struct ib_err *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	*epoch = IB_DEFAULT_EPOCH;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > 4102444800)
		return ib_err_set(err, 0, "SOURCE_DATE_EPOCH=%s: expected seconds up to 2100", s);
	*epoch = (time_t)v;
	return 0;
}

/* Variant and command line from the spec unless given. */
static int from_spec(struct cl *cl, struct ib_spec *spec, struct ib_err *err)
{
	if (!cl->spec) {
		if (!cl->o.variant || !cl->o.cmdline)
			return ib_err_set(err, 0, "no --spec: --variant and --cmdline are needed");
		return 0;
	}
	if (ib_spec_load(spec, cl->spec, err) < 0)
		return -1;
	if (!cl->o.variant)
		cl->o.variant = spec->name;
	if (!cl->o.cmdline)
		cl->o.cmdline = spec->kernel_cmdline;
	if (spec->sb_key) /* format 2: the slot's Secure Boot signatures */
		cl->o.secure = spec;
	return 0;
}

static int prepare(struct cl *cl, struct ib_spec *spec, struct ib_err *err)
{
	const char *bad;

	if (cl->dir && chdir(cl->dir) < 0)
		return ib_err_set(err, errno, "chdir %s", cl->dir);
	if (read_epoch(&cl->o.created, err) < 0 || from_spec(cl, spec, err) < 0)
		return -1;
	bad = ib_expires_parse(cl->expires, cl->o.created, &cl->o.expires);
	if (bad)
		return ib_err_set(err, 0, "--expires %s: %s", cl->expires, bad);
	bad = check_fields(&cl->o);
	if (bad)
		return ib_err_set(err, 0, "%s", bad);
	return 0;
}

int ib_bundle_main(int argc, char **argv)
{
	struct cl cl = {.o = {.out = "build/wisp-update.bundle",
			      .kernel = "build/wisp.kernel",
			      .root = "build/wisp.root",
			      .verity = "build/wisp.verity",
			      .version = WISP_VERSION}};
	struct ib_spec spec = {0};
	struct ib_err err = {0};
	uint64_t size = 0;
	int ret = scan(argc, argv, &cl);

	if (ret != 0)
		return ret < 0 ? 0 : ret;
	setenv("LC_ALL", "C", 1);
	ret = prepare(&cl, &spec, &err);
	if (ret == 0)
		ret = ib_bundle(&cl.o, &err);
	if (ret == 0)
		ret = ib_file_size(cl.o.out, &size, NULL, &err);
	if (ret == 0)
		printf("%-32s %9llu bytes\n", cl.o.out, (unsigned long long)size);
	else
		ib_err_print(&err, stderr);
	ib_spec_free(&spec);
	return ret < 0 ? 1 : 0;
}
