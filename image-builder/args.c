/* args.c: image-builder's command line (docs/image-spec.md, "Command line").
 *
 * getopt_long over a table: options may stand before or after SPEC (glibc
 * permutes argv), "--" ends them. getopt's own messages are off (opterr):
 * an error is one line of ours, kept until the scan has ended so that
 * --help and --version win wherever they are. */
#include "image-builder.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

void ib_usage(FILE *f)
{
	fputs("usage: image-builder [-C DIR] [-o IMAGE] [-M DEPFILE] [--tmpdir DIR]\n"
	      "                     [--containerd-lite PATH] [-v] SPEC\n"
	      "       image-builder [-C DIR] --print-deps SPEC\n"
	      "       image-builder bundle ...   a signed update bundle (bundle --help)\n"
	      "       image-builder convert ...  an image in a cloud's format (convert --help)\n"
	      "\n"
	      "Build a hybrid BIOS/UEFI GPT disk image from an image spec\n"
	      "(docs/image-spec.md), without privileges and reproducibly.\n"
	      "Options may come before or after SPEC; -- ends them.\n"
	      "\n"
	      "  -C DIR        change to DIR first; every path is relative to it\n"
	      "  -o IMAGE      output image (default build/wisp.img); IMAGE.kernel and\n"
	      "                IMAGE.cmdline (minus .img) are written beside it\n"
	      "  -M DEPFILE    write a make depfile listing every input\n"
	      "  --tmpdir DIR  where the private temp directory goes (default: the\n"
	      "                image's directory/tmp)\n"
	      "  --containerd-lite PATH  the host containerd-lite that imports the\n"
	      "                spec's images (default: containerd-lite beside image-builder)\n"
	      "  --print-deps  print every input file, one per line, and exit\n"
	      "  --allow-declaration-errors  build even if a unit declared in ROOT's\n"
	      "                /etc/wisp does not parse (init logs it at every boot)\n"
	      "  -v            show the commands run and their output\n"
	      "  -h, --help    print this and exit\n"
	      "  --version     print the Wisp version\n",
	      f);
}

enum { OPT_TMPDIR = 256, OPT_PRINT_DEPS, OPT_VERSION, OPT_CL, OPT_ALLOW_DECL };

static const struct option long_opts[] = {
    {"tmpdir", required_argument, NULL, OPT_TMPDIR},
    {"containerd-lite", required_argument, NULL, OPT_CL},
    {"print-deps", no_argument, NULL, OPT_PRINT_DEPS},
    {"allow-declaration-errors", no_argument, NULL, OPT_ALLOW_DECL},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static void error(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

/* getopt's '?' or ':': argv[optind - 1] is the option (or holds it). */
static void bad_option(int c, char **argv, char *msg, size_t size)
{
	const char *a = argv[optind - 1];

	if (c == ':')
		error(msg, size, "option %s needs a value", a);
	else if (optopt && a[0] == '-' && a[1] != '-')
		error(msg, size, "unknown option -%c", optopt);
	else
		error(msg, size, "unknown option %s", a);
}

static void take(int c, struct ib_cmdline *cl, int *asked)
{
	switch (c) {
	case 'C':
		cl->dir = optarg;
		break;
	case 'o':
		cl->o.out = optarg;
		break;
	case 'M':
		cl->o.depfile = optarg;
		break;
	case 'v':
		cl->verbose = true;
		break;
	case OPT_TMPDIR:
		cl->o.tmpdir = optarg;
		break;
	case OPT_CL:
		cl->o.containerd_lite = optarg;
		break;
	case OPT_PRINT_DEPS:
		cl->o.print_deps = true;
		break;
	case OPT_ALLOW_DECL:
		cl->o.allow_decl_errors = true;
		break;
	case OPT_VERSION:
	case 'h':
		*asked = *asked ? *asked : c;
		break;
	}
}

enum ib_action ib_args(int argc, char **argv, struct ib_cmdline *cl, char *msg, size_t size)
{
	int c, asked = 0;

	memset(cl, 0, sizeof(*cl));
	msg[0] = '\0';
	opterr = 0;
	optind = 0; /* a full reinitialisation (glibc), so that it can run twice */
	while ((c = getopt_long(argc, argv, ":C:o:M:vh", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			bad_option(c, argv, msg, size);
		else
			take(c, cl, &asked);
	}
	if (asked)
		return asked == 'h' ? IB_HELP : IB_VERSION;
	if (!msg[0] && optind != argc - 1)
		error(msg, size, "expected one SPEC, got %d", argc - optind);
	if (msg[0])
		return IB_USAGE;
	cl->o.spec = argv[optind];
	return IB_RUN;
}
