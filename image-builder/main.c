/* main.c: command line, signals and exit status of the image builder. */
#include "image-builder.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: image-builder [-C DIR] [-o IMAGE] [-M DEPFILE] [--tmpdir DIR]\n"
	      "                     [--containerd-lite PATH] [-v] SPEC\n"
	      "       image-builder [-C DIR] --print-deps SPEC\n"
	      "\n"
	      "Build a hybrid BIOS/UEFI GPT disk image from an image spec\n"
	      "(docs/image-spec.md), without privileges and reproducibly.\n"
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
	      "  -v            show the commands run and their output\n"
	      "  --version     print the Wisp version\n",
	      f);
}

enum { OPT_TMPDIR = 256, OPT_PRINT_DEPS, OPT_VERSION, OPT_CL };

static const struct option long_opts[] = {
    {"tmpdir", required_argument, NULL, OPT_TMPDIR},
    {"containerd-lite", required_argument, NULL, OPT_CL},
    {"print-deps", no_argument, NULL, OPT_PRINT_DEPS},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int parse_args(int argc, char **argv, struct ib_opts *o, const char **dir)
{
	int c;

	while ((c = getopt_long(argc, argv, "C:o:M:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			*dir = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'M':
			o->depfile = optarg;
			break;
		case 'v':
			ib_verbose = true;
			break;
		case OPT_TMPDIR:
			o->tmpdir = optarg;
			break;
		case OPT_CL:
			o->containerd_lite = optarg;
			break;
		case OPT_PRINT_DEPS:
			o->print_deps = true;
			break;
		case OPT_VERSION:
			printf("image-builder (Wisp) %s\n", WISP_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -1;
	}
	o->spec = argv[optind];
	return 0;
}

static void on_signal(int sig)
{
	ib_interrupted = sig;
}

/* No SA_RESTART: a blocking wait returns, the build fails with EINTR and
 * the normal error path removes every temporary file. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* build/host/containerd-lite beside build/host/image-builder: the make
 * rules build both there. Absolute, since -C changes directory. */
static char *default_cl(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return ib_strdup("containerd-lite");
	self[n] = '\0';
	return ib_asprintf("%s/containerd-lite", dirname(self));
}

static char *default_tmpdir(const char *out)
{
	char *copy = ib_strdup(out);
	char *dir = ib_asprintf("%s/tmp", dirname(copy));

	free(copy);
	return dir;
}

int main(int argc, char **argv)
{
	struct ib_opts o = {0};
	struct ib_err err = {0};
	const char *dir = NULL;
	char *out = NULL, *tmpdir = NULL, *cl = NULL;
	int ret;

	if (parse_args(argc, argv, &o, &dir) < 0)
		return 2;
	if (!o.containerd_lite)
		o.containerd_lite = cl = default_cl();
	if (dir && chdir(dir) < 0) {
		ib_err_set(&err, errno, "chdir %s", dir);
		ib_err_print(&err, stderr);
		return 1;
	}
	/* Tools see the same world on every machine: FAT stores local time. */
	setenv("TZ", "UTC", 1);
	setenv("LC_ALL", "C", 1);
	catch_signals();
	if (!o.out && !o.print_deps)
		o.out = out = ib_strdup("build/wisp.img");
	if (!o.tmpdir && o.out)
		o.tmpdir = tmpdir = default_tmpdir(o.out);
	ret = ib_build(&o, &err);
	if (ret < 0)
		ib_err_print(&err, stderr);
	free(out);
	free(tmpdir);
	free(cl);
	if (ib_interrupted) {
		signal(ib_interrupted, SIG_DFL);
		raise(ib_interrupted);
	}
	return ret < 0 ? 1 : 0;
}
