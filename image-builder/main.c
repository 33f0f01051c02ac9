/* main.c: command line, signals and exit status of the image builder. */
#include "image-builder.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The command line (args.c): 0 go on, else *exit_code is main's status. */
static int parse_args(int argc, char **argv, struct ib_opts *o, const char **dir, int *exit_code)
{
	struct ib_cmdline cl;
	char msg[256];

	switch (ib_args(argc, argv, &cl, msg, sizeof(msg))) {
	case IB_HELP:
		ib_usage(stdout);
		*exit_code = 0;
		return -1;
	case IB_VERSION:
		printf("image-builder (Wisp) %s\n", WISP_VERSION);
		*exit_code = 0;
		return -1;
	case IB_USAGE:
		fprintf(stderr, "image-builder: %s (image-builder --help for usage)\n", msg);
		*exit_code = 2;
		return -1;
	case IB_RUN:
		break;
	}
	*o = cl.o;
	*dir = cl.dir;
	ib_verbose = cl.verbose;
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

	/* Subcommands of their own (bundle_args.c, convert_args.c): their options are not the
	 * build's. */
	if (argc > 1 && strcmp(argv[1], "bundle") == 0)
		return ib_bundle_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "convert") == 0)
		return ib_convert_main(argc - 1, argv + 1);
	if (parse_args(argc, argv, &o, &dir, &ret) < 0)
		return ret;
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
