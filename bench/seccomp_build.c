/* seccomp_build.c: what building containerd-lite's seccomp filter costs
 * without the cache (bench/RESULTS.md, issue 4), on `containerd-lite
 * spec`'s profile (Docker's allowlist, 3 architectures). Built and run by
 * bench/seccomp.sh against the host's glibc, libseccomp and jansson.
 *
 *   seccomp_build [RUNS]    medians of RUNS interleaved rounds (default 100)
 *
 * Each round times, one after the other: the decoding of config.json's
 * text (the whole spec, seccomp included); cl_seccomp_build without a
 * cache directory (what a cold `run` does); the same rules compiled with
 * SCMP_FLTATR_CTL_OPTIMIZE 2 (libseccomp's binary tree, which our code
 * does not set); libseccomp's rule database alone, without the BPF
 * generation; and the name resolution alone (the profile's names looked up
 * as add_rule does, then for each architecture). Wall and CPU time
 * (CLOCK_THREAD_CPUTIME_ID) are both printed: the machine is shared. */

/* seccomp.c is compiled into this program rather than linked, so that the
 * variants use its very compile_ctx and export_prog (static there) with
 * no hook added to containerd-lite for a bench. */
#include "../containerd-lite/runtime/seccomp.c"

#include <stdio.h>
#include <time.h>

enum { T_DECODE, T_BUILD, T_OPT2, T_DB, T_NAMES, T_NAMES_ARCH, T_KINDS };

static const char *const kind_name[T_KINDS] = {
    [T_DECODE] = "decode config.json (whole spec)",
    [T_BUILD] = "cl_seccomp_build, no cache (default optimize)",
    [T_OPT2] = "same rules, SCMP_FLTATR_CTL_OPTIMIZE 2",
    [T_DB] = "rule database alone (no BPF generation)",
    [T_NAMES] = "resolve the names (native, as add_rule)",
    [T_NAMES_ARCH] = "resolve the names for each architecture",
};

struct clock_pair {
	struct timespec wall, cpu;
};

static void now(struct clock_pair *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c->cpu);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void die(const char *what, const struct cl_err *e)
{
	fprintf(stderr, "seccomp_build: %s: %s\n", what, e ? e->msg : "failed");
	exit(1);
}

/* The program length (instructions) of a compile with optimize level
 * OPT (0: libseccomp's default, left unset as containerd-lite does). */
static size_t compile_level(const struct cl_seccomp *sc, int opt)
{
	struct cl_err e = {0};
	scmp_filter_ctx ctx = compile_ctx(sc, &e);
	size_t len = 0;
	void *prog;

	if (!ctx)
		die("compile", &e);
	if (opt && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)opt) < 0)
		die("SCMP_FLTATR_CTL_OPTIMIZE (libseccomp older than 2.5?)", NULL);
	prog = export_prog(ctx, &len, &e);
	if (!prog)
		die("export", &e);
	free(prog);
	seccomp_release(ctx);
	return len / sizeof(struct sock_filter);
}

static size_t resolve_names(const struct cl_seccomp *sc, bool each_arch)
{
	size_t known = 0;

	for (size_t i = 0; i < sc->nrules; i++)
		for (size_t j = 0; j < sc->rules[i].names.n; j++) {
			const char *name = sc->rules[i].names.v[j];

			if (!each_arch) {
				known += seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
				continue;
			}
			for (size_t a = 0; a < sc->arches.n; a++)
				known += seccomp_syscall_resolve_name_arch(
					     arch_token(sc->arches.v[a]), name) != __NR_SCMP_ERROR;
		}
	return known;
}

/* One timed step of kind K; its result is kept in SINK so that nothing is
 * optimised away. */
static void step(int k, const char *text, const struct cl_spec *s, size_t *sink)
{
	struct cl_err e = {0};
	struct cl_spec *d = NULL;
	void *p;

	switch (k) {
	case T_DECODE:
		if (cl_spec_parse(text, strlen(text), "/bench", &d, &e) < 0)
			die("decode", &e);
		cl_spec_free(d);
		break;
	case T_BUILD:
		p = cl_seccomp_build(s, NULL, &e);
		if (!p)
			die("cl_seccomp_build", &e);
		cl_seccomp_free(p);
		break;
	case T_OPT2:
		*sink += compile_level(s->seccomp, 2);
		break;
	case T_DB:
		p = compile_ctx(s->seccomp, &e);
		if (!p)
			die("compile", &e);
		seccomp_release(p);
		break;
	default:
		*sink += resolve_names(s->seccomp, k == T_NAMES_ARCH);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void describe(const struct cl_seccomp *sc)
{
	const struct scmp_version *v = seccomp_version();
	size_t names = 0;

	for (size_t i = 0; i < sc->nrules; i++)
		names += sc->rules[i].names.n;
	printf("libseccomp %u.%u.%u (API level %u); profile: %zu architectures, %zu rules, "
	       "%zu names (%zu known here)\n",
	       v->major, v->minor, v->micro, seccomp_api_get(), sc->arches.n, sc->nrules, names,
	       resolve_names(sc, false));
	printf("BPF program: %zu instructions (default optimize), %zu (optimize 2)\n",
	       compile_level(sc, 0), compile_level(sc, 2));
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 100;
	char *text = cl_spec_default();
	struct cl_err e = {0};
	struct cl_spec *s = NULL;
	double *wall[T_KINDS], *cpu[T_KINDS];
	size_t sink = 0;
	char head[64];

	if (runs < 1 || !text || cl_spec_parse(text, strlen(text), "/bench", &s, &e) < 0)
		die("usage: seccomp_build [RUNS]; or the default spec", &e);
	if (!s->seccomp)
		die("the default spec has no seccomp section", NULL);
	describe(s->seccomp);
	for (int k = 0; k < T_KINDS; k++) {
		wall[k] = calloc((size_t)runs, sizeof(double));
		cpu[k] = calloc((size_t)runs, sizeof(double));
		if (!wall[k] || !cpu[k])
			abort();
	}
	/* interleaved, so that a busy moment of the machine hits every kind */
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < T_KINDS; k++) {
			struct clock_pair a, b;

			now(&a);
			step(k, text, s, &sink);
			now(&b);
			wall[k][i] = ms_between(&a.wall, &b.wall);
			cpu[k][i] = ms_between(&a.cpu, &b.cpu);
		}
	snprintf(head, sizeof(head), "medians of %d runs", runs);
	printf("%-46s %8s  %8s\n", head, "wall ms", "CPU ms");
	for (int k = 0; k < T_KINDS; k++)
		printf("%-46s %8.3f  %8.3f\n", kind_name[k], median(wall[k], runs),
		       median(cpu[k], runs));
	printf("optimize 2 / default: wall %.2fx, CPU %.2fx\n",
	       median(wall[T_OPT2], runs) / median(wall[T_BUILD], runs),
	       median(cpu[T_OPT2], runs) / median(cpu[T_BUILD], runs));
	cl_spec_free(s);
	free(text);
	return sink == 0; /* the names must resolve */
}
